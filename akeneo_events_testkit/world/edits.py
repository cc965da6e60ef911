"""How a save changes one stored product or product model: the activity's random edits and mass edits.

Kept apart from :mod:`.catalog`, which owns the records and their indexes and decides when a record is
saved; these functions change one record's fields in place and say whether anything changed. Every draw
comes from the ``rng`` passed in, so one seed still gives the same catalog.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError
from ._records import ModelRecord, ProductRecord, Record
from .structure import CatalogStructure
from .values import ValueContext, change_value, make_value

__all__ = [
    "WORKFLOW_STATUSES",
    "Edit",
    "apply_edit",
    "draw_mass_edit",
    "draw_status",
    "random_change",
    "toggle_category",
]

#: ``metadata.workflow_status`` values (EE), facts section 7.
WORKFLOW_STATUSES = ("working_copy", "draft_in_progress", "proposal_waiting_for_approval", "read_only")
_STATUS_WEIGHTS = (80, 10, 5, 5)


@dataclass(frozen=True)
class Edit:
    """A change a mass edit applies to many products: ``category``, ``group``, ``enabled`` or ``value``."""

    kind: str
    code: str = ""
    flag: bool = True
    value: tuple[dict[str, Any], ...] = ()


def draw_status(rng: random.Random) -> str:
    """A workflow status, mostly ``working_copy``."""
    return rng.choices(WORKFLOW_STATUSES, _STATUS_WEIGHTS)[0]


def draw_mass_edit(structure: CatalogStructure, ctx: ValueContext, rng: random.Random) -> Edit:
    """A change of the kind a mass edit applies (add to a category or group, (dis)able, set a value)."""
    roll = rng.random()
    if roll < 0.35:
        return Edit("category", code=rng.choice(structure.leaf_categories))
    if roll < 0.5:
        return Edit("group", code=rng.choice(tuple(structure.groups)))
    if roll < 0.65 or not structure.mass_edit_attributes:
        return Edit("enabled", flag=rng.random() < 0.7)
    attribute = structure.attributes[rng.choice(structure.mass_edit_attributes)]
    value = make_value(attribute, rng, ctx) or []
    return Edit("value", code=attribute.code, value=tuple(value))


def random_change(record: ProductRecord | ModelRecord, rng: random.Random, *, attributes: Sequence[str],
                  structure: CatalogStructure, ctx: ValueContext,
                  associate: Callable[[Record, random.Random], bool]) -> bool:
    """One plausible edit: values at the record's level mostly, else categories, status, links.

    ``attributes`` are those a save of ``record`` may change (its level's, minus identifier and axes);
    ``associate`` redraws one of its associations through the catalog, which keeps the link index.
    """
    for _ in range(8):
        roll = rng.random()
        if roll < 0.72:
            changed = _change_values(record, rng, rng.choice((1, 1, 1, 2, 2, 3)), attributes, structure, ctx)
        elif roll < 0.8:
            changed = toggle_category(record, rng, structure.leaf_categories)
        elif roll < 0.84 and isinstance(record, ProductRecord):
            record.enabled = not record.enabled
            changed = True
        elif roll < 0.87 and isinstance(record, ProductRecord):
            group = rng.choice(tuple(structure.groups))
            groups = tuple(g for g in record.groups if g != group)
            record.groups = groups if len(groups) < len(record.groups) else (*record.groups, group)
            changed = True
        elif roll < 0.89:
            status = draw_status(rng)
            changed = status != record.workflow_status
            record.workflow_status = status
        else:
            changed = associate(record, rng)
        if changed:
            return True
    return toggle_category(record, rng, structure.leaf_categories)


def _change_values(record: ProductRecord | ModelRecord, rng: random.Random, count: int, attributes: Sequence[str],
                   structure: CatalogStructure, ctx: ValueContext) -> bool:
    changed = False
    for code in rng.sample(attributes, min(count, len(attributes))):
        attribute = structure.attributes[code]
        current = record.values.get(code)
        for _ in range(4):
            fresh = change_value(attribute, current, rng, ctx)
            if fresh is not None and fresh != current:
                record.values = {**record.values, code: fresh}
                changed = True
                break
    return changed


def toggle_category(record: Record, rng: random.Random, leaves: Sequence[str]) -> bool:
    """Put ``record`` in one leaf category, or take it out if it is there already."""
    leaf = rng.choice(leaves)
    if leaf in record.categories:
        record.categories = tuple(c for c in record.categories if c != leaf)
    else:
        record.categories = (*record.categories, leaf)
    return True


def apply_edit(product: ProductRecord, edit: Edit, attributes: Sequence[str]) -> bool:
    """Apply a mass edit's change; False when it changes nothing or does not apply to ``product``.

    ``attributes`` are those a save of ``product`` may change: a value edit of any other is no change.
    """
    if edit.kind == "category":
        if edit.code in product.categories:
            return False
        product.categories = (*product.categories, edit.code)
    elif edit.kind == "group":
        if edit.code in product.groups:
            return False
        product.groups = (*product.groups, edit.code)
    elif edit.kind == "enabled":
        if product.enabled == edit.flag:
            return False
        product.enabled = edit.flag
    elif edit.kind == "value":
        if edit.code not in attributes or product.values.get(edit.code) == list(edit.value):
            return False
        product.values = {**product.values, edit.code: list(edit.value)}
    else:
        raise UsageError(f"unknown edit kind {edit.kind!r}: use category, group, enabled or value")
    return True
