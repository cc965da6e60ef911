"""Judge an Event Platform receiver against the :class:`~akeneo_events_testkit.event_platform.truth.EpTruth`.

A correct receiver (event-platform-facts.md sections 2, 3 and 6) verifies either signature header against
every secret it holds over the raw bytes, answers 2xx within 5 s, deduplicates on ``id`` (retries and
at-least-once redeliveries reuse it), orders by ``time`` (second precision: ties are never violations),
keeps tombstones for ``*.deleted`` and drops events whose author is its own ``api`` client id.

The observation contract is the Events API one (``{"applied": [ids], "resources": {key: {event_id,
removed}}}``) with CloudEvent ids and keys ``product:<uuid>`` / ``product_model:<code>``; the verdict reuses
:class:`~akeneo_events_testkit.judging.verdict.Verdict` and
:class:`~akeneo_events_testkit.judging.verdict.Violation`, so ``format_violations`` and the reports work unchanged.

A receiver that patches its copy of each resource from ``*.updated.delta`` events may add its **delta
state** to the observation, ``resources[key]["delta"]`` (shape in :mod:`.eventplatform`, "delta state").
Then ``delta_corrupted`` checks that deltas were not applied out of order (section 6 gives no ordering): for
every field the receiver tracks (a scalar present in its delta state; every value slot once it reports
``values``), the value held must be the ``new`` of the newest delta the receiver says it applied to that
field (any of them on a tie of ``time``). A delta it ignored as outdated is not required: ignoring is how
a correct receiver stays consistent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import InvalidObservation
from ..judging.baseline import this_run_only
from ..judging.checks import DETECTORS, ViolationFactory, core_stats, finish, own_events
from ..judging.diagnose import diagnose, probe_table
from ..judging.history import History, HistoryEvent, HistoryRequest, ProbeRule, Refusal, acknowledged_by_key
from ..judging.observation import Observation
from ..judging.render import format_violations, slow_summary, timed
from ..judging.scope import Scope, ScopeJudge, scoped_content
from ..judging.verdict import KIND_FIX, KIND_GLOSSARY, Verdict, Violation, latency_spread
from ..versions import format_utc_datetime
from .delta import DeltaPath, delta_state_fields
from .probes import EP_PROBES
from .rules import EP_TIMEOUT, SUCCESS
from .truth import EpAttempt, EpEvent, EpTruth, canonical_json

__all__ = [
    "CHECKS",
    "EP_KIND_FIX",
    "EP_VIOLATION_KINDS",
    "delta_states",
    "format_ep_verdict",
    "history",
    "in_flight_stats",
    "in_flight_text",
    "judge_ep",
]


_REUSED = ("duplicate_applied", "stale_applied", "stale_final_state", "resurrected", "event_lost",
           "forged_accepted", "rejected_valid", "server_error", "stale_content", "removal_not_propagated",
           "out_of_scope_applied", "probe_unanswered")


#: kind -> (severity, one-line meaning); shared kinds keep their names (judging.verdict.KIND_GLOSSARY).
EP_VIOLATION_KINDS: dict[str, tuple[str, str]] = {
    **{kind: KIND_GLOSSARY[kind] for kind in _REUSED},
    "slow_ack": ("error", "answered after the Event Platform's 5 s timeout (a warning until confirmed, over HTTP)"),
    "suspension_risk": ("error", "the answers got (or would get) the subscription suspended: 404, 3xx or "
                                 "< 90 % success over an hour"),
    "self_event_processed": ("error", "an event authored by the receiver's own client id was applied"),
    "rotation_rejected": ("error", "a request validly signed with a secret the receiver holds was refused"),
    "algorithm_ignored": ("warning", "a request without the HmacSHA256 algorithm header was accepted"),
    "delta_corrupted": ("error", "a field patched from *.updated.delta events holds an older change than the "
                                 "newest delta applied to it (deltas applied out of order)"),
}


#: kind -> the one-line fix in the receiver (README glossary), shared kinds as :data:`KIND_FIX` says.
EP_KIND_FIX: dict[str, str] = {
    **{kind: KIND_FIX[kind] for kind in _REUSED},
    "duplicate_applied": "remember event ids atomically with the effect (retries reuse the id)",
    "stale_applied": "keep the newest time per resource; ignore older events",
    "stale_final_state": "keep the newest time per resource; ignore older events",
    "rejected_valid": "verify the raw body against every secret you hold; accept every event type",
    "slow_ack": "acknowledge fast (within 5 s), apply asynchronously but durably",
    "removal_not_propagated": "delete or tombstone on *.deleted",
    "suspension_risk": "answer 200 to every genuine event, known resource or not; never redirect",
    "self_event_processed": "drop events whose author is {type: api, identifier: <your client id>}",
    "rotation_rejected": "accept when either signature header matches any secret you hold",
    "algorithm_ignored": "require HmacSHA256",
    "delta_corrupted": "ignore deltas older than the resource's time (or order per field)",
}


_WITNESS = 12


def _witness(attempt: EpAttempt, together: tuple[int, ...] = ()) -> dict[str, Any]:
    witness: dict[str, Any] = {"request": attempt.seq, "events": [attempt.event_id], "status": attempt.status,
                               "outcome": attempt.outcome, "time": format_utc_datetime(attempt.time),
                               "retry": attempt.retry}
    if attempt.body:
        witness["body"] = attempt.body
    if attempt.duplicate:
        witness["faults"] = ["concurrent_duplicate" if attempt.concurrent else "duplicate"]
    if together:
        witness["in_flight_with"] = list(together)
    if attempt.probe:
        witness["probe"] = attempt.probe
    if attempt.reason:
        witness["reason"] = attempt.reason
    return witness


def _fmt(event: EpEvent | None, event_id: str) -> str:
    if event is None:
        return f"{event_id} (not an event the platform sent)"
    return f"{event.type.rsplit('.v1.', 1)[-1]} {event.event_id} at {format_utc_datetime(event.epoch)}"


def delta_states(raw: Any) -> dict[str, dict[DeltaPath, str]]:
    """The delta state of each resource in a raw observation, as canonical JSON by field; raises
    :class:`~akeneo_events_testkit.errors.InvalidObservation` when one is not of the documented shape."""
    found: dict[str, dict[DeltaPath, str]] = {}
    resources = raw.get("resources") if isinstance(raw, Mapping) else None
    for key, entry in (resources or {}).items() if isinstance(resources, Mapping) else ():
        state = entry.get("delta") if isinstance(entry, Mapping) else None
        if state is None:
            continue
        if not isinstance(state, Mapping):
            raise InvalidObservation(f'resources[{key!r}].delta must be {{"enabled", "family", "parent", "values"}}')
        try:
            fields = delta_state_fields(state)
        except ValueError as exc:
            raise InvalidObservation(f"resources[{key!r}].delta: {exc}") from None
        found[str(key)] = {path: canonical_json(value) for path, value in fields.items()}
        if "values" in state:
            found[str(key)][("values",)] = "tracked"
    return found


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _path_text(path: DeltaPath) -> str:
    if path[0] != "values":
        return str(path[0])
    slot = ", ".join(f"{name} {value}" for name, value in (("locale", path[2]), ("scope", path[3])) if value)
    return f"values.{path[1]}" + (f" ({slot})" if slot else "")


def _probe_rule(name: str) -> ProbeRule:
    probe = EP_PROBES[name]
    kind = {"reject": "forged_accepted", "warn": "algorithm_ignored", "accept": "rotation_rejected",
            "any": ""}[probe.expect]
    return ProbeRule(probe.name, probe.description, probe.expect, kind,
                     family="robustness" if probe.expect == "any" else "authenticity")


def _request(attempt: EpAttempt, *, rotation: bool, stable: bool = True, together: tuple[int, ...] = ()
             ) -> HistoryRequest:
    status = attempt.status
    refusal = None
    if attempt.probe is None and status is not None and status < 500 and attempt.outcome != SUCCESS \
            and status != 429:  # a 429 is the receiver's right: the platform slows down (facts section 3)
        refusal = (Refusal("rotation_rejected", " during a secret rotation",
                           "2xx (either signature matches a secret the receiver holds)")
                   if rotation and status in (400, 401, 403) else Refusal("rejected_valid"))
    return HistoryRequest(
        seq=attempt.seq, event_ids=(attempt.event_id,), status=status, latency=attempt.latency,
        reason=attempt.reason, timed_out=attempt.outcome == "timeout", broken=status is None or status >= 500,
        refusal=refusal, probe=_probe_rule(attempt.probe) if attempt.probe is not None else None,
        witness=_witness(attempt, together), timing=attempt.timing, group=attempt.group,
        unstable=attempt.probe is None and not stable)


def in_flight_text(stats: Mapping[str, Any]) -> str:
    """``up to 8 at once; 120 of 320 requests sent concurrently (45 groups, largest 6), 11 concurrent
    duplicates``, from :func:`in_flight_stats`."""
    bound = stats.get("max_in_flight", 1)
    if bound == 1:
        return "one at a time (--in-flight 1)"
    return (f"up to {bound} at once; {stats.get('requests_sent_concurrently', 0)} of "
            f"{stats.get('requests', 0)} requests sent concurrently ({stats.get('concurrent_groups', 0)} groups, "
            f"largest {stats.get('largest_group', 1)}), {stats.get('concurrent_duplicates', 0)} concurrent "
            "duplicates")


def _groups(truth: EpTruth) -> dict[int, tuple[int, ...]]:
    """The seqs of each group of requests in flight together (groups of one left out)."""
    found: dict[int, list[int]] = {}
    for attempt in truth.attempts:
        if attempt.group is not None:
            found.setdefault(attempt.group, []).append(attempt.seq)
    return {group: tuple(seqs) for group, seqs in found.items() if len(seqs) > 1}


def in_flight_stats(truth: EpTruth) -> dict[str, Any]:
    """How concurrent the delivery was: the bound, the largest group, the groups of two or more requests and
    the requests sent in them (section 3: several requests in flight at once)."""
    groups = _groups(truth)
    return {"max_in_flight": truth.meta.get("max_in_flight", 1), "requests": len(truth.genuine),
            "largest_group": max((len(seqs) for seqs in groups.values()), default=1),
            "concurrent_groups": len(groups),
            "requests_sent_concurrently": sum(len(seqs) for seqs in groups.values()),
            "concurrent_duplicates": sum(1 for a in truth.genuine if a.concurrent)}


def history(truth: EpTruth, *, timeout: float = EP_TIMEOUT, scope: Scope | None = None) -> History:
    """The Event Platform ground truth in the oracle core's shape (:mod:`..judging.history`); events outside
    ``scope`` are marked so (:mod:`..judging.scope`)."""
    judge = ScopeJudge(scope, truth.resources)
    events = {event_id: HistoryEvent(event_id, e.key, e.epoch, e.is_removal, e.self_triggered,
                                     _fmt(e, event_id), e.author or "", creation=e.type.endswith(".created"),
                                     out_of_scope=scope is not None and e.outside(judge))
              for event_id, e in truth.events.items()}
    acknowledged = acknowledged_by_key(
        event for event in map(events.get, truth.delivered)
        if event is not None and not event.own and not event.out_of_scope)
    rotation = bool(truth.meta.get("rotation"))
    sent = truth.events
    groups = _groups(truth)
    requests = [_request(a, rotation=rotation, stable=a.event_id not in sent or sent[a.event_id].stable,
                         together=tuple(seq for seq in groups.get(a.group, ()) if seq != a.seq)
                         if a.group is not None else ())
                for a in truth.attempts]
    return History(events, requests, {key: acknowledged[key] for key in sorted(acknowledged)}, timeout,
                   answer_expected="2xx within {timeout} s", broken_expected="2xx",
                   duplicate_expected="applied at most once (deduplicate on id)",
                   content=scoped_content(truth.content, events.values()) if scope else truth.content,
                   sender="the platform", scope=scope.describe() if scope else "",
                   concurrent=int(truth.meta.get("max_in_flight", 1)) > 1)


def suspension(truth: EpTruth, violation: ViolationFactory) -> Iterator[Violation]:
    """``suspension_risk``: the answers got (or would get) the subscription suspended (facts section 3)."""
    if truth.suspension is not None:
        s = truth.suspension
        causes = [a for a in truth.attempts if a.seq in set(s.attempts)]
        yield violation("suspension_risk", truth.fate(), expected="no 404, no 3xx, >= 90 % 2xx over any hour",
                        received=", ".join(s.responses), event_ids=tuple(dict.fromkeys(a.event_id for a in causes)),
                        requests=tuple(_witness(a) for a in causes[:_WITNESS]))


def delta_corruption(truth: EpTruth, past: History, observation: Observation,
                     deltas: Mapping[str, Mapping[DeltaPath, str]] | None,
                     violation: ViolationFactory) -> Iterator[Violation]:
    """``delta_corrupted``: a field of a reported delta state holds an older delta's value than the newest
    delta applied to it (see the module docstring)."""
    applied_deltas: dict[str, list[EpEvent]] = {}  # per resource, each applied delta once, in order
    all_deltas: dict[str, list[EpEvent]] = {}
    if deltas:
        for event_id in dict.fromkeys(observation.applied):
            event = truth.events.get(event_id)
            if event is not None and event.is_removal and event.key in deltas:
                # a removal applied clears what the deltas before it set: an event of the removal's second
                # applied after it (a tie, either order is right) starts the resource's state afresh
                applied_deltas[event.key] = []
            elif event is not None and event.changes and event.key in deltas:
                applied_deltas.setdefault(event.key, []).append(event)
        for event in truth.events.values():
            if event.changes and event.key in deltas:
                all_deltas.setdefault(event.key, []).append(event)
    for key, held in sorted((deltas or {}).items()):
        state = observation.resources.get(key)
        if state is None or state.removed:
            continue
        by_path: dict[DeltaPath, tuple[int, dict[str, EpEvent]]] = {}
        for event in applied_deltas.get(key, ()):
            for path, value in event.changes:
                tracked = ("values",) in held if path[0] == "values" else path in held
                best = by_path.get(path)
                if not tracked or (best is not None and best[0] > event.epoch):
                    continue
                if best is None or best[0] < event.epoch:
                    best = by_path[path] = (event.epoch, {})
                best[1][value] = event
        wrong = [(path, best) for path, best in by_path.items() if held.get(path, "null") not in best[1]]
        if not wrong:
            continue
        shown = wrong[:3]
        older = [e.event_id for e in all_deltas.get(key, ()) if any(
            p == path and v == held.get(path, "null") for path, _ in shown for p, v in e.changes)]
        newer = [e.event_id for _, best in shown for e in best[1].values()]
        expected = "; ".join(f"{_path_text(path)} = {' or '.join(map(_short, best[1]))} "
                             f"({', '.join(_fmt(e, e.event_id) for e in best[1].values())})" for path, best in shown)
        received = "; ".join(f"{_path_text(path)} = {_short(held.get(path, 'null (absent)'))}" for path, _ in shown)
        yield violation("delta_corrupted", f"{key}: {len(wrong)} field(s) hold an older delta's value than the "
                      "newest delta applied to them", expected=expected, received=received, resource=key,
                      event_ids=tuple(dict.fromkeys([*newer, *older])), requests=past.witness_for([*newer, *older]))



#: What the Event Platform judges on top of the shared detectors: its own-event rule.
CHECKS = (*DETECTORS, own_events)


def judge_ep(truth: EpTruth, observation: Observation, *, reproduce: str = "", timeout: float = EP_TIMEOUT,
             deltas: Mapping[str, Mapping[DeltaPath, str]] | None = None, design: str = "apply",
             scope: Scope | None = None, before: Observation | None = None) -> Verdict:
    """All violations of ``observation`` against ``truth`` (the receiver behind one subscription).

    ``deltas`` (from :func:`delta_states`) are the receivers' delta states, judged when given. With
    ``before`` (the observation before the run, not empty), only what this run delivered is judged
    (:func:`~..judging.baseline.this_run_only`).
    """
    verdict = Verdict()
    events = truth.events
    genuine = truth.genuine
    past = history(truth, timeout=timeout, scope=scope)
    earlier = None
    if before is not None:
        observation, past, earlier = this_run_only(before, observation, past)
        deltas = {key: state for key, state in (deltas or {}).items() if key in observation.resources} \
            if deltas is not None else None

    def violation(kind: str, message: str, *, severity: str | None = None, **extra: Any) -> Violation:
        return Violation(kind, severity or EP_VIOLATION_KINDS[kind][0], message, reproduce=reproduce, **extra)

    for check in CHECKS:
        verdict.violations.extend(check(past, observation, violation))
    verdict.violations.extend(suspension(truth, violation))
    verdict.violations.extend(delta_corruption(truth, past, observation, deltas, violation))

    latencies = [a.latency for a in genuine if a.measured]
    verdict.stats = {
        "events_generated": len(events),
        "requests": len(genuine),
        "probes": len(truth.attempts) - len(genuine),
        "events_delivered": len(truth.delivered),
        "retries": sum(1 for a in genuine if a.retry > 0),
        "duplicates_sent": sum(1 for a in genuine if a.duplicate),
        "self_events": sum(1 for e in events.values() if e.self_triggered),
        "dropped_by_platform": dict(truth.dropped()),
        "outcomes": dict(Counter(a.outcome for a in genuine)),
        "suspension": None if truth.suspension is None else {
            "time": format_utc_datetime(truth.suspension.time), "cause": truth.suspension.cause,
            "responses": list(truth.suspension.responses), "enforced": truth.suspension.enforced,
            "delivered_after": len(truth.past_suspension())},
        "min_rate": min((rate for _, rate in truth.rates), default=None),
        "in_flight": in_flight_stats(truth),
        **core_stats(past, observation, design, verdict.violations, latencies),
        "delta_states_judged": len(deltas or {}),
        "latency_timing": sorted({a.timing for a in truth.attempts}),
        "earlier_state": earlier.stats() if earlier is not None else None,
    }
    verdict.violations = finish(verdict.violations, design)
    verdict.stats["diagnoses"] = diagnose(past, observation, verdict.stats)
    verdict.stats["probe_table"] = probe_table(past, verdict.violations)
    return verdict


def format_ep_verdict(verdict: Verdict, truth: EpTruth, *, limit: int = 20, report: str | None = None) -> str:
    """The subscription's fate first (suspended or not, and when), then the usual failure anatomy."""
    head = truth.fate()
    dropped = truth.dropped()
    lines = [head[0].upper() + head[1:] + ".",
             f"{len(truth.events)} events, {len(truth.genuine)} requests, {len(truth.delivered)} delivered"
             + (f", lost by the platform: {', '.join(f'{k} {v}' for k, v in sorted(dropped.items()))}"
                if dropped else "") + ".",
             f"Latency {latency_spread([a.latency for a in truth.genuine if a.measured])}"
             f"{timed({a.timing for a in truth.attempts})}; slow answers: {slow_summary(verdict.stats)}.",
             format_violations(verdict, limit=limit, report=report, fixes=EP_KIND_FIX),
             "PASS" if verdict.passed else "FAIL"]
    return "\n".join(lines)
