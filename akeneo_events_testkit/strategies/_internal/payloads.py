"""The payloads behind :mod:`.strategies`: PIM-shaped products and product models, value by value.

Written by hand from events-api-facts.md sections 4 and 7 (value formats, key order, UUID modes); the JSON
Schemas check them and never generate them.
"""

from __future__ import annotations

import functools
import hashlib
import string
import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from ...versions import Action, PimVersion, format_event_datetime
from ...world.values import format_amount

__all__ = [
    "CATEGORIES",
    "FAMILIES",
    "c_date",
    "codes",
    "draw_resource",
    "fixed_values",
    "model_payload",
    "product_payload",
    "removed_payload",
    "stable_uuid4",
    "uuid4s",
]

_LOCALES = ("en_US", "fr_FR", "de_DE")
_CHANNELS = ("ecommerce", "mobile")
CATEGORIES = ("master", "sunglasses", "men", "women", "summer_2026")
FAMILIES = ("accessories", "clothing", "shoes")
_UNITS = (("GRAM", "g"), ("KILOGRAM", "kg"), ("CENTIMETER", "cm"), ("LITER", "L"), ("WATT", "W"))
_CURRENCIES = ("EUR", "USD", "GBP")
_OPTIONS = ("black", "white", "red", "blue")
_TEXTS = ("Sunglasses", "Lunettes de soleil été", "Sonnenbrille Größe M", "サングラス", "Очки", "Shades 🕶",
          "A/B <b>&</b> 'quoted'")
_FILENAMES = ("sunglasses.jpg", "notice.pdf", "front_view.png")
_STATUSES = ("working_copy", "draft_in_progress", "proposal_waiting_for_approval", "read_only")
_CODE_CHARS = string.ascii_letters + string.digits + "_-."
_ATTRIBUTES = ("name", "description", "weight", "price", "color", "materials", "waterproof", "release_date",
               "picture", "stock", "ratio")


def stable_uuid4(*parts: object) -> str:
    """A lowercase version-4 UUID derived from ``parts``: the same parts always name the same thing."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def c_date(epoch: int, offset: int = 0) -> str:
    """``DateTime::format('c')``: the same shape as ``DATE_ATOM`` (facts section 7)."""
    return format_event_datetime(epoch, offset)


def _value(data: Any, locale: str | None = None, scope: str | None = None) -> dict[str, Any]:
    return {"locale": locale, "scope": scope, "data": data}


def _media(key: str, pim_source: str) -> dict[str, Any]:
    """A file value: the key plus the absolute download link of ``ValuesNormalizer::addHalLink``."""
    base = pim_source.rstrip("/") if pim_source.startswith(("http://", "https://")) else f"http://{pim_source}"
    value = _value(key)
    value["_links"] = {"download": {"href": f"{base}/api/rest/v1/media-files/{key}/download"}}
    return value


def _file_key(digest: str, filename: str) -> str:
    return f"{digest[0]}/{digest[1]}/{digest[2]}/{digest[3]}/{digest}_{filename}"


_texts = st.one_of(st.sampled_from(_TEXTS), st.text(st.characters(codec="utf-8"), min_size=1, max_size=20))
codes = st.one_of(st.sampled_from(("sunglasses_1", "tshirt-blue-m", "1111111171", "AKN.TS1")),
                   st.text(_CODE_CHARS, min_size=1, max_size=12))


uuid4s = st.uuids(version=4).map(str)
_families = st.one_of(st.none(), st.sampled_from(FAMILIES))
_parents = st.one_of(st.none(), codes)


def _amounts(places: int) -> SearchStrategy[Any]:
    """A decimal string with ``places`` decimals, or an integer when the attribute allows no decimals."""
    return st.one_of(st.integers(0, 10**9).map(lambda units: format_amount(units, places)), st.integers(0, 10**5))


def _metric(unit: tuple[str, str], amount: Any, symbol: bool) -> dict[str, Any]:
    """``{amount, unit}``, plus the unit's ``symbol`` in SaaS since May 2026 (facts sections 0 and 7)."""
    return {"amount": amount, "unit": unit[0], **({"symbol": unit[1]} if symbol else {})}


def _one(data: SearchStrategy[Any]) -> SearchStrategy[list[dict[str, Any]]]:
    return data.map(lambda value: [_value(value)])


@functools.lru_cache(maxsize=64)
def _value_lists(symbol: bool, pim_source: str) -> dict[str, SearchStrategy[list[dict[str, Any]]]]:
    """Per attribute code, its value list in its type's format (facts section 7)."""
    localized = st.tuples(st.sampled_from(_LOCALES), _texts)
    scoped = st.tuples(st.sampled_from(_LOCALES), st.sampled_from(_CHANNELS), _texts)
    prices = st.tuples(st.sampled_from(_CURRENCIES), st.one_of(_amounts(2), st.none()))
    return {
        "name": st.lists(localized, min_size=1, max_size=2, unique_by=lambda v: v[0]).map(
            lambda values: [_value(text, locale) for locale, text in values]),
        "description": st.lists(scoped, min_size=1, max_size=2, unique_by=lambda v: v[:2]).map(
            lambda values: [_value(text, locale, channel) for locale, channel, text in values]),
        "weight": _one(st.builds(_metric, st.sampled_from(_UNITS), _amounts(4), st.just(symbol))),
        "price": _one(st.lists(prices, min_size=1, max_size=3, unique_by=lambda v: v[0]).map(
            lambda values: [{"amount": amount, "currency": currency} for currency, amount in values])),
        "color": _one(st.sampled_from(_OPTIONS)),
        "materials": _one(st.lists(st.sampled_from(_OPTIONS), max_size=3, unique=True)),
        "waterproof": _one(st.booleans()),
        "release_date": _one(st.dates(min_value=date(1990, 1, 1), max_value=date(2035, 12, 31)).map(
            lambda day: f"{day.isoformat()}T00:00:00+00:00")),
        "picture": st.builds(lambda number, name: [_media(_file_key(f"{number:040x}", name), pim_source)],
                             st.integers(0, 2**160 - 1), st.sampled_from(_FILENAMES)),
        "stock": _one(st.integers(0, 10**6)),
        "ratio": _one(st.integers(-(10**8), 10**8).map(lambda units: format_amount(units, 4))),
    }


_attribute_sets = st.lists(st.sampled_from(_ATTRIBUTES), max_size=4, unique=True)


def _draw_values(draw: st.DrawFn, symbol: bool, pim_source: str) -> dict[str, list[dict[str, Any]]]:
    lists = _value_lists(symbol, pim_source)
    return {code: draw(lists[code]) for code in draw(_attribute_sets)}


def fixed_values(index: int, version: int, symbol: bool, pim_source: str) -> dict[str, list[dict[str, Any]]]:
    """A deterministic, small but varied set of values for resource ``index`` at ``version``."""
    unit, unit_symbol = _UNITS[index % len(_UNITS)]
    metric: dict[str, Any] = {"amount": format_amount(1250 * (index + 1), 4), "unit": unit}
    if symbol:
        metric["symbol"] = unit_symbol
    digest = hashlib.sha256(f"picture:{index}".encode()).hexdigest()[:40]
    return {
        "name": [_value(_TEXTS[index % len(_TEXTS)], "en_US"), _value(f"Édition {version}", "fr_FR")],
        "weight": [_value(metric)],
        "price": [_value([{"amount": format_amount(999 + version, 2), "currency": "EUR"}])],
        "picture": [_media(_file_key(digest, _FILENAMES[index % len(_FILENAMES)]), pim_source)],
        "edition": [_value(version)],
    }


def product_payload(
    profile: PimVersion, uuid_mode: bool, identifier: str, *, product_uuid: str | None = None, enabled: bool = True,
    family: str | None = None,
    categories: Sequence[str] = (), groups: Sequence[str] = (), parent: str | None = None,
    values: Mapping[str, Any] | None = None, created: str, updated: str,
    associations: Mapping[str, Sequence[str]] | None = None, quantities: Mapping[str, int] | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """A product in the connector format of the profile and mode, keys in the PIM's order (facts 4, 7).

    Associated products are given by identifier and written as uuids in UUID mode.
    """
    def ref(other: str) -> str:
        return stable_uuid4("product", other) if uuid_mode else other

    product: dict[str, Any] = {}
    if profile.has_uuid:
        product["uuid"] = product_uuid or stable_uuid4("product", identifier)
    if not uuid_mode:
        product["identifier"] = identifier
    all_values = dict(values or {})
    if uuid_mode:  # the identifier value stays in values in UUID mode only (facts section 7)
        all_values["sku"] = [_value(identifier)]
    product.update({
        "enabled": enabled, "family": family, "categories": list(categories), "groups": list(groups),
        "parent": parent, "values": all_values, "created": created, "updated": updated,
        "associations": {kind: {"products": [ref(p) for p in products], "product_models": [], "groups": []}
                         for kind, products in (associations or {}).items()},
        "quantified_associations": {} if not quantities else {"PRODUCT_SET": {
            "products": [{("uuid" if uuid_mode else "identifier"): ref(p), "quantity": q}
                         for p, q in quantities.items()],
            "product_models": []}},
    })
    if status is not None:
        product["metadata"] = {"workflow_status": status}
    return product


def model_payload(code: str, *, family: str | None, parent: str | None = None, categories: Sequence[str] = (),
                   values: Mapping[str, Any] | None = None, created: str, updated: str) -> dict[str, Any]:
    """A product model: no ``enabled``, no ``groups`` (``ConnectorProductModelNormalizer``, facts section 4)."""
    family = family or FAMILIES[1]
    return {"code": code, "family": family, "family_variant": f"{family}_by_color", "parent": parent,
            "categories": list(categories), "values": dict(values or {}), "created": created, "updated": updated,
            "associations": {}, "quantified_associations": {}}


def removed_payload(action: Action, profile: PimVersion, code: str, product_uuid: str) -> dict[str, Any]:
    """``{identifier}`` before 7.0, ``{identifier, uuid}`` since, ``{code}`` for models (facts section 4)."""
    if action.entity == "product_model":
        return {"code": code}
    return {"identifier": code, "uuid": product_uuid} if profile.has_uuid else {"identifier": code}


_ages = st.integers(0, 400 * 86_400)
_categories = st.lists(st.sampled_from(CATEGORIES), max_size=3, unique=True)
_groups = st.lists(st.sampled_from(("promotion", "related")), max_size=1)
_associations = st.dictionaries(st.sampled_from(("X_SELL", "UPSELL")), st.lists(codes, max_size=2, unique=True),
                                max_size=2)
_quantities = st.dictionaries(codes, st.integers(1, 12), max_size=2)
_statuses = st.one_of(st.none(), st.sampled_from(_STATUSES))


def draw_resource(draw: st.DrawFn, action: Action, profile: PimVersion, mode: bool, code: str, epoch: int,
                   offset: int, pim_source: str) -> dict[str, Any]:
    if action.is_removal:
        return removed_payload(action, profile, code, stable_uuid4("product", code))
    created_epoch = epoch if action.value.endswith(".created") else epoch - draw(_ages)
    created, updated = c_date(created_epoch, offset), c_date(epoch, offset)
    family, categories = draw(_families), draw(_categories)
    values = _draw_values(draw, profile.metric_symbol, pim_source)
    if action.entity == "product_model":
        return model_payload(code, family=family, parent=draw(_parents), categories=categories, values=values,
                              created=created, updated=updated)
    return product_payload(
        profile, mode, code, enabled=draw(st.booleans()), family=family, categories=categories,
        groups=draw(_groups), parent=draw(_parents) if family else None, values=values, created=created,
        updated=updated, associations=draw(_associations), quantities=draw(_quantities), status=draw(_statuses),
    )
