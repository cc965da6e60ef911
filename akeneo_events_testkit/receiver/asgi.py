"""Serve a :class:`~.core.ReferenceReceiver` as an ASGI application (uvicorn, hypercorn, httpx's ASGITransport).

The core is blocking (it may wait on SQLite and its fsync), so it runs in a worker thread through anyio:
the event loop keeps accepting requests while a batch commits, under asyncio and trio alike. A body is read
with a size cap, and a ``Content-Length`` over the cap is refused before reading anything, so the
``Expect: 100-continue`` Guzzle sends for bodies >= 1 MiB (events-api-facts.md section 1) is never granted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

if TYPE_CHECKING:
    from .core import ReferenceReceiver, Response

__all__ = ["ASGIApp", "asgi_app", "lifespan"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class _Disconnected(Exception):
    """The client went away before sending its whole body: there is no one to answer."""


def _content_length(headers: list[tuple[str, str]]) -> int | str | None:
    """The declared body size, None when absent, or why the header is unusable."""
    values = {value.strip() for name, value in headers if name == "content-length"}
    if not values:
        return None
    if len(values) > 1:
        return "conflicting Content-Length headers"
    (value,) = values
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        return "Content-Length is not a byte count"
    return int(value)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The request body, or None once it grows past ``limit`` bytes."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        if message["type"] != "http.request":
            continue
        body += message.get("body", b"")
        if len(body) > limit:
            return None
        if not message.get("more_body", False):
            return bytes(body)


async def _send(send: Send, response: Response, *, close: bool = False) -> None:
    headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in response.headers]
    headers.append((b"content-length", str(len(response.body)).encode("ascii")))
    if close:  # the unread body would otherwise be taken for the next request on this connection
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body, "more_body": False})


async def lifespan(receive: Receive, send: Send) -> None:
    """Acknowledge ASGI startup and shutdown, for apps that need no setup (the receiver's owner closes the
    store; the mock REST API reads a catalog it does not own)."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _http(receiver: ReferenceReceiver, scope: Scope, receive: Receive, send: Send) -> None:
    method = str(scope.get("method", "GET"))
    path = str(scope.get("path", "/")) or "/"
    headers = [
        (bytes(name).decode("latin-1").lower(), bytes(value).decode("latin-1"))
        for name, value in scope.get("headers", ())
    ]
    length = _content_length(headers)
    if isinstance(length, str):
        await _send(send, receiver.reject(400, length), close=True)
        return
    early = receiver.precheck(method, path, length)
    if early is not None:
        await _send(send, early, close=early.status == 413)
        return
    body: bytes | None = b""
    if method != "GET":
        with anyio.move_on_after(receiver.body_timeout) as waiting:
            body = await _read_body(receive, receiver.max_body)
        if waiting.cancelled_caught:
            await _send(send, receiver.reject(408, f"body not received within {receiver.body_timeout:g} s"),
                        close=True)
            return
    if body is None:
        await _send(send, receiver.reject(413, f"body over {receiver.max_body} bytes"), close=True)
        return
    response = await anyio.to_thread.run_sync(receiver.handle, method, path, headers, body)
    await _send(send, response)


def asgi_app(receiver: ReferenceReceiver) -> ASGIApp:
    """An ASGI 3 application serving ``receiver`` over HTTP (lifespan handled, websockets refused)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind == "lifespan":
            await lifespan(receive, send)
            return
        if kind == "websocket":
            if (await receive())["type"] == "websocket.connect":
                await send({"type": "websocket.close", "code": 1008})
            return
        if kind != "http":
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await _http(receiver, scope, receive, tracking_send)
        except _Disconnected:
            return
        except anyio.get_cancelled_exc_class():
            # the server shuts down while the client has still not sent its whole request: 408 (we stopped
            # waiting for it), not the 500 the server sends for an app that raised (a 500 here means a bug)
            if not started:
                with anyio.CancelScope(shield=True):
                    timeout = receiver.reject(408, "request incomplete when the server shut down", count=False)
                    await _send_safely(send, timeout, close=True)
            raise
        except Exception as exc:
            response = receiver._internal_error(exc)
            receiver._count(response.status)
            if not started:
                await _send_safely(send, response)

    return app


async def _send_safely(send: Send, response: Response, *, close: bool = False) -> None:
    """Send ``response``, ignoring a connection that is already gone."""
    try:
        await _send(send, response, close=close)
    except Exception:
        return
