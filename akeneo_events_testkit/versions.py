"""PIM versions, actions, author types and resource keys: what both wire profiles share.

A *PIM version* fixes what differs between PIM versions on the wire (events-api-facts.md sections 0, 1, 4):
whether products carry a ``uuid``, the ``User-Agent`` era, whether redirects are followed, and whether metric
values carry a ``symbol``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any

from .errors import UnknownProfile, UsageError

#: The name of the Event Platform wire profile, beside the PIM versions of the Events API.
EVENT_PLATFORM = "event-platform"

__all__ = [
    "DEFAULT_PROFILE",
    "PROFILES",
    "Action",
    "AuthorType",
    "PimVersion",
    "Profile",
    "content_digest",
    "get_profile",
    "resolve_profile_name",
    "resource_key",
]


SIGNATURE_HEADER = "X-Akeneo-Request-Signature"


TIMESTAMP_HEADER = "X-Akeneo-Request-Timestamp"


class Action(str, Enum):
    """The six Events API actions (facts section 4)."""

    PRODUCT_CREATED = "product.created"
    PRODUCT_UPDATED = "product.updated"
    PRODUCT_REMOVED = "product.removed"
    PRODUCT_MODEL_CREATED = "product_model.created"
    PRODUCT_MODEL_UPDATED = "product_model.updated"
    PRODUCT_MODEL_REMOVED = "product_model.removed"

    @property
    def entity(self) -> str:
        """``product`` or ``product_model``."""
        return self.value.split(".", 1)[0]

    @property
    def is_removal(self) -> bool:
        return self.value.endswith(".removed")

    @property
    def buffer(self) -> str:
        """The PIM's producer-side buffer: upserts and removals of products and models never mix."""
        return f"{self.entity}.{'removed' if self.is_removal else 'upserted'}"

    def __str__(self) -> str:
        return self.value


class AuthorType(str, Enum):
    """Who made the change: a UI user, an API connection, or the system user (facts section 4)."""

    UI = "ui"
    API = "api"
    SYSTEM = "system"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class PimVersion:
    """What one PIM version puts on the wire.

    ``uuid_mode`` is the 7.0/SaaS per-subscription "use UUID" option: products carry ``uuid`` and no root
    ``identifier``, associations list UUIDs (facts sections 0 and 4).
    """

    name: str
    description: str
    has_uuid: bool
    user_agent: str | None
    follow_redirects: bool
    metric_symbol: bool
    uuid_mode: bool = False
    wire: str = "events-api"

    def headers(self, signature: str, timestamp: int) -> tuple[tuple[str, str], ...]:
        """The request headers the PIM sets, in the PIM's order (facts section 1).

        ``Host`` and ``Content-Length`` are added by the HTTP client. In the 6.0 era the PIM sends an empty
        ``User-Agent:`` header; in the 5.0 era Guzzle's default one.
        """
        base: tuple[tuple[str, str], ...] = (
            ("Content-Type", "application/json"),
            (SIGNATURE_HEADER, signature),
            (TIMESTAMP_HEADER, str(timestamp)),
        )
        if self.user_agent is None:
            return base
        return (*base, ("User-Agent", self.user_agent))

    def with_uuid_mode(self, enabled: bool = True) -> PimVersion:
        """This profile with the subscription's "use UUID" option set; only 7.0 and SaaS have it."""
        if enabled and not self.has_uuid:
            raise UsageError(f"profile {self.name} has no UUID mode: use 7.0 or saas for uuid_mode")
        return replace(self, uuid_mode=enabled)


#: The 0.1 name of :class:`PimVersion` (a PIM version, not a wire profile), kept for callers of 0.1.
Profile = PimVersion

PROFILES: dict[str, PimVersion] = {
    "5.0": PimVersion(
        name="5.0",
        description="PIM 5.0 and SaaS until Nov 2021: identifiers, Guzzle's User-Agent, follows redirects",
        has_uuid=False,
        user_agent="GuzzleHttp/6.5.5 curl/7.64.0 PHP/7.4.16",
        follow_redirects=True,
        metric_symbol=False,
    ),
    "6.0": PimVersion(
        name="6.0",
        description="PIM 6.0 (Nov 2021 to Apr 2023): identifiers only, empty User-Agent, no redirects",
        has_uuid=False,
        user_agent="",
        follow_redirects=False,
        metric_symbol=False,
    ),
    # Whether PIM-10911 (the AkeneoPIM User-Agent) reached on-premise 7.0 is an open question (facts,
    # open question 1); 7.0 keeps the 6.0-era empty header.
    "7.0": PimVersion(
        name="7.0",
        description="PIM 7.0: products carry uuid (optional UUID mode), empty User-Agent, no redirects",
        has_uuid=True,
        user_agent="",
        follow_redirects=False,
        metric_symbol=False,
    ),
    "saas": PimVersion(
        name="saas",
        description="SaaS (Serenity) today: uuid, AkeneoPIM User-Agent, metric symbol (May 2026)",
        has_uuid=True,
        user_agent="AkeneoPIM/v20210526040645",
        follow_redirects=False,
        metric_symbol=True,
    ),
}


DEFAULT_PROFILE = "saas"


#: Aliases users meet in Akeneo's docs ("serenity" is the SaaS edition).
_ALIASES = {"serenity": "saas", "5": "5.0", "6": "6.0", "7": "7.0"}


def get_profile(name: str | PimVersion, *, uuid_mode: bool | None = None) -> PimVersion:
    """Look up a profile by name (``5.0``, ``6.0``, ``7.0``, ``saas``); raises :class:`UnknownProfile`."""
    if isinstance(name, PimVersion):
        profile = name
    else:
        key = _ALIASES.get(name, name)
        if key not in PROFILES:
            raise UnknownProfile(name, list(PROFILES))
        profile = PROFILES[key]
    if uuid_mode is not None and uuid_mode != profile.uuid_mode:
        profile = profile.with_uuid_mode(uuid_mode)
    return profile


#: The Events API wire profile's family name, which every PIM version resolves to.
EVENTS_API = "events-api"
_EVENT_PLATFORM_NAMES = (EVENT_PLATFORM, "ep")


def resolve_profile_name(name: str | PimVersion) -> tuple[str, PimVersion | None]:
    """The one reading of a profile name: (wire profile, PIM version).

    ``5.0``, ``6.0``, ``7.0``, ``saas`` (and their aliases) are PIM versions of the Events API;
    ``event-platform`` (or ``ep``) is the Event Platform, which has no Events API version. Anything else
    raises :class:`UnknownProfile` naming every accepted name.
    """
    if isinstance(name, PimVersion):
        return EVENTS_API, name
    if not isinstance(name, str):
        raise UnknownProfile(repr(name), [*PROFILES, EVENT_PLATFORM])
    if name.strip().lower() in _EVENT_PLATFORM_NAMES:
        return EVENT_PLATFORM, None
    try:
        return EVENTS_API, get_profile(name)
    except UnknownProfile:
        raise UnknownProfile(str(name), [*PROFILES, EVENT_PLATFORM]) from None


def resource_key(action: Action | str, resource: Mapping[str, Any]) -> str:
    """The resource an event is about: ``product:<uuid>``, ``product:<identifier>``, ``product_model:<code>``.

    A product payload with a ``uuid`` (7.0 and SaaS, removals included) is keyed by uuid, so that a removed
    identifier re-created with a new uuid is a new resource; without one, by identifier.
    """
    entity = Action(action).entity
    if entity == "product_model":
        return f"product_model:{resource.get('code')}"
    uuid = resource.get("uuid")
    if uuid:
        return f"product:{uuid}"
    return f"product:{resource.get('identifier')}"


_CONTENT_FIELDS = ("enabled", "family", "family_variant", "categories", "groups", "parent", "values", "updated")


def _empty_as_list(value: Any) -> Any:
    """``value`` with every empty object written as an empty list (PHP arrays cannot tell them apart)."""
    if isinstance(value, Mapping):
        return {k: _empty_as_list(v) for k, v in value.items()} if value else []
    if isinstance(value, list):
        return [_empty_as_list(v) for v in value]
    return value


def content_digest(resource: Mapping[str, Any] | None, *, identifier_attribute: str = "sku") -> str | None:
    """A fingerprint of what a resource *says*, the same whichever way it was read (None: absent).

    Events, ``/products/{identifier}`` and ``/products-uuid/{uuid}`` differ in identity fields (root
    ``identifier`` or not, associations by identifier or uuid, the identifier value kept in ``values`` in UUID
    mode); the fingerprint covers the content fields only, so a receiver holding any of them compares equal.
    An empty object and an empty list compare equal: the PIM writes empty ``values``, ``associations``... as
    ``{}`` (events-api-facts.md section 3), and PHP's ``json_decode($body, true)`` then ``json_encode`` turn
    them into ``[]``: a receiver storing PHP arrays holds the same content.
    """
    if resource is None:
        return None
    projection = {name: resource[name] for name in _CONTENT_FIELDS if name in resource}
    values = projection.get("values")
    if isinstance(values, Mapping) and identifier_attribute in values:
        projection["values"] = {k: v for k, v in values.items() if k != identifier_attribute}
    text = json.dumps(_empty_as_list(projection), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha1(text.encode("ascii")).hexdigest()


def parse_event_datetime(text: str) -> float:
    """Unix seconds of an ``event_datetime`` in PHP's ``DATE_ATOM`` format (``2020-12-04T16:02:47+01:00``)."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()


_ZONES: dict[int, timezone] = {}


def format_event_datetime(epoch: float, offset_minutes: int = 0) -> str:
    """PHP's ``date(DATE_ATOM, $ts)``: second precision with a ``+HH:MM`` offset (facts section 4).

    One ``timezone`` per offset, kept: this runs for every event sent (BENCHMARKS.md section 3)."""
    zone = _ZONES.get(offset_minutes)
    if zone is None:
        zone = _ZONES.setdefault(offset_minutes, timezone(timedelta(minutes=offset_minutes)))
    return datetime.fromtimestamp(int(epoch), tz=zone).isoformat()


def format_utc_datetime(epoch: float) -> str:
    """RFC 3339 in UTC to the second, ``2024-03-07T15:16:37Z``: a CloudEvent's ``time``
    (event-platform-facts.md section 1), also how the Event Platform's verdicts print times."""
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
