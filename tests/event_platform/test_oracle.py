"""The Event Platform oracle: a gallery of receivers buggy in Event Platform ways, and no false positives."""

from __future__ import annotations

from typing import Any

import pytest

from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.event_platform.campaign import EpCampaignConfig, EpCampaignResult, run_ep_campaign
from akeneo_events_testkit.event_platform.emitter import EpEmitter
from akeneo_events_testkit.event_platform.oracle import EP_VIOLATION_KINDS, format_ep_verdict, judge_ep
from akeneo_events_testkit.event_platform.probes import EP_PROBES
from akeneo_events_testkit.event_platform.signing import EpSecrets
from akeneo_events_testkit.judging.observation import Observation, ResourceState, parse_observation
from akeneo_events_testkit.judging.render import format_violations
from akeneo_events_testkit.judging.verdict import Verdict

from ..support.ep_receiver import START, EpReceiver


def campaign(receiver: EpReceiver, *, seed: int = 1, events: int = 150, secrets: EpSecrets | None = None,
             **options: Any) -> EpCampaignResult:
    config = EpCampaignConfig(seed=seed, events=events, settle_timeout=0.0, **options)
    return run_ep_campaign(config, target=receiver, observe=receiver.observation,
                           secrets=secrets or EpSecrets("s3cret"), clock=FakeClock(START))


def kinds(verdict: Verdict) -> set[str]:
    return set(verdict.counts())


GALLERY: list[tuple[str, list[str], dict[str, Any], str]] = [
    # (name, bugs, campaign options, the violation it must raise)
    ("no dedupe across retries", ["no_dedupe"], {"faults": "duplicate=0.3"}, "duplicate_applied"),
    ("no staleness check", ["no_staleness"], {"faults": "reorder=0.5"}, "stale_applied"),
    ("processes its own events", ["processes_own"], {}, "self_event_processed"),
    ("verifies re-serialised JSON", ["reserialised"], {}, "forged_accepted"),
    ("verifies nothing", ["no_verify"], {}, "forged_accepted"),
    ("follows the algorithm header", ["follows_algorithm"], {}, "forged_accepted"),
    ("404 on unknown products", ["not_found_unknown"], {}, "suspension_risk"),
    ("reads data without checking it", ["trusts_data"], {}, "server_error"),
]


@pytest.mark.parametrize(("bugs", "options", "expected"), [g[1:] for g in GALLERY], ids=[g[0] for g in GALLERY])
def test_gallery(bugs: list[str], options: dict[str, Any], expected: str) -> None:
    result = campaign(EpReceiver(["s3cret"], own_client_id="magento_0000", bugs=bugs), **options)
    assert expected in kinds(result.verdict), format_violations(result.verdict)
    assert not result.passed


def test_deltas_applied_out_of_order_are_caught() -> None:
    """A receiver that keeps the right event per resource but patches fields from every delta on arrival,
    outdated ones included. It only shows when two deltas to one field arrive out of order, which depends on
    the activity: some of a few seeds must show it, and nothing else may be flagged on any."""
    caught = []
    for seed in range(6):
        result = campaign(EpReceiver(["s3cret"], own_client_id="magento_0000", bugs=["delta_any_order"]),
                          seed=seed, events=300, faults="reorder=0.5", delta=1.0, probes=False)
        assert kinds(result.verdict) <= {"delta_corrupted"}, format_violations(result.verdict)
        caught += [v for v in result.verdict.violations if v.kind == "delta_corrupted"]
    assert caught
    violation = caught[0]
    assert violation.resource and violation.expected.startswith(("values.", "enabled", "family", "parent"))
    assert "--delta 1.0" in violation.reproduce and len(violation.requests) >= 2


def test_delta_state_judging_rules() -> None:
    """On a hand-made truth: ties accept either value, an ignored (not applied) delta is not required, an
    untracked field is not judged, a removed value must be absent, and a bad delta state is refused."""
    from akeneo_events_testkit.errors import InvalidObservation
    from akeneo_events_testkit.event_platform.oracle import delta_states
    from akeneo_events_testkit.event_platform.truth import EpEvent, EpTruth, canonical_json

    name = ("values", "name", "en_US", None)

    def delta(event_id: str, epoch: int, *changes: tuple[tuple[str | None, ...], object]) -> EpEvent:
        return EpEvent(event_id, "product:p", "com.akeneo.pim.v1.product.updated.delta", epoch, False, "julia",
                       "user", False, event_id, 0, tuple((path, canonical_json(new)) for path, new in changes))

    truth = EpTruth()
    for event in (delta("a", 10, (name, "Chair"), (("family",), "chairs")), delta("b", 20, (name, "Table")),
                  delta("c", 20, (name, "Desk")), delta("d", 30, (name, None))):
        truth.events[event.event_id] = event

    def judged(applied: list[str], state: dict[str, object]) -> set[str]:
        raw = {"applied": applied, "resources": {"product:p": {"event_id": applied[-1], "removed": False,
                                                               "delta": state}}}
        return kinds(judge_ep(truth, parse_observation(raw), deltas=delta_states(raw)))

    def named(data: str) -> dict[str, object]:
        return {"values": {"name": [{"locale": "en_US", "scope": None, "data": data}]}}

    assert judged(["a", "b", "c"], named("Desk")) == judged(["a", "c", "b"], named("Table")) == set()
    assert judged(["a", "b", "c"], named("Chair")) == {"delta_corrupted"}
    assert judged(["a"], named("Chair")) == set()  # b, c, d ignored or never delivered: not required
    assert judged(["a", "d"], named("Chair")) == {"delta_corrupted"}  # d removed the value
    assert judged(["a", "d"], {"values": {}}) == set()
    assert judged(["a", "b"], {"family": "tables"}) == {"delta_corrupted"}
    assert judged(["a", "b"], {}) == set()  # tracks nothing: nothing to judge
    with pytest.raises(InvalidObservation, match="delta"):
        delta_states({"resources": {"product:p": {"event_id": "a", "delta": {"values": {"name": "x"}}}}})


def test_primary_only_receiver_fails_the_rotation_when_holding_the_old_secret() -> None:
    rotating = EpSecrets("new-secret", "old-secret")
    result = campaign(EpReceiver(["old-secret"], own_client_id="magento_0000", bugs=["primary_only"]),
                      secrets=rotating, rotation="old")
    assert {"rotation_rejected", "suspension_risk"} <= kinds(result.verdict)
    # holding the new (primary) secret hides the bug, except for the forged-primary probe
    result = campaign(EpReceiver(["new-secret"], own_client_id="magento_0000", bugs=["primary_only"]),
                      secrets=rotating, rotation="new")
    assert {v.kind for v in result.verdict.errors} == {"rotation_rejected"}
    assert all(v.requests[0].get("probe") == "ep_secondary_only" for v in result.verdict.errors)


@pytest.mark.parametrize("held", [["old-secret"], ["new-secret"], ["new-secret", "old-secret"]])
def test_correct_receiver_passes_every_rotation(held: list[str]) -> None:
    rotation = {1: "old" if held == ["old-secret"] else "new", 2: "both"}[len(held)]
    result = campaign(EpReceiver(held, own_client_id="magento_0000"), secrets=EpSecrets("new-secret", "old-secret"),
                      rotation=rotation)
    assert result.passed and not result.verdict.violations, format_violations(result.verdict)


def test_receiver_ignoring_the_algorithm_header_only_warns() -> None:
    result = campaign(EpReceiver(["s3cret"], own_client_id="magento_0000", bugs=["ignores_algorithm"]))
    assert kinds(result.verdict) == {"algorithm_ignored"} and result.passed


def test_slow_and_failing_receivers() -> None:
    slow = EpReceiver(["s3cret"], own_client_id="magento_0000", delay=0.1)
    truth = EpEmitter(1, 3, start=START, clock=FakeClock(START), secrets=EpSecrets("s3cret"), timeout=0.02).run(slow)
    verdict = judge_ep(truth, parse_observation(slow.observation()), timeout=0.02)
    assert "slow_ack" in kinds(verdict) and not verdict.passed
    stats = verdict.stats  # timed in the handler, in-process: each slow answer is the receiver's, an error
    assert stats["latency_timing"] == ["handler"] and stats["slow_confirmed"] == stats["slow_answers"] > 0
    assert stats["latency_p50"] <= stats["latency_p95"] <= stats["latency_p99"]
    assert f"; slow answers: {stats['slow_answers']} (confirmed)." in format_ep_verdict(verdict, truth)
    assert "Latency p50 " in format_ep_verdict(verdict, truth)
    failed: list[str] = []

    def script(event: dict[str, Any], n: int) -> int | None:
        if not failed:
            failed.append(event["id"])
        return 500 if event["id"] == failed[0] and n == 1 else None

    broken = EpReceiver(["s3cret"], own_client_id="magento_0000", script=script)
    truth = EpEmitter(1, 10, start=START, clock=FakeClock(START), secrets=EpSecrets("s3cret")).run(broken)
    verdict = judge_ep(truth, parse_observation(broken.observation()))
    assert kinds(verdict) == {"server_error"}  # retried at +5 min, then delivered: nothing else is wrong
    assert [a.retry for a in truth.attempts if a.event_id == failed[0]] == [0, 1]


def test_lost_and_resurrected_are_named() -> None:
    receiver = EpReceiver(["s3cret"], own_client_id="magento_0000")
    result = campaign(receiver, events=200, probes=False, faults="none")
    truth = result.truth
    observation = parse_observation(receiver.observation())
    removed = next(k for k, s in observation.resources.items() if s.removed)
    present = next(k for k, s in observation.resources.items() if not s.removed)
    older = next(e for e in truth.events.values() if e.key == removed and not e.is_removal)
    forged = dict(observation.resources)
    forged[removed] = ResourceState(older.event_id, False)
    del forged[present]
    verdict = judge_ep(truth, Observation(observation.applied, forged))
    assert {"resurrected", "stale_final_state"} & kinds(verdict)
    verdict = judge_ep(truth, Observation((), {}))
    assert "event_lost" in kinds(verdict)


def test_suspension_is_stated_in_the_report() -> None:
    result = campaign(EpReceiver(["s3cret"], own_client_id="magento_0000", bugs=["not_found_unknown"]))
    text = format_ep_verdict(result.verdict, result.truth)
    assert text.startswith("The subscription was suspended at ") and "immediately, on #" in text
    assert "HTTP 404" in text and text.endswith("FAIL")
    assert result.report()["suspended"] is True and result.truth.dropped()["suspended"] > 0


@pytest.mark.parametrize("seed", range(12))
def test_no_false_positives_for_a_correct_receiver(seed: int) -> None:
    result = campaign(EpReceiver(["s3cret"], own_client_id="magento_0000"), seed=seed, events=200,
                      faults="chaos", delta=0.5)
    assert not result.verdict.violations, format_violations(result.verdict)
    assert result.verdict.stats["self_events"] > 0 or seed >= 0


@pytest.mark.parametrize("seed", range(6))
def test_no_false_positives_for_the_reference_receiver(seed: int) -> None:
    config = EpCampaignConfig(seed=seed, events=200, faults="chaos", settle_timeout=0.0,
                              rotation=("old", "new", "both")[seed % 3])
    result = run_ep_campaign(config, clock=FakeClock(START))
    assert not result.verdict.violations, format_violations(result.verdict)


def test_a_cloud_event_without_data_is_a_robustness_probe() -> None:
    """The probe without data is the one that breaks a receiver trusting ``data``: one server_error, and the
    probe of an unknown type is taken (ignored) by the same receiver."""
    result = campaign(EpReceiver(["s3cret"], own_client_id="magento_0000", bugs=["trusts_data"]))
    [violation] = result.verdict.violations
    assert (violation.kind, violation.requests[0]["probe"], violation.received) == (
        "server_error", "ep_missing_data", "HTTP 500")
    answers = {a.probe: a.status for a in result.truth.attempts if a.probe}
    assert answers["ep_unknown_type"] == 200


def test_kinds_and_probes_are_documented() -> None:
    assert {"suspension_risk", "self_event_processed", "rotation_rejected", "duplicate_applied"} <= set(
        EP_VIOLATION_KINDS)
    assert {p.expect for p in EP_PROBES.values()} == {"reject", "accept", "warn", "any"}


@pytest.mark.parametrize("seed", range(40))
def test_no_false_positives_on_delta_states(seed: int) -> None:
    """Every update a delta, heavy reordering and redelivery: neither the reference receiver nor the test's
    correct receiver is ever flagged, and delta states are judged (a 200-seed sweep of this was clean too)."""
    faults = ("chaos", "duplicate=0.5,reorder=0.8")[seed % 2]
    if seed % 4 < 2:
        result = campaign(EpReceiver(["s3cret"], own_client_id="magento_0000"), seed=seed, events=200,
                          faults=faults, delta=1.0)
    else:
        result = run_ep_campaign(EpCampaignConfig(seed=seed, events=200, faults=faults, delta=1.0,
                                                  settle_timeout=0.0), clock=FakeClock(START))
    assert not result.verdict.violations, format_violations(result.verdict)
    assert result.verdict.stats["delta_states_judged"] > 0
