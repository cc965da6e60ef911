"""The replicas transport (transport/replicas.py) against real loopback servers: a seeded spread, and the
race fault's copies sent to two replicas at once with the same bytes."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from akeneo_events_testkit.errors import UsageError
from akeneo_events_testkit.transport.replicas import ReplicaTransport


class _Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.received: list[tuple[str, bytes, str | None]] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Recorder

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            self.server.received.append((self.path, body, self.headers.get("X-Akeneo-Request-Signature")))
        answer = f"replica {self.server.server_address[1]}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def replicas() -> Iterator[list[_Recorder]]:
    with ExitStack() as stack:
        servers = []
        for _ in range(3):
            server = _Recorder()
            threading.Thread(target=server.serve_forever, daemon=True).start()
            stack.callback(server.server_close)
            stack.callback(server.shutdown)
            servers.append(server)
        yield servers


def _urls(servers: list[_Recorder]) -> list[str]:
    return [f"http://127.0.0.1:{server.server_address[1]}/webhook" for server in servers]


def _send(transport: ReplicaTransport, count: int) -> list[str]:
    async def run() -> list[str]:
        async with httpx.AsyncClient(transport=transport, base_url="http://balancer.invalid") as client:
            answers = []
            for n in range(count):
                response = await client.post("/anything", content=f"body {n}".encode(),
                                             headers={"X-Akeneo-Request-Signature": f"sig {n}"})
                answers.append(response.text)
            return answers

    return asyncio.run(run())


def test_one_seed_gives_the_same_spread_and_races(replicas: list[_Recorder]) -> None:
    first = ReplicaTransport(_urls(replicas), seed=5, race=0.3)
    answers = _send(first, 60)
    spread = [sorted(body for _, body, _ in server.received) for server in replicas]
    for server in replicas:
        server.received.clear()
    again = ReplicaTransport(_urls(replicas), seed=5, race=0.3)
    assert _send(again, 60) == answers
    assert [sorted(body for _, body, _ in server.received) for server in replicas] == spread
    assert (again.sent, again.races) == (first.sent, first.races)
    assert all(count > 10 for count in first.sent) and sum(first.sent) == 60 + first.races
    assert 5 < first.races < 35  # about 0.3 of 60
    other = ReplicaTransport(_urls(replicas), seed=6, race=0.3)
    assert _send(other, 60) != answers
    assert all(path == "/webhook" for server in replicas for path, _, _ in server.received)


def test_a_raced_request_reaches_two_replicas_with_the_same_bytes(replicas: list[_Recorder]) -> None:
    transport = ReplicaTransport(_urls(replicas), seed=1, race=1.0)
    answers = _send(transport, 20)
    assert transport.races == 20 and sum(transport.sent) == 40
    copies: dict[bytes, list[tuple[int, str | None]]] = {}
    for index, server in enumerate(replicas):
        for _, body, signature in server.received:
            copies.setdefault(body, []).append((index, signature))
    assert len(copies) == 20
    for body, seen in copies.items():
        assert len({index for index, _ in seen}) == 2  # two different replicas
        assert {signature for _, signature in seen} == {f"sig {body.split()[1].decode()}"}
    assert all(answer.startswith("replica ") for answer in answers)
    assert "replica_race 20" in transport.summary()


def test_no_race_without_the_fault(replicas: list[_Recorder]) -> None:
    transport = ReplicaTransport(_urls(replicas), seed=2, race=0)
    _send(transport, 30)
    assert transport.races == 0 and sum(transport.sent) == 30


@pytest.mark.parametrize(("urls", "race", "message"), [
    (["http://127.0.0.1:1/webhook"], 0.1, "pass --url at least twice"),
    (["http://127.0.0.1:1/webhook"] * 2, 0.1, "is given twice"),
    (["http://127.0.0.1:1/webhook", "ftp://x/y"], 0.1, "is not an http"),
    (["http://127.0.0.1:1/webhook", "http://127.0.0.1:2/webhook"], 1.5, "probability from 0 to 1"),
])
def test_bad_replica_options_are_usage_errors(urls: list[str], race: float, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        ReplicaTransport(urls, seed=1, race=race)
