from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.errors import UsageError
from akeneo_events_testkit.events_api.limits import LOG_ERROR, LOG_FAILED, LOG_SENT, RequestLimiter, log_entry_for
from akeneo_events_testkit.events_api.signing import sign, verify_signature
from akeneo_events_testkit.transport.sender import Attempt, Outcome, Sender
from akeneo_events_testkit.transport.targets import check_request_url, make_transport
from akeneo_events_testkit.versions import get_profile

from ..support.asgi import read_body
from ..support.servers import raw_server, read_request

BODY = b'{"events":[{"action":"product.removed","pim_source":"https:\\/\\/demo.akeneo.com"}]}'


def _headers(profile: str = "saas", ts: int = 1_700_000_000) -> tuple[tuple[str, str], ...]:
    return get_profile(profile).headers(sign("secret", ts, BODY), ts)


def post(target: Any, *, profile: str = "saas", timeout: float = 0.5, body: bytes = BODY,
         headers: Any = None) -> Attempt:
    async def go() -> Attempt:
        async with Sender(target, follow_redirects=get_profile(profile).follow_redirects,
                          timeout=timeout) as sender:
            return await sender.post(body, headers if headers is not None else _headers(profile))
    return asyncio.run(go())


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


@pytest.mark.parametrize("profile", ["5.0", "6.0", "7.0", "saas"])
def test_headers_exactly_as_the_pim_sends_them(httpserver: HTTPServer, profile: str) -> None:
    httpserver.expect_oneshot_request("/webhook", method="POST").respond_with_data("ok")
    attempt = post(httpserver.url_for("/webhook"), profile=profile)
    assert attempt.outcome is Outcome.SENT and attempt.status == 200
    request, _ = httpserver.log[0]
    names = [name.lower() for name, _ in request.headers.items()]
    assert sorted(names) == sorted(["host", "content-length", "content-type", "x-akeneo-request-signature",
                                    "x-akeneo-request-timestamp", "user-agent"])
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == get_profile(profile).user_agent
    assert request.get_data() == BODY
    assert verify_signature("secret", request.headers["X-Akeneo-Request-Timestamp"], request.get_data(),
                            request.headers["X-Akeneo-Request-Signature"])


def test_raw_wire_has_no_accept_or_connection_headers() -> None:
    seen: list[bytes] = []

    def handler(conn: socket.socket) -> None:
        seen.append(read_request(conn))
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    with raw_server(handler) as url:
        assert post(url).status == 200
    head = seen[0].split(b"\r\n\r\n")[0].decode()
    lines = head.split("\r\n")
    assert lines[0] == "POST /webhook HTTP/1.1"
    names = [line.split(":")[0].lower() for line in lines[1:]]
    assert "accept" not in names and "accept-encoding" not in names and "connection" not in names
    assert seen[0].endswith(BODY)


def test_total_timeout_of_half_a_second(httpserver: HTTPServer, release: threading.Event) -> None:
    def slow(request: Request) -> Response:
        release.wait(10)
        return Response("late")

    httpserver.expect_request("/webhook").respond_with_handler(slow)
    started = time.perf_counter()
    attempt = post(httpserver.url_for("/webhook"))
    elapsed = time.perf_counter() - started
    assert attempt.outcome is Outcome.FAILED and attempt.reason == "timeout"
    assert 0.45 <= elapsed < 2.0


def test_trickling_body_hits_the_total_deadline(release: threading.Event) -> None:
    """Each byte arrives quickly, the whole answer does not: curl's total timeout still fires."""
    def trickle(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        for _ in range(1000):
            if release.wait(0.01):
                return
            conn.sendall(b"x")

    with raw_server(trickle) as url:
        attempt = post(url, timeout=0.2)
    assert attempt.outcome is Outcome.FAILED and attempt.reason == "timeout"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_not_followed_after_5_0_and_count_as_success(httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_request("/webhook").respond_with_data("", status=status,
                                                           headers={"Location": "/elsewhere"})
    attempt = post(httpserver.url_for("/webhook"), profile="6.0")
    assert attempt.outcome is Outcome.SENT and attempt.status == status
    assert [r.path for r, _ in httpserver.log] == ["/webhook"]


def test_redirects_followed_in_5_0_with_303_turning_into_get(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/webhook").respond_with_data("", status=303, headers={"Location": "/next"})
    httpserver.expect_request("/next").respond_with_data("ok")
    attempt = post(httpserver.url_for("/webhook"), profile="5.0")
    assert attempt.status == 200
    assert [(r.path, r.method) for r, _ in httpserver.log] == [("/webhook", "POST"), ("/next", "GET")]


def test_redirect_loop_in_5_0_fails(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/webhook").respond_with_data("", status=307, headers={"Location": "/webhook"})
    attempt = post(httpserver.url_for("/webhook"), profile="5.0")
    assert attempt.outcome is Outcome.FAILED and "redirect" in attempt.reason


@pytest.mark.parametrize(("status", "outcome"), [(200, Outcome.SENT), (204, Outcome.SENT),
                                                  (400, Outcome.ERROR), (401, Outcome.ERROR),
                                                  (500, Outcome.ERROR), (503, Outcome.ERROR)])
def test_classification_and_no_retry(httpserver: HTTPServer, status: int, outcome: Outcome) -> None:
    httpserver.expect_request("/webhook").respond_with_data("x", status=status)
    attempt = post(httpserver.url_for("/webhook"))
    assert attempt.outcome is outcome and attempt.status == status
    assert len(httpserver.log) == 1  # never retried


def test_connection_refused_is_failed() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    attempt = post(f"http://127.0.0.1:{port}/webhook")
    assert attempt.outcome is Outcome.FAILED and attempt.reason.startswith("connect")


def test_reset_and_broken_http_are_failed() -> None:
    def reset(conn: socket.socket) -> None:
        read_request(conn)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")

    def garbage(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"NOT HTTP AT ALL\r\n\r\n")

    for handler in (reset, garbage):
        with raw_server(handler) as url:
            attempt = post(url)
        assert attempt.outcome is Outcome.FAILED, handler.__name__


def test_huge_response_body_is_drained_not_kept(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/webhook").respond_with_data(b"x" * 3_000_000)
    attempt = post(httpserver.url_for("/webhook"), timeout=5)
    assert attempt.status == 200 and attempt.response_size == 3_000_000


def test_in_process_asgi_app() -> None:
    received: list[tuple[dict[str, str], bytes]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = await read_body(receive)
        received.append(({k.decode(): v.decode() for k, v in scope["headers"]}, body))
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    attempt = post(app)
    assert attempt.status == 202 and attempt.outcome is Outcome.SENT
    headers, body = received[0]
    assert body == BODY and headers["x-akeneo-request-timestamp"] == "1700000000"


def test_in_process_wsgi_app() -> None:
    received: list[bytes] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        received.append(environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])))
        start_response("401 Unauthorized", [("Content-Type", "text/plain")])
        return [b"no"]

    attempt = post(app)
    assert attempt.status == 401 and attempt.outcome is Outcome.ERROR
    assert received == [BODY]


def test_crashing_in_process_app_is_a_500() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise RuntimeError("boom")

    assert post(app).status == 500


def test_bad_targets_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="http://127.0.0.1:8000/webhook"):
        make_transport("127.0.0.1:8000/webhook")
    with pytest.raises(UsageError, match="pass a URL"):
        make_transport(42)


def test_request_limit_delays_on_a_fake_clock_and_never_drops() -> None:
    clock = FakeClock(1_000_000)
    limiter = RequestLimiter(3, clock=clock)
    for _ in range(3):
        assert limiter.wait_if_needed() == 0
        limiter.record()
        clock.advance(10)
    waited = limiter.wait_if_needed()
    assert waited == pytest.approx(3600 - 30)
    assert clock.now() == 1_000_000 + 30 + waited
    assert limiter.wait_if_needed() == 0
    limiter.record(5)  # one message of several requests may overshoot
    assert limiter.delay_needed() > 0


def test_request_url_check() -> None:
    assert check_request_url("https://shop.example.com/hook") == []
    for url in ("http://127.0.0.1:8000/x", "http://localhost/x", "http://10.1.2.3/x", "http://192.168.0.2/",
                "http://169.254.169.254/latest", "http://[::1]/x", "ftp://example.com/"):
        assert check_request_url(url), url


def test_log_lines_use_the_pims_messages() -> None:
    ok = log_entry_for(Attempt(Outcome.SENT, 200, 0.01), epoch=1607094167, url="u", request_headers=(),
                       events=[])
    assert ok.message == LOG_SENT and ok.level == "INFO"
    assert ok.format().startswith("2020/12/04 15:02:47 INFO The API event request was sent. {")
    error = log_entry_for(Attempt(Outcome.ERROR, 500, 0.01), epoch=0, url="u", request_headers=(), events=[])
    assert error.message == LOG_ERROR and error.context["status_code"] == 500
    failed = log_entry_for(Attempt(Outcome.FAILED, None, 0.5, "timeout"), epoch=0, url="u",
                           request_headers=(), events=[])
    assert failed.message == LOG_FAILED.format(ms=500) == "The endpoint failed to answer under 500 ms."
    line = failed.format()
    assert json.loads(line[line.index("{"):])["event_subscription_url"] == "u"


def test_wsgi_apps_get_non_ascii_headers_as_latin_1_like_a_real_server() -> None:
    seen: dict[str, str] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen["signature"] = environ["HTTP_X_AKENEO_REQUEST_SIGNATURE"]
        seen["type"] = environ["CONTENT_TYPE"]
        start_response("401 Unauthorized", [])
        return [b""]

    attempt = post(app, headers=[("Content-Type", "application/json"),
                                 ("X-Akeneo-Request-Signature", b"abc" + "é".encode())])
    assert attempt.status == 401
    assert seen == {"signature": "abc\xc3\xa9", "type": "application/json"}


def test_on_sent_is_called_once_the_body_is_written_before_the_answer(httpserver: HTTPServer) -> None:
    arrived = threading.Event()
    answer = threading.Event()
    seen: list[tuple[str, bool]] = []

    def handler(request: Request) -> Response:
        arrived.set()
        answer.wait(timeout=2)  # held until the kit has been told the request is on the wire
        return Response("{}", status=200)

    httpserver.expect_request("/hook").respond_with_handler(handler)

    async def go() -> tuple[Attempt, Attempt]:
        async with Sender(httpserver.url_for("/hook")) as sender:
            def on_sent() -> None:
                seen.append(("sent", arrived.wait(timeout=2)))
                answer.set()

            first = await sender.post(BODY, _headers(), on_sent=on_sent)
            answer.clear()
            arrived.clear()
            second = await sender.post(BODY, _headers(), on_sent=on_sent)  # keep-alive connection
        return first, second

    attempts = asyncio.run(go())
    assert [a.status for a in attempts] == [200, 200]
    assert seen == [("sent", True), ("sent", True)]


def test_on_sent_is_never_called_for_an_in_process_app() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await read_body(receive)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    calls: list[int] = []

    async def go() -> Attempt:
        async with Sender(app) as sender:
            return await sender.post(BODY, _headers(), on_sent=lambda: calls.append(1))

    assert asyncio.run(go()).status == 200
    assert calls == []
