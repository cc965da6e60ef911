"""State left from an earlier run: a receiver that is not empty before a run is judged on what this run
delivered, says so, and ``strict`` refuses it (issue 15, item 3)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.errors import UsageError
from akeneo_events_testkit.event_platform.campaign import EpCampaignConfig, EpCampaignResult, run_ep_campaign
from akeneo_events_testkit.event_platform.signing import EpSecrets
from akeneo_events_testkit.events_api.campaign import CampaignConfig, run_campaign
from akeneo_events_testkit.events_api.summary import render_result
from akeneo_events_testkit.profiles import resolve
from akeneo_events_testkit.receiver import ReferenceReceiver

SECRET = "baseline-s3cret-0123456789abcdef"
LATER, EARLIER = 1_800_000_000, 1_700_000_000


def _ep_run(receiver: ReferenceReceiver, start: int, *, seed: int = 1,
            observe: Callable[[], Any] | None = None) -> EpCampaignResult:
    return run_ep_campaign(EpCampaignConfig(seed=seed, events=150), target=receiver.asgi(),
                           observe=observe or receiver.observation, secrets=EpSecrets(SECRET), clock=FakeClock(start))


def _receiver() -> ReferenceReceiver:
    return ReferenceReceiver(SECRET, ep_secrets=[SECRET], own_client_id="magento_0000")


def test_the_reference_receiver_run_twice_against_one_store_then_a_third_run_is_clean(tmp_path: Path) -> None:
    """Events API: one SQLite store across three runs (same seed, then another start and seed)."""
    results = [run_campaign(CampaignConfig(seed=seed, events=150, start=start), store_dir=tmp_path, secret=SECRET)
               for seed, start in ((0, LATER), (0, LATER), (3, EARLIER))]
    assert [r.verdict.violations for r in results] == [[], [], []]
    first, second, third = (r.verdict.stats["earlier_state"] for r in results)
    assert first is None  # a fresh store: judged as always
    assert second["applied_before"] == results[0].verdict.stats["applied"] > 0
    # the same seed repeats the ids: the receiver rightly applied none again, and the other seed's are foreign
    assert third["applied_before"] == second["applied_before"] and third["ignored_applied"] > 0
    summary = render_result(results[2])
    assert "state before the run" in summary and "judged only what this run delivered" in summary
    assert "restart it, or point it at a fresh store" in summary


def test_a_long_lived_event_platform_receiver_holding_newer_states_is_not_flagged() -> None:
    """Two runs at a later time, then the same seed earlier: the receiver rightly keeps the newer states (UUID
    v7 ids carry the time, so they are no events of the third run); judging them was 40+ event_lost."""
    receiver = _receiver()
    try:
        results = [_ep_run(receiver, start) for start in (LATER, LATER, EARLIER)]
    finally:
        receiver.close()
    assert [r.verdict.violations for r in results] == [[], [], []]
    earlier = results[2].verdict.stats["earlier_state"]
    assert earlier["ignored_resources"] > 0 and earlier["ignored_applied"] == earlier["applied_before"]
    assert "state before the run: the receiver was not empty" in resolve("event-platform").wire.summary(results[2])


def test_applications_of_an_earlier_run_are_no_duplicate_of_this_one() -> None:
    """An id an earlier run applied twice (a receiver without a lasting dedup) is no duplicate_applied of this
    run, which delivered it once, even though the seed gives it the same id."""
    fresh = _receiver()
    try:
        known = _ep_run(fresh, LATER).observation["applied"][0]
    finally:
        fresh.close()
    receiver = _receiver()

    def observe() -> dict[str, Any]:
        seen = receiver.observation()
        return {**seen, "applied": [known, known, *seen["applied"]]}

    try:
        result = _ep_run(receiver, LATER, observe=observe)
    finally:
        receiver.close()
    assert result.verdict.violations == []
    assert result.verdict.stats["earlier_state"]["applied_before"] == 2


def test_what_this_run_loses_is_still_flagged_beside_an_earlier_state() -> None:
    """No false negative for this run's own resources: one dropped from the observation is flagged (applied,
    then absent: stale_final_state), and the
    earlier run's id and resource are counted as ignored."""
    receiver = _receiver()
    earlier = {"applied": ["old-1"], "resources": {"product:old": {"event_id": "old-1", "removed": False}}}
    lost: list[str] = []

    def observe() -> dict[str, Any]:
        seen = receiver.observation()
        resources = dict(seen["resources"])
        if resources:
            lost[:] = lost or [next(key for key, state in resources.items() if not state["removed"])]
            resources.pop(lost[0])
        return {"applied": ["old-1", *seen["applied"]], "resources": {**earlier["resources"], **resources}}

    try:
        result = _ep_run(receiver, LATER, observe=observe)
    finally:
        receiver.close()
    assert {(v.kind, v.resource) for v in result.verdict.errors} == {("stale_final_state", lost[0])}
    stats = result.verdict.stats["earlier_state"]
    assert (stats["applied_before"], stats["ignored_applied"], stats["ignored_resources"]) == (1, 1, 1)


def test_strict_refuses_a_receiver_that_is_not_empty(tmp_path: Path) -> None:
    run_campaign(CampaignConfig(seed=0, events=60, start=LATER), store_dir=tmp_path, secret=SECRET)
    with pytest.raises(UsageError, match=r"not empty before the run \(\d+ applied, \d+ resources\), left from an "
                                         r"earlier run: start the receiver empty \(restart it, or point it at a "
                                         r"fresh store.*or run without --strict"):
        run_campaign(CampaignConfig(seed=0, events=60, start=LATER, strict=True), store_dir=tmp_path, secret=SECRET)
