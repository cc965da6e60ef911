"""Hypothesis strategies for coherent PIM histories: :func:`workloads`, over a tiny PIM of a few resources.

:class:`ResourceHistory` is that PIM; the state machine of :mod:`akeneo_events_testkit.stateful` drives it
too. Saves and removals follow events-api-facts.md section 4 (versions per resource key, re-created
products get a new uuid in 7.0 and SaaS, bulk saves often share a second).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from ...versions import Action, AuthorType, PimVersion
from ...versions import resource_key as _resource_key
from ...world.activity import Change, Operation
from ...world.catalog import DEFAULT_PIM_URL
from .common import AUTHORS, DEFAULT_START, check_int, fail, resolve_profile, uuid_modes
from .payloads import (
    CATEGORIES,
    FAMILIES,
    c_date,
    codes,
    fixed_values,
    model_payload,
    product_payload,
    removed_payload,
    stable_uuid4,
)

__all__ = ["ResourceHistory", "Slot", "operation_kind", "workloads"]


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

    def __init__(self, slots: Sequence[Slot], *, profile: PimVersion, uuid_mode: bool, pim_source: str) -> None:
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
    profile: str | PimVersion = "saas",
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
