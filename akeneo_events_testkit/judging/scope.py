"""What a receiver is responsible for (``--scope``): the resources and events it acts on, the rest it ignores.

Real receivers are often partial on purpose: a bridge forwards only the products of one family, a function
acts only on deltas that change a price. Such a receiver acknowledges everything it is sent (a 2xx: the
platform must not retry, suspend or count a failure; events-api-facts.md section 6, event-platform-facts.md
section 3) and applies only what is in its scope. Judged without a scope it would lose every other event.

A scope is criteria, all of which an event must meet (values of one criterion are alternatives):

* ``kind=product,product_model``: the resource kind;
* ``family=rug,carpet``: the resource's family (``none`` for a product without one); a removal carries no
  family on the wire, so it is in scope when its resource is;
* ``identifier=RUG-*``: shell-style patterns matched against a product's identifier or a model's code;
* ``type=product.updated.delta,...``: the event types the receiver acts on, as the profile names them
  (``product.removed`` on the Events API, ``product.deleted`` or ``com.akeneo.pim.v1.product.deleted`` on
  the Event Platform);
* ``attribute=price,name``: Event Platform only: a ``*.updated.delta`` event is in scope when it changes one
  of these attributes (or scalar fields: ``enabled``, ``family``, ``parent``); other types are not narrowed.

Events outside the scope are ignored by scope: never ``event_lost``, their ordering is no hazard of the
receiver's, and applying one is ``out_of_scope_applied``. The answers they get are judged as every other
answer's: they are genuine requests.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError

__all__ = [
    "CRITERIA",
    "FOCUS_MAX",
    "FOCUS_WANTED",
    "ResourceFacts",
    "Scope",
    "ScopeJudge",
    "events_in_scope",
    "focus_factor",
    "note_resource",
    "parse_scope",
    "require_matches",
    "scoped_content",
]

#: criterion -> what it filters, for usage errors and help
CRITERIA: dict[str, str] = {
    "kind": "product or product_model",
    "family": "family codes (none: without a family)",
    "identifier": "patterns of identifiers or model codes (shell style: RUG-*)",
    "type": "event types the receiver acts on",
    "attribute": "attributes whose change puts a *.updated.delta event in scope (Event Platform)",
}

_KINDS = ("product", "product_model")
_NO_FAMILY = "none"


@dataclass(frozen=True, slots=True)
class ResourceFacts:
    """What scopes look at in a resource, noted from the data of its events: its kind, the families and
    identifiers (or model codes) it had. A removal's data holds none of these, so they come from the others."""

    kind: str
    families: frozenset[str]
    identifiers: frozenset[str]


def note_resource(resources: dict[str, ResourceFacts], key: str, snapshot: Mapping[str, Any]) -> None:
    """Remember the family and identifier of ``snapshot`` (the resource data of an event that is not a
    removal: a removal's data holds no family) under ``key``."""
    kind = key.split(":", 1)[0]
    family = snapshot.get("family")
    family_code = _NO_FAMILY if family is None else str(family)
    ident = snapshot.get("code") if kind == "product_model" else snapshot.get("identifier")
    known = resources.get(key)
    families = {family_code} if known is None else known.families | {family_code}
    identifiers = set() if known is None else set(known.identifiers)
    if ident is not None:
        identifiers.add(str(ident))
    if known is None or families != known.families or identifiers != known.identifiers:
        resources[key] = ResourceFacts(kind, frozenset(families), frozenset(identifiers))


@dataclass(frozen=True)
class Scope:
    """Parsed ``--scope`` criteria (empty tuples: not narrowed by that criterion)."""

    kinds: tuple[str, ...] = ()
    families: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()

    def describe(self) -> str:
        """The scope as the options give it: ``family=rug identifier=RUG-*``."""
        parts = [(name, values) for name, values in (
            ("kind", self.kinds), ("family", self.families), ("identifier", self.identifiers),
            ("type", self.types), ("attribute", self.attributes)) if values]
        return " ".join(f"{name}={','.join(values)}" for name, values in parts)

    def options(self) -> list[str]:
        """The command-line options that give this scope (for reproduce lines)."""
        return [f"--scope {part}" for part in self.describe().split(" ") if part]

    @property
    def narrows_events(self) -> bool:
        """Whether it leaves out some events of resources it covers (by type or changed attribute)."""
        return bool(self.types or self.attributes)

    def covers_resource(self, key: str, facts: ResourceFacts | None) -> bool:
        """Whether the resource ``key`` is the receiver's. A resource the run never showed data of (only
        its removal was sent) is judged by its kind alone."""
        kind = key.split(":", 1)[0]
        if self.kinds and kind not in self.kinds:
            return False
        if facts is None:
            return not (self.families or self.identifiers)
        if self.families and not facts.families & set(self.families):
            return False
        return not self.identifiers or any(
            fnmatch.fnmatchcase(ident, pattern) for ident in facts.identifiers for pattern in self.identifiers)

    def covers_event(self, type_name: str, changed: Iterable[str] = (), *, delta: bool = False) -> bool:
        """Whether an event of a covered resource is acted on: its type (the profile's short name) is in
        scope, and a delta changes one of the attributes."""
        if self.types and type_name not in self.types:
            return False
        return not (self.attributes and delta) or any(code in self.attributes for code in changed)

    def excludes(self, key: str, facts: ResourceFacts | None, type_name: str, changed: Iterable[str] = (), *,
                 delta: bool = False) -> bool:
        """Whether an event (of resource ``key``, type ``type_name``) is outside this scope."""
        return not (self.covers_resource(key, facts) and self.covers_event(type_name, changed, delta=delta))

    def checked(self, profile_name: str, types: Sequence[str], *, deltas: bool) -> Scope:
        """This scope, once its type names are those of the profile (``types``, short names) and its
        attribute criterion allowed; otherwise a :class:`UsageError` naming the fix."""
        prefix = "com.akeneo.pim.v1."
        names = tuple(name[len(prefix):] if name.startswith(prefix) else name for name in self.types)
        unknown = [name for name in names if name not in types]
        if unknown:
            raise UsageError(f"--scope type={','.join(unknown)}: {profile_name} sends {', '.join(types)}")
        if self.attributes and not deltas:
            raise UsageError(f"--scope attribute=... narrows *.updated.delta events, which {profile_name} "
                             "never sends: use the event-platform profile, or scope by kind, family, identifier, "
                             "type")
        return Scope(self.kinds, self.families, self.identifiers, names, self.attributes)


def parse_scope(spec: str | Sequence[str] | Scope | None) -> Scope | None:
    """``--scope`` values (``"family=rug"``, several criteria separated by spaces or given one per option)
    as a :class:`Scope`; None for no scope. Raises :class:`UsageError` naming the fix."""
    if spec is None or isinstance(spec, Scope):
        return spec
    parts = [spec] if isinstance(spec, str) else list(spec)
    found: dict[str, list[str]] = {}
    for part in (piece for text in parts for piece in str(text).split()):
        name, sep, values = part.partition("=")
        name = name.strip().lower()
        if not sep or name not in CRITERIA:
            raise UsageError(f"--scope {part!r}: use CRITERION=VALUE[,VALUE...] with a criterion among "
                             + "; ".join(f"{n} ({what})" for n, what in CRITERIA.items()))
        items = [v.strip() for v in values.split(",") if v.strip()]
        if not items:
            raise UsageError(f"--scope {part!r}: give at least one value after {name}=")
        found.setdefault(name, []).extend(items)
    if not found:
        return None
    kinds = tuple(dict.fromkeys(found.get("kind", ())))
    bad = [k for k in kinds if k not in _KINDS]
    if bad:
        raise UsageError(f"--scope kind={','.join(bad)}: use {' or '.join(_KINDS)}")
    return Scope(kinds, *(tuple(dict.fromkeys(found.get(name, ()))) for name in (
        "family", "identifier", "type", "attribute")))


class ScopeJudge:
    """Decides, per event, whether it is outside ``scope`` (None: nothing is); resources are judged once."""

    def __init__(self, scope: Scope | None, resources: Mapping[str, ResourceFacts]) -> None:
        self.scope = scope
        self.resources = resources
        self._covered: dict[str, bool] = {}

    def outside(self, key: str, type_name: str, changed: Iterable[str] = (), *, delta: bool = False) -> bool:
        scope = self.scope
        if scope is None:
            return False
        covered = self._covered.get(key)
        if covered is None:
            covered = self._covered[key] = scope.covers_resource(key, self.resources.get(key))
        return not covered or not scope.covers_event(type_name, changed, delta=delta)


def scoped_content(content: Mapping[str, Any], events: Iterable[Any]) -> Mapping[str, Any]:
    """The content expectations of the resources all of whose events are in scope (a receiver that skips
    some events of a resource on purpose holds data its scope explains, not the PIM's)."""
    outside = {event.key for event in events if event.out_of_scope}
    return content if not outside else {key: value for key, value in content.items() if key not in outside}


def require_matches(scope: Scope | None, stats: Mapping[str, Any], resources: Mapping[str, ResourceFacts]) -> None:
    """A :class:`UsageError` when ``scope`` left out every event of the run: its verdict would prove nothing.
    The message names the families the run had, the usual cause (a family the catalog does not have)."""
    if scope is None or stats.get("in_scope", 1):
        return
    families = sorted({f for facts in resources.values() for f in facts.families})
    raise UsageError(f"--scope {scope.describe()} left out all {stats.get('ignored_by_scope', 0)} events of the run "
                     f"(its families: {', '.join(families) or 'none'}): widen the scope, or give the kit your "
                     "catalog's structure (--catalog FILE) so that it generates resources your receiver handles")


#: How many times, at least, a run should exercise each fault on the events in scope.
FOCUS_WANTED = 5.0
#: The most a scope multiplies a fault's probability by.
FOCUS_MAX = 10.0


def focus_factor(rate: float, in_scope: int, *, total: int) -> float:
    """How much to raise a fault's probability ``rate`` on the ``in_scope`` events of ``total`` so that the
    receiver's own events are faulted about :data:`FOCUS_WANTED` times (a scope of one family in five would
    otherwise see a fifth of the faults, and a pass would prove little). Events outside keep ``rate``."""
    if rate <= 0 or in_scope <= 0 or in_scope >= total:
        return 1.0
    return max(1.0, min(FOCUS_MAX, FOCUS_WANTED / (rate * in_scope), 1.0 / rate * 0.5))


def events_in_scope(scope: Scope, changes: Iterable[Any], type_name: Callable[[Any], str],
                    changed: Callable[[Any], Iterable[str]] = lambda change: ()) -> frozenset[str]:
    """The event ids of ``changes`` (the activity's :class:`~akeneo_events_testkit.world.activity.Change`
    objects, in save order) inside ``scope``, read before the run so that the faults can aim at them;
    ``type_name`` names a change's event type as the profile does, ``changed`` the attributes its delta
    changes. Resources are judged by all the data the run shows of them, as the oracle does."""
    listed = list(changes)
    resources: dict[str, ResourceFacts] = {}
    for change in listed:
        if not change.action.is_removal:
            note_resource(resources, change.key, change.snapshot)
    judge = ScopeJudge(scope, resources)
    return frozenset(change.event_id for change in listed
                     if not judge.outside(change.key, type_name(change), changed(change),
                                          delta=type_name(change).endswith(".delta")))
