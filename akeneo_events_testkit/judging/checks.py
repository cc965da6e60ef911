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

from ..transport.timing import Timing
from .content import content_findings
from .history import History, HistoryRequest
from .observation import Observation
from .verdict import Violation, latency_spread

__all__ = [
    "DETECTORS",
    "SLOW_CONFIRMATIONS",
    "ViolationFactory",
    "answers",
    "applications",
    "content",
    "count_ties",
    "final_state",
    "is_confirmed",
    "own_events",
    "probes",
    "slow_answers",
]


class ViolationFactory(Protocol):
    """``violation(kind, message, **extra)``: a :class:`Violation` with the kind's severity and the reproduce
    line; ``severity=`` overrides the kind's (an unconfirmed ``slow_ack`` is a warning)."""

    def __call__(self, kind: str, message: str, *, severity: str | None = None, **extra: Any) -> Violation: ...


Detector = Callable[[History, Observation, ViolationFactory], Iterator[Violation]]


#: Slow answers in one run that confirm each other when none was timed in the handler: "several requests".
SLOW_CONFIRMATIONS = 3

#: How each timing is told in an unconfirmed ``slow_ack``.
_UNSEEN = {Timing.EXCHANGE.value: "timed over the network, where a loaded machine can slow the receiver unseen",
           Timing.ROUGH.value: "timed without run-queue statistics, so the kit's waits for a CPU count"}


def slow_answers(history: History) -> list[HistoryRequest]:
    """The requests not answered within the timeout: none, or answered late."""
    timeout = history.timeout
    return [r for r in history.requests if r.timed_out or (r.status is not None and r.latency > timeout)]


def is_confirmed(request: HistoryRequest, slow: int) -> bool:
    """Whether a slow ``request`` is the receiver's for sure, in a run with ``slow`` slow answers."""
    return slow >= SLOW_CONFIRMATIONS or request.timing == Timing.HANDLER.value


def answers(history: History, observation: Observation, violation: ViolationFactory) -> Iterator[Violation]:
    """``slow_ack``, ``server_error`` and the refusals of genuine requests (``rejected_valid``...).

    Latency is the receiver's time, the kit's own stalls left out (:mod:`akeneo_events_testkit.transport.timing`).
    A slow answer is an error once it is *confirmed*: timed in an in-process handler (``handler`` timing, no
    load outside the receiver counts), or one of at least :data:`SLOW_CONFIRMATIONS` slow answers in the run.
    Otherwise it is a warning that names the latency percentiles: over HTTP a loaded machine can slow a
    receiver the kit does not see, and the verdict must not depend on the machine. The deadline itself is
    the PIM's (events-api-facts.md section 1: 0.5 s in total, no retry; event-platform-facts.md section 3: 5 s).
    """
    timeout = history.timeout
    slow = {r.seq for r in slow_answers(history)}
    for request in history.requests:
        if request.seq in slow:
            confirmed = is_confirmed(request, len(slow))
            note = "" if confirmed else (
                f" (unconfirmed: {len(slow)} slow answer(s) of {len(history.requests)}, "
                f"{_UNSEEN.get(request.timing, _UNSEEN[Timing.EXCHANGE.value])}; {SLOW_CONFIRMATIONS} confirm it; "
                f"latency {latency_spread([r.latency for r in history.requests if r.measured])})")
            yield violation("slow_ack", f"request {request.seq} was not answered within {timeout} s{note}",
                            severity=None if confirmed else "warning",
                            expected=history.answer_expected.format(timeout=timeout),
                            received=f"{'no answer' if request.status is None else request.status} after "
                                     f"{request.latency:.3f} s",
                            event_ids=request.event_ids, requests=(request.witness,))
        elif request.broken:
            probe = f" (probe {request.probe.name})" if request.probe is not None else ""
            yield violation("server_error", f"request {request.seq}{probe} broke the receiver",
                            expected=history.broken_expected, received=request.answer(),
                            event_ids=request.event_ids, requests=(request.witness,))
        elif request.probe is None and request.refusal is not None:
            refusal = request.refusal
            yield violation(refusal.kind, f"genuine request {request.seq} was refused{refusal.suffix}",
                            expected=refusal.expected, received=f"HTTP {request.status}",
                            event_ids=request.event_ids, requests=(request.witness,))


def probes(history: History, observation: Observation, violation: ViolationFactory) -> Iterator[Violation]:
    """Probes answered against their rule: forged or replayed requests accepted or applied, a missing
    algorithm header accepted, a validly signed rotation probe refused."""
    applied_set = set(observation.applied)
    for request in history.requests:
        rule = request.probe
        if rule is None or rule.expect == "any":
            continue
        accepted = request.accepted
        applied = [event_id for event_id in request.event_ids if event_id in applied_set]
        what = f"probe {rule.name} ({rule.description}) was"
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
