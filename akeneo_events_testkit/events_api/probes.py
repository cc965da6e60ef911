"""Security probes: requests that are not what the PIM would send, and what a correct receiver may answer.

Anyone on the internet can POST to a receiver; the signature is the only proof of origin (events-api-facts.md
sections 1 and 2). Each probe states what a correct receiver may answer, so that the oracle can judge it
without flagging a correct receiver:

* ``authenticity`` probes must be rejected (4xx) and nothing of them applied;
* ``freshness`` probes (valid signature, timestamp beyond 5 minutes) should be rejected; accepting one is a
  replay risk, reported as a warning (an error under ``--strict``);
* ``robustness`` probes are validly signed, so only the secret's holder can make them: accepting or
  rejecting them are both correct; a 5xx or a broken connection is not.

The *envelope* probes (:data:`ENVELOPE_PROBES`, family ``robustness``) are genuine envelopes holding one
malformed event between valid events of probe resources. The receiver may refuse the request (4xx: the PIM
logs an error and never resends it, facts sections 1 and 6, so what it applied of the valid events is not
judged) or take it; a 2xx says it took the request, so every valid event must then be applied. Unknown extra
fields (``unknown_fields``) are no malformation: the PIM adds fields over time (``uuid`` in 7.0, metric
``symbol`` in 2026, facts section 0), so that request must be answered 2xx with all its events applied.

Probe events touch only resources of their own (identifiers ``probe-...``), so applying one never disturbs
the judgement of the real traffic.
"""

from __future__ import annotations

import base64
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..encoding import php_json_encode_bytes
from ..versions import Action, AuthorType, PimVersion, format_event_datetime
from .signing import sign
from .wire import Event

__all__ = ["ENVELOPE_PROBES", "GENUINE", "PROBE_KINDS", "Probe", "ProbeKind", "Recipe", "make_probe"]

HeaderValue = str | bytes


@dataclass(frozen=True)
class ProbeKind:
    name: str
    family: str  # authenticity, freshness, robustness
    description: str
    #: the oracle's rule when not the family's (``robust_apply``, ``accept_apply``: judging.history.ProbeRule)
    expect: str = ""

    @property
    def must_reject(self) -> bool:
        return self.family == "authenticity"


PROBE_KINDS: dict[str, ProbeKind] = {kind.name: kind for kind in (
    ProbeKind("forged_signature", "authenticity", "a signature made with another secret"),
    ProbeKind("signature_trailing_junk", "authenticity", "the valid signature followed by extra characters"),
    ProbeKind("empty_secret", "authenticity", "a signature made with an empty secret"),
    ProbeKind("tampered_body", "authenticity", "the body changed after signing"),
    ProbeKind("missing_signature", "authenticity", "no X-Akeneo-Request-Signature header"),
    ProbeKind("missing_timestamp", "authenticity", "no X-Akeneo-Request-Timestamp header"),
    ProbeKind("non_numeric_timestamp", "authenticity", "a timestamp that is not a number"),
    ProbeKind("non_ascii_signature", "authenticity", "a signature header with non-ASCII bytes"),
    ProbeKind("stale_timestamp", "freshness", "validly signed, timestamp 10 minutes old"),
    ProbeKind("future_timestamp", "freshness", "validly signed, timestamp 10 minutes ahead"),
    ProbeKind("not_json", "robustness", "validly signed body that is not JSON"),
    ProbeKind("wrong_shape", "robustness", "validly signed JSON that is not an envelope"),
    ProbeKind("too_many_events", "robustness", "validly signed envelope of 11 events"),
    ProbeKind("wrong_content_type", "robustness", "validly signed, Content-Type text/plain"),
    ProbeKind("uppercase_signature", "robustness", "the valid signature in upper case"),
)}

#: Malformed events inside genuine envelopes, between valid events of probe resources (robustness).
ENVELOPE_PROBES: dict[str, ProbeKind] = {kind.name: kind for kind in (
    ProbeKind("event_without_data", "robustness", "an event without data", "robust_apply"),
    ProbeKind("event_without_resource", "robustness", "an event whose data has no resource", "robust_apply"),
    ProbeKind("unknown_action", "robustness", "an event with an action the PIM never sends", "robust_apply"),
    ProbeKind("resource_without_key", "robustness", "a resource without identifier or uuid", "robust_apply"),
    ProbeKind("event_id_not_uuid", "robustness", "an event_id that is not a UUID", "robust_apply"),
    ProbeKind("unparsable_event_datetime", "robustness", "an event_datetime that is no date", "robust_apply"),
    ProbeKind("non_object_event", "robustness", "null or a string in the events list", "robust_apply"),
    ProbeKind("unknown_fields", "robustness", "unknown extra fields in the envelope, an event and its resource "
              "(must be accepted and applied)", "accept_apply"),
)}
PROBE_KINDS.update(ENVELOPE_PROBES)

_FRESHNESS_OFFSET = 600


@dataclass(frozen=True)
class Recipe:
    """How a request's headers are made from a secret, a send time and the body sent.

    The PIM's own requests use the default recipe. A probe's recipe says how it departs from it, so that a
    recorded tape can be re-signed with another secret and still carry the same flaw (``replay``).
    """

    key: str = "secret"  # "secret", "other" (a wrong secret) or "empty"
    signed_body: bytes | None = None  # the body that was signed, when another one is sent
    timestamp_offset: int = 0
    timestamp_suffix: str = ""
    signature_suffix: str = ""
    upper: bool = False
    non_ascii: bool = False
    omit: tuple[str, ...] = ()
    content_type: str = "application/json"

    def headers(
        self, secret: str, timestamp: int, body: bytes, user_agent: str | None
    ) -> tuple[tuple[str, HeaderValue], ...]:
        ts_text = f"{timestamp + self.timestamp_offset}{self.timestamp_suffix}"
        key = {"secret": secret, "other": secret + "-not-the-secret", "empty": ""}[self.key]
        text = sign(key, ts_text, self.signed_body if self.signed_body is not None else body)
        text = (text.upper() if self.upper else text) + self.signature_suffix
        signature: HeaderValue = text[:62].encode("ascii") + "é".encode() if self.non_ascii else text
        headers: list[tuple[str, HeaderValue]] = [("Content-Type", self.content_type)]
        if "signature" not in self.omit:
            headers.append(("X-Akeneo-Request-Signature", signature))
        if "timestamp" not in self.omit:
            headers.append(("X-Akeneo-Request-Timestamp", ts_text))
        if user_agent is not None:
            headers.append(("User-Agent", user_agent))
        return tuple(headers)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name, default in _RECIPE_DEFAULTS.items():
            value = getattr(self, name)
            if value != default:
                data[name] = base64.b64encode(value).decode() if name == "signed_body" else (
                    list(value) if isinstance(value, tuple) else value)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Recipe:
        fields = {name: data[name] for name in _RECIPE_DEFAULTS if name in data}
        if "signed_body" in fields:
            fields["signed_body"] = base64.b64decode(fields["signed_body"])
        if "omit" in fields:
            fields["omit"] = tuple(fields["omit"])
        return cls(**fields)


GENUINE = Recipe()
_RECIPE_DEFAULTS = {name: getattr(GENUINE, name) for name in Recipe.__dataclass_fields__}


@dataclass(frozen=True)
class Probe:
    """One probe request, ready to send."""

    kind: ProbeKind
    body: bytes
    headers: tuple[tuple[str, HeaderValue], ...]
    event_ids: tuple[str, ...]
    keys: tuple[str, ...]
    recipe: Recipe = GENUINE
    #: the valid events of an envelope probe, which a receiver answering 2xx must have applied
    must_apply: tuple[str, ...] = ()


def _probe_event(rng: random.Random, profile: PimVersion, pim_source: str, epoch: int, number: int) -> Event:
    """A plausible product upsert on a resource of the probe's own."""
    identifier = f"probe-{number}-{rng.getrandbits(32):08x}"
    stamp = format_event_datetime(epoch)
    resource: dict[str, Any] = {}
    if profile.has_uuid:
        resource["uuid"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if not profile.uuid_mode:
        resource["identifier"] = identifier
    resource.update({
        "enabled": True, "family": None, "categories": [], "groups": [], "parent": None,
        "values": ({"sku": [{"locale": None, "scope": None, "data": identifier}]} if profile.uuid_mode else {}),
        "created": stamp, "updated": stamp, "associations": {}, "quantified_associations": {},
    })
    return Event(Action.PRODUCT_UPDATED, str(uuid.UUID(int=rng.getrandbits(128), version=4)), stamp,
                 "probe_user", AuthorType.UI, pim_source, {"resource": resource})


_RECIPES: dict[str, Recipe] = {
    "forged_signature": Recipe(key="other"),
    "signature_trailing_junk": Recipe(signature_suffix="00"),
    "empty_secret": Recipe(key="empty"),
    "missing_signature": Recipe(omit=("signature",)),
    "missing_timestamp": Recipe(omit=("timestamp",)),
    "non_numeric_timestamp": Recipe(timestamp_suffix="abc"),
    "non_ascii_signature": Recipe(non_ascii=True),
    "stale_timestamp": Recipe(timestamp_offset=-_FRESHNESS_OFFSET),
    "future_timestamp": Recipe(timestamp_offset=_FRESHNESS_OFFSET),
    "wrong_content_type": Recipe(content_type="text/plain"),
    "uppercase_signature": Recipe(upper=True),
}


def make_probe(
    name: str,
    *,
    rng: random.Random,
    secret: str,
    timestamp: int,
    profile: PimVersion,
    pim_source: str,
    number: int = 0,
) -> Probe:
    """Build the probe ``name`` signed (or mis-signed) at ``timestamp``."""
    if name in ENVELOPE_PROBES:
        return _envelope_probe(name, rng=rng, secret=secret, timestamp=timestamp, profile=profile,
                               pim_source=pim_source, number=number)
    kind = PROBE_KINDS[name]
    count = 11 if name == "too_many_events" else 1
    events = [_probe_event(rng, profile, pim_source, timestamp, number * 100 + i) for i in range(count)]
    body = php_json_encode_bytes({"events": [event.to_dict() for event in events]})
    recipe = _RECIPES.get(name, GENUINE)
    if name == "not_json":
        body = b'{"events":[{"action":"product.updated",'
    elif name == "wrong_shape":
        body = b'{"event":{"action":"product.updated"},"events":"none"}'
    elif name == "tampered_body":
        recipe = Recipe(signed_body=body)
        body = body.replace(b'"enabled":true', b'"enabled":false', 1)
    headers = recipe.headers(secret, timestamp, body, profile.user_agent)
    carried = events if name not in ("not_json", "wrong_shape") else []
    return Probe(kind, body, headers, tuple(e.event_id for e in carried), tuple(e.key for e in carried), recipe)


def _malform(name: str, event: dict[str, Any], rng: random.Random) -> Any:
    """The event (as decoded JSON) with the flaw of probe ``name``."""
    resource = event["data"]["resource"]
    if name == "event_without_data":
        del event["data"]
    elif name == "event_without_resource":
        event["data"] = {}
    elif name == "unknown_action":
        event["action"] = "product.archived"
    elif name == "resource_without_key":
        resource.pop("identifier", None)
        resource.pop("uuid", None)
    elif name == "event_id_not_uuid":
        event["event_id"] = f"probe-event-{rng.getrandbits(48):012x}"
    elif name == "unparsable_event_datetime":
        event["event_datetime"] = "2021-02-30T25:61:00+00:00"
    elif name == "non_object_event":
        return rng.choice((None, event["event_id"]))
    elif name == "unknown_fields":
        event["event_version"] = 2
        resource["future_field"] = {"added_in": "a later PIM version", "values": []}
    return event


def _envelope_probe(
    name: str, *, rng: random.Random, secret: str, timestamp: int, profile: PimVersion, pim_source: str,
    number: int,
) -> Probe:
    """A genuine envelope (validly signed, at most 10 events) holding one malformed event between 1 to 3
    valid events of probe resources on each side."""
    before, after = rng.randint(1, 3), rng.randint(1, 3)
    events = [_probe_event(rng, profile, pim_source, timestamp, number * 100 + i) for i in range(before + after + 1)]
    odd = events[before]
    entries: list[Any] = [event.to_dict() for event in events]
    entries[before] = _malform(name, {**entries[before], "data": {"resource": dict(odd.resource)}}, rng)
    envelope: dict[str, Any] = {"events": entries}
    if name == "unknown_fields":
        envelope["future_field"] = True
    body = php_json_encode_bytes(envelope)
    headers = GENUINE.headers(secret, timestamp, body, profile.user_agent)
    valid = [event.event_id for event in events if event is not odd]
    carried = [entry["event_id"] for entry in entries if isinstance(entry, dict) and "event_id" in entry]
    must_apply = tuple(carried) if name == "unknown_fields" else tuple(valid)
    return Probe(PROBE_KINDS[name], body, headers, tuple(carried), tuple(event.key for event in events), GENUINE,
                 must_apply)


def probe_positions(rng: random.Random, names: Sequence[str], horizon: int) -> list[tuple[int, str]]:
    """Where each probe goes among the first ``horizon`` messages, sorted."""
    return sorted((rng.randrange(max(1, horizon)), name) for name in names)
