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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any, Protocol

from ..errors import UsageError
from ..transport.timing import Timing
from .content import content_findings
from .history import History, HistoryRequest
from .observation import Observation
from .ordinals import Bitmap
from .verdict import Violation, harm_rank, latency_spread, percentile

__all__ = [
    "CONCURRENT_HAZARDS",
    "DESIGNS",
    "DETECTORS",
    "HAZARDS",
    "REFETCH_HARMLESS",
    "REFETCH_NEEDS_API",
    "REST_LATENCY_NEEDS_API",
    "SLOW_CONFIRMATIONS",
    "AppliedCounter",
    "AppliedIndex",
    "ViolationFactory",
    "answers",
    "applications",
    "applied_index",
    "check_design",
    "check_rest_latency",
    "content",
    "core_stats",
    "count_ties",
    "design_hint",
    "final_state",
    "finish",
    "for_design",
    "hazard_summary",
    "hazards",
    "is_confirmed",
    "one_per_resource",
    "ordinal_of",
    "out_of_scope",
    "own_events",
    "probe_unanswered",
    "probes",
    "scope_stats",
    "scope_summary",
    "slow_answers",
    "unanswered_probes",
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


def ordinal_of(history: History) -> Callable[[str], int | None]:
    """``event_id -> ordinal`` of the history's events: the events' own (the Events API's columns number
    them), else a numbering made once (a plain dict, the Event Platform's)."""
    own = getattr(history.events, "ordinal", None)
    if own is not None:
        return own  # type: ignore[no-any-return]
    numbers = history._cache.get("ordinals")
    if numbers is None:
        numbers = history._cache["ordinals"] = {event_id: n for n, event_id in enumerate(history.events)}
    return numbers.get


class AppliedIndex:
    """``observation.applied`` as the detectors ask about it (membership, first applications, repeats) in a
    bit per event (:class:`~.ordinals.Bitmap`, by ordinal) instead of sets and counters of id strings
    (memory: BENCHMARKS.md section 5); ids that are no events of the run are kept as they are."""

    def __init__(self, ordinal: Callable[[str], int | None], applied: Iterable[str]) -> None:
        self._ordinal = ordinal
        self._applied = applied
        self._bits = Bitmap()
        self._others: set[str] = set()
        for event_id in applied:
            number = ordinal(event_id)
            if number is None:
                self._others.add(event_id)
            else:
                self._bits.add(number)

    def __contains__(self, event_id: object) -> bool:
        if not isinstance(event_id, str):
            return False
        number = self._ordinal(event_id)
        return event_id in self._others if number is None else number in self._bits

    def distinct(self) -> Iterator[str]:
        """Each id applied, once, in the order first applied."""
        counter = self.counter()
        return (event_id for event_id in self._applied if counter.add(event_id) == 1)

    def counter(self) -> AppliedCounter:
        return AppliedCounter(self._ordinal)


class AppliedCounter:
    """How many times each id was applied so far: 1, 2, or 3 for "more than twice" (what the detectors
    tell apart), in two bits per event."""

    def __init__(self, ordinal: Callable[[str], int | None]) -> None:
        self._ordinal = ordinal
        self._once, self._twice = Bitmap(), Bitmap()
        self._others: Counter[str] = Counter()

    def add(self, event_id: str) -> int:
        """Count one more application of ``event_id``; how many so far (at most 3)."""
        number = self._ordinal(event_id)
        if number is None:
            self._others[event_id] += 1
            return min(self._others[event_id], 3)
        if not self._once.add(number):
            return 1
        return 3 if self._twice.add(number) else 2


def applied_index(history: History, observation: Observation) -> AppliedIndex:
    """The :class:`AppliedIndex` of ``observation`` against ``history``, made once for all detectors."""
    cached = history._cache.get("applied")
    if cached is not None and cached[0] is observation:
        return cached[1]  # type: ignore[no-any-return]
    index = AppliedIndex(ordinal_of(history), observation.applied)
    history._cache["applied"] = (observation, index)
    return index


def _deadline(history: History, request: HistoryRequest) -> float:
    return history.timeout if request.deadline is None else request.deadline


def slow_answers(history: History) -> list[HistoryRequest]:
    """The requests not answered within their deadline: none, or answered late."""
    return [r for _, r in history.slow()]


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
    slow = {position for position, _ in history.slow()}
    unanswered = unanswered_probes(history)
    for position, request in enumerate(history.requests):
        timeout = _deadline(history, request)
        name = request.label or f"request {request.seq}"
        if position in unanswered:
            continue  # probes() names it: probe_unanswered
        if position in slow:
            confirmed = is_confirmed(request, len(slow))
            note = "" if confirmed else (
                f" (unconfirmed: {len(slow)} slow answer(s) of {len(history.requests)}, "
                f"{_UNSEEN.get(request.timing, _UNSEEN[Timing.EXCHANGE.value])}; {SLOW_CONFIRMATIONS} confirm it; "
                f"latency {latency_spread([r.latency for r in history.requests if r.measured])})")
            yield violation("slow_ack", f"{name} was not answered within {timeout} s{note}",
                            severity=None if confirmed else "warning",
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


def unanswered_probes(history: History) -> set[int]:
    """The position (in ``history.requests``) of each probe not answered in time, when the genuine requests
    all were: the receiver hangs on what it should refuse. When genuine requests are slow too, the receiver
    is slow, one cause, and every slow answer is a ``slow_ack``."""
    slow = history.slow()
    if any(r.probe is None for _, r in slow):
        return set()
    return {position for position, _ in slow}


def probe_unanswered(history: History, request: HistoryRequest, slow: int,
                     violation: ViolationFactory) -> Violation:
    """``probe_unanswered``: a probe not answered within the platform's timeout (0.5 s for the Events API,
    events-api-facts.md section 1; 5 s for the Event Platform, event-platform-facts.md section 3). A timeout
    is a timeout, whatever the request: the platform gives up on it, so a handler that never answers a
    request it refuses hides the refusal, and holds a connection for the whole timeout each time (a flood
    of forged requests exhausts it). Confirmed like ``slow_ack`` (:func:`is_confirmed`): an error when
    timed in the handler or one of several slow answers of the run, else a warning naming the latencies."""
    rule = request.probe
    assert rule is not None
    timeout = _deadline(history, request)
    refuse = rule.expect in ("reject", "warn")
    confirmed = is_confirmed(request, slow)
    held = "without answering" if request.status is None else f"before answering HTTP {request.status}"
    note = "" if confirmed else (
        f" (unconfirmed: {slow} slow answer(s) of {len(history.requests)}, "
        f"{_UNSEEN.get(request.timing, _UNSEEN[Timing.EXCHANGE.value])}; {SLOW_CONFIRMATIONS} confirm it)")
    should, hidden, fix = ("refuse", "refusal", "answer 401 at once") if refuse else (
        "answer", "answer", "answer at once")
    return violation(
        "probe_unanswered",
        f"probe {rule.name} ({rule.description}): the receiver held the connection for {request.latency:.1f} s "
        f"{held} a request it should {should}: a hanging handler hides its {hidden} and holds connections; "
        f"{fix}{note}",
        severity=None if confirmed else "warning",
        expected=f"{'4xx' if refuse else 'an answer'} within {timeout} s",
        received=f"{'no answer' if request.status is None else request.status} after {request.latency:.3f} s",
        event_ids=request.event_ids, requests=(request.witness,))


def probes(history: History, observation: Observation, violation: ViolationFactory) -> Iterator[Violation]:
    """Probes answered against their rule: forged or replayed requests accepted or applied, a missing
    algorithm header accepted, a validly signed rotation probe refused; a validly signed envelope answered
    2xx without its valid events applied (``event_lost``), or refused when it must be taken; a probe not
    answered in time (:func:`probe_unanswered`)."""
    applied_set = applied_index(history, observation)
    slow = history.slow()
    unanswered = unanswered_probes(history)
    for position, request in enumerate(history.requests):
        rule = request.probe
        if rule is not None and position in unanswered:
            yield probe_unanswered(history, request, len(slow), violation)
            if rule.expect != "reject" or not any(e in applied_set for e in request.event_ids):
                continue  # a forged request applied while it hung is forged_accepted too
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
    one of the same resource, re-applications included: a replayed update applied after the removal brings the
    record back; a tie of the second-precision time is never stale)."""
    seen = applied_index(history, observation).counter()
    newest_applied: dict[str, Any] = {}
    for event_id in observation.applied:
        times = seen.add(event_id)
        event = history.events.get(event_id)
        if event is not None and event.out_of_scope:
            continue  # out_of_scope_applied names it: one root cause
        if times == 2:
            yield violation("duplicate_applied", f"event {event_id} was applied more than once",
                            expected=history.duplicate_expected, received="applied again",
                            resource=event.key if event else None, event_ids=(event_id,),
                            requests=history.witness_for([event_id]))
        if event is None:
            continue
        latest = newest_applied.get(event.key)
        if latest is not None and event.epoch < latest.epoch:  # a re-application too: a replay after a removal
            again = " again" if times > 1 else ""
            yield violation("stale_applied", f"{event.key}: an older event was applied{again} after a newer one",
                            expected=f"{event.shown} ignored (older than {latest.shown})", received=f"applied{again}",
                            resource=event.key, event_ids=(latest.event_id, event_id),
                            requests=history.witness_for([latest.event_id, event_id]))
        if latest is None or event.epoch >= latest.epoch:
            newest_applied[event.key] = event


def own_events(history: History, observation: Observation, violation: ViolationFactory) -> Iterator[Violation]:
    """``self_event_processed``: an event the receiver's own client authored was applied."""
    for event_id in applied_index(history, observation).distinct():
        event = history.events.get(event_id)
        if event is not None and event.own:
            yield violation("self_event_processed", f"{event.key}: applied an event the receiver's own client "
                            f"{event.author!r} caused",
                            expected="dropped (author.type api, identifier = own client_id)", received="applied",
                            resource=event.key, event_ids=(event_id,), requests=history.witness_for([event_id]))


def out_of_scope(history: History, observation: Observation, violation: ViolationFactory) -> Iterator[Violation]:
    """``out_of_scope_applied``: an event outside the receiver's declared scope was applied (:mod:`.scope`).
    Removals are left out: their data carries no family, so a scoped receiver cannot tell whose they are, and
    a tombstone holds no data (keeping one for every removal is how it stays safe from late updates)."""
    for event_id in applied_index(history, observation).distinct():
        event = history.events.get(event_id)
        if event is not None and event.out_of_scope and not event.own and not event.removal:
            yield violation("out_of_scope_applied", f"{event.key}: applied an event outside --scope "
                            f"{history.scope}", expected="acknowledged and ignored (outside the declared scope)",
                            received="applied", resource=event.key, event_ids=(event_id,),
                            requests=history.witness_for([event_id]))


def scope_stats(history: History) -> dict[str, Any]:
    """What the scope left out: events generated outside it, and how many of those the receiver was sent."""
    if not history.scope:
        return {"scope": None}
    outside = {event_id for event_id, event in history.events.items() if event.out_of_scope}
    sent = {event_id for request in history.requests if request.probe is None for event_id in request.event_ids}
    return {"scope": history.scope, "ignored_by_scope": len(outside),
            "ignored_by_scope_sent": len(outside & sent), "in_scope": len(history.events) - len(outside)}


def final_state(history: History, observation: Observation, violation: ViolationFactory) -> Iterator[Violation]:
    """Per resource with an acknowledged event: ``event_lost``, ``resurrected`` or ``stale_final_state`` when
    the state reported is not that of the newest acknowledged event (any of them on a tie)."""
    applied_set = applied_index(history, observation)
    for key, delivered in history.acknowledged.items():
        newest_epoch, newest = delivered.newest_epoch, delivered.newest
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
        if current is not None and current.removal and not state.removed and current.epoch >= newest_epoch:
            # the removal was noted as the resource's event, but the record is kept: it never propagated
            yield violation("resurrected", f"{key}: its removal was applied, yet the record is kept",
                            expected=f"removed by {current.event_id}", received=f"present with {current.shown}",
                            resource=key, event_ids=(*newest, state.event_id), requests=history.key_witness(key))
            continue
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


#: Violations that say a resource's final state is wrong, and those that say its reported data is.
_STATE_KINDS = frozenset({"event_lost", "resurrected", "stale_final_state"})
_CONTENT_KINDS = frozenset({"stale_content", "removal_not_propagated"})


def one_per_resource(violations: list[Violation]) -> list[Violation]:
    """One root cause, one violation per resource: where a receiver reports data and its content finding
    (``removal_not_propagated``, ``stale_content``) names what is wrong with a resource, the final-state
    violation of the same resource (``event_lost``, ``resurrected``...) says it again; it is folded into the
    content violation's message instead of being listed twice. The content finding is kept because it is
    what matters for every design, re-fetching receivers included."""
    by_content = {v.resource for v in violations if v.kind in _CONTENT_KINDS and v.resource}
    folded: dict[str, list[str]] = {}
    for v in violations:
        if v.kind in _STATE_KINDS and v.resource in by_content:
            folded.setdefault(v.resource, []).append(v.kind)
    kept = []
    for v in violations:
        if v.kind in _STATE_KINDS and v.resource in by_content:
            continue
        if v.kind in _CONTENT_KINDS and v.resource in folded:
            v = replace(v, message=f"{v.message} (its final state shows it too: {', '.join(folded[v.resource])})")
        kept.append(v)
    return kept


#: Receiver designs the oracle knows: ``apply`` applies each event's data in order (today's judging);
#: ``refetch`` treats an event as a notification and re-reads the resource from the REST API.
DESIGNS = ("apply", "refetch")
#: What a notify-then-re-fetch receiver may do without harm: the order and the count of notifications it
#: handled do not matter, since it reads the current state each time; its content is what is judged.
REFETCH_HARMLESS = frozenset({"stale_applied", "stale_final_state", "duplicate_applied"})
_REFETCH_NOTE = (" (harmless for a receiver that re-reads the resource from the REST API when notified: its "
                 "data is judged instead, by stale_content and removal_not_propagated)")


#: The usage error of ``design="refetch"`` without the mock REST API a re-fetching receiver reads.
REFETCH_NEEDS_API = ("design 'refetch' judges the data a re-fetching receiver reads from the PIM's REST API: "
                     "serve the mock REST API (fuzz --rest-api; in pytest, akeneo_check(..., rest_api="
                     "akeneo_rest_api))")


def check_design(design: str) -> str:
    """``design`` if known, else a :class:`~akeneo_events_testkit.errors.UsageError` naming the designs."""
    if design not in DESIGNS:
        raise UsageError(f"design {design!r}: use one of {', '.join(DESIGNS)} (apply: the receiver applies each "
                         "event's data; refetch: it re-reads the resource from the REST API when notified)")
    return design


REST_LATENCY_NEEDS_API = ("rest_latency slows the mock REST API's answers: serve it (fuzz --rest-api; in pytest, "
                          "akeneo_check(..., rest_api=akeneo_rest_api))")


def check_rest_latency(seconds: float) -> float:
    """``seconds``, the mean response time of the mock REST API, if it is a finite number >= 0."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds < float("inf"):
        raise UsageError(f"rest_latency {seconds!r}: give the mean response time of the mock REST API in seconds, "
                         "0 or more (--rest-latency 0.6)")
    return float(seconds)


def for_design(violations: list[Violation], design: str) -> list[Violation]:
    """``violations`` as they weigh for ``design``: under ``refetch``, the kinds of
    :data:`REFETCH_HARMLESS` become warnings that say why."""
    if design == "apply":
        return violations
    return [replace(v, severity="warning", message=v.message + _REFETCH_NOTE) if v.kind in REFETCH_HARMLESS
            else v for v in violations]


def design_hint(observation: Observation, design: str, violations: list[Violation]) -> str | None:
    """A word for the user when the receiver reports the data it holds, is judged as ``apply`` and fails on
    order or duplicates: that is what a correct re-fetching receiver looks like under the wrong design."""
    if design != "apply" or not any(state.has_data for state in observation.resources.values()):
        return None
    if not any(v.kind in REFETCH_HARMLESS and v.severity == "error" for v in violations):
        return None
    return ("the receiver reports the data it holds: if it re-reads each resource from the REST API when "
            "notified, judge it with --design refetch (design='refetch'), which weighs its content rather than "
            "the order it handled notifications in")


#: The orderings that break receivers, each with what it means; a run reports how often it delivered each.
HAZARDS: dict[str, str] = {
    "older_after_newer": "an event of a resource first delivered after a newer one of the same resource",
    "update_after_removal": "an older create or update first delivered after the resource's removal",
    "duplicate_after_removal": "an event delivered again after the removal of its resource",
    "create_after_update": "a resource's creation delivered after one of its updates",
    "reserialisation_unstable": "a genuine request whose bytes differ from a compact re-serialisation of its "
                                "parsed body (escaped \\/ or \\uXXXX): a receiver verifying JSON.stringify("
                                "JSON.parse(body)) refuses it",
}


#: The races of requests in flight together (a run whose requests go in groups also reports these).
CONCURRENT_HAZARDS: dict[str, str] = {
    "concurrent_duplicate": "an event delivered twice at once (redelivered while its first attempt was running)",
    "concurrent_same_resource": "events of one resource and different times in flight at once",
}


def hazards(history: History) -> dict[str, int]:
    """How often each :data:`HAZARDS` ordering reached the receiver (genuine requests it answered, in send
    order), and, when requests went in groups (``history.concurrent``), each :data:`CONCURRENT_HAZARDS` race.
    A pass only proves what was exercised: a hazard never delivered is not covered by the verdict."""
    counts = dict.fromkeys(HAZARDS, 0)
    newest: dict[str, Any] = {}
    delivered = Bitmap()  # by ordinal: a bit per event, not a set of ids
    ordinal = ordinal_of(history)
    groups: dict[int, list[str]] = {}
    for request in history.requests:
        if request.probe is not None or request.status is None:
            continue
        counts["reserialisation_unstable"] += request.unstable
        if request.group is not None:
            groups.setdefault(request.group, []).extend(request.event_ids)
        for event_id in request.event_ids:
            event = history.events.get(event_id)
            if event is None or event.out_of_scope:
                continue  # not the receiver's to order: its scope leaves the event out
            latest = newest.get(event.key)
            number = ordinal(event_id)
            was_delivered = number in delivered
            if latest is not None and latest.removal and latest.epoch > event.epoch and was_delivered:
                counts["duplicate_after_removal"] += 1
            if latest is not None and event.epoch < latest.epoch and not was_delivered:
                counts["older_after_newer"] += 1
                if latest.removal and not event.removal:
                    counts["update_after_removal"] += 1
                if event.creation and not latest.removal:
                    counts["create_after_update"] += 1
            if number is not None:
                delivered.add(number)
            if latest is None or event.epoch >= latest.epoch:
                newest[event.key] = event
    if history.concurrent:
        counts.update(_races(history, groups.values()))
    return counts


def _races(history: History, groups: Iterable[list[str]]) -> dict[str, int]:
    """Per group of requests in flight together: each event carried twice, and each resource with events of
    two or more times (its receiver must let the newest win whatever the order it handles them in; a tie of
    the second-precision time may go either way, so it is no race)."""
    counts = dict.fromkeys(CONCURRENT_HAZARDS, 0)
    for event_ids in groups:
        counts["concurrent_duplicate"] += sum(1 for n in Counter(event_ids).values() if n > 1)
        times: dict[str, set[int]] = {}
        for event in map(history.events.get, dict.fromkeys(event_ids)):
            if event is not None:
                times.setdefault(event.key, set()).add(event.epoch)
        counts["concurrent_same_resource"] += sum(1 for epochs in times.values() if len(epochs) > 1)
    return counts


def hazard_summary(counts: dict[str, int]) -> str:
    """``older after newer 12, update after removal 3, ...``, then the hazards never exercised, if any."""
    text = ", ".join(f"{name.replace('_', ' ')} {count}" for name, count in counts.items())
    never = [name.replace("_", " ") for name, count in counts.items() if not count]
    return text + (f"; never exercised: {', '.join(never)} (this pass does not cover them)" if never else "")


def scope_summary(stats: dict[str, Any]) -> str | None:
    """``family=rug: 412 of 500 events outside it, ignored by scope (...)``, or None without a scope."""
    if not stats.get("scope"):
        return None
    outside, total = stats.get("ignored_by_scope", 0), stats.get("ignored_by_scope", 0) + stats.get("in_scope", 0)
    return (f"{stats['scope']}: {outside} of {total} events outside it ({stats.get('ignored_by_scope_sent', 0)} "
            "sent), acknowledged and ignored by scope, not judged as lost; applying one is out_of_scope_applied")


def core_stats(history: History, observation: Observation, design: str, violations: list[Violation],
               latencies: Sequence[float]) -> dict[str, Any]:
    """The statistics both profiles' verdicts report alike: what was judged, ties, hazards exercised, the
    design and its hint, latency percentiles and slow answers."""
    slow = slow_answers(history)
    return {
        "resources_judged": len(history.acknowledged),
        "applied": len(observation.applied),
        "ties": count_ties(history),
        "hazards": hazards(history),
        **scope_stats(history),
        "design": design,
        "design_hint": design_hint(observation, design, violations),
        "latency_p50": percentile(latencies, 0.50),
        "latency_p95": percentile(latencies, 0.95),
        "latency_p99": percentile(latencies, 0.99),
        "slow_answers": len(slow),
        "slow_confirmed": sum(1 for r in slow if is_confirmed(r, len(slow))),
    }


def finish(violations: list[Violation], design: str) -> list[Violation]:
    """The violations as a verdict lists them: one per root cause, weighed for ``design``, errors first,
    then by harm (:data:`.verdict.HARM_ORDER`), kind and resource."""
    weighed = for_design(one_per_resource(violations), design)
    return sorted(weighed, key=lambda v: (v.severity != "error", harm_rank(v.kind), v.kind, v.resource or ""))


def count_ties(history: History) -> int:
    """Resources whose newest acknowledged events share their second: any of them is a correct state."""
    return sum(1 for delivered in history.acknowledged.values() if len(delivered.newest) > 1)


#: The detectors every profile runs, in this order.
DETECTORS: tuple[Detector, ...] = (answers, probes, applications, out_of_scope, final_state, content)
