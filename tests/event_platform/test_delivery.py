"""Event Platform delivery semantics on a virtual clock (event-platform-facts.md section 3)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.errors import UsageError
from akeneo_events_testkit.event_platform.emitter import EpEmitter
from akeneo_events_testkit.event_platform.faults import parse_ep_faults
from akeneo_events_testkit.event_platform.rules import BACKOFF, MIN_RATE
from akeneo_events_testkit.event_platform.signing import EpSecrets
from akeneo_events_testkit.event_platform.truth import EpTruth
from akeneo_events_testkit.event_platform.wire import PRODUCT_TYPES, CloudEvent

from ..support.ep_receiver import START, EpReceiver


class Compressed(EpEmitter):
    """Events one tenth of a second apart in virtual time, to test the rolling hour exactly."""

    def cloud_events(self, truth: EpTruth | None = None) -> Iterator[CloudEvent]:
        for index, event in enumerate(super().cloud_events(truth)):
            yield replace(event, epoch=START + index // 10)


def emitter(events: int = 1, **options: Any) -> EpEmitter:
    options.setdefault("secrets", EpSecrets("s3cret"))
    return EpEmitter(seed=options.pop("seed", 3), events=events, start=START, clock=FakeClock(START), **options)


def test_retry_ladder_on_the_virtual_clock() -> None:
    receiver = EpReceiver(["s3cret"], script=lambda event, n: 500)
    truth = emitter(1).run(receiver)
    times = [a.time - truth.attempts[0].time for a in truth.attempts]
    assert times == [0.0, BACKOFF[0], BACKOFF[0] + BACKOFF[1], sum(BACKOFF)] == [0, 300, 900, 2100]
    assert [a.retry for a in truth.attempts] == [0, 1, 2, 3]
    assert len({a.event_id for a in truth.attempts}) == 1
    assert [(d.reason, d.time) for d in truth.drops] == [("retries_exhausted", truth.attempts[-1].time)]
    assert truth.suspension is None  # 4 failures stay under the minimum number of attempts


def test_retry_succeeds_then_stops() -> None:
    receiver = EpReceiver(["s3cret"], script=lambda event, n: 503 if n < 3 else None)
    truth = emitter(1).run(receiver)
    assert [a.outcome for a in truth.attempts] == ["server_error", "server_error", "success"]
    assert truth.delivered == {truth.attempts[0].event_id} and not truth.drops


def test_timeouts_and_refused_connections_are_retried() -> None:
    receiver = EpReceiver(["s3cret"], delay=0.2)
    truth = emitter(1, timeout=0.05).run(receiver)
    assert [a.outcome for a in truth.attempts] == ["timeout"] * 4
    truth = emitter(1).run("http://127.0.0.1:1/webhook")
    assert [a.outcome for a in truth.attempts] == ["unreachable"] * 4
    assert truth.dropped() == {"retries_exhausted": 1}


def test_other_4xx_is_a_failure_not_retried() -> None:
    truth = emitter(3).run(EpReceiver(["s3cret"], script=lambda event, n: 422))
    assert len(truth.attempts) == 3 and truth.dropped() == {"rejected": 3}


@pytest.mark.parametrize("status", [404, 301, 302, 307, 308])
def test_404_and_3xx_suspend_at_once_and_later_events_are_lost(status: int) -> None:
    first: list[str] = []

    def script(event: dict[str, Any], n: int) -> int | None:
        first.append(event["id"])
        return status if len(first) == 2 else None

    truth = emitter(10, max_in_flight=1).run(EpReceiver(["s3cret"], script=script))
    assert len(truth.attempts) == 2  # nothing is sent once suspended, no redirect followed
    assert truth.suspension is not None and truth.suspension.cause == "immediate"
    assert truth.suspension.time == truth.attempts[1].time
    assert truth.suspension.responses == (f"#1 HTTP {status}",)
    assert truth.dropped() == {"suspended": 9}
    assert "was suspended at" in truth.suspension.describe()


def _ratio_receiver(ok: int) -> EpReceiver:
    count: list[int] = []

    def script(event: dict[str, Any], n: int) -> int | None:
        count.append(1)
        return None if len(count) <= ok else 400

    return EpReceiver(["s3cret"], script=script)


def test_threshold_89_percent_suspends_91_does_not() -> None:
    truth = Compressed(seed=3, events=100, start=START, clock=FakeClock(START), max_in_flight=1,
                       secrets=EpSecrets("s3cret")).run(_ratio_receiver(89))
    assert truth.suspension is not None and truth.suspension.cause == "threshold"
    assert truth.suspension.success_rate is not None and truth.suspension.success_rate < 0.9
    assert truth.suspension.responses == ("HTTP 400 x10",)
    assert truth.dropped()["suspended"] == 1  # the 100th event is lost
    truth = Compressed(seed=3, events=100, start=START, clock=FakeClock(START), max_in_flight=1,
                       secrets=EpSecrets("s3cret")).run(_ratio_receiver(91))
    assert truth.suspension is None and len(truth.delivered) == 91


def test_one_early_failure_does_not_suspend() -> None:
    count: list[int] = []

    def script(event: dict[str, Any], n: int) -> int | None:
        count.append(1)
        return 400 if len(count) == 1 else None

    truth = Compressed(seed=3, events=30, start=START, clock=FakeClock(START),
                       secrets=EpSecrets("s3cret")).run(EpReceiver(["s3cret"], script=script))
    assert truth.suspension is None and len(truth.delivered) == 29


def test_failures_older_than_an_hour_leave_the_window() -> None:
    count: list[int] = []

    def script(event: dict[str, Any], n: int) -> int | None:
        count.append(1)
        return 400 if len(count) <= 5 else None

    class Spread(EpEmitter):
        def cloud_events(self, truth: EpTruth | None = None) -> Iterator[CloudEvent]:
            for index, event in enumerate(super().cloud_events(truth)):
                yield replace(event, epoch=START + (0 if index < 5 else 4000 + index))

    truth = Spread(seed=3, events=40, start=START, clock=FakeClock(START),
                   secrets=EpSecrets("s3cret")).run(EpReceiver(["s3cret"], script=script))
    assert truth.suspension is None


def test_unenforced_suspension_records_and_keeps_delivering() -> None:
    truth = emitter(5, enforce_suspension=False).run(EpReceiver(["s3cret"], script=lambda e, n: 404))
    assert truth.suspension is not None and not truth.suspension.enforced
    assert len(truth.attempts) == 5 and "would have been suspended" in truth.suspension.describe()


def test_adaptive_rate_slows_on_429_and_recovers() -> None:
    receiver = EpReceiver(["s3cret"], script=lambda event, n: 429 if n <= 2 else None)
    truth = Compressed(seed=3, events=20, start=START, clock=FakeClock(START),
                       secrets=EpSecrets("s3cret")).run(receiver)
    rates = [rate for _, rate in truth.rates]
    assert min(rates) == MIN_RATE and rates[1] == rates[0] / 2
    assert rates[-1] > MIN_RATE  # ramps up again on 2xx
    assert len(truth.delivered) == 20 and not truth.drops  # 429'd events are retried, Retry-After ignored
    sends = [a.time for a in truth.attempts]
    assert sends == sorted(sends)


def test_throttled_for_over_an_hour_is_a_failure() -> None:
    truth = emitter(1).run(EpReceiver(["s3cret"], script=lambda event, n: 429))
    assert truth.dropped() == {"throttled_1h": 1}
    assert truth.drops[0].time - truth.attempts[0].time > 3600
    assert all(a.outcome == "throttled" for a in truth.attempts)


def test_same_saves_as_the_events_api_mock() -> None:
    from akeneo_events_testkit.events_api.pim import MockPim

    pim = MockPim(seed=5, events=60, profile="saas", uuid_mode=True, start=START)
    origins = [c.event_id for op in pim.operations() for c in op.changes]
    truth = emitter(60, seed=5, types=PRODUCT_TYPES).run(EpReceiver(["s3cret"]))
    assert [e.origin for e in truth.events.values()] == origins
    assert [e.key for e in truth.events.values()] == [c.key for op in pim.operations() for c in op.changes]


def test_cloud_events_are_well_formed_and_deterministic() -> None:
    receiver = EpReceiver(["s3cret"], own_client_id="magento_0000")
    truth = emitter(200, seed=7, delta=0.5, types=PRODUCT_TYPES).run(receiver)
    again = emitter(200, seed=7, delta=0.5, types=PRODUCT_TYPES).run(EpReceiver(["s3cret"]))
    assert list(truth.events) == list(again.events)
    assert [(a.event_id, a.time) for a in truth.attempts] == [(a.event_id, a.time) for a in again.attempts]
    types = {e.type for e in truth.events.values()}
    assert any(t.endswith(".updated.delta") for t in types) and "com.akeneo.pim.v1.product.deleted" in types
    assert all(e.key.startswith(("product:", "product_model:")) for e in truth.events.values())
    own = [e for e in truth.events.values() if e.self_triggered]
    assert own and all(e.author == "magento_0000" and e.author_type == "api" for e in own)
    assert not set(receiver.applied) & {e.event_id for e in own}
    assert len(truth.delivered) == 200


def test_rotation_signs_with_both_secrets() -> None:
    for held in (["old"], ["new"], ["new", "old"]):
        truth = emitter(20, secrets=EpSecrets("new", "old")).run(EpReceiver(held))
        assert len(truth.delivered) == 20 and truth.meta["rotation"]
    truth = emitter(5, secrets=EpSecrets("new", "old")).run(EpReceiver(["old"], bugs=["primary_only"]))
    assert truth.dropped() == {"rejected": 5}


def test_duplicates_and_reordering_are_seeded() -> None:
    receiver = EpReceiver(["s3cret"])
    truth = emitter(150, seed=11, faults="duplicate=0.3,reorder=0.3").run(receiver)
    duplicates = [a for a in truth.attempts if a.duplicate]
    assert duplicates and all(a.event_id in truth.delivered for a in duplicates)
    assert len(receiver.received) == len(truth.attempts)
    saved = list(truth.events)
    sent = [a.event_id for a in truth.attempts if not a.duplicate]
    assert sent != saved and sorted(sent) == sorted(saved)
    again = emitter(150, seed=11, faults="duplicate=0.3,reorder=0.3").run(EpReceiver(["s3cret"]))
    assert [a.event_id for a in again.attempts] == [a.event_id for a in truth.attempts]


def test_bad_options_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="duplicate=P"):
        parse_ep_faults("drop=0.1")
    with pytest.raises(UsageError, match="ratio"):
        EpEmitter(delta=2)
    with pytest.raises(UsageError, match="reserved"):
        EpEmitter(custom_headers=[("Authorization", "x")])


@pytest.mark.parametrize("seed", [0, 7, 21])
def test_default_faults_exercise_every_hazard_at_least_three_times(seed: int) -> None:
    """Issue 14 item 4, the Event Platform side: out-of-order deliveries aimed at the removal or update an
    event precedes (the figures over seeds 0..49 come from benchmarks/hazard_coverage.py)."""
    from akeneo_events_testkit.event_platform.oracle import history
    from akeneo_events_testkit.judging.checks import hazards

    def counts(faults: str) -> dict[str, int]:
        truth = emitter(300, seed=seed, faults=faults, secrets=EpSecrets("s3cret")).run(EpReceiver(["s3cret"]))
        assert truth.suspension is None
        return hazards(history(truth))

    ordering = ("older_after_newer", "update_after_removal", "duplicate_after_removal", "create_after_update")
    aimed = counts("default")
    assert min(aimed[name] for name in ordering) >= 3, aimed
    unfaulted = counts("none")
    assert {unfaulted[name] for name in ordering} == {0}, unfaulted
