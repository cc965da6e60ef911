"""A log observer: the observation read from the receiver's log lines with one regular expression.

The pattern has named groups: ``event_id``, the resource (``key``, or ``uuid`` / ``identifier`` / ``code``
to build it), and optionally ``removed`` (a removal when it matched a non-empty text other than
false/0/no, e.g. ``(?P<removed>removed)?`` or an action ending in ``.removed``) and ``data`` (JSON). Each
matching line is one application, in file order; other lines are skipped. Only lines written after the
observer was created count, so a log that grows over several runs is judged per run (README: start from a
known state); ``from_start=True`` reads the whole file.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from ..errors import KitError, UsageError
from .records import KEY_FIELDS, Application, build_observation, coerce_data, resource_key_of

__all__ = ["LogObserver"]

_EXAMPLE = r"applied (?P<event_id>\S+) (?P<key>\S+)(?P<removed> removed)?"
_OPTIONAL = ("removed", "data")


def compile_pattern(pattern: str | re.Pattern[str]) -> re.Pattern[str]:
    """The pattern compiled and checked for its groups; a bad one is a usage error naming the fix."""
    try:
        compiled = re.compile(pattern) if isinstance(pattern, str) else pattern
    except re.error as exc:
        raise UsageError(f"--pattern is not a regular expression: {exc}") from None
    groups = set(compiled.groupindex)
    missing = [] if "event_id" in groups else ["event_id"]
    if not groups & set(KEY_FIELDS):
        missing.append("key (or uuid, identifier, code)")
    if missing:
        raise UsageError(f"--pattern needs the named group(s) {', '.join(f'(?P<{m}>...)' for m in missing)}; "
                         f"e.g. {_EXAMPLE!r}")
    unknown = sorted(groups - {"event_id", *KEY_FIELDS, *_OPTIONAL})
    if unknown:
        raise UsageError(f"--pattern: unknown group(s) {', '.join(unknown)}; use event_id, "
                         f"{', '.join(KEY_FIELDS)}, removed, data (or unnamed groups)")
    return compiled


def _removed(text: str | None) -> bool:
    """A ``removed`` group: no match, empty, false/0/no or a non-removal action is not a removal; any
    other text (``removed``, ``deleted``, ``true``, ``product.removed``) is."""
    if text is None:
        return False
    word = text.strip().lower()
    return not (word in ("", "false", "0", "no", "n", "f") or word.endswith((".created", ".updated", ".delta")))


class LogObserver:
    """``observation()`` from the lines matching ``pattern``: in ``path`` (a file the receiver writes, its
    standard output redirected), and in the lines given to :meth:`feed` (a stream the test reads itself)."""

    def __init__(self, pattern: str | re.Pattern[str], path: str | Path | None = None, *,
                 from_start: bool = False) -> None:
        self.pattern = compile_pattern(pattern)
        self.path = Path(path) if path is not None else None
        if self.path is not None and self.path.is_dir():
            raise UsageError(f"--observe-log {self.path} is a directory: give the log file the receiver writes")
        self._offset = 0
        if self.path is not None and not from_start and self.path.is_file():
            self._offset = self.path.stat().st_size
        self._lock = threading.Lock()
        self._fed: list[str] = []

    def __repr__(self) -> str:
        return f"LogObserver({self.pattern.pattern!r}, path={str(self.path) if self.path else None!r})"

    def feed(self, line: str | bytes) -> None:
        """Take one line of the receiver's output (thread-safe)."""
        text = line.decode("utf-8", errors="replace") if isinstance(line, bytes) else line
        with self._lock:
            self._fed.extend(text.splitlines())

    def lines(self) -> list[str]:
        """The complete lines written since the observer was created, then those fed."""
        found: list[str] = []
        if self.path is not None:
            try:
                with self.path.open("rb") as file:
                    size = file.seek(0, 2)
                    file.seek(self._offset if size >= self._offset else 0)  # shorter: truncated, read it all
                    raw = file.read()
            except FileNotFoundError:
                raise KitError(f"--observe-log: no file at {self.path}; give the file the receiver logs to "
                               "(its output redirected: receiver > FILE)") from None
            except OSError as exc:
                raise KitError(f"--observe-log: cannot read {self.path}: {exc.strerror}") from None
            complete, _, _ = raw.rpartition(b"\n")  # a line still being written is read next time
            found = complete.decode("utf-8", errors="replace").splitlines() if complete else []
        with self._lock:
            return found + list(self._fed)

    def observation(self) -> dict[str, Any]:
        """The observation contract from the matching lines, in order."""
        applications = []
        for number, line in enumerate(self.lines(), 1):
            match = self.pattern.search(line)
            if match is None:
                continue
            groups = match.groupdict()
            where = f"log line {number} ({line[:120]!r})"
            if not groups.get("event_id"):
                continue  # the event id group did not take part: not an application line
            has_data = groups.get("data") is not None
            applications.append(Application(
                groups["event_id"], resource_key_of(groups, where), _removed(groups.get("removed")),
                has_data, coerce_data(groups["data"], where) if has_data else None))
        return build_observation(applications)

    __call__ = observation

    def command_options(self) -> list[str]:
        """``--observe-log FILE --pattern REGEX``; nothing for lines fed by a test (no file to name)."""
        return ["--observe-log", str(self.path), "--pattern", self.pattern.pattern] if self.path else []
