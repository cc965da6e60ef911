"""Hypothesis strategies for what a receiver gets: replayable :func:`fault_plans`, and
:func:`delivery_schedules`, a workload batched as the PIM does with a fault plan applied (facts section 6).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from ...events_api.batching import batch_operations
from ...events_api.faults import FAULT_KINDS, Fault, FaultInjector, FaultPlan
from ...events_api.schedule import Planned
from ...events_api.truth import GeneratedEvent, GroundTruth
from ...events_api.wire import MAX_BATCH_SIZE, Delivery, Event
from ...versions import PimVersion, format_event_datetime
from ...world.activity import Operation
from ...world.catalog import DEFAULT_PIM_URL
from .common import DEFAULT_SECRET, DEFAULT_START, check_int, check_secret, check_strategy, fail, resolve_profile
from .workloads import workloads

__all__ = ["Schedule", "ScheduledDelivery", "delivery_schedules", "fault_plans"]

_ALL_FAULTS = tuple(name for names in FAULT_KINDS.values() for name in names)
_MAX_SHIFT = 8


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
    profile: PimVersion

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
    profile: str | PimVersion = "saas",
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
