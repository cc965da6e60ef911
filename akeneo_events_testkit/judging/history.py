"""The normalised history both wire profiles' ground truths expose to the oracle core (:mod:`.checks`).

Each profile translates its own ground truth (the Events API's batches, the Event Platform's attempts) into
the same three things: the events generated (:class:`HistoryEvent`), the requests sent in send order with
their answers (:class:`HistoryRequest`), and, per resource, what the final-state checks need of the events
the receiver acknowledged (:class:`Delivered`). What differs on the wire stays in the translation; the
detectors only see this shape.

Memory (BENCHMARKS.md section 5): ``events`` and ``requests`` may be views that make each item when it is
read (the Events API's, over its ground truth's columns), so a detector never keeps what it iterates over,
and identifies a request by its position in ``requests``, never by ``id()``. Per resource, only the newest
acknowledged events are kept, and the index from events to the requests that carried them is made the first
time a violation asks for its witnesses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Delivered", "History", "HistoryEvent", "HistoryRequest", "ProbeRule", "Refusal", "acknowledged_by_key"]

#: At most this many requests are shown as a violation's witness.
WITNESS_REQUESTS = 12


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One generated event: its id, resource, save time (seconds), whether it removes the resource, whether
    the receiver's own client authored it, and how a person reads it (``product.updated <id> at <time>``)."""

    event_id: str
    key: str
    epoch: int
    removal: bool
    own: bool
    shown: str
    #: who made the change, when the wire says (the Event Platform's ``author.identifier``)
    author: str = ""
    #: whether it creates the resource (``product.created``...)
    creation: bool = False
    #: outside the receiver's ``--scope`` (:mod:`.scope`): it must be acknowledged, not applied
    out_of_scope: bool = False


@dataclass(frozen=True, slots=True)
class ProbeRule:
    """What a probe request must get: ``expect`` is ``reject`` (4xx and nothing applied), ``warn`` (a 2xx is
    a warning-level finding), ``accept`` (2xx), ``any``, ``robust_apply`` (any answer but a 5xx; a 2xx must
    have applied ``must_apply``) or ``accept_apply`` (2xx, with ``must_apply`` applied); ``kind`` is the
    violation when it does not (``event_lost`` when a 2xx left out some of ``must_apply``)."""

    name: str
    description: str
    expect: str
    kind: str
    #: the valid events the request carried, which a receiver that answers 2xx must have applied
    must_apply: tuple[str, ...] = ()
    #: what the probe tests: ``authenticity``, ``freshness``, ``robustness``, ``envelope``...
    family: str = ""


@dataclass(frozen=True, slots=True)
class Refusal:
    """How a refused genuine request is named: the kind, what the message adds, what was expected."""

    kind: str
    suffix: str = ""
    expected: str = "2xx"


@dataclass(frozen=True, slots=True)
class HistoryRequest:
    """One request as sent and answered. ``timed_out``: no answer within the platform's timeout; ``broken``:
    the receiver failed (5xx, connection reset...); ``refusal``: how a refused genuine request is named (None
    when it was not refused, or its refusal is legitimate); ``witness``: the request as reports show it;
    ``timing``: how ``latency`` was measured (``handler``, ``exchange`` or ``rough``, see
    :mod:`akeneo_events_testkit.transport.timing`), which tells whether its slowness needs confirming;
    ``group``: the requests sharing it were in flight together (the Event Platform's concurrent deliveries),
    so the order the receiver handled them in is its own, not the send order.

    A request that is not a delivery (the Events API's "Test" request) says how messages name it
    (``label``), its own answer deadline (``deadline``) and what it must get instead of 2xx-or-4xx
    (``expected``)."""

    seq: int
    event_ids: tuple[str, ...]
    status: int | None
    latency: float
    reason: str
    timed_out: bool
    broken: bool
    refusal: Refusal | None
    probe: ProbeRule | None
    witness: Mapping[str, Any]
    label: str = ""
    deadline: float | None = None
    expected: str = ""
    timing: str = "exchange"
    #: its bytes differ from a compact re-serialisation of its parsed body (``JSON.stringify``): a receiver
    #: that verifies the signature over re-serialised JSON refuses it (a hazard, :data:`.checks.HAZARDS`)
    unstable: bool = False
    group: int | None = None

    @property
    def accepted(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def measured(self) -> bool:
        """Its latency counts in the percentiles: it was answered, or not in time."""
        return self.status is not None or self.timed_out

    def answer(self) -> str:
        """The answer as a person reads it: ``HTTP 500``, the transport's reason, or ``no answer``."""
        return f"HTTP {self.status}" if self.status is not None else self.reason or "no answer"


@dataclass(slots=True)
class Delivered:
    """What the final-state checks need of one resource's acknowledged events, O(1) per resource: how many
    deliveries were acknowledged, the newest epoch, and the events at it, by id, in the order first
    acknowledged (any of them is a correct final state: ``event_datetime`` has second precision)."""

    count: int = 0
    newest_epoch: int = 0
    newest: dict[str, HistoryEvent] = field(default_factory=dict)

    def add(self, event: HistoryEvent) -> None:
        self.count += 1
        if not self.newest or event.epoch > self.newest_epoch:
            self.newest_epoch = event.epoch
            self.newest = {event.event_id: event}
        elif event.epoch == self.newest_epoch:
            self.newest.setdefault(event.event_id, event)


def acknowledged_by_key(events: Iterable[HistoryEvent]) -> dict[str, Delivered]:
    """:class:`Delivered` per resource key, in the order keys were first acknowledged."""
    found: dict[str, Delivered] = {}
    for event in events:
        delivered = found.get(event.key)
        if delivered is None:
            delivered = found[event.key] = Delivered()
        delivered.add(event)
    return found


@dataclass
class History:
    """What happened in one run, in the shape every detector reads.

    ``requests`` are in send order, probes included; ``acknowledged`` holds, per resource key, the newest of
    the events whose delivery the receiver acknowledged and how many were (own events and events outside the
    scope excluded: the receiver must drop them).
    """

    events: Mapping[str, HistoryEvent]
    requests: Sequence[HistoryRequest]
    acknowledged: Mapping[str, Delivered]
    #: the platform's answer deadline, for ``slow_ack`` messages
    timeout: float
    #: what a timely answer is, as the slow_ack / server_error ``expected`` text says it
    answer_expected: str = "an answer within {timeout} s"
    broken_expected: str = "2xx or 4xx"
    duplicate_expected: str = "applied at most once"
    #: the content expectations (:mod:`.content`) of receivers that report the data they hold
    content: Any = None
    #: who sent the events, for ids the receiver reports that no event had
    sender: str = "the PIM"
    #: the receiver's scope as the options gave it (``--scope``), empty for none
    scope: str = ""
    #: whether requests were sent in groups in flight together (``HistoryRequest.group``): the concurrent
    #: hazards (``judging.checks.CONCURRENT_HAZARDS``) are then counted
    concurrent: bool = False
    _carried_by: dict[str, list[int]] | None = field(default=None, repr=False)
    _ids_by_key: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _slow: list[tuple[int, HistoryRequest]] | None = field(default=None, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def slow(self) -> list[tuple[int, HistoryRequest]]:
        """``(position, request)`` of each request not answered within its deadline (none, or answered
        late), found in one pass and kept: there are few, and several detectors ask."""
        if self._slow is None:
            self._slow = [(position, r) for position, r in enumerate(self.requests)
                          if r.timed_out or (r.status is not None
                                             and r.latency > (self.timeout if r.deadline is None else r.deadline))]
        return self._slow

    def witness_for(self, event_ids: Iterable[str]) -> tuple[Mapping[str, Any], ...]:
        """The genuine requests that carried any of ``event_ids``, in send order, at most 12. The index
        behind it is made on the first call: a run without violations never pays for it."""
        if self._carried_by is None:
            self._carried_by = {}
            for position, request in enumerate(self.requests):
                if request.probe is None:
                    for event_id in request.event_ids:
                        self._carried_by.setdefault(event_id, []).append(position)
        carried_by = self._carried_by
        chosen = sorted({p for event_id in set(event_ids) for p in carried_by.get(event_id, ())})
        return tuple(self.requests[p].witness for p in chosen[:WITNESS_REQUESTS])

    def key_witness(self, key: str) -> tuple[Mapping[str, Any], ...]:
        """The requests that carried events of resource ``key``."""
        if not self._ids_by_key:
            for event in self.events.values():
                self._ids_by_key.setdefault(event.key, []).append(event.event_id)
        return self.witness_for(self._ids_by_key.get(key, ()))

    def shown(self, event_id: str) -> str:
        event = self.events.get(event_id)
        return event.shown if event is not None else f"{event_id} (not an event {self.sender} sent)"
