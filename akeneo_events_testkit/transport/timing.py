"""Time the receiver's answer, not the kit's own stalls: the latency that ``slow_ack`` judges.

The PIM gives up on a request after 0.5 s of wall-clock time for the whole transfer (events-api-facts.md
section 1), the Event Platform after 5 s (event-platform-facts.md section 3). The kit plays the PIM on the
receiver's machine, and for an in-process app inside the receiver's very process, so a stopwatch held around
the request also times the kit: its event loop busy elsewhere, its garbage collector scanning the ground
truth, other processes of a loaded machine taking the CPU. A verdict must not depend on how loaded the
machine is. A :class:`Stopwatch` times one exchange by adding up two things:

* **idle time**: wall-clock time during which no thread of the kit's process was on a CPU or waiting in a
  run queue for one. The process was then waiting on something outside itself: the receiver's ``sleep``,
  its database, a REST call it made, the network, a receiver in another process. Linux's per-thread
  scheduler statistics (``/proc/self/task/<tid>/schedstat``: time on a CPU, time runnable in a run queue)
  give the rest, so everything the kit's threads did (its CPU, its garbage collections, its event loop busy
  with other work) and every wait for a CPU that the machine's load imposed are left out;
* **the handler's CPU time**, for in-process apps only: the CPU time of the thread running the app, while
  it runs it (each step of an ASGI app's coroutine; a WSGI app's call and the iteration of its body), minus
  the garbage collections that ran in that thread: their length comes from the kit's heap, not the receiver.

The clock runs from the moment the request is sent until the answer is complete: an in-process app's last
body chunk (work an app does after answering is not the PIM's business), or the last byte read over HTTP.
It never exceeds the wall-clock time. A thread still waiting for a CPU at that moment has not reported its
wait yet; the sender lets the stopwatch count it once the thread has run (:meth:`Stopwatch.settled`), as
busy time. The :class:`~.sender.Sender` gives up on a request when this clock, not the wall clock, reaches
the timeout, so a stall of the kit cannot turn a timely answer into a timeout.

Why a correct in-process receiver cannot be flagged (:data:`Timing.HANDLER`): it answers with milliseconds
of CPU and never waits on the outside world, so neither preemption (run-queue time), the kit's work (busy
time) nor a collection (subtracted) adds to its clock, however loaded the machine. A receiver that sleeps
or blocks on I/O 0.6 s spends 0.6 s idle and is caught; so is one that burns 0.6 s of CPU in its handler.

Over HTTP (:data:`Timing.EXCHANGE`) the kit's own stalls are left out the same way, but a loaded machine can
also slow a receiver the kit cannot see into, so the oracle confirms slowness before it calls it an error
(:func:`~akeneo_events_testkit.judging.checks.answers`). Without scheduler statistics (macOS, Windows,
:data:`Timing.ROUGH`) the kit's CPU time is left out but its waits for a CPU are not, and slowness needs
confirming for every target.

Limits. These undercount, so none can flag a correct receiver: CPU that a handler hands to another thread
of the process is busy time, not counted (its blocking waits still are); any thread of the kit's process
busy or waiting for a CPU while the receiver sleeps shortens the idle time credited to it (uvicorn serving
a receiver in the kit's own process wakes every 0.1 s: on a loaded machine a 0.6 s sleep can come out a
fifth shorter; a receiver in another process is not affected; the mock PIM preparing its next request
while one is in flight, about a millisecond of CPU, shortens a slow receiver's time by as much). These
overcount, by far less than 0.5 s:
a thread that ends during the exchange, a wait for a CPU not settled within 0.1 s, and the host's steal
time in a virtual machine that accounts it (CONFIG_PARAVIRT_TIME_ACCOUNTING). Measured on 2 loaded cores
(8 campaigns in parallel beside 2 CPU hogs, 16,000 requests), correct in-process receivers stayed under
0.025 s (the first request's warm-up CPU; under 0.004 s after it), also with a CPU hog thread in the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import threading
import time
from collections.abc import Awaitable, Callable, Generator, Iterator, MutableMapping
from contextvars import ContextVar
from enum import Enum
from typing import Any

__all__ = [
    "GC_CLOCK",
    "RUN_QUEUE_STATS",
    "STOPWATCH",
    "GcClock",
    "Stopwatch",
    "Timing",
    "timed_asgi",
]


class Timing(str, Enum):
    """How an answer was timed, which tells whether its slowness needs confirming."""

    HANDLER = "handler"  # an in-process app: its own CPU and idle time, the kit's and the machine's load out
    EXCHANGE = "exchange"  # over HTTP or a foreign transport: the kit's load out, the receiver's side unseen
    ROUGH = "rough"  # no scheduler statistics: the kit's CPU time out, its waits for a CPU in

    def __str__(self) -> str:
        return self.value


_TASKS = "/proc/self/task"


def _read(path: str) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None  # the thread has just ended
    try:
        return os.read(fd, 512)
    except OSError:
        return None
    finally:
        os.close(fd)


def _thread_stats(tids: list[str] | None = None) -> dict[str, tuple[int, int]]:
    """Per thread of this process (or of ``tids``): nanoseconds spent on a CPU or runnable in a run queue,
    and timeslices run."""
    stats: dict[str, tuple[int, int]] = {}
    for tid in os.listdir(_TASKS) if tids is None else tids:
        data = _read(f"{_TASKS}/{tid}/schedstat")
        if data is not None:
            on_cpu, waited, slices = data.split()[:3]
            stats[tid] = (int(on_cpu) + int(waited), int(slices))
    return stats


def _runnable(tids: list[str]) -> list[str]:
    """Those of ``tids`` in state R: on a CPU, or waiting in a run queue for one."""
    found = []
    for tid in tids:
        data = _read(f"{_TASKS}/{tid}/stat")
        if data is not None and data[data.rindex(b")") + 2:][:1] == b"R":
            found.append(tid)
    return found


def _has_run_queue_stats() -> bool:
    try:
        return bool(_thread_stats())
    except (OSError, ValueError, IndexError):
        return False


#: Whether this OS reports per-thread run-queue time (Linux); without it answers are timed :data:`Timing.ROUGH`.
RUN_QUEUE_STATS = _has_run_queue_stats()


class GcClock:
    """The CPU time garbage collections took, per thread (``gc.callbacks`` run in the collecting thread).

    Installed while at least one :class:`~.sender.Sender` is open (:meth:`acquire` / :meth:`release`), so
    that a user's process keeps no callback of the kit once it is done.
    """

    def __init__(self) -> None:
        self.spent: dict[int, float] = {}
        self._began: dict[int, float] = {}
        self._users = 0
        self._lock = threading.Lock()

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        ident = threading.get_ident()
        if phase == "start":
            self._began[ident] = time.thread_time()
            return
        began = self._began.pop(ident, None)
        if began is not None:
            self.spent[ident] = self.spent.get(ident, 0.0) + time.thread_time() - began

    def of_this_thread(self) -> float:
        return self.spent.get(threading.get_ident(), 0.0)

    def acquire(self) -> None:
        with self._lock:
            if self._users == 0:
                gc.callbacks.append(self)
            self._users += 1

    def release(self) -> None:
        with self._lock:
            self._users -= 1
            if self._users == 0 and self in gc.callbacks:
                gc.callbacks.remove(self)


#: The one collector clock of the process.
GC_CLOCK = GcClock()


class Stopwatch:
    """Times one exchange as the receiver's time (see the module docstring).

    The sender starts it when it sends; an in-process app's wrapper adds the handler's CPU time
    (:meth:`cpu_mark` or :meth:`enter`, then :meth:`add_handler_cpu`) and stops it when the answer is
    complete (:meth:`answered`), from whichever thread runs the app; the sender then lets it account the
    waits for a CPU still under way at that moment (:meth:`settled`). :meth:`elapsed` can be read at any time.
    """

    def __init__(self, timing: Timing, *, run_queue: bool = True) -> None:
        self.timing = timing
        self._run_queue = run_queue
        # statistics first, then the clock: reading them releases the GIL, and what other threads do before
        # the clock starts must count as busy time (the safe side), not as idle time inside the window
        self._stats = _thread_stats() if run_queue else {}
        self._cpu = 0.0 if run_queue else time.process_time()
        self.started = time.perf_counter()
        self.handler_cpu = 0.0
        self._final: float | None = None
        #: the CPU clock of a handler running in another thread, its reading and its collector time at entry
        self._running: tuple[int, float, int, float] | None = None
        #: at the end: the wall-clock time, idle time and handler time; and the threads runnable then
        self._end: tuple[float, float, float] = (0.0, 0.0, 0.0)
        self._pending: dict[str, tuple[int, int]] = {}
        #: the receiver's time before the last pause, and its reading while paused (:meth:`paused`)
        self._offset = 0.0
        self._held: float | None = None

    def _busy(self, now: dict[str, tuple[int, int]] | None = None) -> float:
        """Seconds the process's threads spent on a CPU or (with run-queue statistics) waiting for one."""
        if not self._run_queue:
            return time.process_time() - self._cpu
        before = self._stats
        stats = _thread_stats() if now is None else now
        return sum(max(0, busy - before.get(tid, (0, 0))[0]) for tid, (busy, _) in stats.items()) / 1e9

    def _measure(self) -> float:
        if self._held is not None:
            return self._held
        wall = time.perf_counter() - self.started
        return self._offset + min(wall, max(0.0, wall - self._busy()) + self.handler_cpu + self._running_cpu())

    @property
    def held(self) -> bool:
        """Whether the clock stands still now (:meth:`paused`)."""
        return self._held is not None

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """The clock stands still inside this block, then runs on from where it stood.

        For the kit's own waits inside an exchange: restarting a receiver it crashed on purpose
        (:mod:`.crashes`) takes a second or more, which no PIM would wait and no receiver should be charged
        for. The sender never gives a request up while its clock is paused.
        """
        if self._final is not None or self._held is not None:
            yield
            return
        self._held = self._measure()
        try:
            yield
        finally:
            offset = self._held
            self._stats = _thread_stats() if self._run_queue else {}
            self._cpu = 0.0 if self._run_queue else time.process_time()
            self.started = time.perf_counter()
            self.handler_cpu = 0.0
            self._offset = offset
            self._held = None

    def _running_cpu(self) -> float:
        """The CPU time so far of a handler still running in another thread (a WSGI app), collections out."""
        running = self._running
        if running is None:
            return 0.0
        clock, cpu, ident, collected = running
        try:
            spent = time.clock_gettime(clock) - cpu
        except OSError:  # the thread is gone
            return 0.0
        return max(0.0, spent - (GC_CLOCK.spent.get(ident, 0.0) - collected))

    def elapsed(self) -> float:
        """The receiver's time so far, or its total once the answer is complete."""
        final = self._final
        return self._measure() if final is None else final

    def answered(self) -> None:
        """The answer is complete: the clock stops (later calls change nothing but :meth:`settle`)."""
        if self._final is not None:
            return
        wall = time.perf_counter() - self.started
        now = _thread_stats() if self._run_queue else None
        idle = max(0.0, wall - self._busy(now))
        spent = self.handler_cpu + self._running_cpu()
        self._end = (wall, idle, spent)
        if now is not None:
            others = [tid for tid in now if tid != str(threading.get_native_id())]
            self._pending = {tid: now[tid] for tid in _runnable(others)}
        self._final = self._offset + min(wall, idle + spent)

    def settle(self) -> bool:
        """Count the waits for a CPU that were under way when the answer completed: a thread waiting in a run
        queue then (say, handed the GIL while the machine kept it off a CPU) only reports its wait once it
        runs, and that wait may have held the handler up. Each thread that has run since adds all its busy
        time since then (more than that wait: the safe side). True once none is left to wait for."""
        if self._final is None or not self._pending:
            return True
        later = _thread_stats(list(self._pending))
        extra = 0.0
        for tid, (busy, slices) in list(self._pending.items()):
            now = later.get(tid)
            if now is None or now[1] > slices:
                extra += 0.0 if now is None else max(0, now[0] - busy) / 1e9
                del self._pending[tid]
        wall, idle, spent = self._end
        self._end = (wall, max(0.0, idle - extra), spent)
        self._final = self._offset + min(wall, self._end[1] + spent)
        return not self._pending

    async def settled(self, patience: float = 0.1) -> None:
        """:meth:`settle`, waiting up to ``patience`` seconds for the threads to run."""
        give_up = time.perf_counter() + patience
        while not self.settle() and time.perf_counter() < give_up:
            await asyncio.sleep(0.002)

    @property
    def stopped(self) -> bool:
        return self._final is not None

    @staticmethod
    def cpu_mark() -> tuple[float, float]:
        """This thread's CPU time and collector time now, to pass to :meth:`add_handler_cpu`."""
        return time.thread_time(), GC_CLOCK.of_this_thread()

    def enter(self) -> tuple[float, float]:
        """:meth:`cpu_mark`, for a handler that runs in this thread while the sender waits in another: its
        CPU time counts before it ends, so that a handler burning CPU is cut at the timeout."""
        mark = self.cpu_mark()
        clock_of = getattr(time, "pthread_getcpuclockid", None)
        if clock_of is not None:
            ident = threading.get_ident()
            clock = clock_of(ident)
            self._running = (clock, time.clock_gettime(clock), ident, mark[1])
        return mark

    def add_handler_cpu(self, mark: tuple[float, float]) -> None:
        """Count the CPU time this thread spent since ``mark`` running the app, collections left out."""
        cpu, collected = mark
        spent = (time.thread_time() - cpu) - (GC_CLOCK.of_this_thread() - collected)
        self._running = None  # first: a reading in between may miss this CPU time, never count it twice
        self.handler_cpu += max(0.0, spent)


#: The stopwatch of the request being sent, seen by the in-process apps' wrappers (context variables follow
#: the request into the task that runs an ASGI app and into the worker thread of a WSGI app).
STOPWATCH: ContextVar[Stopwatch | None] = ContextVar("akeneo_events_testkit_stopwatch", default=None)

ASGIMessage = MutableMapping[str, Any]
ASGIApp = Callable[[MutableMapping[str, Any], Callable[[], Awaitable[ASGIMessage]],
                    Callable[[ASGIMessage], Awaitable[None]]], Awaitable[None]]


class _Steps:
    """Runs an app's coroutine, adding the CPU time of each of its steps to a stopwatch.

    Time the coroutine spends suspended (awaiting a sleep, a thread, I/O) is not its CPU time; the
    stopwatch counts it when the process is idle meanwhile, and leaves it out when the kit's event loop
    runs other work instead.
    """

    def __init__(self, watch: Stopwatch) -> None:
        self.watch = watch
        self._mark: tuple[float, float] | None = None

    def flush(self) -> None:
        """Count the running step's CPU time so far (the app answers in the middle of a step)."""
        if self._mark is not None:
            self.watch.add_handler_cpu(self._mark)
            self._mark = self.watch.cpu_mark()

    def run(self, awaitable: Awaitable[Any]) -> Generator[Any, Any, Any]:
        steps = awaitable.__await__()
        value: Any = None
        error: BaseException | None = None
        while True:
            self._mark = self.watch.cpu_mark()
            try:
                signal = steps.send(value) if error is None else steps.throw(error)
            except StopIteration as stop:
                return stop.value
            finally:
                if self._mark is not None:
                    self.watch.add_handler_cpu(self._mark)
                self._mark = None
            try:
                value, error = (yield signal), None
            except GeneratorExit:
                steps.close()
                raise
            except BaseException as exc:  # a cancellation, or an exception set on the awaited future
                value, error = None, exc


class _Awaiting:
    def __init__(self, steps: _Steps, awaitable: Awaitable[Any]) -> None:
        self._run = steps.run(awaitable)

    def __await__(self) -> Generator[Any, Any, Any]:
        return self._run


def timed_asgi(app: ASGIApp) -> ASGIApp:
    """``app``, timed by the current :data:`STOPWATCH` (if any): its steps' CPU time, and the end of the
    answer at its last ``http.response.body`` message."""

    async def timed(scope: MutableMapping[str, Any], receive: Callable[[], Awaitable[ASGIMessage]],
                    send: Callable[[ASGIMessage], Awaitable[None]]) -> None:
        watch = STOPWATCH.get()
        if watch is None or scope.get("type") != "http":
            await app(scope, receive, send)
            return
        steps = _Steps(watch)

        async def timed_send(message: ASGIMessage) -> None:
            await send(message)
            if message.get("type") == "http.response.body" and not message.get("more_body", False):
                steps.flush()
                watch.answered()

        try:
            await _Awaiting(steps, app(scope, receive, timed_send))
        finally:
            watch.answered()

    return timed
