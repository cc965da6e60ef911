"""The reference receiver's semantics, called directly, and its WSGI/ASGI adapters in process."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.errors import UsageError
from akeneo_events_testkit.events_api.signing import sign
from akeneo_events_testkit.events_api.wire import Delivery, Event
from akeneo_events_testkit.receiver import (
    MemoryStore,
    ReferenceReceiver,
    ResourceState,
    Response,
    SqliteStore,
    Store,
    StoreError,
    open_store,
)

from ..support.events import NOW, SECRET, event


def post(receiver: ReferenceReceiver, *events: Event, ts: int = NOW, path: str = "/webhook") -> Response:
    delivery = Delivery.build(events, secret=SECRET, timestamp=ts)
    return receiver.handle("POST", path, dict(delivery.headers), delivery.body)


def post_raw(receiver: ReferenceReceiver, body: bytes, *, ts: int = NOW, secret: str = SECRET) -> Response:
    headers = {"X-Akeneo-Request-Signature": sign(secret, ts, body), "X-Akeneo-Request-Timestamp": str(ts)}
    return receiver.handle("POST", "/webhook", headers, body)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "receiver.db")
    yield made
    made.close()


@pytest.fixture
def receiver(store: Store) -> Iterator[ReferenceReceiver]:
    made = ReferenceReceiver(SECRET, store=store, clock=FakeClock(NOW))
    yield made
    assert made.internal_errors == []


def applied(receiver: ReferenceReceiver) -> list[str]:
    return list(receiver.observation()["applied"])


# -- Application semantics (facts section 6) -------------------------------------------------------------


def test_valid_batch_is_applied_in_order(receiver: ReferenceReceiver) -> None:
    first, second = event(identifier="a"), event("product_model.created", code="m")
    response = post(receiver, first, second)
    assert response.status == 200
    assert response.json() == {"applied": 2, "duplicates": 0, "stale": 0}
    assert receiver.observation() == {
        "applied": [first.event_id, second.event_id],
        "resources": {
            "product:a": {"event_id": first.event_id, "removed": False},
            "product_model:m": {"event_id": second.event_id, "removed": False},
        },
    }
    assert receiver.resource("product:a") == dict(first.resource)


def test_redelivery_in_a_later_request_is_not_applied_again(receiver: ReferenceReceiver) -> None:
    original = event()
    assert post(receiver, original).status == 200
    # Pub/Sub redelivers the same event id with fresh data, timestamp and signature (facts section 6).
    again = original.with_data({"resource": {"identifier": "sku-1", "values": {}}})
    response = post(receiver, again, ts=NOW + 30)
    assert response.status == 200
    assert response.json() == {"applied": 0, "duplicates": 1, "stale": 0}
    assert applied(receiver) == [original.event_id]
    assert receiver.resource("product:sku-1") == dict(original.resource)


def test_duplicate_within_one_request(receiver: ReferenceReceiver) -> None:
    once = event()
    assert post(receiver, once, once).json() == {"applied": 1, "duplicates": 1, "stale": 0}
    assert applied(receiver) == [once.event_id]


def test_stale_update_is_acknowledged_but_ignored(receiver: ReferenceReceiver) -> None:
    newer, older = event(at=NOW - 10), event(at=NOW - 20)
    post(receiver, newer)
    response = post(receiver, older)
    assert (response.status, response.json()["stale"]) == (200, 1)
    assert receiver.observation()["resources"]["product:sku-1"]["event_id"] == newer.event_id
    assert receiver.stats()["events"] == {"applied": 1, "duplicates": 0, "stale": 1}


@pytest.mark.parametrize(("tie_break", "winner"), [("later", 1), ("earlier", 0)])
def test_same_second_tie_follows_the_tie_break(store: Store, tie_break: str, winner: int) -> None:
    receiver = ReferenceReceiver(SECRET, store=store, clock=FakeClock(NOW), tie_break=tie_break)
    pair = event(at=NOW - 5), event(at=NOW - 5)
    post(receiver, pair[0])
    post(receiver, pair[1])
    assert receiver.observation()["resources"]["product:sku-1"]["event_id"] == pair[winner].event_id
    assert len(applied(receiver)) == 1 + winner


def test_removal_is_a_tombstone_a_late_older_update_cannot_undo(receiver: ReferenceReceiver) -> None:
    update, removal, late = event(at=NOW - 30), event("product.removed", at=NOW - 20), event(at=NOW - 25)
    post(receiver, update)
    post(receiver, removal)
    assert post(receiver, late).json()["stale"] == 1
    assert receiver.observation()["resources"] == {"product:sku-1": {"event_id": removal.event_id, "removed": True}}
    assert receiver.resource("product:sku-1") is None


def test_newer_creation_after_removal_recreates(receiver: ReferenceReceiver) -> None:
    removal, created = event("product_model.removed", at=NOW - 20), event("product_model.created", at=NOW - 10)
    post(receiver, removal)
    assert post(receiver, created).json()["applied"] == 1
    assert receiver.observation()["resources"]["product_model:model-1"] == {
        "event_id": created.event_id, "removed": False,
    }


@pytest.mark.parametrize("order", ["utc_first", "paris_first"])
def test_offsets_compare_as_instants_not_as_text(receiver: ReferenceReceiver, order: str) -> None:
    base = NOW - 3600
    paris = event(at=base, offset=60)  # e.g. 10:00:00+01:00, i.e. 09:00 UTC
    utc = event(at=base + 1800)  # 09:30:00+00:00: later in time, smaller as text
    assert paris.event_datetime[11:13] > utc.event_datetime[11:13]
    first, second = (utc, paris) if order == "utc_first" else (paris, utc)
    post(receiver, first)
    post(receiver, second)
    assert receiver.observation()["resources"]["product:sku-1"]["event_id"] == utc.event_id


def test_products_are_keyed_by_uuid_when_they_have_one(receiver: ReferenceReceiver) -> None:
    product_uuid = "0d931d13-8eae-4f4a-bf37-33d3a932b8c9"
    post(receiver, event(product_uuid=product_uuid), event("product.removed", identifier="other"))
    assert set(receiver.observation()["resources"]) == {f"product:{product_uuid}", "product:other"}


# -- Authenticity (facts section 2) ----------------------------------------------------------------------


def _forgeries() -> dict[str, tuple[dict[str, str] | list[tuple[str, str]], bytes]]:
    body = Delivery.build([event()], secret=SECRET, timestamp=NOW).body
    good = sign(SECRET, NOW, body)

    def headers(signature: str, ts: str = str(NOW)) -> dict[str, str]:
        return {"X-Akeneo-Request-Signature": signature, "X-Akeneo-Request-Timestamp": ts}

    return {
        "forged signature": (headers("0" * 64), body),
        "trailing junk after the signed body": (headers(good), body + b" "),
        "signed with an empty secret": (headers(sign("", NOW, body)), body),
        "body changed after signing": (headers(good), body.replace(b"sku-1", b"sku-2")),
        "no signature header": ({"X-Akeneo-Request-Timestamp": str(NOW)}, body),
        "no timestamp header": ({"X-Akeneo-Request-Signature": good}, body),
        "non-numeric timestamp, signed": (headers(sign(SECRET, "17e8", body), "17e8"), body),
        "negative timestamp, signed": (headers(sign(SECRET, "-1", body), "-1"), body),
        "non-ASCII signature": (headers("é" * 64), body),
        "upper-case signature": (headers(good.upper()), body),
        "signature of another timestamp": (headers(sign(SECRET, NOW - 1, body)), body),
        "repeated signature header": (
            [("X-Akeneo-Request-Signature", good), ("x-akeneo-request-signature", good),
             ("X-Akeneo-Request-Timestamp", str(NOW))],
            body,
        ),
        "empty test request, bad signature": (headers("f" * 64), b""),
    }


@pytest.mark.parametrize("case", sorted(_forgeries()))
def test_every_authenticity_failure_is_401_and_applies_nothing(receiver: ReferenceReceiver, case: str) -> None:
    headers, body = _forgeries()[case]
    response = receiver.handle("POST", "/webhook", headers, body)
    assert response.status == 401
    assert response.header("WWW-Authenticate")
    assert receiver.observation() == {"applied": [], "resources": {}}


def test_header_names_are_case_insensitive(receiver: ReferenceReceiver) -> None:
    delivery = Delivery.build([event()], secret=SECRET, timestamp=NOW)
    headers = {name.lower(): value for name, value in delivery.headers}
    assert receiver.handle("POST", "/webhook", headers, delivery.body).status == 200


@pytest.mark.parametrize(("skew", "status"), [(-301, 401), (-300, 200), (300, 200), (301, 401)])
def test_timestamp_tolerance_in_both_directions(receiver: ReferenceReceiver, skew: int, status: int) -> None:
    assert post(receiver, event(), ts=NOW + skew).status == status


def test_test_button_request_is_acknowledged() -> None:
    # Facts section 2's vector: secret a_secret, ts 1577836800, empty body.
    receiver = ReferenceReceiver("a_secret", clock=FakeClock(1577836800))
    headers = {
        "Content-Type": "application/json",
        "X-Akeneo-Request-Signature": "7d536679657fbef04ba613be414959a59e93f06443dd596aebf4bbb00540ae14",
        "X-Akeneo-Request-Timestamp": "1577836800",
    }
    response = receiver.handle("POST", "/", headers, b"")
    assert response.status == 200
    assert receiver.observation() == {"applied": [], "resources": {}}
    assert receiver.stats()["test_requests"] == 1


def test_pim_unit_test_body_is_authentic_but_not_a_valid_batch() -> None:
    # The PIM's own test body (facts section 2) carries "data":["data_1"], not a resource.
    body = (
        b'{"events":[{"action":"product.created","event_id":"7abae2fe-759a-4fce-aa43-f413980671b3",'
        b'"event_datetime":"2020-01-01T00:00:00+00:00","author":"julia","author_type":"ui",'
        b'"pim_source":"staging.akeneo.com","data":["data_1"]}]}'
    )
    receiver = ReferenceReceiver("a_secret", clock=FakeClock(1577836800))
    headers = {
        "X-Akeneo-Request-Signature": "ef61805e9b061b0b653144bac0e399bd5c3a85c09b53bf504466a67e42944de5",
        "X-Akeneo-Request-Timestamp": "1577836800",
    }
    response = receiver.handle("POST", "/webhook", headers, body)
    assert response.status == 400
    assert "data.resource" in response.json()["error"]


# -- Malformed but authentic bodies ----------------------------------------------------------------------


def _envelope(*events: Any) -> bytes:
    return json.dumps({"events": list(events)}).encode()


def _raw_event(**changes: Any) -> dict[str, Any]:
    raw = event().to_dict()
    raw.update(changes)
    return {key: value for key, value in raw.items() if value is not None}


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


MALFORMED: dict[str, bytes] = {
    "not JSON": b"events=1",
    "invalid UTF-8": _envelope(_raw_event()).replace(b"julia", b"j\xffia"),
    "UTF-8 BOM": b"\xef\xbb\xbf" + _envelope(_raw_event()),
    "11 events": _envelope(*[_raw_event(event_id=str(uuid.uuid4())) for _ in range(11)]),
    "0 events": _envelope(),
    "top-level list": b"[]",
    "events not a list": b'{"events":{}}',
    "event not an object": _envelope("x"),
    "duplicate top-level key": b'{"events":[],"events":[]}',
    "duplicate key inside the resource": _envelope(_raw_event()).replace(
        b'"identifier": "sku-1"', b'"identifier": "sku-1", "identifier": "sku-2"'
    ),
    "nesting deeper than the bound": _envelope(_raw_event(data={"resource": {"identifier": "x", "v": _nested(70)}})),
    "nesting beyond the parser's recursion": b'{"events":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "missing event_id": _envelope(_raw_event(event_id=None)),
    "empty event_id": _envelope(_raw_event(event_id="")),
    "numeric event_id": _envelope(_raw_event(event_id=42)),
    "unknown action": _envelope(_raw_event(action="product.deleted")),
    "action not a string": _envelope(_raw_event(action=["product.updated"])),
    "unparsable event_datetime": _envelope(_raw_event(event_datetime="yesterday")),
    "numeric event_datetime": _envelope(_raw_event(event_datetime=1607094167)),
    "missing data": _envelope(_raw_event(data=None)),
    "resource not an object": _envelope(_raw_event(data={"resource": "sku-1"})),
    "product without identifier or uuid": _envelope(_raw_event(data={"resource": {"values": {}}})),
    "product uuid not a string": _envelope(_raw_event(data={"resource": {"uuid": 7}})),
    "model without code": _envelope(_raw_event(action="product_model.updated", data={"resource": {"x": 1}})),
    "huge integer": _envelope(_raw_event()).replace(b'"values": {', b'"n": ' + b"9" * 5000 + b', "values": {'),
    "int beyond 64 bits": _envelope(_raw_event()).replace(b'"values": {', b'"n": 9223372036854775808, "values": {'),
    "float overflowing to infinity": _envelope(_raw_event()).replace(b'"values": {', b'"n": 1e400, "values": {'),
    "NaN": _envelope(_raw_event()).replace(b'"values": {', b'"n": NaN, "values": {'),
    "unpaired surrogate": _envelope(_raw_event(author="\ud800")),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_signed_bodies_are_400_and_apply_nothing(receiver: ReferenceReceiver, case: str) -> None:
    response = post_raw(receiver, MALFORMED[case])
    assert response.status == 400, response.body
    assert response.json()["error"]
    assert receiver.observation() == {"applied": [], "resources": {}}


def test_one_bad_event_rejects_the_whole_batch(receiver: ReferenceReceiver) -> None:
    good = _raw_event()
    response = post_raw(receiver, _envelope(good, _raw_event(action="product.exploded")))
    assert response.status == 400
    assert "events[1].action" in response.json()["error"]
    assert receiver.observation()["applied"] == []
    assert post_raw(receiver, _envelope(good)).json()["applied"] == 1  # not even marked seen


def test_extra_fields_are_tolerated(receiver: ReferenceReceiver) -> None:
    assert post_raw(receiver, _envelope(_raw_event(future_field={"x": [1, 2.5, True, None]}))).status == 200


# -- Routing ---------------------------------------------------------------------------------------------


def test_oversized_body_is_413(store: Store) -> None:
    receiver = ReferenceReceiver(SECRET, store=store, clock=FakeClock(NOW), max_body=1000)
    body = _envelope(_raw_event(author="x" * 1000))
    assert post_raw(receiver, body).status == 413
    assert receiver.precheck("POST", "/webhook", 1001) is not None
    assert receiver.precheck("POST", "/webhook", 1000) is None
    assert receiver.observation()["applied"] == []


@pytest.mark.parametrize(("method", "path", "allow"), [("GET", "/webhook", "POST"), ("PUT", "/", "POST"),
                                                       ("POST", "/state", "GET"), ("DELETE", "/state", "GET")])
def test_wrong_method_is_405_with_allow(receiver: ReferenceReceiver, method: str, path: str, allow: str) -> None:
    response = receiver.handle(method, path, {}, b"")
    assert (response.status, response.header("Allow")) == (405, allow)


@pytest.mark.parametrize("path", ["/webhooks", "/webhook/", "", "/state/x"])
def test_unknown_path_is_404(receiver: ReferenceReceiver, path: str) -> None:
    assert receiver.handle("POST", path, {}, b"").status == 404


def test_query_string_is_ignored_for_routing(receiver: ReferenceReceiver) -> None:
    assert post(receiver, event(), path="/webhook?source=pim").status == 200


def test_state_endpoint_contract(receiver: ReferenceReceiver) -> None:
    kept, removed = event(identifier="a"), event("product.removed", identifier="b")
    post(receiver, kept)
    post(receiver, removed)
    response = receiver.handle("GET", "/state", {}, b"")
    assert response.status == 200
    assert response.header("Content-Type") == "application/json"
    assert response.json() == {
        "applied": [kept.event_id, removed.event_id],
        "resources": {"product:a": {"event_id": kept.event_id, "removed": False},
                      "product:b": {"event_id": removed.event_id, "removed": True}},
    }


def test_stats_and_reset(receiver: ReferenceReceiver) -> None:
    once = event()
    post(receiver, once, once)
    receiver.handle("GET", "/nowhere", {}, b"")
    post_raw(receiver, b"{}", secret="wrong")
    assert receiver.stats() == {
        "requests": {200: 1, 401: 1, 404: 1}, "test_requests": 0,
        "events": {"applied": 1, "duplicates": 1, "stale": 0}, "internal_errors": 0,
    }
    receiver.reset()
    assert receiver.observation() == {"applied": [], "resources": {}}
    assert receiver.stats()["requests"] == {}
    assert post(receiver, once).json()["applied"] == 1  # reset forgets seen ids too


def test_secret_never_appears_in_repr_or_logs(receiver: ReferenceReceiver, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for case in _forgeries().values():
        receiver.handle("POST", "/webhook", *case)
    post(receiver, event())
    assert SECRET not in repr(receiver)
    assert SECRET not in caplog.text
    assert "[redacted]" in repr(receiver)


def test_store_failure_is_503_not_a_crash(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "gone.db")
    receiver = ReferenceReceiver(SECRET, store=store, clock=FakeClock(NOW))
    store.close()
    assert post(receiver, event()).status == 503
    assert receiver.internal_errors == []


@pytest.mark.parametrize("options", [{"tie_break": "random"}, {"tolerance": -1}, {"max_body": 0},
                                     {"paths": ["webhook"]}, {"paths": ["/state"]}, {"state_path": "state"}])
def test_invalid_options_raise_usage_errors(options: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        ReferenceReceiver(SECRET, **options)


def test_empty_secret_is_refused() -> None:
    with pytest.raises(UsageError, match="secret is empty"):
        ReferenceReceiver("")


def test_concurrent_duplicates_apply_once_in_process(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "race.db") as store:
        receiver = ReferenceReceiver(SECRET, store=store, clock=FakeClock(NOW))
        delivery = Delivery.build([event()], secret=SECRET, timestamp=NOW)
        barrier = threading.Barrier(8)
        statuses: list[int] = []

        def deliver() -> None:
            barrier.wait()
            statuses.append(receiver.handle("POST", "/", dict(delivery.headers), delivery.body).status)

        threads = [threading.Thread(target=deliver) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses == [200] * 8
        assert receiver.observation()["applied"] == list(delivery.event_ids)


# -- Stores ----------------------------------------------------------------------------------------------


def test_sqlite_store_survives_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "durable.db"
    removal = event("product.removed", at=NOW - 10)
    with SqliteStore(path) as store:
        receiver = ReferenceReceiver(SECRET, store=store, clock=FakeClock(NOW))
        post(receiver, event(at=NOW - 30), removal)
    with SqliteStore(path) as store:
        receiver = ReferenceReceiver(SECRET, store=store, clock=FakeClock(NOW))
        assert post(receiver, removal).json()["duplicates"] == 1
        assert post(receiver, event(at=NOW - 20)).json()["stale"] == 1
        assert receiver.observation()["resources"]["product:sku-1"] == {"event_id": removal.event_id, "removed": True}
        assert len(receiver.observation()["applied"]) == 2
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_a_failed_transaction_leaves_no_trace(store: Store) -> None:
    with store.transaction():
        store.mark_seen("kept")
    with pytest.raises(RuntimeError), store.transaction():
        assert store.mark_seen("lost")
        store.put("product:x", ResourceState("lost", 1.0, False), {"identifier": "x"})
        store.put("product:kept", ResourceState("lost", 1.0, True), None)
        store.append_applied("lost")
        raise RuntimeError("interrupted")
    assert (store.seen("kept"), store.seen("lost")) == (True, False)
    assert store.observation() == {"applied": [], "resources": {}}


def test_sqlite_store_refuses_foreign_files(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    path.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError):
        SqliteStore(path)
    with pytest.raises(UsageError, match="synchronous"):
        SqliteStore(tmp_path / "x.db", synchronous="SOMETIMES")


def test_open_store_specs(tmp_path: Path) -> None:
    assert isinstance(open_store("memory"), MemoryStore)
    sqlite_store = open_store(f"sqlite:{tmp_path / 'spec.db'}")
    assert isinstance(sqlite_store, SqliteStore)
    sqlite_store.close()
    for bad in ("redis://x", "sqlite:", "Memory"):
        with pytest.raises(UsageError, match="use 'memory' or 'sqlite:PATH'"):
            open_store(bad)


# -- Adapters --------------------------------------------------------------------------------------------


def test_wsgi_adapter(receiver: ReferenceReceiver) -> None:
    delivery = Delivery.build([event()], secret=SECRET, timestamp=NOW)
    transport = httpx.WSGITransport(app=receiver.wsgi())
    with httpx.Client(transport=transport, base_url="http://receiver.test") as client:
        response = client.post("/webhook", content=delivery.body, headers=list(delivery.headers))
        assert (response.status_code, response.json()["applied"]) == (200, 1)
        assert client.get("/state").json()["applied"] == list(delivery.event_ids)
        assert client.get("/webhook").headers["allow"] == "POST"
        assert client.get("/elsewhere").status_code == 404
        assert client.post("/", content=b"x", headers={"Content-Length": "99999999999"}).status_code == 413
        assert client.post("/", content=b"{}").status_code == 401


def test_asgi_adapter(receiver: ReferenceReceiver) -> None:
    delivery = Delivery.build([event()], secret=SECRET, timestamp=NOW)

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=receiver.asgi())
        async with httpx.AsyncClient(transport=transport, base_url="http://receiver.test") as client:
            response = await client.post("/webhook", content=delivery.body, headers=list(delivery.headers))
            assert (response.status_code, response.json()["applied"]) == (200, 1)
            state = await client.get("/state")
            assert state.json()["applied"] == list(delivery.event_ids)
            assert (await client.put("/webhook")).headers["allow"] == "POST"
            assert (await client.get("/elsewhere")).status_code == 404
            big = await client.post("/", content=b"x" * 10, headers={"Content-Length": "99999999999"})
            assert (big.status_code, big.headers["connection"]) == (413, "close")
            bad_length = await client.post("/", content=b"{}", headers={"Content-Length": "two"})
            assert bad_length.status_code == 400

    asyncio.run(scenario())


def test_asgi_body_cap_without_content_length(store: Store) -> None:
    receiver = ReferenceReceiver(SECRET, store=store, clock=FakeClock(NOW), max_body=100)

    async def chunks() -> Any:
        for _ in range(10):
            yield b"x" * 50

    async def scenario() -> int:
        transport = httpx.ASGITransport(app=receiver.asgi())
        async with httpx.AsyncClient(transport=transport, base_url="http://receiver.test") as client:
            return (await client.post("/webhook", content=chunks())).status_code

    assert asyncio.run(scenario()) == 413


def test_asgi_lifespan_and_websocket() -> None:
    app = ReferenceReceiver(SECRET).asgi()
    sent: list[dict[str, Any]] = []

    async def scenario() -> None:
        incoming = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

        async def receive() -> Any:
            return next(incoming)

        async def send(message: Any) -> None:
            sent.append(dict(message))

        await app({"type": "lifespan"}, receive, send)
        incoming = iter([{"type": "websocket.connect"}])
        await app({"type": "websocket", "path": "/"}, receive, send)

    asyncio.run(scenario())
    assert [message["type"] for message in sent] == [
        "lifespan.startup.complete", "lifespan.shutdown.complete", "websocket.close",
    ]


# -- Robustness: no input makes it fail ------------------------------------------------------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=12,
)
_field_values: st.SearchStrategy[Any] = st.sampled_from([
    None, "", "x", 0, [], {}, "product.updated", "product_model.removed", "2020-12-04T16:02:47+01:00",
    "2020-13-45T99:99:99",
]) | _json_values


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=st.lists(
        st.fixed_dictionaries({}, optional={
            "event_id": _field_values, "action": _field_values, "event_datetime": _field_values,
            "data": st.fixed_dictionaries({}, optional={"resource": st.dictionaries(
                st.sampled_from(["uuid", "identifier", "code", "values"]), _field_values)}) | _field_values,
        }) | _json_values,
        max_size=12,
    ),
)
def test_any_signed_json_is_answered_200_or_400(events: list[Any]) -> None:
    receiver = ReferenceReceiver(SECRET, clock=FakeClock(NOW))
    response = post_raw(receiver, json.dumps({"events": events}).encode())
    assert response.status in (200, 400)
    assert receiver.internal_errors == []
    if response.status == 400:
        assert receiver.observation() == {"applied": [], "resources": {}}


@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=300), method=st.sampled_from(["POST", "GET", "PUT"]),
       path=st.sampled_from(["/", "/webhook", "/state", "/x"]))
def test_any_bytes_never_cause_a_server_error(body: bytes, method: str, path: str) -> None:
    receiver = ReferenceReceiver(SECRET, clock=FakeClock(NOW))
    headers = {"X-Akeneo-Request-Signature": sign(SECRET, NOW, body), "X-Akeneo-Request-Timestamp": str(NOW)}
    assert receiver.handle(method, path, headers, body).status < 500
    assert receiver.internal_errors == []
