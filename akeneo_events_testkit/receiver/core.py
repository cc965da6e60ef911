"""The reference receiver, framework-free: authenticate, validate, deduplicate and apply Events API batches.

The PIM sends each batch once, with no retry, and Pub/Sub may reorder, duplicate or lose messages
(events-api-facts.md sections 1 and 6). A correct receiver therefore:

1. proves origin with the signature over the **raw** body bytes, before parsing anything (section 2), and
   refuses timestamps too far from its own clock, in both directions (replays, skewed senders);
2. acknowledges the reachability "Test" request, an empty body signed over ``"<ts>."`` (section 4);
3. validates the whole batch before applying any of it (all or nothing per request);
4. applies each event at most once (dedup by ``event_id``), per resource in ``event_datetime`` order
   (an older event arriving late is acknowledged but ignored), and keeps removals as tombstones;
5. answers fast: the PIM gives up after 0.5 s in total (section 1).

Status codes: 200 applied, duplicate or stale (the PIM must not log an error for a correct delivery);
400 validly signed but malformed; 401 any authenticity failure, including a malformed or stale timestamp;
404 unknown path; 405 wrong method (with ``Allow``); 408 body not all received within ``body_timeout`` (over
HTTP, a stalled client); 413 body over ``max_body``; 503 the store failed.
A 500 only means a bug of this module; it is logged and kept in :attr:`ReferenceReceiver.internal_errors`.

**Event Platform deliveries** (event-platform-facts.md) are accepted on the same paths, told apart by their
``X-AKENEO-SIGNATURE-*`` headers (:mod:`.ep`). What differs from the Events API:

========================  =======================================  =========================================
                          Events API                               Event Platform
========================  =======================================  =========================================
body                      ``{"events": [...]}``, 1 to 10 events    one CloudEvent object (section 1)
signature                 HMAC of ``"<ts>." + body``, one secret   HMAC of the body alone, primary and
                                                                   secondary headers, any secret held
                                                                   (section 2)
timestamp                 checked against ``tolerance``            none sent, none checked (section 2)
"Test" request            empty body, answered 200                 none: an empty body is a 400
dedup / order key         ``event_id`` / ``event_datetime``        ``id`` / ``time`` (section 6)
removals                  ``*.removed``                            ``*.deleted``; ``*.updated.delta`` is an
                                                                   update whose data are the changes
self-triggered events     suppressed by the PIM                    delivered: dropped here (200, not applied)
                                                                   when ``own_client_id`` authored them
                                                                   through the API (section 6)
timeout                   0.5 s in total, no retry                 5 s, retried (section 3)
success                   any 2xx                                  200 (section 3): this receiver sends 200
========================  =======================================  =========================================

Structure and job events are applied like products (keys such as ``category:<code>``,
``job:<execution_id>``); other Event Platform types (completeness, app, connection, workflow) are
deduplicated and acknowledged but change no resource.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from ..clock import Clock, SystemClock
from ..errors import UsageError
from ..event_platform.delta import apply_delta
from ..event_platform.signing import ALGORITHM_HEADER, PRIMARY_HEADER, SECONDARY_HEADER
from ..events_api.signing import DEFAULT_TOLERANCE, TimestampVerdict, check_timestamp, verify_signature
from ..events_api.wire import MAX_BATCH_SIZE
from ..versions import SIGNATURE_HEADER, TIMESTAMP_HEADER, Action, parse_event_datetime, resource_key
from .ep import EpEvent, EpMalformed, ep_unauthorized, is_ep_request, read_ep_event
from .stores import MemoryStore, ResourceState, Store, StoreError

if TYPE_CHECKING:
    from .asgi import ASGIApp
    from .wsgi import WSGIApp

__all__ = ["DEFAULT_MAX_BODY", "Headers", "ReferenceReceiver", "Response"]

logger = logging.getLogger("akeneo_events_testkit.receiver")

#: Bodies above this are refused with 413. Ten full products stay far below it.
DEFAULT_MAX_BODY = 10 * 1024 * 1024
#: The PIM sends a whole request within its 0.5 s timeout (facts section 1); a client still sending after
#: this long is stalled (or a slowloris): 408, connection closed, nothing applied.
DEFAULT_BODY_TIMEOUT = 30.0
#: Nesting of JSON containers accepted; a real payload (envelope, event, resource, values, table cells)
#: stays under 12.
MAX_DEPTH = 64
#: Strings used as identities (event ids, identifiers, codes, uuids) longer than this are refused.
MAX_ID_LENGTH = 1024
_MAX_INT_DIGITS = 19  # PHP integers are 64-bit: json_encode never writes a longer one
_MAX_FLOAT_CHARS = 64
_ACTIONS = frozenset(action.value for action in Action)
_SURROGATE = re.compile("[\ud800-\udfff]")

#: Request headers: a mapping (looked up case-insensitively) or (name, value) pairs.
Headers = Mapping[str, str] | Iterable[tuple[str, str]]


@dataclass(frozen=True)
class Response:
    """An HTTP answer, independent of any framework; adapters add ``Content-Length``."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    @property
    def reason(self) -> str:
        return HTTPStatus(self.status).phrase

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)

    def json(self) -> Any:
        return json.loads(self.body)


def _json_response(status: int, document: Any, *extra: tuple[str, str]) -> Response:
    body = json.dumps(document, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    return Response(status, (("Content-Type", "application/json"), ("Cache-Control", "no-store"), *extra), body)


def _header(headers: Headers, name: str) -> str | None:
    """The value of header ``name`` if sent exactly once; a repeated header is as good as a missing one."""
    lowered = name.lower()
    items = headers.items() if isinstance(headers, Mapping) else headers
    found = [value for key, value in items if isinstance(key, str) and key.lower() == lowered]
    return found[0] if len(found) == 1 else None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Malformed(Exception):
    """A validly signed body that is not an Events API batch: answered 400, nothing applied."""


@dataclass(frozen=True)
class _Item:
    """One validated event, reduced to what application needs."""

    event_id: str
    key: str
    epoch: float
    removed: bool
    resource: Mapping[str, Any]


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        names: set[str] = set()
        for name, _ in pairs:
            if name in names:
                raise _Malformed(f"duplicate key {_short(name)} in a JSON object")
            names.add(name)
    return document


def _int(text: str) -> int:
    value = int(text) if len(text.lstrip("-")) <= _MAX_INT_DIGITS else None
    if value is None or not -(2**63) <= value < 2**63:
        raise _Malformed(f"integer {_short(text)} is out of the 64-bit range")
    return value


def _float(text: str) -> float:
    value = float(text) if len(text) <= _MAX_FLOAT_CHARS else math.inf
    if not math.isfinite(value):
        raise _Malformed(f"number {_short(text)} is too large or too long")
    return value


def _constant(text: str) -> Any:
    raise _Malformed(f"{text} is not JSON")


def _decode(body: bytes) -> Any:
    """Parse strictly: UTF-8, no duplicate keys, bounded numbers and depth, no unpaired surrogates."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Malformed(f"body is not UTF-8 (invalid byte at offset {exc.start})") from None
    try:
        document = json.loads(
            text, object_pairs_hook=_object, parse_int=_int, parse_float=_float, parse_constant=_constant
        )
    except RecursionError:
        raise _Malformed(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise _Malformed(f"body is not JSON: {exc}") from None
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise _Malformed(f"JSON nested deeper than {MAX_DEPTH} levels")
            children = value.items() if isinstance(value, dict) else enumerate(value)
            for name, child in children:
                if isinstance(name, str) and not name.isascii() and _SURROGATE.search(name):
                    raise _Malformed("a key holds an unpaired UTF-16 surrogate")
                stack.append((child, depth + 1))
        elif isinstance(value, str) and not value.isascii() and _SURROGATE.search(value):
            raise _Malformed("a string holds an unpaired UTF-16 surrogate")
    return document


def _identity(where: str, value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH:
        raise _Malformed(f"{where} must be a non-empty string of at most {MAX_ID_LENGTH} characters")
    return value


def _validate_event(index: int, raw: Any) -> _Item:
    where = f"events[{index}]"
    if not isinstance(raw, dict):
        raise _Malformed(f"{where} is not a JSON object")
    event_id = _identity(f"{where}.event_id", raw.get("event_id"))
    action_text = raw.get("action")
    if not isinstance(action_text, str) or action_text not in _ACTIONS:
        raise _Malformed(f"{where}.action {_short(action_text)} is not one of {', '.join(sorted(_ACTIONS))}")
    action = Action(action_text)
    when = raw.get("event_datetime")
    try:
        if not isinstance(when, str) or len(when) > 64:
            raise ValueError
        epoch = parse_event_datetime(when)
    except (ValueError, OverflowError, OSError):
        example = "2020-12-04T16:02:47+01:00"
        raise _Malformed(f"{where}.event_datetime {_short(when)} is not a date like {example}") from None
    data = raw.get("data")
    resource = data.get("resource") if isinstance(data, dict) else None
    if not isinstance(resource, dict):
        raise _Malformed(f"{where}.data.resource is not a JSON object")
    if action.entity == "product_model":
        _identity(f"{where}.data.resource.code", resource.get("code"))
    elif resource.get("uuid"):
        _identity(f"{where}.data.resource.uuid", resource.get("uuid"))
    else:
        _identity(f"{where}.data.resource.identifier (or uuid)", resource.get("identifier"))
    return _Item(event_id, resource_key(action, resource), epoch, action.is_removal, resource)


def _validate(document: Any) -> list[_Item]:
    """The batch's events, or :class:`_Malformed` for the first problem found (facts section 4)."""
    if not isinstance(document, dict):
        raise _Malformed('body must be a JSON object {"events": [...]}')
    events = document.get("events")
    if not isinstance(events, list):
        raise _Malformed('body lacks an "events" list')
    if not 1 <= len(events) <= MAX_BATCH_SIZE:
        raise _Malformed(f'"events" holds {len(events)} events; the PIM sends 1 to {MAX_BATCH_SIZE}')
    return [_validate_event(index, raw) for index, raw in enumerate(events)]


class ReferenceReceiver:
    """A correct Events API receiver; call :meth:`handle` or serve :meth:`asgi` / :meth:`wsgi`.

    ``tie_break`` settles events of one resource with the same ``event_datetime`` (second precision makes
    their order unknowable, facts section 4): ``"later"`` applies the one delivered later, ``"earlier"``
    keeps the first. Both are correct; the test suite runs both so that the oracle accepts either.

    Event Platform deliveries are verified against ``ep_secrets``, every secret the receiver accepts (both the
    old and the new one during a rotation; default: ``secret`` alone), and events that ``own_client_id``
    triggered through the API are acknowledged but not applied (event-platform-facts.md sections 2 and 6).
    """

    def __init__(
        self,
        secret: str | bytes,
        *,
        store: Store | None = None,
        clock: Clock | None = None,
        tolerance: float = DEFAULT_TOLERANCE,
        max_body: int = DEFAULT_MAX_BODY,
        tie_break: str = "later",
        paths: Iterable[str] = ("/", "/webhook"),
        state_path: str | None = "/state",
        ep_secrets: Sequence[str | bytes] | None = None,
        own_client_id: str | None = None,
        body_timeout: float = DEFAULT_BODY_TIMEOUT,
    ) -> None:
        if not secret:
            raise UsageError("the secret is empty: copy it from the connection's Event subscription in the PIM")
        if tie_break not in ("later", "earlier"):
            raise UsageError(f"tie_break={tie_break!r}: use 'later' or 'earlier'")
        if tolerance < 0 or max_body < 1 or body_timeout <= 0:
            raise UsageError("tolerance must be >= 0 seconds, max_body >= 1 byte and body_timeout > 0 seconds")
        self.paths = frozenset(paths)
        if not self.paths or any(not path.startswith("/") for path in self.paths) or state_path in self.paths:
            raise UsageError("paths must be absolute (start with '/') and differ from state_path")
        if state_path is not None and not state_path.startswith("/"):
            raise UsageError(f"state_path={state_path!r} must start with '/' (or be None to disable it)")
        self.__secret = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
        if ep_secrets is not None and (isinstance(ep_secrets, (str, bytes)) or not all(ep_secrets)):
            raise UsageError("ep_secrets must be a list of non-empty secrets, e.g. [old, new] during a rotation")
        self.__ep_secrets: tuple[str | bytes, ...] = tuple(ep_secrets) if ep_secrets is not None else (secret,)
        if not self.__ep_secrets:
            raise UsageError("ep_secrets is empty: pass at least the subscription's primary secret")
        self.own_client_id = own_client_id
        self.store: Store = store if store is not None else MemoryStore()
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.tolerance = tolerance
        self.max_body = max_body
        #: Seconds a client may take to send its whole body over HTTP before a 408 (the ASGI adapter).
        self.body_timeout = body_timeout
        self.tie_break = tie_break
        self.state_path = state_path
        #: Exceptions answered with a 500 (the first 100): bugs of this module. Tests assert it stays empty.
        self.internal_errors: list[BaseException] = []
        self._stats_lock = threading.Lock()
        self._statuses: Counter[int] = Counter()
        self._events: Counter[str] = Counter()

    def __repr__(self) -> str:
        return (
            f"ReferenceReceiver(secret=[redacted], store={self.store!r}, tolerance={self.tolerance!r}, "
            f"tie_break={self.tie_break!r})"
        )

    # -- HTTP ---------------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: Headers, body: bytes) -> Response:
        """Answer one request. Never raises; a store failure is a 503, a bug a logged 500."""
        try:
            route = self._route(method, path)
            if isinstance(route, Response):
                response = route
            elif route == "state":
                response = _json_response(200, self.observation())
            else:
                response = self._receive(headers, bytes(body))
        except StoreError as exc:
            logger.error("receiver store failed: %s", exc)
            response = _json_response(503, {"error": "the store is unavailable"})
        except Exception as exc:
            response = self._internal_error(exc)
        self._count(response.status)
        return response

    def precheck(self, method: str, path: str, content_length: int | None) -> Response | None:
        """The answer known before reading the body (404, 405, 413), or None to read it and :meth:`handle`.

        Adapters call it so that a huge body is refused from its ``Content-Length`` alone. At >= 1 MiB Guzzle
        sends ``Expect: 100-continue`` (facts section 1): refusing first means no ``100`` is ever sent.
        """
        route = self._route(method, path)
        if isinstance(route, Response):
            response = route
        elif route == "webhook" and content_length is not None and content_length > self.max_body:
            response = self.reject(413, f"body over {self.max_body} bytes", count=False)
        else:
            return None
        self._count(response.status)
        return response

    def reject(self, status: int, message: str, *headers: tuple[str, str], count: bool = True) -> Response:
        """A JSON error answer (adapters use it for malformed framing: bad ``Content-Length``...)."""
        logger.info("receiver answered %d: %s", status, message)
        response = _json_response(status, {"error": message}, *headers)
        if count:
            self._count(status)
        return response

    def _route(self, method: str, path: str) -> Response | str:
        """``"webhook"`` or ``"state"``, else the 404 or 405 answer."""
        path = path.split("?", 1)[0]
        if path in self.paths:
            route, allowed = "webhook", "POST"
        elif path == self.state_path:
            route, allowed = "state", "GET"
        else:
            return _json_response(404, {"error": f"no such path; POST events to {min(self.paths)}"})
        if method != allowed:
            return _json_response(405, {"error": f"use {allowed} on {path}"}, ("Allow", allowed))
        return route

    def _receive(self, headers: Headers, body: bytes) -> Response:
        if len(body) > self.max_body:
            return self.reject(413, f"body over {self.max_body} bytes", count=False)
        if is_ep_request(headers):
            return self._receive_ep(headers, body)
        unauthorized = self._authenticate(headers, body)
        if unauthorized is not None:
            challenge = ("WWW-Authenticate", 'Akeneo-Signature realm="events-api"')  # required on a 401
            return self.reject(401, unauthorized, challenge, count=False)
        if not body:  # the "Test" button (facts section 4): nothing to apply
            with self._stats_lock:
                self._events["test_requests"] += 1
            return _json_response(200, {"test": True})
        try:
            items = _validate(_decode(body))
        except _Malformed as exc:
            return self.reject(400, str(exc), count=False)
        return _json_response(200, self._apply(items))

    def _authenticate(self, headers: Headers, body: bytes) -> str | None:
        """Why the request is not from the PIM, or None. The signature is checked before any parsing."""
        signature = _header(headers, SIGNATURE_HEADER)
        timestamp = _header(headers, TIMESTAMP_HEADER)
        if signature is None or timestamp is None:
            return f"send exactly one {SIGNATURE_HEADER} and one {TIMESTAMP_HEADER} header"
        check = check_timestamp(timestamp, clock=self.clock, tolerance=self.tolerance)
        if check.verdict in (TimestampVerdict.MISSING, TimestampVerdict.MALFORMED):
            return f"{TIMESTAMP_HEADER} must be Unix seconds in decimal digits"
        if not verify_signature(self.__secret, timestamp, body, signature):
            return "the signature does not match the body and timestamp"
        if not check:
            side = "old" if check.verdict is TimestampVerdict.TOO_OLD else "far in the future"
            return f"the timestamp is too {side}: more than {self.tolerance:g} s from the receiver's clock"
        return None

    def _receive_ep(self, headers: Headers, body: bytes) -> Response:
        """One Event Platform CloudEvent: signature over the raw body first, then parse, then apply."""
        found = {name: _header(headers, name) for name in (PRIMARY_HEADER, SECONDARY_HEADER, ALGORITHM_HEADER)}
        unauthorized = ep_unauthorized(found, body, self.__ep_secrets)
        if unauthorized is not None:
            challenge = ("WWW-Authenticate", 'Akeneo-Signature realm="event-platform"')
            return self.reject(401, unauthorized, challenge, count=False)
        if not body:
            return self.reject(400, "body is empty: the Event Platform sends one CloudEvent", count=False)
        try:
            event = read_ep_event(_decode(body))
        except (_Malformed, EpMalformed) as exc:
            return self.reject(400, str(exc), count=False)
        return _json_response(200, self._apply_ep(event))

    def _self_triggered(self, event: EpEvent) -> bool:
        """Authored by this receiver's own API client (event-platform-facts.md section 6)."""
        return (self.own_client_id is not None and event.author_type == "api"
                and event.author_identifier == self.own_client_id)

    def _apply_ep(self, event: EpEvent) -> dict[str, int]:
        """Apply one CloudEvent with the rules of :meth:`_apply`: dedup on ``id``, order by ``time``, tombstones.

        A self-triggered event or one that changes no resource is marked seen and acknowledged, not applied.
        """
        counts = {"applied": 0, "duplicates": 0, "stale": 0, "self_triggered": 0, "ignored": 0}
        with self.store.transaction():
            if not self.store.mark_seen(event.event_id):
                counts["duplicates"] += 1
            elif self._self_triggered(event):
                counts["self_triggered"] += 1
            elif event.key is None:
                counts["ignored"] += 1
            elif not self._supersedes(event.epoch, self.store.current(event.key)):
                counts["stale"] += 1
            else:
                state = ResourceState(event.event_id, event.epoch, event.removed)
                self.store.put(event.key, state, None if event.removed else self._ep_data(event.key, event))
                self.store.append_applied(event.event_id)
                counts["applied"] += 1
        with self._stats_lock:
            self._events.update({name: counts[name] for name in ("applied", "duplicates", "stale")})
        return counts

    def _ep_data(self, key: str, event: EpEvent) -> dict[str, Any]:
        """What is stored for an Event Platform resource: its delta state, then the event's thin data.

        The delta state (``eventplatform.apply_delta``) patches the previous one with the event's ``changes``
        (a thin create or update changes nothing in it; a removal ends it). Only events that supersede the
        resource's state get here, so an outdated delta never overwrites a newer field. ``"delta"`` comes
        first: the stores recognise an Event Platform resource by that prefix of its JSON.
        """
        previous = self.store.data(key)
        base = previous.get("delta") if isinstance(previous, dict) else None
        changes = event.resource.get("changes")
        return {"delta": apply_delta(base, changes if isinstance(changes, dict) else {}),
                "resource": dict(event.resource)}

    # -- Application --------------------------------------------------------------------------------------

    def _supersedes(self, epoch: float, current: ResourceState | None) -> bool:
        if current is None or epoch > current.epoch:
            return True
        return epoch == current.epoch and self.tie_break == "later"

    def _apply(self, items: list[_Item]) -> dict[str, int]:
        """Apply a validated batch in one store transaction (facts section 6).

        * A seen ``event_id`` (earlier request, or earlier in this batch) is a duplicate: never re-applied.
          Pub/Sub redelivers the same ids, with fresh data, timestamp and signature.
        * An event strictly older than the current state of its resource is stale: Pub/Sub has no ordering
          key, so a late message must not overwrite newer data. It is still marked seen.
        * A removal leaves a tombstone with its time, kept forever, so a late older update cannot bring the
          resource back; a newer upsert re-creates it.
        """
        counts = {"applied": 0, "duplicates": 0, "stale": 0}
        with self.store.transaction():
            for item in items:
                if not self.store.mark_seen(item.event_id):
                    counts["duplicates"] += 1
                    continue
                if not self._supersedes(item.epoch, self.store.current(item.key)):
                    counts["stale"] += 1
                    continue
                state = ResourceState(item.event_id, item.epoch, item.removed)
                self.store.put(item.key, state, None if item.removed else item.resource)
                self.store.append_applied(item.event_id)
                counts["applied"] += 1
        with self._stats_lock:
            self._events.update(counts)
        return counts

    # -- Observation --------------------------------------------------------------------------------------

    def observation(self) -> dict[str, Any]:
        """``{"applied": [event_id...], "resources": {key: {"event_id": str, "removed": bool}}}``."""
        return self.store.observation()

    def resource(self, key: str) -> Any:
        """The current data of resource ``key`` (None if removed or unknown)."""
        return self.store.data(key)

    def reset(self) -> None:
        """Empty the store and the statistics (test fixtures call it between tests)."""
        self.store.reset()
        with self._stats_lock:
            self._statuses.clear()
            self._events.clear()
            self.internal_errors.clear()

    def stats(self) -> dict[str, Any]:
        """Requests answered by status, and events applied, duplicate and stale since the last reset."""
        with self._stats_lock:
            return {
                "requests": dict(sorted(self._statuses.items())),
                "test_requests": self._events["test_requests"],
                "events": {name: self._events[name] for name in ("applied", "duplicates", "stale")},
                "internal_errors": self._events["internal_errors"],
            }

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def _count(self, status: int) -> None:
        with self._stats_lock:
            self._statuses[status] += 1

    def _internal_error(self, exc: BaseException) -> Response:
        logger.error("reference receiver bug", exc_info=exc)
        with self._stats_lock:
            self._events["internal_errors"] += 1
            if len(self.internal_errors) < 100:
                self.internal_errors.append(exc)
        return _json_response(500, {"error": "internal error of the reference receiver"})

    # -- Adapters -----------------------------------------------------------------------------------------

    def asgi(self) -> ASGIApp:
        """This receiver as an ASGI application (see :func:`~.asgi.asgi_app`)."""
        from .asgi import asgi_app

        return asgi_app(self)

    def wsgi(self) -> WSGIApp:
        """This receiver as a WSGI application (see :func:`~.wsgi.wsgi_app`)."""
        from .wsgi import wsgi_app

        return wsgi_app(self)
