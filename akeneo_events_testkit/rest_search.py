"""The ``search`` query parameter of the mock REST API's product and product model lists.

Mirrors the PIM's documented filters (pim-api-docs ``content/rest-api/filter.md``, "Filter on product
properties" and "Filter on product model properties"), the subset receivers use to walk a catalog:

* products (``/products``, ``/products-uuid``): ``parent`` ``=`` (descendants of a root or sub model),
  ``IN`` (direct children), ``EMPTY``, ``NOT EMPTY``; ``family`` ``IN``, ``NOT IN``, ``EMPTY``,
  ``NOT EMPTY``; ``enabled`` ``=``, ``!=``; ``identifier`` ``=``, ``!=``, ``IN``, ``NOT IN``; ``uuid``
  ``IN``, ``NOT IN`` (7.0/SaaS); ``updated`` ``>``, ``<``, ``BETWEEN``;
* product models (``/product-models``): ``parent`` ``IN`` (direct sub models), ``EMPTY``, ``NOT EMPTY``;
  ``family`` as above; ``identifier`` (the code) ``IN``, ``NOT IN``; ``updated`` as above.

The docs mark ``parent`` ``IN``/``EMPTY``/``NOT EMPTY`` on products and ``identifier`` ``IN``/``NOT IN``
as "only available since the 7.0 version", and the product model ``parent`` filter as 6.0+; the older
profiles refuse them as the PIM does. Several filters combine with AND, as do several conditions on one
property. Errors are the PIM's: invalid JSON is a 400 ``Search query parameter should be valid JSON.``, an
unknown property or operator a 422 ``Filter on property "p" is not supported or does not support operator
"o"``, and a value of the wrong type a 422 naming what the property expects.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

__all__ = ["InvalidSearch", "Search", "parse_search"]

Resource = Mapping[str, Any]
Predicate = Callable[[Resource], bool]


class InvalidSearch(Exception):
    """A ``search`` the PIM would refuse: the HTTP status and the message of its answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Search:
    """The parsed filters of one list request; :meth:`matches` is their AND."""

    predicates: tuple[Predicate, ...] = ()

    def matches(self, resource: Resource) -> bool:
        return all(predicate(resource) for predicate in self.predicates)


#: (entity, property) -> operators, and the operators only 7.0/SaaS know (6.0 for product model parents).
_OPERATORS: dict[tuple[str, str], tuple[str, ...]] = {
    ("product", "parent"): ("=", "IN", "EMPTY", "NOT EMPTY"),
    ("product", "family"): ("IN", "NOT IN", "EMPTY", "NOT EMPTY"),
    ("product", "enabled"): ("=", "!="),
    ("product", "identifier"): ("=", "!=", "IN", "NOT IN"),
    ("product", "uuid"): ("IN", "NOT IN"),
    ("product", "updated"): (">", "<", "BETWEEN"),
    ("product_model", "parent"): ("IN", "EMPTY", "NOT EMPTY"),
    ("product_model", "family"): ("IN", "NOT IN", "EMPTY", "NOT EMPTY"),
    ("product_model", "identifier"): ("IN", "NOT IN"),
    ("product_model", "updated"): (">", "<", "BETWEEN"),
}
_SINCE_7 = {("product", "parent", "IN"), ("product", "parent", "EMPTY"), ("product", "parent", "NOT EMPTY"),
            ("product", "identifier", "IN"), ("product", "identifier", "NOT IN"), ("product", "uuid", "IN"),
            ("product", "uuid", "NOT IN"), ("product_model", "identifier", "IN"),
            ("product_model", "identifier", "NOT IN")}


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return "integer" if isinstance(value, int) else "float" if isinstance(value, float) else "object"


def _expects(prop: str, what: str, value: Any) -> InvalidSearch:
    return InvalidSearch(422, f'Property "{prop}" expects {what} as data, "{_type_name(value)}" given.')


def _strings(prop: str, value: Any) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _expects(prop, "an array", value)
    return frozenset(value)


def parse_search(raw: str | None, *, entity: str, version: str,
                 parent_of: Callable[[str], str | None]) -> Search:
    """The filters of ``search`` (a JSON text, or None for none) on the lists of ``entity`` (``product`` or
    ``product_model``) under PIM ``version`` (``5.0``... ``saas``). ``parent_of`` gives a product model's
    parent code, for ``parent =`` (descendants at any depth). The predicates read a resource as
    ``/products`` serves it (root ``identifier``; ``uuid`` too in 7.0/SaaS) or a product model."""
    if raw is None:
        return Search()
    try:
        search = json.loads(raw)
    except ValueError:
        raise InvalidSearch(400, "Search query parameter should be valid JSON.") from None
    if not isinstance(search, dict):
        raise InvalidSearch(422, "Search query parameter has to be an array.")
    predicates: list[Predicate] = []
    for prop, filters in search.items():
        if not isinstance(filters, list):
            raise InvalidSearch(422, f'Structure of filter "{prop}" should respect this structure: '
                                     f'{{"{prop}":[{{"operator": "my_operator", "value": "my_value"}}]}}')
        for item in filters:
            if not isinstance(item, dict) or "operator" not in item:
                raise InvalidSearch(422, f'Operator is missing for the property "{prop}".')
            operator = item["operator"]
            allowed = _OPERATORS.get((entity, prop), ())
            too_new = (entity, prop, operator) in _SINCE_7 and version in ("5.0", "6.0")
            if operator not in allowed or too_new or (entity, prop, version) == ("product_model", "parent", "5.0"):
                raise InvalidSearch(422, f'Filter on property "{prop}" is not supported or does not support '
                                         f'operator "{operator}"')
            predicates.append(_predicate(entity, prop, operator, item.get("value"), parent_of))
    return Search(tuple(predicates))


def _predicate(entity: str, prop: str, operator: str, value: Any,
               parent_of: Callable[[str], str | None]) -> Predicate:
    if operator in ("EMPTY", "NOT EMPTY"):
        empty = operator == "EMPTY"
        return lambda r: (r.get(prop) in (None, "")) is empty
    if prop == "updated":
        return _updated(operator, value)
    if prop == "enabled":
        if not isinstance(value, bool):
            raise _expects(prop, "a boolean", value)
        return (lambda r: r.get("enabled") is value) if operator == "=" else (lambda r: r.get("enabled") is not value)
    field = "code" if (entity, prop) == ("product_model", "identifier") else prop
    if operator in ("IN", "NOT IN"):
        codes = _strings(prop, value)
        if operator == "IN":
            return lambda r: r.get(field) in codes
        return lambda r: r.get(field) not in codes
    if not isinstance(value, str):
        raise _expects(prop, "a string", value)
    if prop == "parent":  # "=": descendants of a root or a sub product model
        def descends(r: Resource) -> bool:
            code = r.get("parent")
            for _ in range(3):
                if code is None:
                    return False
                if code == value:
                    return True
                code = parent_of(code)
            return False
        return descends
    if operator == "=":
        return lambda r: r.get(field) == value
    return lambda r: r.get(field) != value


def _updated(operator: str, value: Any) -> Predicate:
    dates = value if operator == "BETWEEN" else [value]
    if not isinstance(dates, list) or len(dates) != (2 if operator == "BETWEEN" else 1):
        expected = "an array of 2 dates" if operator == "BETWEEN" else "a date"
        raise InvalidSearch(422, f'Property "updated" expects {expected} with the format "yyyy-mm-dd H:i:s" as '
                                 'data.')
    parsed = []
    for date in dates:
        try:
            parsed.append(datetime.strptime(str(date), "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).timestamp())
        except ValueError:
            raise InvalidSearch(422, f'Property "updated" expects a string with the format "yyyy-mm-dd H:i:s" as '
                                     f'data, "{date}" given.') from None
    if operator == ">":
        return lambda r: _epoch(r) > parsed[0]
    if operator == "<":
        return lambda r: _epoch(r) < parsed[0]
    return lambda r: parsed[0] - 1 < _epoch(r) < parsed[1] + 1


def _epoch(resource: Resource) -> float:
    try:
        return datetime.fromisoformat(str(resource.get("updated", ""))).timestamp()
    except ValueError:
        return 0.0
