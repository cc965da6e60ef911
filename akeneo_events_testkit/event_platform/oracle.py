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
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import InvalidObservation
from ..judging.content import content_findings
from ..judging.observation import Observation
from ..judging.render import format_violations
from ..judging.verdict import KIND_GLOSSARY, Verdict, Violation, percentile
from ..versions import format_utc_datetime
from .delta import DeltaPath, delta_state_fields
from .probes import EP_PROBES
from .rules import EP_TIMEOUT, SUCCESS
from .truth import EpAttempt, EpEvent, EpTruth, canonical_json

__all__ = [
    "EP_VIOLATION_KINDS",
    "delta_states",
    "format_ep_verdict",
    "judge_ep",
]


_REUSED = ("duplicate_applied", "stale_applied", "stale_final_state", "resurrected", "event_lost",
           "forged_accepted", "rejected_valid", "server_error", "stale_content", "removal_not_propagated")


#: kind -> (severity, one-line meaning); shared kinds keep their names (judging.verdict.KIND_GLOSSARY).
EP_VIOLATION_KINDS: dict[str, tuple[str, str]] = {
    **{kind: KIND_GLOSSARY[kind] for kind in _REUSED},
    "slow_ack": ("error", "answered after the Event Platform's 5 s timeout"),
    "suspension_risk": ("error", "the answers got (or would get) the subscription suspended: 404, 3xx or "
                                 "< 90 % success over an hour"),
    "self_event_processed": ("error", "an event authored by the receiver's own client id was applied"),
    "rotation_rejected": ("error", "a request validly signed with a secret the receiver holds was refused"),
    "algorithm_ignored": ("warning", "a request without the HmacSHA256 algorithm header was accepted"),
    "delta_corrupted": ("error", "a field patched from *.updated.delta events holds an older change than the "
                                 "newest delta applied to it (deltas applied out of order)"),
}


_WITNESS = 12


def _witness(attempt: EpAttempt) -> dict[str, Any]:
    witness: dict[str, Any] = {"request": attempt.seq, "events": [attempt.event_id], "status": attempt.status,
                               "outcome": attempt.outcome, "time": format_utc_datetime(attempt.time),
                               "retry": attempt.retry}
    if attempt.duplicate:
        witness["faults"] = ["duplicate"]
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


def judge_ep(truth: EpTruth, observation: Observation, *, reproduce: str = "", timeout: float = EP_TIMEOUT,
             deltas: Mapping[str, Mapping[DeltaPath, str]] | None = None) -> Verdict:
    """All violations of ``observation`` against ``truth`` (the receiver behind one subscription).

    ``deltas`` (from :func:`delta_states`) are the receivers' delta states, judged when given.
    """
    verdict = Verdict()
    add = verdict.violations.append
    events = truth.events
    genuine = truth.genuine
    rotation = bool(truth.meta.get("rotation"))
    by_event: dict[str, list[EpAttempt]] = {}
    for attempt in genuine:
        by_event.setdefault(attempt.event_id, []).append(attempt)

    def violation(kind: str, message: str, **extra: Any) -> Violation:
        return Violation(kind, EP_VIOLATION_KINDS[kind][0], message, reproduce=reproduce, **extra)

    def witness_for(event_ids: Iterable[str]) -> tuple[Mapping[str, Any], ...]:
        chosen = sorted((a for e in set(event_ids) for a in by_event.get(e, ())), key=lambda a: a.seq)
        return tuple(_witness(a) for a in chosen[:_WITNESS])

    # -- answers to genuine requests -------------------------------------------------------------------
    for attempt in genuine:
        if attempt.outcome == "timeout" or (attempt.status is not None and attempt.latency > timeout):
            add(violation("slow_ack", f"request {attempt.seq} was not answered within {timeout} s",
                          expected=f"2xx within {timeout} s", received=f"{attempt.status or 'no answer'} after "
                          f"{attempt.latency:.3f} s", event_ids=(attempt.event_id,), requests=(_witness(attempt),)))
        elif attempt.status is None or attempt.status >= 500:
            add(violation("server_error", f"request {attempt.seq} broke the receiver", expected="2xx",
                          received=f"HTTP {attempt.status}" if attempt.status else attempt.reason or "no answer",
                          event_ids=(attempt.event_id,), requests=(_witness(attempt),)))
        elif attempt.outcome != SUCCESS and attempt.status != 429:
            kind = "rotation_rejected" if rotation and attempt.status in (400, 401, 403) else "rejected_valid"
            add(violation(kind, f"genuine request {attempt.seq} was refused"
                          + (" during a secret rotation" if kind == "rotation_rejected" else ""),
                          expected="2xx (either signature matches a secret the receiver holds)"
                          if kind == "rotation_rejected" else "2xx",
                          received=f"HTTP {attempt.status}", event_ids=(attempt.event_id,),
                          requests=(_witness(attempt),)))

    if truth.suspension is not None:
        s = truth.suspension
        causes = [a for a in truth.attempts if a.seq in set(s.attempts)]
        add(violation("suspension_risk", s.describe(), expected="no 404, no 3xx, >= 90 % 2xx over any hour",
                      received=", ".join(s.responses), event_ids=tuple(dict.fromkeys(a.event_id for a in causes)),
                      requests=tuple(_witness(a) for a in causes[:_WITNESS])))

    # -- probes ----------------------------------------------------------------------------------------
    applied_set = set(observation.applied)
    for attempt in truth.attempts:
        if attempt.probe is None:
            continue
        probe = EP_PROBES[attempt.probe]
        accepted = attempt.status is not None and 200 <= attempt.status < 300
        applied = attempt.event_id in applied_set
        if probe.expect == "reject" and (accepted or applied):
            add(violation("forged_accepted", f"probe {probe.name} ({probe.description}) was "
                          f"{'accepted' if accepted else 'refused'}{' and applied' if applied else ''}",
                          expected="4xx and nothing applied", received=f"HTTP {attempt.status}",
                          event_ids=(attempt.event_id,), requests=(_witness(attempt),)))
        elif probe.expect == "warn" and accepted:
            add(violation("algorithm_ignored", f"probe {probe.name} ({probe.description}) was accepted",
                          expected="4xx", received=f"HTTP {attempt.status}", event_ids=(attempt.event_id,),
                          requests=(_witness(attempt),)))
        elif probe.expect == "accept" and not accepted:
            add(violation("rotation_rejected", f"probe {probe.name} ({probe.description}) was refused",
                          expected="2xx", received=f"HTTP {attempt.status}" if attempt.status else attempt.reason,
                          event_ids=(attempt.event_id,), requests=(_witness(attempt),)))

    # -- applications ----------------------------------------------------------------------------------
    seen: Counter[str] = Counter()
    newest_applied: dict[str, EpEvent] = {}
    for event_id in observation.applied:
        seen[event_id] += 1
        event = events.get(event_id)
        if seen[event_id] == 2:
            add(violation("duplicate_applied", f"event {event_id} was applied more than once",
                          expected="applied at most once (deduplicate on id)", received="applied again",
                          resource=event.key if event else None, event_ids=(event_id,),
                          requests=witness_for([event_id])))
        if seen[event_id] > 1 or event is None:
            continue
        if event.self_triggered:
            add(violation("self_event_processed", f"{event.key}: applied an event the receiver's own client "
                          f"{event.author!r} caused", expected="dropped (author.type api, identifier = own "
                          "client_id)", received="applied", resource=event.key, event_ids=(event_id,),
                          requests=witness_for([event_id])))
        latest = newest_applied.get(event.key)
        if latest is not None and event.epoch < latest.epoch:
            add(violation("stale_applied", f"{event.key}: an older event was applied after a newer one",
                          expected=f"{_fmt(event, event_id)} ignored (older than {_fmt(latest, latest.event_id)})",
                          received="applied", resource=event.key, event_ids=(latest.event_id, event_id),
                          requests=witness_for([latest.event_id, event_id])))
        if latest is None or event.epoch >= latest.epoch:
            newest_applied[event.key] = event

    # -- final state per resource ----------------------------------------------------------------------
    acknowledged: dict[str, list[EpEvent]] = {}
    for event_id in truth.delivered:
        event = events.get(event_id)
        if event is not None and not event.self_triggered:
            acknowledged.setdefault(event.key, []).append(event)
    ids_by_key: dict[str, list[str]] = {}
    for event in events.values():
        ids_by_key.setdefault(event.key, []).append(event.event_id)
    ties = 0
    for key in sorted(acknowledged):
        delivered = acknowledged[key]
        newest_epoch = max(e.epoch for e in delivered)
        newest = {e.event_id: e for e in delivered if e.epoch == newest_epoch}
        ties += len(newest) > 1
        state = observation.resources.get(key)
        witness = witness_for(ids_by_key.get(key, ()))
        expected = f"state of {', '.join(_fmt(e, i) for i, e in newest.items())}"
        if state is None:
            if any(e.is_removal for e in newest.values()):
                continue
            lost = not any(e in applied_set for e in newest)
            add(violation("event_lost" if lost else "stale_final_state",
                          f"{key}: " + ("the newest delivered event was acknowledged but not applied" if lost
                                        else "applied, then lost"),
                          expected=expected, received="resource absent", resource=key, event_ids=tuple(newest),
                          requests=witness))
            continue
        current = events.get(state.event_id)
        if current is not None and current.epoch >= newest_epoch and (
                state.removed == current.is_removal or state.event_id in newest):
            continue
        if not any(e in applied_set for e in newest) and state.event_id not in newest:
            kind, message = "event_lost", "the newest delivered event was acknowledged but not applied"
        elif all(e.is_removal for e in newest.values()) and not state.removed:
            kind, message = "resurrected", "deleted by the newest event, yet present"
        elif current is None or current.epoch < newest_epoch:
            kind, message = "stale_final_state", "the current state is older than the newest delivered event"
        else:
            continue
        add(violation(kind, f"{key}: {message}", expected=expected,
                      received=f"{'removed' if state.removed else 'present'} with {_fmt(current, state.event_id)}",
                      resource=key, event_ids=(*newest, state.event_id), requests=witness))

    # -- delta states ----------------------------------------------------------------------------------
    applied_deltas: dict[str, list[EpEvent]] = {}  # per resource, each applied delta once, in order
    all_deltas: dict[str, list[EpEvent]] = {}
    if deltas:
        for event_id in dict.fromkeys(observation.applied):
            event = events.get(event_id)
            if event is not None and event.changes and event.key in deltas:
                applied_deltas.setdefault(event.key, []).append(event)
        for event in events.values():
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
        add(violation("delta_corrupted", f"{key}: {len(wrong)} field(s) hold an older delta's value than the "
                      "newest delta applied to them", expected=expected, received=received, resource=key,
                      event_ids=tuple(dict.fromkeys([*newer, *older])), requests=witness_for([*newer, *older])))

    # -- content, for receivers that re-fetch and report the data they hold (with the mock REST API) -----
    for finding, key, message, expected, received in content_findings(truth.content, observation):
        add(violation(finding, message, expected=expected, received=received, resource=key,
                      requests=witness_for(ids_by_key.get(key, ()))))

    latencies = [a.latency for a in genuine if a.status is not None]
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
            "responses": list(truth.suspension.responses), "enforced": truth.suspension.enforced},
        "min_rate": min((rate for _, rate in truth.rates), default=None),
        "resources_judged": len(acknowledged),
        "applied": len(observation.applied),
        "ties": ties,
        "delta_states_judged": len(deltas or {}),
        "latency_p50": percentile(latencies, 0.50),
        "latency_p95": percentile(latencies, 0.95),
    }
    verdict.violations.sort(key=lambda v: (v.severity != "error", v.kind, v.resource or ""))
    return verdict


def format_ep_verdict(verdict: Verdict, truth: EpTruth, *, limit: int = 20) -> str:
    """The subscription's fate first (suspended or not, and when), then the usual failure anatomy."""
    if truth.suspension is not None:
        head = truth.suspension.describe()
    else:
        head = "the subscription stayed active (no 404, no 3xx, success rate >= 90 % over every hour)"
    dropped = truth.dropped()
    lines = [head[0].upper() + head[1:] + ".",
             f"{len(truth.events)} events, {len(truth.genuine)} requests, {len(truth.delivered)} delivered"
             + (f", lost by the platform: {', '.join(f'{k} {v}' for k, v in sorted(dropped.items()))}"
                if dropped else "") + ".",
             format_violations(verdict, limit=limit),
             "PASS" if verdict.passed else "FAIL"]
    return "\n".join(lines)
