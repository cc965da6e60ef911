"""The Events API wire format: ``Event`` and ``Delivery``, and the batch envelope.

An :class:`Event` is one item of the ``events`` list exactly as sent; a :class:`Delivery` is one HTTP
request: 1 to 10 events (events-api-facts.md section 4), their raw body, timestamp, signature and headers.
What differs between PIM versions is in :mod:`akeneo_events_testkit.versions`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..encoding import php_json_encode_bytes
from ..errors import InvalidPayload
from ..versions import (
    DEFAULT_PROFILE,
    Action,
    AuthorType,
    PimVersion,
    format_event_datetime,
    get_profile,
    parse_event_datetime,
    resource_key,
)
from .signing import sign

__all__ = [
    "MAX_BATCH_SIZE",
    "Delivery",
    "Event",
]


#: ``webhook_max_bulk_size`` (facts section 4).
MAX_BATCH_SIZE = 10


@dataclass(frozen=True)
class Event:
    """One event as the PIM sends it. ``data`` is ``{"resource": {...}}`` and must not be mutated."""

    action: Action
    event_id: str
    event_datetime: str
    author: str
    author_type: AuthorType
    pim_source: str
    data: Mapping[str, Any]
    epoch: float = field(init=False, repr=False, compare=False)
    key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "action", Action(self.action))
        object.__setattr__(self, "author_type", AuthorType(self.author_type))
        object.__setattr__(self, "epoch", parse_event_datetime(self.event_datetime))
        object.__setattr__(self, "key", resource_key(self.action, self.resource))

    @classmethod
    def at(
        cls,
        epoch: int,
        *,
        action: Action,
        event_id: str,
        author: str,
        author_type: AuthorType,
        pim_source: str,
        data: Mapping[str, Any],
    ) -> Event:
        """The event the kit makes at ``epoch`` (whole seconds): the same as ``Event(...)`` with
        ``format_event_datetime(epoch)``, without parsing back the datetime it has just formatted (the mock
        PIM builds one per event sent: BENCHMARKS.md section 3)."""
        event = cls.__new__(cls)
        fields = {"action": Action(action), "event_id": event_id, "event_datetime": format_event_datetime(epoch),
                  "author": author, "author_type": AuthorType(author_type), "pim_source": pim_source,
                  "data": data, "epoch": float(int(epoch))}
        for name, value in fields.items():
            object.__setattr__(event, name, value)
        object.__setattr__(event, "key", resource_key(event.action, event.resource))
        return event

    @property
    def resource(self) -> Mapping[str, Any]:
        resource = self.data.get("resource", {})
        return resource if isinstance(resource, Mapping) else {}

    def to_dict(self) -> dict[str, Any]:
        """The event as the PIM encodes it, keys in the PIM's order (facts section 4)."""
        return {
            "action": self.action.value,
            "event_id": self.event_id,
            "event_datetime": self.event_datetime,
            "author": self.author,
            "author_type": self.author_type.value,
            "pim_source": self.pim_source,
            "data": self.data,
        }

    def with_data(self, data: Mapping[str, Any]) -> Event:
        """The same event carrying other data (the PIM rebuilds data at send time)."""
        return Event(
            self.action, self.event_id, self.event_datetime, self.author, self.author_type,
            self.pim_source, data,
        )

    @classmethod
    def from_dict(cls, raw: Any) -> Event:
        """Read one event from decoded JSON; raises :class:`InvalidPayload` naming what is wrong."""
        if not isinstance(raw, Mapping):
            raise InvalidPayload(f"an event must be a JSON object, got {type(raw).__name__}")
        missing = [k for k in ("action", "event_id", "event_datetime", "author", "author_type",
                               "pim_source", "data") if k not in raw]
        if missing:
            raise InvalidPayload(f"event lacks {', '.join(missing)}")
        try:
            return cls(
                action=Action(raw["action"]),
                event_id=str(raw["event_id"]),
                event_datetime=str(raw["event_datetime"]),
                author=str(raw["author"]),
                author_type=AuthorType(raw["author_type"]),
                pim_source=str(raw["pim_source"]),
                data=raw["data"] if isinstance(raw["data"], Mapping) else {},
            )
        except ValueError as exc:
            raise InvalidPayload(f"invalid event: {exc}") from None


@dataclass(frozen=True)
class Delivery:
    """One request of the PIM: 1 to 10 events, the exact body bytes, the signing timestamp and headers."""

    events: tuple[Event, ...]
    body: bytes
    timestamp: int
    signature: str
    headers: tuple[tuple[str, str], ...]
    subscription: str = "default"

    @classmethod
    def build(
        cls,
        events: Iterable[Event],
        *,
        secret: str,
        timestamp: int,
        profile: PimVersion | str = DEFAULT_PROFILE,
        subscription: str = "default",
    ) -> Delivery:
        """Encode ``events`` as the PIM does, sign them at ``timestamp`` and set the PIM's headers."""
        batch = tuple(events)
        return cls.encoded(batch, encode_envelope(batch) if batch else b"", secret=secret, timestamp=timestamp,
                           profile=profile, subscription=subscription)

    @classmethod
    def encoded(
        cls,
        events: Iterable[Event],
        body: bytes,
        *,
        secret: str,
        timestamp: int,
        profile: PimVersion | str = DEFAULT_PROFILE,
        subscription: str = "default",
    ) -> Delivery:
        """:meth:`build` for ``events`` already encoded as ``body`` (``encode_envelope(events)``): the mock PIM
        encodes while the previous request is in flight, and signs when it sends."""
        batch = tuple(events)
        if not 1 <= len(batch) <= MAX_BATCH_SIZE:
            raise ValueError(f"a delivery holds 1 to {MAX_BATCH_SIZE} events, got {len(batch)}")
        signature = sign(secret, timestamp, body)
        headers = get_profile(profile).headers(signature, timestamp)
        return cls(batch, body, int(timestamp), signature, headers, subscription)

    def resigned(self, *, secret: str, timestamp: int, profile: PimVersion | str = DEFAULT_PROFILE) -> Delivery:
        """The same body signed again at another time (a Pub/Sub redelivery, a replay)."""
        signature = sign(secret, timestamp, self.body)
        headers = get_profile(profile).headers(signature, timestamp)
        return Delivery(self.events, self.body, int(timestamp), signature, headers, self.subscription)

    @property
    def event_ids(self) -> tuple[str, ...]:
        return tuple(event.event_id for event in self.events)

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None


def encode_envelope(events: Iterable[Event]) -> bytes:
    """``{"events":[...]}`` encoded byte for byte as the PIM encodes it."""
    return php_json_encode_bytes({"events": [event.to_dict() for event in events]})


def decode_envelope(body: bytes | str) -> list[Event]:
    """Parse a request body back into events; raises :class:`InvalidPayload`."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeError) as exc:
        raise InvalidPayload(f"body is not JSON: {exc}") from None
    if isinstance(document, Mapping) and "events" in document and isinstance(document["events"], list):
        return [Event.from_dict(item) for item in document["events"]]
    raise InvalidPayload('body is not an envelope {"events": [...]}')
