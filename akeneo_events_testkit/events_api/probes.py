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

**Signature malleability** (:data:`SIGNATURE_MALLEABILITY`, all ``authenticity``): the valid signature of
the probe's own body (facts section 2), edited the ways a lax check lets through. Node's
``Buffer.from(sig, "hex")`` stops at the first non-hex character and drops an odd last digit; ``startswith``,
``in``, ``strpos``, ``substr``, a stripped ``sha256=`` prefix or a split on commas compare less than the
whole value. A suffix, a prefix or a list still needs the valid signature, so it forges no content; but no
hex decoding of the header is the 32-byte MAC, so only a comparison that is not an equality accepts it,
and the truncated variants show the forgeable form of such a comparison (a prefix of the MAC, down to an
empty one, is enough). ``signature_other_timestamp`` is signed for another second than the one sent: a
receiver accepting it lets anyone re-date a captured request past its freshness check. What is left out,
and why: a header that a standard hex decoder reads as exactly the MAC is no forgery, so it is not flagged:

* upper-case hex (``uppercase_signature``, robustness): ``Buffer.from(sig, "hex")``, ``bytes.fromhex``
  and ``hex2bin`` all decode it to the MAC, so a receiver comparing decoded bytes accepts it; upper-casing
  needs no secret, but the request is still the one the PIM signed (same body, same timestamp);
* whitespace between two bytes: ``bytes.fromhex`` skips it (Python 3.7+), so ``signature_inner_whitespace``
  puts its space or tab inside a byte (an odd position), where no decoder yields the MAC;
* leading or trailing whitespace: RFC 9110 section 5.5 excludes it from the field value; uvicorn (h11) and
  Node's ``http`` strip it before the application sees it (PHP's built-in server keeps some of it), and
  h11, httpx's HTTP/1.1 client, refuses to send it: over real HTTP the probe would be a genuine request to
  a correct receiver, or no request at all;
* the same header sent twice: a server hands the application the first, the last, or both joined with
  ", ", so what a correct receiver sees depends on its framework. One header holding two values
  (``signature_list_valid_first``, ``signature_list_valid_last``) is what a joining server produces and
  reaches every application unchanged.

``non_numeric_timestamp`` is robustness: it is signed over the header text as sent, so a receiver that
verifies that text and then casts it is not fooled by anyone (whoever signed holds the secret).
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

__all__ = ["ENVELOPE_PROBES", "GENUINE", "PROBE_KINDS", "SIGNATURE_MALLEABILITY", "Probe", "ProbeKind", "Recipe",
           "make_probe"]

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
    ProbeKind("signature_trailing_junk", "authenticity", "the valid signature followed by two more hex digits"),
    ProbeKind("signature_non_hex_suffix", "authenticity", "the valid signature followed by non-hex characters"),
    ProbeKind("signature_odd_suffix", "authenticity", "the valid signature followed by one more hex digit"),
    ProbeKind("signature_inner_whitespace", "authenticity", "the valid signature with a space or tab inside a byte"),
    ProbeKind("signature_one_char_short", "authenticity", "the valid signature without its last character"),
    ProbeKind("signature_half", "authenticity", "the first half of the valid signature"),
    ProbeKind("signature_prefixed", "authenticity", "the valid signature written sha256=<hex>"),
    ProbeKind("signature_list_valid_first", "authenticity", "the valid signature, a comma and a forged one"),
    ProbeKind("signature_list_valid_last", "authenticity", "a forged signature, a comma and the valid one"),
    ProbeKind("signature_other_timestamp", "authenticity", "a valid signature for T sent with timestamp T+1"),
    ProbeKind("empty_secret", "authenticity", "a signature made with an empty secret"),
    ProbeKind("tampered_body", "authenticity", "the body changed after signing"),
    ProbeKind("missing_signature", "authenticity", "no X-Akeneo-Request-Signature header"),
    ProbeKind("missing_timestamp", "authenticity", "no X-Akeneo-Request-Timestamp header"),
    ProbeKind("non_numeric_timestamp", "robustness", "validly signed over a timestamp that is not a number"),
    ProbeKind("non_ascii_signature", "authenticity", "a signature header with non-ASCII bytes"),
    ProbeKind("stale_timestamp", "freshness", "validly signed, timestamp 10 minutes old"),
    ProbeKind("future_timestamp", "freshness", "validly signed, timestamp 10 minutes ahead"),
    ProbeKind("not_json", "robustness", "validly signed body that is not JSON"),
    ProbeKind("wrong_shape", "robustness", "validly signed JSON that is not an envelope"),
    ProbeKind("too_many_events", "robustness", "validly signed envelope of 11 events"),
    ProbeKind("wrong_content_type", "robustness", "validly signed, Content-Type text/plain"),
    ProbeKind("uppercase_signature", "robustness", "the valid signature in upper case"),
)}

#: The signature malleability family (see the module's docstring), in the order of :data:`PROBE_KINDS`.
SIGNATURE_MALLEABILITY = ("signature_trailing_junk", "signature_non_hex_suffix", "signature_odd_suffix",
                          "signature_inner_whitespace", "signature_one_char_short", "signature_half",
                          "signature_prefixed", "signature_list_valid_first", "signature_list_valid_last",
                          "signature_other_timestamp")
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
#: Non-hex suffixes: each stops Node's hex decoder right after the valid signature.
_NON_HEX = ("zz", "--", "g")


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
    signed_timestamp_offset: int | None = None  # signed for this offset, not for the timestamp sent
    signature_length: int | None = None  # only the first characters of the signature are sent
    signature_insert: str = ""  # inserted at signature_insert_at
    signature_insert_at: int = 0
    signature_prefix: str = ""
    signature_suffix: str = ""
    upper: bool = False
    non_ascii: bool = False
    omit: tuple[str, ...] = ()
    content_type: str = "application/json"

    def headers(
        self, secret: str, timestamp: int, body: bytes, user_agent: str | None
    ) -> tuple[tuple[str, HeaderValue], ...]:
        ts_text = f"{timestamp + self.timestamp_offset}{self.timestamp_suffix}"
        signed_ts = ts_text if self.signed_timestamp_offset is None else str(timestamp + self.signed_timestamp_offset)
        key = {"secret": secret, "other": secret + "-not-the-secret", "empty": ""}[self.key]
        text = sign(key, signed_ts, self.signed_body if self.signed_body is not None else body)
        text = (text.upper() if self.upper else text)[:self.signature_length]
        if self.signature_insert:
            text = text[:self.signature_insert_at] + self.signature_insert + text[self.signature_insert_at:]
        text = self.signature_prefix + text + self.signature_suffix
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
    "signature_one_char_short": Recipe(signature_length=63),
    "signature_half": Recipe(signature_length=32),
    "signature_prefixed": Recipe(signature_prefix="sha256="),
    "signature_other_timestamp": Recipe(timestamp_offset=1, signed_timestamp_offset=0),
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


def _drawn_recipe(name: str, rng: random.Random) -> Recipe:
    """The recipe of a malleability probe whose mutation is drawn from the probe RNG (GENUINE otherwise)."""
    if name == "signature_non_hex_suffix":
        return Recipe(signature_suffix=rng.choice(_NON_HEX))
    if name == "signature_odd_suffix":
        return Recipe(signature_suffix=rng.choice("0123456789abcdef"))
    if name == "signature_inner_whitespace":
        return Recipe(signature_insert=rng.choice((" ", "\t")), signature_insert_at=rng.randrange(1, 64, 2))
    if name in ("signature_list_valid_first", "signature_list_valid_last"):
        forged = f"{rng.getrandbits(256):064x}"
        return (Recipe(signature_suffix=f", {forged}") if name.endswith("first")
                else Recipe(signature_prefix=f"{forged}, "))
    return GENUINE


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
    recipe = _RECIPES[name] if name in _RECIPES else _drawn_recipe(name, rng)
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
