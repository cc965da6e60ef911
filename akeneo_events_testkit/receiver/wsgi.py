"""Serve a :class:`~.core.ReferenceReceiver` as a WSGI application (gunicorn, Flask mounts, httpx's WSGITransport).

It reads at most ``CONTENT_LENGTH`` bytes as PEP 3333 requires (and refuses a declared size over the cap
before reading), reads to end of input only when the server says the stream is terminated (chunked
uploads), and never raises: every failure becomes an HTTP answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from .core import ReferenceReceiver, Response

__all__ = ["WSGIApp", "wsgi_app"]

WSGIApp = Callable[["WSGIEnvironment", "StartResponse"], Iterable[bytes]]

_CHUNK = 64 * 1024


def _headers(environ: WSGIEnvironment) -> list[tuple[str, str]]:
    """Request headers back from CGI-style keys (``HTTP_X_AKENEO_REQUEST_SIGNATURE``...)."""
    headers = [
        (key[5:].replace("_", "-").lower(), str(value))
        for key, value in environ.items()
        if key.startswith("HTTP_")
    ]
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers.append((key.replace("_", "-").lower(), str(environ[key])))
    return headers


def _read(stream: Any, length: int | None, limit: int) -> bytes | None:
    """Up to ``length`` bytes (to end of input when None); None past ``limit``."""
    body = bytearray()
    while length is None or len(body) < length:
        want = _CHUNK if length is None else min(_CHUNK, length - len(body))
        chunk = stream.read(want)
        if not chunk:
            break
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def _respond(receiver: ReferenceReceiver, environ: WSGIEnvironment) -> Response:
    method = str(environ.get("REQUEST_METHOD", "GET"))
    path = str(environ.get("PATH_INFO", "")) or "/"
    raw_length = str(environ.get("CONTENT_LENGTH", "") or "").strip()
    length: int | None = None
    if raw_length:
        if not (raw_length.isascii() and raw_length.isdigit()) or len(raw_length) > 18:
            return receiver.reject(400, "Content-Length is not a byte count")
        length = int(raw_length)
    early = receiver.precheck(method, path, length)
    if early is not None:
        return early
    body: bytes | None = b""
    if method != "GET" and (length is not None or environ.get("wsgi.input_terminated")):
        try:
            body = _read(environ["wsgi.input"], length, receiver.max_body)
        except (OSError, ValueError, KeyError):
            return receiver.reject(400, "the request body could not be read")
    if body is None:
        return receiver.reject(413, f"body over {receiver.max_body} bytes")
    return receiver.handle(method, path, _headers(environ), body)


def wsgi_app(receiver: ReferenceReceiver) -> WSGIApp:
    """A WSGI application serving ``receiver``."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            response = _respond(receiver, environ)
        except Exception as exc:
            response = receiver._internal_error(exc)
            receiver._count(response.status)
        status = f"{response.status} {HTTPStatus(response.status).phrase}"
        headers = [*response.headers, ("Content-Length", str(len(response.body)))]
        start_response(status, headers)
        return [response.body]

    return app
