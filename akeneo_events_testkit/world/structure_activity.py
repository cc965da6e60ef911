"""Seeded changes to the catalog's structure, the way a PIM team makes them (issue 18 item 1).

The Event Platform delivers more than product events (event-platform-facts.md section 4): categories,
families, attributes, attribute groups and attribute options are created, updated and deleted; assets and
reference-entity records too; import, export and mass-edit jobs report each status change. This module
draws such a stream of changes, one :class:`StructureChange` per future event, each with the REST state
of its resource after the change (None once deleted), so the mock REST API can serve it on the same
timeline and the oracle can judge it like a product.

Coherence with the product activity (issue 18: "a product's category exists when the product event is
sent; an option removed is no longer used by the products generated after it") is kept by construction:
a change only **deletes what this stream created itself** (categories, families, attributes, groups,
options, assets and records of its own, codes prefixed ``s_``), which no product ever uses, because the
product activity draws only from the catalog's own structure. Catalog categories, families, attributes and
options are moved, relabelled and updated, never deleted. Deletion types are still all emitted.

Jobs are resources too (``job:<execution_id>``): each execution goes through ``starting``,
``in_progress`` and then ``completed`` or ``failed``, one ``job.<kind>.status-changed`` event per status, in
order and at increasing times, so a receiver that orders by ``time`` ends on the last status.

Off for the Events API profiles (they never delivered such events): only the Event Platform emitter calls
this module, with its own seeded stream (``random.Random(f"structure:{seed}")``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..versions import AuthorType, format_utc_datetime

__all__ = [
    "JOB_STATUSES",
    "STRUCTURE_SHARE",
    "STRUCTURE_TYPES",
    "StructureChange",
    "StructureStream",
    "job_state",
    "structure_data",
    "structure_key",
]

#: The share of a campaign's events that change the structure (the rest are product events).
STRUCTURE_SHARE = 0.2

#: The structure event types this module draws, without ``com.akeneo.pim.v1.`` (facts section 4).
STRUCTURE_TYPES: tuple[str, ...] = (
    *(f"{entity}.{verb}" for entity in ("category", "family", "attribute", "attribute-group",
                                        "attribute-option", "asset", "reference-entity-record")
      for verb in ("created", "updated", "deleted")),
    "job.import.status-changed", "job.export.status-changed", "job.mass-edit.status-changed",
)

#: A job execution's statuses, in the order they happen; the last is ``completed`` or ``failed``.
JOB_STATUSES = ("starting", "in_progress", "completed", "failed")

_ASSET_FAMILIES = ("packshots", "user_guides")
_REFERENCE_ENTITIES = ("brands", "materials")
_JOBS = {"import": ("csv_product_import", "CSV product import"),
         "export": ("xlsx_product_export", "XLSX product export"),
         "mass-edit": ("edit_common_attributes", "Mass edit common attributes")}


@dataclass(frozen=True)
class StructureChange:
    """One change of one structure resource: the event the platform raises for it.

    ``type`` is the short type (``category.created``), ``key`` the observation key (``category:<code>``,
    README: observation contract), ``data`` the event's data without ``author``, ``state`` what
    the REST API serves from ``epoch`` on (None after a deletion)."""

    type: str
    key: str
    epoch: int
    data: Mapping[str, Any]
    state: Mapping[str, Any] | None
    author: str
    author_type: AuthorType

    @property
    def is_removal(self) -> bool:
        return self.type.endswith(".deleted")


def structure_data(entity: str, key: str) -> dict[str, Any]:
    """The ``data`` (without ``author``) of an event about the structure resource ``key`` (facts section 4:
    the codes that name it, e.g. ``{"attribute_option": {"code", "attribute": {"code"}}}``)."""
    parts = key.split(":")
    if entity == "attribute-option":
        return {"attribute_option": {"code": parts[2], "attribute": {"code": parts[1]}}}
    if entity == "asset":
        return {"asset": {"code": parts[2], "asset_family": {"code": parts[1]}}}
    if entity == "reference-entity-record":
        return {"reference_entity_record": {"code": parts[2], "reference_entity": {"code": parts[1]}}}
    return {entity.replace("-", "_"): {"code": parts[1]}}


def job_state(execution_id: int, kind: str, status: str, start: int, end: int | None) -> dict[str, Any]:
    """A job execution as ``job.<kind>.status-changed`` carries it (facts section 4)."""
    code, label = _JOBS[kind]
    return {"execution_id": execution_id, "code": code, "name": code, "label": label, "status": status,
            "start_time": format_utc_datetime(start), "end_time": format_utc_datetime(end) if end else None}


def structure_key(entity: str, data: Mapping[str, Any]) -> str | None:
    """The observation key of a structure event's ``data`` (``entity`` is the type's first segment), or
    None when the data lacks the codes: ``category:<code>``, ``attribute_option:<attribute>:<code>``,
    ``asset:<family>:<code>``, ``reference_entity_record:<entity>:<code>``, ``job:<execution_id>``..."""
    def code(obj: Any, *path: str) -> str | None:
        for name in path:
            obj = obj.get(name) if isinstance(obj, Mapping) else None
        return obj if isinstance(obj, str) and obj else None

    if entity in ("category", "family", "attribute", "attribute-group"):
        name = entity.replace("-", "_")
        value = code(data, name, "code")
        return None if value is None else f"{name}:{value}"
    nested = {"attribute-option": ("attribute_option", "attribute"), "asset": ("asset", "asset_family"),
              "reference-entity-record": ("reference_entity_record", "reference_entity")}
    if entity in nested:
        name, parent = nested[entity]
        own, owner = code(data, name, "code"), code(data, name, parent, "code")
        return None if own is None or owner is None else f"{name}:{owner}:{own}"
    if entity == "job":
        job = data.get("job")
        execution = job.get("execution_id") if isinstance(job, Mapping) else None
        return None if isinstance(execution, bool) or not isinstance(execution, (int, str)) else f"job:{execution}"
    return None


class _Structure:
    """The state of the structure resources while the stream is drawn."""

    def __init__(self, rng: random.Random, categories: Sequence[str], families: Sequence[str],
                 attributes: Mapping[str, str], options: Mapping[str, Sequence[str]],
                 users: Sequence[str], connections: Sequence[str]) -> None:
        self.rng = rng
        self.users = tuple(users)
        self.connections = tuple(connections)
        self.states: dict[str, dict[str, Any]] = {}
        self.own: dict[str, list[str]] = {}  # entity -> keys created by this stream and not deleted
        self.base: dict[str, list[str]] = {}  # entity -> catalog keys (updated, never deleted)
        self.counter = 0
        self.execution = 1000
        self.pending_jobs: list[tuple[int, str, int, str, str, AuthorType]] = []
        for code in categories:
            self._seed("category", f"category:{code}", {"code": code, "parent": None, "labels": {"en_US": code}})
        for code in families:
            self._seed("family", f"family:{code}", {"code": code, "labels": {"en_US": code}})
        for code, kind in attributes.items():
            self._seed("attribute", f"attribute:{code}", {"code": code, "type": kind, "labels": {"en_US": code}})
        for attribute, codes in options.items():
            for code in codes:
                self._seed("attribute-option", f"attribute_option:{attribute}:{code}",
                           {"code": code, "attribute": attribute, "labels": {"en_US": code}})
        self.option_attributes = tuple(options)

    def _seed(self, entity: str, key: str, state: dict[str, Any]) -> None:
        self.states[key] = state
        self.base.setdefault(entity, []).append(key)

    def _code(self) -> str:
        self.counter += 1
        return f"s_{self.counter:04d}"

    def _author(self) -> tuple[str, AuthorType]:
        if self.connections and self.rng.random() < 0.3:
            return self.rng.choice(self.connections), AuthorType.API
        return self.rng.choice(self.users), AuthorType.UI

    def _data(self, entity: str, key: str) -> dict[str, Any]:
        return structure_data(entity, key)

    def change(self, epoch: int, *, allow_job: bool = True) -> list[StructureChange]:
        """One action on the structure at ``epoch``; a job start returns its later status changes too."""
        rng = self.rng
        entity = rng.choices(("category", "family", "attribute", "attribute-group", "attribute-option", "asset",
                              "reference-entity-record", "job"), (4, 2, 2, 1, 3, 2, 2, 1 if allow_job else 0))[0]
        author, author_type = self._author()
        if entity == "job":
            return self._start_job(epoch, rng.choice(self.users))
        own, base = self.own.setdefault(entity, []), self.base.get(entity, [])
        verb = rng.choices(("created", "updated", "deleted"), (3, 4, 2))[0]
        if verb == "deleted" and not own:
            verb = "created"
        if verb == "updated" and not (own or base):
            verb = "created"
        if verb == "created":
            key, state = self._new(entity)
            self.states[key] = state
            own.append(key)
        elif verb == "updated":
            key = rng.choice(own + base)
            state = self._update(entity, dict(self.states[key]))
            self.states[key] = state
        else:
            key = own.pop(rng.randrange(len(own)))
            del self.states[key]
            return [StructureChange(f"{entity}.deleted", key, epoch, self._data(entity, key), None, author,
                                    author_type)]
        return [StructureChange(f"{entity}.{verb}", key, epoch, self._data(entity, key), dict(state), author,
                                author_type)]

    def _new(self, entity: str) -> tuple[str, dict[str, Any]]:
        code, rng = self._code(), self.rng
        if entity == "category":
            parents = [k.split(":", 1)[1] for k in self.base.get("category", []) + self.own.get("category", [])]
            return f"category:{code}", {"code": code, "parent": rng.choice(parents) if parents else None,
                                        "labels": {"en_US": f"Category {code}"}}
        if entity == "attribute-option":
            attribute = rng.choice(self.option_attributes) if self.option_attributes else "s_color"
            return (f"attribute_option:{attribute}:{code}",
                    {"code": code, "attribute": attribute, "labels": {"en_US": f"Option {code}"}})
        if entity == "asset":
            family = rng.choice(_ASSET_FAMILIES)
            return f"asset:{family}:{code}", {"code": code, "values": {"label": [
                {"locale": "en_US", "channel": None, "data": f"Asset {code}"}]}}
        if entity == "reference-entity-record":
            ref = rng.choice(_REFERENCE_ENTITIES)
            return f"reference_entity_record:{ref}:{code}", {"code": code, "values": {"label": [
                {"locale": "en_US", "channel": None, "data": f"Record {code}"}]}}
        name = entity.replace("-", "_")
        state: dict[str, Any] = {"code": code, "labels": {"en_US": f"{entity.title()} {code}"}}
        if entity == "attribute":
            state["type"] = "pim_catalog_text"
        return f"{name}:{code}", state

    def _update(self, entity: str, state: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        revision = rng.randrange(1, 10_000)
        if entity == "category" and rng.random() < 0.5:  # moved under another category (not its own code)
            parents = [k.split(":", 1)[1] for k in self.base.get("category", []) + self.own.get("category", [])
                       if k.split(":", 1)[1] != state["code"]]
            state["parent"] = rng.choice(parents) if parents else None
            return state
        if entity in ("asset", "reference-entity-record"):
            state["values"] = {"label": [{"locale": "en_US", "channel": None,
                                          "data": f"{state['code']} rev {revision}"}]}
            return state
        state["labels"] = {**state.get("labels", {}), "en_US": f"{state['code']} rev {revision}"}
        return state

    def _start_job(self, epoch: int, user: str) -> list[StructureChange]:
        self.execution += 1
        kind = self.rng.choice(tuple(_JOBS))
        final = "failed" if self.rng.random() < 0.15 else "completed"
        changes = []
        at = epoch
        for status in ("starting", "in_progress", final):
            state = job_state(self.execution, kind, status, epoch, at if status in ("completed", "failed") else None)
            # a job runs under the token of the user who launched it (as imports do, world/activity.py)
            changes.append(StructureChange(f"job.{kind}.status-changed", f"job:{self.execution}", at,
                                           {"job": dict(state)}, state, user, AuthorType.UI))
            at += self.rng.randint(1, 90)
        return changes


class StructureStream:
    """Exactly ``count`` structure changes interleaved with ``product_events`` product changes, drawn lazily.

    Each change gets a slot: "after that many product changes" (seeded, uniform), and takes the time of the
    product operation it precedes, so structure and product events share one timeline without knowing its
    end in advance. A job's later status changes wait until the timeline reaches their own (later) time
    (:meth:`due`), or the end (:meth:`rest`). A job is started only while the budget holds its three changes.
    """

    def __init__(self, rng: random.Random, count: int, product_events: int, *, categories: Sequence[str],
                 families: Sequence[str], attributes: Mapping[str, str], options: Mapping[str, Sequence[str]],
                 users: Sequence[str], connections: Sequence[str]) -> None:
        self.count = count
        self._state = _Structure(rng, categories, families, attributes, options, users, connections)
        #: the REST states of the catalog's own structure resources, before the first change
        self.initial = {key: dict(value) for key, value in self._state.states.items()}
        self._slots = sorted(rng.randrange(product_events + 1) for _ in range(count))
        self._next = 0
        self._produced = 0
        self._pending: list[StructureChange] = []

    def due(self, done: int, epoch: int) -> list[StructureChange]:
        """The changes to send before the product changes after the first ``done``, at ``epoch``: the
        slots up to ``done``, and the waiting job statuses due by ``epoch``, in time order."""
        out = [change for change in self._pending if change.epoch <= epoch]
        self._pending = [change for change in self._pending if change.epoch > epoch]
        while self._next < len(self._slots) and self._slots[self._next] <= done:
            self._next += 1
            budget = self.count - self._produced
            if budget <= 0:
                continue
            changes = self._state.change(epoch, allow_job=budget >= 3)
            self._produced += len(changes)
            out.append(changes[0])
            self._pending.extend(changes[1:])
        return sorted(out, key=lambda change: change.epoch)

    def rest(self, epoch: int) -> list[StructureChange]:
        """Every change left once the product changes are over (``epoch``: the last product time)."""
        out = self.due(self._slots[-1] if self._slots else 0, epoch)
        out.extend(sorted(self._pending, key=lambda change: change.epoch))
        self._pending = []
        return out
