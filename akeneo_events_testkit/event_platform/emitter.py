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
* **a share of bodies is escaped** (:data:`~.rules.ESCAPED_SHARE`, 1 in 5 by default, ``escaped``):
  ``/`` written ``\\/`` and/or non-ASCII written ``\\uXXXX``, still compact, same key order, same JSON
  value, signed over those exact bytes. Section 2 implies compact key-ordered JSON but leaves escaping
  open (RFC 8259 allows both), and section 1 gives ``dataschema`` URLs in every body: a receiver that
  verifies ``JSON.stringify(req.body)`` (section 2's snippet) must meet genuine traffic it fails on, as
  on the Events API, whose PHP bytes are escaped (events-api-facts.md section 3);
* attempts take no virtual time (the real latency is recorded, and judged against the 5 s timeout: the
  receiver's time, the kit's own stalls left out, see :mod:`~akeneo_events_testkit.transport.timing`);
* **several requests in flight** (section 3 [infer]: at tens of events/s with answers of up to 5 s, several
  run at once, the same event's included). Requests go out in *groups* sent together, really concurrently
  (``Sender.post`` calls running together on the event loop, to a URL or an in-process app alike): the first
  job due and the next ones already due, as many as a seeded draw says (``"event-platform-inflight:<seed>"``:
  1 to 4 mostly, bursts of 5 up to ``max_in_flight``), never more than the rate allows
  (:data:`~.rules.IN_FLIGHT_LATENCY`), in a seeded order within the group. A group is sent at one virtual
  instant and takes as many rate slots as it holds requests. Its answers are then read in send order, so
  the groups, the virtual times, retries, rate and suspension are the same on every run with the same
  answers; only the order in which the receiver handles a group's requests is left to chance, as in
  production, and the oracle judges nothing that depends on it. ``max_in_flight=1`` sends one at a time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import heapq
import math
import os
import random
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..clock import FakeClock
from ..encoding import reserialisation_stable
from ..errors import UsageError
from ..judging.content import note_content
from ..judging.scope import Scope, ScopeJudge, focus_factor, note_resource
from ..transport.sender import Attempt, Sender
from ..transport.targets import Target
from ..versions import Action, content_digest, get_profile
from ..world.activity import DEFAULT_USERS, Change, Operation, generate_activity
from ..world.catalog import DEFAULT_PIM_URL, Catalog
from ..world.hazards import HazardTargets
from ..world.shape import CatalogShape, resolve_shape
from ..world.structure_activity import STRUCTURE_SHARE, STRUCTURE_TYPES, StructureChange, StructureStream
from .delta import delta_assignments, delta_changes
from .faults import EpFaults, parse_ep_faults
from .rules import (
    BACKOFF,
    BURST,
    DEFAULT_CLIENT_ID,
    DEFAULT_CONNECTIONS,
    DEFAULT_IN_FLIGHT,
    EP_TIMEOUT,
    ESCAPED_SHARE,
    IN_FLIGHT_LATENCY,
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
from .wire import (
    DEFAULT_SOURCE,
    ESCAPES,
    TYPE_PREFIX,
    CloudEvent,
    author_of,
    cloud_event,
    encode,
    structure_cloud_event,
    subscribed_types,
)

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
    #: in the receiver's scope: its faults are raised (:func:`~..judging.scope.focus_factor`)
    focused: bool = field(default=False, compare=False)
    #: a copy sent in the same group as the event's own attempt (``EpFaults.concurrent_duplicate``)
    concurrent: bool = field(default=False, compare=False)


_OPTION_TYPES = frozenset({"pim_catalog_simpleselect", "pim_catalog_multiselect"})
_UPDATES = frozenset({Action.PRODUCT_UPDATED, Action.PRODUCT_MODEL_UPDATED})
#: ``EpEvent.operation`` of a structure event (no Events API operation made it; ``origin`` is its own id)
STRUCTURE_OPERATION = -1
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
    ``escaped`` (a ratio in [0, 1], 0 disables) is the share of events whose body escapes ``/`` and/or
    non-ASCII (module docstring), drawn per event from its own seeded stream.
    ``catalog`` (a catalog file's path or shape) gives the catalog's families, attributes and channels.
    ``max_in_flight`` bounds the requests sent together (module docstring; 1: one at a time).
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
        escaped: float = ESCAPED_SHARE,
        wrap_target: Callable[[Target], Target] | None = None,
        scope: Scope | None = None,
        catalog: CatalogShape | str | os.PathLike[str] | None = None,
        max_in_flight: int = DEFAULT_IN_FLIGHT,
        types: str | Sequence[str] | None = None,
    ) -> None:
        if events < 0:
            raise UsageError(f"events must be zero or more, got {events}")
        if isinstance(max_in_flight, bool) or not isinstance(max_in_flight, int) or max_in_flight < 1:
            raise UsageError(f"max_in_flight must be a whole number of requests, 1 or more (1 sends one at a "
                             f"time), got {max_in_flight!r}")
        self.max_in_flight = max_in_flight
        #: the short types the subscription receives (``--types``; default: every type the emitter sends)
        self.types = subscribed_types(types)
        #: how many of the ``events`` change the catalog structure (none when no structure type is received)
        self.structure_events = (round(events * STRUCTURE_SHARE)
                                 if self.types.intersection(STRUCTURE_TYPES) else 0)
        ratio = float(delta)
        if not 0 <= ratio <= 1:
            raise UsageError(f"delta must be True, False or a ratio in [0, 1], got {delta!r}")
        if not 0 <= escaped <= 1:
            raise UsageError(f"escaped must be a ratio in [0, 1] (0: no escaped bodies), got {escaped!r}")
        self.seed = seed
        self.events = events
        self.escaped = float(escaped)
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
        #: the catalog file's shape (``--catalog``), or None for the kit's own catalog
        self.shape = resolve_shape(catalog)
        self._main_identifier: str | None = None
        self.truth = EpTruth()
        #: what the receiver is responsible for: the faults aim at it (``--scope``)
        self.scope = scope
        self._reset()

    def _reset(self) -> None:
        self._boost = {"reorder": 1.0, "duplicate": 1.0, "concurrent_duplicate": 1.0}
        self.rate = INITIAL_RATE
        self._next_slot = float(self.start)
        self._window: deque[tuple[float, bool, str, int]] = deque()  # (time, success, answer, attempt seq)
        self._window_successes = 0
        self._seq = 0
        self._order = 0
        self._group_number = 0

    # -- generation ---------------------------------------------------------------------------------------

    def activity(self) -> tuple[Catalog, Iterator[Operation]]:
        """The same saves as ``MockPim(seed=..., profile='saas', uuid_mode=True)`` with these connections."""
        return generate_activity(
            rng=random.Random(self.seed), events=self.events - self.structure_events, start=self.start,
            profile=get_profile("saas", uuid_mode=True), connections=self.connections, pim_url=self.pim_url,
            shape=self.shape)

    def cloud_events(self, truth: EpTruth | None = None) -> Iterator[CloudEvent]:
        """One CloudEvent per save, in save order; ids and delta choices from their own seeded RNG."""
        rng = random.Random(f"event-platform:{self.seed}")
        escapes = random.Random(f"event-platform-escapes:{self.seed}")
        catalog, operations = self.activity()
        types = {code: a.type for code, a in catalog.structure.attributes.items()}
        self._main_identifier = catalog.structure.identifier_attribute
        previous: dict[str, Mapping[str, Any]] = {}
        timeline = self.timeline = EpTimeline(self.pim_url) if self.timeline is not None else None
        if timeline is not None:
            for key in list(catalog.keys()):
                timeline.record(catalog, key, self.start - 1)
        stream = self._structure_stream(catalog)
        ids = random.Random(f"event-platform-structure:{self.seed}")
        if timeline is not None and stream is not None:
            for key, state in stream.initial.items():
                timeline.record_state(key, self.start - 1, state)
        done, last = 0, self.start
        for operation in operations:
            if stream is not None:
                for structure in stream.due(done, operation.epoch):
                    found = self._structure_event(structure, ids, truth, escapes)
                    if found is not None:
                        yield found
            if timeline is not None:  # the operation is already applied to the catalog (activity.py)
                epoch = max((c.epoch for c in operation.changes), default=operation.epoch)
                for key in dict.fromkeys(c.key for c in operation.changes):
                    timeline.record(catalog, key, epoch)
            for change in operation.changes:
                event = self._event(change, operation, rng, previous, types, truth, escapes)
                if event is not None:
                    yield event
            done += len(operation.changes)
            last = max(last, operation.epoch)
        for structure in stream.rest(last) if stream is not None else ():
            found = self._structure_event(structure, ids, truth, escapes)
            if found is not None:
                yield found

    def _structure_stream(self, catalog: Catalog) -> StructureStream | None:
        """The seeded structure changes of this run (``"structure:<seed>"``), or None when none is made."""
        if not self.structure_events:
            return None
        structure = catalog.structure
        selects = {code: tuple(a.options) for code, a in structure.attributes.items()
                   if a.type in _OPTION_TYPES and a.options}
        return StructureStream(
            random.Random(f"structure:{self.seed}"), self.structure_events, self.events - self.structure_events,
            categories=tuple(structure.categories), families=tuple(structure.families),
            attributes={code: a.type for code, a in structure.attributes.items()}, options=selects,
            users=DEFAULT_USERS, connections=self.connections)

    def _structure_event(self, change: StructureChange, ids: random.Random, truth: EpTruth | None,
                         escapes: random.Random) -> CloudEvent | None:
        """The CloudEvent of a structure change, recorded in the truth and the timeline; None when the
        subscription does not receive its type (the change still happened: the REST API serves it)."""
        if self.timeline is not None:
            self.timeline.record_state(change.key, change.epoch, change.state)
        event = structure_cloud_event(change, rng=ids, subscription_id=self.subscription_id, source=self.source)
        event = self._escape(event, escapes)
        if change.type not in self.types:
            return None
        author = author_of(change.author, change.author_type)
        if truth is not None:
            truth.events[event.id] = EpEvent(
                event.id, event.key, event.type, event.epoch, event.is_removal, author["identifier"],
                author["type"], author["type"] == "api" and author["identifier"] == self.client_id,
                event.id, STRUCTURE_OPERATION, stable=reserialisation_stable(event.raw))
            if self.keep_bodies:
                truth.bodies[event.id] = event.raw
        return event

    def _escape(self, event: CloudEvent, escapes: random.Random) -> CloudEvent:
        """``event`` with its body escaped, for the seeded share :attr:`escaped` of events; an escaping that
        would leave the bytes as they are (a thin body has no non-ASCII) escapes the slashes too."""
        if not self.escaped or escapes.random() >= self.escaped:
            return event
        raw = encode(event.body, escape=escapes.choice(ESCAPES))
        return dataclasses.replace(event, raw=raw if raw != event.raw else encode(event.body, escape="both"))

    def _event(self, change: Change, operation: Operation, rng: random.Random,
               previous: dict[str, Mapping[str, Any]], types: Mapping[str, str], truth: EpTruth | None,
               escapes: random.Random) -> CloudEvent | None:
        changes = None
        if change.action in _UPDATES and self.delta > 0 and rng.random() < self.delta:
            changes = delta_changes(previous.get(change.key), change.snapshot, attribute_types=types,
                                    main_identifier=self._main_identifier)
        previous[change.key] = change.snapshot
        event = cloud_event(
            action=change.action, resource=change.snapshot, epoch=change.epoch, author=operation.author,
            author_type=operation.author_type, rng=rng, subscription_id=self.subscription_id, source=self.source,
            send_product_identifier=self.send_product_identifier, changes=changes)
        event = self._escape(event, escapes)
        if event.type[len(TYPE_PREFIX):] not in self.types:
            return None  # not received: its id and escape were drawn all the same, the stream stays put
        author = author_of(operation.author, operation.author_type)
        if truth is not None:
            truth.events[event.id] = EpEvent(
                event.id, event.key, event.type, event.epoch, event.is_removal, author["identifier"],
                author["type"], author["type"] == "api" and author["identifier"] == self.client_id,
                change.event_id, operation.seq,
                tuple((path, canonical_json(new)) for path, new in delta_assignments(changes or {})),
                stable=reserialisation_stable(event.raw, json_text=True))
            if self.keep_bodies:
                truth.bodies[event.id] = event.raw
            if not event.is_removal:
                note_resource(truth.resources, event.key, change.snapshot)
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
                          faults={"duplicate": self.faults.duplicate, "reorder": self.faults.reorder,
                                  "concurrent_duplicate": self.faults.concurrent_duplicate},
                          enforce_suspension=self.enforce_suspension, timeout=self.timeout,
                          escaped=self.escaped, max_in_flight=self.max_in_flight)
        faults = random.Random(f"event-platform-faults:{self.seed}")
        heap: list[_Job] = []
        events = list(self.cloud_events(truth))
        focused = self._focused(events)
        self._boost = {name: focus_factor(rate, len(focused), total=len(events)) for name, rate in (
            ("reorder", self.faults.reorder), ("duplicate", self.faults.duplicate),
            ("concurrent_duplicate", self.faults.concurrent_duplicate))}
        # the saves in scope, by the Events API event id the activity's future knows them by
        inside = None if self.scope is None else frozenset(truth.events[i].origin for i in focused)
        aims = self._aims(inside) if self.faults.reorder else {}
        if self.faults.reorder:
            aims.update(self._structure_aims(events, truth))
        jobs: list[tuple[CloudEvent, float]] = []
        for event in events:
            due = float(event.epoch)
            hot = event.id in focused
            reorder = self.faults.reorder * (self._boost["reorder"] if hot else 1.0)
            if reorder and faults.random() < reorder:
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
            self._push(heap, _Job(due, 0, event, focused=event.id in focused))
        truth.rates.append((float(self.start), self.rate))
        in_flight = random.Random(f"event-platform-inflight:{self.seed}")
        copies = random.Random(f"event-platform-concurrent-duplicates:{self.seed}")
        async with Sender(self.wrap_target(target), follow_redirects=False, timeout=self.timeout,
                          path=path, concurrency=self.max_in_flight,
                          redact=[self.secrets.primary, self.secrets.secondary or ""]) as sender:
            while heap:
                job = heapq.heappop(heap)
                at = max(job.due, self._next_slot, self.clock.now())
                self.clock.advance(at - self.clock.now())
                group = self._group(job, at, heap, self._group_size(in_flight), copies)
                if group:
                    in_flight.shuffle(group)  # parallel workers start in no particular order (section 3)
                    await self._send(group, at, sender, heap, faults)
        return truth

    def _focused(self, events: Sequence[CloudEvent]) -> set[str]:
        """The ids of the events in the receiver's scope (none without a scope: nothing is raised)."""
        if self.scope is None:
            return set()
        judge = ScopeJudge(self.scope, self.truth.resources)
        known = self.truth.events
        return {event.id for event in events if event.id in known and not known[event.id].outside(judge)}

    def _group_size(self, rng: random.Random) -> int:
        """How many requests the platform has in flight for the next group: 1 to 4 mostly, a burst of 5 up to
        the bound sometimes; never more than ``rate * IN_FLIGHT_LATENCY`` nor ``max_in_flight``."""
        if self.max_in_flight == 1:
            return 1
        bound = max(1, min(self.max_in_flight, int(self.rate * IN_FLIGHT_LATENCY)))
        if bound >= 5 and rng.random() < BURST:
            return rng.randint(5, bound)
        return rng.randint(1, min(4, bound))

    def _group(self, first: _Job, at: float, heap: list[_Job], size: int, copies: random.Random) -> list[_Job]:
        """The jobs sent together at ``at``: ``first`` and the next ones already due, up to ``size`` (those the
        platform drops instead of sending take no place), plus concurrent duplicates (never past
        ``max_in_flight``)."""
        group: list[_Job] = []
        job: _Job | None = first
        while job is not None:
            if self._admit(job, at):
                group.append(job)
                chance = self.faults.concurrent_duplicate * (self._boost["concurrent_duplicate"] if job.focused else 1)
                if chance and self.max_in_flight > 1 and not job.duplicate and copies.random() < chance \
                        and len(group) < self.max_in_flight:
                    group.append(_Job(at, 0, job.event, job.retry, duplicate=True, concurrent=True))
            job = heapq.heappop(heap) if len(group) < size and heap and heap[0].due <= at else None
        return group

    def _aims(self, inside: frozenset[str] | None = None) -> dict[str, tuple[str, bool]]:
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
        if inside is not None:  # the hazards of the receiver's scope (its saves, ``inside``) are those that test it
            targets = targets.only(inside.__contains__)
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

    def _structure_aims(self, events: Sequence[CloudEvent], truth: EpTruth) -> dict[str, tuple[str, bool]]:
        """The structure hazards, as :meth:`_aims` makes the product ones: an event of a category, option,
        job... delivered right after the next event of the same resource (its update, its deletion, the
        job's next status), when that one is at a later second and at most :data:`MAX_LATE` later. Every
        event before a deletion is aimed, alternately delivered late only and in turn then again late
        (tombstones are what a receiver most often gets wrong), and for
        each kind of resource the first ``ceil(reorder * HAZARD_QUOTA_RATE)`` others, then twice the reorder
        probability; alternately late only and also in turn. Own RNG: the product hazards stay as they
        were."""
        rng = random.Random(f"event-platform-structure-hazards:{self.seed}")
        quota = math.ceil(self.faults.reorder * HAZARD_QUOTA_RATE)
        last: dict[str, EpEvent] = {}
        aimed: Counter[str] = Counter()
        aims: dict[str, tuple[str, bool]] = {}
        for event in events:
            known = truth.events[event.id]
            if known.operation != STRUCTURE_OPERATION:
                continue
            before = last.get(known.key)
            last[known.key] = known
            if before is None or not 0 < known.epoch - before.epoch <= MAX_LATE or before.event_id in aims:
                continue
            kind = known.key.split(":", 1)[0]
            # per kind, alternately late only (a forgotten tombstone resurrects, an unordered receiver ends
            # on the older state) and in turn then again late (a duplicate after the newer event)
            if known.is_removal:
                aimed[f"removal:{kind}"] += 1
                aims[before.event_id] = (known.event_id, aimed[f"removal:{kind}"] % 2 == 0)
            elif aimed[kind] < quota or rng.random() < min(1.0, 2 * self.faults.reorder):
                aimed[kind] += 1
                aims[before.event_id] = (known.event_id, aimed[kind] % 2 == 0)
        return aims

    def _push(self, heap: list[_Job], job: _Job) -> None:
        job.order = self._order
        self._order += 1
        heapq.heappush(heap, job)

    def _stopped(self) -> bool:
        return self.truth.suspension is not None and self.enforce_suspension

    def _admit(self, job: _Job, at: float) -> bool:
        """Whether the platform sends ``job`` at ``at``; if not, records why it dropped the event."""
        truth = self.truth
        if self._stopped():
            if not job.duplicate:
                truth.drops.append(EpDrop(job.event.id, at, "suspended"))
            return False
        if job.throttled_since is not None and at - job.throttled_since > THROTTLE_LIMIT:
            truth.drops.append(EpDrop(job.event.id, at, "throttled_1h"))
            self._count(at, False, "HTTP 429 for over 1 h")
            return False
        return True

    async def _send(self, group: list[_Job], at: float, sender: Sender, heap: list[_Job],
                    faults: random.Random) -> None:
        """Send ``group`` at once (each request in flight while the others are), then read the answers in
        send order: the rate, the rolling hour and suspension are judged per completed attempt, in an order
        that does not depend on which answer came first."""
        number = self._group_number
        self._group_number += 1
        rate = self.rate
        answers = await asyncio.gather(*(sender.post(
            job.event.raw, ep_headers(job.event.raw, self.secrets, content_type=self.content_type,
                                      custom=self.custom_headers), timeout=self.timeout) for job in group))
        self._next_slot = at + len(group) / rate
        for job, answer in zip(group, answers, strict=True):
            self._attempt(job, at, answer, heap, faults, rate, number)

    def _attempt(self, job: _Job, at: float, answer: Attempt, heap: list[_Job], faults: random.Random,
                 rate: float, group: int) -> None:
        truth = self.truth
        event = job.event
        outcome = classify(answer)
        if outcome == SUCCESS and answer.latency > self.timeout:
            outcome = TIMEOUT
        record = EpAttempt(self._seq, event.id, at, job.retry, outcome, answer.status, answer.latency,
                           answer.reason, job.duplicate, None, rate, answer.wall, answer.timing.value, group,
                           job.concurrent, answer.body)
        self._seq += 1
        truth.attempts.append(record)
        if outcome == SUCCESS:
            self._note_content(event, at)
            self._set_rate(at, min(MAX_RATE, self.rate + 1.0))
            self._count(at, True, "", record.seq)
            duplicate = self.faults.duplicate * (self._boost["duplicate"] if job.focused else 1.0)
            if not job.duplicate and duplicate and faults.random() < duplicate:
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
        ident = self._main_identifier or "sku"
        digest = content_digest(self.timeline.at(event.key, at), identifier_attribute=ident)
        note_content(self.truth.content, event.key, event.epoch, digest, digest, identifier_attribute=ident)

    def _set_rate(self, at: float, rate: float) -> None:
        if rate != self.rate:
            self.rate = rate
            self.truth.rates.append((at, rate))

    def _count(self, at: float, success: bool, description: str, seq: int = -1) -> None:
        """Add one counted attempt to the rolling hour and apply the threshold rule (section 3).

        Attempts come in time order (``at`` never goes back: :meth:`arun` advances the clock to it), so the
        hour is a queue dropping from its front, with its successes counted as they come and go."""
        window = self._window
        window.append((at, success, description, seq))
        self._window_successes += success
        while window[0][0] <= at - WINDOW:
            self._window_successes -= window.popleft()[1]
        if len(window) < MIN_WINDOW_ATTEMPTS or self.truth.suspension is not None:
            return
        rate = self._window_successes / len(window)
        if rate < SUCCESS_THRESHOLD:
            failures = [entry for entry in self._window if not entry[1]]
            kinds = Counter(entry[2] for entry in failures)
            self._suspend(at, "threshold", tuple(f"{k} x{n}" for k, n in kinds.most_common()),
                          tuple(entry[3] for entry in failures if entry[3] >= 0), rate)

    def _suspend(self, at: float, cause: str, responses: tuple[str, ...], attempts: tuple[int, ...],
                 rate: float | None) -> None:
        if self.truth.suspension is None:
            self.truth.suspension = Suspension(at, cause, responses, attempts, rate, self.enforce_suspension,
                                               self._seq - 1)
