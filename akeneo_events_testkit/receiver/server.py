"""Run the reference receiver on real HTTP with uvicorn: in a background thread, or in the foreground.

:class:`ReceiverServer` is what tests use: it binds the socket itself (port 0 gives a free port known before
the first request), starts uvicorn in a thread, waits until it serves, and stops within bounded time.
:func:`serve` is the ``akeneo-events serve`` command: uvicorn in the foreground until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import json
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

import uvicorn

from ..clock import Clock
from ..errors import UsageError
from ..events_api.signing import DEFAULT_TOLERANCE
from .asgi import asgi_app
from .core import DEFAULT_MAX_BODY, ReferenceReceiver
from .stores import open_store

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "EP_WEBHOOK_PATH", "SERVE_PATHS", "WEBHOOK_PATH", "AppServer", "ReceiverServer", "logging_app", "serve",
]


#: Where ``akeneo-events serve`` answers each profile (both paths accept both; the README documents these).
WEBHOOK_PATH = "/webhook"
EP_WEBHOOK_PATH = "/ep-webhook"
SERVE_PATHS = ("/", WEBHOOK_PATH, EP_WEBHOOK_PATH)


def _bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (0 picks a free port); a port outside 0..65535 is a usage
    error (``getaddrinfo`` would silently take it modulo 65536)."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise UsageError(f"port {port!r} is not a TCP port: choose one from 0 to 65535 (0 picks a free one)")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc} (choose another --port, or 0)") from None
    sock.set_inheritable(True)
    return sock


def _base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def _webhook_path(receiver: ReferenceReceiver) -> str:
    return WEBHOOK_PATH if WEBHOOK_PATH in receiver.paths else min(receiver.paths)


def _answer_line(method: str, path: str, status: int, body: bytes, seconds: float) -> str:
    """One ``--log-requests`` line: method, path, status, events (from the receiver's JSON answer: how many
    were applied, duplicates, stale...), latency, and the reason of a refusal (never a secret: the receiver's
    messages name headers, not their values)."""
    events = ""
    reason = ""
    try:
        answer = json.loads(body) if body else None
    except ValueError:
        answer = None
    if isinstance(answer, dict):
        counts = {name: value for name, value in answer.items() if isinstance(value, int) and value
                  and not isinstance(value, bool)}
        if answer.get("test") is True:
            events = " Test request"
        elif counts or (status == 200 and method == "POST"):
            events = f" events {sum(counts.values())}" + (
                f" ({', '.join(f'{name} {value}' for name, value in counts.items())})" if counts else "")
        if isinstance(answer.get("error"), str):
            reason = f": {answer['error'][:200]}"
    return f"{method} {path} {status}{events} {seconds * 1000:.1f} ms{reason}"


def logging_app(app: Any, out: TextIO) -> Any:
    """``app`` (ASGI) printing one line per HTTP request to ``out`` once answered (:func:`_answer_line`); the
    latency runs from the request's arrival to the last byte of the answer handed to the server."""

    async def logged(scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        body = bytearray()

        async def recording_send(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and len(body) < 4096:
                body.extend(message.get("body", b"")[:4096])
            await send(message)

        try:
            await app(scope, receive, recording_send)
        finally:
            line = _answer_line(str(scope.get("method", "?")), str(scope.get("path", "/")), status, bytes(body),
                                time.perf_counter() - started)
            print(line if status else f"{line} (no answer)", file=out, flush=True)

    return logged


def _config(
    app: Any, log_level: str, access_log: bool, graceful: int, *, own_logging: bool
) -> uvicorn.Config:
    """uvicorn's settings; ``own_logging`` lets uvicorn install its log handlers (the CLI, not in tests)."""
    return uvicorn.Config(
        app,
        lifespan="on",
        log_config=uvicorn.config.LOGGING_CONFIG if own_logging else None,
        log_level=log_level,
        access_log=access_log,
        timeout_graceful_shutdown=graceful,
        server_header=False,
    )


class _Server(uvicorn.Server):
    """uvicorn's server, telling another thread when it serves."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


class AppServer:
    """Any ASGI app on ``http://host:port`` in a background thread (uvicorn), started and stopped in
    bounded time. Use as a context manager or with :meth:`start` / :meth:`stop`."""

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        log_level: str = "warning",
        access_log: bool = False,
        startup_timeout: float = 10.0,
        shutdown_timeout: float = 5.0,
    ) -> None:
        self.app = app
        self.host = host
        self.requested_port = port
        self.log_level = log_level
        self.access_log = access_log
        self.startup_timeout = startup_timeout
        self.shutdown_timeout = shutdown_timeout
        self._socket: socket.socket | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._base: str | None = None
        #: What crashed the server thread, if anything.
        self.thread_error: BaseException | None = None

    def __repr__(self) -> str:
        where = self._base or f"{self.host}:{self.requested_port} (stopped)"
        return f"{type(self).__name__}({where})"

    @property
    def base_url(self) -> str:
        if self._base is None:
            raise UsageError("the server is not running: call start() or use it in a with block")
        return self._base

    @property
    def port(self) -> int:
        if self._socket is None:
            raise UsageError("the server is not running: call start() or use it in a with block")
        return int(self._socket.getsockname()[1])

    def start(self) -> Self:
        """Bind, start uvicorn in a daemon thread and wait until it serves (at most ``startup_timeout``)."""
        if self._thread is not None:
            raise UsageError("the server is already running")
        self._socket = _bind(self.host, self.requested_port)
        graceful = max(1, int(self.shutdown_timeout))
        try:
            self._server = _Server(_config(self.app, self.log_level, self.access_log, graceful, own_logging=False))
            self._thread = threading.Thread(target=self._run, name=f"asgi-server-{self.port}", daemon=True)
            self._thread.start()
        except BaseException:
            self.stop()
            raise
        deadline = time.monotonic() + self.startup_timeout
        while not self._server.ready.wait(0.02):
            if not self._thread.is_alive() or time.monotonic() > deadline:
                error = self.thread_error
                self.stop()
                raise RuntimeError(f"the server did not start within {self.startup_timeout} s") from error
        self._base = _base_url(self._socket)
        return self

    def _run(self) -> None:
        assert self._server is not None and self._socket is not None
        try:
            self._server.run(sockets=[self._socket])
        except BaseException as exc:  # SystemExit included: uvicorn exits on a failed startup
            self.thread_error = exc

    def stop(self) -> None:
        """Shut down gracefully, forcing after ``shutdown_timeout``; safe to call twice."""
        server, thread, sock = self._server, self._thread, self._socket
        self._server = self._thread = self._socket = None
        self._base = None
        if server is not None and thread is not None:
            server.should_exit = True
            # uvicorn's own graceful period must end first, or forcing would skip the lifespan shutdown
            thread.join(max(1, int(self.shutdown_timeout)) + 2)
            if thread.is_alive():
                server.force_exit = True
                thread.join(self.shutdown_timeout)
        if sock is not None:
            sock.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ReceiverServer(AppServer):
    """The reference receiver on ``http://host:port`` in a background thread.

    ``url`` is the webhook URL, ``state_url`` the observation. The receiver (and its store) stay owned by
    the caller.
    """

    def __init__(self, receiver: ReferenceReceiver, host: str = "127.0.0.1", port: int = 0, **options: Any) -> None:
        super().__init__(asgi_app(receiver), host, port, **options)
        self.receiver = receiver

    @property
    def url(self) -> str:
        """The webhook URL to give the PIM (``/webhook`` if served, else the first webhook path)."""
        return self.base_url + _webhook_path(self.receiver)

    @property
    def state_url(self) -> str:
        if self.receiver.state_path is None:
            raise UsageError("this receiver has no state endpoint: build it with state_path='/state'")
        return self.base_url + self.receiver.state_path


@contextmanager
def _graceful_signals(server: uvicorn.Server) -> Iterator[None]:
    """SIGINT/SIGTERM ask uvicorn to shut down gracefully, before, during and after its own handlers.

    uvicorn installs its handlers while it runs and, once done, re-raises the signal to the handler found
    before it; ours then returns quietly so that the caller can close the store (the default SIGTERM
    handler would kill the process first). A second Ctrl-C forces the exit.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if server.should_exit and signum == signal.SIGINT:
            server.force_exit = True
        server.should_exit = True

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def serve(
    secret: str,
    host: str = "127.0.0.1",
    port: int = 8000,
    store_spec: str = "memory",
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    tie_break: str = "later",
    max_body: int = DEFAULT_MAX_BODY,
    clock: Clock | None = None,
    log_level: str = "warning",
    access_log: bool = False,
    out: TextIO | None = None,
    own_client_id: str | None = None,
    log_requests: bool = False,
    paths: tuple[str, ...] = SERVE_PATHS,
    **receiver_options: Any,
) -> None:
    """Serve the reference receiver in the foreground until SIGINT or SIGTERM, then close the store.

    Both profiles are answered on every path of ``paths``, told apart by their headers; the first line
    printed names the Events API URL (``/webhook``), the Event Platform URL (``/ep-webhook``), the client id
    whose events are dropped as the receiver's own (event-platform-facts.md section 6) and the state URL,
    never the secret. ``log_requests`` prints one line per request (:func:`logging_app`).
    """
    out = out or sys.stdout
    sock = _bind(host, port)  # a bad port or a busy one is refused before the store is touched
    try:
        store = open_store(store_spec)
    except BaseException:
        sock.close()
        raise
    try:
        receiver = ReferenceReceiver(
            secret, store=store, clock=clock, tolerance=tolerance, tie_break=tie_break, max_body=max_body,
            paths=paths, own_client_id=own_client_id, **receiver_options,
        )
        app = asgi_app(receiver)
        server = uvicorn.Server(_config(logging_app(app, out) if log_requests else app, log_level, access_log, 5,
                                        own_logging=True))
        base = _base_url(sock)
        state = base + receiver.state_path if receiver.state_path else "disabled"
        ep = f"{base}{EP_WEBHOOK_PATH} (Event Platform" if EP_WEBHOOK_PATH in receiver.paths else "(Event Platform"
        own = f"drops events of client id {own_client_id}" if own_client_id else "drops no client's events"
        print(
            f"Receiving Akeneo events at {base}{_webhook_path(receiver)} (Events API) and {ep}, {own}); "
            f"state: {state}; Ctrl-C to stop",
            file=out,
            flush=True,
        )
        with _graceful_signals(server):
            server.run(sockets=[sock])
    finally:
        sock.close()
        store.close()
