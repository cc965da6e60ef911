"""What every observer reads out of a receiver's effects: one :class:`Application` per applied event, in the
order the receiver applied them, turned into the observation contract by :func:`build_observation`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidObservation

__all__ = ["KEY_FIELDS", "Application", "build_observation", "coerce_data", "coerce_removed", "resource_key_of"]

#: the fields that name the resource, in the order they are tried: a whole key, or what builds one
KEY_FIELDS = ("key", "uuid", "identifier", "code")

_TRUE = {"true", "t", "1", "yes", "y", "removed", "deleted"}
_FALSE = {"false", "f", "0", "no", "n", ""}


@dataclass(frozen=True)
class Application:
    """One event the receiver applied: its id, the resource key, whether it removed the resource, and the
    resource's data when the effect carries it (``has_data``)."""

    event_id: str
    key: str
    removed: bool = False
    has_data: bool = False
    data: Any = None


def resource_key_of(fields: Mapping[str, Any], where: str) -> str:
    """The contract's resource key from the first field present of :data:`KEY_FIELDS`: ``key`` as it is,
    ``uuid`` and ``identifier`` as ``product:<value>``, ``code`` as ``product_model:<code>`` (the keys of
    README: observation contract; a product with a uuid is keyed by it, facts section 2)."""
    for name in KEY_FIELDS:
        value = fields.get(name)
        if value is None or value == "":
            continue
        if name == "key":
            return str(value)
        return f"{'product_model' if name == 'code' else 'product'}:{value}"
    raise InvalidObservation(f"{where}: no resource found (none of {', '.join(KEY_FIELDS)} has a value); "
                             "map the field that holds the product uuid or identifier, or the model code")


def coerce_removed(value: Any, where: str) -> bool:
    """A removal flag as receivers write it: a boolean, 0/1, ``"true"``/``"false"``, or an action or event
    type ending in ``removed`` / ``deleted`` (``product.removed``, ``com.akeneo.pim.v1.product.deleted``);
    absent or null is not a removal."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE or text.endswith((".removed", ".deleted")):
            return True
        if text in _FALSE or text.endswith((".created", ".updated", ".updated.delta")):
            return False
    raise InvalidObservation(f"{where}: removed={value!r} is not a removal flag; give true/false, 0/1, or an "
                             "action ending in .removed/.deleted")


def coerce_data(value: Any, where: str) -> Any:
    """The resource's data: an object, null (a removal), or JSON text of one (a database column)."""
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise InvalidObservation(f"{where}: data is not JSON: {value[:80]!r}") from None
    if value is not None and not isinstance(value, Mapping):
        raise InvalidObservation(f"{where}: data must be the resource object (or null), got {type(value).__name__}")
    return value


def build_observation(applications: Iterable[Application]) -> dict[str, Any]:
    """The observation contract: every application in order, and per resource the last one applied."""
    applied: list[str] = []
    resources: dict[str, dict[str, Any]] = {}
    for application in applications:
        applied.append(application.event_id)
        state: dict[str, Any] = {"event_id": application.event_id, "removed": application.removed}
        if application.has_data:
            state["data"] = application.data
        resources[application.key] = state
    return {"applied": applied, "resources": resources}
