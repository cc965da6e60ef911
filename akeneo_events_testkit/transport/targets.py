"""Where requests go: a URL (real HTTP), an ASGI or WSGI app (in-process), or any httpx transport.

One :data:`Target` type and one place that tells an ASGI app from a WSGI app, for both wire profiles, and
that says how answers through it are timed (:mod:`.timing`): in-process apps by their handler, the rest by
the exchange.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import ipaddress
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from ..errors import UsageError
from .timing import Timing, timed_asgi
from .wsgi import WSGITransport

__all__ = [
    "Target",
    "check_request_url",
    "make_transport",
]


IN_PROCESS_BASE = "http://receiver.invalid"


Target = Any  # a URL string, an ASGI app, a WSGI app, or an httpx transport


class _ThreadedTransport(httpx.AsyncBaseTransport):
    """Runs a synchronous httpx transport (e.g. ``WSGITransport``) in a worker thread.

    The threads are its own, ``threads`` of them (a threaded WSGI server's workers), so that as many requests
    as the sender keeps in flight run the app at once; asyncio's shared default pool (``cpu_count + 4``) would
    queue the rest, and the wait would count as the receiver's time. Each call runs in a copy of the caller's
    context, so the request's stopwatch follows it into the thread (:mod:`.timing`).
    """

    def __init__(self, transport: httpx.BaseTransport, threads: int = 1) -> None:
        self._transport = transport
        self._threads = max(1, threads)
        self._pool: ThreadPoolExecutor | None = None
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

        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="akeneo-events-wsgi")
        context = contextvars.copy_context()
        try:
            status, headers, content = await asyncio.get_running_loop().run_in_executor(
                self._pool, context.run, call)
        except Exception as exc:  # the app crashed: a real server would answer 500
            self.app_errors.append(exc)
            return httpx.Response(500, stream=httpx.ByteStream(b""))
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(content))

    async def aclose(self) -> None:
        await asyncio.to_thread(self._transport.close)
        if self._pool is not None:
            self._pool.shutdown(wait=False)  # idle threads end now; one still in a hung app ends with it


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


def make_transport(target: Target, *, threads: int = 5) -> tuple[httpx.AsyncBaseTransport | None, str, Timing]:
    """An async transport and base URL for ``target`` (None transport means real HTTP to the URL), and how
    answers through it are timed; a synchronous app or transport gets ``threads`` worker threads (as many as
    requests in flight).

    In-process apps are timed by their handler (:data:`~.timing.Timing.HANDLER`): an ASGI app, or an
    ``httpx.ASGITransport`` (re-made around the timed app, the user's object untouched), and a WSGI app or
    the kit's :class:`~.wsgi.WSGITransport`. Any other transport is timed like HTTP, by the exchange.
    """
    base = IN_PROCESS_BASE + "/"
    if isinstance(target, str):
        url = httpx.URL(target)
        if url.scheme not in ("http", "https") or not url.host:
            raise UsageError(f"{target!r} is not an http(s) URL: write it like http://127.0.0.1:8000/webhook")
        return None, target, Timing.EXCHANGE
    if type(target) is httpx.ASGITransport:
        return httpx.ASGITransport(app=timed_asgi(target.app), raise_app_exceptions=target.raise_app_exceptions,
                                   root_path=target.root_path, client=target.client), base, Timing.HANDLER
    if isinstance(target, httpx.AsyncBaseTransport):
        return target, base, Timing.EXCHANGE
    if isinstance(target, httpx.BaseTransport):
        timing = Timing.HANDLER if isinstance(target, WSGITransport) else Timing.EXCHANGE
        return _ThreadedTransport(target, threads), base, timing
    if callable(target):
        if _is_asgi(target):
            return httpx.ASGITransport(app=timed_asgi(target), raise_app_exceptions=False), base, Timing.HANDLER
        return _ThreadedTransport(WSGITransport(target), threads), base, Timing.HANDLER
    raise UsageError(
        f"cannot deliver to {type(target).__name__}: pass a URL, an ASGI app, a WSGI app or a transport"
    )


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
