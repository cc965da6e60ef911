"""Races of concurrent deliveries caught, correct receivers never flagged (event-platform-facts.md section 3:
receivers must expect concurrent deliveries, including of the same event)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.event_platform.campaign import EpCampaignConfig, EpCampaignResult, run_ep_campaign
from akeneo_events_testkit.event_platform.emitter import EpEmitter
from akeneo_events_testkit.event_platform.oracle import format_ep_verdict, history, judge_ep
from akeneo_events_testkit.event_platform.signing import EpSecrets
from akeneo_events_testkit.event_platform.truth import EpAttempt, EpTruth
from akeneo_events_testkit.event_platform.wire import PRODUCT_TYPES, CloudEvent
from akeneo_events_testkit.judging.checks import hazards
from akeneo_events_testkit.judging.observation import parse_observation
from akeneo_events_testkit.receiver import ReceiverServer, ReferenceReceiver

from ..support.ep_receiver import START, RacyStalenessReceiver
from ..support.node import node_receiver, requires_node

SECRET = "s3cret"
CLIENT = "magento_0000"


def _campaign(seed: int, events: int, **where: Any) -> EpCampaignResult:
    return run_ep_campaign(EpCampaignConfig(seed=seed, events=events, settle_timeout=0.0,
                                            types=PRODUCT_TYPES), secrets=EpSecrets(SECRET),
                           clock=FakeClock(START), **where)


@requires_node
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_node_receiver_deduping_with_check_then_create_is_caught(seed: int) -> None:
    """``if (await db.get(id)) return; await db.insert(id)``: the default faults send copies of events in flight
    together with their first attempt, and both copies pass the check. The reference receiver, which dedupes
    atomically, gets the same traffic and is not flagged."""
    env = {"AKENEO_EP_SECRETS": SECRET, "AKENEO_CLIENT_ID": CLIENT, "ROUND_TRIP_MS": "5"}
    with node_receiver("event_platform_check_then_create.js", env) as base:
        result = _campaign(seed, 300, target=base + "/webhook", state_url=base + "/state")
    assert set(result.verdict.counts()) == {"duplicate_applied"}, result.failure_text()
    twice = {v.event_ids[0] for v in result.verdict.violations}
    copied = {a.event_id for a in result.truth.attempts if a.concurrent}
    assert twice <= copied  # only the concurrent copies get through: later redeliveries find the id stored
    assert result.verdict.stats["hazards"]["concurrent_duplicate"] == len(copied) > 0
    receiver = ReferenceReceiver(SECRET, ep_secrets=[SECRET], own_client_id=CLIENT)
    with ReceiverServer(receiver) as server:
        reference = _campaign(seed, 300, target=server.url, state_url=server.state_url)
    receiver.close()
    assert reference.verdict.violations == [], reference.failure_text()
    assert reference.verdict.stats["hazards"]["concurrent_duplicate"] == len(copied)


class Bunched(EpEmitter):
    """The seed's events, each resource's due together: the stream is sorted by resource and every event is due
    at the start, so a resource's events go out in the same groups (their ``time`` is unchanged: only when the
    platform sends them moves). This is how a test makes the kit force the same-resource race."""

    def cloud_events(self, truth: EpTruth | None = None) -> Iterator[CloudEvent]:
        events = sorted(super().cloud_events(truth), key=lambda event: event.key)
        return (replace(event, epoch=START) for event in events)


def _bunched(seed: int, target: Any) -> EpTruth:
    return Bunched(seed=seed, events=150, start=START, clock=FakeClock(START), secrets=EpSecrets(SECRET),
                   faults="none").run(target)


def _forced(truth: EpTruth) -> set[str]:
    """Resources whose newest event B went in one group with an older event A of the resource sent after it,
    nothing newer than A acknowledged before the group: a receiver that reads, awaits, then writes handles
    both on the state before the group, and A, written last, wins."""
    first: dict[str, EpAttempt] = {}
    for attempt in truth.genuine:
        if attempt.acknowledged:
            first.setdefault(attempt.event_id, attempt)
    known = history(truth).events
    by_key: dict[str, list[Any]] = {}
    for event_id in first:
        if event_id in known and not known[event_id].own and not known[event_id].out_of_scope:
            by_key.setdefault(known[event_id].key, []).append(known[event_id])
    forced = set()
    for key, acknowledged in by_key.items():
        newest = max(e.epoch for e in acknowledged)
        tops = [e for e in acknowledged if e.epoch == newest]
        if len(tops) != 1 or tops[0].removal:
            continue
        top = first[tops[0].event_id]
        start = min(a.seq for a in truth.genuine if a.group == top.group)
        for event in acknowledged:
            mate = first[event.event_id]
            if event.removal or event.epoch == newest or mate.group != top.group or mate.seq < top.seq:
                continue
            if not any(a.acknowledged and a.seq < start and truth.events[a.event_id].key == key
                       and truth.events[a.event_id].epoch > event.epoch for a in truth.genuine):
                forced.add(key)
    return forced


def test_a_receiver_checking_staleness_non_atomically_ends_stale_when_the_kit_forces_the_race() -> None:
    """Two events of one product in flight together, the newer sent first: a receiver that reads the stored
    time, awaits its store, then writes keeps the older one. The groups and their order are the seed's, so
    the test knows which resources the race must corrupt; the reference receiver passes the same traffic."""
    found = 0
    for seed in range(3):
        racy = RacyStalenessReceiver([SECRET], own_client_id=CLIENT, round_trip=0.02)
        truth = _bunched(seed, racy)
        forced = _forced(truth)
        found += len(forced)
        verdict = judge_ep(truth, parse_observation(racy.observation()))
        stale = {v.resource for v in verdict.violations if v.kind == "stale_final_state"}
        assert forced and forced <= stale, format_ep_verdict(verdict, truth)
        assert set(verdict.counts()) <= {"stale_final_state", "stale_applied", "resurrected"}  # a removal lost too
        assert hazards(history(truth))["concurrent_same_resource"] >= len(forced)
        reference = ReferenceReceiver(SECRET, ep_secrets=[SECRET], own_client_id=CLIENT)
        try:
            truth = _bunched(seed, reference.asgi())
            assert judge_ep(truth, parse_observation(reference.observation())).violations == []
        finally:
            reference.close()
    assert found >= 3
