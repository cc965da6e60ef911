"""A catalog shape read from a file: a user's own families, attributes, channels and locales.

``--catalog FILE`` takes the JSON the PIM's REST API returns, so that a user can point the kit at their
own PIM's structure: a JSON object with the keys ``families``, ``attributes`` and ``channels``, and
optionally ``locales``, ``attribute_options`` and ``measurement_families``. Each value is either a list of
items or the paginated answer of the endpoint (``{"_links": ..., "_embedded": {"items": [...]}}``) of
``GET /api/rest/v1/families``, ``/attributes``, ``/channels``, ``/locales``, ``/attributes/{code}/options``
and ``/measurement-families`` (that one answers a plain list). What the kit reads of each item:

* a family: ``code``, ``attributes``, ``attribute_requirements`` (per channel), ``labels``;
* an attribute: ``code``, ``type``, ``group``, ``localizable``, ``scopable``, ``decimals_allowed``,
  ``metric_family`` and ``default_metric_unit``, ``number_min``/``number_max``, ``reference_data_name``,
  ``allowed_extensions``, ``table_configuration`` (columns with ``code``, ``data_type`` and, as the API
  gives them with ``with_table_select_options=true``, ``options``), and ``options`` (option codes, a kit
  extension; else from ``attribute_options``, else generated from the seed);
* a channel: ``code``, ``locales``, ``currencies``; a locale: ``code``.

What the kit decides, where the file is silent or the kit cannot follow:

* **the identifier attribute** is the attribute of type ``pim_catalog_identifier`` (the one with
  ``is_main_identifier`` when SaaS has several); every family holds it, first;
* **family variants**: none (the REST answers above do not describe them), so a shaped catalog has no
  product models, and every product belongs to one of the file's families (none without family);
* **attribute types the kit cannot generate values for** (a type it does not know, a table column of
  type ``measurement`` or ``product_link``...) are a :class:`~akeneo_events_testkit.errors.UsageError`
  naming the type and the attribute when a family uses the attribute; attributes no family uses are
  ignored, whatever their type, since no product can have a value for them;
* a metric attribute's unit symbols come from ``measurement_families`` when the file gives them, else
  from the kit's own families (Weight, Length, Power, Volume); a default unit known to neither is an error;
* requirements of channels the file does not list are ignored; an unknown attribute is an error.

Options, labels and codes the file does not give are drawn from the catalog's RNG, so one file and one
seed give the same catalog (and the same bytes) on every run.
"""

from __future__ import annotations

import json
import math
import os
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .structure import Family
from .values import (
    ASSET_COLLECTION,
    ATTRIBUTE_TYPES,
    FILE,
    IDENTIFIER,
    IMAGE,
    METRIC,
    METRIC_FAMILIES,
    MULTISELECT,
    NUMBER,
    REFERENCE_DATA_MULTISELECT,
    REFERENCE_DATA_SIMPLESELECT,
    REFERENCE_ENTITY,
    REFERENCE_ENTITY_COLLECTION,
    SIMPLESELECT,
    TABLE,
    TEXTAREA,
    Attribute,
    Channel,
    TableColumn,
    TextPool,
)

__all__ = ["CatalogShape", "load_catalog_shape", "parse_catalog_shape", "resolve_shape"]

#: Attribute types whose values are codes the kit draws when the file gives none.
_CODED = frozenset({SIMPLESELECT, MULTISELECT, REFERENCE_DATA_SIMPLESELECT, REFERENCE_DATA_MULTISELECT,
                    ASSET_COLLECTION, REFERENCE_ENTITY, REFERENCE_ENTITY_COLLECTION})
#: Table column data types and the kind of cell the kit draws for them (reference entity cells are codes).
_TABLE_KINDS = {"select": "select", "reference_entity": "select", "number": "number", "boolean": "boolean",
                "text": "text"}
_FIX = "give the REST API's answer of GET /api/rest/v1/{name} (a list, or the page with _embedded.items)"


@dataclass(frozen=True)
class CatalogShape:
    """A catalog structure as a file describes it: what :func:`build_structure` builds instead of its own.

    ``attributes`` holds only the attributes some family uses; ``generated`` names those whose option
    codes (or table select options) the catalog draws from its seed.
    """

    source: str
    channels: tuple[Channel, ...]
    attributes: Mapping[str, Attribute]
    families: Mapping[str, Family]
    identifier_attribute: str
    generated: frozenset[str] = frozenset()

    @property
    def locales(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(loc for channel in self.channels for loc in channel.locales))

    def materialise(self, rng: random.Random, text: TextPool) -> tuple[dict[str, Attribute], dict[str, Family]]:
        """The attributes and families of a catalog, with the options and labels the file left out drawn
        from ``rng`` (in a fixed order, so one seed gives one catalog)."""
        attributes: dict[str, Attribute] = {}
        for code, attribute in self.attributes.items():
            if code in self.generated:
                attribute = _with_options(attribute, rng, text)
            attributes[code] = attribute
        families = {
            code: family if family.labels else replace(
                family, labels={loc: text.name(loc, rng, emoji=0.0) for loc in self.locales})
            for code, family in self.families.items()
        }
        return attributes, families


def _with_options(attribute: Attribute, rng: random.Random, text: TextPool) -> Attribute:
    def codes() -> tuple[str, ...]:
        drawn = tuple(sorted({text.slug(rng, 1) for _ in range(8)}))
        return drawn if len(drawn) > 1 else (*drawn, f"{attribute.code}_other")

    if attribute.type == TABLE:
        columns = tuple(replace(c, options=codes()) if c.kind == "select" and not c.options else c
                        for c in attribute.columns)
        return replace(attribute, columns=columns)
    return replace(attribute, options=codes())


def resolve_shape(catalog: CatalogShape | str | os.PathLike[str] | None) -> CatalogShape | None:
    """``catalog`` as a shape: a :class:`CatalogShape` as is, a path loaded, None (the kit's own catalog)."""
    if catalog is None or isinstance(catalog, CatalogShape):
        return catalog
    return load_catalog_shape(catalog)


def load_catalog_shape(path: str | os.PathLike[str]) -> CatalogShape:
    """Read a catalog file (module docstring); a bad file is a ``UsageError`` naming it and the fix."""
    where = str(path)
    try:
        raw = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--catalog {where}: cannot read it ({exc.strerror or exc}): give the path of a JSON "
                         "file with families, attributes and channels") from None
    except UnicodeDecodeError:
        raise UsageError(f"--catalog {where}: not UTF-8 text: give a JSON file") from None
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise UsageError(f"--catalog {where}: not JSON ({exc}): give a JSON object with families, attributes "
                         "and channels, as the PIM's REST API returns them") from None
    return parse_catalog_shape(data, source=where)


def parse_catalog_shape(data: Any, *, source: str = "<catalog>") -> CatalogShape:
    """A :class:`CatalogShape` from the decoded JSON of a catalog file (module docstring)."""
    def fail(message: str) -> UsageError:
        return UsageError(f"--catalog {source}: {message}")

    if not isinstance(data, dict):
        raise fail("the file must hold a JSON object with the keys families, attributes and channels")
    missing = [key for key in ("families", "attributes", "channels") if key not in data]
    if missing:
        raise fail(f"missing key(s) {', '.join(missing)}: the file needs families, attributes and channels, "
                   "each the REST API's answer of GET /api/rest/v1/<key> (or its list of items)")
    items = {key: _items(data.get(key), key, fail) for key in
             ("families", "attributes", "channels", "locales", "attribute_options", "measurement_families")}
    channels = _channels(items["channels"], items["locales"] if "locales" in data else None, fail)
    units = _units(items["measurement_families"], fail)
    options: dict[str, list[str]] = {}
    for item in items["attribute_options"]:
        if isinstance(item.get("attribute"), str) and isinstance(item.get("code"), str):
            options.setdefault(item["attribute"], []).append(item["code"])
    described = {}
    for item in items["attributes"]:
        code = item.get("code")
        if not isinstance(code, str) or not code:
            raise fail(f"an attribute has no code: {_short(item)}")
        described[code] = item
    identifier = _identifier(described, fail)
    families: dict[str, Family] = {}
    used: dict[str, str] = {}
    for item in items["families"]:
        family = _family(item, described, identifier, {c.code for c in channels}, fail)
        families[family.code] = family
        for code in family.attributes:
            used.setdefault(code, family.code)
    if not families:
        raise fail("no family: give at least one (the kit only generates products of the file's families)")
    attributes: dict[str, Attribute] = {}
    generated: set[str] = set()
    for code, family_code in used.items():
        attribute, needs_options = _attribute(described[code], identifier, options.get(code), units,
                                              f"attribute {code!r} (family {family_code!r})", fail)
        attributes[code] = attribute
        if needs_options:
            generated.add(code)
    return CatalogShape(source, channels, attributes, families, identifier, frozenset(generated))


def _short(item: Any) -> str:
    text = json.dumps(item, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def _items(value: Any, key: str, fail: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, dict):
        embedded = value.get("_embedded")
        value = embedded.get("items") if isinstance(embedded, dict) else None
        if value is None:
            raise fail(f"{key}: an object without _embedded.items; {_FIX.format(name=key.replace('_', '-'))}")
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise fail(f"{key}: not a list of objects; {_FIX.format(name=key.replace('_', '-'))}")
    return value


def _codes(value: Any, what: str, fail: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise fail(f"{what} must be a list of codes, got {_short(value)}")
    return tuple(dict.fromkeys(value))


def _channels(items: list[dict[str, Any]], locales: list[dict[str, Any]] | None,
              fail: Any) -> tuple[Channel, ...]:
    known = None if locales is None else {item.get("code") for item in locales}
    channels = []
    for item in items:
        code = item.get("code")
        if not isinstance(code, str) or not code:
            raise fail(f"a channel has no code: {_short(item)}")
        channel_locales = _codes(item.get("locales"), f"channel {code!r}: locales", fail)
        if not channel_locales:
            raise fail(f"channel {code!r} has no locales: give each channel its activated locales")
        unknown = [loc for loc in channel_locales if known is not None and loc not in known]
        if unknown:
            raise fail(f"channel {code!r} names locale {unknown[0]!r}, which locales does not list: add it "
                       "to locales, or leave locales out")
        channels.append(Channel(code, channel_locales, _codes(item.get("currencies"),
                                                              f"channel {code!r}: currencies", fail)))
    if not channels:
        raise fail("no channel: give at least one (values are scoped by channel)")
    return tuple(channels)


def _units(items: list[dict[str, Any]], fail: Any) -> dict[str, tuple[str, tuple[tuple[str, str], ...]]]:
    """``{family code: (standard unit, ((unit, symbol), ...))}`` from ``GET /measurement-families``."""
    families = {}
    for item in items:
        code, units = item.get("code"), item.get("units")
        if not isinstance(code, str) or not isinstance(units, dict) or not units:
            raise fail(f"measurement_families: each needs a code and its units, got {_short(item)}")
        pairs = tuple((str(unit), str((spec or {}).get("symbol") or unit)) for unit, spec in units.items())
        families[code] = (str(item.get("standard_unit_code") or pairs[0][0]), pairs)
    return families


def _identifier(described: Mapping[str, dict[str, Any]], fail: Any) -> str:
    identifiers = [code for code, item in described.items() if item.get("type") == IDENTIFIER]
    main = [code for code in identifiers if described[code].get("is_main_identifier") is True]
    if len(main) == 1:
        return main[0]
    if len(identifiers) == 1:
        return identifiers[0]
    if not identifiers:
        raise fail(f"no attribute of type {IDENTIFIER}: give the identifier attribute (every PIM has one)")
    raise fail(f"several identifier attributes ({', '.join(identifiers)}) and none has is_main_identifier: "
               "true: mark the main one")


def _family(item: dict[str, Any], described: Mapping[str, Any], identifier: str, channels: set[str],
            fail: Any) -> Family:
    code = item.get("code")
    if not isinstance(code, str) or not code:
        raise fail(f"a family has no code: {_short(item)}")
    members = _codes(item.get("attributes"), f"family {code!r}: attributes", fail)
    unknown = [a for a in members if a not in described]
    if unknown:
        raise fail(f"family {code!r} names attribute {unknown[0]!r}, which attributes does not describe: add "
                   f"it to attributes, or remove it from the family")
    members = (identifier, *(a for a in members if a != identifier))
    requirements: dict[str, tuple[str, ...]] = {}
    raw = item.get("attribute_requirements") or {}
    if not isinstance(raw, dict):
        raise fail(f"family {code!r}: attribute_requirements must be an object of channel: [attribute codes]")
    for channel, codes in raw.items():
        required = _codes(codes, f"family {code!r}: attribute_requirements.{channel}", fail)
        stray = [a for a in required if a not in members]
        if stray:
            raise fail(f"family {code!r} requires attribute {stray[0]!r} on {channel!r} but does not hold it: "
                       "add it to the family's attributes")
        if channel in channels:
            requirements[channel] = (identifier, *(a for a in required if a != identifier))
    for channel in channels:
        requirements.setdefault(channel, (identifier,))
    labels = item.get("labels")
    labels = {str(k): str(v) for k, v in labels.items() if v} if isinstance(labels, dict) else {}
    return Family(code, members, requirements, labels)


def _bound(value: Any, default: int, rounding: Any) -> int:
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return int(rounding(number)) if math.isfinite(number) else default


def _attribute(item: dict[str, Any], identifier: str, given_options: list[str] | None,
               units: Mapping[str, tuple[str, tuple[tuple[str, str], ...]]], where: str,
               fail: Any) -> tuple[Attribute, bool]:
    """The kit's :class:`Attribute` for a REST attribute, and whether its options are to be drawn."""
    code, kind = item["code"], item.get("type")
    if kind not in ATTRIBUTE_TYPES:
        raise fail(f"{where} has type {kind!r}, which the kit cannot generate values for: remove it from the "
                   f"families that use it (the kit knows {', '.join(ATTRIBUTE_TYPES)})")
    options = _codes(item.get("options"), f"{where}: options", fail) if isinstance(item.get("options"), list) \
        else tuple(dict.fromkeys(given_options or ()))
    low = _bound(item.get("number_min"), 1, math.ceil)
    high = _bound(item.get("number_max"), low + 999, math.floor)
    if high < low:
        raise fail(f"{where}: number_max {item.get('number_max')!r} is below number_min {item.get('number_min')!r}")
    extensions = item.get("allowed_extensions")
    extension = (str(extensions[0]) if isinstance(extensions, list) and extensions
                 else "pdf" if kind == FILE else "jpg")
    attribute = Attribute(
        code, kind, group=str(item.get("group") or "other"), localizable=item.get("localizable") is True,
        scopable=item.get("scopable") is True, decimals_allowed=item.get("decimals_allowed") is True,
        reference_data_name=item.get("reference_data_name") or None, options=options,
        text="description" if kind == TEXTAREA else "code" if kind == IDENTIFIER else "name",
        low=low if kind in (NUMBER, METRIC) else 1, high=high if kind in (NUMBER, METRIC) else 1000,
        extension=extension if kind in (FILE, IMAGE) else "jpg",
    )
    if kind == METRIC:
        return _metric(attribute, item, units, where, fail), False
    if kind == TABLE:
        columns = _table(item.get("table_configuration"), where, fail)
        return replace(attribute, columns=columns), any(c.kind == "select" and not c.options for c in columns)
    if code == identifier:
        return replace(attribute, localizable=False, scopable=False), False
    return attribute, kind in _CODED and not options


def _metric(attribute: Attribute, item: dict[str, Any],
            units: Mapping[str, tuple[str, tuple[tuple[str, str], ...]]], where: str, fail: Any) -> Attribute:
    family = str(item.get("metric_family"))
    if family in units:
        standard, pairs = units[family]
    elif family in METRIC_FAMILIES:
        pairs = METRIC_FAMILIES[family].units
        standard = pairs[0][0]
    else:
        raise fail(f"{where}: metric_family {family!r} is unknown to the kit: add measurement_families (the "
                   f"answer of GET /api/rest/v1/measurement-families), or use {', '.join(METRIC_FAMILIES)}")
    default = item.get("default_metric_unit") or standard
    if default not in dict(pairs):
        raise fail(f"{where}: default_metric_unit {default!r} is not a unit of {family}: add measurement_families "
                   "(GET /api/rest/v1/measurement-families), or use one of "
                   f"{', '.join(unit for unit, _ in pairs)}")
    ordered = ((default, dict(pairs)[default]), *(p for p in pairs if p[0] != default))
    return replace(attribute, metric_family=str(family), units=ordered)


def _table(config: Any, where: str, fail: Any) -> tuple[TableColumn, ...]:
    if not isinstance(config, list) or not config or not all(isinstance(c, dict) for c in config):
        raise fail(f"{where}: a table attribute needs its table_configuration (a list of columns)")
    columns = []
    for column in config:
        data_type = column.get("data_type")
        kind = _TABLE_KINDS.get(data_type) if isinstance(data_type, str) else None
        if kind is None or not isinstance(column.get("code"), str):
            raise fail(f"{where}: table column {column.get('code')!r} has data_type {data_type!r}, which the kit "
                       f"cannot generate cells for (it knows {', '.join(_TABLE_KINDS)}): remove the attribute "
                       "from the families that use it")
        raw = column.get("options")
        options: Sequence[Any] = raw if isinstance(raw, list) else ()
        codes = tuple(str(o.get("code")) if isinstance(o, dict) else str(o) for o in options)
        columns.append(TableColumn(column["code"], kind, codes if kind == "select" else ()))
    if columns[0].kind != "select":
        raise fail(f"{where}: the first table column must be a select (or reference entity) column, as in the PIM")
    return tuple(columns)
