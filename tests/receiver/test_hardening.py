"""The reference receiver on a real loopback server against hostile input: raw bytes, slow clients, races.

Each corpus case (tests/support/hardening_corpus.py) must get its exact 4xx, or a closed connection when the client
left or spoke no HTTP; never a 5xx, nothing applied, and the server keeps serving (facts sections 1, 2, 6).
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.events_api.wire import Delivery, Event
from akeneo_events_testkit.receiver import MemoryStore, ReceiverServer, ReferenceReceiver, SqliteStore

from ..support.hardening_corpus import (
    NOW,
    SECRET,
    SHUT_WR,
    TEMPLATE_EVENT_ID,
    Case,
    Pause,
    Step,
    Trickle,
    chunked_request,
    corpus,
    envelope_with,
    event,
    request,
    signed_headers,
    valid_delivery,
)

CORPUS = corpus()
READ_DEADLINE = 5.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReceiverServer]:
    # NORMAL: durability across a crash is test_crash_safety.py's subject; here it would only add fsyncs.
    store = SqliteStore(tmp_path_factory.mktemp("hardening") / "receiver.db", synchronous="NORMAL")
    receiver = ReferenceReceiver(SECRET, store=store, clock=FakeClock(NOW))
    with ReceiverServer(receiver, startup_timeout=10, shutdown_timeout=3) as running:
        yield running
    store.close()


@pytest.fixture
def live(server: ReceiverServer) -> Iterator[ReceiverServer]:
    server.receiver.reset()
    yield server
    assert server.receiver.internal_errors == []
    assert server.thread_error is None
    assert not [status for status in server.receiver.stats()["requests"] if status >= 500]


# -- raw exchanges ------------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Exchange:
    answers: list[Answer] = field(default_factory=list)
    informational: list[int] = field(default_factory=list)
    closed: bool = False  # the server closed (or reset) the connection
    send_failed: bool = False
    side_checks: list[int] = field(default_factory=list)  # other clients' statuses during pauses
    raw: bytes = b""


def _parse(buffer: bytes, head_only: bool) -> tuple[list[Answer], list[int], bool]:
    """Complete answers in ``buffer``, 1xx statuses seen, and whether a partial answer is pending."""
    answers: list[Answer] = []
    informational: list[int] = []
    rest = buffer
    while rest:
        end = rest.find(b"\r\n\r\n")
        if end < 0:
            return answers, informational, True
        lines = rest[:end].decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        rest = rest[end + 4:]
        if 100 <= status < 200:
            informational.append(status)
            continue
        if head_only:
            body = b""
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                line_end = rest.find(b"\r\n")
                if line_end < 0:
                    return answers, informational, True
                size = int(rest[:line_end].split(b";")[0], 16)
                if len(rest) < line_end + 2 + size + 2:
                    return answers, informational, True
                body += rest[line_end + 2:line_end + 2 + size]
                rest = rest[line_end + 2 + size + 2:]
                if size == 0:
                    break
        else:
            length = int(headers.get("content-length", "0"))
            if len(rest) < length:
                return answers, informational, True
            body, rest = rest[:length], rest[length:]
        answers.append(Answer(status, headers, body))
    return answers, informational, False


def _state(server: ReceiverServer) -> dict[str, object]:
    response = httpx.get(server.state_url, timeout=5, trust_env=False)
    assert response.status_code == 200
    document: dict[str, object] = response.json()
    return document


def exchange(server: ReceiverServer, steps: Sequence[Step], *, expect: int, closes: bool, head: bool) -> Exchange:
    """Play ``steps`` on one raw connection and read up to ``expect`` answers (all bounded in time)."""
    result = Exchange()
    with socket.create_connection(("127.0.0.1", server.port), timeout=READ_DEADLINE) as conn:
        try:
            for step in steps:
                if isinstance(step, bytes):
                    conn.sendall(step)
                elif isinstance(step, Trickle):
                    size = -(-len(step.data) // step.pieces)
                    for start in range(0, len(step.data), size):
                        conn.sendall(step.data[start:start + size])
                        time.sleep(step.interval)
                elif isinstance(step, Pause):
                    started = time.monotonic()  # the stalled client must not hold up anyone else
                    result.side_checks.append(
                        httpx.get(server.state_url, timeout=step.seconds + 2, trust_env=False).status_code)
                    time.sleep(max(0.0, step.seconds - (time.monotonic() - started)))
                elif step == SHUT_WR:
                    conn.shutdown(socket.SHUT_WR)
        except OSError:  # the server refused mid-upload (413, 400) and closed: read what it said
            result.send_failed = True
        deadline = time.monotonic() + READ_DEADLINE
        while time.monotonic() < deadline and not result.closed:
            answers, _, pending = _parse(result.raw, head)
            if expect and len(answers) >= expect and not pending and not closes:
                break  # all answers in; wait for the close only when it is required
            conn.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                break
            except OSError:  # reset by the server: whatever arrived before stays readable
                result.closed = True
                continue
            if not chunk:
                result.closed = True
            result.raw += chunk
        result.answers, result.informational, _ = _parse(result.raw, head)
    return result


def assert_still_serving(server: ReceiverServer, seed: str) -> None:
    """A valid signed delivery afterwards is applied: the server is up and its store writable."""
    delivery = valid_delivery(random.Random(seed), f"after-{seed}")
    response = httpx.post(server.url, content=delivery.body, headers=list(delivery.headers), timeout=5,
                          trust_env=False)
    assert response.status_code == 200, response.text
    assert response.json() == {"applied": 1, "duplicates": 0, "stale": 0}


# -- the corpus ---------------------------------------------------------------------------------------------


def test_corpus_is_large_and_covers_every_probe_kind() -> None:
    from akeneo_events_testkit.events_api.probes import PROBE_KINDS

    assert len(CORPUS) >= 60
    assert {f"probe-{name}" for name in PROBE_KINDS} <= {case.name for case in CORPUS}


def test_template_is_valid_with_a_benign_value() -> None:
    """The signed malformed cases differ from an accepted batch only by their hostile part."""
    receiver = ReferenceReceiver(SECRET, store=MemoryStore(), clock=FakeClock(NOW))
    body = envelope_with(b'"x"')
    response = receiver.handle("POST", "/webhook", signed_headers(body), body)  # type: ignore[arg-type]
    assert response.status == 200 and receiver.observation()["applied"] == [TEMPLATE_EVENT_ID]


@pytest.mark.parametrize("case", CORPUS, ids=str)
def test_hostile_request(live: ReceiverServer, case: Case) -> None:
    result = exchange(live, case.build(), expect=len(case.statuses), closes=case.closes, head=case.head)
    statuses = [answer.status for answer in result.answers]
    assert not [s for s in statuses if s >= 500], f"5xx answered: {result.raw[:500]!r}"
    if case.may_close and not result.answers:
        assert result.closed, f"neither an answer nor a closed connection: {result.raw[:300]!r}"
    elif not case.statuses:
        assert statuses == [] and result.closed, f"expected the connection closed unanswered: {result.raw[:300]!r}"
    else:
        assert statuses == list(case.statuses), result.raw[:500]
    if case.closes:
        assert result.closed, "the server must close this connection"
    if case.no_continue:
        assert result.informational == [], "a 100 Continue was granted to a body that is refused"
    for name, value in case.headers:
        assert result.answers and result.answers[0].headers.get(name) == value, result.answers
    assert all(status == 200 for status in result.side_checks), result.side_checks
    assert _state(live)["applied"] == list(case.applies)
    assert_still_serving(live, case.name)


# -- slow clients, chunked and 100-continue with valid bodies (these apply) ----------------------------------


def test_valid_chunked_body_is_applied(live: ReceiverServer) -> None:
    delivery = valid_delivery(random.Random("chunked"), "chunked-1")
    result = exchange(live, [chunked_request(list(delivery.headers), delivery.body)], expect=1, closes=False,
                      head=False)
    assert [a.status for a in result.answers] == [200]
    assert _state(live)["applied"] == list(delivery.event_ids)


def test_valid_body_trickled_slowly_is_applied_while_others_are_served(live: ReceiverServer) -> None:
    delivery = valid_delivery(random.Random("trickle"), "trickled-1")
    wire = request(headers=delivery.headers, body=delivery.body)
    split = wire.index(b"\r\n\r\n") + 4
    steps: list[Step] = [wire[:split]]
    for start in range(0, len(delivery.body), 40):
        steps += [wire[split + start:split + start + 40], Pause(0.05)]
    result = exchange(live, steps, expect=1, closes=False, head=False)
    assert [a.status for a in result.answers] == [200]
    assert result.side_checks and set(result.side_checks) == {200}
    assert _state(live)["applied"] == list(delivery.event_ids)


def test_many_stalled_connections_do_not_block_a_delivery(live: ReceiverServer) -> None:
    delivery = valid_delivery(random.Random("stalled"), "stalled-1")
    wire = request(headers=delivery.headers, body=delivery.body)
    stalled = []
    try:
        for number in range(40):  # half headers, half bodies: each keeps a request open
            conn = socket.create_connection(("127.0.0.1", live.port), timeout=5)
            stalled.append(conn)
            conn.sendall(wire[:30] if number % 2 else wire[:-5])
        response = httpx.post(live.url, content=delivery.body, headers=list(delivery.headers), timeout=5,
                              trust_env=False)  # a timeout here means the stalled clients block everyone
        assert response.status_code == 200
    finally:
        for conn in stalled:
            conn.close()
    assert _state(live)["applied"] == list(delivery.event_ids)  # the stalled copies never counted


def test_a_body_that_stops_coming_gets_408_and_the_connection_is_closed() -> None:
    """A client that sends part of its body and stalls (a slowloris) is answered 408 after ``body_timeout``,
    the connection closed, nothing applied; the server keeps serving."""
    receiver = ReferenceReceiver(SECRET, store=MemoryStore(), clock=FakeClock(NOW), body_timeout=0.3)
    delivery = valid_delivery(random.Random("stall"), "stall-1")
    wire = request(headers=delivery.headers, body=delivery.body)
    with ReceiverServer(receiver) as server, socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
        conn.sendall(wire[:-20])
        started, raw = time.monotonic(), b""
        while time.monotonic() - started < 5:
            chunk = conn.recv(65536)
            if not chunk:
                break  # closed by the server, after its answer
            raw += chunk
        assert raw.startswith(b"HTTP/1.1 408 "), raw[:200]
        assert 0.3 <= time.monotonic() - started < 3
        assert httpx.post(server.url, content=delivery.body, headers=list(delivery.headers), timeout=5,
                          trust_env=False).status_code == 200
    assert receiver.observation()["applied"] == list(delivery.event_ids)  # once: the stalled copy never counted
    assert receiver.internal_errors == []


def test_large_valid_body_with_expect_100_continue(live: ReceiverServer) -> None:
    """Guzzle sends ``Expect: 100-Continue`` for bodies >= 1 MiB (facts section 1): grant it, then apply."""
    rng = random.Random("big")
    events = []
    for number in range(10):
        base = event(rng, f"big-{number}")
        resource = {**base.resource, "values": {"blob": [{"locale": None, "scope": None, "data": "y" * 120_000}]}}
        events.append(Event(base.action, base.event_id, base.event_datetime, base.author, base.author_type,
                            base.pim_source, {"resource": resource}))
    delivery = Delivery.build(events, secret=SECRET, timestamp=NOW)
    assert len(delivery.body) >= 1024 * 1024
    head = request(headers=[*delivery.headers, ("Expect", "100-Continue")], length=len(delivery.body))
    with socket.create_connection(("127.0.0.1", live.port), timeout=5) as conn:
        conn.sendall(head)
        first = conn.recv(4096)
        assert first.startswith(b"HTTP/1.1 100 ")
        conn.sendall(delivery.body)
        raw = b""
        deadline = time.monotonic() + 5
        while b"\r\n\r\n" not in raw and time.monotonic() < deadline:
            chunk = conn.recv(65536)
            if not chunk:
                break
            raw += chunk
    assert raw.startswith(b"HTTP/1.1 200 "), raw[:200]
    assert _state(live)["applied"] == list(delivery.event_ids)


# -- concurrency: overlapping duplicates over many connections ------------------------------------------------


def _overlapping_workload(seed: int) -> tuple[list[Event], list[Delivery]]:
    """40 requests over 60 events where each event is in 2 to 4 different requests, in random order.

    Events of one resource have distinct times, so the final state per resource does not depend on the order.
    Some resources get a single event: whatever the order, those must all be applied.
    """
    rng = random.Random(seed)
    actions = ["product.updated", "product.created", "product.removed"]
    events: list[Event] = []
    for number in range(60):
        key = f"race-{seed}-{number % 15 if number < 45 else number}"  # 15 contested keys, 15 lone ones
        action = rng.choice(actions) if number < 45 else "product.updated"
        events.append(event(rng, key, at=NOW - 7200 + number * 13 + rng.randrange(13), action=action))
    rng.shuffle(events)
    slots: list[list[Event]] = [[] for _ in range(40)]
    for item in events:
        roomy = [index for index, batch in enumerate(slots) if len(batch) < 10]
        for index in rng.sample(roomy, rng.randint(2, 4)):
            slots[index].append(item)
    for batch in slots:
        if not batch:
            batch.append(rng.choice(events))
        rng.shuffle(batch)
    deliveries = [Delivery.build(batch, secret=SECRET, timestamp=NOW) for batch in slots]
    rng.shuffle(deliveries)
    return events, deliveries


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_concurrent_overlapping_duplicates_match_a_serial_run(live: ReceiverServer, seed: int) -> None:
    events, deliveries = _overlapping_workload(seed)
    queue = list(enumerate(deliveries))
    lock = threading.Lock()
    statuses: dict[int, int] = {}
    barrier = threading.Barrier(16, timeout=10)

    def worker() -> None:
        with httpx.Client(timeout=10, trust_env=False) as client:
            barrier.wait()
            while True:
                with lock:
                    if not queue:
                        return
                    index, delivery = queue.pop()
                answer = client.post(live.url, content=delivery.body, headers=list(delivery.headers))
                with lock:
                    statuses[index] = answer.status_code

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    assert statuses == dict.fromkeys(range(len(deliveries)), 200)

    observed = _state(live)
    serial = ReferenceReceiver(SECRET, store=MemoryStore(), clock=FakeClock(NOW))
    for delivery in deliveries:
        assert serial.handle("POST", "/webhook", list(delivery.headers), delivery.body).status == 200
    assert observed["resources"] == serial.observation()["resources"]

    by_id = {item.event_id: item for item in events}
    applied = observed["applied"]
    assert isinstance(applied, list)
    assert len(applied) == len(set(applied)), "an event was applied twice"
    assert set(applied) <= set(by_id)
    newest: dict[str, Event] = {}
    for item in events:
        if item.key not in newest or item.epoch > newest[item.key].epoch:
            newest[item.key] = item
    assert {item.event_id for item in newest.values()} <= set(applied)
    last_epoch: dict[str, float] = {}
    for event_id in applied:  # the applied log is a history the rules allow: per resource, newer each time
        item = by_id[event_id]
        assert item.epoch > last_epoch.get(item.key, float("-inf")), f"{event_id} applied out of order"
        last_epoch[item.key] = item.epoch
    lone = [item.event_id for item in events if sum(other.key == item.key for other in events) == 1]
    assert set(lone) <= set(applied)
    slots = sum(len(delivery.events) for delivery in deliveries)
    counted = live.receiver.stats()["events"]
    assert counted["applied"] + counted["duplicates"] + counted["stale"] == slots
    assert counted["applied"] == len(applied)


def test_state_is_json_with_the_observation_contract(live: ReceiverServer) -> None:
    document = json.loads(httpx.get(live.state_url, timeout=5, trust_env=False).content)
    assert document == {"applied": [], "resources": {}}



# -- shutdown with a client stalled mid-request ----------------------------------------------------------------


def _stalled_at_shutdown(tmp_path: Path) -> tuple[float, bytes, dict[str, object]]:
    """Stop a server while a client is stalled one byte short of a valid body: how long, what it answered."""
    store = SqliteStore(tmp_path / "stop.db", synchronous="NORMAL")
    receiver = ReferenceReceiver(SECRET, store=store, clock=FakeClock(NOW))
    delivery = valid_delivery(random.Random("shutdown"), "shutdown-1")
    server = ReceiverServer(receiver, shutdown_timeout=1.5).start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
            conn.sendall(request(headers=delivery.headers, body=delivery.body)[:-1])
            time.sleep(0.2)
            started = time.monotonic()
            server.stop()
            elapsed = time.monotonic() - started
            conn.settimeout(2)
            try:
                answer = conn.recv(4096)
            except OSError:
                answer = b""
        return elapsed, answer, receiver.observation()
    finally:
        server.stop()
        store.close()


def test_stop_is_bounded_with_a_client_stalled_mid_body(tmp_path: Path) -> None:
    elapsed, answer, observation = _stalled_at_shutdown(tmp_path)
    assert elapsed < 1.5 * 2 + 1, f"stop() took {elapsed:.1f} s"
    assert not answer.startswith(b"HTTP/1.1 2"), answer[:100]
    assert observation["applied"] == []


def test_a_request_cancelled_by_shutdown_is_not_answered_5xx(tmp_path: Path) -> None:
    _, answer, _ = _stalled_at_shutdown(tmp_path)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
