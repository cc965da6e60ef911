"""The PostgreSQL store (receiver/postgres.py) against a real server: the semantics of the other stores, and
several receivers (replicas) on one database that never double-apply nor regress a resource."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator

import pytest

from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.errors import UsageError
from akeneo_events_testkit.events_api.wire import Delivery, Event
from akeneo_events_testkit.receiver import MemoryStore, ReferenceReceiver, ResourceState, Response, open_store
from akeneo_events_testkit.receiver.postgres import PostgresStore

from ..support.events import NOW, SECRET, event
from ..support.postgres import postgres_databases


@pytest.fixture(scope="module")
def databases() -> Iterator[Callable[[], str]]:
    """A new, empty database on a throwaway PostgreSQL server for each call."""
    with postgres_databases("store") as database:
        yield database


@pytest.fixture
def url(databases: Callable[[], str]) -> str:
    return databases()


def post(receiver: ReferenceReceiver, *events: Event, ts: int = NOW) -> Response:
    delivery = Delivery.build(events, secret=SECRET, timestamp=ts)
    return receiver.handle("POST", "/webhook", dict(delivery.headers), delivery.body)


def receiver_on(store: object) -> ReferenceReceiver:
    return ReferenceReceiver(SECRET, store=store, clock=FakeClock(NOW))  # type: ignore[arg-type]


def test_the_same_observation_as_the_memory_store(url: str) -> None:
    """Duplicates, stale updates, tombstones and a same-second tie: what the memory store observes."""
    first, newer, older = event(identifier="a", at=NOW - 30), event(identifier="a", at=NOW - 10), \
        event(identifier="a", at=NOW - 20)
    removal, late = event("product_model.removed", code="m", at=NOW - 5), event("product_model.updated", code="m",
                                                                                at=NOW - 8)
    tie = event(identifier="a", at=NOW - 10)
    batches = [(first, newer), (older, first), (removal,), (late, tie), (tie,)]
    with PostgresStore(url) as store:
        shared, memory = receiver_on(store), receiver_on(MemoryStore())
        answers = [(post(shared, *batch).json(), post(memory, *batch).json()) for batch in batches]
        assert [pg for pg, _ in answers] == [mem for _, mem in answers]
        assert shared.observation() == memory.observation()
        assert shared.observation()["resources"]["product_model:m"]["removed"] is True
        assert shared.resource("product:a") == memory.resource("product:a")


def test_replicas_share_one_database_and_survive_a_restart(url: str) -> None:
    update = event(at=NOW - 30)
    with PostgresStore(url) as store:
        assert post(receiver_on(store), update).json()["applied"] == 1
    with PostgresStore(url) as one, PostgresStore(url) as other:
        assert post(receiver_on(other), update).json() == {"applied": 0, "duplicates": 1, "stale": 0}
        assert receiver_on(one).observation()["applied"] == [update.event_id]


def test_concurrent_copies_on_several_replicas_apply_once(url: str) -> None:
    """The redelivery race: the same request on three replicas at the same moment, twice each."""
    stores = [PostgresStore(url) for _ in range(3)]
    try:
        receivers = [receiver_on(store) for store in stores]
        batch = [event(identifier=f"sku-{n}", at=NOW - 20) for n in range(5)]
        delivery = Delivery.build(batch, secret=SECRET, timestamp=NOW)
        barrier = threading.Barrier(6)
        answers: list[dict[str, int]] = []

        def deliver(receiver: ReferenceReceiver) -> None:
            barrier.wait()
            answers.append(receiver.handle("POST", "/webhook", dict(delivery.headers), delivery.body).json())

        threads = [threading.Thread(target=deliver, args=(receivers[n % 3],)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(answer["applied"] for answer in answers) == [0, 0, 0, 0, 0, 5]
        assert receivers[2].observation()["applied"] == list(delivery.event_ids)
    finally:
        for store in stores:
            store.close()


def test_an_older_event_on_another_replica_never_regresses_a_resource(url: str) -> None:
    with PostgresStore(url) as one, PostgresStore(url) as other:
        newer, older = event(at=NOW - 10), event(at=NOW - 20)
        barrier = threading.Barrier(2)

        def deliver(receiver: ReferenceReceiver, item: Event) -> None:
            barrier.wait()
            post(receiver, item)

        threads = [threading.Thread(target=deliver, args=pair)
                   for pair in ((receiver_on(one), newer), (receiver_on(other), older))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert receiver_on(one).observation()["resources"]["product:sku-1"]["event_id"] == newer.event_id


def test_the_upsert_itself_refuses_an_older_event(url: str) -> None:
    """The conditional upsert guards the newest event even for a caller that skipped the staleness check."""
    with PostgresStore(url) as store:
        with store.transaction():
            store.put("product:x", ResourceState("newer", 20.0, False), {"identifier": "x"})
        with store.transaction():
            store.put("product:x", ResourceState("older", 10.0, True), None)
        assert store.current("product:x") == ResourceState("newer", 20.0, False)
        assert store.data("product:x") == {"identifier": "x"}


def test_a_failed_transaction_leaves_no_trace(url: str) -> None:
    with PostgresStore(url) as store:
        with store.transaction():
            store.mark_seen("kept")
        with pytest.raises(RuntimeError), store.transaction():
            assert store.mark_seen("lost")
            store.put("product:x", ResourceState("lost", 1.0, False), {"identifier": "x"})
            store.append_applied("lost")
            raise RuntimeError("interrupted")
        assert (store.seen("kept"), store.seen("lost")) == (True, False)
        assert store.observation() == {"applied": [], "resources": {}}
        store.append_applied("x")
        store.reset()
        assert store.observation() == {"applied": [], "resources": {}} and not store.seen("kept")


def test_open_store_takes_a_postgresql_url_and_hides_its_password(url: str) -> None:
    store = open_store(url)
    try:
        assert isinstance(store, PostgresStore)
    finally:
        store.close()
    with pytest.raises(Exception, match=r"postgres:\[redacted\]@") as caught:
        PostgresStore(url.replace("postgres@", "postgres:hunter2@").replace("127.0.0.1:", "127.0.0.1:1"),
                      connect_timeout=1)
    assert "hunter2" not in str(caught.value)


def test_without_psycopg_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(UsageError, match=r'pip install "akeneo-events-testkit\[postgres\]"'):
        open_store("postgresql://receiver@127.0.0.1/receiver")
