"""A gallery of Events API receivers with exactly one deliberate bug each, to prove the oracle catches it.

:class:`GalleryReceiver` is a small, correct receiver written independently of the kit's reference receiver
(it shares only :func:`~akeneo_events_testkit.versions.resource_key` and the ``event_datetime`` parser, which
the observation contract is defined by). Each decision a receiver makes is one hook: authenticate, answer
the Test request, process a batch (parse, refuse, deduplicate, order, store, apply), answer late. Every buggy
receiver overrides a single hook, so whatever the oracle reports about it comes from that bug alone.

Buggy receivers are named after their bug (lower case on purpose: the name is what a report shows).
Each class names the violation kinds its bug must produce (``expected``) and the further kinds the same
bug may cause (``allowed``); anything else in a verdict would be an oracle false positive.

Run one over real HTTP in its own process (the port is printed on stdout, the secret read from
``AKENEO_EVENTS_SECRET``)::

    python -m tests.support.gallery no_signature_check
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar

from akeneo_events_testkit.versions import Action, parse_event_datetime, resource_key

Scope = MutableMapping[str, Any]
ASGIMessage = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[ASGIMessage]], Callable[[ASGIMessage], Awaitable[None]]],
                   Awaitable[None]]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: Seconds between a request's timestamp and the receiver's clock, either way, before it is refused.
TOLERANCE = 300
SIGNATURE = "x-akeneo-request-signature"
TIMESTAMP = "x-akeneo-request-timestamp"


class Malformed(Exception):
    """A validly signed body that is not an Events API batch: a correct receiver answers 400."""


@dataclass(frozen=True)
class Item:
    """One event of a batch, reduced to what applying it needs."""

    event_id: str
    key: str
    epoch: float
    removed: bool
    entity: str
    #: the resource's family, as its data says (None for a removal, whose data holds only its key)
    family: str | None = None


@dataclass(frozen=True)
class State:
    event_id: str
    epoch: float
    removed: bool


def _item(raw: Any) -> Item:
    if not isinstance(raw, dict):
        raise Malformed("an event is not an object")
    try:
        action = Action(raw.get("action"))
        epoch = parse_event_datetime(raw["event_datetime"])
    except (KeyError, TypeError, ValueError):
        raise Malformed("bad action or event_datetime") from None
    event_id = raw.get("event_id")
    data = raw.get("data")
    resource = data.get("resource") if isinstance(data, dict) else None
    if not isinstance(event_id, str) or not event_id or not isinstance(resource, dict):
        raise Malformed("an event lacks event_id or data.resource")
    return Item(event_id, resource_key(action, resource), epoch, action.is_removal, action.entity,
                resource.get("family"))


def hmac_hex(secret: bytes, timestamp: str, body: bytes) -> str:
    """The PIM's signature: lowercase hex HMAC-SHA256 of ``"<timestamp>.<body>"`` (facts section 2)."""
    return hmac.new(secret, timestamp.encode("latin-1") + b"." + body, hashlib.sha256).hexdigest()


class GalleryReceiver:
    """A correct receiver: signature over the raw body, fresh timestamps, whole-batch validation, dedup by
    ``event_id``, per-resource ``event_datetime`` order (a tie goes to the later delivery), tombstones."""

    expected: ClassVar[frozenset[str]] = frozenset()
    allowed: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, secret: str) -> None:
        self.secret = secret.encode("utf-8")
        self.lock = threading.Lock()
        self.posts = 0
        self.seen: set[str] = set()
        self.resources: dict[str, State] = {}
        self.applied: list[str] = []

    @property
    def name(self) -> str:
        return type(self).__name__

    # -- hooks: each buggy receiver overrides exactly one -------------------------------------------------

    def fresh(self, timestamp: str) -> bool:
        return timestamp.isascii() and timestamp.isdigit() and abs(time.time() - int(timestamp)) <= TOLERANCE

    def signature_matches(self, signature: str, timestamp: str, body: bytes) -> bool:
        expected = hmac_hex(self.secret, timestamp, body)
        return hmac.compare_digest(expected.encode("ascii"), signature.encode("latin-1"))

    def authentic(self, headers: Mapping[str, str], body: bytes) -> bool:
        signature, timestamp = headers.get(SIGNATURE), headers.get(TIMESTAMP)
        if signature is None or timestamp is None or not self.fresh(timestamp):
            return False
        return self.signature_matches(signature, timestamp, body)

    def parse(self, body: bytes) -> list[Item]:
        try:
            document = json.loads(body)
        except ValueError:
            raise Malformed("not JSON") from None
        events = document.get("events") if isinstance(document, dict) else None
        if not isinstance(events, list) or not events:
            raise Malformed('no "events" list')
        return [_item(raw) for raw in events]

    def refuse(self, items: list[Item], headers: Mapping[str, str], body: bytes) -> int | None:
        """A status to refuse a valid, authentic batch with; None accepts it."""
        return None

    def first_delivery(self, item: Item) -> bool:
        if item.event_id in self.seen:
            return False
        self.seen.add(item.event_id)
        return True

    def supersedes(self, item: Item, current: State) -> bool:
        return item.epoch >= current.epoch

    def store(self, item: Item) -> None:
        self.resources[item.key] = State(item.event_id, item.epoch, item.removed)

    def apply_event(self, item: Item) -> None:
        current = self.resources.get(item.key)
        if current is None or self.supersedes(item, current):
            self.store(item)
            self.applied.append(item.event_id)

    def apply(self, items: list[Item], body: bytes) -> None:
        for item in items:
            if self.first_delivery(item):
                self.apply_event(item)

    def delay(self, number: int) -> float:
        """Seconds to wait before answering the ``number``-th POST (1-based)."""
        return 0.0

    def test_request(self) -> tuple[int, Any]:
        """The answer to the PIM's "Test" request (an authentic empty body, facts section 4)."""
        return 200, {"test": True}

    def process(self, headers: Mapping[str, str], body: bytes) -> tuple[int, Any]:
        """Answer an authentic batch: validate it whole (400 when malformed), then apply it."""
        try:
            items = self.parse(body)
        except Malformed as exc:
            return 400, {"error": str(exc)}
        with self.lock:
            refused = self.refuse(items, headers, body)
            if refused is not None:
                return refused, {"error": "refused"}
            self.apply(items, body)
        return 200, {"ok": True}

    # -- HTTP ---------------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, Any]:
        if path == "/state":
            return (200, self.observation()) if method == "GET" else (405, {"error": "use GET"})
        if method != "POST":
            return 405, {"error": "use POST"}
        if not self.authentic(headers, body):
            return 401, {"error": "bad signature or timestamp"}
        if not body:  # the "Test" button
            return self.test_request()
        return self.process(headers, body)

    def respond(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes, float]:
        """Status, JSON body and delay; an exception is a 500, as any web framework would answer."""
        delay = 0.0
        if method == "POST":
            with self.lock:
                self.posts += 1
                delay = self.delay(self.posts)
        try:
            status, document = self.handle(method, path, headers, body)
        except Exception as exc:
            status, document = 500, {"error": type(exc).__name__}
        return status, json.dumps(document).encode("ascii"), delay

    def observation(self) -> dict[str, Any]:
        with self.lock:
            return {
                "applied": list(self.applied),
                "resources": {key: {"event_id": s.event_id, "removed": s.removed} for key, s in self.resources.items()},
            }

    def asgi(self) -> ASGIApp:
        async def app(scope: Scope, receive: Callable[[], Awaitable[ASGIMessage]],
                      send: Callable[[ASGIMessage], Awaitable[None]]) -> None:
            if scope["type"] == "lifespan":
                while True:
                    message = await receive()
                    if message["type"] == "lifespan.startup":
                        await send({"type": "lifespan.startup.complete"})
                    elif message["type"] == "lifespan.shutdown":
                        await send({"type": "lifespan.shutdown.complete"})
                        return
            if scope["type"] != "http":
                return
            body = b""
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                body += message.get("body", b"")
                if not message.get("more_body", False):
                    break
            headers = {bytes(k).decode("latin-1").lower(): bytes(v).decode("latin-1") for k, v in scope["headers"]}
            status, payload, delay = self.respond(scope["method"], scope["path"], headers, body)
            if delay:
                await asyncio.sleep(delay)
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(payload)).encode("ascii"))]})
            await send({"type": "http.response.body", "body": payload})

        return app

    def wsgi(self) -> WSGIApp:
        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            headers = {key[5:].replace("_", "-").lower(): str(value) for key, value in environ.items()
                       if key.startswith("HTTP_")}
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            status, payload, delay = self.respond(environ["REQUEST_METHOD"], environ.get("PATH_INFO") or "/",
                                                  headers, body)
            if delay:
                time.sleep(delay)
            start_response(f"{status} {HTTPStatus(status).phrase}",
                           [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
            return [payload]

        return app


# -- correct variants -----------------------------------------------------------------------------------------


class strictly_newer(GalleryReceiver):
    """NOT a bug: ``>`` instead of ``>=`` only changes which of two same-second events wins (facts section 4:
    ``event_datetime`` has second precision, so their true order is unknowable)."""

    def supersedes(self, item: Item, current: State) -> bool:
        return item.epoch > current.epoch


class refuses_reused_signatures(GalleryReceiver):
    """NOT a bug: a request whose timestamp and signature were seen before is refused with 409, as a replay.
    The PIM signs each send anew, and redelivers only after an ack deadline, hence with a new timestamp
    (facts section 6); a repeat of both is a copy, whose events were handled the first time."""

    def __init__(self, secret: str) -> None:
        super().__init__(secret)
        self.signatures: set[tuple[str, str]] = set()

    def refuse(self, items: list[Item], headers: Mapping[str, str], body: bytes) -> int | None:
        used = (headers[TIMESTAMP], headers[SIGNATURE])
        if used in self.signatures:
            return 409
        self.signatures.add(used)
        return None


class compares_decoded_bytes(GalleryReceiver):
    """NOT a bug: compares the MAC's bytes with ``bytes.fromhex(signature)``, which reads upper-case hex and
    skips whitespace between two bytes; either way the header is exactly the MAC the PIM made for this body
    and timestamp, so no probe may flag it (events_api/probes.py: the malleability rule)."""

    def signature_matches(self, signature: str, timestamp: str, body: bytes) -> bool:
        try:
            sent = bytes.fromhex(signature)
        except ValueError:
            return False
        return hmac.compare_digest(bytes.fromhex(hmac_hex(self.secret, timestamp, body)), sent)


class strips_the_signature(GalleryReceiver):
    """NOT a bug: ``signature.strip()`` before comparing. RFC 9110 (section 5.5) leaves leading and trailing
    whitespace out of a field value, and servers strip it before the application sees it."""

    def signature_matches(self, signature: str, timestamp: str, body: bytes) -> bool:
        return super().signature_matches(signature.strip(), timestamp, body)


class reads_leading_digits(GalleryReceiver):
    """NOT a bug: verifies the signature over the timestamp text as sent, then judges freshness by its leading
    digits. A timestamp with junk after them was signed as sent, so only the secret's holder made it."""

    def authentic(self, headers: Mapping[str, str], body: bytes) -> bool:
        signature, timestamp = headers.get(SIGNATURE), headers.get(TIMESTAMP)
        if signature is None or timestamp is None or not self.signature_matches(signature, timestamp, body):
            return False
        digits = re.match(r"[0-9]+", timestamp)
        return digits is not None and abs(time.time() - int(digits.group())) <= TOLERANCE


# -- one bug each ---------------------------------------------------------------------------------------------


class no_dedup(GalleryReceiver):
    """Applies every delivered event, even one seen before (Pub/Sub redelivers the same event ids)."""

    expected = frozenset({"duplicate_applied"})

    def first_delivery(self, item: Item) -> bool:
        return True


class dedup_per_request(GalleryReceiver):
    """Deduplicates requests by body hash: a redelivery is re-signed with fresh data, so it gets through."""

    expected = frozenset({"duplicate_applied"})

    def __init__(self, secret: str) -> None:
        super().__init__(secret)
        self.bodies: set[bytes] = set()

    def apply(self, items: list[Item], body: bytes) -> None:
        digest = hashlib.sha256(body).digest()
        if digest in self.bodies:
            return
        self.bodies.add(digest)
        for item in items:
            self.apply_event(item)


class no_staleness_check(GalleryReceiver):
    """Applies any new event regardless of ``event_datetime``: a late, older event overwrites newer data."""

    expected = frozenset({"stale_applied"})
    allowed = frozenset({"stale_final_state", "resurrected"})

    def supersedes(self, item: Item, current: State) -> bool:
        return True


class removal_without_tombstone(GalleryReceiver):
    """Forgets a removed resource entirely, its time included, so a late older update brings it back."""

    expected = frozenset({"resurrected", "stale_applied"})
    allowed = frozenset({"stale_final_state"})  # when the removal ties with an upsert of the same second

    def store(self, item: Item) -> None:
        if item.removed:
            self.resources.pop(item.key, None)
        else:
            super().store(item)


class removal_noted_record_kept(GalleryReceiver):
    """Notes the removal as the resource's latest event but keeps the record (a soft delete that never
    happens): the observation says ``removed: false`` with the removal's id."""

    expected = frozenset({"resurrected"})

    def store(self, item: Item) -> None:
        self.resources[item.key] = State(item.event_id, item.epoch, False)


class staleness_on_first_delivery_only(GalleryReceiver):
    """Checks ``event_datetime`` order for new events only; an id it has seen is applied again as it comes
    (an upsert "to be safe"), so a redelivered older update after a newer event or the removal wins."""

    expected = frozenset({"duplicate_applied", "stale_applied"})
    allowed = frozenset({"stale_final_state", "resurrected"})

    def apply(self, items: list[Item], body: bytes) -> None:
        for item in items:
            if self.first_delivery(item):
                self.apply_event(item)
            else:
                self.store(item)
                self.applied.append(item.event_id)


class signature_over_reserialised_json(GalleryReceiver):
    """Verifies the HMAC over ``json.dumps(json.loads(body))``: PHP writes ``\\/`` and ``\\uXXXX``, so no
    genuine request ever matches (facts section 3)."""

    expected = frozenset({"rejected_valid"})

    def signature_matches(self, signature: str, timestamp: str, body: bytes) -> bool:
        try:
            canonical = json.dumps(json.loads(body), separators=(",", ":")).encode("utf-8")
        except ValueError:
            return False
        return super().signature_matches(signature, timestamp, canonical)


class no_signature_check(GalleryReceiver):
    """Trusts any request with a fresh timestamp, signed or not."""

    expected = frozenset({"forged_accepted"})

    def authentic(self, headers: Mapping[str, str], body: bytes) -> bool:
        timestamp = headers.get(TIMESTAMP)
        return timestamp is not None and self.fresh(timestamp)


class accepts_trailing_junk(GalleryReceiver):
    """Compares with ``startswith``: the valid signature followed by anything passes."""

    expected = frozenset({"forged_accepted"})

    def signature_matches(self, signature: str, timestamp: str, body: bytes) -> bool:
        return signature.startswith(hmac_hex(self.secret, timestamp, body))


class strips_sha256_prefix(GalleryReceiver):
    """Removes a GitHub-style ``sha256=`` prefix before comparing: a header the PIM never sends passes."""

    expected = frozenset({"forged_accepted"})

    def signature_matches(self, signature: str, timestamp: str, body: bytes) -> bool:
        return super().signature_matches(signature.removeprefix("sha256="), timestamp, body)


class accepts_truncated_signature(GalleryReceiver):
    """Compares only as many characters as were sent (``expected[:len(signature)]``): any prefix of the
    signature passes, so a short enough one can be guessed."""

    expected = frozenset({"forged_accepted"})

    def signature_matches(self, signature: str, timestamp: str, body: bytes) -> bool:
        expected = hmac_hex(self.secret, timestamp, body)
        return hmac.compare_digest(expected[:len(signature)].encode("ascii"), signature.encode("latin-1"))


class removes_whitespace(GalleryReceiver):
    """Deletes every whitespace character of the signature before comparing (``"".join(sig.split())``)."""

    expected = frozenset({"forged_accepted"})

    def signature_matches(self, signature: str, timestamp: str, body: bytes) -> bool:
        return super().signature_matches("".join(signature.split()), timestamp, body)


class accepts_any_listed(GalleryReceiver):
    """Splits the header on commas, as if it were a list, and accepts when any item matches."""

    expected = frozenset({"forged_accepted"})

    def signature_matches(self, signature: str, timestamp: str, body: bytes) -> bool:
        matches = super().signature_matches
        return any(matches(item.strip(), timestamp, body) for item in signature.split(","))


class accepts_empty_secret(GalleryReceiver):
    """Also accepts a signature made with an empty secret (e.g. a fallback for an unset environment variable)."""

    expected = frozenset({"forged_accepted"})

    def signature_matches(self, signature: str, timestamp: str, body: bytes) -> bool:
        return super().signature_matches(signature, timestamp, body) or signature == hmac_hex(b"", timestamp, body)


class crash_on_malformed_body(GalleryReceiver):
    """Trusts a validly signed body to be a well-formed batch: anything else raises (a 500)."""

    expected = frozenset({"server_error"})

    def parse(self, body: bytes) -> list[Item]:
        items = []
        for raw in json.loads(body)["events"]:
            action = Action(raw["action"])
            items.append(Item(raw["event_id"], resource_key(action, raw["data"]["resource"]),
                              parse_event_datetime(raw["event_datetime"]), action.is_removal, action.entity))
        return items


class slow_answers(GalleryReceiver):
    """Answers every 20th request after 0.6 s, past the PIM's 0.5 s timeout (facts section 1)."""

    expected = frozenset({"slow_ack"})
    every = 20

    def delay(self, number: int) -> float:
        return 0.6 if number % self.every == self.every // 2 else 0.0


class ack_without_apply(GalleryReceiver):
    """Answers 200 to product-model events but never applies them."""

    expected = frozenset({"event_lost"})

    def apply_event(self, item: Item) -> None:
        if item.entity != "product_model":
            super().apply_event(item)


class rejects_product_models(GalleryReceiver):
    """Answers 422 to batches of product-model events, as if only products were part of the schema."""

    expected = frozenset({"rejected_valid"})

    def refuse(self, items: list[Item], headers: Mapping[str, str], body: bytes) -> int | None:
        return 422 if any(item.entity == "product_model" for item in items) else None


class accepts_stale_timestamps(GalleryReceiver):
    """No freshness check: a captured request can be replayed for ever (a warning, an error under strict)."""

    expected = frozenset({"replay_accepted"})

    def fresh(self, timestamp: str) -> bool:
        return timestamp.isascii() and timestamp.isdigit()


class crash_on_test_request(GalleryReceiver):
    """Reads the events of every authentic request, the empty body of the "Test" request too: it raises (a
    500), so the PIM's UI shows the Test as failed (facts section 4)."""

    expected = frozenset({"server_error"})

    def test_request(self) -> tuple[int, Any]:
        return 200, {"events": len(json.loads(b"")["events"])}


class refuses_test_request(GalleryReceiver):
    """Answers 400 to the "Test" request because its body holds no events; the PIM's UI shows any non-2xx as
    a failed Test (facts section 4)."""

    expected = frozenset({"rejected_valid"})

    def test_request(self) -> tuple[int, Any]:
        return 400, {"error": "no events"}


def read_hastily(raw: Any) -> Item:
    """One event read the way hurried code does, without a check: anything missing or malformed raises."""
    action = Action(raw["action"])
    resource = raw["data"]["resource"]
    identity = resource["code"] if action.entity == "product_model" else resource.get("uuid") or resource["identifier"]
    return Item(raw["event_id"], f"{action.entity}:{identity}", parse_event_datetime(raw["event_datetime"]),
                action.is_removal, action.entity)


class crash_mid_batch(GalleryReceiver):
    """Applies a batch event by event, without validating it first: a malformed event raises after the
    events before it were applied (a 500), like a controller dispatching each event as it reads it."""

    expected = frozenset({"server_error"})

    def process(self, headers: Mapping[str, str], body: bytes) -> tuple[int, Any]:
        with self.lock:
            for raw in json.loads(body)["events"]:
                item = read_hastily(raw)
                if self.first_delivery(item):
                    self.apply_event(item)
        return 200, {"ok": True}


class stops_at_malformed_event(GalleryReceiver):
    """Applies a batch event by event and, at the first malformed event, stops and answers 200: the valid
    events after it are acknowledged but never applied."""

    expected = frozenset({"event_lost"})

    def process(self, headers: Mapping[str, str], body: bytes) -> tuple[int, Any]:
        try:
            events = json.loads(body)["events"]
            if not isinstance(events, list):
                raise TypeError("events")
        except (ValueError, KeyError, TypeError):
            return 400, {"error": "not an Events API batch"}
        with self.lock:
            for raw in events:
                try:
                    item = read_hastily(raw)
                except (KeyError, TypeError, ValueError):
                    break
                if self.first_delivery(item):
                    self.apply_event(item)
        return 200, {"ok": True}


#: The keys of an event (facts section 4); a strict schema knows no other.
EVENT_KEYS = frozenset({"action", "event_id", "event_datetime", "author", "author_type", "pim_source", "data"})


class drops_unknown_fields(GalleryReceiver):
    """A strict schema: an event with a key it does not know is skipped, yet the request is answered 200;
    the PIM adds fields over time (facts section 0), and those events are lost."""

    expected = frozenset({"event_lost"})

    def parse(self, body: bytes) -> list[Item]:
        items = super().parse(body)
        raw = json.loads(body)["events"]
        return [item for item, event in zip(items, raw, strict=True) if set(event) <= EVENT_KEYS]


class rejects_unknown_fields(GalleryReceiver):
    """A strict schema: a batch holding an event with a key it does not know is refused with 422."""

    expected = frozenset({"rejected_valid"})

    def refuse(self, items: list[Item], headers: Mapping[str, str], body: bytes) -> int | None:
        return 422 if any(set(event) - EVENT_KEYS for event in json.loads(body)["events"]) else None


#: The family the scoped receivers below handle: judged with ``--scope family=shoes``.
SCOPED_FAMILY = "shoes"


class forwards_one_family(GalleryReceiver):
    """NOT a bug under ``--scope family=shoes``: a bridge that forwards only the products and models of one
    family downstream and acknowledges the others untouched (a 2xx, nothing applied). A removal carries no
    family on the wire, so it tombstones every removal it gets (a late update must not bring a removed
    product back); a tombstone holds no data, so it is no out-of-scope application."""

    family: ClassVar[str] = SCOPED_FAMILY

    def apply_event(self, item: Item) -> None:
        if item.removed or item.family == self.family:
            super().apply_event(item)


class forwards_one_family_forgets_removals(removal_without_tombstone, forwards_one_family):
    """The scoped bridge, forgetting removed products: a scope hides what is outside it, never this."""


class forwards_one_family_leaks(forwards_one_family):
    """Means to forward one family, but its filter is looser than it says (it also lets ``electronics``
    through): it applies events outside the scope it declares."""

    def apply_event(self, item: Item) -> None:
        if item.removed or item.family in (SCOPED_FAMILY, "electronics"):
            GalleryReceiver.apply_event(self, item)


BUGGY: dict[str, type[GalleryReceiver]] = {cls.__name__: cls for cls in (
    no_dedup, dedup_per_request, no_staleness_check, removal_without_tombstone, signature_over_reserialised_json,
    no_signature_check, accepts_trailing_junk, accepts_empty_secret, crash_on_malformed_body, slow_answers,
    ack_without_apply, rejects_product_models, accepts_stale_timestamps, removal_noted_record_kept,
    staleness_on_first_delivery_only, strips_sha256_prefix, accepts_truncated_signature, removes_whitespace,
    accepts_any_listed, crash_on_test_request, refuses_test_request, crash_mid_batch, stops_at_malformed_event,
    drops_unknown_fields, rejects_unknown_fields,
)}
CORRECT: dict[str, type[GalleryReceiver]] = {cls.__name__: cls for cls in (
    GalleryReceiver, strictly_newer, refuses_reused_signatures, compares_decoded_bytes, strips_the_signature,
    reads_leading_digits,
)}


def main(argv: list[str]) -> int:
    """Serve one gallery receiver with uvicorn on a free loopback port; print ``PORT <n>``, stop on SIGTERM."""
    import uvicorn

    if len(argv) != 1 or argv[0] not in {**BUGGY, **CORRECT}:
        print(f"usage: python -m tests.support.gallery {{{','.join({**BUGGY, **CORRECT})}}}", file=sys.stderr)
        return 2
    secret = os.environ.get("AKENEO_EVENTS_SECRET", "")
    if not secret:
        print("set AKENEO_EVENTS_SECRET", file=sys.stderr)
        return 2
    receiver = {**BUGGY, **CORRECT}[argv[0]](secret)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # so asyncio sets TCP_NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    server = uvicorn.Server(uvicorn.Config(receiver.asgi(), lifespan="on", log_level="warning", access_log=False))
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
