"""The Event Platform's summary shares the Events API's: diagnoses, kinds by harm with their fix, answer
bodies and the per-probe table (issue 15 items 1 and 2)."""

from __future__ import annotations

from typing import Any

from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.event_platform.campaign import EpCampaignConfig, EpCampaignResult, run_ep_campaign
from akeneo_events_testkit.event_platform.oracle import EP_KIND_FIX
from akeneo_events_testkit.event_platform.probes import EP_PROBES
from akeneo_events_testkit.event_platform.profile import EVENT_PLATFORM_PROFILE
from akeneo_events_testkit.event_platform.signing import EpSecrets
from akeneo_events_testkit.report import junit_xml

from ..support.ep_receiver import START, EpReceiver

SECRET = "ep-summary-secret-42"
OWN = EpCampaignConfig().client_id


def _run(receiver: EpReceiver, observe: Any = None, **options: Any) -> EpCampaignResult:
    config = EpCampaignConfig(seed=3, events=60, settle_timeout=0.0, **options)
    return run_ep_campaign(config, target=receiver, observe=observe or receiver.observation,
                           secrets=EpSecrets(SECRET), clock=FakeClock(START))


def test_a_wrong_secret_is_diagnosed_before_the_violations() -> None:
    result = _run(EpReceiver(["not-the-secret"], own_client_id=OWN))
    assert [d["cause"] for d in result.verdict.stats["diagnoses"]] == ["check_the_secret"]
    text = EVENT_PLATFORM_PROFILE.summary(result)
    assert text.index("check the secret") < text.index("The first of each kind:")
    assert "Probes (each crafted request, what it got, what was judged):" in text
    assert "fix: " + EP_KIND_FIX["rejected_valid"] in text


def test_a_receiver_that_records_nothing_is_diagnosed_and_lost_events_lead() -> None:
    result = _run(EpReceiver([SECRET], own_client_id=OWN), observe=lambda: {"applied": [], "resources": {}})
    assert [d["cause"] for d in result.verdict.stats["diagnoses"]] == ["not_recording"]
    assert result.report()["kinds"][0]["kind"] == "event_lost"


def test_a_correct_receiver_gets_no_diagnosis_and_every_probe_ok() -> None:
    result = _run(EpReceiver([SECRET], own_client_id=OWN))
    assert result.passed and result.verdict.stats["diagnoses"] == []
    rows = result.report()["probe_table"]
    assert [row["probe"] for row in rows] == list(EP_PROBES)
    assert {row["verdict"] for row in rows} == {"ok"}
    assert all(row["family"] == ("robustness" if EP_PROBES[row["probe"]].expect == "any" else "authenticity")
               for row in rows)
    assert "<system-out>" in junit_xml(result) and rows[0]["probe"] in junit_xml(result)
