"""The emitter's ground truth: what was generated, what was sent, and what the receiver answered.

The oracle judges a receiver against this record. It can be streamed to a JSON Lines file as it is made;
secrets are never part of it (only signatures, which prove nothing without the secret).
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from ..credentials import REDACTED
from ..judging.content import ContentExpectation, note_content
from ..judging.scope import ResourceFacts
from ..transport.sender import Attempt, Outcome
from ..versions import Action
from .limits import LogEntry

__all__ = [
    "GeneratedEvent",
    "GroundTruth",
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


@dataclass
class GroundTruth:
    """Everything the emitter knows about one run, per subscription.

    ``test_requests`` are the "Test" requests (empty body signed over ``"<ts>."``, facts section 4) sent
    before the traffic, one per subscription; they carry no events and are not part of ``requests``.
    """

    events: dict[str, GeneratedEvent] = field(default_factory=dict)
    requests: list[RequestRecord] = field(default_factory=list)
    test_requests: list[RequestRecord] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)  # reason -> events not sent
    log: list[LogEntry] = field(default_factory=list)
    keep_log: int = 1000
    meta: dict[str, Any] = field(default_factory=dict)
    content: dict[str, ContentExpectation] = field(default_factory=dict)
    #: per resource, what ``--scope`` judges it by (family, identifiers): one entry per resource, not event
    resources: dict[str, ResourceFacts] = field(default_factory=dict)
    _stream: IO[str] | None = field(default=None, repr=False)

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
        self.events[event.event_id] = event
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
