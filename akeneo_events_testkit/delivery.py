"""Send requests the way the PIM's Guzzle client does, over any httpx transport.

PIM behaviour mirrored here (events-api-facts.md section 1):

* ``POST`` with exactly the PIM's headers; Guzzle strips curl's ``Accept``/``Accept-Encoding`` and sends no
  ``Connection`` header, so neither do we (``Host`` and ``Content-Length`` are added by the client);
* a **total** timeout of 0.5 s for the whole transfer, the response body included (curl
  ``CURLOPT_TIMEOUT_MS``), not a per-read timeout;
* redirects are followed only in the 5.0 era (at most 5 hops); afterwards a 3xx counts as success;
* no retry; up to 5 requests in flight (Guzzle ``Pool`` concurrency);
* 2xx (and unfollowed 3xx) is success, 4xx/5xx "returned an error", anything else "failed to answer".

Targets: a URL (real HTTP), an ASGI app or a WSGI app (in-process), or any httpx transport.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import io
import ipaddress
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any

import httpx

from .clock import Clock
from .errors import UsageError

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_CONCURRENCY",
    "Attempt",
    "LogEntry",
    "Outcome",
    "RequestLimiter",
    "Sender",
    "Target",
    "WSGITransport",
    "check_request_url",
    "make_transport",
]

#: ``webhook_timeout`` (facts section 1).
DEFAULT_TIMEOUT = 0.5
#: ``webhook_concurrency`` (facts section 1).
MAX_CONCURRENCY = 5
#: Guzzle's default ``max`` redirects when they are followed (5.0 era).
MAX_REDIRECTS = 5
#: The "Test" button request has no explicit timeout in the PIM; we still never wait forever.
TEST_BUTTON_TIMEOUT = 30.0
#: Response bytes read at most; past this the body is drained without being kept.
_KEEP_BODY = 64 * 1024

IN_PROCESS_BASE = "http://receiver.invalid"

Target = Any  # a URL string, an ASGI app, a WSGI app, or an httpx transport


class Outcome(str, Enum):
    """How the PIM classifies one request (facts section 1)."""

    SENT = "sent"  # 2xx, or 3xx when redirects are not followed
    ERROR = "error"  # 4xx/5xx: "The endpoint returned an error."
    FAILED = "failed"  # timeout, refused, reset, broken HTTP: "The endpoint failed to answer under 500 ms."

    def __str__(self) -> str:
        return self.value


LOG_SENT = "The API event request was sent."
LOG_ERROR = "The endpoint returned an error."
LOG_FAILED = "The endpoint failed to answer under {ms} ms."
LOG_LIMIT = "The maximum number of events sent per hour has been reached."
LOG_OWN_EVENT = "The event was not sent because it was raised by the same connection."
LOG_NOT_FOUND = (
    "The event was not sent because the product does not exists or the connection does not have the "
    "required permissions."
)


@dataclass(frozen=True)
class LogEntry:
    """One line of the PIM's Events API log (facts section 5, ``EventsApiDebugLogger``)."""

    epoch: float
    level: str
    message: str
    context: Mapping[str, Any] = field(default_factory=dict)

    def format(self) -> str:
        """The downloadable log's format: ``YYYY/MM/DD HH:MM:SS LEVEL message {json}``."""
        when = datetime.fromtimestamp(int(self.epoch), tz=timezone.utc).strftime("%Y/%m/%d %H:%M:%S")
        return f"{when} {self.level} {self.message} {json.dumps(self.context, separators=(',', ':'))}"


@dataclass(frozen=True)
class Attempt:
    """What happened to one request."""

    outcome: Outcome
    status: int | None
    latency: float
    reason: str = ""  # for FAILED: timeout, connect, reset, protocol...
    response_headers: tuple[tuple[str, str], ...] = ()
    response_size: int = 0

    @property
    def acknowledged(self) -> bool:
        """The PIM considers the request delivered (2xx, or 3xx when not following redirects)."""
        return self.outcome is Outcome.SENT

    @property
    def is_2xx(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _ThreadedTransport(httpx.AsyncBaseTransport):
    """Runs a synchronous httpx transport (e.g. ``WSGITransport``) in a worker thread."""

    def __init__(self, transport: httpx.BaseTransport) -> None:
        self._transport = transport
        #: exceptions raised by the in-process app; each request that raised got a 500
        self.app_errors: list[BaseException] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        sync_request = httpx.Request(request.method, request.url, headers=request.headers, content=body)

        def call() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            response = self._transport.handle_request(sync_request)
            try:
                content = response.read()
            finally:
                response.close()
            return response.status_code, response.headers.raw, content

        try:
            status, headers, content = await asyncio.to_thread(call)
        except Exception as exc:  # the app crashed: a real server would answer 500
            self.app_errors.append(exc)
            return httpx.Response(500, stream=httpx.ByteStream(b""))
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(content))

    async def aclose(self) -> None:
        await asyncio.to_thread(self._transport.close)


class WSGITransport(httpx.BaseTransport):
    """Calls a WSGI app in-process exactly as a PEP 3333 server would.

    httpx's own ``WSGITransport`` decodes header values as ASCII and fails on the non-ASCII headers our
    probes send; a real server passes them through as Latin-1, so the receiver gets to reject them itself.
    """

    def __init__(
        self,
        app: Callable[..., Any],
        *,
        path: str | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.app = app
        self.path = path  # where the app receives the POSTs, e.g. /webhook (default: the URL's path)
        self.on_error = on_error  # told of every exception the app raises, before it becomes a 500

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        url = request.url
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": self.path or url.path,
            "QUERY_STRING": url.query.decode("ascii", "replace"),
            "SERVER_NAME": url.host or "receiver.invalid",
            "SERVER_PORT": str(url.port or 80),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": url.scheme,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(),
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for raw_name, raw_value in request.headers.raw:
            name = raw_name.decode("latin-1").upper().replace("-", "_")
            value = raw_value.decode("latin-1")
            if name == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif name == "CONTENT_LENGTH":
                environ["CONTENT_LENGTH"] = value
            else:
                key = "HTTP_" + name
                environ[key] = f"{environ[key]},{value}" if key in environ else value
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if exc_info is not None and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [status, headers]
            return lambda data: chunks.append(data)

        chunks: list[bytes] = []
        try:
            result = self.app(environ, start_response)
            try:
                chunks.extend(bytes(chunk) for chunk in result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            if not started:
                raise RuntimeError("the WSGI app returned without calling start_response")
        except Exception as exc:
            if self.on_error is not None:
                self.on_error(exc)
            raise
        status = int(str(started[0]).split(" ", 1)[0])
        headers = [(str(k).encode("latin-1"), str(v).encode("latin-1")) for k, v in started[1]]
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(b"".join(chunks)))


def _is_asgi(app: Callable[..., Any]) -> bool:
    call = app if inspect.isfunction(app) or inspect.ismethod(app) else getattr(app, "__call__", None)  # noqa: B004
    if call is None:
        return False
    if inspect.iscoroutinefunction(call):
        return True
    try:
        params = [p for p in inspect.signature(call).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return False
    return len(params) == 3


def make_transport(target: Target) -> tuple[httpx.AsyncBaseTransport | None, str]:
    """An async transport and base URL for ``target`` (None transport means real HTTP to the URL)."""
    if isinstance(target, str):
        url = httpx.URL(target)
        if url.scheme not in ("http", "https") or not url.host:
            raise UsageError(f"{target!r} is not an http(s) URL: write it like http://127.0.0.1:8000/webhook")
        return None, target
    if isinstance(target, httpx.AsyncBaseTransport):
        return target, IN_PROCESS_BASE + "/"
    if isinstance(target, httpx.BaseTransport):
        return _ThreadedTransport(target), IN_PROCESS_BASE + "/"
    if callable(target):
        if _is_asgi(target):
            return httpx.ASGITransport(app=target, raise_app_exceptions=False), IN_PROCESS_BASE + "/"
        return _ThreadedTransport(WSGITransport(target)), IN_PROCESS_BASE + "/"
    raise UsageError(
        f"cannot deliver to {type(target).__name__}: pass a URL, an ASGI app, a WSGI app or a transport"
    )


def _pim_client(transport: httpx.AsyncBaseTransport | None, follow_redirects: bool) -> httpx.AsyncClient:
    client = httpx.AsyncClient(
        transport=transport,
        follow_redirects=follow_redirects,
        max_redirects=MAX_REDIRECTS,
        timeout=httpx.Timeout(None),  # the total deadline is enforced around each request
        limits=httpx.Limits(max_connections=MAX_CONCURRENCY, max_keepalive_connections=MAX_CONCURRENCY),
        trust_env=False,
    )
    for name in ("Accept", "Accept-Encoding", "Connection", "User-Agent"):
        del client.headers[name]
    return client


class Sender:
    """Sends requests like the PIM; use as ``async with Sender(target) as sender``."""

    def __init__(
        self,
        target: Target,
        *,
        follow_redirects: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        path: str = "",
    ) -> None:
        transport, base = make_transport(target)
        self.url = base if transport is None else IN_PROCESS_BASE + "/" + path.lstrip("/")
        self.timeout = timeout
        self._client = _pim_client(transport, follow_redirects)
        self._limit = asyncio.Semaphore(MAX_CONCURRENCY)

    async def __aenter__(self) -> Sender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def post(
        self,
        body: bytes,
        headers: Sequence[tuple[str, str | bytes]],
        *,
        timeout: float | None = None,
    ) -> Attempt:
        """POST ``body`` with ``headers`` and classify the result; never raises for network trouble."""
        deadline = self.timeout if timeout is None else timeout
        async with self._limit:
            started = time.perf_counter()
            try:
                return await asyncio.wait_for(self._exchange(body, headers, started), deadline)
            except (asyncio.TimeoutError, httpx.TimeoutException):
                return Attempt(Outcome.FAILED, None, time.perf_counter() - started, "timeout")
            except httpx.TooManyRedirects:
                return Attempt(Outcome.FAILED, None, time.perf_counter() - started, "too many redirects")
            except httpx.ConnectError as exc:
                return Attempt(Outcome.FAILED, None, time.perf_counter() - started, f"connect: {exc}"[:200])
            except httpx.RemoteProtocolError as exc:
                return Attempt(Outcome.FAILED, None, time.perf_counter() - started, f"protocol: {exc}"[:200])
            except (httpx.HTTPError, OSError) as exc:
                reason = f"{type(exc).__name__}: {exc}"[:200]
                return Attempt(Outcome.FAILED, None, time.perf_counter() - started, reason)

    async def _exchange(
        self, body: bytes, headers: Sequence[tuple[str, str | bytes]], started: float
    ) -> Attempt:
        raw = [(name.encode("ascii"), value if isinstance(value, bytes) else value.encode("latin-1"))
               for name, value in headers]
        request = self._client.build_request("POST", self.url, content=body, headers=raw)
        response = await self._client.send(request, stream=True)
        size = 0
        try:
            async for chunk in response.aiter_raw():
                size += len(chunk)
        finally:
            await response.aclose()
        latency = time.perf_counter() - started
        status = response.status_code
        outcome = Outcome.SENT if status < 400 else Outcome.ERROR
        return Attempt(outcome, status, latency, "", tuple(response.headers.items()), size)


def log_entry_for(
    attempt: Attempt,
    *,
    epoch: float,
    url: str,
    request_headers: Sequence[tuple[str, str]],
    events: Sequence[Mapping[str, Any]],
    timeout: float = DEFAULT_TIMEOUT,
) -> LogEntry:
    """The log line the PIM writes for ``attempt`` (facts section 5)."""
    if attempt.outcome is Outcome.SENT:
        return LogEntry(epoch, "INFO", LOG_SENT, {
            "event_subscription_url": url, "status_code": attempt.status,
            "headers": dict(attempt.response_headers), "events": list(events),
        })
    if attempt.outcome is Outcome.ERROR:
        return LogEntry(epoch, "ERROR", LOG_ERROR, {
            "event_subscription_url": url, "status_code": attempt.status,
            "headers": dict(request_headers), "events": list(events),
        })
    return LogEntry(epoch, "ERROR", LOG_FAILED.format(ms=int(timeout * 1000)), {
        "event_subscription_url": url, "events": list(events),
    })


def check_request_url(url: str) -> list[str]:
    """Why the real PIM would refuse ``url`` as a Request URL (empty when it would accept it).

    The PIM validates with ``Url``, ``NotBlank`` and ``NotPrivateNetworkUrl``: private and reserved IP
    ranges are blocked (facts section 4). The kit still delivers to loopback, where tests live; this only
    warns. Host names are not resolved (no DNS lookups from a test kit).
    """
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        return [f"not a valid URL: {exc}"]
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return ["the PIM only accepts absolute http(s) URLs"]
    host = parsed.host
    if host == "localhost" or host.endswith(".localhost"):
        return [f"{host} is a loopback name: the real PIM refuses private network URLs"]
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return []
    if address.is_loopback:
        return [f"{host} is a loopback address: the real PIM refuses private network URLs"]
    if address.is_private or address.is_reserved or address.is_link_local or address.is_multicast \
            or address.is_unspecified:
        return [f"{host} is in a private or reserved range: the real PIM refuses it"]
    return []


#: ``webhook_requests_limit``: the docs say 4000 per hour (facts section 5, open question 2).
DEFAULT_REQUEST_LIMIT = 4000


class RequestLimiter:
    """The PIM-wide hourly request limit: deliveries are delayed, never dropped (facts section 5).

    Every request counts, failed or not. After each message, if the requests of the last hour reach the
    limit, the consumer sleeps until the row that crossed the limit is an hour old. It sleeps on ``clock``,
    so a fake clock makes the hour pass instantly. The limit can be overshot by one message's requests.
    """

    def __init__(self, limit: int = DEFAULT_REQUEST_LIMIT, *, clock: Clock) -> None:
        if limit < 1:
            raise UsageError(f"request limit must be at least 1, got {limit}")
        self.limit = limit
        self.clock = clock
        self._sent: collections.deque[float] = collections.deque()
        self.waits: list[float] = []

    def record(self, count: int = 1) -> None:
        """Count ``count`` requests sent now."""
        now = self.clock.now()
        self._sent.extend([now] * count)

    def delay_needed(self) -> float:
        """Seconds to wait before the next message (0 when under the limit)."""
        now = self.clock.now()
        while self._sent and self._sent[0] <= now - 3600:
            self._sent.popleft()
        if len(self._sent) < self.limit:
            return 0.0
        crossing = self._sent[len(self._sent) - self.limit]
        return max(0.0, 3600 - (now - crossing))

    def wait_if_needed(self) -> float:
        """Sleep on the clock when the limit is reached; returns the seconds waited."""
        delay = self.delay_needed()
        if delay > 0:
            self.waits.append(delay)
            self.clock.sleep(delay)
        return delay
