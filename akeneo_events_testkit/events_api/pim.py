"""The mock PIM: activity, batching, send-time data, signing and delivery to up to 3 subscriptions.

One seed drives everything: the catalog, the activity, the event ids. Deliveries are built lazily, in
order, while the activity advances, so that a request built later carries later data, as the real PIM's
consumer rebuilds ``data.resource`` from the database when it sends (events-api-facts.md section 4).
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._gc import GcFreezer
from ..clock import Clock, FakeClock, SystemClock
from ..encoding import reserialisation_stable
from ..errors import UsageError
from ..judging.scope import Scope, events_in_scope, focus_factor, note_resource
from ..transport.sender import DEFAULT_TIMEOUT, Attempt, Sender
from ..transport.targets import Target
from ..versions import DEFAULT_PROFILE, PimVersion, content_digest, get_profile
from ..world.activity import Change, Operation
from ..world.catalog import DEFAULT_PIM_URL
from ..world.hazards import HazardTargets
from ..world.shape import CatalogShape, resolve_shape
from .batching import MAX_SUBSCRIPTIONS, Message, batch_operations, filter_own_events
from .faults import FaultInjector, FaultPlan, FaultSpec, parse_fault_spec
from .limits import (
    DEFAULT_REQUEST_LIMIT,
    LOG_NOT_FOUND,
    LOG_OWN_EVENT,
    TEST_BUTTON_TIMEOUT,
    LogEntry,
    RequestLimiter,
    log_entry_for,
)
from .probes import PROBE_KINDS, make_probe, probe_positions
from .schedule import Planned, Scheduler, SendOrder, no_faults
from .signing import sign
from .truth import GeneratedEvent, GroundTruth, RequestRecord, attempt_to_record
from .wire import Delivery, Event, encode_envelope

__all__ = [
    "DATA_MODES",
    "MockPim",
    "ReachabilityCheck",
    "RunResult",
    "Subscription",
]


DATA_MODES = ("send_time", "snapshot")


#: A Pub/Sub message is redelivered once its ack deadline (10 s at least) has passed, so a re-signed copy
#: carries a later timestamp than the original and never the same signature (facts section 6).
ACK_DEADLINE = 10


_RESIGNED_LATER = frozenset({"redeliver", "duplicate_event"})

@dataclass(frozen=True)
class _Prepared:
    """A send order's events as read from the catalog (None: the resource was gone) and its encoded body
    (None: nothing left to send), not yet signed (:meth:`MockPim._prepare`)."""

    order: SendOrder
    made: list[tuple[Event, int] | None]
    body: bytes | None
    #: a receiver re-serialising the body would not get the signed bytes (recorded with the request)
    unstable: bool = False


#: a request ready to send: the delivery, the version each event's data carried, :attr:`_Prepared.unstable`
_Made = tuple[Delivery, tuple[int, ...], bool]


@dataclass(frozen=True)
class Subscription:
    """An event subscription: where to send, with which secret, for which connection user.

    Events whose author is ``connection_user`` are not sent to this subscription (facts section 5).
    """

    target: Target
    secret: str
    name: str = "default"
    connection_user: str | None = None
    path: str = ""
    uuid_mode: bool | None = None  # the subscription's "use UUID" option (7.0, SaaS); None: the PIM's profile

    def profile_for(self, profile: PimVersion) -> PimVersion:
        return profile if self.uuid_mode is None else get_profile(profile, uuid_mode=self.uuid_mode)

    def __repr__(self) -> str:  # never print the secret
        return f"Subscription(name={self.name!r}, target={self.target!r}, secret='[redacted]')"


@dataclass(frozen=True)
class ReachabilityCheck:
    """One "Test" request as sent (its send time and headers; the body is empty) and what it got."""

    attempt: Attempt
    timestamp: int
    headers: tuple[tuple[str, str], ...]
    subscription: str = "default"

    def record(self, seq: int = 0) -> RequestRecord:
        """The check as the ground truth keeps it."""
        return attempt_to_record(self.attempt, seq=seq, subscription=self.subscription, event_ids=(), versions=(),
                                 timestamp=self.timestamp, body_size=0)


@dataclass
class RunResult:
    """The outcome of a run: the ground truth plus a few totals."""

    truth: GroundTruth
    profile: PimVersion
    seed: int
    data_mode: str
    events_generated: int = 0
    requests_sent: int = 0
    limiter_waits: list[float] = field(default_factory=list)
    fault_plan: FaultPlan | None = None
    probes_sent: int = 0

    def __repr__(self) -> str:
        # O(1): asyncio.run() reprs the finished task, result included, when it restores the SIGINT handler;
        # the generated repr would print every event and request (400 MiB of text at a million events).
        return (f"RunResult(profile={self.profile.name!r}, seed={self.seed}, data_mode={self.data_mode!r}, "
                f"events_generated={self.events_generated}, requests_sent={self.requests_sent}, "
                f"probes_sent={self.probes_sent}, requests_recorded={len(self.truth.requests)})")


class MockPim:
    """A PIM that generates activity and delivers it like the real one.

    >>> pim = MockPim(seed=1, events=50)
    >>> result = pim.run("http://127.0.0.1:8000/webhook", secret="s3cret")   # doctest: +SKIP

    ``catalog`` (a catalog file's path, or a :class:`~akeneo_events_testkit.world.shape.CatalogShape`)
    shapes the generated catalog: its families, attributes and channels instead of the kit's own.
    ``scope`` (a :class:`~akeneo_events_testkit.judging.scope.Scope`) is what the receiver is responsible
    for: the faults aim at it (hazards in scope only, fault probabilities raised on the requests carrying
    events in scope, :func:`~akeneo_events_testkit.judging.scope.focus_factor`).
    """

    #: prepare the next request while one is in flight (:meth:`_send_all`); off only to compare the two
    pipeline: bool = True

    def __init__(
        self,
        *,
        seed: int = 0,
        events: int = 100,
        profile: str | PimVersion = DEFAULT_PROFILE,
        uuid_mode: bool | None = None,
        start: int | None = None,
        pim_url: str = DEFAULT_PIM_URL,
        data_mode: str = "send_time",
        clock: Clock | None = None,
        request_limit: int = DEFAULT_REQUEST_LIMIT,
        limiter_clock: Clock | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        scheduler: Scheduler | None = None,
        faults: str | FaultSpec | FaultPlan | None = None,
        probes: bool | Sequence[str] = False,
        connections: Sequence[str] = ("erp_connector_1234", "magento_0000"),
        track_content: bool = False,
        wrap_target: Callable[[Target], Target] | None = None,
        catalog: CatalogShape | str | os.PathLike[str] | None = None,
        scope: Scope | None = None,
    ) -> None:
        if events < 0:
            raise UsageError(f"events must be zero or more, got {events}")
        if data_mode not in DATA_MODES:
            raise UsageError(f"data_mode must be one of {', '.join(DATA_MODES)}, got {data_mode!r}")
        self.seed = seed
        self.events = events
        #: wraps every target before the PIM sends to it (the pytest plugin captures app exceptions this way)
        self.wrap_target = wrap_target or (lambda target: target)
        self.profile = get_profile(profile, uuid_mode=uuid_mode)
        self.clock = clock or SystemClock()
        self.start = int(self.clock.now()) if start is None else int(start)
        self.pim_url = pim_url.rstrip("/")
        self.data_mode = data_mode
        self.timeout = timeout
        self.request_limit = request_limit
        # The hourly limit sleeps on a virtual clock by default so that long runs never wait for real.
        self.limiter_clock = limiter_clock or (self.clock if isinstance(self.clock, FakeClock)
                                               else FakeClock(self.start))
        if scheduler is not None and faults is not None:
            raise UsageError("pass either faults or a custom scheduler, not both")
        self.faults = faults
        self._scheduler = scheduler
        if probes is True:
            self.probe_names: tuple[str, ...] = tuple(PROBE_KINDS)
        elif probes is False:
            self.probe_names = ()
        else:
            unknown = [name for name in probes if name not in PROBE_KINDS]
            if unknown:
                raise UsageError(f"unknown probe {unknown[0]!r}: use any of {', '.join(PROBE_KINDS)}")
            self.probe_names = tuple(probes)
        self.connections = tuple(connections)
        #: the catalog file's shape (``--catalog``), or None for the kit's own catalog
        self.shape = resolve_shape(catalog)
        self.scope = scope
        self.catalog: Any = None
        #: record what each resource said when delivered, to judge receivers that report their data
        self.track_content = track_content
        #: objects told of the timeline: ``catalog_ready(catalog, start)``, ``operation_applied(operation)``
        self.listeners: list[Any] = []

    # -- generation ---------------------------------------------------------------------------------

    def operations(self) -> Iterator[Operation]:
        """The seeded activity, stopping after ``events`` saves; builds a fresh catalog each call."""
        from ..world.activity import generate_activity

        rng = random.Random(self.seed)
        catalog, operations = generate_activity(
            rng=rng, profile=self.profile, events=self.events, start=self.start,
            connections=self.connections, pim_url=self.pim_url, shape=self.shape,
        )
        self.catalog = catalog
        if not self.listeners:
            return operations
        for listener in self.listeners:
            listener.catalog_ready(catalog, self.start)
        return self._tell_listeners(operations)

    def _tell_listeners(self, operations: Iterator[Operation]) -> Iterator[Operation]:
        for operation in operations:
            for listener in self.listeners:
                listener.operation_applied(operation)
            yield operation

    def new_scheduler(self) -> Scheduler:
        """A fresh fault stage for one run; faults draw from their own RNG, apart from the workload's."""
        if self._scheduler is not None:
            return self._scheduler
        if self.faults is None:
            return no_faults
        rng = random.Random(f"faults:{self.seed}")
        if isinstance(self.faults, FaultPlan):
            return FaultInjector(rng=rng, plan=self.faults)  # the plan is replayed as is; its spec is a label
        spec = parse_fault_spec(self.faults) if not isinstance(self.faults, FaultSpec) else self.faults
        if not spec.enabled:
            return no_faults
        reorder = spec.probabilities.get("reorder", 0.0) > 0
        changes = self._future() if reorder or self.scope is not None else []
        inside = self._in_scope(changes)
        targets = self._targets(changes, inside) if reorder else None
        boosted = None
        if inside is not None:
            boosted = FaultSpec({name: min(1.0, p * focus_factor(p, len(inside), total=len(changes)))
                                 for name, p in spec.probabilities.items()}, spec.text)
        return FaultInjector(spec, rng=rng, hazard_rng=random.Random(f"hazards:{self.seed}"), targets=targets,
                             focused=inside or frozenset(), boosted=boosted)

    def _future(self) -> list[Change]:
        """The activity's saves, from a second generation of the same seed (its own catalog: the one sent
        from is not advanced)."""
        from ..world.activity import generate_activity

        _, operations = generate_activity(rng=random.Random(self.seed), profile=self.profile, events=self.events,
                                          start=self.start, connections=self.connections, pim_url=self.pim_url,
                                          shape=self.shape)
        return [change for operation in operations for change in operation.changes]

    def _in_scope(self, changes: list[Change]) -> frozenset[str] | None:
        """The event ids of ``changes`` in the receiver's scope (None without a scope)."""
        if self.scope is None:
            return None
        return events_in_scope(self.scope, changes, lambda change: change.action.value)

    @staticmethod
    def _targets(changes: list[Change], inside: frozenset[str] | None) -> HazardTargets:
        targets = HazardTargets.from_changes(changes)
        return targets if inside is None else targets.only(inside.__contains__)

    def hazard_targets(self) -> HazardTargets:
        """The removals and updates the faults will aim at (:class:`~..world.hazards.HazardTargets`), read from
        the activity's future; with a scope, only those of the events in it (the hazards that test the
        receiver)."""
        changes = self._future()
        return self._targets(changes, self._in_scope(changes))

    def messages(self) -> Iterator[Message]:
        return batch_operations(self.operations())

    def _plan(self, subscriptions: Sequence[Subscription], truth: GroundTruth) -> Iterator[Planned]:
        seq = 0
        for message in self.messages():
            for change in message.changes:
                # one key string per resource, shared by all its events (memory: BENCHMARKS.md section 5)
                truth.add_event(GeneratedEvent(change.event_id, sys.intern(change.key), change.action,
                                               change.epoch, change.version, message.author, message.operation))
                if not change.action.is_removal:
                    note_resource(truth.resources, change.key, change.snapshot)
            for index, subscription in enumerate(subscriptions):
                changes = filter_own_events(message, subscription.connection_user)
                if not changes:
                    truth.drop("own_event", len(message.changes))
                    truth.add_log(LogEntry(self.clock.now(), "NOTICE", LOG_OWN_EVENT,
                                           {"subscription": subscription.name}))
                    continue
                yield Planned(seq, message, index, changes)
                seq += 1

    def _event_for(self, change: Change, message: Message, profile: PimVersion) -> tuple[Event, int] | None:
        """The event as sent now: data rebuilt from the catalog unless in snapshot mode."""
        if change.action.is_removal or self.data_mode == "snapshot":
            resource, version = change.snapshot, change.version
        else:
            current = self.catalog.current(change.key, uuid_mode=profile.uuid_mode)
            if current is None:
                return None
            version, resource = current
        event = Event.at(
            change.epoch,
            action=change.action,
            event_id=change.event_id,
            author=message.author,
            author_type=message.author_type,
            pim_source=self.pim_url,
            data={"resource": resource},
        )
        return event, version

    def build(
        self, order: SendOrder, subscription: Subscription, truth: GroundTruth
    ) -> tuple[Delivery, tuple[int, ...]] | None:
        """Materialise ``order`` now: data at send time, timestamp now, signed."""
        made = self._commit(order, subscription, truth, self._prepare(order, subscription))
        return None if made is None else made[:2]

    def _prepare(self, order: SendOrder, subscription: Subscription, *, judged: bool = True) -> _Prepared:
        """The part of :meth:`build` that reads the catalog and encodes, with no clock and no record: it may
        run while the previous request is in flight (:meth:`arun`), the catalog being the same then.
        ``judged``: also tell whether the body survives a re-serialisation (offline, nobody asks)."""
        profile = subscription.profile_for(self.profile)
        made = [self._event_for(change, order.planned.message, profile) for change in order.changes]
        events = [m[0] for m in made if m is not None]
        if not events:
            return _Prepared(order, made, None)
        body = encode_envelope(events)
        return _Prepared(order, made, body, judged and not reserialisation_stable(body, json_text=True))

    def _commit(
        self, order: SendOrder, subscription: Subscription, truth: GroundTruth, prepared: _Prepared
    ) -> _Made | None:
        """The rest of :meth:`build`, in its turn: the PIM's notices of resources gone, then the signature
        at the clock time of sending."""
        built = []
        for change, made in zip(order.changes, prepared.made, strict=True):
            if made is None:
                truth.drop("not_found_at_send_time")
                truth.add_log(LogEntry(self.clock.now(), "NOTICE", LOG_NOT_FOUND, {"event_id": change.event_id}))
                continue
            built.append(made)
        if prepared.body is None:
            return None
        timestamp = int(self.clock.now()) + (ACK_DEADLINE if _RESIGNED_LATER & set(order.faults) else 0)
        delivery = Delivery.encoded(
            [event for event, _ in built], prepared.body, secret=subscription.secret, timestamp=timestamp,
            profile=subscription.profile_for(self.profile), subscription=subscription.name,
        )
        return delivery, tuple(version for _, version in built), prepared.unstable

    def deliveries(self, *, secret: str, subscriptions: int = 1) -> Iterator[Delivery]:
        """The requests of a faultless run, built offline (no network): for inspection and tests."""
        subs = self._subscriptions(None, None, [
            Subscription(target="http://offline.invalid/", secret=secret, name=f"sub{i}")
            for i in range(subscriptions)])
        truth = GroundTruth()
        sent: dict[int, _Made] = {}
        for order in self.new_scheduler()(self._plan(subs, truth)):
            made = self._materialise(order, subs, truth, sent, judged=False)
            if made is not None:
                yield made[0]

    # -- delivery -----------------------------------------------------------------------------------

    def run(
        self,
        target: Target | None = None,
        *,
        secret: str | None = None,
        subscriptions: Iterable[Subscription] | None = None,
        truth: GroundTruth | None = None,
        on_request: Callable[[int], None] | None = None,
        test_requests: Sequence[ReachabilityCheck] = (),
    ) -> RunResult:
        """Generate the activity and deliver it; returns the ground truth. Synchronous.

        ``test_requests``: the "Test" requests sent before the run (:meth:`check_reachability`), kept in the
        ground truth so that the oracle judges their answers.
        """
        return asyncio.run(self.arun(target, secret=secret, subscriptions=subscriptions, truth=truth,
                                     on_request=on_request, test_requests=test_requests))

    async def arun(
        self,
        target: Target | None = None,
        *,
        secret: str | None = None,
        subscriptions: Iterable[Subscription] | None = None,
        truth: GroundTruth | None = None,
        on_request: Callable[[int], None] | None = None,
        test_requests: Sequence[ReachabilityCheck] = (),
    ) -> RunResult:
        """:meth:`run` for callers already inside an event loop (e.g. an ASGI receiver's test)."""
        subs = self._subscriptions(target, secret, subscriptions)
        truth = truth if truth is not None else GroundTruth()
        truth.set_meta(seed=self.seed, profile=self.profile.name, uuid_mode=self.profile.uuid_mode,
                       events=self.events, data_mode=self.data_mode, start=self.start)
        for check in test_requests:
            truth.add_test_request(check.record(len(truth.test_requests)), headers=check.headers)
        result = RunResult(truth, self.profile, self.seed, self.data_mode)
        limiter = RequestLimiter(self.request_limit, clock=self.limiter_clock)
        senders = [Sender(self.wrap_target(s.target), follow_redirects=self.profile.follow_redirects,
                          timeout=self.timeout, path=s.path, redact=[sub.secret for sub in subs]) for s in subs]
        sent: dict[int, _Made] = {}
        scheduler = self.new_scheduler()
        if isinstance(scheduler, FaultInjector):
            result.fault_plan = scheduler.plan
        probe_rng = random.Random(f"probes:{self.seed}")
        due_probes = probe_positions(probe_rng, self.probe_names, max(1, self.events // 4))
        freezer = GcFreezer()
        try:
            current_message = -1
            pending: list[tuple[SendOrder, Delivery, tuple[int, ...], bool]] = []
            for order in scheduler(self._plan(subs, truth)):
                if order.build_only:  # built and signed now, overtaken in flight: sent later (faults.py)
                    self._materialise(order, subs, truth, sent)
                    continue
                same_send = order.planned.message.seq == current_message and all(
                    queued.planned.subscription != order.planned.subscription for queued, *_ in pending)
                ahead = None
                if pending and not same_send:
                    # the consumer handles one message at a time; its fan-out to the subscriptions goes out in
                    # parallel, while each subscription gets its requests one after the other
                    ahead = await self._send_all(pending, subs, senders, truth, result, limiter, on_request,
                                                 ahead_of=order)
                    pending = []
                    freezer.tick(len(truth.events))
                    while due_probes and due_probes[0][0] <= current_message:
                        await self._send_probe(due_probes.pop(0)[1], probe_rng, subs, senders, truth, result)
                current_message = order.planned.message.seq
                made = self._materialise(order, subs, truth, sent, ahead)
                if made is not None:
                    pending.append((order, *made))
            if pending:
                await self._send_all(pending, subs, senders, truth, result, limiter, on_request, ahead_of=None)
            for _, name in due_probes:
                await self._send_probe(name, probe_rng, subs, senders, truth, result)
        finally:
            freezer.close()
            for sender in senders:
                await sender.aclose()
        result.events_generated = len(truth.events)
        result.limiter_waits = limiter.waits
        return result

    async def _send_probe(
        self,
        name: str,
        rng: random.Random,
        subs: Sequence[Subscription],
        senders: Sequence[Sender],
        truth: GroundTruth,
        result: RunResult,
    ) -> None:
        for index, subscription in enumerate(subs):
            probe = make_probe(name, rng=rng, secret=subscription.secret, timestamp=int(self.clock.now()),
                               profile=self.profile, pim_source=self.pim_url, number=result.probes_sent)
            attempt = await senders[index].post(probe.body, probe.headers)
            truth.add_request(attempt_to_record(
                attempt, seq=len(truth.requests), subscription=subscription.name, event_ids=probe.event_ids,
                versions=(), timestamp=int(self.clock.now()), body_size=len(probe.body), probe=name,
                must_apply=probe.must_apply,
            ), body=probe.body, headers=probe.headers, recipe=probe.recipe.to_json())
            result.probes_sent += 1

    def _materialise(
        self,
        order: SendOrder,
        subs: Sequence[Subscription],
        truth: GroundTruth,
        sent: dict[int, _Made],
        prepared: _Prepared | None = None,
        *,
        judged: bool = True,
    ) -> _Made | None:
        if order.replay_of is not None:
            # byte for byte, old timestamp and signature included; nothing to replay if never sent
            return sent.pop(order.replay_of, None)
        subscription = subs[order.planned.subscription]
        if prepared is None or prepared.order is not order:
            prepared = self._prepare(order, subscription, judged=judged)
        made = self._commit(order, subscription, truth, prepared)
        if made is not None and order.keep_bytes:
            sent[order.order_id] = made
        return None if order.build_only else made  # built now, sent by a later replay_of order

    async def _send_all(
        self,
        pending: list[tuple[SendOrder, Delivery, tuple[int, ...], bool]],
        subs: Sequence[Subscription],
        senders: Sequence[Sender],
        truth: GroundTruth,
        result: RunResult,
        limiter: RequestLimiter,
        on_request: Callable[[int], None] | None,
        *,
        ahead_of: SendOrder | None,
    ) -> _Prepared | None:
        """Send ``pending`` together and record the answers; meanwhile, prepare ``ahead_of`` (the next order,
        already drawn from the activity) and return it.

        Pipelining: while the requests are in flight the kit's CPU would idle, so the next request's events
        are read from the catalog and encoded then. Nothing else moves: the activity is not advanced (the
        next order was drawn before, as without pipelining), the catalog is the one it would be read from
        after these answers (the requests do not change it), and what takes the clock or writes the ground
        truth (notices, signature, records) still happens in its turn (:meth:`_commit`). The receiver's time
        is unchanged too: the stopwatch counts only the time no thread of the kit's process is on a CPU
        (:mod:`..transport.timing`), and this work is on one.
        """
        limiter.wait_if_needed()
        all_sent = asyncio.get_running_loop().create_future()
        unsent = len(pending)

        def one_sent() -> None:
            nonlocal unsent
            unsent -= 1
            if not unsent and not all_sent.done():
                all_sent.set_result(None)

        flight = asyncio.gather(*(
            senders[order.planned.subscription].post(delivery.body, delivery.headers, on_sent=one_sent)
            for order, delivery, _, _ in pending
        ))
        ahead = None
        try:
            if ahead_of is not None and ahead_of.replay_of is None and self.pipeline:
                # once the requests are on the wire (an in-process app shares the interpreter: after its answer)
                await asyncio.wait({all_sent, flight}, return_when=asyncio.FIRST_COMPLETED)
                ahead = self._prepare(ahead_of, subs[ahead_of.planned.subscription])
        except BaseException:
            flight.cancel()
            await asyncio.gather(flight, return_exceptions=True)
            raise
        finally:
            all_sent.cancel()
        attempts = await flight
        limiter.record(len(pending))
        for (order, delivery, versions, unstable), attempt in zip(pending, attempts, strict=True):
            self._record(order, delivery, versions, unstable, attempt, subs, senders, truth)
            result.requests_sent += 1
            if on_request is not None:
                on_request(len(delivery.events))
        return ahead

    def _record(
        self,
        order: SendOrder,
        delivery: Delivery,
        versions: tuple[int, ...],
        unstable: bool,
        attempt: Attempt,
        subs: Sequence[Subscription],
        senders: Sequence[Sender],
        truth: GroundTruth,
    ) -> None:
        subscription = subs[order.planned.subscription]
        truth.add_request(attempt_to_record(
            attempt, seq=len(truth.requests), subscription=subscription.name, event_ids=delivery.event_ids,
            versions=versions, timestamp=delivery.timestamp, body_size=len(delivery.body),
            faults=order.faults, message=order.planned.message.seq,
            unstable=unstable,
        ), body=delivery.body, headers=delivery.headers)
        if self.track_content and attempt.is_2xx:
            profile = subscription.profile_for(self.profile)
            ident = self.catalog.structure.identifier_attribute  # a catalog file's may not be sku
            for event in delivery.events:
                current = self.catalog.current(event.key, uuid_mode=profile.uuid_mode)
                carried = None if event.action.is_removal else content_digest(event.resource,
                                                                              identifier_attribute=ident)
                truth.note_content(event.key, event.epoch, content_digest(current[1] if current else None,
                                                                          identifier_attribute=ident),
                                   carried, identifier_attribute=ident)
        if not truth.wants_log:  # the log is full and not streamed: an entry would be built, then dropped
            return
        summaries = [_summary(event) for event in delivery.events]
        truth.add_log(log_entry_for(attempt, epoch=self.clock.now(), url=senders[order.planned.subscription].url,
                                    request_headers=delivery.headers, events=summaries, timeout=self.timeout))

    def _subscriptions(
        self, target: Target | None, secret: str | None, subscriptions: Iterable[Subscription] | None
    ) -> list[Subscription]:
        if subscriptions is not None:
            subs = list(subscriptions)
            if target is not None:
                raise UsageError("pass either a target and a secret, or subscriptions, not both")
        else:
            if target is None or not secret:
                raise UsageError("pass a target (URL, ASGI or WSGI app) and a non-empty secret")
            subs = [Subscription(target=target, secret=secret)]
        if not 1 <= len(subs) <= MAX_SUBSCRIPTIONS:
            raise UsageError(f"the PIM allows 1 to {MAX_SUBSCRIPTIONS} active subscriptions, got {len(subs)}")
        if len({s.name for s in subs}) != len(subs):
            raise UsageError("subscription names must be unique")
        for sub in subs:
            profile = sub.profile_for(self.profile)  # raises for a UUID mode the profile lacks
            if self.data_mode == "snapshot" and profile.uuid_mode != self.profile.uuid_mode:
                raise UsageError(f"subscription {sub.name!r}: snapshot mode needs every subscription in the PIM's "
                                 "UUID mode; set uuid_mode on the MockPim instead")
        return subs

    # -- the "Test" button --------------------------------------------------------------------------

    def test_button(self, target: Target, *, secret: str, path: str = "") -> Attempt:
        """The reachability check: an empty body, signed over ``"<ts>."``, redirects not followed."""
        return self.check_reachability(target, secret=secret, path=path).attempt

    def check_reachability(
        self, target: Target, *, secret: str, path: str = "", subscription: str = "default"
    ) -> ReachabilityCheck:
        """:meth:`test_button`, with the request as sent; pass it to :meth:`run` to have its answer judged."""
        async def check() -> ReachabilityCheck:
            timestamp = int(self.clock.now())
            headers = tuple(self.profile.headers(sign(secret, timestamp, b""), timestamp))
            async with Sender(self.wrap_target(target), follow_redirects=False, timeout=TEST_BUTTON_TIMEOUT,
                              path=path, redact=[secret]) as sender:
                return ReachabilityCheck(await sender.post(b"", headers), timestamp, headers, subscription)

        return asyncio.run(check())


def _summary(event: Event) -> dict[str, Any]:
    """How the PIM's log summarises an event (facts section 5)."""
    summary: dict[str, Any] = {
        "action": event.action.value, "event_id": event.event_id, "event_datetime": event.event_datetime,
        "author": event.author, "author_type": event.author_type.value,
    }
    resource = event.resource
    if event.action.entity == "product_model":
        summary["product_model_code"] = resource.get("code")
    else:
        summary["product_identifier"] = resource.get("identifier", resource.get("uuid"))
    return summary
