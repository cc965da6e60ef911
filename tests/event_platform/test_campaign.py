"""Event Platform campaigns, the migration comparison and the CLI wiring (event-platform-facts.md)."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from akeneo_events_testkit.cli import main
from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.errors import UsageError
from akeneo_events_testkit.event_platform.campaign import EpCampaignConfig, rotation_secrets, run_ep_campaign
from akeneo_events_testkit.event_platform.probes import EP_PROBES
from akeneo_events_testkit.event_platform.signing import EpSecrets
from akeneo_events_testkit.migration import compare_profiles
from akeneo_events_testkit.receiver import ReferenceReceiver

from ..support.ep_receiver import START, EpReceiver


def test_two_correct_receivers_agree() -> None:
    new = EpReceiver(["new"], own_client_id="magento_0000")
    result = compare_profiles(4, 250, new_target=new, new_observe=new.observation, new_secrets=EpSecrets("new"),
                              client_id="magento_0000", settle_timeout=0.0)
    assert result.passed and not result.differences, result.text()
    assert result.stats["resources"] > 10
    assert result.text().startswith(f"PASS: 0 of {result.stats['resources']} resources differ")


def test_an_injected_difference_is_found() -> None:
    new = EpReceiver(["new"], own_client_id="magento_0000", bugs=["ignore_deletes"])
    result = compare_profiles(4, 250, new_target=new, new_observe=new.observation, new_secrets=EpSecrets("new"),
                              client_id="magento_0000", settle_timeout=0.0)
    assert result.differences and not result.passed
    difference = result.differences[0]
    assert difference.key.startswith("product") and "removed or absent" in difference.old
    assert "holds save" in difference.new
    assert difference.key in result.text()
    assert {d.kind for d in result.differences} == {"missing_at_old"}  # the new receiver kept what was removed
    assert result.text().startswith("FAIL: ") and f"missing_at_old x{len(result.differences)}: " in result.text()


def test_own_events_differ_when_the_new_receiver_does_not_drop_them() -> None:
    new = EpReceiver(["new"], own_client_id=None)
    result = compare_profiles(4, 250, new_target=new, new_observe=new.observation, new_secrets=EpSecrets("new"),
                              client_id="magento_0000", settle_timeout=0.0)
    assert "self_event_processed" in result.new_verdict.counts()


def test_campaign_report_and_reproduce() -> None:
    result = run_ep_campaign(EpCampaignConfig(seed=2, events=120, settle_timeout=0.0), clock=FakeClock(START))
    report = json.loads(json.dumps(result.report(), default=str))
    assert report["verdict"] == "pass" and report["suspended"] is False and report["profile"] == "event-platform"
    assert report["stats"]["probes"] == len(EP_PROBES)
    assert "--profile event-platform" in result.reproduce


def test_campaign_against_a_url(tmp_path: object) -> None:
    from akeneo_events_testkit.receiver import ReceiverServer

    receiver = ReferenceReceiver("s3cret", ep_secrets=["s3cret"], own_client_id="magento_0000")
    with ReceiverServer(receiver) as server:
        result = run_ep_campaign(EpCampaignConfig(seed=3, events=60, settle_timeout=0.0), target=server.url,
                                 state_url=server.state_url, secrets=EpSecrets("s3cret"), clock=FakeClock(START))
    assert result.passed, result.failure_text()
    assert "--url" in result.reproduce


def test_usage_errors() -> None:
    with pytest.raises(UsageError, match="rotation="):
        EpCampaignConfig(rotation="half")
    with pytest.raises(UsageError, match="both secrets"):
        run_ep_campaign(EpCampaignConfig(rotation="old"), secrets=EpSecrets("only-one"))
    with pytest.raises(UsageError, match="--state-url"):
        run_ep_campaign(EpCampaignConfig(events=5), target=EpReceiver(["x"]), secrets=EpSecrets("x"))
    assert rotation_secrets("both", EpSecrets("n", "o")) == ["n", "o"]


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    sys_stdout = sys.stdout
    sys.stdout = out
    try:
        code = main(list(argv))
    finally:
        sys.stdout = sys_stdout
    return code, out.getvalue()


def test_cli_fuzz_event_platform() -> None:
    code, text = run_cli("fuzz", "--profile", "event-platform", "--events", "80", "--seed", "1")
    assert code == 0, text
    assert "The subscription stayed active" in text and text.rstrip().endswith("PASS")
    code, text = run_cli("fuzz", "--profile", "event-platform", "--events", "40", "--json")
    assert code == 0 and json.loads(text)["suspended"] is False


def test_cli_compare() -> None:
    code, text = run_cli("fuzz", "--compare", "event-platform", "--events", "80", "--seed", "1")
    assert code == 0 and text.startswith("PASS: 0 of "), text
    code, _ = run_cli("fuzz", "--compare", "event-platform", "--profile", "6.0", "--events", "10")
    assert code == 2


def test_cli_as_a_subprocess_rejects_unknown_profiles() -> None:
    done = subprocess.run([sys.executable, "-m", "akeneo_events_testkit.cli", "fuzz", "--profile", "nope"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "nope" in done.stderr


def test_assert_receiver_correct_runs_the_event_platform_profile() -> None:
    """``profile="event-platform"`` dispatches to the Event Platform campaign (it used to raise UnknownProfile)."""
    from akeneo_events_testkit import assert_receiver_correct
    from akeneo_events_testkit.event_platform.campaign import EpCampaignResult
    from akeneo_events_testkit.failures import ViolationsFound

    secret = "ep-secret-for-the-assertion"
    receiver = ReferenceReceiver(secret, ep_secrets=[secret], own_client_id="magento_0000")
    result = assert_receiver_correct(receiver.asgi(), secret=secret, observe=receiver.observation, events=60,
                                     profile="event-platform")
    assert isinstance(result, EpCampaignResult) and result.passed
    assert result.verdict.stats["events_generated"] > 0
    careless = ReferenceReceiver("another-secret", ep_secrets=["another-secret"])
    with pytest.raises(ViolationsFound, match="rejected_valid|rotation_rejected"):
        assert_receiver_correct(careless.asgi(), secret=secret, observe=careless.observation, events=30,
                                profile="event-platform")
    with pytest.raises(UsageError, match=r"strict: Events API only \(not the Event Platform\), use profile=.saas."):
        assert_receiver_correct(receiver.asgi(), secret=secret, observe=receiver.observation,
                                profile="event-platform", strict=True)
