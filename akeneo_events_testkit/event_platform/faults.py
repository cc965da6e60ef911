"""Event Platform fault presets: duplicates, delays and lost events (event-platform-facts.md section 3)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError

__all__ = [
    "EpFaults",
    "parse_ep_faults",
]


@dataclass(frozen=True)
class EpFaults:
    """At-least-once faults: redeliver a delivered event (same ``id``), or hold an event back (reorder).

    ``concurrent_duplicate`` redelivers an event *while its attempt is in flight*: the copy is sent in the
    same group of concurrent requests, as when the platform retries after a timeout while the first
    attempt is still running (section 3), so a receiver's check-then-create dedupe races with itself. It
    needs more than one request in flight (``EpEmitter(max_in_flight=...)``).
    """

    duplicate: float = 0.0
    reorder: float = 0.0
    reorder_window: float = 30.0
    concurrent_duplicate: float = 0.0

    @property
    def enabled(self) -> bool:
        return self.duplicate > 0 or self.reorder > 0 or self.concurrent_duplicate > 0


FAULT_PRESETS = {
    "none": EpFaults(),
    "default": EpFaults(duplicate=0.05, reorder=0.1, concurrent_duplicate=0.05),
    "gentle": EpFaults(duplicate=0.02, reorder=0.03, concurrent_duplicate=0.02),
    "chaos": EpFaults(duplicate=0.2, reorder=0.3, reorder_window=120.0, concurrent_duplicate=0.15),
}


def parse_ep_faults(spec: str | EpFaults | None) -> EpFaults:
    """``none``, ``default``, ``gentle``, ``chaos`` or ``duplicate=0.1,reorder=0.2,concurrent_duplicate=0.05``."""
    if spec is None:
        return EpFaults()
    if isinstance(spec, EpFaults):
        return spec
    if spec in FAULT_PRESETS:
        return FAULT_PRESETS[spec]
    values: dict[str, float] = {}
    for part in spec.split(","):
        name, _, raw = part.partition("=")
        name = name.strip()
        if name not in ("duplicate", "reorder", "reorder_window", "concurrent_duplicate"):
            raise UsageError(f"Event Platform fault {name!r}: use duplicate=P, reorder=P, concurrent_duplicate=P "
                             f"or a profile "
                             f"({', '.join(FAULT_PRESETS)})")
        try:
            values[name] = float(raw)
        except ValueError:
            raise UsageError(f"Event Platform fault {name}={raw!r}: the value must be a number") from None
    if not all(0 <= values.get(name, 0) <= 1 for name in ("duplicate", "reorder", "concurrent_duplicate")):
        raise UsageError("fault probabilities must lie between 0 and 1")
    return EpFaults(**values)
