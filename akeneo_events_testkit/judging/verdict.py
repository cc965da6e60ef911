"""The oracle's output for both profiles: named violations with witnesses, and statistics."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "KIND_GLOSSARY",
    "Verdict",
    "Violation",
    "latency_spread",
    "percentile",
]


def percentile(values: list[float], fraction: float) -> float | None:
    """The ``fraction`` percentile (nearest rank) of ``values``, or None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def latency_spread(values: list[float]) -> str:
    """``p50 1.2 ms, p95 3.4 ms, p99 5.6 ms`` (nearest rank), or ``no answers``."""
    if not values:
        return "no answers"
    return ", ".join(f"p{round(q * 100)} {(percentile(values, q) or 0.0) * 1000:.1f} ms" for q in (0.50, 0.95, 0.99))


#: kind -> (severity, one-line meaning), the kinds both profiles share; each profile's oracle adopts or
#: overrides them (the Event Platform's ``slow_ack`` names its 5 s timeout).
KIND_GLOSSARY: dict[str, tuple[str, str]] = {
    "duplicate_applied": ("error", "an event was applied more than once"),
    "stale_applied": ("error", "an event was applied after a strictly newer event of its resource"),
    "stale_final_state": ("error", "a resource's current event is older than the newest delivered one"),
    "resurrected": ("error", "the newest delivered event removes the resource, yet it is present"),
    "event_lost": ("error", "the newest delivered event was acknowledged but is not reflected"),
    "forged_accepted": ("error", "a request with a bad or missing signature got 2xx or was applied"),
    "replay_accepted": ("warning", "a validly signed request with a stale or future timestamp was accepted"),
    "rejected_valid": ("error", "a genuine PIM request was answered with a non-2xx status"),
    "server_error": ("error", "a 5xx answer or a broken connection"),
    "slow_ack": ("error", "answered after the PIM's 0.5 s timeout (a warning until confirmed, over HTTP)"),
    "probe_unanswered": ("error", "a probe got no answer within the platform's timeout: a hanging handler hides "
                                  "its refusal and holds connections (a warning until confirmed, over HTTP)"),
    "stale_content": ("error", "the data a receiver holds is older than what the PIM served when notifying it"),
    "removal_not_propagated": ("error", "the resource was removed, yet the receiver still holds its data"),
    "out_of_scope_applied": ("error", "an event outside the receiver's declared --scope was applied"),
}


@dataclass(frozen=True)
class Violation:
    """One way the receiver got it wrong."""

    kind: str
    severity: str
    message: str
    expected: str = ""
    received: str = ""
    resource: str | None = None
    event_ids: tuple[str, ...] = ()
    requests: tuple[Mapping[str, Any], ...] = ()
    reproduce: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "severity": self.severity, "message": self.message, "expected": self.expected,
            "received": self.received, "resource": self.resource, "event_ids": list(self.event_ids),
            "witness": [dict(r) for r in self.requests], "reproduce": self.reproduce,
        }


@dataclass
class Verdict:
    """The oracle's judgement of one run."""

    violations: list[Violation] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    strict: bool = False

    @property
    def errors(self) -> list[Violation]:
        return [v for v in self.violations if v.severity == "error"]

    @property
    def passed(self) -> bool:
        return not self.errors

    def counts(self) -> Counter[str]:
        return Counter(v.kind for v in self.violations)
