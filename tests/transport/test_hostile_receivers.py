"""The emitter against hostile receivers on real loopback sockets: every request ends within the PIM's timeout.

The PIM gives each request 0.5 s in total (curl ``CURLOPT_TIMEOUT_MS``), never retries, follows redirects
only in the 5.0 era, and classifies the result as sent (2xx, unfollowed 3xx), "returned an error" (4xx/5xx)
or "failed to answer under 500 ms" (anything else) (events-api-facts.md sections 1 and 5). Whatever the
receiver does, a run must finish with every request recorded and classified that way. On a loaded machine
a quick receiver may still miss the deadline; such a request is a timeout for the PIM too, so it is accepted,
as long as some request of the scenario shows the scenario's own classification.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from akeneo_events_testkit.events_api.limits import LOG_ERROR, LOG_FAILED, LOG_SENT
from akeneo_events_testkit.events_api.pim import MockPim
from akeneo_events_testkit.events_api.truth import RequestRecord
from akeneo_events_testkit.transport.sender import Outcome

from ..support.servers import raw_server, read_request

SECRET = "hostile0ps0wggoc84ww80000o0ogs0ssc444w008s8kkcgw"
SEED, EVENTS = 0, 12  # four requests: a handful of 0.5 s timeouts at most
TIMEOUT, SLACK = 0.5, 0.3
Handler = Callable[[socket.socket, threading.Event], None]


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    """Set at teardown so that every handler loop ends even if a client lingers."""
    event = threading.Event()
    yield event
    event.set()


# -- hostile handlers: each reads what it needs, ends when the client goes, and is bounded in time ---------


def _requests(conn: socket.socket) -> Iterator[bytes]:
    """Requests arriving on one connection (clients may reuse it), until the client closes it."""
    for _ in range(20):
        data = read_request(conn)
        if not data:
            return
        yield data


def never_answers(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    conn.settimeout(0.1)
    while not stop.is_set():  # read on until the client gives up and closes
        try:
            if not conn.recv(65536):
                return
        except TimeoutError:
            continue


def _trickle(conn: socket.socket, stop: threading.Event, data: bytes, interval: float = 0.02) -> None:
    for index in range(len(data)):
        if stop.wait(interval):
            return
        conn.sendall(data[index:index + 1])


def trickles_the_head(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    _trickle(conn, stop, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")


def trickles_the_body(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n")
    _trickle(conn, stop, b"x" * 200)


def resets_after_reading(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def resets_at_once(conn: socket.socket, stop: threading.Event) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def closes_at_once(conn: socket.socket, stop: threading.Event) -> None:
    return


def closes_after_reading(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)


def _answer_huge_body(status: bytes) -> Handler:
    def handler(conn: socket.socket, stop: threading.Event) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Length: 10485760\r\n\r\n")
        block = b"z" * 65536
        for _ in range(160):
            if stop.is_set():
                return
            conn.sendall(block)
    return handler


def _redirect_loop(status: bytes) -> Handler:
    def handler(conn: socket.socket, stop: threading.Event) -> None:
        for _ in _requests(conn):
            conn.sendall(b"HTTP/1.1 " + status + b"\r\nLocation: /webhook\r\nContent-Length: 0\r\n\r\n")
    return handler


def _answers(raw: bytes) -> Handler:
    def handler(conn: socket.socket, stop: threading.Event) -> None:
        for _ in _requests(conn):
            conn.sendall(raw)
    return handler


def _answers_then_closes(raw: bytes) -> Handler:
    def handler(conn: socket.socket, stop: threading.Event) -> None:
        read_request(conn)
        conn.sendall(raw)
    return handler


def continues_forever(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    for _ in range(200):
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        if stop.wait(0.01):
            return


def huge_header(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Huge: " + b"h" * 2_000_000 + b"\r\nContent-Length: 0\r\n\r\n")


def many_headers(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(100_000)) + b"\r\n")


# -- scenarios ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    handler: Handler
    profiles: tuple[str, ...]
    outcomes: tuple[Outcome, ...]  # each request must end in one of these
    status: int | None = None  # the status recorded, when one is expected
    reason: str | None = None  # a prefix of the FAILED reason, when it is determined

    def __str__(self) -> str:
        return self.name

    @property
    def expects_timeout(self) -> bool:
        return self.reason == "timeout"


def _late(record: RequestRecord) -> bool:
    return record.outcome is Outcome.FAILED and record.reason == "timeout" and record.latency >= TIMEOUT


SCENARIOS = [
    Scenario("never-answers", never_answers, ("saas",), (Outcome.FAILED,), reason="timeout"),
    Scenario("trickles-the-status-line", trickles_the_head, ("saas",), (Outcome.FAILED,), reason="timeout"),
    Scenario("trickles-the-body", trickles_the_body, ("saas",), (Outcome.FAILED,), reason="timeout"),
    Scenario("100-continue-forever", continues_forever, ("6.0",), (Outcome.FAILED,), reason="timeout"),
    Scenario("resets-after-reading", resets_after_reading, ("saas",), (Outcome.FAILED,)),
    Scenario("resets-before-reading", resets_at_once, ("saas",), (Outcome.FAILED,)),
    Scenario("closes-at-once", closes_at_once, ("saas",), (Outcome.FAILED,)),
    Scenario("closes-after-reading", closes_after_reading, ("5.0",), (Outcome.FAILED,)),
    Scenario("not-http", _answers_then_closes(b"NOT HTTP AT ALL\r\n\r\n"), ("saas",), (Outcome.FAILED,)),
    Scenario("bad-status-code", _answers_then_closes(b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n"), ("saas",),
             (Outcome.FAILED,), reason="protocol"),
    Scenario("short-body-then-close", _answers_then_closes(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nab"),
             ("saas",), (Outcome.FAILED,), reason="protocol"),
    Scenario("broken-chunked-body", _answers_then_closes(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n"), ("saas",), (Outcome.FAILED,)),
    Scenario("huge-header", huge_header, ("saas",), (Outcome.FAILED,)),
    Scenario("100000-headers", many_headers, ("saas",), (Outcome.FAILED,)),
    # 10 MB of answer within 0.5 s depends on the machine: sent (or an error) if read in time, else a timeout.
    Scenario("10mb-body-200", _answer_huge_body(b"200 OK"), ("saas",), (Outcome.SENT, Outcome.FAILED)),
    Scenario("10mb-body-500", _answer_huge_body(b"500 Internal Server Error"), ("saas",),
             (Outcome.ERROR, Outcome.FAILED)),
    Scenario("answers-500", _answers(b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n"), ("saas",),
             (Outcome.ERROR,), status=500),
    Scenario("answers-429", _answers(b"HTTP/1.1 429 Slow down\r\nRetry-After: 3600\r\nContent-Length: 0\r\n\r\n"),
             ("6.0",), (Outcome.ERROR,), status=429),
    Scenario("answers-404-and-garbage-body", _answers(b"HTTP/1.1 404 No\r\nContent-Length: 4\r\n\r\n\x00\xff\x00\xff"),
             ("saas",), (Outcome.ERROR,), status=404),
    Scenario("redirect-loop-307-followed", _redirect_loop(b"307 Temporary Redirect"), ("5.0",), (Outcome.FAILED,),
             reason="too many redirects"),
    Scenario("redirect-loop-303-followed", _redirect_loop(b"303 See Other"), ("5.0",), (Outcome.FAILED,),
             reason="too many redirects"),
    Scenario("redirect-loop-301-not-followed", _redirect_loop(b"301 Moved Permanently"), ("6.0", "7.0", "saas"),
             (Outcome.SENT,), status=301),
    Scenario("redirect-loop-308-not-followed", _redirect_loop(b"308 Permanent Redirect"), ("saas",),
             (Outcome.SENT,), status=308),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
def test_every_request_ends_in_time_and_is_classified(scenario: Scenario, stop: threading.Event) -> None:
    for profile in scenario.profiles:
        expected = len(list(MockPim(seed=SEED, events=EVENTS, profile=profile).deliveries(secret=SECRET)))
        with raw_server(lambda conn: scenario.handler(conn, stop)) as url:
            started = time.monotonic()
            result = MockPim(seed=SEED, events=EVENTS, profile=profile).run(url, secret=SECRET)
            elapsed = time.monotonic() - started
            stop.set()  # release any handler still sending before the server joins them
        requests = result.truth.requests
        assert result.requests_sent == len(requests) == expected >= 3, profile
        assert elapsed < expected * (TIMEOUT + SLACK) + 2.0, f"{profile}: the run took {elapsed:.2f} s"
        own = 0
        for record in requests:
            where = f"{profile} request {record.seq}: {record.outcome} {record.status} {record.reason!r}"
            assert record.latency < TIMEOUT + SLACK, where
            if _late(record) and not scenario.expects_timeout:
                continue  # a loaded machine answered after the deadline: the PIM too calls that a failure
            own += 1
            assert record.outcome in scenario.outcomes, where
            if record.outcome is Outcome.FAILED:
                assert record.status is None and record.reason, where
                if scenario.reason is not None:
                    assert record.reason.startswith(scenario.reason), where
            elif scenario.status is not None:
                assert record.status == scenario.status, where
            if record.outcome is Outcome.SENT and scenario.status is None:
                assert record.status == 200, where
        assert own, f"{profile}: every request hit the deadline; the scenario was never exercised"
        messages = {LOG_SENT: Outcome.SENT, LOG_ERROR: Outcome.ERROR, LOG_FAILED.format(ms=500): Outcome.FAILED}
        logged = [messages[entry.message] for entry in result.truth.log if entry.message in messages]
        assert logged == [record.outcome for record in requests], profile
        stop.clear()


def test_no_retry_even_when_every_request_fails(stop: threading.Event) -> None:
    """The PIM has no retry (facts section 1): one connection attempt per request, whatever happens."""
    connections: list[int] = []

    def counting(conn: socket.socket) -> None:
        connections.append(1)
        resets_after_reading(conn, stop)

    with raw_server(counting) as url:
        result = MockPim(seed=SEED, events=EVENTS).run(url, secret=SECRET)
    assert len(connections) == len(result.truth.requests)
    assert all(record.outcome is Outcome.FAILED for record in result.truth.requests)


# -- the Event Platform emitter against the same hostile receivers ------------------------------------------
#
# The platform gives each attempt 5 s and retries timeouts, connection failures and 5xx at +5, +10 and +20
# minutes, suspends at once on 404 or any 3xx, and throttles on 429 (event-platform-facts.md section 3).
# Retries wait on the virtual clock; the per-attempt timeout is real, scaled down here to 0.5 s (the
# emitter's ``timeout``) so that a receiver that never answers costs 4 attempts x 0.5 s per event.

EP_TIMEOUT_SCALED = 0.5

EP_SCENARIOS = [
    # (scenario, outcome of every attempt, the fate of each event)
    ("never-answers", never_answers, {"timeout"}, "retries_exhausted"),
    ("trickles-the-body", trickles_the_body, {"timeout"}, "retries_exhausted"),
    ("resets-after-reading", resets_after_reading, {"unreachable"}, "retries_exhausted"),
    ("not-http", _answers_then_closes(b"NOT HTTP AT ALL\r\n\r\n"), {"unreachable"}, "retries_exhausted"),
    ("huge-header", huge_header, {"unreachable", "timeout"}, "retries_exhausted"),
    # a 500 with a 10 MB body: the body is cut by the timeout, or, when the server finishes writing and closes
    # first, by a reset of the connection while the client still reads it (a broken connection, retried alike)
    ("10mb-body-500", _answer_huge_body(b"500 Internal Server Error"), {"server_error", "timeout", "unreachable"},
     "retries_exhausted"),
    ("answers-500", _answers(b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n"), {"server_error"},
     "retries_exhausted"),
    ("answers-400", _answers(b"HTTP/1.1 400 No\r\nContent-Length: 0\r\n\r\n"), {"client_error"}, "rejected"),
    ("answers-404", _answers(b"HTTP/1.1 404 No\r\nContent-Length: 0\r\n\r\n"), {"not_found"}, "suspended"),
    ("redirect-loop-301", _redirect_loop(b"301 Moved Permanently"), {"redirect"}, "suspended"),
    ("answers-429", _answers(b"HTTP/1.1 429 Slow down\r\nContent-Length: 0\r\n\r\n"), {"throttled"},
     "throttled_1h"),
]


@pytest.mark.parametrize(("handler", "outcomes", "fate"), [s[1:] for s in EP_SCENARIOS],
                         ids=[s[0] for s in EP_SCENARIOS])
def test_event_platform_attempts_end_in_time_and_are_classified(
        handler: Handler, outcomes: set[str], fate: str, stop: threading.Event) -> None:
    from akeneo_events_testkit.clock import FakeClock
    from akeneo_events_testkit.event_platform.emitter import EpEmitter
    from akeneo_events_testkit.event_platform.rules import BACKOFF
    from akeneo_events_testkit.event_platform.signing import EpSecrets

    with raw_server(lambda conn: handler(conn, stop)) as url:
        started = time.monotonic()
        truth = EpEmitter(SEED, 2, start=1_700_000_000, clock=FakeClock(1_700_000_000), secrets=EpSecrets(SECRET),
                          timeout=EP_TIMEOUT_SCALED).run(url)
        elapsed = time.monotonic() - started
        stop.set()
    attempts = truth.attempts
    assert attempts and elapsed < len(attempts) * (EP_TIMEOUT_SCALED + SLACK) + 2.0
    for attempt in attempts:
        where = f"attempt {attempt.seq}: {attempt.outcome} {attempt.status} {attempt.reason!r}"
        assert attempt.latency < EP_TIMEOUT_SCALED + SLACK, where
        assert attempt.outcome in outcomes | {"timeout"}, where  # a loaded machine may miss the deadline
    assert {d.reason for d in truth.drops} == {fate} and len(truth.drops) == 2
    if fate == "retries_exhausted":
        assert [a.retry for a in attempts if a.event_id == attempts[0].event_id] == list(range(len(BACKOFF) + 1))
    if fate == "suspended":
        assert truth.suspension is not None and truth.suspension.cause == "immediate" and len(attempts) == 1
