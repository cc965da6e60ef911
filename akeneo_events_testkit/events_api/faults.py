"""Unreliable delivery on purpose: reorder, duplicate, drop and delay, as a replayable plan.

Why each fault exists (events-api-facts.md section 6): Pub/Sub has no ordering key for business events and
consumers run in parallel (reordering: ``swap`` and ``late``, rebuilt when sent, and ``overtaken``, built
and signed in turn with the data of then but delivered after later requests, as when one consumer is
slower than the other: an update built before a removal can arrive after it); it delivers at least once
and acks only after the HTTP calls, so a slow handler gets the whole message redelivered with the same
event ids and new data, timestamp and signature (duplicates); there is no retry, a failed publish or a
vanished product loses events (drops).

A :class:`Fault` is a small value naming one thing done to one planned request. A :class:`FaultPlan` is the
list of them: printable, saved to and loaded from JSON, and replayed exactly. Faults are drawn from their
own RNG, separate from the workload's, so the same seed gives the same events with or without faults.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidFaultSpec
from ..world.hazards import HazardTargets

__all__ = [
    "FAULT_KINDS",
    "FAULT_PRESETS",
    "Fault",
    "FaultInjector",
    "FaultPlan",
    "FaultSpec",
    "parse_fault_spec",
]

#: Each family the spec sets a probability for, and the concrete faults drawn for it (``overtaken`` is a
#: reorder too, aimed at hazards by :class:`FaultInjector` rather than drawn: see there).
FAULT_KINDS: dict[str, tuple[str, ...]] = {
    "reorder": ("swap", "late"),
    "duplicate": ("duplicate_event", "redeliver", "replay"),
    "drop": ("drop_event", "drop"),
    "delay": ("delay",),
}
_ALL_FAULTS = frozenset(name for names in FAULT_KINDS.values() for name in names) | {"overtaken"}

#: Named presets; ``default`` gives every fault a fair chance within a few hundred events.
FAULT_PRESETS: dict[str, dict[str, float]] = {
    "none": {},
    "default": {"reorder": 0.15, "duplicate": 0.15, "drop": 0.05, "delay": 0.05},
    "gentle": {"reorder": 0.05, "duplicate": 0.05, "drop": 0.01, "delay": 0.02},
    "chaos": {"reorder": 0.4, "duplicate": 0.4, "drop": 0.15, "delay": 0.2},
}

_ON_ORIGINAL = frozenset({"swap", "late", "delay", "drop_event"})
_MAX_SHIFT = 8  # how many requests later a late or duplicated request goes out, at most
#: the share of the reorder probability spent on hazard-directed overtaking (FaultInjector)
_AIMED_SHARE = 0.5
#: a create or update of a resource removed later is overtaken this many times more often, and a creation
#: updated later this many times; flights aimed at an event may stay in the air this many requests
_DOOMED_BOOST = 2.0
_CREATE_BOOST = 3.0
_MAX_FLIGHT = 64
#: every candidate is aimed until each hazard was aimed at ``ceil(reorder * _QUOTA_RATE)`` times in the run
#: (5 under the default faults), so that a run poor in removals or in re-saved creations exercises each
_QUOTA_RATE = 30
_MAX_DELAY = 900  # virtual seconds


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault on one planned request: ``target`` is the planned request's number."""

    target: int
    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        p = self.params
        texts = {
            "swap": f"events reordered within the request as {list(p.get('order', []))}",
            "late": f"sent {p.get('by')} requests later",
            "overtaken": f"built and signed in turn, overtaken in flight by {p.get('by')} later requests",
            "delay": f"held back {p.get('seconds')} s of virtual time",
            "duplicate_event": f"event #{p.get('index')} sent again {p.get('after')} requests later",
            "redeliver": f"redelivered {p.get('after')} requests later, re-signed",
            "replay": f"replayed byte for byte {p.get('after')} requests later",
            "drop_event": f"event #{p.get('index')} lost",
            "drop": "lost",
        }
        text = texts.get(self.kind, self.kind)
        return f"request {self.target}: {text}"

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "kind": self.kind, "params": dict(self.params)}


@dataclass
class FaultPlan:
    """What was (or will be) done to which request; replayable."""

    faults: list[Fault] = field(default_factory=list)
    spec: str = ""
    #: the file it was loaded from, for reproduce lines (``--plan FILE``); None when built in memory
    source: str | None = field(default=None, compare=False)

    def by_target(self) -> dict[int, list[Fault]]:
        grouped: dict[int, list[Fault]] = {}
        for fault in self.faults:
            grouped.setdefault(fault.target, []).append(fault)
        return grouped

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for fault in self.faults:
            counts[fault.kind] = counts.get(fault.kind, 0) + 1
        return counts

    def describe(self) -> str:
        if not self.faults:
            return "no faults"
        return "\n".join(fault.describe() for fault in self.faults)

    def to_json(self) -> dict[str, Any]:
        return {"version": 1, "spec": self.spec, "faults": [f.to_json() for f in self.faults]}

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, data: Any) -> FaultPlan:
        if not isinstance(data, Mapping) or not isinstance(data.get("faults"), list):
            raise InvalidFaultSpec('a fault plan is a JSON object {"faults": [...]}')
        faults = []
        for index, item in enumerate(data["faults"]):
            if not isinstance(item, Mapping):
                raise InvalidFaultSpec(f"faults[{index}]: not an object")
            kind, target, params = item.get("kind"), item.get("target"), item.get("params", {})
            if kind not in _ALL_FAULTS:
                raise InvalidFaultSpec(f"faults[{index}]: unknown kind {kind!r}: use one of "
                                       f"{', '.join(sorted(_ALL_FAULTS))}")
            if not isinstance(target, int) or isinstance(target, bool) or target < 0:
                raise InvalidFaultSpec(f"faults[{index}]: target must be a request number >= 0")
            if not isinstance(params, Mapping):
                raise InvalidFaultSpec(f"faults[{index}]: params must be an object")
            faults.append(Fault(target, kind, dict(params)))
        return cls(faults, str(data.get("spec", "")))

    @classmethod
    def load(cls, path: str | Path) -> FaultPlan:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidFaultSpec(f"cannot read fault plan {path}: {exc.strerror}") from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InvalidFaultSpec(f"fault plan {path} is not JSON: {exc}") from None
        plan = cls.from_json(data)
        plan.source = str(path)
        return plan


@dataclass(frozen=True)
class FaultSpec:
    """Probabilities per fault family, e.g. ``reorder=0.3,duplicate=0.2,drop=0.1``."""

    probabilities: Mapping[str, float]
    text: str = ""

    @property
    def enabled(self) -> bool:
        return any(p > 0 for p in self.probabilities.values())


def parse_fault_spec(text: str | None) -> FaultSpec:
    """Parse ``none``, a preset name (``default``...) or ``kind=p,...``; raises InvalidFaultSpec."""
    text = (text or "none").strip()
    if text in FAULT_PRESETS:
        return FaultSpec(dict(FAULT_PRESETS[text]), text)
    probabilities: dict[str, float] = {}
    for part in text.split(","):
        part = part.strip()
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep:
            raise InvalidFaultSpec(f"{part}: write kind=probability (e.g. drop=0.1), or one of "
                                   f"{', '.join(FAULT_PRESETS)}")
        if name not in FAULT_KINDS:
            raise InvalidFaultSpec(f"{part}: unknown fault kind {name!r}: use one of {', '.join(FAULT_KINDS)}")
        try:
            probability = float(value)
        except ValueError:
            raise InvalidFaultSpec(f"{part}: not a probability") from None
        if not 0.0 <= probability <= 1.0:
            raise InvalidFaultSpec(f"{part}: a probability is between 0 and 1")
        probabilities[name] = probability
    return FaultSpec(probabilities, text)


def draw_faults(target: int, size: int, spec: FaultSpec, rng: random.Random) -> list[Fault]:
    """The faults for planned request ``target`` holding ``size`` events. Always draws the same
    number of random values for a given spec, so one request's faults do not shift the next's."""
    faults: list[Fault] = []
    for family in ("reorder", "duplicate", "drop", "delay"):
        probability = spec.probabilities.get(family, 0.0)
        roll, pick, a, b = rng.random(), rng.random(), rng.randrange(1 << 30), rng.randrange(1 << 30)
        if probability <= 0 or roll >= probability:
            continue
        options = FAULT_KINDS[family]
        kind = options[int(pick * len(options))]
        if kind in ("swap", "drop_event") and size < 2:
            kind = {"swap": "late", "drop_event": "drop"}[kind]
        faults.append(Fault(target, kind, _params(kind, size, a, b)))
    return faults


def _params(kind: str, size: int, a: int, b: int) -> dict[str, Any]:
    shift = 1 + a % _MAX_SHIFT
    if kind == "swap":
        order = list(range(size))
        random.Random(b).shuffle(order)
        if order == sorted(order):
            order.reverse()
        return {"order": order}
    if kind == "late":
        return {"by": shift}
    if kind == "delay":
        return {"seconds": 1 + a % _MAX_DELAY}
    if kind == "duplicate_event":
        return {"index": b % size, "after": shift}
    if kind in ("redeliver", "replay"):
        return {"after": shift}
    if kind == "drop_event":
        return {"index": b % size}
    return {}


@dataclass
class _InFlight:
    """A request built and signed in its turn, not delivered yet (hazard-directed overtaking). It lands right
    after a request carrying one of the events it ``awaits`` (the removal or the update it was aimed at), or,
    aimed at no event, one of its resources (``keys``); or after ``limit`` requests. ``by`` is the distance
    it goes when a plan is replayed (None: decided as it goes)."""

    position: int
    keys: set[tuple[int, str]]
    order: Any
    by: int | None = None
    limit: int = 8
    awaits: frozenset[tuple[int, str]] = frozenset()


@dataclass
class _Held:
    release_position: int
    release_epoch: float | None
    order: Any


class FaultInjector:
    """A scheduler for :class:`~akeneo_events_testkit.events_api.pim.MockPim`: applies a drawn or given plan.

    With a ``plan`` the faults are exactly those of the plan (replay); otherwise they are drawn from
    ``rng`` according to ``spec`` and appended to :attr:`plan` as they happen.

    **Hazard-directed overtaking** (with ``hazard_rng``): faults drawn at random rarely put an older event of
    a resource after a newer one, and almost never after its removal, yet those are the pairs that break
    receivers. So part of the reorder probability builds and signs a request in its turn and keeps it in
    flight: a consumer held after building it while another goes on (events-api-facts.md section 6: two
    consumers in parallel; a request built and signed while the product exists can arrive after its
    removal; there is no retry, so it is delivered once, late). Which requests, and until when, comes from
    ``targets`` (:class:`HazardTargets`, the activity's future):

    * a create or update of a resource removed later is overtaken twice as often, and lands right after the
      request that carries that removal. Every other such flight is also redelivered in its turn by another
      consumer (the stuck one missed its ack deadline, facts section 6: same event ids, new data and
      signature), so its late copy is a duplicate after the removal; the others are delivered only late, an
      update after the removal;
    * a creation updated later is overtaken three times as often and lands right after that update; it is
      never redelivered in turn (a create delivered first after its update). A request offering both aims
      at the hazard aimed at less so far;
    * any other request, with half the spec's reorder probability, lands after the next request of one of its
      resources (an older update after a newer one); half of those are redelivered in turn too.

    Every candidate of a hazard is aimed at until that hazard was aimed at ``ceil(reorder * 30)`` times (5
    under the default faults): removals are rare, and a run whose activity offers few of them would
    otherwise exercise them once or never. A flight that meets nothing it waits for lands after
    :data:`_MAX_SHIFT` requests (:data:`_MAX_FLIGHT` when aimed at an event). Unaimed flights keep to
    resources with no request in flight on their subscription. Delivery stays causal (the catalog sent from
    is never read ahead of its time); each decision is recorded in the plan as an ``overtaken`` fault with
    the distance it went (and a ``redeliver`` after 0), so a saved plan replays it.
    """

    def __init__(self, spec: FaultSpec | str | None = None, *, rng: random.Random | None = None,
                 plan: FaultPlan | None = None, hazard_rng: random.Random | None = None,
                 targets: HazardTargets | None = None, focused: frozenset[str] = frozenset(),
                 boosted: FaultSpec | None = None) -> None:
        if plan is not None and spec is None:
            spec = FaultSpec({}, plan.spec)  # replaying: the spec text only labels the plan
        self.spec = spec if isinstance(spec, FaultSpec) else parse_fault_spec(spec)
        self.rng = rng or random.Random(0)
        self._given = plan.by_target() if plan is not None else None
        self.plan = FaultPlan(spec=self.spec.text) if plan is None else plan
        self.skipped: list[Fault] = []
        #: aims part of the reorder faults at hazards (below); None when replaying a plan, which says it all
        self.hazard_rng = hazard_rng if plan is None else None
        #: what the activity will do next: the removals and updates the flights are aimed at
        self.targets = targets or HazardTargets()
        #: the event ids in the receiver's scope, and the spec drawn for requests carrying one (``--scope``)
        self.focused = focused
        self.boosted = boosted

    def faults_for(self, target: int, size: int, *, focused: bool = False) -> list[Fault]:
        """The faults of planned request ``target`` (``focused``: it carries an event in the receiver's scope,
        drawn with the raised spec)."""
        if self._given is not None:
            return self._given.get(target, [])
        spec = self.boosted if focused and self.boosted is not None else self.spec
        faults = draw_faults(target, size, spec, self.rng)
        self.plan.faults.extend(faults)
        return faults

    def _aim(self, item: Any, keys: set[tuple[int, str]], in_flight: list[_InFlight],
             balance: list[int]) -> tuple[frozenset[tuple[int, str]], int, bool] | None:
        """Whether to keep ``item`` in flight (drawn): what it awaits, its limit, and whether it is also
        redelivered in turn. ``balance`` counts the removal flights without and with that redelivery, then the
        flights aimed at an update."""
        rng = self.hazard_rng
        if rng is None:
            return None
        sub = item.subscription
        ids = {change.event_id for change in item.changes}
        removals = frozenset((sub, self.targets.before_removal[i]) for i in ids if i in self.targets.before_removal)
        updates = frozenset((sub, u) for i in ids if (u := self.targets.before_update.get(i)) is not None
                            and u not in ids)
        if not (removals or updates) and any(keys & flight.keys for flight in in_flight):
            return None
        if removals and updates:  # one flight, one landing: aim at the hazard aimed at less so far
            removals, updates = (frozenset(), updates) if 2 * balance[2] < balance[0] + balance[1] else (
                removals, frozenset())
        reorder = self.spec.probabilities.get("reorder", 0.0)
        boost = _DOOMED_BOOST if removals else _CREATE_BOOST if updates else _AIMED_SHARE
        quota = math.ceil(reorder * _QUOTA_RATE)
        short = min(balance[0], balance[1]) < quota if removals else balance[2] < quota if updates else False
        if rng.random() >= min(1.0, reorder * boost) and not short:
            return None
        if removals:
            redelivered = balance[1] < balance[0]
            balance[redelivered] += 1
            return removals, _MAX_FLIGHT, redelivered
        if updates:  # delivered only late: a redelivery in turn would make it a duplicate, not a late create
            balance[2] += 1
            return updates, _MAX_FLIGHT, False
        return updates, _MAX_SHIFT, rng.random() < 0.5

    def __call__(self, planned: Iterator[Any]) -> Iterator[Any]:
        from .schedule import SendOrder

        held: list[_Held] = []
        in_flight: list[_InFlight] = []
        sent: list[Any] = []  # the orders delivered since the flights last looked
        balance = [0, 0, 0]
        position = 0
        next_id = 0

        def new_id() -> int:
            nonlocal next_id
            next_id += 1
            return next_id - 1

        def send(order: Any) -> Iterator[Any]:
            nonlocal position
            position += 1
            sent.append(order)
            yield order

        def ready(epoch: float | None) -> Iterator[Any]:
            while True:
                due = [h for h in held if h.release_position <= position
                       and (h.release_epoch is None or (epoch is not None and epoch >= h.release_epoch))]
                if not due:
                    return
                first = min(due, key=lambda h: (h.release_position, h.order.order_id))
                held.remove(first)
                yield from send(first.order)

        def land(final: bool = False) -> Iterator[Any]:
            """Deliver the flights that met what they wait for in the requests just sent, or went far."""
            while sent or final:
                ids = {(o.planned.subscription, c.event_id) for o in sent for c in o.changes}
                keys = {(o.planned.subscription, c.key) for o in sent for c in o.changes}
                sent.clear()
                for flight in list(in_flight):
                    went = position - flight.position
                    met = bool(flight.awaits & ids) if flight.awaits else bool(flight.keys & keys)
                    # replaying a plan (``by`` given), it lands where it landed
                    if final or (went >= flight.by if flight.by is not None else met or went >= flight.limit):
                        in_flight.remove(flight)
                        if flight.by is None:
                            self.plan.faults.append(Fault(flight.order.planned.seq, "overtaken",
                                                          {"by": went, "aimed": met}))
                        yield from send(flight.order)
                final = False

        for item in planned:
            epoch = float(item.message.changes[0].epoch) if item.message.changes else None
            yield from ready(epoch)
            yield from land()
            changes = list(item.changes)
            keys = {(item.subscription, change.key) for change in changes}
            given = self._given.get(item.seq, []) if self._given is not None else []
            replayed = next((f for f in given if f.kind == "overtaken"), None)
            aim = None if replayed is not None else self._aim(item, keys, in_flight, balance)
            if replayed is not None or aim is not None:
                awaits, limit, redelivered = aim or (frozenset(), _MAX_SHIFT,
                                                      any(f.kind == "redeliver" for f in given))
                main_id = new_id()
                yield SendOrder(item, item.changes, (), None, main_id, True, build_only=True)
                copy = SendOrder(item, item.changes, ("overtaken",), main_id, new_id())
                by = _positive(replayed.params.get("by")) if replayed is not None else None
                in_flight.append(_InFlight(position, keys, copy, by, limit, awaits))
                if redelivered:  # another consumer got the redelivery and sent it in turn
                    yield from send(SendOrder(item, item.changes, ("redeliver",), None, new_id()))
                    if replayed is None:
                        self.plan.faults.append(Fault(item.seq, "redeliver", {"after": 0}))
                yield from ready(epoch)
                yield from land()
                continue
            faults = self.faults_for(item.seq, len(changes),
                                     focused=bool(self.focused) and any(c.event_id in self.focused for c in changes))
            # the original request is tagged only with what happened to it; duplicates carry their own tag
            names = tuple(f.kind for f in faults if f.kind in _ON_ORIGINAL)
            keep_bytes = any(f.kind == "replay" for f in faults)
            main_id = new_id()
            extras: list[_Held] = []
            hold_by, hold_until, dropped = 0, None, False
            for fault in faults:
                p = fault.params
                if fault.kind == "swap" and _is_permutation(p.get("order"), len(changes)):
                    changes = [changes[i] for i in p["order"]]
                elif fault.kind == "drop_event" and _index_ok(p.get("index"), item.changes):
                    dropped_change = item.changes[p["index"]]
                    changes = [c for c in changes if c is not dropped_change]
                elif fault.kind == "drop":
                    dropped = True
                elif fault.kind == "late":
                    hold_by = max(hold_by, _positive(p.get("by")))
                elif fault.kind == "delay" and epoch is not None:
                    hold_until = epoch + _positive(p.get("seconds"))
                elif fault.kind == "duplicate_event" and _index_ok(p.get("index"), item.changes):
                    order = SendOrder(item, (item.changes[p["index"]],), ("duplicate_event",), None, new_id())
                    extras.append(_Held(position + _positive(p.get("after")), None, order))
                elif fault.kind == "redeliver":  # after 0: in turn, beside an overtaken copy (hazards, above)
                    order = SendOrder(item, item.changes, ("redeliver",), None, new_id())
                    extras.append(_Held(position + _non_negative(p.get("after")), None, order))
                elif fault.kind == "replay":
                    order = SendOrder(item, item.changes, ("replay",), main_id, new_id())
                    extras.append(_Held(position + _positive(p.get("after")), None, order))
                else:
                    self.skipped.append(fault)
            if not dropped and changes:
                main = SendOrder(item, tuple(changes), names, None, main_id, keep_bytes)
                if hold_by or hold_until is not None:
                    held.append(_Held(position + hold_by, hold_until, main))
                else:
                    yield from send(main)
            held.extend(extras)
            yield from ready(epoch)
            yield from land()
        # end of the activity: everything in flight lands, then everything held back goes out, in release order
        yield from land(final=bool(in_flight))
        for remaining in sorted(held, key=lambda h: (h.release_position, h.order.order_id)):
            yield remaining.order


def _non_negative(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 1


def _positive(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1


def _index_ok(index: Any, changes: tuple[Any, ...]) -> bool:
    return isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(changes)


def _is_permutation(order: Any, size: int) -> bool:
    return isinstance(order, list) and sorted(order) == list(range(size))

