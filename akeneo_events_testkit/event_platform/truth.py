"""The Event Platform ground truth of one run: events, attempts, drops, suspension."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..judging.content import ContentExpectation
from ..judging.scope import ResourceFacts, ScopeJudge
from ..versions import format_utc_datetime
from .delta import DeltaPath
from .rules import INITIAL_RATE, SUCCESS, TIMEOUT

__all__ = [
    "EpAttempt",
    "EpDrop",
    "EpEvent",
    "EpTruth",
    "Suspension",
    "canonical_json",
]


def canonical_json(value: Any) -> str:
    """One text per JSON value, whatever its key order: how delta values are compared."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class EpEvent:
    """One generated event: ``origin`` is the save's Events API ``event_id`` (to compare the two profiles).

    ``changes`` lists what a ``*.updated.delta`` sets, as ``(path, canonical JSON of "new")`` (empty for other
    types): the oracle judges a receiver's delta state with it. ``stable``: its bytes are what a compact
    re-serialisation of its parsed body gives (``JSON.stringify``,
    :func:`~akeneo_events_testkit.encoding.js_reserialise`).
    """

    event_id: str
    key: str
    type: str
    epoch: int
    is_removal: bool
    author: str
    author_type: str  # user, api or system (section 4)
    self_triggered: bool
    origin: str
    operation: int = 0
    changes: tuple[tuple[DeltaPath, str], ...] = ()
    stable: bool = True

    @property
    def short_type(self) -> str:
        """The type without ``com.akeneo.pim.v1.``: ``product.updated.delta``."""
        return self.type.rsplit(".v1.", 1)[-1]

    def changed_attributes(self) -> tuple[str, ...]:
        """The attributes (or scalar fields: ``enabled``...) a delta changes, for ``--scope attribute=``."""
        return tuple(str(path[1] if path[0] == "values" else path[0]) for path, _ in self.changes)

    def outside(self, judge: ScopeJudge) -> bool:
        """Whether this event is outside the scope ``judge`` decides for."""
        return judge.outside(self.key, self.short_type, self.changed_attributes(),
                             delta=self.type.endswith(".delta"))


@dataclass(frozen=True, slots=True)
class EpAttempt:
    """One POST (or a would-be POST for probes): ``retry`` is 0 for the first attempt, up to 3. ``latency``
    is the receiver's time, ``wall`` the wall-clock time, ``timing`` how ``latency`` was measured
    (:class:`~akeneo_events_testkit.transport.timing.Timing`). ``group`` numbers the requests the platform
    had in flight together (None for probes, which go one at a time); ``concurrent`` marks a duplicate sent
    in the same group as the event's own attempt."""

    seq: int
    event_id: str
    time: float
    retry: int
    outcome: str
    status: int | None
    latency: float
    reason: str = ""
    duplicate: bool = False
    probe: str | None = None
    rate: float = INITIAL_RATE
    wall: float | None = None
    timing: str = "exchange"
    group: int | None = None
    concurrent: bool = False
    #: the start of a non-2xx answer's body, secrets redacted (``transport.sender.answer_excerpt``)
    body: str = ""

    @property
    def acknowledged(self) -> bool:
        return self.outcome == SUCCESS

    @property
    def measured(self) -> bool:
        """Its latency counts in the percentiles: it was answered, or not in time."""
        return self.status is not None or self.outcome == TIMEOUT

    def describe(self) -> str:
        answer = f"HTTP {self.status}" if self.status is not None else (self.reason or self.outcome)
        return f"#{self.seq} {answer}"


@dataclass(frozen=True, slots=True)
class EpDrop:
    """An event the platform gave up on: ``retries_exhausted``, ``rejected``, ``throttled_1h``, ``suspended``."""

    event_id: str
    time: float
    reason: str


@dataclass(frozen=True)
class Suspension:
    """When and why the subscription was (or, when not enforced, would have been) suspended (section 3)."""

    time: float
    cause: str  # "immediate" (404 or 3xx) or "threshold" (< 90 % success over the rolling hour)
    responses: tuple[str, ...]
    attempts: tuple[int, ...]
    success_rate: float | None = None
    enforced: bool = True
    #: the last attempt before it: the attempts after this seq were made only because it was not enforced
    seq: int = -1

    def describe(self) -> str:
        when = format_utc_datetime(self.time)
        verb = "was suspended" if self.enforced else "would have been suspended"
        if self.cause == "immediate":
            why = f"immediately, on {', '.join(self.responses)}"
        else:
            why = (f"for a success rate of {self.success_rate:.1%} over the rolling hour (< 90 %), failures: "
                   f"{', '.join(self.responses)}")
        return f"the subscription {verb} at {when} {why}"


@dataclass
class EpTruth:
    """The Event Platform ground truth of one run."""

    events: dict[str, EpEvent] = field(default_factory=dict)
    attempts: list[EpAttempt] = field(default_factory=list)
    drops: list[EpDrop] = field(default_factory=list)
    suspension: Suspension | None = None
    rates: list[tuple[float, float]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    #: The raw CloudEvent of each event id, kept only when the emitter is asked to (``keep_bodies``, for tapes).
    bodies: dict[str, bytes] = field(default_factory=dict)
    #: What each resource may hold at the end, for receivers that re-fetch (``track_content``).
    content: dict[str, ContentExpectation] = field(default_factory=dict)
    #: per resource, what ``--scope`` judges it by (family, identifiers): one entry per resource, not event
    resources: dict[str, ResourceFacts] = field(default_factory=dict)

    @property
    def genuine(self) -> list[EpAttempt]:
        return [a for a in self.attempts if a.probe is None]

    @property
    def delivered(self) -> set[str]:
        """Ids acknowledged (2xx) at least once."""
        return {a.event_id for a in self.attempts if a.probe is None and a.acknowledged}

    def dropped(self) -> Counter[str]:
        return Counter(d.reason for d in self.drops)

    def past_suspension(self) -> list[str]:
        """The events sent after a suspension that was not enforced (``--keep-going``), each once, in order:
        a suspended subscription sends nothing and they would have been lost (section 3)."""
        s = self.suspension
        if s is None or s.enforced:
            return []
        return list(dict.fromkeys(a.event_id for a in self.attempts if a.probe is None and a.seq > s.seq))

    def fate(self) -> str:
        """The subscription's fate as a sentence: active, suspended, or (``--keep-going``) what would have
        been suspended and what was delivered past it."""
        s = self.suspension
        if s is None:
            return "the subscription stayed active (no 404, no 3xx, success rate >= 90 % over every hour)"
        if s.enforced:
            return s.describe()
        return (f"{s.describe()}; --keep-going delivered the {len(self.past_suspension())} events after it, "
                "judged as if it had not been")

    def attempts_of(self, event_id: str) -> list[EpAttempt]:
        return [a for a in self.attempts if a.event_id == event_id]
