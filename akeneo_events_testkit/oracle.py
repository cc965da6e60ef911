"""Judge a receiver: compare what it observed with the emitter's ground truth, naming each violation.

A correct receiver (events-api-facts.md section 6) verifies the signature over the raw body, deduplicates
by ``event_id`` and ignores outdated events by ``event_datetime``. The oracle never flags such a receiver:
``event_datetime`` has second precision, so when the newest events of a resource tie, any of them is a
correct final state, and applying one tie after another is not stale. Ties met are a statistic.

Violation kinds are stable names used in reports and by users' CI (see README's glossary).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .delivery import DEFAULT_TIMEOUT, Outcome
from .errors import KitError
from .model import content_digest
from .probes import PROBE_KINDS
from .truth import ContentExpectation, GeneratedEvent, GroundTruth, RequestRecord, percentile

__all__ = [
    "VIOLATION_KINDS",
    "InvalidObservation",
    "Observation",
    "Verdict",
    "Violation",
    "content_findings",
    "judge",
    "parse_observation",
]

#: kind -> (severity, one-line meaning)
VIOLATION_KINDS: dict[str, tuple[str, str]] = {
    "duplicate_applied": ("error", "an event was applied more than once"),
    "stale_applied": ("error", "an event was applied after a strictly newer event of its resource"),
    "stale_final_state": ("error", "a resource's current event is older than the newest delivered one"),
    "resurrected": ("error", "the newest delivered event removes the resource, yet it is present"),
    "event_lost": ("error", "the newest delivered event was acknowledged but is not reflected"),
    "forged_accepted": ("error", "a request with a bad or missing signature got 2xx or was applied"),
    "replay_accepted": ("warning", "a validly signed request with a stale or future timestamp was accepted"),
    "rejected_valid": ("error", "a genuine PIM request was answered with a non-2xx status"),
    "server_error": ("error", "a 5xx answer or a broken connection"),
    "slow_ack": ("error", "answered after the PIM's 0.5 s timeout"),
    "stale_content": ("error", "the data a receiver holds is older than what the PIM served when notifying it"),
    "removal_not_propagated": ("error", "the resource was removed, yet the receiver still holds its data"),
}

_WITNESS_REQUESTS = 12


class InvalidObservation(KitError, ValueError):
    """The receiver's observation does not follow the contract (README: observation contract)."""


@dataclass(frozen=True)
class ResourceState:
    event_id: str
    removed: bool
    has_data: bool = False
    data: Any = None


@dataclass(frozen=True)
class Observation:
    """What the receiver says it did: every application in order, and the current event per resource."""

    applied: tuple[str, ...]
    resources: Mapping[str, ResourceState]


def parse_observation(data: Any) -> Observation:
    """Check ``data`` against the observation contract; raises :class:`InvalidObservation`."""
    if not isinstance(data, Mapping):
        raise InvalidObservation(f'the observation must be a JSON object {{"applied": [...], "resources": {{...}}}}, '
                                 f"got {type(data).__name__}")
    applied = data.get("applied")
    resources = data.get("resources", {})
    if not isinstance(applied, list) or not all(isinstance(item, str) for item in applied):
        raise InvalidObservation('"applied" must be a list of event_id strings')
    if not isinstance(resources, Mapping):
        raise InvalidObservation('"resources" must be an object keyed by resource key')
    states: dict[str, ResourceState] = {}
    for key, value in resources.items():
        if not isinstance(value, Mapping) or not isinstance(value.get("event_id"), str):
            raise InvalidObservation(f'resources[{key!r}] must be {{"event_id": str, "removed": bool}}')
        removed = value.get("removed", False)
        if not isinstance(removed, bool):
            raise InvalidObservation(f'resources[{key!r}].removed must be true or false')
        data = value.get("data")
        if "data" in value and data is not None and not isinstance(data, Mapping):
            raise InvalidObservation(f"resources[{key!r}].data must be the resource object the receiver holds")
        states[str(key)] = ResourceState(value["event_id"], removed, "data" in value, data)
    return Observation(tuple(applied), states)


def content_findings(content: Mapping[str, ContentExpectation], observation: Observation
                     ) -> Iterator[tuple[str, str, str, str, str]]:
    """``(kind, key, message, expected, received)`` for each resource whose reported data is wrong.

    Judged only when the receiver reports data (``"data"`` per resource, README: observation contract):
    what it holds must be one of the states the PIM served while notifying it of the newest event (or of
    a later delivery), or absent when the PIM had removed the resource.
    """
    if not any(state.has_data for state in observation.resources.values()):
        return
    for key, expectation in content.items():
        state = observation.resources.get(key)
        if state is not None and not state.has_data:
            continue
        holds = None if state is None or state.removed else content_digest(state.data)
        if holds in expectation.digests:
            continue
        if all(d is None for d in expectation.digests):
            yield ("removal_not_propagated", key, f"{key}: removed in the PIM, still held by the receiver",
                   "absent or removed", "present with data")
        else:
            yield ("stale_content", key, f"{key}: the data held is not what the PIM had when it notified",
                   "the resource as served when its newest event was delivered (or later)",
                   "absent" if holds is None else "older or other data")


@dataclass(frozen=True)
class Violation:
    """One way the receiver got it wrong."""

    kind: str
    severity: str
    message: str
    expected: str = ""
    received: str = ""
    resource: str | None = None
    event_ids: tuple[str, ...] = ()
    requests: tuple[Mapping[str, Any], ...] = ()
    reproduce: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "severity": self.severity, "message": self.message, "expected": self.expected,
            "received": self.received, "resource": self.resource, "event_ids": list(self.event_ids),
            "witness": [dict(r) for r in self.requests], "reproduce": self.reproduce,
        }


@dataclass
class Verdict:
    """The oracle's judgement of one run."""

    violations: list[Violation] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    strict: bool = False

    @property
    def errors(self) -> list[Violation]:
        return [v for v in self.violations if v.severity == "error"]

    @property
    def passed(self) -> bool:
        return not self.errors

    def counts(self) -> Counter[str]:
        return Counter(v.kind for v in self.violations)


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


def format_violations(verdict: Verdict, *, limit: int = 20) -> str:
    """The failure anatomy: headline with counts, expected vs received, witness, ``Reproduce with:``."""
    if not verdict.violations:
        return "No violations."
    counts = verdict.counts()
    errors = len(verdict.errors)
    lines = [f"{errors} error(s), {len(verdict.violations) - errors} warning(s): "
             + ", ".join(f"{kind} x{count}" for kind, count in sorted(counts.items()))]
    for index, v in enumerate(verdict.violations[:limit], 1):
        lines.append("")
        lines.append(f"{index}. [{v.severity}] {v.kind}: {v.message}")
        if v.expected:
            lines.append(f"   expected: {v.expected}")
        if v.received:
            lines.append(f"   received: {v.received}")
        if v.requests:
            lines.append("   witness (requests in send order):")
            for witness in v.requests:
                extra = ""
                if witness.get("faults"):
                    extra += f" faults={','.join(witness['faults'])}"
                if witness.get("probe"):
                    extra += f" probe={witness['probe']}"
                events = witness["events"]
                shown = ", ".join(events[:4]) + (f", ... ({len(events)} events)" if len(events) > 4 else "")
                lines.append(f"     #{witness['request']} -> {witness['status'] or witness['outcome']}"
                             f"{extra} [{shown}]")
    if len(verdict.violations) > limit:
        lines.append(f"\n... and {len(verdict.violations) - limit} more (see the JSON report)")
    reproduce = next((v.reproduce for v in verdict.violations if v.reproduce), "")
    if reproduce:
        lines.append(f"\nReproduce with: {reproduce}")
    return "\n".join(lines)


def expected_kinds() -> Sequence[str]:
    return list(VIOLATION_KINDS)
