"""A coherent, seeded PIM catalog that normalises its products as each profile puts them on the wire.

The catalog holds the *current* state of every product and product model (no history: memory grows with
the number of resources, never with the number of saves) and normalises them to the REST "connector" format
of events-api-facts.md sections 4 and 7:

* identifier mode (5.0, 6.0): ``identifier, enabled, family, categories, groups, parent, values, created,
  updated, associations, quantified_associations, metadata``, the identifier value taken out of ``values``;
* 7.0/SaaS legacy mode: the same with ``uuid`` first (facts, open question 4: only the docs suggest
  ``uuid, identifier, ...``; the PIM's test compares without order);
* 7.0/SaaS UUID mode: ``uuid`` and no root ``identifier``, the identifier value kept in ``values``,
  associated products as UUIDs and quantified items as ``{"uuid", "quantity"}``;
* product models: ``code, family, family_variant, parent, categories, values, created, updated,
  associations, quantified_associations, metadata`` and no ``enabled``.

Empty ``values`` and ``quantified_associations`` are ``{}``, never ``[]`` (facts section 3). Variant products
and sub-models carry their ancestors' values and categories, as the PIM's read model merges them, so that
saving a model changes what its variants look like without a product event (facts, open question 7).
Removing a product drops it from the associations of the others, as the database cascade does; this too
changes other payloads silently. The data of an event is read when it is sent (facts section 4), so a
faithful emitter calls :meth:`Catalog.current` at send time.

Everything random comes from one :class:`random.Random`; the draws never depend on the profile, so one
seed gives the same products under every profile, only encoded differently.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple
from uuid import UUID

from ..errors import UsageError
from ..versions import DEFAULT_PROFILE, Action, PimVersion, get_profile
from ._records import LinkIndex, ModelRecord, Normalizer, ProductRecord, Record, Ref, associate, without
from .edits import WORKFLOW_STATUSES, Edit, apply_edit, draw_mass_edit, draw_status, random_change
from .structure import DEFAULT_CHANNELS, CatalogStructure, FamilyVariant, build_structure
from .values import PRODUCT_LINK, Channel, TextPool, ValueContext, format_c_date, make_value

if TYPE_CHECKING:
    from .shape import CatalogShape

# WORKFLOW_STATUSES and Edit live in .edits (how a save changes a record) and are re-exported here.
__all__ = ["DEFAULT_PIM_URL", "WORKFLOW_STATUSES", "Catalog", "Edit", "Saved", "new_uuid4"]

#: The PIM's ``AKENEO_PIM_URL`` (a URL with scheme): the events' ``pim_source`` and the base of the media
#: download links; the PIM's own test and a real capture use this one (facts sections 3 and 4).
DEFAULT_PIM_URL = "http://localhost:8080"
_DAY = 86_400


def new_uuid4(rng: random.Random) -> str:
    """A UUID v4 drawn from ``rng`` (the PIM uses ``Uuid::uuid4()`` for product uuids and event ids)."""
    return str(UUID(int=rng.getrandbits(128), version=4))


class Saved(NamedTuple):
    """One save (or removal) of one resource, as the catalog applied it."""

    action: Action
    key: str
    version: int
    snapshot: dict[str, Any]


class Catalog:
    """The current state of a seeded catalog, normalised per profile on demand (and cached per version).

    ``rng`` (or an int seed) drives everything; ``now`` is the Unix time the initial resources were last
    saved by (they were created over the 180 days before it). ``products`` simple products and
    ``product_models`` root models (each with sub-models and variant products) exist from the start: a
    receiver subscribed to a running PIM first hears of them through ``*.updated`` events.

    ``shape`` (a :class:`~.shape.CatalogShape`, read from a catalog file) gives the families, attributes
    and channels instead of the kit's own (``channels`` is then ignored); it has no family variants, so
    such a catalog has no product models and ``product_models`` is ignored.
    """

    def __init__(
        self,
        rng: random.Random | int,
        *,
        profile: PimVersion | str = DEFAULT_PROFILE,
        uuid_mode: bool | None = None,
        now: int = 1_700_000_000,
        products: int = 24,
        product_models: int = 6,
        pim_url: str = DEFAULT_PIM_URL,
        channels: Sequence[Channel] = DEFAULT_CHANNELS,
        shape: CatalogShape | None = None,
    ) -> None:
        if products < 0 or product_models < 0:
            raise UsageError("products and product_models must be >= 0")
        self.rng = rng if isinstance(rng, random.Random) else random.Random(rng)
        self.profile = get_profile(profile, uuid_mode=uuid_mode)
        self.pim_url = pim_url.rstrip("/")
        if shape is not None:
            channels = shape.channels
        locales = tuple(dict.fromkeys(loc for channel in channels for loc in channel.locales))
        self.text = TextPool.from_faker(locales, self.rng.getrandbits(64))
        self.structure: CatalogStructure = build_structure(self.rng, self.text, tuple(channels), shape=shape)
        if not self.structure.family_variants:
            product_models = 0
        self._ctx = ValueContext(
            tuple(channels), self.text, self.pim_url, metric_symbol=self.profile.metric_symbol,
            link_target=self._random_link,
        )
        self._products: dict[str, ProductRecord] = {}
        self._identifiers: dict[str, str] = {}
        self._models: dict[str, ModelRecord] = {}
        self._tombstones: dict[str, int] = {}
        self._removed: deque[tuple[str, str | None]] = deque(maxlen=32)
        self._links = LinkIndex()
        self._normalizer = Normalizer(
            has_uuid=self.profile.has_uuid, identifier_attribute=self.structure.identifier_attribute,
            products=self._products, models=self._models, hidden=self._hidden_attributes(),
        )
        self._populate(products, product_models, now)

    # ------------------------------------------------------------------ reading

    def current(self, key: str, *, uuid_mode: bool | None = None) -> tuple[int, dict[str, Any]] | None:
        """``(version, data.resource)`` of a live resource as the PIM would send it now, else None.

        ``uuid_mode`` overrides the profile's, for 7.0/SaaS subscriptions that differ in the option. The
        payload is cached and shared: do not mutate it.
        """
        mode = self._mode(uuid_mode)
        record = self._lookup(key)
        if record is None:
            return None
        return record.version, self._normalizer.payload(record, mode)

    def api_payloads(self, key: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """``(by identifier, by uuid)``: ``key`` as the REST API serves it now at ``/products/{identifier}``
        (or ``/product-models/{code}``) and at ``/products-uuid/{uuid}``; without UUIDs, and for product
        models, both are the first. ``(None, None)`` when the resource does not exist."""
        has_uuid = self.profile.has_uuid
        legacy = self.current(key, uuid_mode=False if has_uuid else None)
        payload = legacy[1] if legacy else None
        if not (has_uuid and key.startswith("product:")):
            return payload, payload
        uuid = self.current(key, uuid_mode=True)
        return payload, uuid[1] if uuid else None

    def version(self, key: str) -> int | None:
        """The last version of ``key``, removed ones included where the key can come back (5.0/6.0 products,
        product models); None for unknown keys and removed 7.0/SaaS products, whose uuid never returns."""
        record = self._lookup(key)
        return record.version if record is not None else self._tombstones.get(key)

    def keys(self) -> Iterator[str]:
        """Keys of the live resources: products (``model.resource_key`` style), then product models."""
        yield from self.product_keys()
        yield from self.product_model_keys()

    def product_keys(self) -> list[str]:
        return [self._product_key(p) for p in self._products.values()]

    def product_model_keys(self) -> list[str]:
        return [f"product_model:{code}" for code in self._models]

    def __len__(self) -> int:
        return len(self._products) + len(self._models)

    def __iter__(self) -> Iterator[str]:
        return self.keys()

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._lookup(key) is not None

    def footprint(self) -> int:
        """How many objects the catalog stores: resources, cached payloads, tombstones and index entries.

        It grows with the number of resources, never with the number of saves (there is no history).
        """
        records: list[Record] = [*self._products.values(), *self._models.values()]
        cached = sum(1 for r in records for c in r.cache if c is not None)
        return len(records) + cached + len(self._tombstones) + len(self._removed) + len(self._links)

    def variant_parent_keys(self) -> list[str]:
        """Keys of the models that take variant products (the last model level of their family variant)."""
        return [f"product_model:{code}" for code, m in self._models.items()
                if m.depth == len(self.structure.family_variants[m.family_variant].levels) - 1]

    def removed_identifiers(self) -> list[str]:
        """Recently removed identifiers that are free again (candidates for re-creation)."""
        return [ident for ident, _ in self._removed if ident not in self._identifiers]

    # ------------------------------------------------------------------ writing

    def create_product(self, now: int, *, rng: random.Random | None = None,
                       identifier: str | None = None, family: str | None = "random") -> Saved:
        """Create a simple product (``family=None`` for one without family, hence maybe without values)."""
        rng = rng or self.rng
        if identifier is not None and identifier in self._identifiers:
            raise UsageError(f"identifier {identifier!r} is taken: remove that product first")
        if family == "random":
            family = self._random_family(rng)
        product = self._new_product(rng, now, identifier=identifier, family=family, parent=None, axes={})
        return self._saved_product(product, created=True)

    def recreate_product(self, now: int, *, rng: random.Random | None = None) -> Saved | None:
        """Create a product again under a removed identifier: a new uuid, so a new key in 7.0/SaaS, and the
        same key (versions going on) in 5.0/6.0. None if no removed identifier is free."""
        rng = rng or self.rng
        free = [(ident, fam) for ident, fam in self._removed if ident not in self._identifiers]
        if not free:
            return None
        identifier, family = rng.choice(free)
        product = self._new_product(rng, now, identifier=identifier, family=family, parent=None, axes={})
        return self._saved_product(product, created=True)

    def create_variant_product(self, model_key: str, now: int, *, rng: random.Random | None = None) -> Saved | None:
        """Add a variant product under a last-level model, on a free axis value; None if all are taken."""
        rng = rng or self.rng
        model = self._lookup(model_key)
        if not isinstance(model, ModelRecord):
            raise UsageError(f"{model_key!r} is not a live product model")
        variant = self.structure.family_variants[model.family_variant]
        if model.depth != len(variant.levels) - 1:
            return None
        axes = self._free_axes(model, variant, rng)
        if axes is None:
            return None
        product = self._new_product(rng, now, identifier=None, family=model.family, parent=model, axes=axes)
        return self._saved_product(product, created=True)

    def create_product_model(self, now: int, *, rng: random.Random | None = None,
                             variants: bool = True) -> list[Saved]:
        """Create a root model, its sub-models and (if ``variants``) its variant products, in save order."""
        rng = rng or self.rng
        if not self.structure.family_variants:
            raise UsageError("this catalog has no family variants, hence no product models (a catalog file "
                             "describes none)")
        records = self._new_model_tree(rng, now, variants=variants)
        return [self._saved_model(r, created=True) if isinstance(r, ModelRecord)
                else self._saved_product(r, created=True) for r in records]

    def update_product(self, key: str, now: int, *, rng: random.Random | None = None,
                       edit: Edit | None = None) -> Saved | None:
        """Save a product with a random change, or with ``edit`` (None if ``edit`` changes nothing)."""
        rng = rng or self.rng
        product = self._lookup(key)
        if not isinstance(product, ProductRecord):
            raise UsageError(f"{key!r} is not a live product")
        changed = (apply_edit(product, edit, self._level_attributes(product)) if edit is not None
                   else self._random_change(product, rng))
        if not changed:
            return None
        self._touch(product, now)
        return self._saved_product(product, created=False)

    def update_product_model(self, key: str, now: int, *, rng: random.Random | None = None) -> Saved:
        """Save a product model with a random change (its descendants' payloads change with it)."""
        rng = rng or self.rng
        model = self._lookup(key)
        if not isinstance(model, ModelRecord):
            raise UsageError(f"{key!r} is not a live product model")
        self._random_change(model, rng)
        self._touch(model, now)
        return self._saved_model(model, created=False)

    def remove_product(self, key: str) -> Saved:
        """Remove a product; the snapshot is the removal payload of facts section 4."""
        product = self._lookup(key)
        if not isinstance(product, ProductRecord):
            raise UsageError(f"{key!r} is not a live product")
        return self._remove_product(product)

    def remove_product_model(self, key: str) -> list[Saved]:
        """Remove a model with its descendants: each variant's ``product.removed`` and each sub-model's
        ``product_model.removed`` come first, then the model's (an inference: the PIM removes descendants
        with their model, and each removal raises its own event)."""
        model = self._lookup(key)
        if not isinstance(model, ModelRecord):
            raise UsageError(f"{key!r} is not a live product model")
        saves: list[Saved] = []
        for kind, ref in list(model.children):
            if kind == "p":
                saves.append(self._remove_product(self._products[ref]))
            else:
                saves.extend(self.remove_product_model(f"product_model:{ref}"))
        model.version += 1
        self._forget(("m", model.code), model)
        del self._models[model.code]
        if model.parent is not None and model.parent in self._models:
            self._models[model.parent].children.pop(("m", model.code), None)
        key = f"product_model:{model.code}"
        self._tombstones[key] = model.version
        saves.append(Saved(Action.PRODUCT_MODEL_REMOVED, key, model.version, {"code": model.code}))
        return saves

    def random_mass_edit(self, rng: random.Random | None = None) -> Edit:
        """A change of the kind a mass edit applies (add to a category or group, (dis)able, set a value)."""
        return draw_mass_edit(self.structure, self._ctx, rng or self.rng)

    def random_product_key(self, rng: random.Random | None = None) -> str | None:
        if not self._products:
            return None
        return self._product_key(self._products[(rng or self.rng).choice(tuple(self._products))])

    def random_product_model_key(self, rng: random.Random | None = None) -> str | None:
        if not self._models:
            return None
        return f"product_model:{(rng or self.rng).choice(tuple(self._models))}"

    def sample_product_keys(self, count: int, rng: random.Random | None = None) -> list[str]:
        uuids = (rng or self.rng).sample(tuple(self._products), min(count, len(self._products)))
        return [self._product_key(self._products[u]) for u in uuids]

    @property
    def product_count(self) -> int:
        return len(self._products)

    @property
    def product_model_count(self) -> int:
        return len(self._models)

    # ------------------------------------------------------------------ internals

    def _mode(self, uuid_mode: bool | None) -> bool:
        if uuid_mode is None:
            return self.profile.uuid_mode
        if uuid_mode and not self.profile.has_uuid:
            raise UsageError(f"profile {self.profile.name} has no UUID mode: use 7.0 or saas")
        return uuid_mode

    def _hidden_attributes(self) -> frozenset[str]:
        """The product link type exists only in SaaS (facts section 7). Its values are drawn in every
        profile, so that one seed gives the same catalog everywhere, and left out of other payloads."""
        if self.profile.name == "saas":
            return frozenset()
        return frozenset(a.code for a in self.structure.attributes.values() if a.type == PRODUCT_LINK)

    def _random_family(self, rng: random.Random) -> str | None:
        """A family for a new product; now and then none, in the kit's own catalog only."""
        if self.structure.familyless and rng.random() < 0.08:
            return None
        return rng.choice(tuple(self.structure.families))

    def _product_key(self, p: ProductRecord) -> str:
        return f"product:{p.uuid}" if self.profile.has_uuid else f"product:{p.identifier}"

    def _lookup(self, key: str) -> ProductRecord | ModelRecord | None:
        if key.startswith("product:"):
            ref = key[8:]
            uuid = ref if self.profile.has_uuid else self._identifiers.get(ref)
            return self._products.get(uuid) if uuid is not None else None
        if key.startswith("product_model:"):
            return self._models.get(key[14:])
        return None

    def _saved_product(self, p: ProductRecord, *, created: bool) -> Saved:
        action = Action.PRODUCT_CREATED if created else Action.PRODUCT_UPDATED
        return Saved(action, self._product_key(p), p.version, self._normalizer.payload(p, self.profile.uuid_mode))

    def _saved_model(self, m: ModelRecord, *, created: bool) -> Saved:
        action = Action.PRODUCT_MODEL_CREATED if created else Action.PRODUCT_MODEL_UPDATED
        return Saved(action, f"product_model:{m.code}", m.version, self._normalizer.payload(m, self.profile.uuid_mode))

    def _touch(self, record: Record, now: int) -> None:
        record.version += 1
        record.updated = format_c_date(now)
        self._invalidate(record)

    def _invalidate(self, record: Record) -> None:
        record.cache = [None, None]
        if isinstance(record, ModelRecord):
            for kind, ref in record.children:
                self._invalidate(self._products[ref] if kind == "p" else self._models[ref])

    def _new_identifier(self, rng: random.Random) -> str:
        while True:
            style = rng.random()
            if style < 0.45:
                identifier = str(rng.randint(10**9, 10**10 - 1))
            elif style < 0.75:
                identifier = f"{self.text.slug(rng, 1)[:4].upper()}-{rng.randint(1000, 9999)}"
            else:
                identifier = f"{self.text.slug(rng, 2)}_{rng.randint(1, 999)}"
            if identifier not in self._identifiers:
                return identifier

    def _fill(self, attributes: Sequence[str], rng: random.Random, *, required: frozenset[str],
              stem: str) -> dict[str, list[dict[str, Any]]]:
        values: dict[str, list[dict[str, Any]]] = {}
        for code in attributes:
            if code in required or rng.random() < 0.8:
                value = make_value(self.structure.attributes[code], rng, self._ctx, file_stem=stem)
                if value is not None:
                    values[code] = value
        return values

    def _required(self, family: str | None) -> frozenset[str]:
        if family is None:
            return frozenset()
        requirements = self.structure.families[family].requirements
        return frozenset(code for codes in requirements.values() for code in codes)

    def _level_attributes(self, record: ProductRecord | ModelRecord) -> tuple[str, ...]:
        """Attributes a save of ``record`` may change: its family's at its level, minus identifier and axes."""
        ident = self.structure.identifier_attribute
        if isinstance(record, ModelRecord):
            variant = self.structure.family_variants[record.family_variant]
            attrs = variant.attributes_at(self.structure.families[record.family], record.depth)
            axes = variant.levels[record.depth - 1].axes if record.depth else ()
        elif record.parent is not None:
            variant = self.structure.family_variants[self._models[record.parent].family_variant]
            attrs, axes = variant.levels[-1].attributes, variant.levels[-1].axes
        elif record.family is not None:
            attrs, axes = self.structure.families[record.family].attributes, ()
        else:
            attrs, axes = ("name", "ean", "color"), ()
        return tuple(a for a in attrs if a != ident and a not in axes)

    def _categories_for(self, rng: random.Random, low: int) -> tuple[str, ...]:
        leaves = self.structure.leaf_categories
        return tuple(rng.sample(leaves, rng.randint(low, min(3, len(leaves)))))

    def _new_product(self, rng: random.Random, now: int, *, identifier: str | None, family: str | None,
                     parent: ModelRecord | None, axes: dict[str, str]) -> ProductRecord:
        uuid = new_uuid4(rng)
        identifier = identifier or self._new_identifier(rng)
        stamp = format_c_date(now)
        product = ProductRecord(
            version=1, created=stamp, updated=stamp,
            categories=self._categories_for(rng, 0 if parent is not None or rng.random() < 0.1 else 1),
            values={}, associations={t: ((), (), ()) for t in self.structure.plain_association_types},
            quantified={}, workflow_status=draw_status(rng), uuid=uuid, identifier=identifier,
            enabled=rng.random() < 0.9, family=family,
            groups=(rng.choice(tuple(self.structure.groups)),) if rng.random() < 0.15 else (),
            parent=parent.code if parent is not None else None,
        )
        for code, option in axes.items():
            product.values[code] = [{"locale": None, "scope": None, "data": option}]
        if family is not None or rng.random() < 0.5:
            stem = self.text.slug(rng, 1)
            product.values.update(self._fill(self._level_attributes(product), rng,
                                             required=self._required(family), stem=stem))
        version = self._tombstones.pop(self._product_key(product), 0) + 1
        product.version = version
        self._products[uuid] = product
        self._identifiers[identifier] = uuid
        if parent is not None:
            parent.children[("p", uuid)] = None
        return product

    def _free_axes(self, model: ModelRecord, variant: FamilyVariant, rng: random.Random) -> dict[str, str] | None:
        level = variant.levels[model.depth]
        axis = level.axes[0]
        taken = {self._products[ref].values[axis][0]["data"] for kind, ref in model.children if kind == "p"}
        free = [o for o in self.structure.attributes[axis].options if o not in taken]
        return {axis: rng.choice(free)} if free else None

    def _new_model_tree(self, rng: random.Random, now: int, *, variants: bool) -> list[ProductRecord | ModelRecord]:
        variant = rng.choice(tuple(self.structure.family_variants.values()))
        family = self.structure.families[variant.family]
        code = f"{self.text.slug(rng, 1)}_{rng.randint(100, 9999)}"
        while code in self._models:
            code = f"{code}_{rng.randint(0, 9)}"
        stem = self.text.slug(rng, 1)
        required = self._required(family.code)
        root = self._new_model(rng, now, code, variant, None, {}, required, stem)
        saves: list[ProductRecord | ModelRecord] = [root]
        leaves = [root]
        if len(variant.levels) == 2:
            axis = variant.levels[0].axes[0]
            leaves = []
            for option in rng.sample(self.structure.attributes[axis].options, rng.randint(2, 3)):
                sub = self._new_model(rng, now, f"{code}_{option}", variant, root, {axis: option}, required, stem)
                saves.append(sub)
                leaves.append(sub)
        if variants:
            for leaf in leaves:
                for _ in range(rng.randint(2, 4)):
                    axes = self._free_axes(leaf, variant, rng)
                    if axes is None:
                        break
                    saves.append(self._new_product(rng, now, identifier=None, family=family.code,
                                                   parent=leaf, axes=axes))
        return saves

    def _new_model(self, rng: random.Random, now: int, code: str, variant: FamilyVariant, parent: ModelRecord | None,
                   axes: dict[str, str], required: frozenset[str], stem: str) -> ModelRecord:
        stamp = format_c_date(now)
        model = ModelRecord(
            version=self._tombstones.pop(f"product_model:{code}", 0) + 1, created=stamp, updated=stamp,
            categories=self._categories_for(rng, 0 if parent is not None else 1), values={},
            associations={t: ((), (), ()) for t in self.structure.plain_association_types}, quantified={},
            workflow_status=draw_status(rng), code=code, family=variant.family, family_variant=variant.code,
            parent=parent.code if parent is not None else None, depth=0 if parent is None else parent.depth + 1,
        )
        for axis, option in axes.items():
            model.values[axis] = [{"locale": None, "scope": None, "data": option}]
        model.values.update(self._fill(self._level_attributes(model), rng, required=required, stem=stem))
        self._models[code] = model
        if parent is not None:
            parent.children[("m", code)] = None
        return model

    def _remove_product(self, product: ProductRecord) -> Saved:
        key = self._product_key(product)
        product.version += 1
        self._forget(("p", product.uuid), product)
        del self._products[product.uuid]
        del self._identifiers[product.identifier]
        if product.parent is not None and product.parent in self._models:
            self._models[product.parent].children.pop(("p", product.uuid), None)
        self._removed.append((product.identifier, product.family))
        if self.profile.has_uuid:
            # the removal payload carries uuid in 7.0/SaaS whatever the UUID option (facts section 4)
            return Saved(Action.PRODUCT_REMOVED, key, product.version,
                         {"identifier": product.identifier, "uuid": product.uuid})
        self._tombstones[key] = product.version  # the identifier may come back on the same key
        return Saved(Action.PRODUCT_REMOVED, key, product.version, {"identifier": product.identifier})

    def _forget(self, ref: Ref, record: Record) -> None:
        """Drop ``record``'s outgoing links from the index and scrub every link pointing at it."""
        self._links.remove(ref, record)
        for kind, code in self._links.pop(ref):
            other = self._products.get(code) if kind == "p" else self._models.get(code)
            if other is not None:
                without(other, ref)
                self._invalidate(other)

    def _random_link(self, rng: random.Random) -> dict[str, Any] | None:
        if rng.random() < 0.75 and self._products:
            return {"type": "product", "id": rng.choice(tuple(self._products))}
        if self._models:
            return {"type": "product_model", "id": rng.choice(tuple(self._models))}
        return None

    # ------------------------------------------------------------------ changes

    def _populate(self, products: int, product_models: int, now: int) -> None:
        """The catalog before the activity starts: created over 180 days, last saved before ``now``."""
        rng = self.rng
        for _ in range(product_models):
            created = now - rng.randint(2 * _DAY, 180 * _DAY)
            for record in self._new_model_tree(rng, created, variants=True):
                self._age(record, rng, created, now)
        for _ in range(products):
            created = now - rng.randint(2 * _DAY, 180 * _DAY)
            family = self._random_family(rng)
            product = self._new_product(rng, created, identifier=None, family=family, parent=None, axes={})
            self._age(product, rng, created, now)
        owners: list[Record] = [*self._products.values(), *self._models.values()]
        for owner in owners:
            if rng.random() < 0.35:
                for _ in range(rng.randint(1, 3)):
                    self._associate(owner, rng)

    def _age(self, record: Record, rng: random.Random, created: int, now: int) -> None:
        if rng.random() < 0.7:
            record.version += rng.randint(1, 6)
            record.updated = format_c_date(rng.randint(created, now - 1))

    def _owner(self, record: Record) -> Ref:
        if isinstance(record, ProductRecord):
            return ("p", record.uuid)
        assert isinstance(record, ModelRecord)
        return ("m", record.code)

    def _associate(self, record: Record, rng: random.Random) -> bool:
        owner = self._owner(record)
        self._links.remove(owner, record)
        changed = associate(record, owner, rng, products=tuple(self._products), models=tuple(self._models),
                            groups=tuple(self.structure.groups),
                            plain_types=self.structure.plain_association_types,
                            quantified_types=self.structure.quantified_association_types)
        self._links.add(owner, record)
        return changed

    def _random_change(self, record: ProductRecord | ModelRecord, rng: random.Random) -> bool:
        """One plausible edit of ``record`` (:func:`.edits.random_change`), links kept in the index."""
        return random_change(record, rng, attributes=self._level_attributes(record), structure=self.structure,
                             ctx=self._ctx, associate=self._associate)
