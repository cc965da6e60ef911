"""Judge a receiver: compare what it observed with the emitter's ground truth, naming each violation.

A correct receiver (events-api-facts.md section 6) verifies the signature over the raw body, deduplicates
by ``event_id`` and ignores outdated events by ``event_datetime``. The oracle never flags such a receiver:
``event_datetime`` has second precision, so when the newest events of a resource tie, any of them is a
correct final state, and applying one tie after another is not stale. Ties met are a statistic.

Violation kinds are stable names used in reports and by users' CI (see README's glossary).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..judging.content import content_findings
from ..judging.observation import Observation
from ..judging.verdict import KIND_GLOSSARY, Verdict, Violation, percentile
from ..transport.sender import DEFAULT_TIMEOUT, Outcome
from .probes import PROBE_KINDS
from .truth import GeneratedEvent, GroundTruth, RequestRecord

__all__ = [
    "VIOLATION_KINDS",
    "judge",
]


#: kind -> (severity, one-line meaning): the Events API uses the shared glossary as it is.
VIOLATION_KINDS: dict[str, tuple[str, str]] = dict(KIND_GLOSSARY)


_WITNESS_REQUESTS = 12


def _request_witness(record: RequestRecord) -> dict[str, Any]:
    witness: dict[str, Any] = {"request": record.seq, "events": list(record.event_ids), "status": record.status,
                               "outcome": record.outcome.value}
    if record.faults:
        witness["faults"] = list(record.faults)
    if record.probe:
        witness["probe"] = record.probe
    if record.reason:
        witness["reason"] = record.reason
    return witness


def _fmt(event: GeneratedEvent | None, event_id: str) -> str:
    if event is None:
        return f"{event_id} (not an event the PIM sent)"
    return f"{event.action.value} {event.event_id} at {event.epoch}"


def judge(
    truth: GroundTruth,
    observation: Observation,
    *,
    subscription: str | None = None,
    strict: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    reproduce: str = "",
) -> Verdict:
    """All violations of ``observation`` against ``truth`` for one subscription's receiver."""
    verdict = Verdict(strict=strict)
    events = truth.events
    requests = [r for r in truth.requests if subscription is None or r.subscription == subscription]
    genuine = [r for r in requests if r.probe is None]
    add = verdict.violations.append

    def violation(kind: str, message: str, **extra: Any) -> Violation:
        severity = VIOLATION_KINDS[kind][0]
        if kind == "replay_accepted" and strict:
            severity = "error"
        return Violation(kind, severity, message, reproduce=reproduce, **extra)

    carried_by: dict[str, list[RequestRecord]] = {}
    for record in genuine:
        for event_id in record.event_ids:
            carried_by.setdefault(event_id, []).append(record)

    def witness_for(event_ids: Iterable[str]) -> tuple[Mapping[str, Any], ...]:
        seqs: set[int] = set()
        for event_id in event_ids:
            seqs.update(r.seq for r in carried_by.get(event_id, ()))
        chosen = [r for r in requests if r.seq in seqs][:_WITNESS_REQUESTS]
        return tuple(_request_witness(r) for r in chosen)

    ids_by_key: dict[str, list[str]] = {}

    def key_witness(key: str) -> tuple[Mapping[str, Any], ...]:
        if not ids_by_key:
            for event_id, event in events.items():
                ids_by_key.setdefault(event.key, []).append(event_id)
        return witness_for(ids_by_key.get(key, ()))

    # -- per request: transport-level properties ------------------------------------------------------
    for record in requests:
        if (record.outcome is Outcome.FAILED and record.reason == "timeout") or (
            record.status is not None and record.latency > timeout
        ):
            add(violation("slow_ack", f"request {record.seq} was not answered within {timeout} s",
                          expected=f"an answer within {timeout} s",
                          received=f"{'no answer' if record.status is None else record.status} after "
                                   f"{record.latency:.3f} s",
                          event_ids=record.event_ids, requests=(_request_witness(record),)))
        elif record.outcome is Outcome.FAILED or (record.status is not None and record.status >= 500):
            received = f"HTTP {record.status}" if record.status is not None else record.reason or "no answer"
            add(violation("server_error", f"request {record.seq}"
                          f"{' (probe ' + record.probe + ')' if record.probe else ''} broke the receiver",
                          expected="2xx or 4xx", received=received, event_ids=record.event_ids,
                          requests=(_request_witness(record),)))
        elif record.probe is None and record.status is not None and not 200 <= record.status < 300 \
                and "replay" not in record.faults:
            add(violation("rejected_valid", f"genuine request {record.seq} was refused",
                          expected="2xx", received=f"HTTP {record.status}", event_ids=record.event_ids,
                          requests=(_request_witness(record),)))

    # -- probes ------------------------------------------------------------------------------------------
    applied_set = set(observation.applied)
    for record in requests:
        if record.probe is None:
            continue
        kind = PROBE_KINDS[record.probe]
        accepted = record.status is not None and 200 <= record.status < 300
        applied_ids = [e for e in record.event_ids if e in applied_set]
        if kind.family == "robustness" or not (accepted or applied_ids):
            continue
        name = "forged_accepted" if kind.family == "authenticity" else "replay_accepted"
        add(violation(name, f"probe {record.probe} ({kind.description}) was "
                      f"{'accepted' if accepted else 'refused'}{' and applied' if applied_ids else ''}",
                      expected="4xx and nothing applied", received=f"HTTP {record.status}"
                      + (f", applied {len(applied_ids)} event(s)" if applied_ids else ""),
                      event_ids=tuple(applied_ids) or record.event_ids, requests=(_request_witness(record),)))

    # -- applications: duplicates and staleness ----------------------------------------------------------
    seen: Counter[str] = Counter()
    newest_applied: dict[str, GeneratedEvent] = {}
    for event_id in observation.applied:
        seen[event_id] += 1
        event = events.get(event_id)
        if seen[event_id] == 2:
            add(violation("duplicate_applied", f"event {event_id} was applied more than once",
                          expected="applied at most once", received="applied again",
                          resource=event.key if event else None, event_ids=(event_id,),
                          requests=witness_for([event_id])))
        if seen[event_id] > 1 or event is None:
            continue
        latest = newest_applied.get(event.key)
        if latest is not None and event.epoch < latest.epoch:
            add(violation("stale_applied", f"{event.key}: an older event was applied after a newer one",
                          expected=f"{_fmt(event, event_id)} ignored (older than {latest.event_id} at "
                                   f"{latest.epoch})",
                          received="applied", resource=event.key, event_ids=(latest.event_id, event_id),
                          requests=witness_for([latest.event_id, event_id])))
        if latest is None or event.epoch >= latest.epoch:
            newest_applied[event.key] = event

    # -- final state per resource ------------------------------------------------------------------------
    acknowledged: dict[str, list[GeneratedEvent]] = {}
    for record in genuine:
        if not record.acknowledged or (record.status is not None and not 200 <= record.status < 300):
            continue
        for event_id in record.event_ids:
            event = events.get(event_id)
            if event is not None:
                acknowledged.setdefault(event.key, []).append(event)
    ties = 0
    for key, delivered in acknowledged.items():
        newest_epoch = max(e.epoch for e in delivered)
        newest = {e.event_id: e for e in delivered if e.epoch == newest_epoch}
        if len(newest) > 1:
            ties += 1
        state = observation.resources.get(key)
        current = events.get(state.event_id) if state is not None else None
        all_removals = all(e.is_removal for e in newest.values())
        any_removal = any(e.is_removal for e in newest.values())
        if state is None:
            if any_removal:
                continue
            expected = f"state of {', '.join(_fmt(e, i) for i, e in newest.items())}"
            if not any(e in applied_set for e in newest):
                add(violation("event_lost", f"{key}: the newest delivered event was acknowledged but not applied",
                              expected=expected, received="resource absent", resource=key,
                              event_ids=tuple(newest), requests=key_witness(key)))
            else:
                add(violation("stale_final_state", f"{key}: applied, then lost to an older removal",
                              expected=expected, received="resource absent", resource=key,
                              event_ids=tuple(newest), requests=key_witness(key)))
            continue
        if current is not None and current.epoch >= newest_epoch and (
            state.removed == current.is_removal or state.event_id in newest
        ):
            continue  # up to date (a tie is fine either way)
        if not any(e in applied_set for e in newest) and state.event_id not in newest:
            add(violation("event_lost", f"{key}: the newest delivered event was acknowledged but not applied",
                          expected=f"state of {', '.join(_fmt(e, i) for i, e in newest.items())}",
                          received=f"state of {_fmt(current, state.event_id)}", resource=key,
                          event_ids=(*newest, state.event_id), requests=key_witness(key)))
        elif all_removals and not state.removed:
            add(violation("resurrected", f"{key}: removed by the newest event, yet present",
                          expected=f"removed by {', '.join(newest)}",
                          received=f"present with {_fmt(current, state.event_id)}", resource=key,
                          event_ids=(*newest, state.event_id), requests=key_witness(key)))
        elif current is None or current.epoch < newest_epoch:
            add(violation("stale_final_state", f"{key}: the current state is older than the newest delivered event",
                          expected=f"state of {', '.join(_fmt(e, i) for i, e in newest.items())}",
                          received=f"state of {_fmt(current, state.event_id)}", resource=key,
                          event_ids=(*newest, state.event_id), requests=key_witness(key)))

    # -- content, for receivers that report the data they hold (README: observation contract) -----------
    for finding, key, message, expected, received in content_findings(truth.content, observation):
        add(violation(finding, message, expected=expected, received=received, resource=key,
                      requests=key_witness(key)))

    latencies = [r.latency for r in requests if r.status is not None]
    verdict.stats = {
        "events_generated": len(events),
        "requests": len(genuine),
        "probes": len(requests) - len(genuine),
        "events_acknowledged": sum(len(v) for v in acknowledged.values()),
        "resources_judged": len(acknowledged),
        "applied": len(observation.applied),
        "ties": ties,
        "outcomes": dict(Counter(r.outcome.value for r in requests)),
        "faults": dict(Counter(f for r in genuine for f in r.faults)),
        "latency_p50": percentile(latencies, 0.50),
        "latency_p95": percentile(latencies, 0.95),
        "latency_p99": percentile(latencies, 0.99),
        "dropped_by_pim": dict(truth.dropped),
    }
    verdict.violations.sort(key=lambda v: (v.severity != "error", v.kind, v.resource or ""))
    return verdict


def expected_kinds() -> Sequence[str]:
    return list(VIOLATION_KINDS)
