"""Judge a receiver: compare what it observed with the emitter's ground truth, naming each violation.

A correct receiver (events-api-facts.md section 6) verifies the signature over the raw body, deduplicates
by ``event_id`` and ignores outdated events by ``event_datetime``. The oracle never flags such a receiver:
``event_datetime`` has second precision, so when the newest events of a resource tie, any of them is a
correct final state, and applying one tie after another is not stale. Ties met are a statistic.

Violation kinds are stable names used in reports and by users' CI (see README's glossary).
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from http import HTTPStatus
from typing import Any, overload

from ..judging.baseline import this_run_only
from ..judging.checks import DETECTORS, core_stats, finish
from ..judging.diagnose import diagnose, probe_table
from ..judging.history import Delivered, History, HistoryEvent, HistoryRequest, ProbeRule, Refusal
from ..judging.observation import Observation
from ..judging.scope import ResourceFacts, Scope, ScopeJudge, scoped_content
from ..judging.verdict import KIND_GLOSSARY, Verdict, Violation
from ..transport.sender import DEFAULT_TIMEOUT, Outcome
from ..versions import format_event_datetime
from .limits import TEST_BUTTON_TIMEOUT
from .probes import PROBE_KINDS
from .truth import EventLog, GroundTruth, RequestLog, RequestRecord

__all__ = [
    "CHECKS",
    "VIOLATION_KINDS",
    "history",
    "judge",
]


#: kind -> (severity, one-line meaning): the Events API uses the shared glossary as it is.
VIOLATION_KINDS: dict[str, tuple[str, str]] = dict(KIND_GLOSSARY)


def _request_witness(record: RequestRecord) -> dict[str, Any]:
    """The request as reports show it; ``time`` is its signed timestamp in ISO 8601 with offset, like the
    payloads' ``event_datetime`` (facts section 4), and ``body`` the start of a non-2xx answer."""
    witness: dict[str, Any] = {"request": record.seq, "events": list(record.event_ids), "status": record.status,
                               "outcome": record.outcome.value, "time": format_event_datetime(record.timestamp)}
    if record.answer_body:
        witness["body"] = record.answer_body
    if record.faults:
        witness["faults"] = list(record.faults)
    if record.probe:
        witness["probe"] = record.probe
    if record.reason:
        witness["reason"] = record.reason
    return witness


def _probe_rule(name: str, must_apply: tuple[str, ...] = ()) -> ProbeRule:
    """Forged requests must be refused and replays too (a warning unless strict); robustness probes only
    must not break the receiver (facts section 6), and an envelope probe answered 2xx must have applied its
    valid events (:mod:`.probes`)."""
    kind = PROBE_KINDS[name]
    if kind.expect:
        return ProbeRule(name, kind.description, kind.expect, "rejected_valid", must_apply, family=kind.family)
    if kind.family == "robustness":
        return ProbeRule(name, kind.description, "any", "", family=kind.family)
    return ProbeRule(name, kind.description, "reject",
                     "forged_accepted" if kind.family == "authenticity" else "replay_accepted", family=kind.family)


#: How an envelope probe's valid events look to a scope (the probe events of :mod:`.probes` are products of no
#: family, identifiers ``probe-...``, ``product.updated``).
_PROBE_RESOURCE = ResourceFacts("product", frozenset({"none"}), frozenset({"probe-0-00000000"}))


def _probe_events_in(scope: Scope | None) -> bool:
    """Whether a receiver with ``scope`` must apply the valid events of envelope probes it accepts."""
    return scope is None or not scope.excludes("product:probe", _PROBE_RESOURCE, "product.updated")


def _request(record: RequestRecord, *, probe_events: bool = True) -> HistoryRequest:
    status = record.status
    refused = (record.probe is None and status is not None and not 200 <= status < 300
               and "replay" not in record.faults)  # a replayed copy may be refused as too old: that is right
    return HistoryRequest(
        seq=record.seq, event_ids=record.event_ids, status=status, latency=record.latency, reason=record.reason,
        timed_out=record.outcome is Outcome.FAILED and record.reason == "timeout",
        broken=record.outcome is Outcome.FAILED or (status is not None and status >= 500),
        refusal=Refusal("rejected_valid") if refused else None,
        probe=(_probe_rule(record.probe, record.must_apply if probe_events else ())
               if record.probe is not None else None),
        witness=_request_witness(record), timing=record.timing, unstable=record.unstable)


#: How verdicts name the Test request.
TEST_REQUEST_LABEL = 'the "Test" request (empty body signed over "<ts>.")'
#: What the PIM's UI shows for a Test answered with a redirection (facts section 4).
_REDIRECT_SHOWN = "Server response contains a redirection. This is not allowed."


def _test_request(record: RequestRecord) -> HistoryRequest:
    """The "Test" request: the PIM's UI shows the Test as failed for any answer but a 2xx, a 3xx included
    (redirects are never followed), and waits for it without the 0.5 s timeout (facts section 4)."""
    status = record.status
    refusal = None
    if status is not None and not 200 <= status < 300:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        shown = _REDIRECT_SHOWN if 300 <= status < 400 else f"{status} {phrase}".rstrip()
        refusal = Refusal("rejected_valid", f': the PIM\'s UI shows the Test as failed ("{shown}")', "2xx")
    witness: dict[str, Any] = {"request": "test", "events": [], "status": status, "outcome": record.outcome.value,
                               "time": format_event_datetime(record.timestamp)}
    if record.answer_body:
        witness["body"] = record.answer_body
    if record.reason:
        witness["reason"] = record.reason
    return HistoryRequest(
        seq=record.seq, event_ids=(), status=status, latency=record.latency, reason=record.reason,
        timed_out=record.outcome is Outcome.FAILED and record.reason == "timeout",
        broken=record.outcome is Outcome.FAILED or (status is not None and status >= 500),
        refusal=refusal, probe=None, witness=witness, label=TEST_REQUEST_LABEL, deadline=TEST_BUTTON_TIMEOUT,
        expected="2xx (the PIM's UI shows any other answer as a failed Test)")


class _Events(Mapping[str, HistoryEvent]):
    """The ground truth's events in the oracle core's shape, each :class:`HistoryEvent` made when it is read
    (memory: BENCHMARKS.md section 5); ``ordinal`` lets the detectors index them by number."""

    def __init__(self, log: EventLog, outside: Callable[[str, str], bool]) -> None:
        self._log = log
        self._outside = outside

    def ordinal(self, event_id: str) -> int | None:
        return self._log.ordinal(event_id)

    def out_of_scope_at(self, ordinal: int) -> bool:
        return self._outside(self._log.key_at(ordinal), self._log.action_at(ordinal).value)

    def at(self, ordinal: int) -> HistoryEvent:
        e = self._log.at(ordinal)
        action = e.action.value
        return HistoryEvent(e.event_id, e.key, e.epoch, e.is_removal, False,
                            f"{action} {e.event_id} at {format_event_datetime(e.epoch)}",
                            creation=action.endswith(".created"), out_of_scope=self._outside(e.key, action))

    def get(self, event_id: str, default: Any = None) -> Any:
        ordinal = self._log.ordinal(event_id)
        return default if ordinal is None else self.at(ordinal)

    def __getitem__(self, event_id: str) -> HistoryEvent:
        ordinal = self._log.ordinal(event_id)
        if ordinal is None:
            raise KeyError(event_id)
        return self.at(ordinal)

    def __contains__(self, event_id: object) -> bool:
        return isinstance(event_id, str) and self._log.ordinal(event_id) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._log)

    def __len__(self) -> int:
        return len(self._log)

    def values(self) -> Iterator[HistoryEvent]:  # type: ignore[override]  # a view, made as it is read
        return (self.at(ordinal) for ordinal in range(len(self._log)))


class _Requests(Sequence[HistoryRequest]):
    """The "Test" requests, then the subscription's requests of the ground truth, each
    :class:`HistoryRequest` made when it is read (memory: BENCHMARKS.md section 5)."""

    def __init__(self, tests: list[HistoryRequest], log: RequestLog, positions: array[int] | None,
                 probe_events: bool) -> None:
        self._tests = tests
        self._log = log
        self._positions = positions  # None: every request of the log
        self._probe_events = probe_events

    def _at(self, index: int) -> HistoryRequest:
        if index < len(self._tests):
            return self._tests[index]
        index -= len(self._tests)
        position = index if self._positions is None else self._positions[index]
        return _request(self._log.at(position), probe_events=self._probe_events)

    def __len__(self) -> int:
        return len(self._tests) + (len(self._log) if self._positions is None else len(self._positions))

    @overload
    def __getitem__(self, index: int) -> HistoryRequest: ...

    @overload
    def __getitem__(self, index: slice) -> list[HistoryRequest]: ...

    def __getitem__(self, index: int | slice) -> HistoryRequest | list[HistoryRequest]:
        if isinstance(index, slice):
            return [self._at(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("request index out of range")
        return self._at(index)

    def __iter__(self) -> Iterator[HistoryRequest]:
        return (self._at(index) for index in range(len(self)))


def _positions(truth: GroundTruth, subscription: str | None) -> array[int] | None:
    """The positions of ``subscription``'s requests in the ground truth, or None for all of them."""
    if subscription is None:
        return None
    return array("q", (position for position in range(len(truth.requests))
                       if truth.requests.subscription_at(position) == subscription))


def history(truth: GroundTruth, *, subscription: str | None = None, timeout: float = DEFAULT_TIMEOUT,
            scope: Scope | None = None) -> History:
    """The Events API ground truth of one subscription in the oracle core's shape (:mod:`..judging.history`);
    events outside ``scope`` are marked so (:mod:`..judging.scope`). Events and requests are views over the
    ground truth's columns; per resource only the newest acknowledged events are kept (:class:`Delivered`)."""
    outside = ScopeJudge(scope, truth.resources).outside
    events = _Events(truth.events, outside)
    positions = _positions(truth, subscription)
    log = truth.events
    acknowledged: dict[str, Delivered] = {}
    for position in (range(len(truth.requests)) if positions is None else positions):
        record = truth.requests[position]
        if record.probe is not None or not record.acknowledged or (
                record.status is not None and not 200 <= record.status < 300):
            continue
        ordinals = truth.requests.ordinals(position)
        if ordinals is None:  # it carried ids that are no events: look each up
            ordinals = array("q", (n for n in map(log.ordinal, record.event_ids) if n is not None))
        for ordinal in ordinals:
            if events.out_of_scope_at(ordinal):
                continue
            key = log.key_at(ordinal)
            delivered = acknowledged.get(key)
            if delivered is None:
                delivered = acknowledged[key] = Delivered()
            if delivered.newest and log.epoch_at(ordinal) < delivered.newest_epoch:
                delivered.count += 1  # older than the newest: only counted
                continue
            delivered.add(events.at(ordinal))
    tests = [_test_request(r) for r in truth.test_requests if subscription is None or r.subscription == subscription]
    requests = _Requests(tests, truth.requests, positions, _probe_events_in(scope))
    return History(events, requests, acknowledged, timeout,
                   content=scoped_content(truth.content, events.values()) if scope else truth.content,
                   scope=scope.describe() if scope else "")


#: What the Events API judges: the shared detectors (the oracle core), in order.
CHECKS = DETECTORS


def judge(
    truth: GroundTruth,
    observation: Observation,
    *,
    subscription: str | None = None,
    strict: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    reproduce: str = "",
    design: str = "apply",
    scope: Scope | None = None,
    before: Observation | None = None,
) -> Verdict:
    """All violations of ``observation`` against ``truth`` for one subscription's receiver, weighed for the
    receiver's ``design`` (:data:`~..judging.checks.DESIGNS`); with ``before`` (the observation before the
    run, not empty), only what this run delivered (:func:`~..judging.baseline.this_run_only`)."""
    verdict = Verdict(strict=strict)
    past = history(truth, subscription=subscription, timeout=timeout, scope=scope)
    earlier = None
    if before is not None:
        observation, past, earlier = this_run_only(before, observation, past)

    def violation(kind: str, message: str, *, severity: str | None = None, **extra: Any) -> Violation:
        severity = severity or VIOLATION_KINDS[kind][0]
        if kind == "replay_accepted" and strict:
            severity = "error"
        return Violation(kind, severity, message, reproduce=reproduce, **extra)

    for check in CHECKS:
        verdict.violations.extend(check(past, observation, violation))
    genuine = probes = 0
    outcomes: Counter[str] = Counter()
    faults: Counter[str] = Counter()
    timings: set[str] = set()
    latencies = array("d")  # one pass over the requests, none kept
    for record in truth.requests:
        if subscription is not None and record.subscription != subscription:
            continue
        if record.probe is None:
            genuine += 1
            faults.update(record.faults)
        else:
            probes += 1
        outcomes[record.outcome.value] += 1
        timings.add(record.timing)
        if record.measured:
            latencies.append(record.latency)
    verdict.stats = {
        "events_generated": len(truth.events),
        "requests": genuine,
        "probes": probes,
        "events_acknowledged": sum(delivered.count for delivered in past.acknowledged.values()),
        **core_stats(past, observation, design, verdict.violations, latencies),
        "outcomes": dict(outcomes),
        "faults": dict(faults),
        "latency_timing": sorted(timings),
        "dropped_by_pim": dict(truth.dropped),
        "test_request": [r.status or r.outcome.value for r in truth.test_requests
                         if subscription is None or r.subscription == subscription],
        "earlier_state": earlier.stats() if earlier is not None else None,
    }
    verdict.violations = finish(verdict.violations, design)
    verdict.stats["diagnoses"] = diagnose(past, observation, verdict.stats)
    verdict.stats["probe_table"] = probe_table(past, verdict.violations)
    return verdict


def expected_kinds() -> Sequence[str]:
    return list(VIOLATION_KINDS)
