"""Event Platform deliveries for the reference receiver: recognise, authenticate and read one CloudEvent.

The reference receiver (:mod:`.core`) answers both wire profiles on the same paths and tells them apart by
their headers: ``X-AKENEO-SIGNATURE-*`` marks an Event Platform delivery (event-platform-facts.md section 1),
``X-Akeneo-Request-Signature`` an Events API batch. This module holds what is specific to the former; the
core applies the result with the same store, dedup, ordering and tombstone rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ..event_platform.signing import ALGORITHM, ALGORITHM_HEADER, PRIMARY_HEADER, SECONDARY_HEADER, verify_ep
from ..event_platform.wire import TYPE_PREFIX
from ..world.structure_activity import structure_key

__all__ = ["EpEvent", "EpMalformed", "ep_unauthorized", "is_ep_request", "read_ep_event"]

_SIGNATURE_PREFIX = "x-akeneo-signature-"
_MAX_ID_LENGTH = 1024
#: Entity segment of ``type`` -> the key of its object in ``data`` (section 4).
_RESOURCES = {"product": ("product", "uuid"), "product-model": ("product_model", "code")}
#: Entity segments whose events change a structure resource (``world.structure_activity``, section 4).
_STRUCTURE_ENTITIES = frozenset({"category", "family", "attribute", "attribute-group", "attribute-option", "asset",
                                 "reference-entity-record", "job"})
_APPLIED_VERBS = frozenset({"created", "updated", "updated.delta", "deleted"})


class EpMalformed(ValueError):
    """A validly signed body that is not one usable CloudEvent: answered 400, nothing applied."""


@dataclass(frozen=True)
class EpEvent:
    """One validated CloudEvent, reduced to what application needs.

    ``key`` is ``product:<uuid>`` or ``product_model:<code>`` for the events that change a resource
    (created, updated, updated.delta, deleted), a structure key (``category:<code>``, ``job:<execution_id>``...)
    for structure and job events, None for the others (completeness, app, connection, workflow), which are
    acknowledged and deduplicated but change no resource.
    """

    event_id: str
    type: str
    key: str | None
    epoch: float
    removed: bool
    resource: Mapping[str, Any]
    author_type: str | None
    author_identifier: str | None


def _names(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[str]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [key.lower() for key, _ in items if isinstance(key, str)]


def is_ep_request(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> bool:
    """Whether the request carries any ``X-AKENEO-SIGNATURE-*`` header (section 1)."""
    return any(name.startswith(_SIGNATURE_PREFIX) for name in _names(headers))


def ep_unauthorized(found: Mapping[str, str | None], body: bytes, secrets: Iterable[str | bytes]) -> str | None:
    """Why the request is not from the platform, or None. ``found`` maps each signature header to its single
    value (None if missing or repeated). No timestamp exists to check (section 2)."""
    algorithm = found.get(ALGORITHM_HEADER)
    if algorithm is None:
        return f"send exactly one {ALGORITHM_HEADER} header"
    if algorithm != ALGORITHM:
        return f"{ALGORITHM_HEADER} must be {ALGORITHM}, got {algorithm[:40]!r}"
    if found.get(PRIMARY_HEADER) is None and found.get(SECONDARY_HEADER) is None:
        return f"send exactly one {PRIMARY_HEADER} header"
    sent = {name: value for name, value in found.items() if value is not None}
    if not verify_ep(body, sent, secrets):
        return "no signature matches the raw body with any secret held"
    return None


def _identity(where: str, value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > _MAX_ID_LENGTH:
        raise EpMalformed(f"{where} must be a non-empty string of at most {_MAX_ID_LENGTH} characters")
    return value


def _epoch(value: Any) -> float:
    """``time``: RFC 3339, UTC to the second in practice (section 1); any offset is accepted here."""
    if not isinstance(value, str) or len(value) > 64:
        raise EpMalformed(f"time {value!r:.60} is not an RFC 3339 time like 2024-03-07T15:16:37Z")
    try:
        moment = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)
    except ValueError:
        raise EpMalformed(f"time {value!r:.60} is not an RFC 3339 time like 2024-03-07T15:16:37Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def read_ep_event(document: Any) -> EpEvent:
    """The CloudEvent's identity, time, resource and author, or :class:`EpMalformed` (sections 1 and 4).

    The checks are what a receiver needs to act safely, not the full schema: ``specversion`` ``1.0``, an
    ``id``, a ``com.akeneo.pim.v1.*`` ``type``, a ``time`` and an object ``data``; for product and product
    model events, the resource's ``uuid`` or ``code``.
    """
    if not isinstance(document, dict):
        raise EpMalformed("body must be one CloudEvent JSON object (the platform sends one event per request)")
    if document.get("specversion") != "1.0":
        raise EpMalformed(f"specversion must be \"1.0\", got {document.get('specversion')!r:.40}")
    event_id = _identity("id", document.get("id"))
    event_type = _identity("type", document.get("type"))
    if not event_type.startswith(TYPE_PREFIX):
        raise EpMalformed(f"type {event_type!r:.60} does not start with {TYPE_PREFIX}")
    epoch = _epoch(document.get("time"))
    data = document.get("data")
    if not isinstance(data, dict):
        raise EpMalformed("data must be a JSON object")
    author = data.get("author")
    author_type = author.get("type") if isinstance(author, dict) else None
    author_identifier = author.get("identifier") if isinstance(author, dict) else None
    entity, _, verb = event_type[len(TYPE_PREFIX):].partition(".")
    key: str | None = None
    resource: Mapping[str, Any] = {}
    if entity in _RESOURCES:
        name, id_key = _RESOURCES[entity]
        found = data.get(name)
        if not isinstance(found, dict):
            raise EpMalformed(f"data.{name} must be a JSON object")
        reference = _identity(f"data.{name}.{id_key}", found.get(id_key))
        resource = found
        if verb == "updated.delta" and not isinstance(found.get("changes"), dict):
            raise EpMalformed(f"data.{name}.changes must be a JSON object in a {verb} event")
        if verb in _APPLIED_VERBS:
            key = f"{name}:{reference}"
    elif entity in _STRUCTURE_ENTITIES:
        # categories, families, attributes and their options and groups, assets, records, job executions:
        # resources like products, keyed by their codes (README: observation contract)
        key = structure_key(entity, data)
        if key is None:
            raise EpMalformed(f"data of a {event_type[len(TYPE_PREFIX):]} event lacks the codes that name its "
                              "resource (facts section 4)")
        resource = data
    return EpEvent(
        event_id, event_type, key, epoch, verb == "deleted", resource,
        author_type if isinstance(author_type, str) else None,
        author_identifier if isinstance(author_identifier, str) else None,
    )
