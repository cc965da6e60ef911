"""A seeded timeline of PIM operations that change the catalog (events-api-facts.md sections 4 and 5).

INTERFACE CONTRACT (used by the emitter in ``pim.py``; keep these names and fields):

* :class:`Change` is one save of one resource, i.e. one future event.
* :class:`Operation` is one user or connection action (a UI edit, an API bulk PATCH, an import, a mass edit,
  a removal...). All its changes share its author; ``unitary`` operations produce one 1-event message per
  change, the others are buffered by the emitter and flushed at 10 events or at the end of the operation.
* :class:`Activity` yields operations in time order, applying each to the catalog *before* yielding it, so
  that ``catalog.current(key)`` at that moment is the state right after the operation.

Authors follow facts section 4: UI users (``ui``), connection users such as ``magento_0000`` (``api``) and
the undocumented ``system`` user. Imports and mass edits run as jobs under the security token of the user
who launched them, hence ``ui`` (an inference from section 4: the author is the token's user); they save
through ``saveAll``, so they are not unitary, like API bulk PATCHes. ``event_datetime`` has second
precision, so several saves of one resource often share a second: bulk lists touching a product twice,
and a UI edit followed at once by an API save or a rule on the same product.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from ..errors import UsageError
from ..versions import DEFAULT_PROFILE, Action, AuthorType, PimVersion, get_profile
from .catalog import DEFAULT_PIM_URL, Catalog, Saved, new_uuid4
from .shape import CatalogShape

__all__ = [
    "DEFAULT_CONNECTIONS",
    "DEFAULT_MIX",
    "DEFAULT_USERS",
    "Activity",
    "Change",
    "Operation",
    "generate_activity",
    "generate_operations",
]


@dataclass(frozen=True)
class Change:
    """One save of one resource: the event the PIM will raise for it."""

    action: Action
    key: str  # model.resource_key(action, snapshot)
    event_id: str  # UUID v4 drawn from the seeded RNG
    epoch: int  # save time, whole seconds (event_datetime has second precision)
    version: int  # the resource's version after this save (1 at creation, +1 per save; removal too)
    snapshot: Mapping[str, Any]  # data.resource as normalised for the profile at save time


@dataclass(frozen=True)
class Operation:
    """One action in the PIM by one author."""

    seq: int
    kind: str  # e.g. "ui_edit", "api_bulk", "import", "mass_edit", "removal", "recreate", "model_edit"
    author: str
    author_type: AuthorType
    unitary: bool
    epoch: int
    changes: tuple[Change, ...]


#: Demo users of the PIM (UI authors).
DEFAULT_USERS = ("julia", "peter", "mary", "sandra", "julien")
#: Connection users: ``<connection code>_<4 digits>``, as the PIM names them (facts section 4).
DEFAULT_CONNECTIONS = ("erp_0000", "magento_0000", "dam_1234")
SYSTEM_USER = "system"

#: Share of each operation kind (weights, normalised). Products are the bulk of the traffic; removals,
#: re-creations and model trees are rarer but frequent enough to show up within a few hundred events.
DEFAULT_MIX: Mapping[str, float] = MappingProxyType({
    "ui_edit": 0.26,            # a user saves one product in the product form (unitary)
    "ui_model_edit": 0.06,      # a user saves one product model (unitary)
    "ui_create": 0.03,          # a user creates a product (unitary)
    "ui_variant_create": 0.02,  # a user adds a variant product to a model (unitary)
    "ui_removal": 0.025,        # a user deletes a product (unitary)
    "api_save": 0.18,           # PATCH/POST of one product by a connection (unitary)
    "api_removal": 0.015,       # DELETE of one product by a connection (unitary)
    "api_bulk": 0.13,           # PATCH list of 2-100 products by a connection (saveAll)
    "api_model_bulk": 0.03,     # PATCH list of product models by a connection (saveAll)
    "import": 0.05,             # a product import launched by a user (saveAll)
    "model_import": 0.02,       # an import creating models, sub-models and variants (saveAll)
    "mass_edit": 0.04,          # a mass edit launched by a user (saveAll)
    "mass_removal": 0.02,       # a mass delete launched by a user (saveAll)
    "model_removal": 0.01,      # a model deleted with its descendants
    "recreate": 0.02,           # a removed identifier created again (new uuid in 7.0/SaaS)
    "system_rules": 0.035,      # rules run by the system user (saveAll)
})
_CREATIONS = frozenset({"ui_create", "ui_variant_create", "recreate"})
_REMOVALS = frozenset({"ui_removal", "api_removal", "mass_removal"})
#: Chance that a unitary save of a product is followed in the same second by another author's save.
FOLLOW_UP_RATE = 0.15
#: Products retired per product created, once the catalog is above its initial size: the catalog turns
#: over (new products come in, discontinued ones go), so removals keep pace with creations in every run
#: instead of depending on how many operations the mix happened to draw.
RETIRE_RATE = 0.5
#: Chance that a removal deletes products saved shortly before (a product created or imported by mistake,
#: one a connection updated and then deleted) rather than any product; "shortly" is the last
#: :data:`RECENT_WINDOW` products saved.
RECENT_REMOVAL = 0.5
RECENT_WINDOW = 20

#: Lines of one API PATCH list at most (the REST API's limit).
_MAX_PATCH_LIST = 100

_Saves = list[tuple[int, Saved]]


class Activity:
    """An endless, deterministic stream of operations on ``catalog``, starting at Unix time ``start``.

    ``rng`` drives every choice (it may be the catalog's own). Each operation is applied to the catalog
    before it is yielded. ``pim_source`` is kept for the emitter (``AKENEO_PIM_URL``, a URL with scheme).
    """

    def __init__(
        self,
        catalog: Catalog,
        *,
        rng: random.Random,
        start: int,
        profile: PimVersion | str | None = None,
        users: Sequence[str] = DEFAULT_USERS,
        connections: Sequence[str] = DEFAULT_CONNECTIONS,
        pim_source: str | None = None,
        mix: Mapping[str, float] | None = None,
    ) -> None:
        if profile is not None:
            wanted = get_profile(profile)
            if wanted.name != catalog.profile.name or (isinstance(profile, PimVersion) and wanted != catalog.profile):
                raise UsageError(
                    f"the activity's profile {wanted.name} differs from the catalog's {catalog.profile.name}: "
                    "build the catalog with the profile (and uuid_mode) you want"
                )
        if not users or not connections:
            raise UsageError("an activity needs at least one UI user and one connection user")
        weights = dict(DEFAULT_MIX if mix is None else mix)
        unknown = sorted(set(weights) - set(DEFAULT_MIX))
        if unknown:
            raise UsageError(f"unknown operation kind {unknown[0]!r}: use any of {', '.join(DEFAULT_MIX)}")
        if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise UsageError("operation weights must be >= 0 and not all zero")
        self.catalog = catalog
        self.profile = catalog.profile
        self.rng = rng
        self.start = int(start)
        self.users = tuple(users)
        self.connections = tuple(connections)
        self.pim_source = (pim_source or catalog.pim_url).rstrip("/")
        self._kinds = tuple(k for k, w in weights.items() if w > 0)
        self._weights = tuple(weights[k] for k in self._kinds)
        self._removal_kinds = tuple(k for k in self._kinds if k in _REMOVALS)
        self._removal_weights = tuple(weights[k] for k in self._removal_kinds)
        self._recent: list[str] = []
        self._retire = 0.0
        self._target = max(10, catalog.product_count)
        self._model_target = max(3, catalog.product_model_count)
        self._now = self.start
        self._seq = 0
        self._follow: str | None = None
        self._builders: dict[str, Callable[[], tuple[str, str, AuthorType, bool, _Saves] | None]] = {
            "ui_edit": self._ui_edit, "ui_model_edit": self._ui_model_edit, "ui_create": self._ui_create,
            "ui_variant_create": self._ui_variant_create, "ui_removal": self._ui_removal,
            "api_save": self._api_save, "api_removal": self._api_removal, "api_bulk": self._api_bulk,
            "api_model_bulk": self._api_model_bulk, "import": self._import, "model_import": self._model_import,
            "mass_edit": self._mass_edit, "mass_removal": self._mass_removal,
            "model_removal": self._model_removal, "recreate": self._recreate, "system_rules": self._system_rules,
        }

    @classmethod
    def from_seed(cls, seed: int | random.Random, *, start: int, profile: PimVersion | str = DEFAULT_PROFILE,
                  uuid_mode: bool | None = None, products: int = 24, product_models: int = 6,
                  pim_url: str = DEFAULT_PIM_URL, shape: CatalogShape | None = None,
                  **options: Any) -> Activity:
        """A fresh catalog and its activity, both driven by one RNG seeded with ``seed``; ``shape`` (a
        catalog file's) gives its families, attributes and channels."""
        rng = seed if isinstance(seed, random.Random) else random.Random(seed)
        catalog = Catalog(rng, profile=profile, uuid_mode=uuid_mode, now=start, products=products,
                          product_models=product_models, pim_url=pim_url, shape=shape)
        return cls(catalog, rng=rng, start=start, **options)

    def operations(self) -> Iterator[Operation]:
        """Operations in time order, forever; each is already applied to the catalog when yielded."""
        while True:
            built = self._follow_up() if self._follow is not None else None
            if built is None:
                built = self._builders[self._pick()]() or self._fallback()
            kind, author, author_type, unitary, saves = built
            changes = tuple(
                Change(saved.action, saved.key, new_uuid4(self.rng), epoch, saved.version, saved.snapshot)
                for epoch, saved in saves
            )
            operation = Operation(self._seq, kind, author, author_type, unitary, changes[0].epoch, changes)
            self._seq += 1
            self._now = changes[-1].epoch
            self._note(changes)
            last = changes[-1]
            self._follow = (last.key if unitary and last.action.entity == "product" and not last.action.is_removal
                            and self.rng.random() < FOLLOW_UP_RATE else None)
            if self._follow is None:
                self._now += self._gap()
            yield operation

    def _note(self, changes: Sequence[Change]) -> None:
        """Keep the products saved last and the products due to retire up to date."""
        for change in changes:
            if change.action.entity != "product":
                continue
            if change.action.is_removal:
                self._retire = max(0.0, self._retire - 1.0)
                continue
            if change.action.value.endswith(".created"):
                self._retire += RETIRE_RATE
            if change.key in self._recent:
                self._recent.remove(change.key)
            self._recent.append(change.key)
        del self._recent[:-RECENT_WINDOW]

    def _recent_keys(self) -> list[str]:
        """The products saved last that still exist, oldest first."""
        return [key for key in self._recent if key in self.catalog]

    # ------------------------------------------------------------------ choices

    def _gap(self) -> int:
        """Seconds to the next operation: often a few, sometimes minutes, now and then none."""
        roll = self.rng.random()
        if roll < 0.12:
            return 0
        if roll < 0.55:
            return self.rng.randint(1, 10)
        if roll < 0.9:
            return self.rng.randint(11, 120)
        return self.rng.randint(121, 900)

    def _pick(self) -> str:
        """An operation kind from the mix; creations thin out as the catalog outgrows its initial size and
        removals as it shrinks, so that it stays near that size over an endless run. Above that size, products
        retire as others are created (:data:`RETIRE_RATE`): once one is due, the next operation is a removal."""
        kind = self.rng.choices(self._kinds, self._weights)[0]
        products = self.catalog.product_count / self._target
        models = self.catalog.product_model_count / self._model_target
        if kind in _CREATIONS or kind == "model_import":
            ratio = products if kind in _CREATIONS else models
            if self.rng.random() >= min(1.0, 2.0 - ratio):
                return "ui_edit"
        elif kind in _REMOVALS or kind == "model_removal":
            ratio = products if kind in _REMOVALS else models
            if self.rng.random() >= min(1.0, ratio):
                return "ui_edit"
        if self._retire >= 1.0 and products > 1.0 and self._removal_kinds and kind not in _REMOVALS:
            return self.rng.choices(self._removal_kinds, self._removal_weights)[0]
        return kind

    def _creations(self, rate: float) -> float:
        """The share of creations in a bulk save, scaled down as the catalog grows past its initial size."""
        return rate * max(0.0, min(1.5, 2.0 - self.catalog.product_count / self._target))

    def _user(self) -> str:
        return self.rng.choice(self.users)

    def _connection(self) -> str:
        return self.rng.choice(self.connections)

    def _bulk_size(self, low: int = 2, high: int = 100, mean: float = 12.0) -> int:
        return min(high, low + int(self.rng.expovariate(1.0 / mean)))

    def _times(self, count: int, per_second: int) -> Iterator[int]:
        """Save times of a saveAll running at ``per_second`` saves per second, from now."""
        return (self._now + index // per_second for index in range(count))

    def _fallback(self) -> tuple[str, str, AuthorType, bool, _Saves]:
        built = self._ui_edit() if self.catalog.product_count else None
        return built or self._ui_create_unchecked()

    # ------------------------------------------------------------------ unitary operations

    def _ui_edit(self) -> tuple[str, str, AuthorType, bool, _Saves] | None:
        key = self.catalog.random_product_key(self.rng)
        saved = self.catalog.update_product(key, self._now, rng=self.rng) if key else None
        return ("ui_edit", self._user(), AuthorType.UI, True, [(self._now, saved)]) if saved else None

    def _ui_model_edit(self) -> tuple[str, str, AuthorType, bool, _Saves] | None:
        key = self.catalog.random_product_model_key(self.rng)
        if key is None:
            return None
        saved = self.catalog.update_product_model(key, self._now, rng=self.rng)
        return "ui_model_edit", self._user(), AuthorType.UI, True, [(self._now, saved)]

    def _ui_create(self) -> tuple[str, str, AuthorType, bool, _Saves] | None:
        return self._ui_create_unchecked()

    def _ui_create_unchecked(self) -> tuple[str, str, AuthorType, bool, _Saves]:
        saved = self.catalog.create_product(self._now, rng=self.rng)
        return "ui_create", self._user(), AuthorType.UI, True, [(self._now, saved)]

    def _ui_variant_create(self) -> tuple[str, str, AuthorType, bool, _Saves] | None:
        parents = self.catalog.variant_parent_keys()
        if not parents:
            return None
        saved = self.catalog.create_variant_product(self.rng.choice(parents), self._now, rng=self.rng)
        return ("ui_variant_create", self._user(), AuthorType.UI, True, [(self._now, saved)]) if saved else None

    def _removal_key(self) -> str | None:
        """The product a unitary removal deletes: often one saved shortly before (:data:`RECENT_REMOVAL`)."""
        recent = self._recent_keys()
        if recent and self.rng.random() < RECENT_REMOVAL:
            return self.rng.choice(recent)
        return self.catalog.random_product_key(self.rng)

    def _ui_removal(self) -> tuple[str, str, AuthorType, bool, _Saves] | None:
        key = self._removal_key()
        if key is None:
            return None
        removal = self.catalog.remove_product(key)
        return "ui_removal", self._user(), AuthorType.UI, True, [(self._now, removal)]

    def _api_save(self) -> tuple[str, str, AuthorType, bool, _Saves] | None:
        if self.rng.random() < self._creations(0.2) or not self.catalog.product_count:
            saved: Saved | None = self.catalog.create_product(self._now, rng=self.rng)
        else:
            key = self.catalog.random_product_key(self.rng)
            saved = self.catalog.update_product(key, self._now, rng=self.rng) if key else None
        return ("api_save", self._connection(), AuthorType.API, True, [(self._now, saved)]) if saved else None

    def _api_removal(self) -> tuple[str, str, AuthorType, bool, _Saves] | None:
        key = self._removal_key()
        if key is None:
            return None
        removal = self.catalog.remove_product(key)
        return "api_removal", self._connection(), AuthorType.API, True, [(self._now, removal)]

    def _recreate(self) -> tuple[str, str, AuthorType, bool, _Saves] | None:
        saved = self.catalog.recreate_product(self._now, rng=self.rng)
        if saved is None:
            return None
        if self.rng.random() < 0.5:
            return "recreate", self._user(), AuthorType.UI, True, [(self._now, saved)]
        return "recreate", self._connection(), AuthorType.API, True, [(self._now, saved)]

    def _follow_up(self) -> tuple[str, str, AuthorType, bool, _Saves] | None:
        """Another author saves the product just saved, in the same second (a tie on one resource)."""
        key, self._follow = self._follow, None
        if key is None or key not in self.catalog:
            return None
        saved = self.catalog.update_product(key, self._now, rng=self.rng)
        if saved is None:
            return None
        if self.rng.random() < 0.7:
            return "api_save", self._connection(), AuthorType.API, True, [(self._now, saved)]
        return "system_rules", SYSTEM_USER, AuthorType.SYSTEM, False, [(self._now, saved)]

    # ------------------------------------------------------------------ saveAll operations

    def _updates(self, keys: Sequence[str], per_second: int, *, creations: float = 0.0,
                 repeats: float = 0.0) -> _Saves:
        """Saves of ``keys`` in order, some replaced by creations, a repeated item now and then."""
        items: list[str | None] = [None if self.rng.random() < creations else k for k in keys]
        if items and self.rng.random() < repeats:
            index = self.rng.randrange(len(items))
            items.insert(min(len(items), index + self.rng.randint(1, 3)), items[index])
            del items[_MAX_PATCH_LIST:]
        saves: _Saves = []
        for epoch, item in zip(self._times(len(items), per_second), items, strict=True):
            if item is None:
                saves.append((epoch, self.catalog.create_product(epoch, rng=self.rng)))
            elif item in self.catalog:
                saved = self.catalog.update_product(item, epoch, rng=self.rng)
                if saved is not None:
                    saves.append((epoch, saved))
        return saves

    def _api_bulk(self) -> tuple[str, str, AuthorType, bool, _Saves] | None:
        keys = self.catalog.sample_product_keys(self._bulk_size(), self.rng)
        saves = self._updates(keys, self.rng.randint(5, 40), creations=self._creations(0.06), repeats=0.35)
        return ("api_bulk", self._connection(), AuthorType.API, False, saves) if saves else None

    def _import(self) -> tuple[str, str, AuthorType, bool, _Saves] | None:
        keys = self.catalog.sample_product_keys(self._bulk_size(5, 100, 25), self.rng)
        saves = self._updates(keys, self.rng.randint(20, 100), creations=self._creations(0.12), repeats=0.1)
        return ("import", self._user(), AuthorType.UI, False, saves) if saves else None

    def _system_rules(self) -> tuple[str, str, AuthorType, bool, _Saves] | None:
        keys = self.catalog.sample_product_keys(self._bulk_size(1, 20, 5), self.rng)
        saves = self._updates(keys, self.rng.randint(10, 50))
        return ("system_rules", SYSTEM_USER, AuthorType.SYSTEM, False, saves) if saves else None

    def _mass_edit(self) -> tuple[str, str, AuthorType, bool, _Saves] | None:
        edit = self.catalog.random_mass_edit(self.rng)
        keys = self.catalog.sample_product_keys(self._bulk_size(2, 60, 10), self.rng)
        saves: _Saves = []
        per_second = self.rng.randint(10, 50)
        for key in keys:
            epoch = self._now + len(saves) // per_second
            saved = self.catalog.update_product(key, epoch, edit=edit)
            if saved is not None:
                saves.append((epoch, saved))
        return ("mass_edit", self._user(), AuthorType.UI, False, saves) if saves else None

    def _mass_removal(self) -> tuple[str, str, AuthorType, bool, _Saves] | None:
        size = self._bulk_size(2, 20, 6)
        recent = self._recent_keys()  # often undoing what was just imported or created
        if recent and self.rng.random() < RECENT_REMOVAL:
            keys = self.rng.sample(recent, min(size, len(recent)))
        else:
            keys = self.catalog.sample_product_keys(size, self.rng)
        if not keys:
            return None
        times = self._times(len(keys), self.rng.randint(10, 50))
        saves = [(epoch, self.catalog.remove_product(key)) for epoch, key in zip(times, keys, strict=True)]
        return "mass_removal", self._user(), AuthorType.UI, False, saves

    def _api_model_bulk(self) -> tuple[str, str, AuthorType, bool, _Saves] | None:
        if not self.catalog.structure.family_variants:
            return None  # a catalog without family variants has no product models
        keys = self.catalog.product_model_keys()
        saves: _Saves = []
        if self.rng.random() < 0.25 * min(1.0, 2.0 - len(keys) / self._model_target) or not keys:
            saves.extend((self._now, s) for s in self.catalog.create_product_model(
                self._now, rng=self.rng, variants=False))
        per_second = self.rng.randint(5, 30)
        for key in self.rng.sample(keys, min(len(keys), self._bulk_size(1, 20, 4))):
            epoch = self._now + len(saves) // per_second
            saves.append((epoch, self.catalog.update_product_model(key, epoch, rng=self.rng)))
        return "api_model_bulk", self._connection(), AuthorType.API, False, saves

    def _model_import(self) -> tuple[str, str, AuthorType, bool, _Saves] | None:
        if not self.catalog.structure.family_variants:
            return None
        saves: _Saves = []
        for _ in range(self.rng.randint(1, 2)):
            saves.extend((self._now, s) for s in self.catalog.create_product_model(self._now, rng=self.rng))
        return "model_import", self._user(), AuthorType.UI, False, saves

    def _model_removal(self) -> tuple[str, str, AuthorType, bool, _Saves] | None:
        key = self.catalog.random_product_model_key(self.rng)
        if key is None:
            return None
        saves = [(self._now, s) for s in self.catalog.remove_product_model(key)]
        return "model_removal", self._user(), AuthorType.UI, False, saves


def generate_activity(
    *,
    rng: random.Random | int,
    events: int,
    start: int,
    profile: PimVersion | str = DEFAULT_PROFILE,
    uuid_mode: bool | None = None,
    products: int = 24,
    product_models: int = 6,
    pim_url: str = DEFAULT_PIM_URL,
    users: Sequence[str] = DEFAULT_USERS,
    connections: Sequence[str] = DEFAULT_CONNECTIONS,
    mix: Mapping[str, float] | None = None,
    shape: CatalogShape | None = None,
) -> tuple[Catalog, Iterator[Operation]]:
    """A seeded catalog and the operations on it, stopping once ``events`` changes were produced.

    The last operation is truncated to reach exactly ``events`` changes; the catalog still holds that
    whole operation's effect (it was applied before being cut). ``shape`` (a catalog file's,
    :func:`~.shape.load_catalog_shape`) gives the catalog's families, attributes and channels: every
    product then belongs to one of its families, and there are no product models.
    """
    if events < 0:
        raise UsageError(f"events must be zero or more, got {events}")
    activity = Activity.from_seed(rng, start=start, profile=profile, uuid_mode=uuid_mode, products=products,
                                  product_models=product_models, pim_url=pim_url, users=users,
                                  connections=connections, mix=mix, shape=shape)
    return activity.catalog, _take(activity.operations(), events)


def generate_operations(*, seed: int, events: int, start: int, profile: PimVersion | str = DEFAULT_PROFILE,
                        **options: Any) -> Iterator[Operation]:
    """:func:`generate_activity` for an int seed, without the catalog."""
    return generate_activity(rng=seed, events=events, start=start, profile=profile, **options)[1]


def _take(operations: Iterator[Operation], events: int) -> Iterator[Operation]:
    remaining = events
    for operation in operations:
        if remaining <= 0:
            return
        if len(operation.changes) > remaining:
            operation = replace(operation, changes=operation.changes[:remaining])
        remaining -= len(operation.changes)
        yield operation
