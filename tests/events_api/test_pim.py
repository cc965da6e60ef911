"""The mock PIM end to end: payload validity, batching rules, determinism, send-time data, delivery."""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.errors import UsageError
from akeneo_events_testkit.events_api.batching import batch_operations, filter_own_events
from akeneo_events_testkit.events_api.pim import MockPim, Subscription
from akeneo_events_testkit.events_api.signing import verify_signature
from akeneo_events_testkit.events_api.wire import decode_envelope
from akeneo_events_testkit.receiver import MemoryStore, ReferenceReceiver
from akeneo_events_testkit.schemas import validate_payload
from akeneo_events_testkit.transport.sender import Outcome
from akeneo_events_testkit.versions import Action, AuthorType, get_profile
from akeneo_events_testkit.world.activity import Change, Operation

START = 1_700_000_000
PROFILE_MODES = [("5.0", None), ("6.0", None), ("7.0", False), ("7.0", True), ("saas", False), ("saas", True)]


def pim(**kw: Any) -> MockPim:
    kw.setdefault("clock", FakeClock(START))
    kw.setdefault("start", START)
    return MockPim(**kw)


@settings(max_examples=24, deadline=None)
@given(seed=st.integers(0, 10_000), mode=st.sampled_from(PROFILE_MODES), data_mode=st.sampled_from(
    ["send_time", "snapshot"]))
def test_every_payload_validates_for_every_profile(seed: int, mode: tuple[str, bool | None], data_mode: str) -> None:
    profile, uuid_mode = mode
    for delivery in pim(seed=seed, events=80, profile=profile, uuid_mode=uuid_mode,
                        data_mode=data_mode).deliveries(secret="s"):
        document = json.loads(delivery.body)
        issues = validate_payload(document, profile=profile, uuid_mode=uuid_mode, strict=True)
        assert issues == [], (seed, issues[:3])


@pytest.mark.parametrize("seed", range(6))
def test_batching_rules_on_generated_workloads(seed: int) -> None:
    mock = pim(seed=seed, events=400)
    messages = list(mock.messages())
    operations = {}
    for operation in mock.operations():
        operations[operation.seq] = operation
    assert sum(len(m.changes) for m in messages) == 400
    for message in messages:
        assert 1 <= len(message.changes) <= 10
        assert len({c.action.buffer for c in message.changes}) == 1  # never mixed
        operation = operations[message.operation]
        assert message.author == operation.author
        if operation.unitary:
            assert len(message.changes) == 1
        # events keep their save order inside a message
        positions = [operation.changes.index(c) for c in message.changes]
        assert positions == sorted(positions)
    assert any(len(m.changes) == 10 for m in messages)


def _op(seq: int, changes: list[tuple[Action, str]], unitary: bool = False, author: str = "erp") -> Operation:
    made = tuple(Change(action, key, f"{seq}-{i}", START, 1, {}) for i, (action, key) in enumerate(changes))
    return Operation(seq, "api_bulk", author, AuthorType.API, unitary, START, made)


def test_buffers_flush_at_ten_and_at_the_end_per_kind() -> None:
    up, rm, mup = Action.PRODUCT_UPDATED, Action.PRODUCT_REMOVED, Action.PRODUCT_MODEL_UPDATED
    changes = [(up, f"product:{i}") for i in range(12)] + [(rm, "product:x"), (mup, "product_model:m")]
    changes.insert(3, (rm, "product:y"))
    messages = list(batch_operations([_op(0, changes)]))
    assert [(m.buffer, len(m.changes)) for m in messages] == [
        ("product.upserted", 10), ("product.upserted", 2), ("product.removed", 2), ("product_model.upserted", 1)]
    assert [m.seq for m in messages] == [0, 1, 2, 3]
    unitary = list(batch_operations([_op(1, [(up, "product:a"), (up, "product:b")], unitary=True)]))
    assert [len(m.changes) for m in unitary] == [1, 1]


def test_own_events_filter() -> None:
    message = next(batch_operations([_op(0, [(Action.PRODUCT_UPDATED, "product:a")], author="magento_0000")]))
    assert filter_own_events(message, "magento_0000") == ()
    assert filter_own_events(message, "erp_0000") == message.changes
    assert filter_own_events(message, None) == message.changes


def test_determinism_same_seed_same_bytes() -> None:
    first = [d.body for d in pim(seed=7, events=200).deliveries(secret="s")]
    second = [d.body for d in pim(seed=7, events=200).deliveries(secret="s")]
    other = [d.body for d in pim(seed=8, events=200).deliveries(secret="s")]
    assert first == second
    assert first != other


def test_event_ids_are_seeded_uuid4() -> None:
    ids = [e.event_id for d in pim(seed=3, events=100).deliveries(secret="s") for e in d.events]
    assert len(ids) == len(set(ids))
    assert all(i[14] == "4" and i[19] in "89ab" for i in ids)


def test_send_time_data_is_identical_within_a_request_and_snapshot_is_per_save() -> None:
    deliveries = list(pim(seed=5, events=600).deliveries(secret="s"))
    repeated = 0
    for delivery in deliveries:
        by_key: dict[str, list[Any]] = {}
        for event in delivery.events:
            by_key.setdefault(event.key, []).append(event.data)
        for datas in by_key.values():
            if len(datas) > 1:
                repeated += 1
                assert all(d == datas[0] for d in datas)  # both read the current state
    assert repeated > 0
    snapshot = list(pim(seed=5, events=600, data_mode="snapshot").deliveries(secret="s"))
    assert [d.event_ids for d in snapshot][:5] == [d.event_ids for d in deliveries][:5]


def test_events_of_products_removed_before_sending_are_dropped() -> None:
    """A late request is rebuilt when sent: a product removed meanwhile cannot be (the faults alone, without
    the hazard-directed overtaking, whose requests are built in their turn)."""
    import random

    from akeneo_events_testkit.events_api.faults import FaultInjector

    mock = pim(seed=11, events=1500, scheduler=FaultInjector("reorder=0.5", rng=random.Random("faults:11")))
    delivered = {e.event_id for d in mock.deliveries(secret="s") for e in d.events}
    generated = {c.event_id for op in pim(seed=11, events=1500).operations() for c in op.changes}
    assert delivered < generated  # some events vanished with their product, as in the PIM


def test_fan_out_to_three_subscriptions_with_own_signatures(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a").respond_with_data("ok")
    httpserver.expect_request("/b").respond_with_data("ok")
    httpserver.expect_request("/c").respond_with_data("ok")
    subs = [Subscription(httpserver.url_for("/a"), "secret-a", "a"),
            Subscription(httpserver.url_for("/b"), "secret-b", "b", connection_user="magento_0000"),
            Subscription(httpserver.url_for("/c"), "secret-c", "c")]
    result = pim(seed=2, events=120).run(subscriptions=subs)
    by_path: dict[str, list[Request]] = {}
    for request, _ in httpserver.log:
        by_path.setdefault(request.path, []).append(request)
    for path, secret in (("/a", "secret-a"), ("/b", "secret-b"), ("/c", "secret-c")):
        for request in by_path[path]:
            assert verify_signature(secret, request.headers["X-Akeneo-Request-Timestamp"], request.get_data(),
                                    request.headers["X-Akeneo-Request-Signature"])
    authors_b = {e.author for r in by_path["/b"] for e in decode_envelope(r.get_data())}
    authors_a = {e.author for r in by_path["/a"] for e in decode_envelope(r.get_data())}
    assert "magento_0000" in authors_a and "magento_0000" not in authors_b
    assert result.truth.dropped["own_event"] > 0
    assert len(by_path["/a"]) == len(by_path["/c"]) > len(by_path["/b"])


def test_subscription_count_is_limited() -> None:
    subs = [Subscription("http://127.0.0.1:1/", "s", f"s{i}") for i in range(4)]
    with pytest.raises(UsageError, match="1 to 3"):
        pim(seed=0, events=1).run(subscriptions=subs)
    with pytest.raises(UsageError, match="non-empty secret"):
        pim(seed=0, events=1).run("http://127.0.0.1:1/", secret="")


def test_per_subscription_uuid_mode() -> None:
    receiver_legacy = ReferenceReceiver("s", store=MemoryStore(), clock=FakeClock(START))
    seen: list[bytes] = []

    def capture(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
        start_response("200 OK", [])
        return [b""]

    subs = [Subscription(receiver_legacy.wsgi(), "s", "legacy"), Subscription(capture, "s", "uuid", uuid_mode=True)]
    pim(seed=4, events=60, profile="7.0").run(subscriptions=subs)
    products = [e.resource for body in seen for e in decode_envelope(body) if e.action.value == "product.updated"]
    assert products and all("identifier" not in p and "uuid" in p for p in products)
    with pytest.raises(UsageError, match="no UUID mode"):
        pim(seed=4, events=5, profile="6.0").run(subscriptions=[Subscription(capture, "s", "x", uuid_mode=True)])


def test_real_http_delivery_headers_and_bodies(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    mock = pim(seed=9, events=150, profile="6.0")
    result = mock.run(httpserver.url_for("/hook"), secret="s3cret")
    expected = [d.body for d in pim(seed=9, events=150, profile="6.0").deliveries(secret="s3cret")]
    received = [r.get_data() for r, _ in httpserver.log]
    assert received == expected
    for request, _ in httpserver.log:
        assert request.headers["User-Agent"] == ""
        assert request.headers["Content-Type"] == "application/json"
    assert result.requests_sent == len(expected)
    assert all(r.outcome is Outcome.SENT for r in result.truth.requests)
    assert result.truth.log[0].message == "The API event request was sent."


def test_failures_are_classified_and_the_run_continues(httpserver: HTTPServer) -> None:
    calls = Counter[str]()
    release = threading.Event()

    def flaky(request: Request) -> Response:
        calls["n"] += 1
        if calls["n"] % 3 == 0:
            return Response("no", status=503)
        if calls["n"] % 7 == 0:
            release.wait(2)
        return Response("ok")

    httpserver.expect_request("/hook").respond_with_handler(flaky)
    try:
        result = pim(seed=1, events=60, timeout=0.2).run(httpserver.url_for("/hook"), secret="s")
    finally:
        release.set()
    outcomes = result.truth.outcome_counts()
    assert outcomes["error"] > 0 and outcomes["failed"] > 0 and outcomes["sent"] > 0
    messages = {entry.message for entry in result.truth.log}
    assert "The endpoint returned an error." in messages
    assert "The endpoint failed to answer under 200 ms." in messages


@pytest.mark.parametrize("adapter", ["asgi", "wsgi"])
def test_in_process_delivery_to_the_reference_receiver(adapter: str) -> None:
    receiver = ReferenceReceiver("s", store=MemoryStore())
    app = receiver.asgi() if adapter == "asgi" else receiver.wsgi()
    result = MockPim(seed=3, events=100).run(app, secret="s")
    assert all(r.status == 200 for r in result.truth.requests)
    applied = receiver.observation()["applied"]
    assert len(applied) == len(set(applied)) > 0


def test_hourly_limit_delays_on_a_fake_clock_and_drops_nothing() -> None:
    receiver = ReferenceReceiver("s", store=MemoryStore())
    clock = FakeClock(START)
    result = pim(seed=1, events=100, request_limit=10, clock=clock).run(receiver.wsgi(), secret="s")
    assert result.limiter_waits and all(w > 0 for w in result.limiter_waits)
    sent = sum(len(r.event_ids) for r in result.truth.requests)
    assert sent == 100 - sum(result.truth.dropped.values())


def test_test_button_sends_an_empty_signed_body(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hook").respond_with_data("", status=204)
    attempt = pim(seed=0).test_button(httpserver.url_for("/hook"), secret="a_secret")
    request, _ = httpserver.log[0]
    assert attempt.status == 204 and request.get_data() == b""
    assert verify_signature("a_secret", request.headers["X-Akeneo-Request-Timestamp"], b"",
                            request.headers["X-Akeneo-Request-Signature"])


def test_ground_truth_streams_to_jsonl_without_secrets(tmp_path: Path) -> None:
    receiver = ReferenceReceiver("very-secret-value", store=MemoryStore())
    from akeneo_events_testkit.events_api.truth import GroundTruth

    truth = GroundTruth()
    truth.stream_to(tmp_path / "run.jsonl")
    MockPim(seed=1, events=50, faults="default", probes=True).run(receiver.wsgi(), secret="very-secret-value",
                                                                truth=truth)
    truth.close()
    text = (tmp_path / "run.jsonl").read_text()
    assert "very-secret-value" not in text
    kinds = Counter(json.loads(line)["type"] for line in text.splitlines())
    assert kinds["event"] == 50 and kinds["request"] > 0 and kinds["log"] > 0


def test_invalid_options() -> None:
    with pytest.raises(UsageError, match="zero or more"):
        MockPim(events=-1)
    with pytest.raises(UsageError, match="data_mode"):
        MockPim(data_mode="later")
    with pytest.raises(UsageError, match="unknown probe"):
        MockPim(probes=["nope"])
    assert get_profile("saas").user_agent == "AkeneoPIM/v20210526040645"


def test_long_runs_freeze_the_gc_and_give_everything_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every FREEZE_EVERY events the run moves live objects out of the collector's scans (short full
    collections, so an in-process receiver never looks slow: BENCHMARKS.md section 5); at the end nothing
    stays frozen, even when the run fails."""
    import gc

    from akeneo_events_testkit import _gc
    from akeneo_events_testkit._gc import GcFreezer
    from akeneo_events_testkit.receiver import ReferenceReceiver

    freezes: list[int] = []
    real_freeze = gc.freeze
    monkeypatch.setattr(gc, "freeze", lambda: (freezes.append(1), real_freeze())[-1])
    monkeypatch.setattr(_gc, "FREEZE_EVERY", 40)
    receiver = ReferenceReceiver("s3cret")
    MockPim(seed=2, events=200).run(receiver.wsgi(), secret="s3cret")
    assert len(freezes) >= 3 and gc.get_freeze_count() == 0

    delivered: list[int] = []

    def interrupt(events: int) -> None:
        delivered.append(events)
        if sum(delivered) >= 150:  # after the freezes, before the end
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        MockPim(seed=2, events=200).run(receiver.wsgi(), secret="s3cret", on_request=interrupt)
    assert len(freezes) >= 4 and gc.get_freeze_count() == 0
    freezer = GcFreezer(every=1)
    gc.disable()
    try:
        freezer.tick(5)
    finally:
        gc.enable()
    assert freezer.freezes == 0


def test_the_log_is_capped_but_a_tape_gets_every_entry(tmp_path: Path) -> None:
    from akeneo_events_testkit.events_api.truth import GroundTruth
    from akeneo_events_testkit.receiver import ReferenceReceiver

    receiver = ReferenceReceiver("s3cret")
    capped = GroundTruth(keep_log=5)
    MockPim(seed=4, events=60).run(receiver.wsgi(), secret="s3cret", truth=capped)
    assert len(capped.log) == 5 and not capped.wants_log
    streamed = GroundTruth(keep_log=5)
    streamed.stream_to(tmp_path / "tape.jsonl")
    receiver.reset()
    result = MockPim(seed=4, events=60).run(receiver.wsgi(), secret="s3cret", truth=streamed)
    streamed.close()
    logged = [line for line in (tmp_path / "tape.jsonl").read_text().splitlines() if '"type":"log"' in line]
    assert len(streamed.log) == 5 and len(logged) >= result.requests_sent > 5
