"""The reference receiver over real HTTP on loopback: uvicorn in a thread, and ``serve`` in a subprocess."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.errors import UsageError
from akeneo_events_testkit.events_api.wire import Delivery
from akeneo_events_testkit.receiver import ReceiverServer, ReferenceReceiver, SqliteStore

from ..support.events import NOW, SECRET, event
from ..support.paths import ROOT


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReceiverServer]:
    store = SqliteStore(tmp_path_factory.mktemp("receiver") / "receiver.db")
    receiver = ReferenceReceiver(SECRET, store=store, clock=FakeClock(NOW))
    with ReceiverServer(receiver) as running:
        yield running
    store.close()


@pytest.fixture
def live(server: ReceiverServer) -> Iterator[ReceiverServer]:
    server.receiver.reset()
    yield server
    assert server.receiver.internal_errors == []
    assert server.thread_error is None


def test_urls_and_a_delivery(live: ReceiverServer) -> None:
    assert live.url == f"http://127.0.0.1:{live.port}/webhook"
    assert live.state_url == f"http://127.0.0.1:{live.port}/state"
    delivery = Delivery.build([event()], secret=SECRET, timestamp=NOW)
    response = httpx.post(live.url, content=delivery.body, headers=list(delivery.headers))
    assert (response.status_code, response.json()["applied"]) == (200, 1)
    assert "server" not in response.headers
    assert httpx.get(live.state_url).json()["applied"] == list(delivery.event_ids)


def test_same_event_on_eight_connections_is_applied_once(live: ReceiverServer) -> None:
    delivery = Delivery.build([event()], secret=SECRET, timestamp=NOW)
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def deliver() -> None:
        with httpx.Client() as client:
            barrier.wait()
            statuses.append(client.post(live.url, content=delivery.body, headers=list(delivery.headers)).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert statuses == [200] * 8
    assert httpx.get(live.state_url).json()["applied"] == list(delivery.event_ids)
    assert live.receiver.stats()["events"] == {"applied": 1, "duplicates": 7, "stale": 0}


def test_large_content_length_is_refused_before_the_body(live: ReceiverServer) -> None:
    with socket.create_connection(("127.0.0.1", live.port), timeout=5) as conn:
        conn.sendall(
            b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 20000000\r\nExpect: 100-Continue\r\n\r\n"
        )
        head = conn.recv(4096)
    assert head.startswith(b"HTTP/1.1 413 ")
    assert b"connection: close" in head.lower()


def test_routing_over_http(live: ReceiverServer) -> None:
    assert httpx.get(live.url).status_code == 405
    assert httpx.post(live.state_url).headers["allow"] == "GET"
    assert httpx.get(live.url.replace("/webhook", "/nope")).status_code == 404
    assert httpx.post(live.url, content=b"{}").status_code == 401


def test_start_and_stop_are_bounded_and_idempotent() -> None:
    server = ReceiverServer(ReferenceReceiver(SECRET), startup_timeout=5, shutdown_timeout=2)
    with pytest.raises(UsageError):
        _ = server.url
    started = time.monotonic()
    with server:
        port = server.port
        assert httpx.get(server.state_url).status_code == 200
    server.stop()
    assert time.monotonic() - started < 5
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/state")


def test_busy_port_is_a_usage_error(live: ReceiverServer) -> None:
    with pytest.raises(UsageError, match="cannot listen"):
        ReceiverServer(ReferenceReceiver(SECRET), port=live.port).start()


def _spawn_serve(tmp_path: Path) -> tuple[subprocess.Popen[str], str]:
    code = (
        "from akeneo_events_testkit.receiver import serve\n"
        f"serve({SECRET!r}, '127.0.0.1', 0, 'sqlite:{tmp_path / 'served.db'}')\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("Receiving Akeneo events at http://127.0.0.1:"), line
    assert SECRET not in line
    url = line.split(" at ", 1)[1].split(" ", 1)[0]
    return process, url


def _deliver_now(url: str) -> Delivery:
    delivery = Delivery.build([event()], secret=SECRET, timestamp=int(time.time()))
    response = httpx.post(url, content=delivery.body, headers=list(delivery.headers), timeout=5)
    assert response.status_code == 200
    return delivery


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_shuts_down_cleanly_on_signals(tmp_path: Path, sig: signal.Signals) -> None:
    process, url = _spawn_serve(tmp_path)
    try:
        _deliver_now(url)
        process.send_signal(sig)
        _, errors = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0, errors
    assert "Traceback" not in errors


def test_acknowledged_events_survive_sigkill(tmp_path: Path) -> None:
    process, url = _spawn_serve(tmp_path)
    try:
        delivery = _deliver_now(url)
    finally:
        process.kill()
        process.communicate(timeout=10)
    with SqliteStore(tmp_path / "served.db") as store:
        assert store.observation()["applied"] == list(delivery.event_ids)
