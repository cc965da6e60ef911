"""Judge a receiver: compare what it observed with the emitter's ground truth, naming each violation.

A correct receiver (events-api-facts.md section 6) verifies the signature over the raw body, deduplicates
by ``event_id`` and ignores outdated events by ``event_datetime``. The oracle never flags such a receiver:
``event_datetime`` has second precision, so when the newest events of a resource tie, any of them is a
correct final state, and applying one tie after another is not stale. Ties met are a statistic.

Violation kinds are stable names used in reports and by users' CI (see README's glossary).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from ..judging.baseline import this_run_only
from ..judging.checks import DETECTORS, core_stats, finish
from ..judging.diagnose import diagnose, probe_table
from ..judging.history import History, HistoryEvent, HistoryRequest, ProbeRule, Refusal
from ..judging.observation import Observation
from ..judging.scope import ResourceFacts, Scope, ScopeJudge, scoped_content
from ..judging.verdict import KIND_GLOSSARY, Verdict, Violation
from ..transport.sender import DEFAULT_TIMEOUT, Outcome
from ..versions import format_event_datetime
from .limits import TEST_BUTTON_TIMEOUT
from .probes import PROBE_KINDS
from .truth import GroundTruth, RequestRecord

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


def history(truth: GroundTruth, *, subscription: str | None = None, timeout: float = DEFAULT_TIMEOUT,
            scope: Scope | None = None) -> History:
    """The Events API ground truth of one subscription in the oracle core's shape (:mod:`..judging.history`);
    events outside ``scope`` are marked so (:mod:`..judging.scope`)."""
    outside = ScopeJudge(scope, truth.resources).outside
    events = {event_id: HistoryEvent(event_id, e.key, e.epoch, e.is_removal, False,
                                     f"{e.action.value} {event_id} at {format_event_datetime(e.epoch)}",
                                     creation=e.action.value.endswith(".created"),
                                     out_of_scope=outside(e.key, e.action.value))
              for event_id, e in truth.events.items()}
    requests = [r for r in truth.requests if subscription is None or r.subscription == subscription]
    acknowledged: dict[str, list[HistoryEvent]] = {}
    for record in requests:
        if record.probe is not None or not record.acknowledged or (
                record.status is not None and not 200 <= record.status < 300):
            continue
        for event_id in record.event_ids:
            event = events.get(event_id)
            if event is not None and not event.out_of_scope:
                acknowledged.setdefault(event.key, []).append(event)
    tests = [_test_request(r) for r in truth.test_requests if subscription is None or r.subscription == subscription]
    probe_events = _probe_events_in(scope)
    return History(events, [*tests, *(_request(r, probe_events=probe_events) for r in requests)], acknowledged,
                   timeout,
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
    requests = [r for r in truth.requests if subscription is None or r.subscription == subscription]
    genuine = [r for r in requests if r.probe is None]
    latencies = [r.latency for r in requests if r.measured]
    verdict.stats = {
        "events_generated": len(truth.events),
        "requests": len(genuine),
        "probes": len(requests) - len(genuine),
        "events_acknowledged": sum(len(v) for v in past.acknowledged.values()),
        **core_stats(past, observation, design, verdict.violations, latencies),
        "outcomes": dict(Counter(r.outcome.value for r in requests)),
        "faults": dict(Counter(f for r in genuine for f in r.faults)),
        "latency_timing": sorted({r.timing for r in requests}),
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
