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

import hashlib
import hmac
import json
import random
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .errors import UsageError
from .model import Action, AuthorType

__all__ = [
    "ALGORITHM",
    "PROFILE_NAME",
    "CloudEvent",
    "EpSecrets",
    "author_of",
    "cloud_event",
    "delta_changes",
    "encode",
    "ep_headers",
    "ep_resource_key",
    "sign_body",
    "uuid7",
    "verify_ep",
]

PROFILE_NAME = "event-platform"
ALGORITHM = "HmacSHA256"
TYPE_PREFIX = "com.akeneo.pim.v1."
DEFAULT_SOURCE = "akeneo-event-platform"  # "pim" in older docs examples (section 1): configurable
DATASCHEMA = "https://event.prd.sdk.akeneo.cloud/spec/{type}.schema.json"
PRIMARY_HEADER = "X-AKENEO-SIGNATURE-PRIMARY"
SECONDARY_HEADER = "X-AKENEO-SIGNATURE-SECONDARY"
ALGORITHM_HEADER = "X-AKENEO-SIGNATURE-ALGORITHM"
RESERVED_HEADERS = frozenset({"content-type", "user-agent", "x-correlation-id", "host", "authorization", "cookie"})
_HEADER_NAME = re.compile(r"[A-Za-z0-9-]{1,128}")

#: Events API action -> Event Platform (entity, action); removals are ``deleted``.
_TYPES = {
    Action.PRODUCT_CREATED: ("product", "created"),
    Action.PRODUCT_UPDATED: ("product", "updated"),
    Action.PRODUCT_REMOVED: ("product", "deleted"),
    Action.PRODUCT_MODEL_CREATED: ("product-model", "created"),
    Action.PRODUCT_MODEL_UPDATED: ("product-model", "updated"),
    Action.PRODUCT_MODEL_REMOVED: ("product-model", "deleted"),
}


def uuid7(rng: random.Random, epoch_ms: int) -> str:
    """A UUID v7 (time-ordered, RFC 9562) for ``epoch_ms``, its random bits from the seeded ``rng``."""
    value = (epoch_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= rng.getrandbits(12) << 64
    value |= 0b10 << 62
    value |= rng.getrandbits(62)
    return str(uuid.UUID(int=value))


def encode(event: Mapping[str, Any]) -> bytes:
    """Compact JSON, key order kept, UTF-8 (the platform is not PHP: ``/`` and non-ASCII stay raw)."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign_body(secret: str | bytes, body: bytes) -> str:
    """Hex HMAC-SHA256 of the raw body alone (section 2)."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return hmac.new(key, body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class EpSecrets:
    """A subscription's secrets: ``primary`` always, ``secondary`` during a rotation (section 2)."""

    primary: str
    secondary: str | None = None

    def __post_init__(self) -> None:
        if not self.primary:
            raise UsageError("the Event Platform requires a primary secret")

    def __repr__(self) -> str:
        return f"EpSecrets(primary='[redacted]', secondary={'[redacted]' if self.secondary else None!r})"


def ep_headers(
    body: bytes,
    secrets: EpSecrets,
    *,
    content_type: str = "application/json",
    custom: Sequence[tuple[str, str]] = (),
) -> tuple[tuple[str, str], ...]:
    """The request headers: signatures, algorithm, then custom headers added after signing (section 1)."""
    headers: list[tuple[str, str]] = [("Content-Type", content_type),
                                      (PRIMARY_HEADER, sign_body(secrets.primary, body))]
    if secrets.secondary:
        headers.append((SECONDARY_HEADER, sign_body(secrets.secondary, body)))
    headers.append((ALGORITHM_HEADER, ALGORITHM))
    if len(custom) > 5:
        raise UsageError("at most 5 custom headers")
    for name, value in custom:
        if not _HEADER_NAME.fullmatch(name) or name.lower() in RESERVED_HEADERS or \
                name.lower().startswith("x-akeneo-signature-"):
            raise UsageError(f"custom header {name!r}: use [A-Za-z0-9-], at most 128 characters, not a reserved name")
        if len(value) > 256 or not value.isprintable() or not value.isascii():
            raise UsageError(f"custom header {name!r}: the value must be printable ASCII, at most 256 characters")
        headers.append((name, value))
    return tuple(headers)


def verify_ep(body: bytes, headers: Mapping[str, str], secrets: Iterable[str]) -> bool:
    """True if the primary or secondary signature header matches any secret held (section 2). Never raises.

    The algorithm header must say ``HmacSHA256``; comparisons take constant time.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    if lowered.get(ALGORITHM_HEADER.lower()) != ALGORITHM:
        return False
    sent = [lowered.get(PRIMARY_HEADER.lower()), lowered.get(SECONDARY_HEADER.lower())]
    candidates = [s for s in sent if isinstance(s, str) and len(s) == 64 and s.isascii()]
    ok = False
    for secret in secrets:
        if not secret:
            continue
        expected = sign_body(secret, body)
        for signature in candidates:
            ok |= hmac.compare_digest(expected, signature)
    return ok


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
    """``product:<uuid>`` or ``product_model:<code>`` of a CloudEvent's data."""
    data = event.get("data") or {}
    if "product_model" in data:
        return f"product_model:{data['product_model'].get('code')}"
    return f"product:{(data.get('product') or {}).get('uuid')}"


def _time(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


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
        "time": _time(epoch),
        "datacontenttype": "application/json",
        "dataschema": DATASCHEMA.format(type=event_type),
        "data": {name: subject_data, "author": author_of(author, author_type)},
    }
    return CloudEvent(body, key, epoch, verb == "deleted", encode(body))


_SCALAR_DIFF = ("enabled", "family", "parent")
_SET_DIFF = ("categories", "groups")


def delta_changes(
    previous: Mapping[str, Any] | None,
    current: Mapping[str, Any],
    *,
    attribute_types: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The ``changes`` of a ``*.updated.delta`` event between two connector-format states (section 4).

    Values: one item per locale/scope that changed, ``previous: null`` when added, ``new: null`` when removed.
    Product models carry only ``parent`` among the scalar fields.
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
        old_slots = {(v.get("locale"), v.get("scope")): v.get("data") for v in old_values.get(code, [])}
        new_slots = {(v.get("locale"), v.get("scope")): v.get("data") for v in new_values.get(code, [])}
        items = []
        for slot in dict.fromkeys([*old_slots, *new_slots]):
            if old_slots.get(slot) != new_slots.get(slot):
                items.append({"previous": old_slots.get(slot), "new": new_slots.get(slot),
                              "type": types.get(code, "pim_catalog_text"), "locale": slot[0], "scope": slot[1]})
        if items:
            value_changes[code] = items
    if value_changes:
        changes["values"] = value_changes
    return changes
