"""The ``*.updated.delta`` algebra: what changed between two states, and applying it.

Mirrors event-platform-facts.md section 4.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "DeltaPath",
    "apply_delta",
    "delta_assignments",
    "delta_changes",
    "delta_state_fields",
    "platform_value",
]


_SCALAR_DIFF = ("enabled", "family", "parent")


_SET_DIFF = ("categories", "groups")


_SCALAR_TYPES = frozenset({"pim_catalog_text", "pim_catalog_textarea", "pim_catalog_number", "pim_catalog_boolean"})


_CODE_TYPES = frozenset({"pim_catalog_simpleselect", "pim_reference_data_simpleselect", "akeneo_reference_entity"})


_CODES_TYPES = frozenset({"pim_catalog_multiselect", "pim_reference_data_multiselect",
                          "pim_catalog_asset_collection", "akeneo_reference_entity_collection"})


_FILE_TYPES = frozenset({"pim_catalog_file", "pim_catalog_image"})


_FILE_KEY = re.compile(r"(?:[0-9a-f]/){4}[0-9a-f]{40}_(?P<name>.+)\Z")


#: Unit -> (standard unit of its family, factor to it), for ``base_data``/``base_unit`` of metric deltas.
#: The factors are the measurement families' usual ones; the platform's own table is not documented.
_METRIC_BASE: dict[str, tuple[str, Decimal]] = {
    "MILLIGRAM": ("KILOGRAM", Decimal("0.000001")), "GRAM": ("KILOGRAM", Decimal("0.001")),
    "KILOGRAM": ("KILOGRAM", Decimal(1)), "POUND": ("KILOGRAM", Decimal("0.45359237")),
    "OUNCE": ("KILOGRAM", Decimal("0.028349523125")),
    "MILLIMETER": ("METER", Decimal("0.001")), "CENTIMETER": ("METER", Decimal("0.01")),
    "METER": ("METER", Decimal(1)), "INCH": ("METER", Decimal("0.0254")),
    "WATT": ("WATT", Decimal(1)), "KILOWATT": ("WATT", Decimal(1000)),
    "MILLILITER": ("CUBIC_METER", Decimal("0.000001")), "LITER": ("CUBIC_METER", Decimal("0.001")),
    "CUBIC_METER": ("CUBIC_METER", Decimal(1)),
}


def _base_metric(amount: Any, unit: Any) -> tuple[Any, Any]:
    """``(base_data, base_unit)``: the amount converted to its family's standard unit, as a decimal string."""
    base = _METRIC_BASE.get(unit) if isinstance(unit, str) else None
    if base is None or amount is None or isinstance(amount, bool):
        return amount, unit
    try:
        converted = Decimal(str(amount)) * base[1]
    except InvalidOperation:
        return amount, unit
    text = format(converted.normalize(), "f")
    return (text if "." not in text else text.rstrip("0").rstrip(".")), base[0]


def _platform_date(text: Any) -> Any:
    """``2021-04-29T00:00:00+00:00`` (connector format) -> ``{"date": "2021-04-29 00:00:00.000000", ...}``."""
    if not isinstance(text, str):
        return text
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return {"date": text, "timezone": "UTC"}
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return {"date": moment.strftime("%Y-%m-%d %H:%M:%S.%f"), "timezone": "UTC"}


def platform_value(attribute_type: str, data: Any, *, is_main_identifier: bool = True) -> Any:
    """One connector-format value ``data`` in the shape a delta's ``previous``/``new`` takes (section 4).

    Scalars for text, number and boolean; a code for selects; lists of codes for multiselects, assets and
    reference-entity collections; ``{file_name, key}``, ``{amount, currency}`` per price, ``{data, unit,
    base_data, base_unit}``, ``{date, timezone}``, ``{data, is_main_identifier}``, ``{type, id}`` and
    ``{rows: [{cells: [{cell, data}]}]}`` otherwise. ``None`` (no value) stays ``None``; unknown types pass as is.
    """
    if data is None or attribute_type in _SCALAR_TYPES or attribute_type in _CODE_TYPES:
        return data
    if attribute_type in _CODES_TYPES:
        return list(data) if isinstance(data, (list, tuple)) else data
    if attribute_type in _FILE_TYPES:
        match = _FILE_KEY.fullmatch(data) if isinstance(data, str) else None
        return {"file_name": match.group("name") if match else str(data).rsplit("/", 1)[-1], "key": data}
    if attribute_type == "pim_catalog_price_collection" and isinstance(data, list):
        return [{"amount": price.get("amount"), "currency": price.get("currency")} for price in data
                if isinstance(price, Mapping)]
    if attribute_type == "pim_catalog_metric" and isinstance(data, Mapping):
        base_data, base_unit = _base_metric(data.get("amount"), data.get("unit"))
        return {"data": data.get("amount"), "unit": data.get("unit"), "base_data": base_data, "base_unit": base_unit}
    if attribute_type == "pim_catalog_date":
        return _platform_date(data)
    if attribute_type == "pim_catalog_identifier":
        return {"data": data, "is_main_identifier": is_main_identifier}
    if attribute_type == "pim_catalog_product_link" and isinstance(data, Mapping):
        return {"type": data.get("type"), "id": data.get("id")}
    if attribute_type == "pim_catalog_table" and isinstance(data, list):
        return {"rows": [{"cells": [{"cell": column, "data": cell} for column, cell in row.items()]}
                         for row in data if isinstance(row, Mapping)]}
    return data


def _links(value: Any) -> dict[str, list[Any]]:
    links = value if isinstance(value, Mapping) else {}
    return {name: list(links.get(name) or []) for name in ("products", "product_models", "groups")}


def _association_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """``{type: {added|removed: {products, product_models, groups}}}`` for the types that differ (section 4)."""
    changes: dict[str, Any] = {}
    for kind in dict.fromkeys([*before, *after]):
        old, new = _links(before.get(kind)), _links(after.get(kind))
        change: dict[str, Any] = {}
        for side, (first, second) in (("added", (new, old)), ("removed", (old, new))):
            diff = {name: [ref for ref in first[name] if ref not in second[name]] for name in first}
            if any(diff.values()):
                change[side] = diff
        if change:
            changes[kind] = change
    return changes


def _quantities(value: Any) -> dict[str, dict[str, Any]]:
    """``{"products": {uuid: quantity}, "product_models": {code: quantity}}`` of a quantified association."""
    links = value if isinstance(value, Mapping) else {}
    out: dict[str, dict[str, Any]] = {"products": {}, "product_models": {}}
    for name, id_key in (("products", "uuid"), ("product_models", "code")):
        for item in links.get(name) or []:
            if isinstance(item, Mapping):
                ref = item.get(id_key, item.get("identifier"))
                out[name][ref] = item.get("quantity")
    return out


def _quantified_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """``{type: {added, removed, updated}}``: added with quantities, removed as ids, updated with
    ``previous_quantity`` (section 4)."""
    changes: dict[str, Any] = {}
    for kind in dict.fromkeys([*before, *after]):
        old, new = _quantities(before.get(kind)), _quantities(after.get(kind))
        change: dict[str, Any] = {}
        added: dict[str, Any] = {}
        removed: dict[str, Any] = {}
        updated: dict[str, Any] = {}
        for name, id_key in (("products", "uuid"), ("product_models", "code")):
            plus = [{id_key: ref, "quantity": qty} for ref, qty in new[name].items() if ref not in old[name]]
            minus = [ref for ref in old[name] if ref not in new[name]]
            moved = [{id_key: ref, "quantity": qty, "previous_quantity": old[name][ref]}
                     for ref, qty in new[name].items() if ref in old[name] and old[name][ref] != qty]
            for bucket, items in ((added, plus), (removed, minus), (updated, moved)):
                if items:
                    bucket[name] = items
        for side, bucket in (("added", added), ("removed", removed), ("updated", updated)):
            if bucket:
                change[side] = bucket
        if change:
            changes[kind] = change
    return changes


def delta_changes(
    previous: Mapping[str, Any] | None,
    current: Mapping[str, Any],
    *,
    attribute_types: Mapping[str, str] | None = None,
    main_identifier: str | None = None,
) -> dict[str, Any]:
    """The ``changes`` of a ``*.updated.delta`` event between two connector-format states (section 4).

    Values: one item per locale/scope that changed, ``previous: null`` when added, ``new: null`` when removed,
    each side converted by :func:`platform_value` for the attribute's type (from ``attribute_types``, text
    when unknown). ``main_identifier`` names the main identifier attribute (any identifier attribute is
    taken as main when it is None). Product models carry only ``parent`` among the scalar fields.
    Associations and quantified associations appear when the two states differ in them.
    """
    before = previous or {}
    types = attribute_types or {}
    changes: dict[str, Any] = {}
    scalars = ("parent",) if "code" in current else _SCALAR_DIFF
    for name in scalars:
        if name in current and before.get(name) != current.get(name):
            changes[name] = {"previous": before.get(name), "new": current.get(name)}
    for name in _SET_DIFF:
        if name not in current:
            continue
        old, new = list(before.get(name) or []), list(current.get(name) or [])
        added, removed = [c for c in new if c not in old], [c for c in old if c not in new]
        if added or removed:
            changes[name] = {"added": added, "removed": removed}
    old_values: Mapping[str, Any] = before.get("values") or {}
    new_values: Mapping[str, Any] = current.get("values") or {}
    value_changes: dict[str, list[dict[str, Any]]] = {}
    for code in dict.fromkeys([*old_values, *new_values]):
        kind = types.get(code, "pim_catalog_text")
        main = main_identifier is None or code == main_identifier
        old_slots = {(v.get("locale"), v.get("scope")): v.get("data") for v in old_values.get(code, [])}
        new_slots = {(v.get("locale"), v.get("scope")): v.get("data") for v in new_values.get(code, [])}
        items = []
        for slot in dict.fromkeys([*old_slots, *new_slots]):
            if old_slots.get(slot) != new_slots.get(slot):
                items.append({"previous": platform_value(kind, old_slots.get(slot), is_main_identifier=main),
                              "new": platform_value(kind, new_slots.get(slot), is_main_identifier=main),
                              "type": kind, "locale": slot[0], "scope": slot[1]})
        if items:
            value_changes[code] = items
    if value_changes:
        changes["values"] = value_changes
    for name, differ in (("associations", _association_changes), ("quantified_associations", _quantified_changes)):
        if name in current or name in before:
            old_links, new_links = before.get(name) or {}, current.get(name) or {}
            if isinstance(old_links, Mapping) and isinstance(new_links, Mapping):
                found = differ(old_links, new_links)
                if found:
                    changes[name] = found
    return changes


#: A field a delta sets: ``("enabled",)``, ``("family",)``, ``("parent",)`` or ``("values", attribute,
#: locale, scope)``.
DeltaPath = tuple[str | None, ...]


DELTA_SCALARS = ("enabled", "family", "parent")


def delta_assignments(changes: Mapping[str, Any]) -> list[tuple[DeltaPath, Any]]:
    """What one delta's ``changes`` set: ``(path, new)`` for each scalar field and each value slot.

    ``new`` is None when the delta removes the value (section 4: ``new:null``). Set-like changes
    (categories, groups, associations) are not assignments and are left out.
    """
    found: list[tuple[DeltaPath, Any]] = []
    for name in DELTA_SCALARS:
        change = changes.get(name)
        if isinstance(change, Mapping) and "new" in change:
            found.append(((name,), change["new"]))
    values = changes.get("values")
    if isinstance(values, Mapping):
        for code, items in values.items():
            for item in items if isinstance(items, list) else ():
                if isinstance(item, Mapping):
                    found.append((("values", str(code), item.get("locale"), item.get("scope")), item.get("new")))
    return found


def apply_delta(state: Mapping[str, Any] | None, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The delta state after applying ``changes`` to ``state`` (a new object; ``state`` is not changed).

    A removed value (``new: null``) leaves its slot; an attribute without slots leaves ``values``.
    """
    result = {name: value for name, value in (state or {}).items() if name != "values"}
    values: dict[str, list[dict[str, Any]]] = {
        code: [dict(item) for item in items] for code, items in ((state or {}).get("values") or {}).items()}
    for path, new in delta_assignments(changes):
        if path[0] != "values":
            result[str(path[0])] = new
            continue
        code, slot = str(path[1]), (path[2], path[3])
        items = [item for item in values.get(code, []) if (item.get("locale"), item.get("scope")) != slot]
        if new is not None:
            items.append({"locale": slot[0], "scope": slot[1], "data": new})
        if items:
            values[code] = items
        else:
            values.pop(code, None)
    result["values"] = values
    return result


def delta_state_fields(state: Mapping[str, Any]) -> dict[DeltaPath, Any]:
    """The fields of a delta state by path; raises ValueError when ``state`` does not have the shape above."""
    fields: dict[DeltaPath, Any] = {}
    for name in DELTA_SCALARS:
        if name in state:
            fields[(name,)] = state[name]
    values = state.get("values", {})
    if not isinstance(values, Mapping):
        raise ValueError('"values" must be an object keyed by attribute code')
    for code, items in values.items():
        if not isinstance(items, list):
            raise ValueError(f'"values"[{code!r}] must be a list of {{"locale", "scope", "data"}}')
        for item in items:
            if not isinstance(item, Mapping) or "data" not in item:
                raise ValueError(f'"values"[{code!r}] items must be {{"locale", "scope", "data"}} objects')
            fields[("values", str(code), item.get("locale"), item.get("scope"))] = item["data"]
    return fields
