"""Stored products and product models, and their normalisation to the connector format (facts 4 and 7).

Kept apart from :mod:`.catalog` (which owns and changes the records) because this is the hot path: every
save is normalised once per version, in tens of microseconds. Value lists are never mutated after they
are stored (edits replace them), so payloads of older versions can share them safely.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Links = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]  # product uuids, model codes, group codes
QLinks = tuple[tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]]  # (uuid, qty), (code, qty)
Ref = tuple[str, str]  # ("p", uuid) or ("m", code)


@dataclass(eq=False, slots=True)
class Record:
    """What products and product models share; ``cache`` holds the payload per mode (legacy, UUID)."""

    version: int
    created: str
    updated: str
    categories: tuple[str, ...]
    values: dict[str, list[dict[str, Any]]]
    associations: dict[str, Links]
    quantified: dict[str, QLinks]
    workflow_status: str
    cache: list[dict[str, Any] | None] = field(default_factory=lambda: [None, None])


@dataclass(eq=False, slots=True)
class ProductRecord(Record):
    uuid: str = ""
    identifier: str = ""
    enabled: bool = True
    family: str | None = None
    groups: tuple[str, ...] = ()
    parent: str | None = None


@dataclass(eq=False, slots=True)
class ModelRecord(Record):
    code: str = ""
    family: str = ""
    family_variant: str = ""
    parent: str | None = None
    depth: int = 0
    children: dict[Ref, None] = field(default_factory=dict)


def targets(record: Record) -> set[Ref]:
    """Every product and model ``record`` is associated with."""
    found: set[Ref] = set()
    for products, models, _groups in record.associations.values():
        found.update(("p", u) for u in products)
        found.update(("m", c) for c in models)
    for qproducts, qmodels in record.quantified.values():
        found.update(("p", u) for u, _ in qproducts)
        found.update(("m", c) for c, _ in qmodels)
    return found


def without(record: Record, ref: Ref) -> None:
    """Drop the links of ``record`` to ``ref`` (the database cascade when ``ref`` is removed)."""
    kind, target = ref
    record.associations = {
        t: (tuple(u for u in p if not (kind == "p" and u == target)),
            tuple(c for c in m if not (kind == "m" and c == target)), g)
        for t, (p, m, g) in record.associations.items()
    }
    quantified = {
        t: (tuple(x for x in p if not (kind == "p" and x[0] == target)),
            tuple(x for x in m if not (kind == "m" and x[0] == target)))
        for t, (p, m) in record.quantified.items()
    }
    record.quantified = {t: links for t, links in quantified.items() if links[0] or links[1]}


class LinkIndex:
    """Who is associated with whom, so that removing a resource can scrub the links pointing at it."""

    def __init__(self) -> None:
        self._owners: dict[Ref, dict[Ref, None]] = {}

    def __len__(self) -> int:
        return sum(len(owners) for owners in self._owners.values())

    def add(self, owner: Ref, record: Record) -> None:
        for target in targets(record):
            self._owners.setdefault(target, {})[owner] = None

    def remove(self, owner: Ref, record: Record) -> None:
        for target in targets(record):
            owners = self._owners.get(target)
            if owners is not None:
                owners.pop(owner, None)
                if not owners:
                    del self._owners[target]

    def pop(self, target: Ref) -> list[Ref]:
        """The owners of links to ``target``, forgetting them."""
        return list(self._owners.pop(target, {}))


#: Links per association type at most, so that endless edits keep a product's size (and memory) bounded.
MAX_LINKS = 6


def associate(record: Record, owner: Ref, rng: random.Random, *, products: Sequence[str], models: Sequence[str],
              groups: Sequence[str], plain_types: Sequence[str], quantified_types: Sequence[str]) -> bool:
    """Add or remove one association link of ``record`` (a quantified one now and then); True if changed.

    ``products`` (uuids), ``models`` and ``groups`` are the candidates. Links are tuples, replaced rather
    than mutated, so that payloads of older versions stay as they were.
    """
    if quantified_types and rng.random() < 0.2:
        return _associate_quantified(record, owner, rng.choice(quantified_types), rng, products, models)
    code = rng.choice(plain_types)
    linked_products, linked_models, linked_groups = current = record.associations[code]
    roll = rng.random()
    size = len(linked_products) + len(linked_models) + len(linked_groups)
    if size >= MAX_LINKS or (size and roll < 0.3):
        if linked_products:
            linked_products = linked_products[:-1]
        elif linked_models:
            linked_models = linked_models[:-1]
        else:
            linked_groups = linked_groups[:-1]
    elif roll < 0.8 and products:
        uuid = rng.choice(products)
        if owner != ("p", uuid) and uuid not in linked_products:
            linked_products = (*linked_products, uuid)
    elif roll < 0.92 and models:
        model = rng.choice(models)
        if owner != ("m", model) and model not in linked_models:
            linked_models = (*linked_models, model)
    elif groups:
        group = rng.choice(groups)
        if group not in linked_groups:
            linked_groups = (*linked_groups, group)
    links: Links = (linked_products, linked_models, linked_groups)
    record.associations = {**record.associations, code: links}
    return links != current


def _associate_quantified(record: Record, owner: Ref, code: str, rng: random.Random,
                          products: Sequence[str], models: Sequence[str]) -> bool:
    linked_products, linked_models = record.quantified.get(code, ((), ()))
    size = len(linked_products) + len(linked_models)
    if size >= MAX_LINKS or (size and rng.random() < 0.3):
        if linked_products:
            linked_products = linked_products[1:]
        else:
            linked_models = linked_models[1:]
    elif rng.random() < 0.75 and products:
        uuid = rng.choice(products)
        if owner != ("p", uuid) and all(u != uuid for u, _ in linked_products):
            linked_products = (*linked_products, (uuid, rng.randint(1, 6)))
    elif models:
        model = rng.choice(models)
        if owner != ("m", model) and all(c != model for c, _ in linked_models):
            linked_models = (*linked_models, (model, rng.randint(1, 3)))
    quantified = dict(record.quantified)
    if linked_products or linked_models:
        quantified[code] = (linked_products, linked_models)
    else:
        quantified.pop(code, None)
    changed = quantified != record.quantified
    record.quantified = quantified
    return changed


class Normalizer:
    """Turns records into ``data.resource`` payloads for one profile (identifier, legacy or UUID mode)."""

    def __init__(self, *, has_uuid: bool, identifier_attribute: str,
                 products: Mapping[str, ProductRecord], models: Mapping[str, ModelRecord],
                 hidden: frozenset[str] = frozenset()) -> None:
        self.has_uuid = has_uuid
        self.hidden = hidden
        self.identifier_attribute = identifier_attribute
        self.products = products
        self.models = models

    def payload(self, record: Record, uuid_mode: bool) -> dict[str, Any]:
        slot = 1 if uuid_mode else 0
        cached = record.cache[slot]
        if cached is None:
            if isinstance(record, ProductRecord):
                cached = self.product(record, uuid_mode)
            else:
                assert isinstance(record, ModelRecord)
                cached = self.model(record)
            record.cache[slot] = cached
        return cached

    def _hide(self, values: dict[str, Any]) -> None:
        """Attributes the profile's PIM does not have (the SaaS-only product link) stay out of payloads."""
        for code in self.hidden:
            values.pop(code, None)

    def _inherit(self, parent: str | None, values: dict[str, Any], categories: list[str]) -> None:
        """Variant products and sub-models carry their ancestors' values and categories."""
        while parent is not None:
            model = self.models[parent]
            for code, value in model.values.items():
                if code not in values:
                    values[code] = value
            categories.extend(c for c in model.categories if c not in categories)
            parent = model.parent

    def product(self, p: ProductRecord, uuid_mode: bool) -> dict[str, Any]:
        """Root keys in the normalizer's order (facts section 7); ``uuid`` first in 7.0/SaaS legacy mode
        (facts, open question 4)."""
        values: dict[str, Any] = {}
        if uuid_mode:  # UUID mode keeps the identifier value in values
            values[self.identifier_attribute] = [{"locale": None, "scope": None, "data": p.identifier}]
        values.update(p.values)
        categories = list(p.categories)
        if p.parent is not None:
            self._inherit(p.parent, values, categories)
        if self.hidden:
            self._hide(values)
        payload: dict[str, Any]
        if not self.has_uuid:
            payload = {"identifier": p.identifier}
        elif uuid_mode:
            payload = {"uuid": p.uuid}
        else:
            payload = {"uuid": p.uuid, "identifier": p.identifier}
        payload["enabled"] = p.enabled
        payload["family"] = p.family
        payload["categories"] = categories
        payload["groups"] = list(p.groups)
        payload["parent"] = p.parent
        payload["values"] = values
        payload["created"] = p.created
        payload["updated"] = p.updated
        payload["associations"] = self.associations(p.associations, uuid_mode)
        payload["quantified_associations"] = self.quantified(p.quantified, uuid_mode)
        payload["metadata"] = {"workflow_status": p.workflow_status}
        return payload

    def model(self, m: ModelRecord) -> dict[str, Any]:
        """No ``enabled`` on models; associated products are identifiers, since the product model
        normalizer has no UUID option (an inference from facts section 4)."""
        values: dict[str, Any] = dict(m.values)
        categories = list(m.categories)
        self._inherit(m.parent, values, categories)
        if self.hidden:
            self._hide(values)
        return {
            "code": m.code,
            "family": m.family,
            "family_variant": m.family_variant,
            "parent": m.parent,
            "categories": categories,
            "values": values,
            "created": m.created,
            "updated": m.updated,
            "associations": self.associations(m.associations, False),
            "quantified_associations": self.quantified(m.quantified, False),
            "metadata": {"workflow_status": m.workflow_status},
        }

    def _ref(self, uuid: str, uuid_mode: bool) -> str:
        return uuid if uuid_mode else self.products[uuid].identifier

    def associations(self, links: dict[str, Links], uuid_mode: bool) -> dict[str, Any]:
        """Every association type, keys ``products, product_models, groups`` as in the real capture."""
        return {
            code: {"products": [self._ref(u, uuid_mode) for u in products],
                   "product_models": list(models), "groups": list(groups)}
            for code, (products, models, groups) in links.items()
        }

    def quantified(self, links: dict[str, QLinks], uuid_mode: bool) -> dict[str, Any]:
        """Only the types holding links, ``{}`` when none. Products are ``{"identifier"|"uuid", "quantity"}``;
        product models are ``{"identifier": <code>, "quantity"}``, since the PIM normalises every quantified
        link with the same ``identifier`` key (``QuantifiedAssociationCollection::normalize``)."""
        id_key = "uuid" if uuid_mode else "identifier"
        return {
            code: {"products": [{id_key: self._ref(u, uuid_mode), "quantity": q} for u, q in products],
                   "product_models": [{"identifier": c, "quantity": q} for c, q in models]}
            for code, (products, models) in links.items()
        }
