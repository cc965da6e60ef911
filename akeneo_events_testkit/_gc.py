"""Short garbage-collector pauses during long runs (BENCHMARKS.md, section 5).

CPython's full collections scan every live object the cyclic collector tracks. A long campaign keeps
millions of them alive (the ground truth, and an in-process receiver's dedup memory), and one full
collection took 1.7 s at 1M events: longer than the PIM's 0.5 s timeout, so an in-process receiver
answering during it looked slow (a false ``slow_ack``).
"""

from __future__ import annotations

import gc

__all__ = ["GcFreezer"]

#: Events between two freezes: small runs never freeze.
FREEZE_EVERY = 50_000


class GcFreezer:
    """Every ``every`` events, move the objects alive then to the permanent generation (:func:`gc.freeze`).

    Full collections skip that generation, so they only scan what was made since the last freeze;
    reference counting still frees frozen objects as usual. :meth:`close` gives them back to the collector
    (:func:`gc.unfreeze`), so nothing stays out of its reach once the run ends. Nothing happens when the
    collector is disabled.
    """

    def __init__(self, every: int | None = None) -> None:
        self.every = FREEZE_EVERY if every is None else every
        self._next = self.every
        self.freezes = 0

    def tick(self, events: int) -> None:
        """Called with the number of events generated so far."""
        if events >= self._next and gc.isenabled():
            gc.freeze()
            self.freezes += 1
            self._next = events + self.every

    def close(self) -> None:
        if self.freezes:
            gc.unfreeze()
            self.freezes = 0
