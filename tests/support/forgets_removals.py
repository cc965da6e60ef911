"""examples/observers/receiver.py with one bug: a removal is acknowledged but has no effect."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "observers" / "receiver.py"
spec = importlib.util.spec_from_file_location("observers_receiver", EXAMPLE)
assert spec is not None and spec.loader is not None
receiver = importlib.util.module_from_spec(spec)
sys.modules["observers_receiver"] = receiver
spec.loader.exec_module(receiver)


class ForgetsRemovals(receiver.Effects):  # type: ignore[name-defined,misc]
    def apply(self, event: dict[str, Any], key: str, removed: bool) -> None:
        if not removed:
            super().apply(event, key, removed)


if __name__ == "__main__":
    receiver.main(ForgetsRemovals)
