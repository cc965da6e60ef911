"""A receiver the kit runs itself, from a command line: started, killed and restarted on one loopback port.

Crash injection (:mod:`.crashes`) needs a receiver it can SIGKILL and start again with the same command and
port, and a run must never leave that receiver behind: an orphan keeps the port, its store and a CPU. So the
command runs in its own session (``start_new_session=True``: its own process group, out of reach of the
terminal's Ctrl-C, which the kit handles instead), :meth:`ReceiverProcess.kill` sends SIGKILL to the whole
group and reaps the child, and every live process is killed on every way out: the context manager, an
:mod:`atexit` hook, and the CLI's SIGINT/SIGTERM handling (which raise through the context manager).

Its output (standard output and error merged) is drained by a thread into a bounded buffer: a chatty
receiver never blocks on a full pipe, and the last lines name what went wrong when it does not start.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import contextlib
import os
import shlex
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from types import TracebackType
from typing import IO

from ..errors import ReceiverCommandFailed, UsageError

__all__ = [
    "ANNOUNCE",
    "LISTEN_TIMEOUT",
    "PORT_PLACEHOLDER",
    "ReceiverProcess",
    "check_command",
    "free_port",
]


#: Seconds a receiver command gets to listen on its port, at its start and at each restart.
LISTEN_TIMEOUT = 20.0

#: What a receiver command, ``--url`` and ``--state-url`` write where the kit's chosen port goes.
PORT_PLACEHOLDER = "{port}"

#: Lines of the receiver's output kept for error messages.
_TAIL_LINES = 20

#: Seconds between two looks at the port while a receiver starts (it gives no other sign of being ready).
_POLL = 0.02

#: Told of each start of a receiver (a line naming the command, port and pid), when set: the CLI prints it,
#: so that a person sees which process the kit runs and kills.
ANNOUNCE: ContextVar[Callable[[str], None] | None] = ContextVar("akeneo_events_testkit_announce", default=None)

_LIVE: set[ReceiverProcess] = set()
_LIVE_LOCK = threading.Lock()


def _kill_all() -> None:
    """The :mod:`atexit` hook: no receiver outlives the kit, whatever path the kit exits by."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for process in live:
        process.kill()


atexit.register(_kill_all)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (the OS picks it; another process could take it before the receiver does,
    in which case the receiver fails to start with its own message)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def check_command(command: str, *, option: str = "--receiver-cmd") -> list[str]:
    """``command`` split like a shell would (:func:`shlex.split`), refused when it is empty, cannot be split,
    or has no ``{port}`` (the kit chooses the port, so the receiver must be told it)."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise UsageError(f"{option} {command!r} cannot be split like a shell line: {exc}") from None
    if not argv:
        raise UsageError(f"{option} is empty: give the command that starts the receiver, with {PORT_PLACEHOLDER} "
                         "where its port goes")
    if PORT_PLACEHOLDER not in command:
        raise UsageError(f"{option} {command!r} has no {PORT_PLACEHOLDER}: write it where the receiver takes its "
                         f"port, e.g. \"akeneo-events serve --port {PORT_PLACEHOLDER} --store sqlite:/tmp/r.db\"; "
                         "the kit picks a free loopback port and restarts the receiver on it")
    return argv


class ReceiverProcess:
    """The receiver started from ``command`` with ``{port}`` replaced by :attr:`port` (a free loopback port
    unless given); :meth:`start` returns once it listens.

    ``env`` is added to the kit's environment (the secret goes this way: ``AKENEO_EVENTS_SECRET``). Use it as
    a context manager, or call :meth:`close`; the process is killed at exit anyway.
    """

    def __init__(self, command: str, *, port: int | None = None, env: Mapping[str, str] | None = None,
                 host: str = "127.0.0.1", listen_timeout: float = LISTEN_TIMEOUT) -> None:
        if listen_timeout <= 0:
            raise UsageError(f"listen_timeout must be a positive number of seconds, got {listen_timeout!r}")
        self.command = command
        self.host = host
        self.port = free_port(host) if port is None else port
        self.argv = [part.replace(PORT_PLACEHOLDER, str(self.port)) for part in check_command(command)]
        self.env = {**os.environ, **(env or {})}
        self.listen_timeout = listen_timeout
        #: how many times the receiver was started (1 after :meth:`start`, 2 after the first restart...)
        self.starts = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._tail: collections.deque[str] = collections.deque(maxlen=_TAIL_LINES)
        self._reader: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"ReceiverProcess({self.command!r}, port={self.port}, pid={self.pid})"

    def __enter__(self) -> ReceiverProcess:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        """The process id of the receiver running now (also its process group id), None when it is down."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def fill(self, template: str) -> str:
        """``template`` (a URL) with ``{port}`` replaced by the receiver's port."""
        return template.replace(PORT_PLACEHOLDER, str(self.port))

    def output_tail(self) -> str:
        """The last lines the receiver printed since it was last started."""
        return "\n".join(self._tail)

    # -- starting ------------------------------------------------------------------------------------

    def spawn(self) -> None:
        """Start the command (without waiting for it to listen); a command that cannot run is an error."""
        if self._process is not None:
            raise UsageError("the receiver is already running: kill() it first")
        self._tail = collections.deque(maxlen=_TAIL_LINES)
        try:
            process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, env=self.env, start_new_session=True)
        except OSError as exc:  # not found, not executable
            raise ReceiverCommandFailed(self.command, f"cannot be started: {exc.strerror or exc}", "") from None
        self._process = process
        with _LIVE_LOCK:
            _LIVE.add(self)
        self.starts += 1
        announce = ANNOUNCE.get()
        if announce is not None:
            verb = "started" if self.starts == 1 else f"restarted (start {self.starts})"
            announce(f"receiver: {verb} {self.command!r} on port {self.port} (pid {process.pid})")
        assert process.stdout is not None
        self._reader = threading.Thread(target=self._drain, args=(process.stdout, self._tail),
                                        name="akeneo-events-receiver-output", daemon=True)
        self._reader.start()

    @staticmethod
    def _drain(stream: IO[bytes], tail: collections.deque[str]) -> None:
        with stream:
            for line in stream:
                tail.append(line.decode("utf-8", errors="replace").rstrip())

    def _listening(self) -> bool:
        with socket.socket() as conn:
            return conn.connect_ex((self.host, self.port)) == 0

    def _not_ready(self, started: float) -> ReceiverCommandFailed | None:
        """An error when the receiver exited or ran out of time; None while it may still come up."""
        process = self._process
        assert process is not None
        code = process.poll()
        if code is not None:
            self._reap()
            return ReceiverCommandFailed(self.command, f"exited with status {code} before listening on port "
                                                       f"{self.port}", self.output_tail())
        if time.monotonic() - started > self.listen_timeout:
            self.kill()
            return ReceiverCommandFailed(self.command, f"did not listen on port {self.port} within "
                                                       f"{self.listen_timeout:g} s", self.output_tail())
        return None

    def start(self) -> None:
        """Start the receiver and wait until it listens; on failure it is killed and the error names the
        command and its last output lines."""
        self.spawn()
        started = time.monotonic()
        try:
            while not self._listening():
                error = self._not_ready(started)
                if error is not None:
                    raise error
                time.sleep(_POLL)  # another process opens the port: there is nothing to wait on instead
        except BaseException:
            self.kill()
            raise

    async def astart(self) -> None:
        """:meth:`start` inside an event loop: the waits let other tasks run, and a cancellation (Ctrl-C)
        stops it at once (the receiver is then killed)."""
        self.spawn()
        started = time.monotonic()
        try:
            while not self._listening():
                error = self._not_ready(started)
                if error is not None:
                    raise error
                await asyncio.sleep(_POLL)
        except BaseException:
            self.kill()
            raise

    def restart(self) -> None:
        """Kill the receiver if it runs, then start it again with the same command and port."""
        self.kill()
        self.start()

    # -- stopping ------------------------------------------------------------------------------------

    def kill(self) -> None:
        """SIGKILL the receiver's whole process group and reap it (a crash: no chance to flush anything).
        Does nothing when it is down."""
        process = self._process
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
            os.killpg(process.pid, signal.SIGKILL)
        self._reap()

    def _reap(self) -> None:
        process = self._process
        if process is None:
            return
        process.wait()
        # the group's other members (a shell's children) die with the signal; give them a moment to go, so
        # that a restart finds the port free (bounded: one left a zombie must not hang the kit)
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            try:
                os.killpg(process.pid, 0)
            except (ProcessLookupError, PermissionError):
                break
            time.sleep(0.005)
        if self._reader is not None:
            self._reader.join(timeout=2.0)
            self._reader = None
        self._process = None
        with _LIVE_LOCK:
            _LIVE.discard(self)

    def close(self) -> None:
        """:meth:`kill`: the receiver is stopped the way it is crashed (its store must survive that anyway)."""
        self.kill()
