"""A piece every hand-written ASGI app of the tests needs."""

from __future__ import annotations

from typing import Any


async def read_body(receive: Any) -> bytes:
    """The whole request body, however many ``http.request`` messages carry it."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body
