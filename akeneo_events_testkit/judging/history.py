"""The normalised history both wire profiles' ground truths expose to the oracle core (:mod:`.checks`).

Each profile translates its own ground truth (the Events API's batches, the Event Platform's attempts) into
the same three things: the events generated (:class:`HistoryEvent`), the requests sent in send order with
their answers (:class:`HistoryRequest`), and, per resource, the events the receiver acknowledged. What
differs on the wire stays in the translation; the detectors only see this shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["History", "HistoryEvent", "HistoryRequest", "ProbeRule", "Refusal"]

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


@dataclass
class History:
    """What happened in one run, in the shape every detector reads.

    ``requests`` are in send order, probes included; ``acknowledged`` holds, per resource key, the events
    whose delivery the receiver acknowledged (own events and events outside the scope excluded: the receiver
    must drop them).
    """

    events: Mapping[str, HistoryEvent]
    requests: Sequence[HistoryRequest]
    acknowledged: Mapping[str, Sequence[HistoryEvent]]
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
    _carried_by: dict[str, list[int]] = field(default_factory=dict, repr=False)
    _ids_by_key: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for position, request in enumerate(self.requests):
            if request.probe is None:
                for event_id in request.event_ids:
                    self._carried_by.setdefault(event_id, []).append(position)

    def witness_for(self, event_ids: Iterable[str]) -> tuple[Mapping[str, Any], ...]:
        """The genuine requests that carried any of ``event_ids``, in send order, at most 12."""
        chosen = sorted({p for event_id in set(event_ids) for p in self._carried_by.get(event_id, ())})
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
