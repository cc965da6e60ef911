"""Reading JSON Lines tapes, shared by both profiles' replays."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InvalidPayload

__all__ = [
    "read_tape_lines",
]


def read_tape_lines(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, record)`` of each record of a JSON Lines tape (both profiles' tapes); raises
    :class:`~akeneo_events_testkit.errors.InvalidPayload` naming the line that is not a tape record."""
    source = Path(path)
    try:
        handle = source.open(encoding="utf-8")
    except OSError as exc:
        raise InvalidPayload(f"cannot read tape {source}: {exc.strerror or exc}") from None
    with handle:
        for number, text in enumerate(handle, 1):
            if not text.strip():
                continue
            try:
                data = json.loads(text)
            except ValueError:
                raise InvalidPayload(f"{source}:{number}: not a JSON line; is this a --record tape?") from None
            if not isinstance(data, dict) or "type" not in data:
                raise InvalidPayload(f'{source}:{number}: not a tape record (no "type")')
            yield number, data
