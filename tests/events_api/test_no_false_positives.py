"""No false positives: correct receivers pass hundreds of faulty, probed campaigns with no violation at all.

Two correct receivers differ only in their tie rule (facts section 4: ``event_datetime`` has second
precision, so same-second events of one resource have no knowable order): the reference receiver applies
the later delivery, the second keeps the earlier one. Seeds sweep every profile (5.0, 6.0, 7.0 and SaaS,
with and without the UUID option), both fault profiles and both data modes, with probes on.
"""

from __future__ import annotations

import pytest

from akeneo_events_testkit.events_api.campaign import CampaignConfig, CampaignResult, run_campaign
from akeneo_events_testkit.events_api.oracle import judge
from akeneo_events_testkit.events_api.probes import PROBE_KINDS
from akeneo_events_testkit.events_api.truth import GeneratedEvent, GroundTruth, RequestRecord
from akeneo_events_testkit.judging.observation import parse_observation
from akeneo_events_testkit.judging.render import format_violations
from akeneo_events_testkit.receiver import MemoryStore, ReferenceReceiver
from akeneo_events_testkit.transport.sender import Outcome
from akeneo_events_testkit.versions import Action

SECRET = "3ha6eonoa9icsckw8kccos084w0c0000g08g40oo4kww0gc8w4"  # the docs' example secret (facts section 2)
PROFILES: tuple[tuple[str, bool | None], ...] = (
    ("5.0", None), ("6.0", None), ("7.0", False), ("7.0", True), ("saas", False), ("saas", True),
)
SEEDS = range(240)


def sweep_config(seed: int) -> CampaignConfig:
    """Seed ``s`` covers profile ``s % 6``, then alternates fault profiles every 6 seeds and data modes
    every 12, so each combination gets 20 seeds; sizes vary between 60 and 150 events."""
    profile, uuid_mode = PROFILES[seed % len(PROFILES)]
    return CampaignConfig(
        seed=seed,
        events=60 + (seed * 37) % 91,
        profile=profile,
        uuid_mode=uuid_mode,
        faults=("default", "chaos")[seed // 6 % 2],
        data_mode=("send_time", "snapshot")[seed // 12 % 2],
        probes=True,
    )


def run_reference(config: CampaignConfig, tie_break: str, transport: str = "asgi") -> CampaignResult:
    """Run ``config`` once against a fresh reference receiver. Latency is the handler's own time, the kit's
    and the machine's load left out (transport.timing), so no run is ever repeated to get green."""
    receiver = ReferenceReceiver(SECRET, store=MemoryStore(), tie_break=tie_break)
    app = receiver.asgi() if transport == "asgi" else receiver.wsgi()
    result = run_campaign(config, target=app, secret=SECRET, observe=receiver.observation)
    assert receiver.internal_errors == []
    return result


def describe(result: CampaignResult) -> str:
    c = result.config
    return (f"\nseed={c.seed} events={c.events} profile={c.profile} uuid_mode={c.uuid_mode} faults={c.faults} "
            f"data_mode={c.data_mode}\n{format_violations(result.verdict, limit=40)}")


def test_the_sweep_covers_every_combination() -> None:
    combos = {(c.profile, c.uuid_mode, c.faults, c.data_mode) for c in map(sweep_config, SEEDS)}
    assert len(combos) == len(PROFILES) * 2 * 2
    sizes = [sweep_config(seed).events for seed in SEEDS]
    assert min(sizes) == 60 and max(sizes) == 150


@pytest.mark.parametrize("tie_break", ["later", "earlier"])
@pytest.mark.parametrize("seed", SEEDS)
def test_correct_receivers_pass_every_seed(seed: int, tie_break: str) -> None:
    result = run_reference(sweep_config(seed), tie_break)
    assert result.verdict.violations == [], describe(result)
    assert result.passed
    stats = result.verdict.stats
    assert stats["events_acknowledged"] > 0
    assert stats["probes"] == len(PROBE_KINDS)
    assert stats["test_request"] == [200]  # the PIM's Test request, sent in-process too


@pytest.mark.parametrize("tie_break", ["later", "earlier"])
def test_a_long_chaos_campaign(tie_break: str) -> None:
    config = CampaignConfig(seed=20260, events=2000, profile="saas", uuid_mode=True, faults="chaos",
                            data_mode="snapshot" if tie_break == "earlier" else "send_time", probes=True)
    result = run_reference(config, tie_break)
    assert result.verdict.violations == [], describe(result)
    stats = result.verdict.stats
    assert stats["events_generated"] == 2000
    assert stats["ties"] > 0
    assert {"swap", "late", "redeliver", "replay", "duplicate_event", "drop_event", "delay"} <= set(stats["faults"])


@pytest.mark.parametrize("seed", range(6))
def test_wsgi_delivery_is_judged_like_asgi(seed: int) -> None:
    """In-process WSGI must hand the receiver the probes' non-ASCII header bytes (as Latin-1, like a real
    server) rather than fail in the transport and report a 500 against a correct receiver."""
    result = run_reference(sweep_config(seed), ("later", "earlier")[seed % 2], "wsgi")
    assert result.verdict.violations == [], describe(result)
    assert result.verdict.stats["probes"] == len(PROBE_KINDS)


def _record(seq: int, timestamp: int, status: int, faults: tuple[str, ...] = ()) -> RequestRecord:
    outcome = Outcome.SENT if status < 400 else Outcome.ERROR
    return RequestRecord(seq, "default", ("e1",), (1,), timestamp, 321, outcome, status, 0.01, faults=faults)


def test_resigned_copies_never_reuse_the_originals_signature() -> None:
    """A Pub/Sub redelivery comes after the ack deadline (facts section 6): a receiver caching signatures
    against replays must never meet a redelivery that is byte-identical to the original, or it would refuse a
    genuine request. The byte-for-byte replay is a separate fault, which a receiver may refuse."""
    from akeneo_events_testkit.clock import FakeClock
    from akeneo_events_testkit.events_api.faults import Fault, FaultPlan
    from akeneo_events_testkit.events_api.pim import ACK_DEADLINE, MockPim

    plan = FaultPlan([Fault(2, "redeliver", {"after": 1}), Fault(4, "duplicate_event", {"index": 0, "after": 1})])
    deliveries = list(MockPim(seed=1, events=60, clock=FakeClock(1_700_000_000), start=1_700_000_000,
                              faults=plan).deliveries(secret="s"))
    originals = {d.event_ids: d for d in deliveries if d.timestamp == 1_700_000_000}
    copies = [d for d in deliveries if d.timestamp != 1_700_000_000]
    assert len(copies) == 2
    for copy in copies:
        assert copy.timestamp == 1_700_000_000 + ACK_DEADLINE
        original = next(o for ids, o in originals.items() if set(copy.event_ids) <= set(ids))
        assert copy.signature != original.signature


def test_refusing_a_same_second_copy_is_still_rejecting_a_valid_request() -> None:
    """The oracle does not excuse refusals of genuine requests: only tagged byte-for-byte replays may be refused."""
    truth = GroundTruth()
    truth.add_event(GeneratedEvent("e1", "product:a", Action.PRODUCT_UPDATED, 100, 1, "julia", 0))
    truth.add_request(_record(0, 1000, 200))
    truth.add_request(_record(1, 1000, 409, ("redeliver",)))
    truth.add_request(_record(2, 1000, 409, ("replay",)))
    observation = parse_observation({"applied": ["e1"], "resources": {"product:a": {"event_id": "e1",
                                                                                     "removed": False}}})
    assert [(v.kind, v.requests[0]["request"]) for v in judge(truth, observation).violations] == [
        ("rejected_valid", 1)]
