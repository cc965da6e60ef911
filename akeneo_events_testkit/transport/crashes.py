"""Crash injection: SIGKILL the receiver at seeded moments of a run, send to nothing for a while, restart it.

Production receivers crash between answering and committing, or while a request is in flight, and come
back on the same address; the PIM does not wait for them. :class:`CrashingTransport` is an httpx transport
in front of a :class:`~.process.ReceiverProcess`, so the emitters of both profiles send through it
unchanged (a :data:`~.targets.Target` may be any httpx transport). At each planned moment it kills the
receiver's process group, in one of three ways:

* ``after_2xx``: right after a 2xx answer was received; the answer is still returned, so the request is
  acknowledged and then the receiver dies (an acknowledgement before the commit is lost here);
* ``before_send``: before a request goes out; the request is then sent to nothing and fails;
* ``in_flight``: once the request's body is written, before its answer; it fails as a connection error, as
  in production (the receiver may or may not have applied it).

The next ``down`` requests (0 to 3, seeded) then go to nothing and fail, as they would while a real receiver
restarts: the Events API never sends them again (events-api-facts.md section 1, "Retry: none"), the Event
Platform retries them by its rules (event-platform-facts.md section 3). Before the request after those, the
kit restarts the receiver with the same command and port and waits until it listens; that wait is the
kit's, not the receiver's time (:meth:`~.timing.Stopwatch.paused`), and it is the only time the kit waits.

The moments are counted in requests through the transport (1 is the first), not in time, and drawn from
their own RNG (``"crashes:<seed>"``), so one seed gives the same crashes (:func:`plan_crashes`). An
``after_2xx`` moment whose request is not answered 2xx moves to the next request that is.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx

from ..errors import UsageError
from .process import LISTEN_TIMEOUT, ReceiverProcess, check_command
from .timing import STOPWATCH

__all__ = [
    "CRASH_KINDS",
    "MAX_DOWN",
    "Crash",
    "CrashRecord",
    "CrashingTransport",
    "LaunchedReceiver",
    "check_crash_options",
    "check_receiver_target",
    "crash_summary",
    "launch_receiver",
    "plan_crashes",
]


#: The moments of a crash, in the order :func:`plan_crashes` cycles through them.
CRASH_KINDS = ("after_2xx", "before_send", "in_flight")

#: Requests sent to nothing after a crash, at most.
MAX_DOWN = 3

_KIND_TEXT = {"after_2xx": "after a 2xx", "before_send": "before sending", "in_flight": "in flight"}


@dataclass(frozen=True)
class Crash:
    """A planned crash: at request ``at`` through the transport (1 is the first), of ``kind``, then
    ``down`` requests sent to nothing before the restart."""

    at: int
    kind: str
    down: int

    def to_json(self) -> dict[str, object]:
        return {"at": self.at, "kind": self.kind, "down": self.down}


@dataclass(frozen=True)
class CrashRecord:
    """A crash that happened: at request ``at`` through the transport (1 is the first), of ``kind``; the
    ``down`` requests after it went to nothing; ``restarted`` before request ``restarted`` (None: down at
    the end of the run). ``request`` is the same moment in the run's ground truth, once a campaign has
    mapped it (:func:`with_requests`)."""

    at: int
    kind: str
    down: int
    restarted: int | None = None
    request: int | None = None

    def describe(self) -> str:
        """``after a 2xx at #12``: the ground truth's request number when known, else the transport's."""
        number = self.request if self.request is not None else self.at
        return f"{_KIND_TEXT.get(self.kind, self.kind)} at #{number}"

    def to_json(self) -> dict[str, object]:
        return {"at": self.at, "kind": self.kind, "down": self.down, "restarted": self.restarted,
                "request": self.request}


def plan_crashes(seed: int, count: int, horizon: int, *, first: int = 2) -> tuple[Crash, ...]:
    """``count`` crashes spread over requests ``first`` to ``horizon``, from the RNG ``"crashes:<seed>"``.

    Kinds cycle through :data:`CRASH_KINDS` (three crashes are one of each; one crash is right after a 2xx)
    in a seeded order; each crash leaves room for its ``down`` requests and the restart before the next.
    ``first`` is 2 so that the Events API's "Test" request (the first) always reaches a live receiver.
    """
    if count < 0:
        raise UsageError(f"crashes must be 0 or more, got {count}")
    rng = random.Random(f"crashes:{seed}")
    kinds = [CRASH_KINDS[i % len(CRASH_KINDS)] for i in range(count)]
    rng.shuffle(kinds)
    if count and "after_2xx" not in kinds[:1] and count < len(CRASH_KINDS):
        kinds[0] = "after_2xx"  # the moment that tells a durable store from a lost acknowledgement
    downs = [rng.randint(0, MAX_DOWN) for _ in range(count)]
    # each crash takes its own request, its down requests and one request after the restart
    room = sum(down + 1 for down in downs)
    slots = max(count, horizon - first + 1 - room)
    picks = sorted(rng.sample(range(slots), count))
    crashes, used = [], 0
    for pick, kind, down in zip(picks, kinds, downs, strict=True):
        crashes.append(Crash(first + pick + used, kind, down))
        used += down + 1
    return tuple(crashes)


def crash_summary(records: Sequence[CrashRecord], planned: int) -> str:
    """``3 (after a 2xx at #12, in flight at #40, before sending at #77)``, or ``none``."""
    if not planned:
        return "none"
    shown = ", ".join(record.describe() for record in records)
    text = f"{len(records)} ({shown})" if records else "0"
    if len(records) < planned:
        text += f"; {planned - len(records)} more planned, the run ended first"
    return text


class _KillAfterBody(httpx.AsyncByteStream):
    """A request body that kills the receiver once it has been handed to the socket: httpcore asks for
    the next chunk only after writing the last one."""

    def __init__(self, body: bytes, kill: Callable[[], None]) -> None:
        self._body = body
        self._kill = kill

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._body:
            yield self._body
        self._kill()


class CrashingTransport(httpx.AsyncBaseTransport):
    """Forwards every request to ``url`` (the receiver's webhook, whatever URL the sender used) and crashes
    ``process`` as ``plan`` says (module docstring); :attr:`crashes` lists the crashes that happened.

    One object serves several senders in turn (the "Test" request, the run, the probes): closing it closes
    the connections of the moment, not the plan nor the receiver.
    """

    def __init__(self, process: ReceiverProcess, url: str, plan: Sequence[Crash]) -> None:
        self.process = process
        self.url = httpx.URL(url)
        self.plan = list(plan)
        #: requests handled so far
        self.handled = 0
        self.crashes: list[CrashRecord] = []
        #: the requests (numbered as :attr:`handled`) that failed because the kit had killed the receiver:
        #: sent while it was down, or in flight when it was killed; their failure is the kit's doing
        self.casualties: list[int] = []
        self._kills = 0
        self._inner: httpx.AsyncHTTPTransport | None = None
        self._next = 0  # the index in ``plan`` of the next crash
        self._down_left = 0  # requests still to send to nothing
        self._down = False
        self._restart: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"CrashingTransport({str(self.url)!r}, {len(self.crashes)}/{len(self.plan)} crashes)"

    def _transport(self) -> httpx.AsyncHTTPTransport:
        loop = asyncio.get_running_loop()
        if self._inner is None or self._loop is not loop:
            self._inner = httpx.AsyncHTTPTransport(retries=0)
            self._loop = loop
            self._restart = asyncio.Lock()
        return self._inner

    def _due(self, number: int) -> Crash | None:
        if self._down or self._next >= len(self.plan):
            return None
        crash = self.plan[self._next]
        return crash if number >= crash.at else None

    def _kill(self) -> None:
        self._kills += 1
        self.process.kill()

    def _crashed(self, crash: Crash, number: int, *, kill: bool = True) -> None:
        if kill:
            self._kill()
        self._next += 1
        self._down = True
        self._down_left = crash.down
        self.crashes.append(CrashRecord(number, crash.kind, crash.down))

    async def _restart_if_due(self, number: int) -> None:
        """Restart the receiver before this request when its down requests are spent; the request's clock
        stands still meanwhile (the PIM would not have waited)."""
        if not self._down:
            return
        if self._down_left > 0:
            self._down_left -= 1
            return
        watch = STOPWATCH.get()
        assert self._restart is not None
        if watch is None:
            await self._restart_now(number)
            return
        with watch.paused():
            await self._restart_now(number)

    async def _restart_now(self, number: int) -> None:
        assert self._restart is not None
        async with self._restart:
            if not self._down:
                return  # another request restarted it meanwhile
            self.process.kill()  # an in-flight kill whose body never went out left it running
            await self.process.astart()
            self._down = False
            last = self.crashes[-1]
            self.crashes[-1] = CrashRecord(last.at, last.kind, last.down, restarted=number)

    def _forward(self, request: httpx.Request, body: bytes, *, kill_in_flight: bool) -> httpx.Request:
        headers = [(name, value) for name, value in request.headers.raw if name.lower() != b"host"]
        headers.insert(0, (b"Host", self.url.netloc))
        stream: httpx.AsyncByteStream = _KillAfterBody(body, self._kill) if kill_in_flight \
            else httpx.ByteStream(body)
        return httpx.Request(request.method, self.url, headers=headers, stream=stream,
                             extensions=request.extensions)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        inner = self._transport()
        body = await request.aread()
        self.handled += 1
        number = self.handled
        await self._restart_if_due(number)
        crash = self._due(number)
        if crash is not None and crash.kind == "before_send":
            self._crashed(crash, number)
            crash = None
        in_flight = crash is not None and crash.kind == "in_flight"
        if crash is not None and in_flight:
            self._crashed(crash, number, kill=False)  # recorded now, killed once the body is out (_KillAfterBody)
        pending, kills, down = self._next, self._kills, self._down
        try:
            response = await inner.handle_async_request(self._forward(request, body, kill_in_flight=in_flight))
            try:
                content = await response.aread()
            finally:
                await response.aclose()
        except httpx.TransportError:
            if down or self._kills != kills:
                self.casualties.append(number)
            raise
        if crash is not None and crash.kind == "after_2xx" and 200 <= response.status_code < 300 \
                and self._next == pending and not self._down:
            self._crashed(crash, number)  # acknowledged, then the crash
        return httpx.Response(response.status_code, headers=response.headers.raw, stream=httpx.ByteStream(content),
                              extensions={k: v for k, v in response.extensions.items() if k == "http_version"})

    def ensure_up(self) -> None:
        """Restart the receiver if the run ended while it was down, so that its observation can be read."""
        if self._down:
            self.process.kill()
            self.process.start()
            self._down = False
            last = self.crashes[-1]
            self.crashes[-1] = CrashRecord(last.at, last.kind, last.down, restarted=None)

    async def aclose(self) -> None:
        if self._inner is not None:
            inner, self._inner = self._inner, None
            await inner.aclose()


def check_crash_options(receiver_cmd: str | None, crashes: int, *, listen_timeout: float = 1.0) -> None:
    """Refuse ``crashes`` without a receiver command (the kit can only crash a receiver it runs), a negative
    count, and a command without ``{port}`` (:func:`~.process.check_command`)."""
    if isinstance(crashes, bool) or not isinstance(crashes, int) or crashes < 0:
        raise UsageError(f"--crashes must be a whole number of crashes, 0 or more, got {crashes!r}")
    if receiver_cmd is None:
        if crashes:
            raise UsageError("--crashes needs --receiver-cmd: the kit can only crash a receiver it runs itself "
                             "(e.g. --receiver-cmd \"akeneo-events serve --port {port} --store sqlite:/tmp/r.db\")")
        return
    check_command(receiver_cmd)
    if not listen_timeout > 0:
        raise UsageError(f"listen_timeout must be a positive number of seconds, got {listen_timeout!r}")


@dataclass
class LaunchedReceiver:
    """A receiver the kit started (:func:`launch_receiver`): its process, the transport that crashes it,
    and its webhook and observation URLs with the port filled in."""

    process: ReceiverProcess
    transport: CrashingTransport
    url: str
    state_url: str | None
    #: the crashes planned (they may not all happen: the run can end first)
    planned: int

    def records(self, offset: int) -> list[CrashRecord]:
        """The crashes that happened, each with its request number in the ground truth, which numbers the
        requests ``offset`` behind the transport (from 0, without the "Test" requests)."""
        return [CrashRecord(r.at, r.kind, r.down, r.restarted, r.at - 1 - offset)
                for r in self.transport.crashes]

    def casualties(self, offset: int) -> list[int]:
        """The ground truth's numbers (as in :meth:`records`) of the requests that failed because the kit
        had killed the receiver."""
        return [number - 1 - offset for number in self.transport.casualties]


def check_receiver_target(target: Any) -> None:
    """With a receiver command, the target may only be the URL of the receiver it starts (or None)."""
    if target is not None and not isinstance(target, str):
        raise UsageError("with receiver_cmd, the target is the URL of the receiver it starts (it may say "
                         "{port}), not an app: drop the target or the command")


def launch_receiver(stack: ExitStack, command: str, *, url: str, state_url: str | None,
                    env: Mapping[str, str], seed: int, crashes: int, horizon: int, first: int = 2,
                    listen_timeout: float = LISTEN_TIMEOUT) -> LaunchedReceiver:
    """Start ``command`` on a free loopback port (``stack`` kills it, whatever way the run ends) and put
    ``crashes`` seeded crashes among its requests ``first`` to ``horizon`` (:func:`plan_crashes`); ``url``
    and ``state_url`` may say ``{port}``."""
    process = ReceiverProcess(command, env=env, listen_timeout=listen_timeout)
    stack.callback(process.close)
    process.start()
    webhook = process.fill(url)
    transport = CrashingTransport(process, webhook, plan_crashes(seed, crashes, horizon, first=first))
    return LaunchedReceiver(process, transport, webhook, process.fill(state_url) if state_url else None, crashes)
