"""Reading JSON Lines tapes, shared by both profiles' replays."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InvalidPayload

__all__ = [
    "changed_answers_text",
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


def changed_answers_text(changed: list[tuple[int, str, int | None, int | None]], *, limit: int = 10) -> str:
    """Which replayed requests were answered differently than when recorded, one per line (``limit`` shown):
    ``(seq, what the request carried, status recorded, status now)``; None is no answer."""
    def status(value: int | None) -> str:
        return "no answer" if value is None else f"HTTP {value}"

    lines = [f"  request {seq} ({what}): {status(old)} when recorded, {status(new)} now"
             for seq, what, old, new in changed[:limit]]
    if len(changed) > limit:
        lines.append(f"  ... and {len(changed) - limit} more")
    return "\n".join(lines)
