"""Hypothesis strategies for the Events API: events, signed deliveries, workloads, fault plans, schedules.

Import the module to use it; importing it also registers :func:`events` and :func:`deliveries` for
``st.from_type(Event)`` and ``st.from_type(Delivery)``::

    from hypothesis import given
    from akeneo_events_testkit import strategies as aks

    @given(aks.deliveries(profile="6.0", secret="s3cret"))
    def test_receiver_accepts_any_genuine_request(delivery): ...

Payloads are written by hand from events-api-facts.md sections 4 and 7 (value formats, key order, UUID
modes); the JSON Schemas check them and never generate them. The API follows Hypothesis's house style:
plural nouns, keyword-only arguments, strategies where values vary, and misuse raises
:class:`~hypothesis.errors.InvalidArgument` when the strategy is made, not when it is drawn from.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from ...events_api.batching import batch_operations
from ...events_api.faults import FAULT_KINDS, Fault, FaultInjector, FaultPlan
from ...events_api.pim import DEFAULT_PIM_URL
from ...events_api.schedule import Planned
from ...events_api.truth import GeneratedEvent, GroundTruth
from ...events_api.wire import MAX_BATCH_SIZE, Delivery, Event
from ...versions import Action, AuthorType, Profile, format_event_datetime
from ...versions import resource_key as _resource_key
from ...world.activity import Change, Operation
from .common import (
    AUTHORS,
    DEFAULT_SECRET,
    DEFAULT_START,
    as_action,
    check_int,
    check_secret,
    check_strategy,
    fail,
    resolve_profile,
    uuid_modes,
)
from .payloads import (
    CATEGORIES,
    FAMILIES,
    c_date,
    codes,
    draw_resource,
    fixed_values,
    model_payload,
    product_payload,
    removed_payload,
    stable_uuid4,
    uuid4s,
)

__all__ = [
    "AUTHORS",
    "DEFAULT_SECRET",
    "DEFAULT_START",
    "Schedule",
    "ScheduledDelivery",
    "deliveries",
    "delivery_schedules",
    "events",
    "fault_plans",
    "workloads",
]

_PIM_SOURCES = (DEFAULT_PIM_URL, "http://localhost:8080", "https://acme.cloud.akeneo.com")
_OFFSETS = (0, 60, 120, -300, 330)
_BUFFERS: tuple[tuple[Action, ...], ...] = (
    (Action.PRODUCT_CREATED, Action.PRODUCT_UPDATED), (Action.PRODUCT_REMOVED,),
    (Action.PRODUCT_MODEL_CREATED, Action.PRODUCT_MODEL_UPDATED), (Action.PRODUCT_MODEL_REMOVED,),
)
_ALL_FAULTS = tuple(name for names in FAULT_KINDS.values() for name in names)
_MAX_SHIFT = 8


def _utc_offset(moment: object) -> int:
    if not isinstance(moment, datetime):
        fail(f"event_datetimes must generate datetimes, got {moment!r}")
    offset = moment.utcoffset()
    if offset is None:
        fail(f"event_datetimes must generate aware datetimes, got naive {moment!r}: "
              "use st.datetimes(timezones=st.just(timezone.utc))")
    minutes = int(offset.total_seconds()) // 60
    if abs(minutes) >= 15 * 60 or not 1000 <= moment.year <= 9999:
        fail(f"event_datetimes generated {moment!r}: the PIM writes years 1000-9999 and offsets within ±14:59")
    return minutes


def _draw_event(draw: st.DrawFn, *, profile: Profile, mode: bool, action: Action, code: str, author: str,
                author_type: AuthorType, moment: datetime, pim_source: str, event_id: str) -> Event:
    offset = _utc_offset(moment)
    epoch = int(moment.timestamp())
    resource = draw_resource(draw, action, profile, mode, code, epoch, offset, pim_source)
    return Event(action, event_id, format_event_datetime(epoch, offset), author, author_type, pim_source,
                 {"resource": resource})


_datetimes = st.datetimes(min_value=datetime(2021, 1, 1), max_value=datetime(2026, 12, 31),
                          timezones=st.sampled_from([timezone(timedelta(minutes=m)) for m in _OFFSETS]))
_authors = st.sampled_from(sorted(AUTHORS.items()))


def events(
    *,
    profile: str | Profile = "saas",
    uuid_mode: bool | None = None,
    actions: SearchStrategy[Action] | None = None,
    identifiers: SearchStrategy[str] | None = None,
    authors: SearchStrategy[tuple[str, AuthorType]] | None = None,
    event_datetimes: SearchStrategy[datetime] | None = None,
    pim_sources: SearchStrategy[str] | None = None,
) -> SearchStrategy[Event]:
    """Events as the PIM of ``profile`` sends them, each valid against that profile's schema.

    ``data.resource`` is a small product, product model or removal payload (facts sections 4 and 7):
    4-decimal number strings, metrics with a unit (and a ``symbol`` in SaaS), 2-decimal prices, PHP ``'c'``
    dates, media with an absolute ``_links`` href, and sometimes non-ASCII text. ``identifiers`` draws the
    product identifier or model code; the same identifier always gets the same product ``uuid``, so a small
    set of identifiers yields several events about one resource. ``authors`` draws ``(name, AuthorType)``;
    ``event_datetimes`` draws aware datetimes (the offset is kept, facts section 4). ``uuid_mode=None``
    draws either mode on 7.0 and SaaS.
    """
    resolved = resolve_profile(profile, uuid_mode)
    for name, value in (("actions", actions), ("identifiers", identifiers), ("authors", authors),
                        ("event_datetimes", event_datetimes), ("pim_sources", pim_sources)):
        if value is not None:
            check_strategy(name, value)
    modes = uuid_modes(resolved, uuid_mode)
    drawn_actions = actions if actions is not None else st.sampled_from(list(Action))
    drawn_codes = identifiers if identifiers is not None else codes
    drawn_authors = authors if authors is not None else _authors
    moments = event_datetimes if event_datetimes is not None else _datetimes
    sources = pim_sources if pim_sources is not None else st.sampled_from(_PIM_SOURCES)

    @st.composite
    def build(draw: st.DrawFn) -> Event:
        action = as_action(draw(drawn_actions))
        code, (author, author_type) = draw(drawn_codes), draw(drawn_authors)
        if not isinstance(code, str) or not code:
            fail(f"identifiers generated {code!r}: generate non-empty strings")
        if not isinstance(author, str) or not author:
            fail(f"authors generated {author!r}: generate (non-empty name, AuthorType) pairs")
        return _draw_event(draw, profile=resolved, mode=draw(modes), action=action, code=code, author=author,
                           author_type=AuthorType(author_type), moment=draw(moments), pim_source=draw(sources),
                           event_id=draw(uuid4s))

    return build()


_batch_sizes, _steps, _lags = st.integers(1, MAX_BATCH_SIZE), st.integers(0, 2), st.integers(0, 30)
_buffers = st.sampled_from([st.sampled_from(kinds) for kinds in _BUFFERS])
_pim_sources = st.sampled_from(_PIM_SOURCES)


@st.composite
def _batches(draw: st.DrawFn, profile: Profile, modes: SearchStrategy[bool]) -> list[Event]:
    """One message's events: one buffer kind, one author, save order, unique ids (facts section 4)."""
    actions, mode = draw(_buffers), draw(modes)
    author, author_type = draw(_authors)
    moment, pim_source = draw(_datetimes), draw(_pim_sources)
    batch: list[Event] = []
    for index in range(draw(_batch_sizes)):
        moment += timedelta(seconds=draw(_steps))
        event_id = draw(uuid4s)
        if any(event.event_id == event_id for event in batch):
            event_id = stable_uuid4("batch", event_id, index)
        batch.append(_draw_event(draw, profile=profile, mode=mode, action=draw(actions),
                                 code=draw(codes), author=author, author_type=author_type, moment=moment,
                                 pim_source=pim_source, event_id=event_id))
    return batch


def deliveries(
    *,
    events: SearchStrategy[Sequence[Event]] | None = None,
    secret: str = DEFAULT_SECRET,
    timestamps: SearchStrategy[int] | None = None,
    profile: str | Profile = "saas",
    uuid_mode: bool | None = None,
) -> SearchStrategy[Delivery]:
    """Signed requests of 1 to 10 events, encoded and signed as the PIM does (``Delivery.build``).

    By default a batch is what one PIM message holds: one buffer kind, one author, save order (facts
    section 4). ``events`` draws the event lists instead; ``timestamps`` the signing time, by default a
    few seconds after the newest event (the PIM signs at send time, facts section 2).
    """
    resolved = resolve_profile(profile, uuid_mode)
    secret = check_secret(secret)
    if events is not None:
        check_strategy("events", events)
    if timestamps is not None:
        check_strategy("timestamps", timestamps)
    batches = events if events is not None else _batches(resolved, uuid_modes(resolved, uuid_mode))

    @st.composite
    def build(draw: st.DrawFn) -> Delivery:
        batch = list(draw(batches))
        if not 1 <= len(batch) <= MAX_BATCH_SIZE or not all(isinstance(e, Event) for e in batch):
            fail(f"events must generate lists of 1 to {MAX_BATCH_SIZE} Event objects, got {batch!r:.200}")
        newest = max(int(event.epoch) for event in batch)
        timestamp = draw(timestamps) if timestamps is not None else newest + draw(_lags)
        return Delivery.build(batch, secret=secret, timestamp=timestamp, profile=resolved)

    return build()


# -- workloads -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """One resource of a workload: what stays the same across its saves."""

    entity: str
    code: str
    family: str | None = None


class ResourceHistory:
    """A tiny PIM over a fixed set of resources, shared by :func:`workloads` and the state machine.

    A save creates an absent resource (a re-creation after a removal gets a new uuid in 7.0 and SaaS, facts
    section 4) or updates it; a removal removes a present one. Versions count saves per resource key, the
    removal included, and never go back. ``current`` holds each present resource's data, for emitters that
    build data at send time.
    """

    def __init__(self, slots: Sequence[Slot], *, profile: Profile, uuid_mode: bool, pim_source: str) -> None:
        self.slots, self.profile, self.uuid_mode, self.pim_source = tuple(slots), profile, uuid_mode, pim_source
        self.keys: list[str | None] = [None] * len(self.slots)
        self.lives = [0] * len(self.slots)
        self.created = [0] * len(self.slots)
        self.versions: dict[str, int] = {}
        self.current: dict[str, tuple[int, Mapping[str, Any]]] = {}
        self.count = 0

    def alive(self, index: int) -> bool:
        return self.keys[index] is not None

    def _uuid(self, index: int) -> str:
        return stable_uuid4("product", self.slots[index].code, self.lives[index])

    def _key(self, index: int, action: Action) -> str:
        slot = self.slots[index]
        if slot.entity == "product_model":
            return _resource_key(action, {"code": slot.code})
        return _resource_key(action, {"uuid": self._uuid(index) if self.profile.has_uuid else None,
                                      "identifier": slot.code})

    def _snapshot(self, index: int, version: int, epoch: int) -> dict[str, Any]:
        slot = self.slots[index]
        values = fixed_values(index, version, self.profile.metric_symbol, self.pim_source)
        created, updated = c_date(self.created[index]), c_date(epoch)
        if slot.entity == "product_model":
            return model_payload(slot.code, family=slot.family, categories=CATEGORIES[:1], values=values,
                                  created=created, updated=updated)
        return product_payload(self.profile, self.uuid_mode, slot.code, product_uuid=self._uuid(index),
                                family=slot.family, categories=CATEGORIES[:1], values=values, created=created,
                                updated=updated)

    def touch(self, index: int, epoch: int, *, remove: bool) -> Change | None:
        """Save (create or update) or remove resource ``index`` at ``epoch``; None to remove an absent one."""
        slot, alive = self.slots[index], self.keys[index] is not None
        if remove and not alive:
            return None
        if not alive:
            self.lives[index] += 1
            self.created[index] = epoch
        action = Action(f"{slot.entity}.{'removed' if remove else 'updated' if alive else 'created'}")
        key = self._key(index, action)
        version = self.versions[key] = self.versions.get(key, 0) + 1
        payload: dict[str, Any]
        if remove:
            payload = removed_payload(action, self.profile, slot.code, self._uuid(index))
            self.keys[index] = None
            self.current.pop(key, None)
        else:
            payload = self._snapshot(index, version, epoch)
            self.keys[index] = key
            self.current[key] = (version, payload)
        self.count += 1
        return Change(action, key, stable_uuid4("event", self.count), epoch, version, payload)


_slots = st.builds(Slot, st.sampled_from(("product", "product_model")), codes,
                   st.one_of(st.none(), st.sampled_from(FAMILIES)))


def operation_kind(unitary: bool, changes: Sequence[Change], author_type: AuthorType) -> str:
    """A name for the operation, after activity.py's kinds (facts section 4)."""
    action = changes[0].action
    if not unitary:
        bulk = {AuthorType.UI: "import", AuthorType.API: "api_bulk", AuthorType.SYSTEM: "system_rules"}
        return "mass_removal" if action.is_removal else bulk[author_type]
    verb = "removal" if action.is_removal else "save" if author_type is AuthorType.API else "edit"
    return f"{'api' if author_type is AuthorType.API else 'ui'}_{verb}"


def workloads(
    *,
    profile: str | Profile = "saas",
    uuid_mode: bool | None = None,
    min_events: int = 1,
    max_events: int = 50,
    max_resources: int = 4,
    start: int = DEFAULT_START,
) -> SearchStrategy[list[Operation]]:
    """Coherent PIM histories over at most ``max_resources`` resources, as lists of operations.

    Each resource is created before it is updated, nothing follows a removal but a re-creation, versions
    increase per resource, and epochs never go back; operations are unitary saves or ``saveAll`` bulks
    whose saves often share a second (facts section 4). Examples shrink towards fewer operations, fewer
    events and fewer resources, with every save in the same second.
    """
    resolved = resolve_profile(profile, uuid_mode)
    check_int("min_events", min_events, 0)
    check_int("max_events", max_events, 1)
    check_int("max_resources", max_resources, 1)
    check_int("start", start, 0)
    if max_events < min_events:
        fail(f"max_events={max_events} < min_events={min_events}: raise max_events or lower min_events")
    modes = uuid_modes(resolved, uuid_mode)

    @st.composite
    def build(draw: st.DrawFn) -> list[Operation]:
        slots = draw(st.lists(_slots, min_size=1, max_size=max_resources, unique_by=lambda s: (s.entity, s.code)))
        history = ResourceHistory(slots, profile=resolved, uuid_mode=draw(modes), pim_source=DEFAULT_PIM_URL)
        specs = draw(st.lists(_operation_specs(len(slots)), min_size=min_events, max_size=max_events))
        operations: list[Operation] = []
        now, total = start, 0
        for bulk, remove, author, targets, gap, per_second in specs:
            if total >= max_events:
                break
            now += gap
            if remove and bulk:  # only a user's mass delete removes in bulk
                author = "julia"
            changes: list[Change] = []
            for target in targets[: max_events - total]:
                change = history.touch(target, now + len(changes) // per_second, remove=remove)
                if change is not None:
                    changes.append(change)
            if not changes:  # nothing to remove: the author creates it instead
                created = history.touch(targets[0], now, remove=False)
                assert created is not None
                changes.append(created)
            author_type = AUTHORS[author]
            unitary = not bulk and author_type is not AuthorType.SYSTEM
            operations.append(Operation(len(operations), operation_kind(unitary, changes, author_type), author,
                                        author_type, unitary, changes[0].epoch, tuple(changes)))
            now, total = changes[-1].epoch, total + len(changes)
        return operations

    return build()


_gaps, _rates, _author_names = st.integers(0, 90), st.integers(1, 20), st.sampled_from(sorted(AUTHORS))


@functools.lru_cache(maxsize=32)
def _operation_specs(resources: int) -> SearchStrategy[tuple[bool, bool, str, list[int], int, int]]:
    """One operation, independent of the state it will meet: bulk?, removal?, author, targets, gap, rate."""
    targets = st.integers(0, resources - 1)
    bulks = st.lists(targets, min_size=2, max_size=12)

    @st.composite
    def specs(draw: st.DrawFn) -> tuple[bool, bool, str, list[int], int, int]:
        bulk, remove = draw(st.booleans()), draw(st.booleans())
        chosen = draw(bulks) if bulk else [draw(targets)]
        return bulk, remove, draw(_author_names), chosen, draw(_gaps), draw(_rates) if bulk else 1

    return specs()


# -- fault plans -----------------------------------------------------------------------------------------------


_shifts = st.integers(1, _MAX_SHIFT)
#: Parameters the :class:`FaultInjector` accepts per fault (see ``faults._params``); indexes are fitted later.
_FAULT_PARAMS: dict[str, SearchStrategy[dict[str, Any]]] = {
    "swap": st.integers(2, MAX_BATCH_SIZE).flatmap(lambda n: st.permutations(list(range(n)))).map(
        lambda order: {"order": list(order)}),
    "late": st.fixed_dictionaries({"by": _shifts}),
    "delay": st.fixed_dictionaries({"seconds": st.integers(1, 900)}),
    "duplicate_event": st.fixed_dictionaries({"index": st.integers(0, 9), "after": _shifts}),
    "redeliver": st.fixed_dictionaries({"after": _shifts}),
    "replay": st.fixed_dictionaries({"after": _shifts}),
    "drop_event": st.fixed_dictionaries({"index": st.integers(0, 9)}),
    "drop": st.fixed_dictionaries({}),
}


def fault_plans(
    *,
    kinds: Collection[str] | None = None,
    min_faults: int = 0,
    max_faults: int = 3,
    max_target: int = 20,
) -> SearchStrategy[FaultPlan]:
    """Replayable fault plans of ``min_faults`` to ``max_faults`` faults on planned requests 0..``max_target``.

    ``kinds`` names fault families (``reorder``, ``duplicate``, ``drop``, ``delay``) or single faults
    (``swap``, ``late``, ``redeliver``, ``replay``...), see ``faults.FAULT_KINDS``; all by default. Plans
    shrink towards fewer faults (facts section 6 says why each exists).
    """
    if kinds is None:
        names = _ALL_FAULTS
    else:
        if isinstance(kinds, str) or not isinstance(kinds, Collection):
            fail(f"kinds must be a collection of names, e.g. kinds=['drop'], got {kinds!r}")
        unknown = sorted(str(k) for k in kinds if k not in FAULT_KINDS and k not in _ALL_FAULTS)
        if unknown or not kinds:
            fail(f"unknown fault kind {unknown[0]!r}: use any of {', '.join([*FAULT_KINDS, *_ALL_FAULTS])}"
                  if unknown else "kinds is empty: pass at least one kind, or max_faults=0 for no faults")
        names = tuple(dict.fromkeys(n for k in kinds for n in FAULT_KINDS.get(k, (k,))))
    check_int("min_faults", min_faults, 0)
    check_int("max_faults", max_faults, 0)
    check_int("max_target", max_target, 0)
    if max_faults < min_faults:
        fail(f"max_faults={max_faults} < min_faults={min_faults}: raise max_faults or lower min_faults")
    targets = st.integers(0, max_target)
    faults = st.one_of(*(st.builds(Fault, targets, st.just(kind), _FAULT_PARAMS[kind]) for kind in names))
    return st.lists(faults, min_size=min_faults, max_size=max_faults).map(
        lambda drawn: FaultPlan(sorted(drawn, key=lambda fault: fault.target)))


def _fit(plan: FaultPlan, sizes: Sequence[int]) -> FaultPlan:
    """The plan aimed at the requests that exist: targets modulo their count, indexes within each request.

    A swap that leaves a request as it was is no fault and is left out.
    """
    fitted: list[Fault] = []
    for fault in plan.faults if sizes else ():
        target = fault.target % len(sizes)
        size, params = sizes[target], dict(fault.params)
        if fault.kind == "swap":
            order = [i for i in params.get("order", []) if i < size]
            order += [i for i in range(size) if i not in order]
            if order == sorted(order):
                continue
            params["order"] = order
        elif fault.kind in ("duplicate_event", "drop_event"):
            params["index"] = int(params.get("index", 0)) % size
        fitted.append(Fault(target, fault.kind, params))
    return FaultPlan(fitted, plan.spec)


# -- schedules -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduledDelivery:
    """One request of a schedule: sent at virtual time ``at`` (a replay keeps its old timestamp)."""

    delivery: Delivery
    at: int
    faults: tuple[str, ...]
    message: int
    versions: tuple[int, ...]


@dataclass(frozen=True, repr=False)
class Schedule:
    """The requests a receiver gets, in order, with what the oracle needs to judge it.

    ``items`` are the requests after ``plan`` (the applied plan) reordered, duplicated or dropped them.
    ``stateful.deliver`` sends them to a receiver and returns the ground truth for ``oracle.judge``.
    Timestamps are virtual: give the receiver a clock set to each request's ``at``, e.g. a ``FakeClock``.
    """

    operations: tuple[Operation, ...]
    plan: FaultPlan
    items: tuple[ScheduledDelivery, ...]
    profile: Profile

    @property
    def deliveries(self) -> tuple[Delivery, ...]:
        return tuple(item.delivery for item in self.items)

    @property
    def events(self) -> dict[str, GeneratedEvent]:
        return {change.event_id: GeneratedEvent(change.event_id, change.key, change.action, change.epoch,
                                                change.version, operation.author, operation.seq)
                for operation in self.operations for change in operation.changes}

    @property
    def resources(self) -> set[str]:
        return {change.key for operation in self.operations for change in operation.changes}

    def truth(self) -> GroundTruth:
        """A fresh ground truth holding the generated events and no request yet."""
        truth = GroundTruth()
        for event in self.events.values():
            truth.add_event(event)
        return truth

    def describe(self) -> str:
        """Operations, the fault plan and the requests in send order, with short event ids."""
        lines = [f"Schedule(profile={self.profile.name!r}, events={len(self.events)}, "
                 f"resources={len(self.resources)}, faults={len(self.plan.faults)}, requests={len(self.items)})"]
        for op in self.operations:
            saves = ", ".join(f"{c.action.value} {c.event_id[:8]} {c.key} v{c.version} @{c.epoch}"
                              for c in op.changes)
            lines.append(f"  op {op.seq} {op.kind} by {op.author}: {saves}")
        lines.extend(f"  fault {fault.describe()}" for fault in self.plan.faults)
        for seq, item in enumerate(self.items):
            faults = f" [{','.join(item.faults)}]" if item.faults else ""
            ids = ", ".join(event_id[:8] for event_id in item.delivery.event_ids)
            lines.append(f"  request {seq} at {item.at} (message {item.message}, ts {item.delivery.timestamp})"
                         f"{faults}: {ids}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.describe()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How Hypothesis prints a falsifying schedule (the IPython pretty-printing protocol)."""
        for index, line in enumerate(self.describe().splitlines()):
            if index:
                printer.break_()
            printer.text(line)


def delivery_schedules(
    *,
    workloads: SearchStrategy[list[Operation]] | None = None,
    fault_plans: SearchStrategy[FaultPlan] | None = None,
    secret: str = DEFAULT_SECRET,
    profile: str | Profile = "saas",
) -> SearchStrategy[Schedule]:
    """Concrete delivery schedules: a workload batched as the PIM does, with a fault plan applied.

    The plan goes through the emitter's own :class:`FaultInjector`, fitted to the requests that exist;
    data is the snapshot taken at save time. Defaults: ``workloads(profile=profile)`` and
    ``fault_plans()``. Examples shrink towards fewer events, fewer faults and fewer resources.
    """
    resolved = resolve_profile(profile, None)
    secret = check_secret(secret)
    for name, value in (("workloads", workloads), ("fault_plans", fault_plans)):
        if value is not None:
            check_strategy(name, value)
    histories = workloads if workloads is not None else _workloads(profile=resolved)
    plans = fault_plans if fault_plans is not None else _fault_plans()

    @st.composite
    def build(draw: st.DrawFn) -> Schedule:
        operations = tuple(draw(histories))
        plan = draw(plans)
        if not all(isinstance(op, Operation) for op in operations) or not isinstance(plan, FaultPlan):
            fail("workloads must generate lists of Operation and fault_plans FaultPlan objects")
        planned = [Planned(seq, message, 0, message.changes) for seq, message in
                   enumerate(batch_operations(operations))]
        plan = _fit(plan, [len(item.changes) for item in planned])
        delays = {f.target: int(f.params.get("seconds", 0)) for f in plan.faults if f.kind == "delay"}
        items: list[ScheduledDelivery] = []
        kept: dict[int, ScheduledDelivery] = {}
        now = min((op.epoch for op in operations), default=DEFAULT_START)
        for order in FaultInjector(plan=plan)(iter(planned)):
            message = order.planned.message
            delay = delays.get(order.planned.seq, 0) if "delay" in order.faults else 0
            now = max(now, message.changes[-1].epoch + delay)
            if order.replay_of is not None:
                replayed = kept.pop(order.replay_of, None)
                if replayed is not None:  # byte for byte: the old timestamp and signature
                    items.append(ScheduledDelivery(replayed.delivery, now, order.faults, message.seq,
                                                   replayed.versions))
                continue
            batch = [Event(c.action, c.event_id, format_event_datetime(c.epoch), message.author,
                           message.author_type, DEFAULT_PIM_URL, {"resource": c.snapshot}) for c in order.changes]
            delivery = Delivery.build(batch, secret=secret, timestamp=now, profile=resolved)
            item = ScheduledDelivery(delivery, now, order.faults, message.seq, tuple(c.version for c in order.changes))
            items.append(item)
            if order.keep_bytes:
                kept[order.order_id] = item
        return Schedule(operations, plan, tuple(items), resolved)

    return build()


_workloads, _fault_plans = workloads, fault_plans  # names the parameters of delivery_schedules shadow

st.register_type_strategy(Event, events())
st.register_type_strategy(Delivery, deliveries())
