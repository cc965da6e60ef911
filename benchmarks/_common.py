"""Shared helpers of the benchmarks: import path, workloads, interleaved timing, loopback servers, output.

Every benchmark is a plain script timed with ``time.perf_counter``. A figure is always a ratio against a
baseline measured in the same process, in the same run, interleaved round by round so that a slower or
faster moment of the machine hits both sides alike. Nothing here leaves 127.0.0.1, and every loop is
bounded both in count and in time.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout, installed or not
    sys.path.insert(0, str(ROOT))

LOOPBACK = "127.0.0.1"
SECRET = "benchmark-secret-0123456789abcdefghijklmnopqrstuv"


# -- command line and output ---------------------------------------------------------------------------------


def parser(description: str) -> argparse.ArgumentParser:
    parsed = argparse.ArgumentParser(description=description)
    parsed.add_argument("--quick", action="store_true", help="smaller workloads (the whole suite in ~2 min)")
    parsed.add_argument("--json", metavar="PATH", help="also append the results as JSON lines to PATH")
    return parsed


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "platform": platform.platform(terse=True),
        "date": datetime.date.today().isoformat(),
        "load_1min": round(os.getloadavg()[0], 2),  # other work on the machine makes every figure noisier
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def emit(args: argparse.Namespace, result: dict[str, Any]) -> None:
    """Print one result line and append it to ``--json``."""
    result = {**result, "machine": machine(), "command": " ".join(["python3", *sys.argv])}
    shown = {k: v for k, v in result.items() if k not in ("machine", "command", "details")}
    print("RESULT " + json.dumps(shown, sort_keys=False))
    if args.json:
        with open(args.json, "a", encoding="utf-8") as out:
            out.write(json.dumps(result) + "\n")


def header(title: str) -> None:
    info = machine()
    print(
        f"== {title} ({info['cores']} cores, {info['cpu']}, Python {info['python']}, {info['date']}, "
        f"load {info['load_1min']})"
    )
    if info["load_1min"] > 1.0:
        print("   warning: the machine is busy (1-minute load > 1 on 2 cores): figures will be noisy")


# -- workloads ------------------------------------------------------------------------------------------------


def realistic_events(*, seed: int, events: int, profile: str = "saas") -> list[Any]:
    """The events of a faultless :class:`MockPim` run, built offline, in delivery order."""
    from akeneo_events_testkit.events_api.pim import MockPim

    pim = MockPim(seed=seed, events=events, profile=profile)
    return [event for delivery in pim.deliveries(secret=SECRET) for event in delivery.events]


def envelopes(events: list[Any], size: int = 10) -> list[dict[str, Any]]:
    """Full ``{"events": [...]}`` envelopes of ``size`` events each (the PIM's largest, most common batch)."""
    return [
        {"events": [event.to_dict() for event in events[start : start + size]]}
        for start in range(0, len(events) - size + 1, size)
    ]


# -- timing ---------------------------------------------------------------------------------------------------


def interleaved(contenders: dict[str, Callable[[], int]], *, rounds: int, budget: float) -> dict[str, dict[str, float]]:
    """Run each contender once per round, alternating, until ``rounds`` rounds or ``budget`` seconds.

    Each call returns how many operations it made; the result per contender is the median rate over rounds
    (ops/s), the best rate, and the number of rounds run. The first round is a warm-up and is not counted.
    """
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    deadline = time.perf_counter() + budget
    for index in range(rounds + 1):
        order = list(contenders.items())
        if index % 2:
            order.reverse()
        for name, function in order:
            started = time.perf_counter()
            count = function()
            elapsed = time.perf_counter() - started
            if index:
                rates[name].append(count / elapsed)
        if index >= 3 and time.perf_counter() > deadline:
            break
    return {
        name: {"median": statistics.median(values), "best": max(values), "rounds": len(values)}
        for name, values in rates.items()
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


# -- loopback servers -----------------------------------------------------------------------------------------


async def trivial_app(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
    """A raw ASGI app answering every request 200 with an empty JSON object, after reading the body."""
    if scope["type"] == "lifespan":
        from akeneo_events_testkit.receiver.asgi import lifespan

        await lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")],
        }
    )
    await send({"type": "http.response.body", "body": b"{}"})


def bind_loopback() -> socket.socket:
    # proto must be IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted sockets only then. With proto 0 a
    # response written in two parts (headers, body) waits for the client's delayed ACK: 40 ms per request.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, 0))
    sock.listen(256)
    sock.set_inheritable(True)
    return sock


class AppServer:
    """An ASGI app served by uvicorn on 127.0.0.1 in a background thread, configured like ReceiverServer.

    ``ReceiverServer`` only serves a :class:`ReferenceReceiver`; this is the same recipe (socket bound first,
    uvicorn in a daemon thread, bounded start and stop) for any app, e.g. :func:`trivial_app`.
    """

    def __init__(self, app: Any, *, startup_timeout: float = 10.0) -> None:
        import uvicorn

        self._sock = bind_loopback()
        config = uvicorn.Config(
            app,
            lifespan="on",
            log_config=None,
            log_level="warning",
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)
        self._startup_timeout = startup_timeout
        host, port = self._sock.getsockname()[:2]
        self.url = f"http://{host}:{port}/webhook"

    def __enter__(self) -> AppServer:
        self._thread.start()
        deadline = time.monotonic() + self._startup_timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the benchmark server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(5)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(5)
        self._sock.close()


class ChildServer:
    """A loopback server in a child process (``benchmarks/_serve.py``), so that it has a core of its own.

    The child prints its URL on its first line, then serves until its standard input closes; its CPU time
    is read from ``/proc`` so that server-side cost per request can be reported independently of the client.
    """

    def __init__(self, *args: str, startup_timeout: float = 30.0) -> None:
        self._args = [sys.executable, str(Path(__file__).with_name("_serve.py")), *args]
        self._startup_timeout = startup_timeout
        self.url = ""
        self.state_url = ""

    def __enter__(self) -> ChildServer:
        self._proc = subprocess.Popen(self._args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._proc.stdout is not None
        ready = threading.Event()
        line: list[str] = []

        def read_first_line() -> None:
            assert self._proc.stdout is not None
            line.append(self._proc.stdout.readline())
            ready.set()

        threading.Thread(target=read_first_line, daemon=True).start()
        if not ready.wait(self._startup_timeout) or not line[0].strip():
            self._stop()
            raise RuntimeError(f"benchmark child server did not start: {self._args}")
        self.url, self.state_url = json.loads(line[0])
        return self

    def cpu_seconds(self) -> float:
        """User + system CPU time of the child so far."""
        fields = Path(f"/proc/{self._proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def _stop(self) -> None:
        try:
            if self._proc.stdin is not None:
                self._proc.stdin.close()
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.terminate()  # our own child, by its pid
            self._proc.wait(5)

    def __exit__(self, *exc: object) -> None:
        self._stop()


def run_async(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
