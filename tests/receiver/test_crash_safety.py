"""Crash safety of ``akeneo-events serve`` on SQLite: SIGKILL under load, restart on the same file, redeliver.

The PIM never retries (events-api-facts.md section 1), but Pub/Sub redelivers the same event ids with a fresh
timestamp and signature (section 6). So a receiver's 2xx is a promise: an acknowledged event must survive a
crash, and no redelivery may apply an event twice. Each cycle kills the served receiver while requests are in
flight, restarts it on the same SQLite file, checks the acknowledged events are all there, and redelivers what
was not acknowledged (and, to be harsh, some of what was).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from akeneo_events_testkit.events_api.pim import MockPim
from akeneo_events_testkit.events_api.wire import Delivery, Event

from ..support.paths import ROOT

SECRET = "crashsafe4kz9y947jps0wggoc84ww80000o0ogs0ssc444w0"
SEEDS = [101, 202, 303, 404, 505]
KILLS = 4
EVENTS = 120
CONNECTIONS = 4
STARTUP = 30.0  # seconds; generous for a loaded CI machine


class Served:
    """``python -m akeneo_events_testkit.cli serve`` in a subprocess; every wait is bounded."""

    def __init__(self, db: Path, folder: Path) -> None:
        # --port 0: the OS picks a free port at bind time, so no other test can take it between restarts.
        self.log = folder / "serve.log"
        self._out = folder / "serve.out"
        self._log = open(self.log, "ab")  # noqa: SIM115 - closed in stop()
        self._stdout = open(self._out, "wb")  # noqa: SIM115 - closed in stop()
        env = {key: value for key, value in os.environ.items() if key != "AKENEO_EVENTS_SECRET"}
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "akeneo_events_testkit.cli", "serve", "--secret", SECRET, "--port", "0",
             "--store", f"sqlite:{db}"],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self._stdout, stderr=self._log,
        )
        deadline = time.monotonic() + STARTUP
        while b"Receiving Akeneo events at " not in self._out.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"serve did not start (exit {self.process.returncode}): "
                                     f"{self.log.read_text()[-2000:]}")
            time.sleep(0.03)
        self.url = self._out.read_text().split(" at ", 1)[1].split(" ", 1)[0]
        self.state_url = self.url.rsplit("/", 1)[0] + "/state"

    def state(self) -> dict[str, Any]:
        response = httpx.get(self.state_url, timeout=5, trust_env=False)
        assert response.status_code == 200
        document: dict[str, Any] = response.json()
        return document

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()
        self._stdout.close()


@dataclass
class Ledger:
    """What the PIM side knows: which deliveries were acknowledged, and what each event is."""

    deliveries: list[Delivery]
    events: dict[str, Event] = field(default_factory=dict)
    acked: set[int] = field(default_factory=set)  # delivery indexes answered 2xx at least once
    unacked_attempts: int = 0
    attempts: int = 0
    refusals: list[int] = field(default_factory=list)  # statuses other than 2xx: a genuine delivery refused

    def __post_init__(self) -> None:
        for delivery in self.deliveries:
            for item in delivery.events:
                assert item.event_id not in self.events, "the faultless workload sends each event once"
                self.events[item.event_id] = item

    @property
    def pending(self) -> list[int]:
        return [index for index in range(len(self.deliveries)) if index not in self.acked]

    def acked_events(self) -> Iterator[Event]:
        for index in sorted(self.acked):
            yield from self.deliveries[index].events


def deliver(
    served: Served, ledger: Ledger, indexes: list[int], *, kill_after: int | None, rng: random.Random
) -> None:
    """Send ``indexes`` (re-signed now) over a few connections; with ``kill_after``, SIGKILL the receiver
    right after that many requests have started, while they are in flight. Requests not started by then wait
    for the kill, so that some are always refused."""
    queue = list(enumerate(indexes))
    lock = threading.Lock()
    started = threading.Semaphore(0)
    killed = threading.Event()
    if kill_after is None:
        killed.set()

    def worker() -> None:
        with httpx.Client(timeout=httpx.Timeout(10.0), trust_env=False) as client:
            while True:
                with lock:
                    if not queue:
                        return
                    position, index = queue.pop(0)
                if kill_after is not None and position >= kill_after:
                    killed.wait(30)
                started.release()
                delivery = ledger.deliveries[index].resigned(secret=SECRET, timestamp=int(time.time()))
                try:
                    status: int | None = client.post(served.url, content=delivery.body,
                                                     headers=list(delivery.headers)).status_code
                except httpx.HTTPError:
                    status = None
                with lock:
                    ledger.attempts += 1
                    if status is not None and 200 <= status < 300:
                        ledger.acked.add(index)
                    else:
                        ledger.unacked_attempts += 1
                        if status is not None:
                            ledger.refusals.append(status)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    try:
        if kill_after is not None:
            for _ in range(kill_after):
                assert started.acquire(timeout=30), "the workload stalled before the kill"
            time.sleep(rng.uniform(0, 0.015))
            served.kill()
    finally:
        killed.set()
        for thread in threads:
            thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a delivery thread hung"
    assert ledger.refusals == [], f"genuine deliveries answered {ledger.refusals}"


def check_durable(state: dict[str, Any], ledger: Ledger) -> None:
    """Nothing applied twice, nothing unknown, and every acknowledged event kept: applied, or superseded by
    a newer (or same-time) event of its resource that is itself kept."""
    applied = state["applied"]
    assert len(applied) == len(set(applied)), "an event was applied twice"
    assert set(applied) <= set(ledger.events), "an unknown event id was applied"
    current = {key: value["event_id"] for key, value in state["resources"].items()}
    kept = set(applied)
    for item in ledger.acked_events():
        if item.event_id in kept:
            continue
        holder = current.get(item.key)
        assert holder is not None and ledger.events[holder].epoch >= item.epoch, (
            f"event {item.event_id} ({item.key}) was acknowledged, then lost in a crash")


@pytest.mark.parametrize("seed", SEEDS)
def test_sigkill_under_load_loses_nothing_acknowledged_and_applies_nothing_twice(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    ledger = Ledger(list(MockPim(seed=seed, events=EVENTS).deliveries(secret=SECRET)))
    assert len(ledger.deliveries) >= 20
    db = tmp_path / "receiver.sqlite3"
    for cycle in range(KILLS):
        served = Served(db, tmp_path)
        try:
            if cycle:
                check_durable(served.state(), ledger)  # before any redelivery can hide a loss
            again = rng.sample(sorted(ledger.acked), len(ledger.acked) // 4)
            batch = ledger.pending + again
            rng.shuffle(batch)
            deliver(served, ledger, batch, kill_after=rng.randint(1, max(1, len(batch) - 2)), rng=rng)
        finally:
            served.stop()
    served = Served(db, tmp_path)
    try:
        check_durable(served.state(), ledger)
        batch = ledger.pending + rng.sample(sorted(ledger.acked), len(ledger.acked) // 2)
        rng.shuffle(batch)
        for _ in range(3):  # a healthy receiver acknowledges all; a very slow machine may need a redelivery
            deliver(served, ledger, batch, kill_after=None, rng=rng)
            batch = ledger.pending
            if not batch:
                break
        assert ledger.pending == [], "deliveries to a healthy receiver were never acknowledged"
        final = served.state()
    finally:
        served.stop()
    check_durable(final, ledger)
    assert ledger.unacked_attempts >= KILLS, "every kill left requests unacknowledged"
    newest: dict[str, float] = {}
    for item in ledger.events.values():
        newest[item.key] = max(newest.get(item.key, item.epoch), item.epoch)
    resources = final["resources"]
    assert set(resources) == set(newest)
    for key, value in resources.items():  # everything delivered in the end: the newest event of each resource
        current = ledger.events[value["event_id"]]
        assert current.epoch == newest[key], f"{key} holds {current.event_id}, not its newest event"
        assert value["removed"] == current.action.is_removal
    last: dict[str, float] = {}
    for event_id in final["applied"]:  # the applied log is a history the rules allow, across the crashes
        item = ledger.events[event_id]
        assert item.epoch >= last.get(item.key, float("-inf")), f"{event_id} applied over a newer event"
        last[item.key] = item.epoch
    assert "Traceback" not in (tmp_path / "serve.log").read_text()
