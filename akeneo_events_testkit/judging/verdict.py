"""The oracle's output for both profiles: named violations with witnesses, and statistics."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "HARM_ORDER",
    "KIND_FIX",
    "KIND_GLOSSARY",
    "Verdict",
    "Violation",
    "harm_rank",
    "latency_spread",
    "percentile",
]


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The ``fraction`` percentile (nearest rank) of ``values``, or None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def latency_spread(values: Sequence[float]) -> str:
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


#: kind -> the one-line fix in the receiver (the README glossary's last column), for the kinds both profiles
#: share; the Event Platform adds its own (``event_platform.oracle.EP_KIND_FIX``).
KIND_FIX: dict[str, str] = {
    "duplicate_applied": "remember event_ids atomically with the effect",
    "stale_applied": "keep the newest event_datetime per resource; ignore older events",
    "stale_final_state": "keep the newest event_datetime per resource; ignore older events",
    "resurrected": "keep tombstones (removal time per resource)",
    "event_lost": "record effects durably before answering 2xx; validate the whole batch first",
    "forged_accepted": "HMAC the raw bytes, require exactly 64 hex chars, compare them all in constant time",
    "replay_accepted": "refuse timestamps more than 5 minutes old or ahead",
    "rejected_valid": "verify the raw body; accept what the PIM sends; answer 2xx to an authentic empty body",
    "server_error": "answer 400 to malformed signed bodies; validate before applying",
    "slow_ack": "acknowledge fast, apply asynchronously but durably",
    "probe_unanswered": "answer 401 at once",
    "stale_content": "re-read until the data is at least as new as the event",
    "removal_not_propagated": "delete or tombstone on *.removed",
    "out_of_scope_applied": "make the filter and --scope say the same",
}


#: The kinds from the most harmful down (issue 15): authenticity, then lost or wrong state, then how events
#: were applied, then answers; a kind not listed comes after these, and warnings after every error.
HARM_ORDER: tuple[str, ...] = (
    "forged_accepted", "replay_accepted",
    "event_lost", "resurrected", "stale_final_state", "removal_not_propagated", "stale_content",
    "delta_corrupted", "self_event_processed", "out_of_scope_applied",
    "duplicate_applied", "stale_applied",
    "server_error", "rejected_valid", "rotation_rejected", "suspension_risk", "slow_ack", "probe_unanswered",
    "algorithm_ignored",
)
_RANK = {kind: rank for rank, kind in enumerate(HARM_ORDER)}


def harm_rank(kind: str) -> int:
    """Where ``kind`` sits in :data:`HARM_ORDER` (kinds not listed after all of them)."""
    return _RANK.get(kind, len(HARM_ORDER))


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
