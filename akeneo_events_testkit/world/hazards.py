"""What the seeded activity will do next that breaks receivers, known before it happens (both profiles).

Both wire profiles aim part of their faults at the orderings that break receivers (an older update after a
removal, a duplicate after it, a create after its update): the Events API keeps a request in flight while
another consumer goes on (events-api-facts.md section 6), the Event Platform delivers an event out of
emission order (event-platform-facts.md section 3). Each needs the pairs of events the activity will
offer, read here from a second generation of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["REACH", "HazardTargets"]

#: The farthest apart (in saves) an event and the removal or update it is aimed at may be: about the
#: requests an Events API flight may stay in the air (64) at the three events a request holds on average.
REACH = 150


@dataclass(frozen=True)
class HazardTargets:
    """The pairs that break receivers which a run's activity will offer, known before they happen.

    The activity is a pure function of the seed, so a profile reads it from a second, read-only generation
    (``MockPim.hazard_targets``) without advancing the catalog it sends from. ``before_removal`` maps the
    event id of each create or update of a resource removed later in the run to the removal's event id;
    ``before_update`` maps the event id of each creation updated later (before any removal) to that
    update's event id. Only pairs a second apart or more count: events of one second tie (``event_datetime``
    has second precision, events-api-facts.md section 4), and either order is right then.
    """

    before_removal: Mapping[str, str] = field(default_factory=dict)
    before_update: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_changes(cls, changes: Iterable[Any], *, reach: int = REACH) -> HazardTargets:
        """The targets of a sequence of :class:`~akeneo_events_testkit.world.activity.Change`, in save order;
        pairs more than ``reach`` saves apart are left out (a flight that long would land before its target)."""
        pending: dict[str, list[tuple[str, int, int]]] = {}
        created: dict[str, tuple[str, int, int]] = {}
        before_removal: dict[str, str] = {}
        before_update: dict[str, str] = {}
        for index, change in enumerate(changes):
            if change.action.is_removal:
                for event_id, epoch, at in pending.pop(change.key, ()):
                    if epoch < change.epoch and index - at <= reach:
                        before_removal[event_id] = change.event_id
                created.pop(change.key, None)
                continue
            first = created.get(change.key)
            if change.action.value.endswith(".created"):
                created[change.key] = (change.event_id, change.epoch, index)
            elif first is not None and first[1] < change.epoch:
                del created[change.key]
                if index - first[2] <= reach:
                    before_update[first[0]] = change.event_id
            pending.setdefault(change.key, []).append((change.event_id, change.epoch, index))
        return cls(before_removal, before_update)

    def only(self, keep: Callable[[str], bool]) -> HazardTargets:
        """The pairs both of whose events ``keep`` keeps (by event id): a receiver's scope, whose hazards are
        the only ones that test it (``--scope``)."""
        return HazardTargets({a: b for a, b in self.before_removal.items() if keep(a) and keep(b)},
                             {a: b for a, b in self.before_update.items() if keep(a) and keep(b)})
