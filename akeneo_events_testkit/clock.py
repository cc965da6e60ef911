"""Injectable clocks: the kit never reads the wall clock directly, so that tests never sleep."""

from __future__ import annotations

import threading
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "FakeClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Anything that tells the time in Unix seconds and can wait."""

    def now(self) -> float:
        """The current Unix time in seconds."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``; a fake clock just advances."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def __repr__(self) -> str:
        return "SystemClock()"


class FakeClock:
    """A virtual clock that only moves when told to (or when something sleeps on it). Thread-safe."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds`` and return the new time."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards: pass a non-negative number of seconds")
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, when: float) -> None:
        """Jump to an absolute time (tests only)."""
        with self._lock:
            self._now = float(when)

    def __repr__(self) -> str:
        return f"FakeClock({self._now!r})"
