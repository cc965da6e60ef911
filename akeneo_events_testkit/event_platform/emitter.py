"""Event Platform delivery semantics on a virtual clock: retries, adaptive rate, suspension, lost events.

Mirrors event-platform-facts.md section 3. Each save of the Events API activity (same seed, same saves as
:class:`~akeneo_events_testkit.events_api.pim.MockPim`) becomes one CloudEvent sent as one POST. Every attempt is a
real request through the kit's :class:`~akeneo_events_testkit.transport.sender.Sender` (URL, ASGI or WSGI
target), but nothing sleeps: the emitter schedules attempts on a :class:`~akeneo_events_testkit.clock.FakeClock`
and jumps it forward, so a 35-minute retry ladder or a rolling hour costs no real time.

Choices where the facts are silent (each a module constant, stated in the README's Event Platform
section and in the verdict):

* **success is any 2xx** (the docs name only 200, notification webhooks accept any 2xx; section 3);
* **retried**: timeouts, connection failures and 5xx at +5, +10, +20 min after the previous attempt, then
  dropped (at most 4 attempts). **Other 4xx** (400, 401, 403, 410, 422...) are failures and are **not**
  retried: the facts say "transient" without listing codes, and a refusal is not transient;
* **404 and any 3xx suspend at once** (redirects are never followed);
* **429** halves the rate (down to 1 event/s) and re-queues the event :data:`THROTTLE_RETRY` seconds
  later; ``Retry-After`` is ignored. Once an event has been throttled for more than an hour it counts as a
  failure and is dropped. A 429 is otherwise neither a success nor a failure for the threshold;
* a 2xx raises the rate by 1 event/s (up to 100); the rate starts at :data:`INITIAL_RATE`;
* **threshold suspension**: success rate below 90 % over the rolling hour, judged only once the hour
  holds at least :data:`MIN_WINDOW_ATTEMPTS` counted attempts, so one early failure does not suspend;
* attempts take no virtual time (the real latency is recorded, and judged against the 5 s timeout: the
  receiver's time, the kit's own stalls left out, see :mod:`~akeneo_events_testkit.transport.timing`).
"""

from __future__ import annotations

import asyncio
import heapq
import math
import random
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..clock import FakeClock
from ..errors import UsageError
from ..judging.content import note_content
from ..transport.sender import Sender
from ..transport.targets import Target
from ..versions import Action, content_digest, get_profile
from ..world.activity import Change, Operation, generate_activity
from ..world.catalog import DEFAULT_PIM_URL, Catalog
from ..world.hazards import HazardTargets
from .delta import delta_assignments, delta_changes
from .faults import EpFaults, parse_ep_faults
from .rules import (
    BACKOFF,
    DEFAULT_CLIENT_ID,
    DEFAULT_CONNECTIONS,
    EP_TIMEOUT,
    INITIAL_RATE,
    MAX_RATE,
    MIN_RATE,
    MIN_WINDOW_ATTEMPTS,
    NOT_FOUND,
    REDIRECT,
    RETRIED,
    SUCCESS,
    SUCCESS_THRESHOLD,
    THROTTLE_LIMIT,
    THROTTLE_RETRY,
    THROTTLED,
    TIMEOUT,
    WINDOW,
    classify,
)
from .signing import EpSecrets, ep_headers
from .timeline import EpTimeline
from .truth import EpAttempt, EpDrop, EpEvent, EpTruth, Suspension, canonical_json
from .wire import DEFAULT_SOURCE, CloudEvent, author_of, cloud_event

__all__ = [
    "EpEmitter",
]


@dataclass(order=True)
class _Job:
    due: float
    order: int
    event: CloudEvent = field(compare=False)
    retry: int = field(default=0, compare=False)
    throttled_since: float | None = field(default=None, compare=False)
    duplicate: bool = field(default=False, compare=False)


_UPDATES = frozenset({Action.PRODUCT_UPDATED, Action.PRODUCT_MODEL_UPDATED})
#: the longest an aimed event is delivered after its emission: the retry ladder's span, 35 min (section 3)
MAX_LATE = 35 * 60
#: each hazard is aimed at ``ceil(reorder * HAZARD_QUOTA_RATE)`` times at least (5 under the default faults)
HAZARD_QUOTA_RATE = 50


class EpEmitter:
    """Generates the Events API activity of ``seed`` and delivers it the Event Platform way.

    ``delta`` (True or a ratio in [0, 1]) turns that share of updates into ``*.updated.delta`` events.
    ``keep_bodies`` keeps every CloudEvent's bytes in the truth, for a tape (:mod:`.ep_tape`).
    ``client_id`` names the receiver's own connection: the activity's last connection is renamed to it, so
    the same saves are made (section 6: self-triggered events are delivered). ``enforce_suspension=False``
    keeps delivering after the subscription would have been suspended, recording when it would have been.
    """

    def __init__(
        self,
        seed: int = 0,
        events: int = 100,
        *,
        start: int | None = None,
        source: str = DEFAULT_SOURCE,
        subscription_id: str = "01J0000000000000000000SUB1",
        secrets: EpSecrets | None = None,
        delta: bool | float = False,
        client_id: str | None = DEFAULT_CLIENT_ID,
        clock: FakeClock | None = None,
        faults: str | EpFaults | None = None,
        timeout: float = EP_TIMEOUT,
        content_type: str = "application/json",
        custom_headers: Sequence[tuple[str, str]] = (),
        send_product_identifier: bool = False,
        enforce_suspension: bool = True,
        connections: Sequence[str] = DEFAULT_CONNECTIONS,
        pim_url: str = DEFAULT_PIM_URL,
        keep_bodies: bool = False,
        track_content: bool = False,
        wrap_target: Callable[[Target], Target] | None = None,
    ) -> None:
        if events < 0:
            raise UsageError(f"events must be zero or more, got {events}")
        ratio = float(delta)
        if not 0 <= ratio <= 1:
            raise UsageError(f"delta must be True, False or a ratio in [0, 1], got {delta!r}")
        self.seed = seed
        self.events = events
        #: wraps every target before the platform sends to it (the pytest plugin captures app exceptions)
        self.wrap_target = wrap_target or (lambda target: target)
        self.clock = clock if clock is not None else FakeClock()
        self.start = int(self.clock.now()) if start is None else int(start)
        if self.clock.now() < self.start:
            self.clock.set(self.start)
        self.source = source
        self.subscription_id = subscription_id
        self.secrets = secrets if secrets is not None else EpSecrets("event-platform-secret")
        self.delta = ratio
        self.client_id = client_id
        self.faults = parse_ep_faults(faults)
        self.timeout = timeout
        self.content_type = content_type
        self.custom_headers = tuple(custom_headers)
        ep_headers(b"", self.secrets, custom=self.custom_headers)  # fail early on bad custom headers
        self.send_product_identifier = send_product_identifier
        self.enforce_suspension = enforce_suspension
        self.keep_bodies = keep_bodies
        self.pim_url = pim_url
        self.timeline = EpTimeline(pim_url) if track_content else None
        conns = list(connections) or [DEFAULT_CLIENT_ID]
        if client_id is not None and client_id not in conns:
            conns[-1] = client_id
        self.connections = tuple(conns)
        self.pim_url = pim_url
        self.truth = EpTruth()
        self._reset()

    def _reset(self) -> None:
        self.rate = INITIAL_RATE
        self._next_slot = float(self.start)
        self._window: list[tuple[float, bool, str, int]] = []  # (time, success, answer, attempt seq)
        self._seq = 0
        self._order = 0

    # -- generation ---------------------------------------------------------------------------------------

    def activity(self) -> tuple[Catalog, Iterator[Operation]]:
        """The same saves as ``MockPim(seed=..., profile='saas', uuid_mode=True)`` with these connections."""
        return generate_activity(
            rng=random.Random(self.seed), events=self.events, start=self.start,
            profile=get_profile("saas", uuid_mode=True), connections=self.connections, pim_url=self.pim_url)

    def cloud_events(self, truth: EpTruth | None = None) -> Iterator[CloudEvent]:
        """One CloudEvent per save, in save order; ids and delta choices from their own seeded RNG."""
        rng = random.Random(f"event-platform:{self.seed}")
        catalog, operations = self.activity()
        types = {code: a.type for code, a in catalog.structure.attributes.items()}
        previous: dict[str, Mapping[str, Any]] = {}
        timeline = self.timeline = EpTimeline(self.pim_url) if self.timeline is not None else None
        if timeline is not None:
            for key in list(catalog.keys()):
                timeline.record(catalog, key, self.start - 1)
        for operation in operations:
            if timeline is not None:  # the operation is already applied to the catalog (activity.py)
                epoch = max((c.epoch for c in operation.changes), default=operation.epoch)
                for key in dict.fromkeys(c.key for c in operation.changes):
                    timeline.record(catalog, key, epoch)
            for change in operation.changes:
                yield self._event(change, operation, rng, previous, types, truth)

    def _event(self, change: Change, operation: Operation, rng: random.Random,
               previous: dict[str, Mapping[str, Any]], types: Mapping[str, str], truth: EpTruth | None) -> CloudEvent:
        changes = None
        if change.action in _UPDATES and self.delta > 0 and rng.random() < self.delta:
            changes = delta_changes(previous.get(change.key), change.snapshot, attribute_types=types)
        previous[change.key] = change.snapshot
        event = cloud_event(
            action=change.action, resource=change.snapshot, epoch=change.epoch, author=operation.author,
            author_type=operation.author_type, rng=rng, subscription_id=self.subscription_id, source=self.source,
            send_product_identifier=self.send_product_identifier, changes=changes)
        author = author_of(operation.author, operation.author_type)
        if truth is not None:
            truth.events[event.id] = EpEvent(
                event.id, event.key, event.type, event.epoch, event.is_removal, author["identifier"],
                author["type"], author["type"] == "api" and author["identifier"] == self.client_id,
                change.event_id, operation.seq,
                tuple((path, canonical_json(new)) for path, new in delta_assignments(changes or {})))
            if self.keep_bodies:
                truth.bodies[event.id] = event.raw
        return event

    # -- delivery -----------------------------------------------------------------------------------------

    def run(self, target: Target, *, path: str = "") -> EpTruth:
        """Generate and deliver everything; returns the ground truth. Synchronous."""
        return asyncio.run(self.arun(target, path=path))

    async def arun(self, target: Target, *, path: str = "") -> EpTruth:
        """:meth:`run` for callers inside an event loop."""
        truth = self.truth = EpTruth()
        self._reset()
        truth.meta.update(seed=self.seed, events=self.events, start=self.start, source=self.source,
                          subscription=self.subscription_id, client_id=self.client_id,
                          rotation=self.secrets.secondary is not None, delta=self.delta,
                          faults={"duplicate": self.faults.duplicate, "reorder": self.faults.reorder},
                          enforce_suspension=self.enforce_suspension, timeout=self.timeout)
        faults = random.Random(f"event-platform-faults:{self.seed}")
        heap: list[_Job] = []
        aims = self._aims() if self.faults.reorder else {}
        jobs: list[tuple[CloudEvent, float]] = []
        for event in self.cloud_events(truth):
            due = float(event.epoch)
            if self.faults.reorder and faults.random() < self.faults.reorder:
                due += faults.uniform(1.0, self.faults.reorder_window)
            jobs.append((event, due))
        due_of = {truth.events[event.id].origin: due for event, due in jobs}
        for event, due in jobs:
            aim = aims.get(truth.events[event.id].origin)
            if aim is not None and aim[0] in due_of:
                after = max(due, due_of[aim[0]] + 0.5)  # right after the removal or update it precedes
                if aim[1]:  # delivered in turn, and again after the removal
                    self._push(heap, _Job(after, 0, event, duplicate=True))
                else:
                    due = after
            self._push(heap, _Job(due, 0, event))
        truth.rates.append((float(self.start), self.rate))
        async with Sender(self.wrap_target(target), follow_redirects=False, timeout=self.timeout,
                          path=path) as sender:
            while heap:
                job = heapq.heappop(heap)
                at = max(job.due, self._next_slot, self.clock.now())
                self.clock.advance(at - self.clock.now())
                await self._attempt(job, at, sender, heap, faults)
        return truth

    def _aims(self) -> dict[str, tuple[str, bool]]:
        """Hazard-directed faults: the saves whose event is delivered out of emission order, right after the
        removal or the update it precedes (``origin`` -> (that event's origin, also delivered in turn)).

        Ordering is only "likely" emission order, retried events are certainly out of order, and several
        requests are in flight at once, the same event's included (event-platform-facts.md section 3), so an
        event emitted before a removal can arrive after it, or arrive again after it. Random reordering
        within :attr:`EpFaults.reorder_window` almost never crosses a removal, so, as the Events API does, the
        pairs come from the activity's future (:class:`~..world.hazards.HazardTargets`), at most
        :data:`MAX_LATE` seconds apart (the retry ladder's span). Every candidate is aimed until each hazard
        was aimed :data:`HAZARD_QUOTA` times (update after removal, duplicate after it, create after update,
        alternating), then with twice the reorder probability; the draws have their own RNG."""
        rng = random.Random(f"event-platform-hazards:{self.seed}")
        _, operations = self.activity()
        changes = [change for operation in operations for change in operation.changes]
        epochs = {change.event_id: change.epoch for change in changes}
        targets = HazardTargets.from_changes(changes)
        quota = math.ceil(self.faults.reorder * HAZARD_QUOTA_RATE)
        aimed = [0, 0, 0]  # late only, in turn and again after the removal, create after update
        aims: dict[str, tuple[str, bool]] = {}
        for change in changes:
            removal = targets.before_removal.get(change.event_id)
            update = targets.before_update.get(change.event_id)
            target = removal if removal is not None else update
            if target is None or epochs[target] - change.epoch > MAX_LATE:
                continue
            which = (1 if aimed[1] < aimed[0] else 0) if removal is not None else 2
            short = (min(aimed[0], aimed[1]) if removal is not None else aimed[2]) < quota
            if rng.random() < min(1.0, 2 * self.faults.reorder) or short:
                aimed[which] += 1
                aims[change.event_id] = (target, which == 1)
        return aims

    def _push(self, heap: list[_Job], job: _Job) -> None:
        job.order = self._order
        self._order += 1
        heapq.heappush(heap, job)

    def _stopped(self) -> bool:
        return self.truth.suspension is not None and self.enforce_suspension

    async def _attempt(self, job: _Job, at: float, sender: Sender, heap: list[_Job], faults: random.Random) -> None:
        truth = self.truth
        event = job.event
        if self._stopped():
            if not job.duplicate:
                truth.drops.append(EpDrop(event.id, at, "suspended"))
            return
        if job.throttled_since is not None and at - job.throttled_since > THROTTLE_LIMIT:
            truth.drops.append(EpDrop(event.id, at, "throttled_1h"))
            self._count(at, False, "HTTP 429 for over 1 h")
            return
        headers = ep_headers(event.raw, self.secrets, content_type=self.content_type, custom=self.custom_headers)
        answer = await sender.post(event.raw, headers, timeout=self.timeout)
        outcome = classify(answer)
        if outcome == SUCCESS and answer.latency > self.timeout:
            outcome = TIMEOUT
        record = EpAttempt(self._seq, event.id, at, job.retry, outcome, answer.status, answer.latency,
                           answer.reason, job.duplicate, None, self.rate, answer.wall, answer.timing.value)
        self._seq += 1
        truth.attempts.append(record)
        self._next_slot = at + 1.0 / self.rate
        if outcome == SUCCESS:
            self._note_content(event, at)
            self._set_rate(at, min(MAX_RATE, self.rate + 1.0))
            self._count(at, True, "", record.seq)
            if not job.duplicate and self.faults.duplicate and faults.random() < self.faults.duplicate:
                self._push(heap, _Job(at + faults.uniform(1.0, 120.0), 0, event, duplicate=True))
        elif outcome == THROTTLED:
            self._set_rate(at, max(MIN_RATE, self.rate / 2))
            if not job.duplicate:
                since = job.throttled_since if job.throttled_since is not None else at
                self._push(heap, _Job(at + THROTTLE_RETRY, 0, event, job.retry, since))
        elif outcome in (NOT_FOUND, REDIRECT):
            self._suspend(at, "immediate", (record.describe(),), (record.seq,), None)
            if not job.duplicate and self._stopped():
                truth.drops.append(EpDrop(event.id, at, "suspended"))
        else:
            self._count(at, False, record.describe().split(" ", 1)[1], record.seq)
            if job.duplicate:
                return
            if outcome in RETRIED and job.retry < len(BACKOFF):
                self._push(heap, _Job(at + BACKOFF[job.retry], 0, event, job.retry + 1))
            else:
                truth.drops.append(EpDrop(event.id, at, "retries_exhausted" if outcome in RETRIED else "rejected"))

    def _note_content(self, event: CloudEvent, at: float) -> None:
        """What the receiver may hold after this acknowledgement: the state the API serves at ``at`` (a thin
        event carries no data). The receiver's own events are left out: it drops them (section 6)."""
        known = self.truth.events.get(event.id)
        if self.timeline is None or known is None or known.self_triggered:
            return
        digest = content_digest(self.timeline.at(event.key, at))
        note_content(self.truth.content, event.key, event.epoch, digest, digest)

    def _set_rate(self, at: float, rate: float) -> None:
        if rate != self.rate:
            self.rate = rate
            self.truth.rates.append((at, rate))

    def _count(self, at: float, success: bool, description: str, seq: int = -1) -> None:
        """Add one counted attempt to the rolling hour and apply the threshold rule (section 3)."""
        self._window.append((at, success, description, seq))
        self._window = [entry for entry in self._window if entry[0] > at - WINDOW]
        if len(self._window) < MIN_WINDOW_ATTEMPTS or self.truth.suspension is not None:
            return
        rate = sum(1 for entry in self._window if entry[1]) / len(self._window)
        if rate < SUCCESS_THRESHOLD:
            failures = [entry for entry in self._window if not entry[1]]
            kinds = Counter(entry[2] for entry in failures)
            self._suspend(at, "threshold", tuple(f"{k} x{n}" for k, n in kinds.most_common()),
                          tuple(entry[3] for entry in failures if entry[3] >= 0), rate)

    def _suspend(self, at: float, cause: str, responses: tuple[str, ...], attempts: tuple[int, ...],
                 rate: float | None) -> None:
        if self.truth.suspension is None:
            self.truth.suspension = Suspension(at, cause, responses, attempts, rate, self.enforce_suspension)
