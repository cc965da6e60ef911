"""The oracle core: one detector per violation family, shared by both wire profiles.

Each detector reads a :class:`~.history.History` and the receiver's :class:`~.observation.Observation`
and yields the violations of its family, built by the profile's factory (which knows each kind's severity
and the reproduce line). A profile's oracle is the list of detectors it runs (Elle's style: one checker
per anomaly, combined per workload), plus its own where its wire has more to judge.

The properties (events-api-facts.md section 6, event-platform-facts.md sections 3 and 6): answer in time
and never break; refuse what is forged, accept what is genuine; apply each event at most once; never apply
an older event after a newer one; end with the newest acknowledged event's state per resource (any of the
newest on a tie of the second-precision time). A correct receiver of any legitimate design passes them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from .content import content_findings
from .history import History
from .observation import Observation
from .verdict import Violation

__all__ = [
    "DETECTORS",
    "ViolationFactory",
    "answers",
    "applications",
    "content",
    "count_ties",
    "final_state",
    "own_events",
    "probes",
]


class ViolationFactory(Protocol):
    """``violation(kind, message, **extra)``: a :class:`Violation` with the kind's severity and the reproduce line."""

    def __call__(self, kind: str, message: str, **extra: Any) -> Violation: ...


Detector = Callable[[History, Observation, ViolationFactory], Iterator[Violation]]


def answers(history: History, observation: Observation, violation: ViolationFactory) -> Iterator[Violation]:
    """``slow_ack``, ``server_error`` and the refusals of genuine requests (``rejected_valid``...)."""
    for request in history.requests:
        timeout = history.timeout if request.deadline is None else request.deadline
        name = request.label or f"request {request.seq}"
        if request.timed_out or (request.status is not None and request.latency > timeout):
            yield violation("slow_ack", f"{name} was not answered within {timeout} s",
                            expected=history.answer_expected.format(timeout=timeout),
                            received=f"{'no answer' if request.status is None else request.status} after "
                                     f"{request.latency:.3f} s",
                            event_ids=request.event_ids, requests=(request.witness,))
        elif request.broken:
            probe = f" (probe {request.probe.name})" if request.probe is not None else ""
            yield violation("server_error", f"{name}{probe} broke the receiver",
                            expected=request.expected or history.broken_expected, received=request.answer(),
                            event_ids=request.event_ids, requests=(request.witness,))
        elif request.probe is None and request.refusal is not None:
            refusal = request.refusal
            yield violation(refusal.kind, f"{request.label or f'genuine request {request.seq}'} was refused"
                            f"{refusal.suffix}", expected=refusal.expected, received=f"HTTP {request.status}",
                            event_ids=request.event_ids, requests=(request.witness,))


def probes(history: History, observation: Observation, violation: ViolationFactory) -> Iterator[Violation]:
    """Probes answered against their rule: forged or replayed requests accepted or applied, a missing
    algorithm header accepted, a validly signed rotation probe refused; a validly signed envelope answered
    2xx without its valid events applied (``event_lost``), or refused when it must be taken."""
    applied_set = set(observation.applied)
    for request in history.requests:
        rule = request.probe
        if rule is None or rule.expect == "any":
            continue
        accepted = request.accepted
        applied = [event_id for event_id in request.event_ids if event_id in applied_set]
        what = f"probe {rule.name} ({rule.description}) was"
        if rule.expect in ("robust_apply", "accept_apply"):
            if request.broken or request.timed_out:
                continue  # answers() names it: server_error or slow_ack
            missing = tuple(event_id for event_id in rule.must_apply if event_id not in applied_set)
            if accepted and missing:
                yield violation("event_lost", f"{what} accepted without applying {len(missing)} of its "
                                f"{len(rule.must_apply)} valid events",
                                expected="every valid event applied (a 2xx says the receiver took the request)",
                                received=f"HTTP {request.status}, not applied: {', '.join(missing)}",
                                event_ids=missing, requests=(request.witness,))
            elif not accepted and rule.expect == "accept_apply":
                yield violation(rule.kind, f"{what} refused", expected="2xx, every event applied",
                                received=request.answer(), event_ids=request.event_ids,
                                requests=(request.witness,))
            continue
        if rule.expect == "reject" and (accepted or applied):
            yield violation(rule.kind, f"{what} {'accepted' if accepted else 'refused'}"
                            f"{' and applied' if applied else ''}", expected="4xx and nothing applied",
                            received=f"HTTP {request.status}"
                            + (f", applied {len(applied)} event(s)" if applied else ""),
                            event_ids=tuple(applied) or request.event_ids, requests=(request.witness,))
        elif rule.expect == "warn" and accepted:
            yield violation(rule.kind, f"{what} accepted", expected="4xx", received=f"HTTP {request.status}",
                            event_ids=request.event_ids, requests=(request.witness,))
        elif rule.expect == "accept" and not accepted:
            yield violation(rule.kind, f"{what} refused", expected="2xx", received=request.answer(),
                            event_ids=request.event_ids, requests=(request.witness,))


def applications(history: History, observation: Observation, violation: ViolationFactory) -> Iterator[Violation]:
    """``duplicate_applied`` (an id applied twice) and ``stale_applied`` (an older event applied after a newer
    one of the same resource; a tie of the second-precision time is never stale)."""
    seen: Counter[str] = Counter()
    newest_applied: dict[str, Any] = {}
    for event_id in observation.applied:
        seen[event_id] += 1
        event = history.events.get(event_id)
        if seen[event_id] == 2:
            yield violation("duplicate_applied", f"event {event_id} was applied more than once",
                            expected=history.duplicate_expected, received="applied again",
                            resource=event.key if event else None, event_ids=(event_id,),
                            requests=history.witness_for([event_id]))
        if seen[event_id] > 1 or event is None:
            continue
        latest = newest_applied.get(event.key)
        if latest is not None and event.epoch < latest.epoch:
            yield violation("stale_applied", f"{event.key}: an older event was applied after a newer one",
                            expected=f"{event.shown} ignored (older than {latest.shown})", received="applied",
                            resource=event.key, event_ids=(latest.event_id, event_id),
                            requests=history.witness_for([latest.event_id, event_id]))
        if latest is None or event.epoch >= latest.epoch:
            newest_applied[event.key] = event


def own_events(history: History, observation: Observation, violation: ViolationFactory) -> Iterator[Violation]:
    """``self_event_processed``: an event the receiver's own client authored was applied."""
    for event_id in dict.fromkeys(observation.applied):
        event = history.events.get(event_id)
        if event is not None and event.own:
            yield violation("self_event_processed", f"{event.key}: applied an event the receiver's own client "
                            f"{event.author!r} caused",
                            expected="dropped (author.type api, identifier = own client_id)", received="applied",
                            resource=event.key, event_ids=(event_id,), requests=history.witness_for([event_id]))


def final_state(history: History, observation: Observation, violation: ViolationFactory) -> Iterator[Violation]:
    """Per resource with an acknowledged event: ``event_lost``, ``resurrected`` or ``stale_final_state`` when
    the state reported is not that of the newest acknowledged event (any of them on a tie)."""
    applied_set = set(observation.applied)
    for key, delivered in history.acknowledged.items():
        newest_epoch = max(e.epoch for e in delivered)
        newest = {e.event_id: e for e in delivered if e.epoch == newest_epoch}
        state = observation.resources.get(key)
        expected = f"state of {', '.join(e.shown for e in newest.values())}"
        if state is None:
            if any(e.removal for e in newest.values()):
                continue
            lost = not any(e in applied_set for e in newest)
            yield violation("event_lost" if lost else "stale_final_state",
                            f"{key}: " + ("the newest delivered event was acknowledged but not applied" if lost
                                          else "applied, then lost to an older removal"),
                            expected=expected, received="resource absent", resource=key,
                            event_ids=tuple(newest), requests=history.key_witness(key))
            continue
        current = history.events.get(state.event_id)
        if current is not None and current.epoch >= newest_epoch and (
                state.removed == current.removal or state.event_id in newest):
            continue  # up to date (a tie is fine either way)
        if not any(e in applied_set for e in newest) and state.event_id not in newest:
            kind, message = "event_lost", "the newest delivered event was acknowledged but not applied"
            received = f"state of {history.shown(state.event_id)}"
        elif all(e.removal for e in newest.values()) and not state.removed:
            kind, message = "resurrected", "removed by the newest event, yet present"
            expected = f"removed by {', '.join(newest)}"
            received = f"present with {history.shown(state.event_id)}"
        elif current is None or current.epoch < newest_epoch:
            kind, message = "stale_final_state", "the current state is older than the newest delivered event"
            received = f"state of {history.shown(state.event_id)}"
        else:
            continue
        yield violation(kind, f"{key}: {message}", expected=expected, received=received, resource=key,
                        event_ids=(*newest, state.event_id), requests=history.key_witness(key))


def content(history: History, observation: Observation, violation: ViolationFactory) -> Iterator[Violation]:
    """``stale_content`` and ``removal_not_propagated``, for receivers that report the data they hold."""
    for finding, key, message, expected, received in content_findings(history.content, observation):
        yield violation(finding, message, expected=expected, received=received, resource=key,
                        requests=history.key_witness(key))


def count_ties(history: History) -> int:
    """Resources whose newest acknowledged events share their second: any of them is a correct state."""
    ties = 0
    for delivered in history.acknowledged.values():
        newest_epoch = max(e.epoch for e in delivered)
        ties += sum(1 for e in {e.event_id: e for e in delivered}.values() if e.epoch == newest_epoch) > 1
    return ties


#: The detectors every profile runs, in this order.
DETECTORS: tuple[Detector, ...] = (answers, probes, applications, final_state, content)
