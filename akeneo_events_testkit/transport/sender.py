"""Send requests the way the PIM's Guzzle client does, over any httpx transport.

PIM behaviour mirrored here (events-api-facts.md section 1):

* ``POST`` with exactly the PIM's headers; Guzzle strips curl's ``Accept``/``Accept-Encoding`` and sends no
  ``Connection`` header, so neither do we (``Host`` and ``Content-Length`` are added by the client);
* a **total** timeout of 0.5 s for the whole transfer, the response body included (curl
  ``CURLOPT_TIMEOUT_MS``), not a per-read timeout;
* redirects are followed only in the 5.0 era (at most 5 hops); afterwards a 3xx counts as success;
* no retry; up to 5 requests in flight (Guzzle ``Pool`` concurrency; ``concurrency`` sets another bound, for
  the Event Platform, whose in-flight count grows with its rate: event-platform-facts.md section 3);
* 2xx (and unfollowed 3xx) is success, 4xx/5xx "returned an error", anything else "failed to answer".

Targets: a URL (real HTTP), an ASGI app or a WSGI app (in-process), or any httpx transport.

The latency of an attempt, and the deadline, are the receiver's time as :mod:`.timing` measures it, not the
wall clock: the PIM's curl is not slowed by the kit that plays it, so the kit's own stalls (its event loop,
its garbage collector, a loaded machine keeping it from a CPU) must not count against the receiver. The
wall-clock time is kept beside it (``Attempt.wall``). An answer whose receiver time passed the timeout is
a timeout, as the PIM would have given up on it before (no status, not acknowledged).

The kit first looks at the deadline :data:`LOOK_LATER` seconds (at most half a timeout) after the timeout
of wall-clock time: a look is a wake-up of the kit, and the kit's busy time is left out of the receiver's,
so looking while a slow receiver is still at work would shorten the time it is charged (by the kit's wait
for a CPU to wake up, on a loaded machine). An answer that comes before is timed cleanly, then judged; a
receiver still at work by then has been idle (or busy in its handler) for more than the timeout unless the
kit was busy for that margin, and is cut, its latency the timeout. A request whose receiver time never
reaches the timeout (the kit was that busy, or the handler's work is in a thread the clock does not see)
is given up after :data:`GUARD` timeouts of wall-clock time, so a run always ends.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import httpx

from ..credentials import REDACTED
from ..errors import UsageError
from . import timing
from .targets import IN_PROCESS_BASE, Target, make_transport
from .timing import GC_CLOCK, STOPWATCH, Stopwatch, Timing

__all__ = [
    "ANSWER_EXCERPT",
    "DEFAULT_TIMEOUT",
    "MAX_CONCURRENCY",
    "Attempt",
    "Outcome",
    "Sender",
    "answer_excerpt",
]


#: ``webhook_timeout`` (facts section 1).
DEFAULT_TIMEOUT = 0.5


#: ``webhook_concurrency`` (facts section 1).
MAX_CONCURRENCY = 5


#: Guzzle's default ``max`` redirects when they are followed (5.0 era).
MAX_REDIRECTS = 5


#: Seconds past the timeout (at most half of it) before the deadline is first looked at (module docstring).
LOOK_LATER = 0.25

#: A request is given up after this many timeouts of wall-clock time, whatever the receiver's time says
#: (CPU a handler hands to another thread is not counted, see :mod:`.timing`).
GUARD = 10


#: Response bytes read at most; past this the body is drained without being kept.
_KEEP_BODY = 64 * 1024

#: Bytes of a non-2xx answer's body a report shows (issue 15: what the receiver said when it refused).
ANSWER_EXCERPT = 200
#: Bytes of a non-2xx answer kept to make the excerpt: a secret cut at the excerpt's end is still redacted.
_KEEP_ANSWER = 4096


def answer_excerpt(body: bytes, secrets: Sequence[str] = ()) -> str:
    """The first :data:`ANSWER_EXCERPT` bytes of an answer's ``body`` as text, every one of ``secrets``
    replaced by ``[redacted]`` first (a receiver may echo what it was configured with)."""
    text = body.decode("utf-8", errors="replace")
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    cut = text.encode("utf-8")[:ANSWER_EXCERPT].decode("utf-8", errors="ignore")
    return cut if len(cut) == len(text) else cut + "..."


class Outcome(str, Enum):
    """How the PIM classifies one request (facts section 1)."""

    SENT = "sent"  # 2xx, or 3xx when redirects are not followed
    ERROR = "error"  # 4xx/5xx: "The endpoint returned an error."
    FAILED = "failed"  # timeout, refused, reset, broken HTTP: "The endpoint failed to answer under 500 ms."

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Attempt:
    """What happened to one request: ``latency`` is the receiver's time (:mod:`.timing`), ``wall`` the
    wall-clock time from sending to the end of the exchange, ``timing`` how the latency was measured."""

    outcome: Outcome
    status: int | None
    latency: float
    reason: str = ""  # for FAILED: timeout, connect, reset, protocol...
    response_headers: tuple[tuple[str, str], ...] = ()
    response_size: int = 0
    wall: float | None = None
    timing: Timing = Timing.EXCHANGE
    #: the start of a non-2xx answer's body, secrets redacted (:func:`answer_excerpt`); empty for a 2xx
    body: str = ""

    @property
    def acknowledged(self) -> bool:
        """The PIM considers the request delivered (2xx, or 3xx when not following redirects)."""
        return self.outcome is Outcome.SENT

    @property
    def is_2xx(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _pim_client(transport: httpx.AsyncBaseTransport | None, follow_redirects: bool,
                concurrency: int = MAX_CONCURRENCY) -> httpx.AsyncClient:
    client = httpx.AsyncClient(
        transport=transport,
        follow_redirects=follow_redirects,
        max_redirects=MAX_REDIRECTS,
        timeout=httpx.Timeout(None),  # the total deadline is enforced around each request
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        trust_env=False,
    )
    for name in ("Accept", "Accept-Encoding", "Connection", "User-Agent"):
        del client.headers[name]
    return client


class Sender:
    """Sends requests like the PIM; use as ``async with Sender(target) as sender``.

    :meth:`post` may be awaited by several tasks at once: up to ``concurrency`` requests are in flight
    together (each on its own connection over HTTP, each in its own worker thread for a WSGI app), the rest
    wait for a free place.
    """

    def __init__(
        self,
        target: Target,
        *,
        follow_redirects: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        path: str = "",
        concurrency: int = MAX_CONCURRENCY,
        redact: Sequence[str] = (),
    ) -> None:
        """``concurrency``: requests in flight at most (the PIM's Guzzle pool: :data:`MAX_CONCURRENCY`);
        ``redact``: the secrets never kept from an answer's body (:attr:`Attempt.body`)."""
        if concurrency < 1:
            raise UsageError(f"concurrency must be at least 1 request in flight, got {concurrency}")
        transport, base, how = make_transport(target, threads=concurrency)
        self.url = base if transport is None else IN_PROCESS_BASE + "/" + path.lstrip("/")
        self.timeout = timeout
        self._redact = tuple(redact)
        #: run-queue statistics are read at each request's start and end (``timing.RUN_QUEUE_STATS``)
        self._run_queue = timing.RUN_QUEUE_STATS
        #: how answers are timed: by the handler (in-process apps), by the exchange, or roughly
        self.timing = how if self._run_queue else Timing.ROUGH
        self._client = _pim_client(transport, follow_redirects, concurrency)
        self._limit = asyncio.Semaphore(concurrency)
        GC_CLOCK.acquire()
        self._open = True

    async def __aenter__(self) -> Sender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._open:
            self._open = False
            GC_CLOCK.release()
        await self._client.aclose()

    async def post(
        self,
        body: bytes,
        headers: Sequence[tuple[str, str | bytes]],
        *,
        timeout: float | None = None,
        on_sent: Callable[[], None] | None = None,
    ) -> Attempt:
        """POST ``body`` with ``headers`` and classify the result; never raises for network trouble.

        ``on_sent`` is called once the request's body has been written to the connection (over HTTP; an
        in-process app or a foreign transport never calls it): the caller may then use the CPU while the
        receiver works, which the stopwatch does not count (:mod:`.timing`)."""
        deadline = self.timeout if timeout is None else timeout
        async with self._limit:
            watch = Stopwatch(self.timing, run_queue=self._run_queue)
            token = STOPWATCH.set(watch)
            try:
                exchange = asyncio.ensure_future(self._exchange(body, headers, watch, on_sent))
            finally:
                STOPWATCH.reset(token)

            def failed(reason: str, latency: float | None = None, how: Timing = self.timing) -> Attempt:
                watch.answered()
                return Attempt(Outcome.FAILED, None, watch.elapsed() if latency is None else latency, reason,
                               wall=time.perf_counter() - watch.started, timing=how)

            try:
                attempt = await self._within(exchange, watch, deadline)
            except _GuardExpired:
                return failed("timeout", how=Timing.ROUGH)
            except asyncio.TimeoutError:
                return failed("timeout", deadline)
            except httpx.TimeoutException:
                return failed("timeout")
            except httpx.TooManyRedirects:
                return failed("too many redirects")
            except httpx.ConnectError as exc:
                return failed(f"connect: {exc}"[:200])
            except httpx.RemoteProtocolError as exc:
                return failed(f"protocol: {exc}"[:200])
            except (httpx.HTTPError, OSError) as exc:
                return failed(f"{type(exc).__name__}: {exc}"[:200])
            await watch.settled()
            latency = watch.elapsed()
            if latency > deadline:  # the PIM gave up before this answer came
                return Attempt(Outcome.FAILED, None, latency, "timeout", wall=attempt.wall, timing=self.timing)
            return dataclasses.replace(attempt, latency=latency)

    @staticmethod
    async def _within(exchange: asyncio.Future[Attempt], watch: Stopwatch, deadline: float) -> Attempt:
        """The exchange's attempt, unless the receiver's time reaches ``deadline`` first (curl's total
        timeout, facts section 1: :class:`asyncio.TimeoutError`) or the wall clock :data:`GUARD` times it."""
        look = watch.started + deadline + min(LOOK_LATER, deadline / 2)
        try:
            while True:
                # from the (re)start of the clock: a pause (:meth:`~.timing.Stopwatch.paused`) moves it on
                give_up = watch.started + GUARD * deadline
                now = time.perf_counter()
                wake = look if watch.held else min(look, give_up)
                done, _ = await asyncio.wait({exchange}, timeout=max(wake - now, 0.0))
                if done:
                    return exchange.result()
                left = deadline - watch.elapsed()
                now = time.perf_counter()
                if watch.held:  # the kit is restarting the receiver: the request is not the receiver's yet
                    look = now + deadline / 10
                    continue
                give_up = watch.started + GUARD * deadline
                if left <= 0 or now >= give_up:
                    exchange.cancel()
                    await asyncio.wait({exchange})
                    if not exchange.cancelled():
                        exchange.exception()  # an answer that came too late is dropped, like any other
                    if left <= 0:
                        raise asyncio.TimeoutError
                    raise _GuardExpired
                # the receiver's time grows at most as fast as the wall clock: waiting ``left`` never overshoots
                look = now + max(left, deadline / 10)
        except asyncio.CancelledError:
            exchange.cancel()
            raise

    async def _exchange(
        self, body: bytes, headers: Sequence[tuple[str, str | bytes]], watch: Stopwatch,
        on_sent: Callable[[], None] | None = None,
    ) -> Attempt:
        raw = [(name.encode("ascii"), value if isinstance(value, bytes) else value.encode("latin-1"))
               for name, value in headers]
        extensions = {"trace": _tracer(on_sent)} if on_sent is not None else None
        request = self._client.build_request("POST", self.url, content=body, headers=raw, extensions=extensions)
        response = await self._client.send(request, stream=True)
        size = 0
        status = response.status_code
        kept = bytearray()
        keep = not 200 <= status < 300
        try:
            async for chunk in response.aiter_raw():
                size += len(chunk)
                if keep and len(kept) < _KEEP_ANSWER:
                    kept += chunk[:_KEEP_ANSWER - len(kept)]
        finally:
            await response.aclose()
        watch.answered()
        outcome = Outcome.SENT if status < 400 else Outcome.ERROR
        return Attempt(outcome, status, watch.elapsed(), "", tuple(response.headers.items()), size,
                       wall=time.perf_counter() - watch.started, timing=self.timing,
                       body=answer_excerpt(bytes(kept), self._redact) if kept else "")


def _tracer(on_sent: Callable[[], None]) -> Callable[[str, dict[str, Any]], Awaitable[None]]:
    """An httpcore ``trace`` extension calling ``on_sent`` once, when a request body has been written."""
    called = False

    async def trace(event: str, info: dict[str, Any]) -> None:
        nonlocal called
        if not called and event.endswith(".send_request_body.complete"):
            called = True
            on_sent()

    return trace


class _GuardExpired(Exception):
    """The wall clock reached :data:`GUARD` timeouts while the receiver's time had not reached one."""
