"""Several Event Platform requests in flight at once (event-platform-facts.md section 3: at tens of events/s
with answers of up to 5 s, several requests run at once, the same event's included)."""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.errors import UsageError
from akeneo_events_testkit.event_platform.campaign import EpCampaignConfig, EpCampaignResult, run_ep_campaign
from akeneo_events_testkit.event_platform.emitter import EpEmitter
from akeneo_events_testkit.event_platform.faults import parse_ep_faults
from akeneo_events_testkit.event_platform.oracle import history
from akeneo_events_testkit.event_platform.rules import IN_FLIGHT_LATENCY, INITIAL_RATE
from akeneo_events_testkit.event_platform.signing import EpSecrets
from akeneo_events_testkit.event_platform.tape import load_ep_tape, replay_ep_tape, write_ep_tape
from akeneo_events_testkit.event_platform.truth import EpTruth
from akeneo_events_testkit.judging.checks import CONCURRENT_HAZARDS, HAZARDS, hazard_summary, hazards
from akeneo_events_testkit.receiver import ReceiverServer, ReferenceReceiver
from akeneo_events_testkit.receiver.server import AppServer

from ..support.ep_receiver import START, EpReceiver, Overlap

SECRET = "s3cret"


def emitter(seed: int = 3, events: int = 200, **options: Any) -> EpEmitter:
    options.setdefault("faults", "default")
    return EpEmitter(seed=seed, events=events, start=START, clock=FakeClock(START), secrets=EpSecrets(SECRET),
                     **options)


def groups(truth: EpTruth) -> list[list[int]]:
    """The seqs of each group, in send order."""
    found: dict[int, list[int]] = {}
    for attempt in truth.genuine:
        assert attempt.group is not None
        found.setdefault(attempt.group, []).append(attempt.seq)
    return list(found.values())


def plan(truth: EpTruth) -> list[tuple[Any, ...]]:
    """What must not depend on the interleaving: each request's event, group, virtual time, retry and flags."""
    return [(a.seq, a.event_id, a.group, a.time, a.retry, a.duplicate, a.concurrent, a.outcome, a.rate)
            for a in truth.attempts]


def test_requests_of_a_group_are_in_flight_together_in_process() -> None:
    overlap = Overlap(EpReceiver([SECRET]), pause=0.02)
    truth = emitter(events=150).run(overlap)
    sizes = [len(g) for g in groups(truth)]
    assert max(sizes) > 1 and overlap.most == max(sizes)  # every member of the largest group was in the handler
    assert all(truth.attempts[g[0]].time == truth.attempts[g[-1]].time for g in groups(truth))  # one instant


def test_a_wsgi_app_gets_a_thread_per_request_in_flight() -> None:
    lock = threading.Lock()
    state = {"active": 0, "most": 0}

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with lock:
            state["active"] += 1
            state["most"] = max(state["most"], state["active"])
        time.sleep(0.05)
        with lock:
            state["active"] -= 1
        start_response("200 OK", [("Content-Length", "0")])
        return [b""]

    truth = emitter(events=120, max_in_flight=6).run(app)
    largest = max(len(g) for g in groups(truth))
    assert largest >= 5 and 2 <= state["most"] <= largest  # more than asyncio's default pool of cpu_count + 4
    assert all(a.outcome == "success" for a in truth.attempts)


def test_requests_of_a_group_are_in_flight_together_over_http() -> None:
    receiver = ReferenceReceiver(SECRET, ep_secrets=[SECRET], own_client_id="magento_0000")
    overlap = Overlap(receiver.asgi(), pause=0.05)  # room for a loaded machine: a group still overlaps
    try:
        with AppServer(overlap) as server:
            truth = emitter(events=120).run(server.base_url + "/webhook")
    finally:
        receiver.close()
    assert all(a.outcome == "success" for a in truth.attempts)
    assert overlap.most == max(len(g) for g in groups(truth)) > 1


def test_groups_times_and_faults_are_the_same_on_every_run_whatever_the_interleaving() -> None:
    runs = []
    for shuffle in range(3):
        overlap = Overlap(EpReceiver([SECRET]), delay=_random_delay(shuffle))
        runs.append(plan(emitter(seed=5).run(overlap)))
    assert runs[0] == runs[1] == runs[2]
    assert runs[0] != plan(emitter(seed=6).run(EpReceiver([SECRET])))


def test_the_bound_grows_with_the_rate_and_bursts_reach_max_in_flight() -> None:
    truth = emitter(events=400, max_in_flight=8).run(EpReceiver([SECRET]))
    by_group = groups(truth)
    first = truth.attempts[by_group[0][0]]
    assert first.rate == INITIAL_RATE and len(by_group[0]) <= max(1, int(INITIAL_RATE * IN_FLIGHT_LATENCY))
    for seqs in by_group:
        attempt = truth.attempts[seqs[0]]
        bound = max(1, min(8, int(attempt.rate * IN_FLIGHT_LATENCY)))
        originals = [s for s in seqs if not truth.attempts[s].concurrent]
        assert len(originals) <= bound and len(seqs) <= 8
    sizes = Counter(len(g) for g in by_group)
    assert sum(n for size, n in sizes.items() if size <= 4) > sum(n for size, n in sizes.items() if size > 4) > 0


def test_one_in_flight_sends_one_request_at_a_time() -> None:
    overlap = Overlap(EpReceiver([SECRET]), pause=0.001)
    truth = emitter(max_in_flight=1).run(overlap)
    assert overlap.most == 1 and all(len(g) == 1 for g in groups(truth))
    assert not any(a.concurrent for a in truth.attempts)  # a concurrent duplicate needs two in flight
    times = [a.time for a in truth.genuine]
    assert all(b >= a + 1 / 100 - 1e-9 for a, b in itertools.pairwise(times))  # one rate slot each
    assert "concurrent_duplicate" not in hazards(history(truth))


def test_a_concurrent_duplicate_goes_in_the_same_group_as_its_event() -> None:
    truth = emitter(events=300).run(EpReceiver([SECRET]))
    copies = [a for a in truth.attempts if a.concurrent]
    assert len(copies) >= 5
    for copy in copies:
        assert copy.duplicate
        mates = [a for a in truth.attempts if a.group == copy.group and a.event_id == copy.event_id]
        assert sorted(a.concurrent for a in mates) == [False, True]
    counts = hazards(history(truth))
    assert counts["concurrent_duplicate"] == len(copies)
    assert set(counts) == {*HAZARDS, *CONCURRENT_HAZARDS}
    assert "concurrent duplicate" in hazard_summary(counts)


def test_concurrent_duplicates_are_a_fault_of_their_own() -> None:
    assert parse_ep_faults("default").concurrent_duplicate > 0
    assert parse_ep_faults("concurrent_duplicate=0.3").concurrent_duplicate == 0.3
    none = emitter(faults="duplicate=0.1").run(EpReceiver([SECRET]))
    assert not any(a.concurrent for a in none.attempts) and any(a.duplicate for a in none.attempts)
    with pytest.raises(UsageError, match="concurrent_duplicate=P"):
        parse_ep_faults("concurrent=0.1")
    with pytest.raises(UsageError, match="between 0 and 1"):
        parse_ep_faults("concurrent_duplicate=2")


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_max_in_flight_must_be_a_positive_whole_number(bad: Any) -> None:
    with pytest.raises(UsageError, match="1 sends one at a time"):
        emitter(max_in_flight=bad)
    with pytest.raises(UsageError, match="--in-flight must be"):
        EpCampaignConfig(in_flight=bad)


def test_a_suspension_inside_a_group_lets_the_group_finish_and_loses_the_rest() -> None:
    probe = emitter(seed=4, events=60, faults="none").run(EpReceiver([SECRET]))
    group = next(g for g in groups(probe) if len(g) >= 3)
    doomed = probe.attempts[group[1]].event_id
    truth = emitter(seed=4, events=60, faults="none").run(
        EpReceiver([SECRET], script=lambda event, n: 404 if event["id"] == doomed else None))
    assert truth.suspension is not None and truth.suspension.cause == "immediate"
    assert [a.seq for a in truth.attempts] == list(range(group[-1] + 1))  # the group in flight, then nothing
    assert truth.dropped()["suspended"] == len(probe.events) - len(truth.attempts) + 1  # the 404's event too


def test_tapes_keep_the_groups_and_replay_them_together(tmp_path: Any) -> None:
    truth = emitter(events=80, keep_bodies=True).run(EpReceiver([SECRET]))
    write_ep_tape(truth, tmp_path / "run.jsonl")
    loaded = load_ep_tape(tmp_path / "run.jsonl")
    assert [(a.group, a.concurrent) for a in loaded.attempts] == [(a.group, a.concurrent) for a in truth.attempts]
    overlap = Overlap(EpReceiver([SECRET]))
    replayed = replay_ep_tape(loaded, overlap, secrets=EpSecrets(SECRET))
    assert overlap.most == max(len(g) for g in groups(truth))
    assert [a.group for a in replayed.attempts] == [a.group for a in truth.genuine]


def _reference(seed: int, target: Any = None, observe: Any = None, events: int = 200,
               **options: Any) -> EpCampaignResult:
    return run_ep_campaign(EpCampaignConfig(seed=seed, events=events, settle_timeout=0.0, **options), target=target,
                           observe=observe, secrets=EpSecrets(SECRET), clock=FakeClock(START))


def _exercised(results: list[EpCampaignResult]) -> Counter[str]:
    total: Counter[str] = Counter()
    for result in results:
        total.update(result.verdict.stats["hazards"])
    return total


def test_the_reference_receiver_passes_in_process_over_many_seeds() -> None:
    results = [_reference(seed) for seed in range(16)]
    assert [r.verdict.violations for r in results] == [[]] * 16, [r.failure_text() for r in results if not r.passed]
    total = _exercised(results)
    assert total["concurrent_duplicate"] >= 40


def _random_delay(seed: int) -> Callable[[int], float]:
    chance = random.Random(f"interleave:{seed}")
    return lambda place: chance.uniform(0, 0.005)


def test_the_reference_receiver_passes_whatever_order_it_handles_a_group_in() -> None:
    """The verdict of a correct receiver does not change with the interleaving: the same seed, handled in
    send order, in reverse order (the first sent waits longest) and in random orders."""
    orders: dict[str, Callable[[int], float]] = {
        "send order": lambda n: 0.0,
        "reversed": lambda place: 0.003 * (8 - place),
        **{f"random {k}": _random_delay(k) for k in range(2)},
    }
    for seed in (7, 8):
        verdicts, applied = {}, {}
        for name, delay in orders.items():
            receiver = ReferenceReceiver(SECRET, ep_secrets=[SECRET], own_client_id="magento_0000")
            try:
                result = _reference(seed, Overlap(receiver.asgi(), delay=delay), receiver.observation, events=120)
            finally:
                receiver.close()
            verdicts[name] = (result.verdict.violations, plan(result.truth))
            applied[name] = result.observation["applied"]
        assert all(v == verdicts["send order"] for v in verdicts.values())
        assert verdicts["send order"][0] == []
        assert applied["reversed"] != applied["send order"]  # the receiver did handle the groups otherwise


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_reference_receiver_passes_over_http(seed: int) -> None:
    receiver = ReferenceReceiver(SECRET, ep_secrets=[SECRET], own_client_id="magento_0000")
    with ReceiverServer(receiver) as server:
        result = run_ep_campaign(EpCampaignConfig(seed=seed, events=200, settle_timeout=0.0), target=server.url,
                                 state_url=server.state_url, secrets=EpSecrets(SECRET), clock=FakeClock(START))
    receiver.close()
    assert result.verdict.violations == [], result.failure_text()
    assert result.verdict.stats["in_flight"]["requests_sent_concurrently"] > 50


def test_the_reference_receiver_passes_as_a_wsgi_app() -> None:
    for seed in (4, 5):
        receiver = ReferenceReceiver(SECRET, ep_secrets=[SECRET], own_client_id="magento_0000")
        try:
            result = _reference(seed, receiver.wsgi(), receiver.observation)
        finally:
            receiver.close()
        assert result.verdict.violations == [], result.failure_text()
        assert result.verdict.stats["hazards"]["concurrent_duplicate"] > 0


def test_the_summary_and_report_say_how_concurrent_the_run_was() -> None:
    from akeneo_events_testkit.event_platform.profile import EVENT_PLATFORM_PROFILE

    result = _reference(2)
    stats = result.verdict.stats["in_flight"]
    assert stats["requests_sent_concurrently"] == sum(len(g) for g in groups(result.truth) if len(g) > 1)
    assert stats["concurrent_duplicates"] == sum(1 for a in result.truth.attempts if a.concurrent) > 0
    summary = EVENT_PLATFORM_PROFILE.summary(result)
    assert (f"requests in flight: up to 8 at once; {stats['requests_sent_concurrently']} of "
            f"{len(result.truth.genuine)} requests sent concurrently") in summary
    assert f"concurrent duplicate {result.verdict.stats['hazards']['concurrent_duplicate']}" in summary
    sequential = _reference(2, in_flight=1)
    assert "one at a time" in EVENT_PLATFORM_PROFILE.summary(sequential)
    assert "concurrent" not in hazard_summary(sequential.verdict.stats["hazards"])
    assert "--in-flight 1" in sequential.reproduce and "--in-flight" not in result.reproduce
