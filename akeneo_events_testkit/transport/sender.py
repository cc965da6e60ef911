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
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import httpx

from .targets import IN_PROCESS_BASE, Target, make_transport

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_CONCURRENCY",
    "Attempt",
    "Outcome",
    "Sender",
]


#: ``webhook_timeout`` (facts section 1).
DEFAULT_TIMEOUT = 0.5


#: ``webhook_concurrency`` (facts section 1).
MAX_CONCURRENCY = 5


#: Guzzle's default ``max`` redirects when they are followed (5.0 era).
MAX_REDIRECTS = 5


#: Response bytes read at most; past this the body is drained without being kept.
_KEEP_BODY = 64 * 1024


class Outcome(str, Enum):
    """How the PIM classifies one request (facts section 1)."""

    SENT = "sent"  # 2xx, or 3xx when redirects are not followed
    ERROR = "error"  # 4xx/5xx: "The endpoint returned an error."
    FAILED = "failed"  # timeout, refused, reset, broken HTTP: "The endpoint failed to answer under 500 ms."

    def __str__(self) -> str:
        return self.value


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
