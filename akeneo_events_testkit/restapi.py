"""A mock of the PIM's REST API that serves the same timeline as the event stream.

Many receivers treat an event as a notification and re-fetch the resource from the REST API. Such a
receiver can only be tested against an API and an event stream that come from one catalog: this one reads
the mock PIM's catalog while it runs. With ``lag`` it answers as a read replica that is behind (the state
``lag`` seconds of timeline time ago), so that a receiver trusting a lagging read is caught.

Endpoints (PIM REST API v1 shapes, bodies encoded like PHP's ``json_encode``, errors as
``{"code": ..., "message": ...}``):

* ``POST /api/oauth/v1/token``: password grant with HTTP Basic client credentials, and refresh tokens;
* ``GET /api/rest/v1/products/{identifier}``, ``/products-uuid/{uuid}``, ``/product-models/{code}``;
* ``GET /api/rest/v1/products``, ``/products-uuid``, ``/product-models``: ``search`` on ``parent``,
  ``family``, ``enabled``, ``identifier``, ``uuid`` and ``updated`` (:mod:`.rest_search`), ``page``/``limit``
  pagination (the links repeat the search), ``with_count``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import secrets
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote

from .clock import Clock, SystemClock
from .encoding import php_json_encode_bytes
from .errors import UsageError
from .rest_search import InvalidSearch, parse_search

if TYPE_CHECKING:
    from .event_platform.emitter import EpEmitter
    from .events_api.pim import MockPim
    from .world.activity import Operation

__all__ = ["Credentials", "RestApi", "rest_latencies"]

TOKEN_TTL = 3600
MAX_LIMIT = 100
_PREFIX = "/api/rest/v1/"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Credentials:
    """What a connection gives its app: client id and secret, and the connection user's login."""

    client_id: str = "mock_client_id"
    secret: str = "mock_client_secret"
    username: str = "erp_connector_1234"
    password: str = "mock_password"


class _Error(Exception):
    def __init__(self, status: int, message: str, headers: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


@dataclass
class _History:
    """Per-resource states over the last ``window`` seconds of timeline time (memory bounded by resources)."""

    window: float
    states: dict[str, deque[tuple[int, dict[str, Any] | None, dict[str, Any] | None]]] = field(default_factory=dict)

    def add(self, key: str, epoch: int, legacy: dict[str, Any] | None, uuid: dict[str, Any] | None) -> None:
        entries = self.states.setdefault(key, deque())
        entries.append((epoch, legacy, uuid))
        while len(entries) > 1 and entries[1][0] <= epoch - self.window:
            entries.popleft()

    def at(self, key: str, epoch: float) -> tuple[bool, dict[str, Any] | None, dict[str, Any] | None]:
        """(known, legacy payload, uuid payload) as of ``epoch``; unknown when the history starts later."""
        entries = self.states.get(key)
        if not entries:
            return False, None, None
        chosen = None
        for entry in entries:
            if entry[0] <= epoch:
                chosen = entry
        if chosen is None:
            return True, None, None  # it did not exist yet
        return True, chosen[1], chosen[2]


class RestApi:
    """The mock REST API, reading a :class:`~akeneo_events_testkit.events_api.pim.MockPim`'s timeline.

    Create it (and serve it: :meth:`asgi` in-process, :meth:`server` on loopback) before the run, so that the
    receiver knows where to read; :meth:`attach` it to the PIM that will run (``run_campaign`` does).
    """

    def __init__(
        self,
        pim: MockPim | None = None,
        *,
        credentials: Credentials | None = None,
        lag: float = 0.0,
        clock: Clock | None = None,
        token_ttl: int = TOKEN_TTL,
    ) -> None:
        if lag < 0:
            raise UsageError(f"lag must be zero or more seconds, got {lag}")
        self.pim: Any = None
        self.credentials = credentials or Credentials()
        self.lag = float(lag)
        self.clock = clock or SystemClock()
        self.token_ttl = token_ttl
        self._tokens: dict[str, float] = {}
        self._refresh: dict[str, str] = {}
        self._history = _History(window=self.lag + 1)
        self._identifiers: dict[str, str] = {}
        self._lock = threading.RLock()
        #: requests waiting out their response time now (``--rest-latency``), and the most that ever waited
        #: together
        self.waiting = 0
        self.waiting_peak = 0
        #: the mean response time set by the last attach (seconds), and the draws of this run
        self.latency = 0.0
        self._latencies: Iterator[float] | None = None
        self.now = 0
        self.requests = 0
        if pim is not None:
            self.attach(pim)

    def attach(self, pim: MockPim, *, latency: float = 0.0) -> None:
        """Serve ``pim``'s catalog from now on (its next run); ``latency`` is the mean response time
        (:func:`rest_latencies`, drawn from the PIM's seed)."""
        with self._lock:
            self._set_latency(latency, pim.seed)
            if self.pim is not None and self in self.pim.listeners:
                self.pim.listeners.remove(self)
            self.pim = pim
            self._history = _History(window=self.lag + 1)
            self._identifiers.clear()
            pim.listeners.append(self)
            pim.track_content = True

    def attach_ep(self, emitter: EpEmitter, *, latency: float = 0.0) -> None:
        """Serve an Event Platform run (``emitter``'s next run): the state of its timeline at its virtual
        clock's time, minus ``lag`` (a retry 20 minutes later re-fetches the state of then); ``latency`` as
        in :meth:`attach`."""
        from .event_platform.timeline import EpTimeline

        with self._lock:
            self._set_latency(latency, emitter.seed)
            if self.pim is not None and self in getattr(self.pim, "listeners", ()):
                self.pim.listeners.remove(self)
            if emitter.timeline is None:
                emitter.timeline = EpTimeline(emitter.pim_url)  # turns content tracking on
            self.pim = _EpSource(emitter, self)
            self._identifiers.clear()

    def _set_latency(self, latency: float, seed: int) -> None:
        if latency < 0:
            raise UsageError(f"latency must be zero or more seconds, got {latency}")
        self.latency = float(latency)
        self._latencies = rest_latencies(latency, seed) if latency > 0 else None

    def next_latency(self) -> float:
        """How long the next request waits before it is answered (0 without a latency), in request order."""
        with self._lock:
            return next(self._latencies) if self._latencies is not None else 0.0

    # -- the timeline ----------------------------------------------------------------------------------

    def catalog_ready(self, catalog: Any, start: int) -> None:
        with self._lock:
            self.now = start
            for key in list(catalog.keys()):
                self._record(catalog, key, start - 1)

    def operation_applied(self, operation: Operation) -> None:
        with self._lock:
            self.now = max(self.now, operation.epoch, *(c.epoch for c in operation.changes))
            for key in dict.fromkeys(c.key for c in operation.changes):
                self._record(self.pim.catalog, key, self.now)

    def _record(self, catalog: Any, key: str, epoch: int) -> None:
        legacy, uuid = catalog.api_payloads(key)
        if legacy is not None and "identifier" in legacy and key.startswith("product:"):
            self._identifiers[str(legacy["identifier"])] = key
        if self.lag > 0:
            self._history.add(key, epoch, legacy, uuid)

    def resource(self, key: str, *, uuid_mode: bool = False) -> dict[str, Any] | None:
        """The resource as this API serves it now (``lag`` applied), or None if it does not exist."""
        with self._lock:
            if self.lag > 0 and not isinstance(self.pim, _EpSource):
                known, legacy, uuid = self._history.at(key, self.now - self.lag)
                if known:
                    return uuid if uuid_mode else legacy
            if self.pim is None or self.pim.catalog is None:
                return None
            has_uuid = self.pim.profile.has_uuid
            current = self.pim.catalog.current(key, uuid_mode=(uuid_mode if has_uuid else None))
            return current[1] if current else None

    # -- HTTP ------------------------------------------------------------------------------------------

    def asgi(self) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
        from .receiver.asgi import lifespan

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "lifespan":
                await lifespan(receive, send)
                return
            body = b""
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                body += message.get("body", b"")
                if len(body) > 1_000_000:
                    break
                if not message.get("more_body"):
                    break
            delay = self.next_latency()
            if delay:
                with self._lock:
                    self.waiting += 1
                    self.waiting_peak = max(self.waiting_peak, self.waiting)
                try:
                    await asyncio.sleep(delay)  # the REST server's response time; other requests go on meanwhile
                finally:
                    with self._lock:
                        self.waiting -= 1
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            query = scope.get("query_string", b"").decode("latin-1")
            status, extra, payload = self.handle(scope["method"], scope["path"], query, headers, body)
            encoded = php_json_encode_bytes(payload)
            await send({"type": "http.response.start", "status": status, "headers": [
                (b"content-type", b"application/json"), (b"content-length", str(len(encoded)).encode()),
                *((k.encode(), v.encode()) for k, v in extra)]})
            await send({"type": "http.response.body", "body": encoded})

        return app

    def describe(self, base_url: str) -> str:
        """One line for a person: where the API is and how to log in (test credentials, not the webhook
        secret)."""
        c = self.credentials
        return (f"Mock REST API at {base_url} (client id {c.client_id}, secret {c.secret}, "
                f"username {c.username}, password {c.password}{f', read lag {self.lag:g} s' if self.lag else ''})")

    def server(self, host: str = "127.0.0.1", port: int = 0) -> Any:
        """An :class:`~akeneo_events_testkit.receiver.AppServer` serving this API (start it, or use ``with``)."""
        from .receiver import AppServer

        return AppServer(self.asgi(), host, port)

    def handle(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, tuple[tuple[str, str], ...], Any]:
        """Answer one request: (status, extra headers, JSON payload). Never raises."""
        self.requests += 1
        try:
            if path == "/api/oauth/v1/token":
                if method != "POST":
                    raise _Error(405, f'No route found for "{method} {path}": Method Not Allowed (Allow: POST)',
                                 (("allow", "POST"),))
                return 200, (), self._token(headers, body)
            if not path.startswith(_PREFIX):
                raise _Error(404, f'No route found for "{method} {path}"')
            if method != "GET":
                raise _Error(405, f'No route found for "{method} {path}": Method Not Allowed (Allow: GET)',
                             (("allow", "GET"),))
            self._authenticate(headers)
            return 200, (), self._get(path[len(_PREFIX):], parse_qs(query, keep_blank_values=True))
        except _Error as error:
            return error.status, error.headers, {"code": error.status, "message": error.message}

    def _token(self, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        client = self._basic(headers.get("authorization", ""))
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            raise _Error(400, "Invalid json message received") from None
        if not isinstance(data, dict):
            raise _Error(400, "Invalid json message received")
        creds = self.credentials
        if client != (creds.client_id, creds.secret):
            raise _Error(422, 'Parameter "client_id" is missing or does not match any client, or secret is invalid')
        grant = data.get("grant_type")
        if grant == "password":
            if data.get("username") != creds.username or data.get("password") != creds.password:
                raise _Error(422, "No user found for the given username and password")
        elif grant == "refresh_token":
            if self._refresh.pop(str(data.get("refresh_token")), None) is None:
                raise _Error(422, "Refresh token is invalid or has expired")
        else:
            raise _Error(422, 'Parameter "grant_type" is missing or invalid: use "password" or "refresh_token"')
        access, refresh = secrets.token_hex(24), secrets.token_hex(24)
        with self._lock:
            self._tokens[access] = self.clock.now() + self.token_ttl
            self._refresh[refresh] = access
        return {"access_token": access, "expires_in": self.token_ttl, "token_type": "bearer", "scope": None,
                "refresh_token": refresh}

    @staticmethod
    def _basic(value: str) -> tuple[str, str] | None:
        scheme, _, encoded = value.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            client_id, _, secret = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
        except (ValueError, UnicodeError):
            return None
        return client_id, secret

    def _authenticate(self, headers: Mapping[str, str]) -> None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise _Error(401, "Authentication is required")
        expiry = self._tokens.get(token)
        if expiry is None:
            raise _Error(401, "The access token provided is invalid.")
        if self.clock.now() >= expiry:
            raise _Error(401, "The access token provided has expired.")

    def _get(self, route: str, query: Mapping[str, list[str]]) -> dict[str, Any]:
        parts = route.split("/")
        collections = {"products": "product", "products-uuid": "product", "product-models": "product_model"}
        if self.pim is None:
            raise _Error(503, "The PIM is not running yet")
        if isinstance(self.pim, _EpSource) and parts[0] not in collections:
            return self._structure(route, parts)
        if parts[0] not in collections or len(parts) > 2 or (parts[0] == "products-uuid"
                                                             and not self.pim.profile.has_uuid):
            raise _Error(404, f'No route found for "GET {_PREFIX}{route}"')
        uuid_mode = parts[0] == "products-uuid"
        if len(parts) == 2 and parts[1]:
            return self._one(parts[0], parts[1], uuid_mode)
        return self._list(parts[0], collections[parts[0]], uuid_mode, query)

    def _structure(self, route: str, parts: list[str]) -> dict[str, Any]:
        """A structure resource or job execution of an Event Platform run, as the timeline holds it at the
        virtual time of the request: 404 before its creation and after its deletion (issue 18 item 3)."""
        found = _structure_route(parts)
        if found is None:
            raise _Error(404, f'No route found for "GET {_PREFIX}{route}"')
        key, label = found
        resource = self.resource(key)
        if resource is None:
            raise _Error(404, f"{label} does not exist or you do not have permission to access it.")
        return resource

    def _key_for(self, collection: str, ident: str) -> str:
        if collection == "product-models":
            return f"product_model:{ident}"
        if collection == "products-uuid" or not self.pim.profile.has_uuid:
            return f"product:{ident}"
        identifiers = self.pim.identifiers if isinstance(self.pim, _EpSource) else self._identifiers
        return identifiers.get(ident, f"product:identifier:{ident}")

    def _parent_of(self, code: str) -> str | None:
        model = self.resource(f"product_model:{code}")
        parent = model.get("parent") if model is not None else None
        return str(parent) if parent is not None else None

    def _one(self, collection: str, ident: str, uuid_mode: bool) -> dict[str, Any]:
        resource = self.resource(self._key_for(collection, ident), uuid_mode=uuid_mode)
        if resource is None:
            kind = "Product model" if collection == "product-models" else "Product"
            raise _Error(404, f'{kind} "{ident}" does not exist or you do not have permission to access it.')
        return resource

    def _list(self, collection: str, entity: str, uuid_mode: bool, query: Mapping[str, list[str]]) -> dict[str, Any]:
        limit = _positive_int(query, "limit", 10)
        page = _positive_int(query, "page", 1)
        if limit > MAX_LIMIT:
            raise _Error(422, f"You cannot request more than {MAX_LIMIT} items.")
        raw_search = query.get("search", [None])[0]
        try:
            search = parse_search(raw_search, entity=entity, version=self.pim.profile.name, parent_of=self._parent_of)
        except InvalidSearch as error:
            raise _Error(error.status, error.message) from None
        items = []
        keys = [k for k in (self.pim.catalog.keys() if self.pim.catalog is not None else ()) if
                k.startswith(entity + ":")]
        for key in keys:
            resource = self.resource(key, uuid_mode=uuid_mode)
            if resource is None:
                continue
            # filters read the resource as /products serves it: with its root identifier
            if not search.matches((self.resource(key) or resource) if uuid_mode else resource):
                continue
            items.append((str(resource.get("updated", "")), key, resource))
        items.sort(key=lambda item: (item[0], item[1]))
        chunk = items[(page - 1) * limit: page * limit]
        base = f"{self.pim.pim_url}{_PREFIX}{collection}"
        # the PIM's links repeat the search, so that a client following "next" stays on the filtered list
        searched = f"&search={quote(raw_search, safe='')}" if raw_search is not None else ""
        embedded = []
        for _, _key, resource in chunk:
            ident = resource.get("code") if entity == "product_model" else (
                resource.get("uuid") if uuid_mode else resource.get("identifier"))
            embedded.append({"_links": {"self": {"href": f"{base}/{quote(str(ident))}"}}, **resource})
        links: dict[str, Any] = {"self": {"href": f"{base}?page={page}&limit={limit}{searched}"},
                                 "first": {"href": f"{base}?page=1&limit={limit}{searched}"}}
        if page > 1:
            links["previous"] = {"href": f"{base}?page={page - 1}&limit={limit}{searched}"}
        if page * limit < len(items):
            links["next"] = {"href": f"{base}?page={page + 1}&limit={limit}{searched}"}
        result: dict[str, Any] = {"_links": links, "current_page": page}
        if query.get("with_count", ["false"])[0] == "true":
            result["items_count"] = len(items)
        result["_embedded"] = {"items": embedded}
        return result


def rest_latencies(mean: float, seed: int) -> Iterator[float]:
    """The response times of the mock REST API, one per request in request order: uniform between half and
    one and a half times ``mean``, drawn from ``random.Random(f"rest-latency:{seed}")``.

    Bounded on purpose: a receiver that re-reads the product before answering the PIM waits this long, so
    that a mean above 0.5 s shows as ``slow_ack`` (events-api-facts.md section 1) and one above 5 s as an
    Event Platform timeout, while no single draw takes a run hostage as an exponential tail would.
    """
    rng = random.Random(f"rest-latency:{seed}")
    while True:
        yield rng.uniform(mean / 2, mean * 1.5)


class _EpSource:
    """What :class:`RestApi` reads from a PIM, for an Event Platform run: its timeline at its clock's time."""

    listeners: tuple[Any, ...] = ()

    def __init__(self, emitter: EpEmitter, api: RestApi) -> None:
        from .versions import get_profile

        self.emitter = emitter
        self.api = api
        self.profile = get_profile("saas", uuid_mode=True)
        self.pim_url = emitter.pim_url
        self.catalog = self

    @property
    def identifiers(self) -> dict[str, str]:
        timeline = self.emitter.timeline
        return timeline.identifiers if timeline is not None else {}

    def keys(self) -> list[str]:
        timeline = self.emitter.timeline
        return timeline.keys() if timeline is not None else []

    def current(self, key: str, *, uuid_mode: bool | None = None) -> tuple[int, dict[str, Any]] | None:
        timeline = self.emitter.timeline
        if timeline is None:
            return None
        state = timeline.at(key, self.emitter.clock.now() - self.api.lag, uuid_mode=bool(uuid_mode))
        return None if state is None else (0, state)


def _structure_route(parts: list[str]) -> tuple[str, str] | None:
    """The timeline key and 404 wording of a structure route (``categories/{code}``...), or None.

    ``job-executions/{id}`` is the kit's own route: the PIM's REST API documents none for job executions,
    but a receiver of ``job.*.status-changed`` may want to re-read one (README: structure events)."""
    if any(not part for part in parts):
        return None
    simple = {"categories": ("category", "Category"), "families": ("family", "Family"),
              "attributes": ("attribute", "Attribute"), "attribute-groups": ("attribute_group", "Attribute group"),
              "job-executions": ("job", "Job execution")}
    if len(parts) == 2 and parts[0] in simple:
        name, label = simple[parts[0]]
        return f"{name}:{parts[1]}", f'{label} "{parts[1]}"'
    nested = {("attributes", "options"): ("attribute_option", "Attribute option"),
              ("asset-families", "assets"): ("asset", "Asset"),
              ("reference-entities", "records"): ("reference_entity_record", "Record")}
    if len(parts) == 4 and (parts[0], parts[2]) in nested:
        name, label = nested[(parts[0], parts[2])]
        return f"{name}:{parts[1]}:{parts[3]}", f'{label} "{parts[3]}" of "{parts[1]}"'
    return None


def _positive_int(query: Mapping[str, list[str]], name: str, default: int) -> int:
    values = query.get(name)
    if not values:
        return default
    text = values[0]
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise _Error(422, f'"{text}" is not a valid {"page number" if name == "page" else "limit number"}.')
    return int(text)
