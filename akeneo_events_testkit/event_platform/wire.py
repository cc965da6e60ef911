"""The Event Platform wire profile: one CloudEvent per request, signed over the raw body.

Akeneo retires the Events API on 2026-12-31; its successor delivers differently (event-platform-facts.md):

* one structured-mode CloudEvents 1.0 JSON object per POST (section 1): ``specversion``, ``id`` (UUID v7),
  ``source``, ``type`` ``com.akeneo.pim.v1.<entity>.<action>``, ``subject`` (the subscription id), ``time``
  (RFC 3339 UTC to the second), ``datacontenttype``, ``dataschema``, ``data``;
* thin payloads: products by ``uuid`` only, product models by ``code``, an ``author`` object, and
  ``*.updated.delta`` events carrying ``changes`` (section 4);
* ``X-AKENEO-SIGNATURE-PRIMARY`` (and ``-SECONDARY`` when a secondary secret is set): hex HMAC-SHA256 of the
  raw body alone, no timestamp; ``X-AKENEO-SIGNATURE-ALGORITHM: HmacSHA256``; custom headers are added after
  signing and not covered (sections 1 and 2).

This module builds and verifies that wire format; delivery semantics (retries, rate, suspension) live in
``ep_delivery``.
"""

from __future__ import annotations

import fnmatch
import json
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..errors import UsageError
from ..versions import EVENT_PLATFORM, Action, AuthorType, format_utc_datetime
from ..world.structure_activity import STRUCTURE_TYPES, StructureChange, structure_key

__all__ = [
    "EP_TYPE_NAMES",
    "ESCAPES",
    "PRODUCT_TYPES",
    "PROFILE_NAME",
    "SENT_TYPES",
    "CloudEvent",
    "author_of",
    "cloud_event",
    "encode",
    "ep_resource_key",
    "structure_cloud_event",
    "subscribed_types",
    "uuid7",
]


PROFILE_NAME = EVENT_PLATFORM


TYPE_PREFIX = "com.akeneo.pim.v1."


DEFAULT_SOURCE = "akeneo-event-platform"  # "pim" in older docs examples (section 1): configurable


DATASCHEMA = "https://event.prd.sdk.akeneo.cloud/spec/{type}.schema.json"
#: The host Akeneo's own examples use for these families of types (facts section 1).
DATASCHEMA_EVENTS = "https://events.akeneo.com/{type}.schema.json"
_EVENTS_HOST_ENTITIES = frozenset({"asset", "attribute-option", "category", "family", "reference-entity-record"})


#: Events API action -> Event Platform (entity, action); removals are ``deleted``.
_TYPES = {
    Action.PRODUCT_CREATED: ("product", "created"),
    Action.PRODUCT_UPDATED: ("product", "updated"),
    Action.PRODUCT_REMOVED: ("product", "deleted"),
    Action.PRODUCT_MODEL_CREATED: ("product-model", "created"),
    Action.PRODUCT_MODEL_UPDATED: ("product-model", "updated"),
    Action.PRODUCT_MODEL_REMOVED: ("product-model", "deleted"),
}

#: The event types the emitter sends, without :data:`TYPE_PREFIX` (``product.updated.delta``...).
EP_TYPE_NAMES: tuple[str, ...] = tuple(
    name for entity, verb in _TYPES.values()
    for name in (f"{entity}.{verb}", *((f"{entity}.updated.delta",) if verb == "updated" else ())))


#: Every type the emitter sends (short names): products and product models, then the catalog structure and
#: jobs (:mod:`~akeneo_events_testkit.world.structure_activity`). Not sent: ``product.became-complete`` and
#: ``-incomplete``, ``app.deleted``, ``connection.deleted``, ``workflow.task.created`` (facts section 4).
SENT_TYPES: tuple[str, ...] = (*EP_TYPE_NAMES, *STRUCTURE_TYPES)
#: ``--types`` of a subscription to products and product models only (what the emitter sent before issue 18)
PRODUCT_TYPES = "product.*,product-model.*"


def subscribed_types(patterns: str | Sequence[str] | None) -> frozenset[str]:
    """The types a subscription receives: every sent type matching one of ``patterns`` (shell patterns such
    as ``product.*``, comma-separated in a string, with or without ``com.akeneo.pim.v1.``); all of
    :data:`SENT_TYPES` for None. A pattern that matches no type is a :class:`UsageError` naming them."""
    if patterns is None:
        return frozenset(SENT_TYPES)
    items = patterns.split(",") if isinstance(patterns, str) else list(patterns)
    chosen: set[str] = set()
    for item in items:
        pattern = str(item).strip()
        if pattern.startswith(TYPE_PREFIX):
            pattern = pattern[len(TYPE_PREFIX):]
        found = fnmatch.filter(SENT_TYPES, pattern) if pattern else []
        if not found:
            raise UsageError(f"--types: {str(item).strip()!r} matches no event type the emitter sends; use shell "
                             f"patterns (product.*,category.*) over: {', '.join(SENT_TYPES)}")
        chosen.update(found)
    return frozenset(chosen)


def uuid7(rng: random.Random, epoch_ms: int) -> str:
    """A UUID v7 (time-ordered, RFC 9562) for ``epoch_ms``, its random bits from the seeded ``rng``."""
    value = (epoch_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= rng.getrandbits(12) << 64
    value |= 0b10 << 62
    value |= rng.getrandbits(62)
    return str(uuid.UUID(int=value))


#: How a genuine body may escape what RFC 8259 lets it: ``/`` as ``\\/``, non-ASCII as ``\\uXXXX``, or both.
ESCAPES = ("slashes", "non_ascii", "both")


def encode(event: Mapping[str, Any], *, escape: str | None = None) -> bytes:
    """Compact JSON, key order kept, UTF-8; ``/`` and non-ASCII raw unless ``escape`` (one of
    :data:`ESCAPES`) writes them escaped.

    Facts section 2 implies compact key-ordered JSON (the docs' snippet re-serialises the parsed body and
    still expects a match) but says nothing of how ``/`` and non-ASCII are written; RFC 8259 allows both
    forms, so the emitter sends a seeded share of bodies escaped (:class:`.emitter.EpEmitter`), the same
    JSON value in other bytes, signed as sent."""
    if escape is not None and escape not in ESCAPES:
        raise UsageError(f"escape={escape!r}: use one of {', '.join(ESCAPES)} or None")
    text = json.dumps(event, separators=(",", ":"), ensure_ascii=escape in ("non_ascii", "both"))
    if escape in ("slashes", "both"):
        text = text.replace("/", "\\/")  # safe: outside strings, compact JSON holds no "/"
    return text.encode("utf-8")


def author_of(author: str, author_type: AuthorType) -> dict[str, str]:
    """``data.author``: ``{identifier, type}`` with type user, api, job or system (section 4)."""
    kind = {AuthorType.UI: "user", AuthorType.API: "api", AuthorType.SYSTEM: "system"}[author_type]
    return {"identifier": author, "type": kind}


@dataclass(frozen=True)
class CloudEvent:
    """One Event Platform event, as sent."""

    body: Mapping[str, Any]
    key: str
    epoch: int
    is_removal: bool
    raw: bytes = field(repr=False, default=b"")

    @property
    def id(self) -> str:
        return str(self.body["id"])

    @property
    def type(self) -> str:
        return str(self.body["type"])


def ep_resource_key(event: Mapping[str, Any]) -> str:
    """``product:<uuid>`` or ``product_model:<code>`` of a CloudEvent's data, or a structure resource's key
    (:func:`~akeneo_events_testkit.world.structure_activity.structure_key`: ``category:<code>``...)."""
    data = event.get("data")
    data = data if isinstance(data, Mapping) else {}
    kind = str(event.get("type", ""))[len(TYPE_PREFIX):].split(".", 1)[0]
    if kind not in ("product", "product-model"):
        key = structure_key(kind, data)
        if key is not None:
            return key
    if "product_model" in data:
        model = data["product_model"]
        return f"product_model:{model.get('code') if isinstance(model, Mapping) else None}"
    product = data.get("product")
    return f"product:{product.get('uuid') if isinstance(product, Mapping) else None}"


def cloud_event(
    *,
    action: Action,
    resource: Mapping[str, Any],
    epoch: int,
    author: str,
    author_type: AuthorType,
    rng: random.Random,
    subscription_id: str,
    source: str = DEFAULT_SOURCE,
    send_product_identifier: bool = False,
    changes: Mapping[str, Any] | None = None,
) -> CloudEvent:
    """The CloudEvent for one save: thin data, or ``*.updated.delta`` when ``changes`` are given."""
    entity, verb = _TYPES[Action(action)]
    if changes is not None:
        if verb != "updated":
            raise UsageError("only updates have a delta")
        verb = "updated.delta"
    event_type = f"{TYPE_PREFIX}{entity}.{verb}"
    if entity == "product":
        subject_data: dict[str, Any] = {"uuid": resource.get("uuid")}
        if send_product_identifier and resource.get("identifier") is not None:
            subject_data["identifier"] = resource["identifier"]
        name = "product"
        key = f"product:{resource.get('uuid')}"
    else:
        subject_data = {"code": resource.get("code")}
        name = "product_model"
        key = f"product_model:{resource.get('code')}"
    if changes is not None:
        subject_data["updated_at"] = {"date": datetime.fromtimestamp(epoch, tz=timezone.utc).strftime(
            "%Y-%m-%d %H:%M:%S.000000"), "timezone": "UTC"}
        subject_data["changes"] = dict(changes)
    body = {
        "specversion": "1.0",
        "id": uuid7(rng, epoch * 1000 + rng.randrange(1000)),
        "source": source,
        "type": event_type,
        "subject": subscription_id,
        "time": format_utc_datetime(epoch),
        "datacontenttype": "application/json",
        "dataschema": DATASCHEMA.format(type=event_type),
        "data": {name: subject_data, "author": author_of(author, author_type)},
    }
    return CloudEvent(body, key, epoch, verb == "deleted", encode(body))


def structure_cloud_event(change: StructureChange, *, rng: random.Random, subscription_id: str,
                          source: str = DEFAULT_SOURCE) -> CloudEvent:
    """The CloudEvent of one structure change (facts section 4): ``data`` holds the resource's codes and
    ``author``; ``dataschema`` names the host Akeneo's examples use for its family of types (section 1)."""
    event_type = f"{TYPE_PREFIX}{change.type}"
    entity = change.type.split(".", 1)[0]
    host = DATASCHEMA_EVENTS if entity in _EVENTS_HOST_ENTITIES else DATASCHEMA
    body = {
        "specversion": "1.0",
        "id": uuid7(rng, change.epoch * 1000 + rng.randrange(1000)),
        "source": source,
        "type": event_type,
        "subject": subscription_id,
        "time": format_utc_datetime(change.epoch),
        "datacontenttype": "application/json",
        "dataschema": host.format(type=event_type),
        "data": {**change.data, "author": author_of(change.author, change.author_type)},
    }
    return CloudEvent(body, change.key, change.epoch, change.is_removal, encode(body))
