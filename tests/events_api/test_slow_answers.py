"""``slow_ack`` is an error once the slowness is confirmed (judging.checks.answers), never flipped by load.

Timed in an in-process handler, a slow answer is the receiver's own (transport.timing): one is an error.
Over HTTP a loaded machine can slow a receiver the kit does not see into, so one or two slow answers among
many are warnings naming the latency percentiles, and SLOW_CONFIRMATIONS of them are errors. The receivers
here sleep past a short timeout (0.1 s; the PIM's is 0.5 s, events-api-facts.md section 1) on real loopback
servers, a few times each.
"""

from __future__ import annotations

from typing import Any

import pytest

from akeneo_events_testkit.events_api.oracle import judge
from akeneo_events_testkit.events_api.pim import MockPim, RunResult
from akeneo_events_testkit.events_api.summary import summary_table
from akeneo_events_testkit.judging.checks import SLOW_CONFIRMATIONS
from akeneo_events_testkit.judging.observation import parse_observation
from akeneo_events_testkit.judging.verdict import Verdict
from akeneo_events_testkit.receiver.server import AppServer
from akeneo_events_testkit.transport import timing

from ..support.gallery import GalleryReceiver

SECRET = "slow0ps0wggoc84ww80000o0ogs0ssc444w008s8kkcgw"
TIMEOUT = 0.1
SLEEP = 0.3  # three timeouts: clearly slow, even with a loaded machine's wake-ups left out
SEED, EVENTS = 3, 12  # nine requests


class SlowOn(GalleryReceiver):
    """A correct receiver that answers the POSTs numbered in ``slow`` (1-based) after :data:`SLEEP`."""

    slow: frozenset[int] = frozenset()

    def delay(self, number: int) -> float:
        return SLEEP if number in self.slow else 0.0


def slow_on(*numbers: int) -> SlowOn:
    receiver = SlowOn(SECRET)
    receiver.slow = frozenset(numbers)
    return receiver


def deliver(receiver: GalleryReceiver, transport: str) -> tuple[RunResult, Verdict]:
    pim = MockPim(seed=SEED, events=EVENTS, faults="none", probes=False, timeout=TIMEOUT)
    if transport == "http":
        with AppServer(receiver.asgi()) as server:
            run = pim.run(server.base_url + "/webhook", secret=SECRET)
    else:
        run = pim.run(receiver.asgi() if transport == "asgi" else receiver.wsgi(), secret=SECRET)
    return run, judge(run.truth, parse_observation(receiver.observation()), timeout=TIMEOUT)


def slow_acks(verdict: Verdict) -> list[tuple[str, int]]:
    return [(v.severity, int(v.message.split()[1])) for v in verdict.violations if v.kind == "slow_ack"]


def test_the_campaign_has_requests_to_spare() -> None:
    assert len(list(MockPim(seed=SEED, events=EVENTS, faults="none", probes=False).deliveries(secret=SECRET))) == 9


def test_one_slow_answer_over_http_is_an_unconfirmed_warning() -> None:
    run, verdict = deliver(slow_on(4), "http")
    assert slow_acks(verdict) == [("warning", 3)]
    assert verdict.passed and {v.kind for v in verdict.violations} == {"slow_ack"}
    message = verdict.violations[0].message
    assert "unconfirmed: 1 slow answer(s) of 9, timed over the network" in message
    assert f"{SLOW_CONFIRMATIONS} confirm it" in message and "p50 " in message and "p99 " in message
    assert verdict.stats["slow_answers"] == 1 and verdict.stats["slow_confirmed"] == 0
    assert verdict.stats["latency_timing"] == ["exchange"]
    assert verdict.stats["latency_p99"] >= TIMEOUT > verdict.stats["latency_p50"]
    table = summary_table(run, verdict.stats)
    assert "slow answers" in table and "1 (0 confirmed; the others are warnings" in table
    assert "timed over the network, the kit's stalls left out" in table


def test_a_receiver_slow_again_and_again_over_http_is_an_error() -> None:
    _, verdict = deliver(slow_on(2, 5, 8), "http")
    assert slow_acks(verdict) == [("error", 1), ("error", 4), ("error", 7)]
    assert not verdict.passed and verdict.stats["slow_confirmed"] == SLOW_CONFIRMATIONS


@pytest.mark.parametrize("transport", ["asgi", "wsgi"])
def test_one_slow_answer_timed_in_the_handler_is_an_error(transport: str) -> None:
    run, verdict = deliver(slow_on(4), transport)
    assert slow_acks(verdict) == [("error", 3)]
    assert not verdict.passed and verdict.stats["latency_timing"] == ["handler"]
    assert "1 (confirmed)" in summary_table(run, verdict.stats)


def test_without_run_queue_statistics_one_slow_answer_in_process_is_a_warning(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timing, "RUN_QUEUE_STATS", False)
    _, verdict = deliver(slow_on(4), "asgi")
    assert slow_acks(verdict) == [("warning", 3)] and verdict.passed
    assert "timed without run-queue statistics" in verdict.violations[0].message


def test_quick_receivers_have_no_slow_answer_and_their_percentiles() -> None:
    _, verdict = deliver(slow_on(), "http")
    stats: dict[str, Any] = verdict.stats
    assert verdict.violations == [] and stats["slow_answers"] == 0
    assert 0 <= stats["latency_p50"] <= stats["latency_p95"] <= stats["latency_p99"] < TIMEOUT
