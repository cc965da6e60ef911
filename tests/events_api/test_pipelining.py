"""The mock PIM prepares request k+1 while request k is in flight (over HTTP, once k is on the wire): same
bytes, order and verdicts as one request at a time, the preparation really overlapping the exchange, and
never timed as the receiver's."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.events_api.campaign import CampaignConfig, run_campaign
from akeneo_events_testkit.events_api.pim import MockPim, Subscription
from akeneo_events_testkit.transport.sender import Outcome

from ..support.gallery import no_staleness_check, removal_without_tombstone

START = 1_700_000_000
SECRET = "s3cret"


class Recorder:
    """An ASGI receiver that keeps every request as received and answers 200, or 500 for some bodies."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[tuple[bytes, bytes]], bytes]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.received.append((scope["path"], list(scope["headers"]), body))
        status = 500 if hashlib.sha256(body).digest()[0] < 20 else 200
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"{}"})


_TIMED = {"latency", "wall", "timing"}


def _traffic(pipeline: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **options: Any) -> dict[str, Any]:
    """Everything a run sends and records, but the timings: bytes in arrival order, the tape, the log."""
    monkeypatch.setattr(MockPim, "pipeline", pipeline)
    apps = [Recorder() for _ in range(3)]
    subs = [Subscription(target=app, secret=f"{SECRET}{i}", name=f"sub{i}", path=f"/hook{i}",
                         connection_user="erp_connector_1234" if i == 1 else None) for i, app in enumerate(apps)]
    pim = MockPim(clock=FakeClock(START), start=START, **options)
    tape = tmp_path / f"tape-{pipeline}.jsonl"
    from akeneo_events_testkit.events_api.truth import GroundTruth

    truth = GroundTruth()
    truth.stream_to(tape)
    try:
        result = pim.run(subscriptions=subs, truth=truth)
    finally:
        truth.close()
    lines = [{k: v for k, v in json.loads(line).items() if k not in _TIMED} for line in tape.read_text().splitlines()]
    return {
        "received": [app.received for app in apps],
        "tape": lines,
        "log": [(e.level, e.message, e.context) for e in result.truth.log],
        "dropped": dict(result.truth.dropped),
        "requests": result.requests_sent,
        "plan": result.fault_plan.to_json() if result.fault_plan is not None else None,
    }


@pytest.mark.parametrize("options", [
    {"seed": 1, "events": 300, "faults": "default", "probes": True},
    {"seed": 2, "events": 300, "faults": "default", "profile": "5.0", "request_limit": 40},
    {"seed": 3, "events": 200, "data_mode": "snapshot", "faults": "reorder=0.5,duplicate=0.2"},
    {"seed": 4, "events": 200, "profile": "7.0", "uuid_mode": True},
], ids=["saas-faults-probes", "5.0-hourly-limit", "snapshot", "7.0-uuid"])
def test_pipelined_runs_send_and_record_exactly_what_one_at_a_time_does(
        options: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pipelined = _traffic(True, tmp_path, monkeypatch, **options)
    one_at_a_time = _traffic(False, tmp_path, monkeypatch, **options)
    assert pipelined["requests"] > 20 and sum(map(len, pipelined["received"])) > 40
    assert any(line["type"] == "request" for line in pipelined["tape"])
    for part in ("received", "tape", "log", "dropped", "requests", "plan"):
        assert pipelined[part] == one_at_a_time[part], part


@pytest.mark.parametrize("receiver", [no_staleness_check, removal_without_tombstone])
def test_pipelining_leaves_verdicts_and_witnesses_unchanged(receiver: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    now = int(time.time())  # the receivers check timestamps against the real time
    verdicts = []
    for pipeline in (True, False):
        monkeypatch.setattr(MockPim, "pipeline", pipeline)
        app = receiver(SECRET)
        result = run_campaign(CampaignConfig(seed=7, events=300, start=now), target=app.asgi(), secret=SECRET,
                              observe=app.observation, clock=FakeClock(now))
        verdicts.append([(v.kind, v.severity, v.message, v.resource, v.event_ids,
                          [{k: w for k, w in r.items() if k not in _TIMED} for r in v.requests])
                         for v in result.verdict.violations])
    assert verdicts[0], "the buggy receiver was caught"
    assert verdicts[0] == verdicts[1]


def test_the_next_request_is_prepared_while_one_is_in_flight(monkeypatch: pytest.MonkeyPatch,
                                                             httpserver: HTTPServer) -> None:
    prepared: list[int] = []
    grew = threading.Condition()
    original = MockPim._prepare

    def counting(self: MockPim, order: Any, subscription: Subscription, **options: Any) -> Any:
        with grew:
            prepared.append(order.order_id)
            grew.notify_all()
        return original(self, order, subscription, **options)

    monkeypatch.setattr(MockPim, "_prepare", counting)
    overlapped: list[bool] = []

    def make() -> MockPim:
        return MockPim(seed=5, events=40, clock=FakeClock(START), start=START)

    total = sum(1 for _ in make().deliveries(secret=SECRET))

    def handler(request: Request) -> Response:
        # request i (no faults, one subscription) is order i; order i + 1 is the (i + 2)-th prepared
        wanted = len(overlapped) + 2
        with grew:
            overlapped.append(wanted > total or grew.wait_for(lambda: len(prepared) >= wanted, timeout=1.0))
        return Response("{}", status=200)

    httpserver.expect_request("/hook").respond_with_handler(handler)
    prepared.clear()
    result = make().run(httpserver.url_for("/hook"), secret=SECRET)
    assert result.requests_sent == len(overlapped) == total > 8
    assert all(overlapped)
    assert all(r.outcome is Outcome.SENT for r in result.truth.requests)


def _burn(seconds: float) -> None:
    """Keep this thread on the CPU for ``seconds`` of its own CPU time."""
    begin = time.thread_time()
    while time.thread_time() - begin < seconds:
        pass


def test_preparing_ahead_is_not_the_receivers_time(monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer) -> None:
    original = MockPim._prepare
    calls = []

    def slow(self: MockPim, order: Any, subscription: Subscription, **options: Any) -> Any:
        calls.append(order.order_id)
        if len(calls) == 3:
            _burn(0.7)  # longer than the PIM's 0.5 s timeout, while request 2 is in flight
        return original(self, order, subscription, **options)

    monkeypatch.setattr(MockPim, "_prepare", slow)
    httpserver.expect_request("/hook").respond_with_data("{}", status=200)
    result = MockPim(seed=6, events=40, clock=FakeClock(START), start=START).run(httpserver.url_for("/hook"),
                                                                                 secret=SECRET)
    assert len(calls) >= 3 and result.requests_sent >= 3
    assert all(r.outcome is Outcome.SENT for r in result.truth.requests), [r.reason for r in result.truth.requests]
    assert max(r.latency for r in result.truth.requests) < 0.25
    assert max(r.wall or 0 for r in result.truth.requests) > 0.7  # the request waited for the preparation
