"""State left from an earlier run: the observation read before a run, and judging only what the run delivered.

A receiver that lives across runs (``akeneo-events serve``, a staging app) still holds what earlier runs
applied. Seeds repeat event ids and resource keys (the Event Platform's UUID v7 ids also carry the start
time), so an earlier run's applications would be judged as this run's: ``duplicate_applied`` for events this
run never delivered, ``event_lost`` where the receiver rightly kept a newer state of an earlier run. The
campaigns read the observation before delivering (:func:`read_before`); when it is not empty, the verdict
judges this run alone (:func:`this_run_only`) and says so, or ``strict`` refuses the run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from ..errors import UsageError
from .history import History
from .observation import Observation, ObservationSource, parse_observation

__all__ = ["START_EMPTY", "EarlierState", "earlier_state_text", "read_before", "this_run_only"]

#: How to start a receiver empty, as messages and the README say it.
START_EMPTY = ("start the receiver empty (restart it, or point it at a fresh store: akeneo-events serve "
               "--store memory, or a new sqlite: file)")


@dataclass(frozen=True)
class EarlierState:
    """What the observation held before the run, and what judging this run alone left out of the verdict."""

    applied_before: int
    resources_before: int
    #: applied ids that are no event of this run (an earlier run's), ignored
    ignored_applied: int = 0
    #: resources this run never touched, or still in the state an earlier run left them with an event of
    #: that run (the receiver may rightly hold a newer state than this run's): not judged
    ignored_resources: int = 0

    def stats(self) -> dict[str, Any]:
        """The verdict's ``earlier_state`` statistics (JSON report)."""
        return {"applied_before": self.applied_before, "resources_before": self.resources_before,
                "ignored_applied": self.ignored_applied, "ignored_resources": self.ignored_resources}

    def text(self) -> str:
        """One line for the summary."""
        return (f"the receiver was not empty before the run ({self.applied_before} applied, {self.resources_before}"
                f" resources): judged only what this run delivered ({self.ignored_applied} applied ids of earlier "
                f"runs ignored, {self.ignored_resources} resources not judged); {START_EMPTY} for a full verdict")


def earlier_state_text(stats: dict[str, Any]) -> str | None:
    """The summary line of a verdict's ``earlier_state`` statistics, None when the receiver started empty."""
    earlier = stats.get("earlier_state")
    return EarlierState(**earlier).text() if earlier else None


def read_before(read: ObservationSource, *, strict: bool = False) -> Observation | None:
    """The observation before the run, None when empty; non-empty under ``strict`` is a usage error."""
    before = parse_observation(read())
    if not before.applied and not before.resources:
        return None
    if strict:
        raise UsageError(f"the receiver's observation is not empty before the run ({len(before.applied)} applied, "
                         f"{len(before.resources)} resources), left from an earlier run: {START_EMPTY}, or run "
                         "without --strict to judge only what this run delivers")
    return before


def this_run_only(before: Observation, after: Observation,
                  history: History) -> tuple[Observation, History, EarlierState]:
    """``after`` and ``history`` reduced to what this run can be judged on, given the observation ``before`` it.

    Applied: the ids of this run's events (probes' included) once each if they were applied before the run and
    not again, then, in order, the applications made during the run (``after.applied`` minus one occurrence
    per application ``before`` held); other ids are ignored. So an id applied by an earlier run and rightly not
    applied again counts as applied, and only a repeat within this run is ``duplicate_applied``.
    Resources: those of this run's events (or holding one, as a probe's do), except those still in the
    state ``before`` held with an event of no run of ours (an earlier run's state, maybe newer than this
    run's, which the receiver may rightly keep): those are left out of the observation and of what the
    history expects.
    """
    ours = set(history.events) | {event_id for request in history.requests for event_id in request.event_ids}
    keys = {event.key for event in history.events.values()}
    held = Counter(before.applied)
    during: list[str] = []
    for event_id in after.applied:
        if held[event_id]:
            held[event_id] -= 1
        else:
            during.append(event_id)
    again = set(during)
    earlier = [event_id for event_id in dict.fromkeys(before.applied) if event_id in ours and event_id not in again]
    applied = (*earlier, *(event_id for event_id in during if event_id in ours))
    kept = {key for key, state in after.resources.items()
            if state.event_id not in ours and before.resources.get(key) == state}
    resources = {key: state for key, state in after.resources.items()
                 if (key in keys or state.event_id in ours) and key not in kept}  # probes' resources too
    judged = replace(history, acknowledged={k: v for k, v in history.acknowledged.items() if k not in kept},
                     content=None if history.content is None else
                     {k: v for k, v in history.content.items() if k not in kept},
                     _carried_by=None, _ids_by_key={}, _slow=None, _cache={})
    ignored_applied = sum(1 for event_id in after.applied if event_id not in ours)
    return Observation(applied, resources), judged, EarlierState(
        len(before.applied), len(before.resources), ignored_applied, len(after.resources) - len(resources))
