"""examples/observers/receiver.py with one bug: a removal is acknowledged but has no effect."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path
from typing import Any

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "observers"
sys.path.insert(0, str(EXAMPLE))

from effects import Effects  # noqa: E402  (the example's module, found through the path above)


class ForgetsRemovals(Effects):  # type: ignore[misc]
    def apply(self, event: dict[str, Any], key: str, removed: bool) -> None:
        if not removed:
            super().apply(event, key, removed)


if __name__ == "__main__":
    runpy.run_path(str(EXAMPLE / "receiver.py"), run_name="receiver")["main"](ForgetsRemovals)
