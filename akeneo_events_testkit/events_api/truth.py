"""The emitter's ground truth: what was generated, what was sent, and what the receiver answered.

The oracle judges a receiver against this record. It can be streamed to a JSON Lines file as it is made;
secrets are never part of it (only signatures, which prove nothing without the secret).
"""

from __future__ import annotations

import base64
import json
import math
from array import array
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, overload

from ..credentials import REDACTED
from ..judging.content import ContentExpectation, note_content
from ..judging.ordinals import IdIndex
from ..judging.scope import ResourceFacts
from ..transport.sender import Attempt, Outcome
from ..versions import Action
from .limits import LogEntry

__all__ = [
    "EventLog",
    "GeneratedEvent",
    "GroundTruth",
    "RequestLog",
    "RequestRecord",
]


@dataclass(frozen=True, slots=True)
class GeneratedEvent:
    """One event as generated at save time."""

    event_id: str
    key: str
    action: Action
    epoch: int
    version: int
    author: str
    operation: int

    @property
    def is_removal(self) -> bool:
        return self.action.is_removal


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request sent (or attempted) to one subscription, with its fate. ``latency`` is the receiver's
    time, judged by the oracle; ``wall`` the wall-clock time the kit saw; ``timing`` how ``latency`` was
    measured (:class:`~akeneo_events_testkit.transport.timing.Timing`)."""

    seq: int
    subscription: str
    event_ids: tuple[str, ...]
    versions: tuple[int, ...]  # the resource version each event's data carried
    timestamp: int
    body_size: int
    outcome: Outcome
    status: int | None
    latency: float
    reason: str = ""
    faults: tuple[str, ...] = ()
    probe: str | None = None  # the probe kind, for security probes
    message: int | None = None
    must_apply: tuple[str, ...] = ()  # an envelope probe's valid events, to be applied if it is accepted
    wall: float | None = None
    timing: str = "exchange"
    #: its body differs from a compact re-serialisation of it (:func:`~..encoding.reserialisation_stable`)
    unstable: bool = False
    #: the start of a non-2xx answer's body, secrets redacted (:func:`~..transport.sender.answer_excerpt`)
    answer_body: str = ""

    @property
    def acknowledged(self) -> bool:
        return self.outcome is Outcome.SENT

    @property
    def measured(self) -> bool:
        """Its latency counts in the percentiles: it was answered, or not in time."""
        return self.status is not None or self.reason == "timeout"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["outcome"] = self.outcome.value
        data["latency"] = round(self.latency, 6)
        if not self.must_apply:
            del data["must_apply"]
        if not self.unstable:
            del data["unstable"]
        if not self.answer_body:
            del data["answer_body"]
        data["wall"] = None if self.wall is None else round(self.wall, 6)
        return data


class _Names:
    """Few distinct values (resource keys, authors, reasons, fault tuples...) numbered once, so a column holds
    an ``int`` per record instead of a reference: one object per distinct value, not per record."""

    __slots__ = ("_index", "values")

    def __init__(self, *first: Any) -> None:
        self.values: list[Any] = []
        self._index: dict[Any, int] = {}
        for value in first:
            self.number(value)

    def number(self, value: Any) -> int:
        number = self._index.get(value)
        if number is None:
            number = self._index[value] = len(self.values)
            self.values.append(value)
        return number


_ACTIONS = tuple(Action)
_ACTION_NUMBER = {action: number for number, action in enumerate(_ACTIONS)}


class EventLog(Mapping[str, GeneratedEvent]):
    """``event_id -> GeneratedEvent`` in columns: no object per event (memory: BENCHMARKS.md section 5).

    Ids are numbered by :class:`~..judging.ordinals.IdIndex` in the order generated; the key, author,
    action, epoch, version and operation of ordinal ``n`` are entry ``n`` of integer arrays (the key and
    author as numbers into the resources' and authors' tables): ~45 bytes per event instead of ~660 for a
    dict of dataclasses. A :class:`GeneratedEvent` is made when one is read. Adding an id again replaces its
    event, as a dict would."""

    def __init__(self) -> None:
        self.ids = IdIndex()
        self._keys = _Names()
        self._authors = _Names()
        self._key = array("I")
        self._author = array("I")
        self._action = bytearray()
        self._epoch = array("q")
        self._version = array("q")
        self._operation = array("q")

    def add(self, event: GeneratedEvent) -> int:
        """Keep ``event``; its ordinal."""
        ordinal = self.ids.add(event.event_id)
        row = (self._keys.number(event.key), self._authors.number(event.author), _ACTION_NUMBER[event.action],
               event.epoch, event.version, event.operation)
        if ordinal == len(self._key):
            self._key.append(row[0])
            self._author.append(row[1])
            self._action.append(row[2])
            self._epoch.append(row[3])
            self._version.append(row[4])
            self._operation.append(row[5])
        else:
            (self._key[ordinal], self._author[ordinal], self._action[ordinal], self._epoch[ordinal],
             self._version[ordinal], self._operation[ordinal]) = row
        return ordinal

    def ordinal(self, event_id: str) -> int | None:
        ordinal = self.ids.get(event_id)
        return ordinal if ordinal is not None and ordinal < len(self._key) else None

    def at(self, ordinal: int) -> GeneratedEvent:
        return GeneratedEvent(self.ids.id_of(ordinal), self._keys.values[self._key[ordinal]],
                              _ACTIONS[self._action[ordinal]], self._epoch[ordinal], self._version[ordinal],
                              self._authors.values[self._author[ordinal]], self._operation[ordinal])

    def key_at(self, ordinal: int) -> str:
        return str(self._keys.values[self._key[ordinal]])

    def epoch_at(self, ordinal: int) -> int:
        return self._epoch[ordinal]

    def action_at(self, ordinal: int) -> Action:
        return _ACTIONS[self._action[ordinal]]

    def __getitem__(self, event_id: str) -> GeneratedEvent:
        ordinal = self.ordinal(event_id)
        if ordinal is None:
            raise KeyError(event_id)
        return self.at(ordinal)

    def __contains__(self, event_id: object) -> bool:
        return isinstance(event_id, str) and self.ordinal(event_id) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def __len__(self) -> int:
        return len(self._key)

    def __repr__(self) -> str:
        return f"<EventLog of {len(self)} events>"


_OUTCOMES = tuple(Outcome)
_OUTCOME_NUMBER = {outcome: number for number, outcome in enumerate(_OUTCOMES)}
_NONE = -1  # a status, message or wall time that is None


class RequestLog(Sequence[RequestRecord]):
    """The requests sent, in send order, in columns (memory: BENCHMARKS.md section 5).

    Each request's events are ordinals of the run's :class:`EventLog` in one flat array (with the versions
    their data carried in another), its other fields integers, floats and numbers into small tables of the
    few distinct values (subscriptions, reasons, fault lists, probe kinds, timings): ~20 bytes per request
    plus 12 per event carried, instead of a dataclass, two tuples and their strings. A request carrying an
    id that is no event of the run (a probe's) keeps its ids as they are, beside. A
    :class:`RequestRecord` is made when one is read."""

    def __init__(self, events: EventLog) -> None:
        self._events = events
        self._names = _Names("", None, "exchange", ())  # subscriptions, reasons, probes, timings, faults...
        self._seq = array("q")
        self._start = array("q", [0])  # request n's events are _ordinals[_start[n]:_start[n + 1]]
        self._ordinals = array("I")
        self._versions = array("q")
        self._odd_ids: dict[int, tuple[tuple[str, ...], tuple[int, ...]]] = {}
        self._timestamp = array("q")
        self._body_size = array("q")
        self._outcome = bytearray()
        self._status = array("i")
        self._latency = array("d")
        self._wall = array("d")
        self._message = array("q")
        self._flags = bytearray()  # bit 0: unstable
        self._text = array("I")  # subscription, reason, faults, probe, timing: numbers into _names, 5 per request
        self._sparse: dict[int, tuple[tuple[str, ...], str]] = {}  # must_apply, answer_body (probes, errors)

    def append(self, record: RequestRecord) -> None:
        position = len(self._seq)
        ordinals = [self._events.ordinal(event_id) for event_id in record.event_ids]
        if len(record.versions) != len(ordinals) or any(ordinal is None for ordinal in ordinals):
            self._odd_ids[position] = (record.event_ids, record.versions)
        else:
            self._ordinals.extend(ordinals)  # type: ignore[arg-type]  # no None: checked above
            self._versions.extend(record.versions)
        self._start.append(len(self._ordinals))
        self._seq.append(record.seq)
        self._timestamp.append(record.timestamp)
        self._body_size.append(record.body_size)
        self._outcome.append(_OUTCOME_NUMBER[record.outcome])
        self._status.append(_NONE if record.status is None else record.status)
        self._latency.append(record.latency)
        self._wall.append(math.nan if record.wall is None else record.wall)
        self._message.append(_NONE if record.message is None else record.message)
        self._flags.append(1 if record.unstable else 0)
        number = self._names.number
        self._text.extend((number(record.subscription), number(record.reason), number(record.faults),
                           number(record.probe), number(record.timing)))
        if record.must_apply or record.answer_body:
            self._sparse[position] = (record.must_apply, record.answer_body)

    def subscription_at(self, position: int) -> str:
        return str(self._names.values[self._text[5 * position]])

    def ordinals(self, position: int) -> array[int] | None:
        """The event ordinals request ``position`` carried, or None when it carried ids that are no events."""
        if position in self._odd_ids:
            return None
        return self._ordinals[self._start[position]:self._start[position + 1]]

    def at(self, position: int) -> RequestRecord:
        odd = self._odd_ids.get(position)
        if odd is None:
            start, end = self._start[position], self._start[position + 1]
            id_of = self._events.ids.id_of
            event_ids = tuple(id_of(ordinal) for ordinal in self._ordinals[start:end])
            versions = tuple(self._versions[start:end])
        else:
            event_ids, versions = odd
        names = self._names.values
        subscription, reason, faults, probe, timing = self._text[5 * position:5 * position + 5]
        must_apply, answer_body = self._sparse.get(position, ((), ""))
        status, message, wall = self._status[position], self._message[position], self._wall[position]
        return RequestRecord(
            seq=self._seq[position], subscription=names[subscription], event_ids=event_ids, versions=versions,
            timestamp=self._timestamp[position], body_size=self._body_size[position],
            outcome=_OUTCOMES[self._outcome[position]], status=None if status == _NONE else status,
            latency=self._latency[position], reason=names[reason], faults=names[faults], probe=names[probe],
            message=None if message == _NONE else message, must_apply=must_apply,
            wall=None if math.isnan(wall) else wall, timing=names[timing],
            unstable=bool(self._flags[position] & 1), answer_body=answer_body)

    def __len__(self) -> int:
        return len(self._seq)

    @overload
    def __getitem__(self, index: int) -> RequestRecord: ...

    @overload
    def __getitem__(self, index: slice) -> list[RequestRecord]: ...

    def __getitem__(self, index: int | slice) -> RequestRecord | list[RequestRecord]:
        if isinstance(index, slice):
            return [self.at(position) for position in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("request index out of range")
        return self.at(index)

    def __iter__(self) -> Iterator[RequestRecord]:
        return (self.at(position) for position in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (RequestLog, list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list

    def __repr__(self) -> str:
        return f"<RequestLog of {len(self)} requests>"


@dataclass
class GroundTruth:
    """Everything the emitter knows about one run, per subscription.

    ``test_requests`` are the "Test" requests (empty body signed over ``"<ts>."``, facts section 4) sent
    before the traffic, one per subscription; they carry no events and are not part of ``requests``.
    """

    #: the events generated, by id, in columns (:class:`EventLog`: no object per event)
    events: EventLog = field(default_factory=EventLog)
    #: the requests sent, in send order, in columns (:class:`RequestLog`)
    requests: RequestLog = field(init=False)
    test_requests: list[RequestRecord] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)  # reason -> events not sent
    log: list[LogEntry] = field(default_factory=list)
    keep_log: int = 1000
    meta: dict[str, Any] = field(default_factory=dict)
    content: dict[str, ContentExpectation] = field(default_factory=dict)
    #: per resource, what ``--scope`` judges it by (family, identifiers): one entry per resource, not event
    resources: dict[str, ResourceFacts] = field(default_factory=dict)
    _stream: IO[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.requests = RequestLog(self.events)

    def stream_to(self, path: str | Path) -> None:
        """Also write every record, as it is made, to a JSON Lines file."""
        self._stream = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed by close()

    def set_meta(self, **meta: Any) -> None:
        """Describe the run (seed, profile...); the tape's first line."""
        self.meta.update(meta)
        self._write({"type": "run", **self.meta})

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def _write(self, record: Mapping[str, Any]) -> None:
        if self._stream is not None:
            self._stream.write(json.dumps(record, separators=(",", ":"), default=str) + "\n")

    def add_event(self, event: GeneratedEvent) -> None:
        self.events.add(event)
        if self._stream is not None:
            self._write({"type": "event", **asdict(event), "action": event.action.value})

    def add_request(
        self,
        record: RequestRecord,
        *,
        body: bytes | None = None,
        headers: Sequence[tuple[str, str | bytes]] = (),
        recipe: Mapping[str, Any] | None = None,
    ) -> None:
        """Keep ``record``; the stream (the delivery tape) also gets the exact bytes sent, the headers with
        the signature redacted, and the recipe that re-signs them on ``replay``."""
        self.requests.append(record)
        if self._stream is not None:
            line: dict[str, Any] = {"type": "request", **record.to_json()}
            if body is not None:
                line["body_b64"] = base64.b64encode(body).decode("ascii")
                line["headers"] = _tape_headers(headers)
                line["recipe"] = dict(recipe or {})
            self._write(line)

    def add_test_request(self, record: RequestRecord, *, headers: Sequence[tuple[str, str | bytes]] = ()) -> None:
        """Keep the answer to a "Test" request; the tape gets it as a ``test_request`` line (its body is
        empty, its signature redacted), which ``replay`` sends again first."""
        self.test_requests.append(record)
        if self._stream is not None:
            self._write({"type": "test_request", **record.to_json(), "body_b64": "",
                         "headers": _tape_headers(headers), "recipe": {}})

    @property
    def wants_log(self) -> bool:
        """Whether :meth:`add_log` would keep or write an entry: the log is capped, building one costs."""
        return len(self.log) < self.keep_log or self._stream is not None

    def add_log(self, entry: LogEntry) -> None:
        if len(self.log) < self.keep_log:
            self.log.append(entry)
        if self._stream is not None:
            self._write({"type": "log", "level": entry.level, "message": entry.message,
                         "epoch": entry.epoch})

    def note_content(self, key: str, epoch: float, current: str | None, carried: str | None, *,
                     identifier_attribute: str = "sku") -> None:
        """An acknowledged delivery of an event of ``key`` at ``epoch``: the state then, and the data carried
        (digests made with the catalog's ``identifier_attribute``)."""
        note_content(self.content, key, epoch, current, carried, identifier_attribute=identifier_attribute)

    def drop(self, reason: str, count: int = 1) -> None:
        self.dropped[reason] += count

    def genuine_requests(self, subscription: str | None = None) -> Iterator[RequestRecord]:
        """Requests that carried real traffic (not probes)."""
        for record in self.requests:
            if record.probe is None and (subscription is None or record.subscription == subscription):
                yield record

    def latencies(self) -> list[float]:
        """The receiver's time of each request answered, or timed out (at least the timeout)."""
        return [r.latency for r in self.requests if r.measured]

    def outcome_counts(self) -> Counter[str]:
        return Counter(r.outcome.value for r in self.requests)


def _tape_headers(headers: Sequence[tuple[str, str | bytes]]) -> list[list[str]]:
    """Headers as a tape keeps them: text, the signature redacted."""
    return [[name, REDACTED if name.lower() == "x-akeneo-request-signature"
             else (value.decode("latin-1") if isinstance(value, bytes) else value)] for name, value in headers]


def attempt_to_record(
    attempt: Attempt,
    *,
    seq: int,
    subscription: str,
    event_ids: tuple[str, ...],
    versions: tuple[int, ...],
    timestamp: int,
    body_size: int,
    faults: tuple[str, ...] = (),
    probe: str | None = None,
    message: int | None = None,
    must_apply: tuple[str, ...] = (),
    unstable: bool = False,
) -> RequestRecord:
    return RequestRecord(
        seq=seq, subscription=subscription, event_ids=event_ids, versions=versions, timestamp=timestamp,
        body_size=body_size, outcome=attempt.outcome, status=attempt.status, latency=attempt.latency,
        reason=attempt.reason, faults=faults, probe=probe, message=message, must_apply=must_apply,
        wall=attempt.wall, timing=attempt.timing.value, unstable=unstable, answer_body=attempt.body,
    )
