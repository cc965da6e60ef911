"""Each receiver of the gallery has one bug; the oracle must name it, and nothing that bug cannot cause.

Receivers are reached every way the kit supports: in-process ASGI and WSGI, real HTTP to uvicorn in a
thread, and real HTTP to uvicorn in another process (the way a receiver in any language is tested).
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from akeneo_events_testkit.events_api.campaign import CampaignConfig, CampaignResult, run_campaign
from akeneo_events_testkit.events_api.faults import Fault, FaultPlan
from akeneo_events_testkit.events_api.oracle import TEST_REQUEST_LABEL
from akeneo_events_testkit.events_api.pim import MockPim
from akeneo_events_testkit.events_api.probes import ENVELOPE_PROBES, SIGNATURE_MALLEABILITY
from akeneo_events_testkit.events_api.truth import GeneratedEvent, GroundTruth, RequestRecord
from akeneo_events_testkit.judging.render import format_violations
from akeneo_events_testkit.judging.verdict import Verdict, Violation

from ..support.gallery import (
    BUGGY,
    CORRECT,
    GalleryReceiver,
    accepts_any_listed,
    accepts_empty_secret,
    accepts_stale_timestamps,
    accepts_trailing_junk,
    accepts_truncated_signature,
    ack_without_apply,
    crash_mid_batch,
    crash_on_malformed_body,
    crash_on_test_request,
    dedup_per_request,
    drops_unknown_fields,
    no_dedup,
    no_signature_check,
    no_staleness_check,
    refuses_reused_signatures,
    refuses_test_request,
    rejects_product_models,
    rejects_unknown_fields,
    removal_noted_record_kept,
    removal_without_tombstone,
    removes_whitespace,
    signature_over_reserialised_json,
    slow_answers,
    staleness_on_first_delivery_only,
    stops_at_malformed_event,
    strictly_newer,
    strips_sha256_prefix,
)
from ..support.paths import ROOT
from ..support.servers import uvicorn_thread

SECRET = "3kz9y947jps0wggoc84ww80000o0ogs0ssc444w008s8kkcgw"  # the docs' example secret (facts section 2)
SEEDS = (1, 2, 3)
PROFILES: tuple[tuple[str, bool | None], ...] = (
    ("5.0", None), ("6.0", None), ("7.0", False), ("7.0", True), ("saas", False), ("saas", True),
)
#: Probes that are bad signatures (missing timestamps are refused by the freshness check before).
UNSIGNED_PROBES = {"forged_signature", "empty_secret", "tampered_body", "missing_signature", "non_ascii_signature",
                   *SIGNATURE_MALLEABILITY}
#: What ``startswith(expected)`` lets through: the valid signature followed by anything.
SUFFIX_PROBES = {"signature_trailing_junk", "signature_non_hex_suffix", "signature_odd_suffix",
                 "signature_list_valid_first"}


# -- transports -----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def uvicorn_process(name: str) -> Iterator[str]:
    """Serve gallery receiver ``name`` from another process (``python -m tests.support.gallery``); yields its
    base URL."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "AKENEO_EVENTS_SECRET": SECRET, "PYTHONPATH": path}
    proc = subprocess.Popen([sys.executable, "-m", "tests.support.gallery", name], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 20)
        line = proc.stdout.readline() if ready else ""
        if not line.startswith("PORT "):
            proc.kill()
            _, err = proc.communicate(timeout=5)
            raise RuntimeError(f"the receiver process did not report its port: {line!r} {err[-2000:]}")
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def _run(receiver: GalleryReceiver, transport: str, config: CampaignConfig) -> CampaignResult:
    if transport == "asgi":
        return run_campaign(config, target=receiver.asgi(), secret=SECRET, observe=receiver.observation)
    if transport == "wsgi":
        return run_campaign(config, target=receiver.wsgi(), secret=SECRET, observe=receiver.observation)
    if transport == "http":
        with uvicorn_thread(receiver) as base:
            return run_campaign(config, target=base + "/webhook", secret=SECRET, state_url=base + "/state")
    assert transport == "process"
    with uvicorn_process(receiver.name) as base:
        return run_campaign(config, target=base + "/webhook", secret=SECRET, state_url=base + "/state")


def campaign(cls: type[GalleryReceiver], transport: str, config: CampaignConfig,
             ) -> tuple[GalleryReceiver, CampaignResult]:
    """Run ``config`` once against a fresh ``cls``. Never again: latency is the receiver's time, the kit's and
    the machine's load left out (transport.timing), so a verdict that needed a second run would be wrong."""
    receiver = cls(SECRET)
    return receiver, _run(receiver, transport, config)


def repeats(genuine: list[RequestRecord], record: RequestRecord) -> bool:
    """``record`` is a replay, or has the timestamp, events and size of another request that was accepted:
    the same bytes under the same signature, which a receiver may refuse like a replay."""
    return "replay" in record.faults or any(
        o.seq != record.seq and o.status is not None and 200 <= o.status < 300
        and (o.timestamp, o.event_ids, o.body_size) == (record.timestamp, record.event_ids, record.body_size)
        for o in genuine)


def kinds(found: list[Violation]) -> set[str]:
    return {v.kind for v in found}


def flagged_probes(found: list[Violation], kind: str) -> set[str]:
    return {w["probe"] for v in found if v.kind == kind for w in v.requests if w.get("probe")}


def resources(found: list[Violation], kind: str) -> set[str]:
    return {v.resource for v in found if v.kind == kind and v.resource is not None}


def explain(verdict: Verdict) -> str:
    return "\n" + format_violations(verdict, limit=40)


def config_for(seed: int, case: int, **options: Any) -> CampaignConfig:
    profile, uuid_mode = PROFILES[(seed + case) % len(PROFILES)]
    return CampaignConfig(seed=seed, profile=profile, uuid_mode=uuid_mode, probes=True, **options)


# -- the correct side -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["asgi", "wsgi", "http"])
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(CORRECT))
def test_correct_receivers_have_no_violation(name: str, seed: int, transport: str) -> None:
    """The base receiver (a tie goes to the later delivery, ``>=``) and ``strictly_newer`` (``>``) are both
    correct: the tie rule is a choice, not a bug."""
    receiver, result = campaign(CORRECT[name], transport, config_for(seed, 0, events=150, faults="chaos"))
    assert result.verdict.violations == [], explain(result.verdict)
    assert result.verdict.stats["events_acknowledged"] > 0
    assert receiver.expected == frozenset()


@pytest.mark.parametrize("seed", [1, 3, 8])
def test_the_tie_rules_differ_exactly_on_ties(seed: int) -> None:
    """Both tie rules meet same-second events of one resource; they end in different states on exactly
    those resources, and both are accepted."""
    states, ties = [], []
    for cls in (GalleryReceiver, strictly_newer):
        receiver, result = campaign(cls, "asgi", CampaignConfig(seed=seed, events=150, faults="default"))
        assert result.verdict.violations == [], explain(result.verdict)
        ties.append(result.verdict.stats["ties"])
        states.append(receiver.observation()["resources"])
    assert ties[0] == ties[1] > 0
    assert states[0].keys() == states[1].keys()
    assert sum(states[0][key] != states[1][key] for key in states[0]) == ties[0]


@pytest.mark.parametrize("seed", SEEDS)
def test_refusing_a_reused_signature_is_not_rejecting_a_valid_request(seed: int) -> None:
    """Replays, and redeliveries sent within the same second with unchanged data (byte-identical, so
    indistinguishable from a replay), get a 409 from this receiver; the oracle accepts that."""
    _, result = campaign(refuses_reused_signatures, "asgi", config_for(seed, 14, events=80,
                                                                            faults="duplicate=0.6"))
    assert result.verdict.violations == [], explain(result.verdict)
    genuine = list(result.run.truth.genuine_requests())
    refused = [r for r in genuine if r.status == 409]
    assert refused
    for r in refused:
        assert repeats(genuine, r), r


@pytest.mark.parametrize(("name", "probes"), [
    ("compares_decoded_bytes", {"uppercase_signature"}),
    ("reads_leading_digits", {"non_numeric_timestamp"}),
])
def test_harmless_variants_are_accepted_and_not_flagged(name: str, probes: set[str]) -> None:
    """These correct receivers accept a probe the PIM would not send (upper-case hex read as bytes, a timestamp
    signed with junk after its digits): the request is still one only the secret's holder could make, so the
    verdict is clean. This is why both probes are robustness, not authenticity."""
    _, result = campaign(CORRECT[name], "http", config_for(2, 19, events=60))
    assert result.verdict.violations == [], explain(result.verdict)
    answers = {r.probe: r.status for r in result.run.truth.requests if r.probe in probes}
    assert answers.keys() == probes and all(status == 200 for status in answers.values()), answers


# -- one bug each ---------------------------------------------------------------------------------------------


def _multi_applied(observation: dict[str, Any]) -> set[str]:
    return {event_id for event_id, count in Counter(observation["applied"]).items() if count > 1}


@pytest.mark.parametrize("seed", SEEDS)
def test_no_dedup(seed: int) -> None:
    """Only duplicates are reported: the staleness check still runs, so a duplicate is re-applied only when
    it is still its resource's newest event, and that is never stale."""
    config = config_for(seed, 1, events=80, faults="duplicate=0.5,reorder=0.2")
    receiver, result = campaign(no_dedup, "asgi", config)
    found = result.verdict.violations
    assert not result.passed
    assert kinds(found) == {"duplicate_applied"}, explain(result.verdict)
    assert {v.event_ids[0] for v in found} == _multi_applied(receiver.observation())


@pytest.mark.parametrize("seed", SEEDS)
def test_dedup_per_request(seed: int) -> None:
    """A byte-for-byte replay is caught by the body hash; a redelivery (re-signed, fresh data) or one event
    sent again in another request is not. Every reported duplicate went through one of those."""
    receiver, result = campaign(dedup_per_request, "wsgi", config_for(seed, 2, events=80, faults="duplicate=0.5"))
    found = result.verdict.violations
    assert not result.passed
    assert kinds(found) == {"duplicate_applied"}, explain(result.verdict)
    assert {v.event_ids[0] for v in found} == _multi_applied(receiver.observation())
    for v in found:
        faults = {f for w in v.requests for f in w.get("faults", ())}
        assert faults & {"redeliver", "duplicate_event"}, v


@pytest.mark.parametrize("seed", SEEDS)
def test_no_staleness_check(seed: int) -> None:
    """A late older event is applied (stale_applied); the final state may then be stale, or, when the newest
    event was a removal, the resource resurrected. Events are still deduplicated: no duplicate_applied."""
    config = config_for(seed, 3, events=150, faults="reorder=0.6,duplicate=0.3", data_mode="snapshot")
    receiver, result = campaign(no_staleness_check, "asgi", config)
    found = result.verdict.violations
    assert not result.passed
    assert receiver.expected <= kinds(found) <= receiver.expected | receiver.allowed, explain(result.verdict)
    # a stale final state can only come from a stale application on the same resource
    assert resources(found, "stale_final_state") | resources(found, "resurrected") <= resources(found, "stale_applied")


def late_upserts_of_removed_resources(seed: int, events: int, profile: str, uuid_mode: bool | None) -> FaultPlan:
    """A plan sending, after everything else, the last upsert message of each resource whose final event is a
    removal: Pub/Sub may deliver a message very late (facts section 6)."""
    pim = MockPim(seed=seed, events=events, profile=profile, uuid_mode=uuid_mode, data_mode="snapshot")
    last_upsert: dict[str, int] = {}
    final_removal: dict[str, bool] = {}
    for message in pim.messages():
        for change in message.changes:
            final_removal[change.key] = change.action.is_removal
            if not change.action.is_removal:
                last_upsert[change.key] = message.seq
    targets = sorted({seq for key, seq in last_upsert.items() if final_removal[key]})
    return FaultPlan([Fault(seq, "late", {"by": 100_000}) for seq in targets])


def _resurrectable(truth: GroundTruth) -> set[str]:
    """Resources whose newest events are all removals, with an older upsert sent late."""
    by_key: dict[str, list[GeneratedEvent]] = {}
    for event in truth.events.values():
        by_key.setdefault(event.key, []).append(event)
    removed_at: dict[str, int] = {}
    for key, events in by_key.items():
        newest = max(e.epoch for e in events)
        if all(e.is_removal for e in events if e.epoch == newest):
            removed_at[key] = newest
    late = (truth.events[e] for r in truth.genuine_requests() if "late" in r.faults for e in r.event_ids)
    return {e.key for e in late if not e.is_removal and e.epoch < removed_at.get(e.key, e.epoch)}


@pytest.mark.parametrize("seed", SEEDS)
def test_removal_without_tombstone(seed: int) -> None:
    """Exactly the removed resources that got an older upsert late are resurrected, each through a stale
    application right after its removal (the removal is the newer event of every stale_applied)."""
    profile, uuid_mode = PROFILES[(seed + 4) % len(PROFILES)]
    plan = late_upserts_of_removed_resources(seed, 250, profile, uuid_mode)
    config = CampaignConfig(seed=seed, events=250, profile=profile, uuid_mode=uuid_mode, plan=plan,
                            data_mode="snapshot")
    _, result = campaign(removal_without_tombstone, "asgi", config)
    found = result.verdict.violations
    truth = result.run.truth
    expected = _resurrectable(truth)
    assert expected, f"seed {seed}: the activity has no removal to test; choose another seed"
    assert not result.passed
    assert kinds(found) == {"resurrected", "stale_applied"}, explain(result.verdict)
    assert resources(found, "resurrected") == expected
    assert resources(found, "stale_applied") == expected
    for v in found:
        if v.kind == "stale_applied":
            assert truth.events[v.event_ids[0]].is_removal, v
    # with the tombstone, the same traffic is judged clean
    _, clean = campaign(GalleryReceiver, "asgi", config)
    assert clean.verdict.violations == [], explain(clean.verdict)


@pytest.mark.parametrize("seed", SEEDS)
def test_signature_over_reserialised_json(seed: int) -> None:
    """PHP's ``json_encode`` escapes ``/`` and non-ASCII characters, so every genuine request is refused and
    nothing is applied; the probes are refused too, which is right."""
    receiver, result = campaign(signature_over_reserialised_json, "asgi", config_for(seed, 5, events=60))
    found = result.verdict.violations
    genuine = list(result.run.truth.genuine_requests())
    assert not result.passed
    assert kinds(found) == {"rejected_valid"}, explain(result.verdict)
    assert {r.status for r in genuine} == {401}
    # refusing a byte-for-byte repeat is allowed (it may be a replay), so it is not reported; the Test
    # request's empty body is no JSON, so it is refused too, and so is the probe that must be accepted
    assert len(found) == len([r for r in genuine if not repeats(genuine, r)]) + 2 > 2
    assert flagged_probes(found, "rejected_valid") == {"unknown_fields"}
    assert [v.message for v in found if v.requests[0]["request"] == "test"] == [
        f'{TEST_REQUEST_LABEL} was refused: the PIM\'s UI shows the Test as failed ("401 Unauthorized")']
    assert receiver.observation()["applied"] == []


@pytest.mark.parametrize("seed", SEEDS)
def test_no_signature_check(seed: int) -> None:
    """Served from another process, reached only over HTTP: every badly signed probe is accepted."""
    _, result = campaign(no_signature_check, "process", config_for(seed, 6, events=60))
    found = result.verdict.violations
    assert not result.passed
    assert kinds(found) == {"forged_accepted"}, explain(result.verdict)
    assert flagged_probes(found, "forged_accepted") == UNSIGNED_PROBES
    assert len(found) == len(UNSIGNED_PROBES)


@pytest.mark.parametrize("seed", SEEDS)
def test_accepts_trailing_junk(seed: int) -> None:
    _, result = campaign(accepts_trailing_junk, "wsgi", config_for(seed, 7, events=60))
    found = result.verdict.violations
    assert not result.passed
    assert kinds(found) == {"forged_accepted"}, explain(result.verdict)
    assert flagged_probes(found, "forged_accepted") == SUFFIX_PROBES
    assert len(found) == len(SUFFIX_PROBES)


@pytest.mark.parametrize("seed", SEEDS)
def test_strips_sha256_prefix(seed: int) -> None:
    """Over real HTTP: the prefixed header reaches the application as sent, and only it passes."""
    _, result = campaign(strips_sha256_prefix, "http", config_for(seed, 15, events=60))
    found = result.verdict.violations
    assert not result.passed
    assert kinds(found) == {"forged_accepted"}, explain(result.verdict)
    assert flagged_probes(found, "forged_accepted") == {"signature_prefixed"}
    assert len(found) == 1


@pytest.mark.parametrize("seed", SEEDS)
def test_accepts_truncated_signature(seed: int) -> None:
    _, result = campaign(accepts_truncated_signature, "asgi", config_for(seed, 16, events=60))
    found = result.verdict.violations
    assert not result.passed
    assert kinds(found) == {"forged_accepted"}, explain(result.verdict)
    assert flagged_probes(found, "forged_accepted") == {"signature_one_char_short", "signature_half"}


@pytest.mark.parametrize("seed", SEEDS)
def test_removes_whitespace(seed: int) -> None:
    """Over real HTTP: a space or tab inside the value is not stripped by the server, so the bug shows."""
    _, result = campaign(removes_whitespace, "http", config_for(seed, 17, events=60))
    found = result.verdict.violations
    assert not result.passed
    assert kinds(found) == {"forged_accepted"}, explain(result.verdict)
    assert flagged_probes(found, "forged_accepted") == {"signature_inner_whitespace"}


@pytest.mark.parametrize("seed", SEEDS)
def test_accepts_any_listed(seed: int) -> None:
    _, result = campaign(accepts_any_listed, "wsgi", config_for(seed, 18, events=60))
    found = result.verdict.violations
    assert not result.passed
    assert kinds(found) == {"forged_accepted"}, explain(result.verdict)
    assert flagged_probes(found, "forged_accepted") == {"signature_list_valid_first", "signature_list_valid_last"}


@pytest.mark.parametrize("seed", SEEDS)
def test_accepts_empty_secret(seed: int) -> None:
    _, result = campaign(accepts_empty_secret, "http", config_for(seed, 8, events=60))
    found = result.verdict.violations
    assert not result.passed
    assert kinds(found) == {"forged_accepted"}, explain(result.verdict)
    assert flagged_probes(found, "forged_accepted") == {"empty_secret"}
    assert len(found) == 1


@pytest.mark.parametrize("seed", SEEDS)
def test_crash_on_malformed_body(seed: int) -> None:
    """Only the validly signed malformed probes break it; genuine traffic is all applied correctly."""
    _, result = campaign(crash_on_malformed_body, "http", config_for(seed, 9, events=60))
    found = result.verdict.violations
    assert not result.passed
    assert kinds(found) == {"server_error"}, explain(result.verdict)
    # resource_without_key gets through: it keys the resource "product:None" and applies the batch
    assert flagged_probes(found, "server_error") == {"not_json", "wrong_shape"} | TRIPPING_PROBES - {
        "resource_without_key"}
    assert all(v.received == "HTTP 500" for v in found)


@pytest.mark.parametrize("seed", SEEDS)
def test_slow_answers(seed: int) -> None:
    """Each late answer is one violation, whatever the request carried: a slow_ack, or, when only probes
    came late (the genuine traffic was answered in time), a probe_unanswered; the events it applied before
    answering are not held against it. Timed in its handler, each is an error without confirmation."""
    receiver, result = campaign(slow_answers, "asgi", config_for(seed, 10, events=40))
    found = result.verdict.violations
    delayed = sum(1 for n in range(1, receiver.posts + 1) if receiver.delay(n))
    assert not result.passed
    genuine_late = any("probe" not in v.requests[0] for v in found)
    assert kinds(found) == ({"slow_ack"} if genuine_late else {"probe_unanswered"}), explain(result.verdict)
    assert len(found) == delayed > 0
    assert {v.severity for v in found} == {"error"}


def _model_keys_expected_lost(truth: GroundTruth) -> set[str]:
    """Product models whose newest acknowledged event is an upsert (an acknowledged removal needs no state)."""
    newest: dict[str, list[Any]] = {}
    for record in truth.genuine_requests():
        if not record.acknowledged:
            continue
        for event_id in record.event_ids:
            event = truth.events[event_id]
            if event.key.startswith("product_model:"):
                best = newest.setdefault(event.key, [event])
                if event.epoch > best[0].epoch:
                    newest[event.key] = [event]
                elif event.epoch == best[0].epoch and event not in best:
                    best.append(event)
    return {key for key, events in newest.items() if not any(e.is_removal for e in events)}


@pytest.mark.parametrize("seed", SEEDS)
def test_ack_without_apply(seed: int) -> None:
    _, result = campaign(ack_without_apply, "wsgi", config_for(seed, 11, events=250, faults="default"))
    found = result.verdict.violations
    expected = _model_keys_expected_lost(result.run.truth)
    assert expected, f"seed {seed}: no product-model traffic; choose another seed"
    assert not result.passed
    assert kinds(found) == {"event_lost"}, explain(result.verdict)
    assert resources(found, "event_lost") == expected


@pytest.mark.parametrize("seed", SEEDS)
def test_rejects_product_models(seed: int) -> None:
    """Exactly the requests carrying product models are reported (but byte-for-byte repeats, which a
    receiver may refuse as replays), and nothing is lost: what was refused was never acknowledged, so the PIM knows
    (and logged) it."""
    _, result = campaign(rejects_product_models, "wsgi", config_for(seed, 12, events=250, faults="default"))
    found = result.verdict.violations
    truth = result.run.truth
    genuine = list(truth.genuine_requests())
    model_requests = {r.seq for r in genuine if not repeats(genuine, r)
                      and any(truth.events[e].key.startswith("product_model:") for e in r.event_ids)}
    assert model_requests, f"seed {seed}: no product-model traffic; choose another seed"
    assert not result.passed
    assert kinds(found) == {"rejected_valid"}, explain(result.verdict)
    assert {w["request"] for v in found for w in v.requests} == model_requests
    assert {v.received for v in found} == {"HTTP 422"}


@pytest.mark.parametrize("seed", SEEDS)
def test_accepts_stale_timestamps(seed: int) -> None:
    """A replay risk is a warning: the verdict passes, unless strict."""
    _, result = campaign(accepts_stale_timestamps, "asgi", config_for(seed, 13, events=60))
    found = result.verdict.violations
    assert result.passed
    assert kinds(found) == {"replay_accepted"}, explain(result.verdict)
    assert flagged_probes(found, "replay_accepted") == {"stale_timestamp", "future_timestamp"}
    assert {v.severity for v in found} == {"warning"}

    _, strict = campaign(accepts_stale_timestamps, "asgi", config_for(seed, 13, events=60, strict=True))
    assert not strict.passed
    assert {v.kind for v in strict.verdict.errors} == {"replay_accepted"}
    assert len(strict.verdict.errors) == 2


#: Seeds whose default 300-event campaign delivers an older update after a removal (hazard-directed faults).
HAZARD_SEEDS = (1, 3, 7, 11)


@pytest.mark.parametrize("seed", HAZARD_SEEDS)
def test_removals_forgotten_are_caught_with_the_default_faults(seed: int) -> None:
    """No hand-made plan: the default faults overtake the last update of a removed product in flight (built
    before the removal, delivered after it), so a receiver without tombstones is caught."""
    config = CampaignConfig(seed=seed, events=300)
    _, result = campaign(removal_without_tombstone, "asgi", config)
    assert result.verdict.stats["hazards"]["update_after_removal"] > 0
    assert "stale_applied" in kinds(result.verdict.violations), explain(result.verdict)
    assert kinds(result.verdict.violations) <= removal_without_tombstone.expected | removal_without_tombstone.allowed


@pytest.mark.parametrize("seed", HAZARD_SEEDS)
def test_removal_noted_record_kept(seed: int) -> None:
    """The removal's id with ``removed: false``: resurrected, on every removal acknowledged."""
    _, result = campaign(removal_noted_record_kept, "asgi", CampaignConfig(seed=seed, events=300))
    found = result.verdict.violations
    assert kinds(found) == {"resurrected"}, explain(result.verdict)
    events = result.run.truth.events
    removed = {key for key, state in result.observation["resources"].items()
               if state["event_id"] in events and events[state["event_id"]].is_removal}
    assert resources(found, "resurrected") == removed


@pytest.mark.parametrize("seed", HAZARD_SEEDS)
def test_staleness_on_first_delivery_only(seed: int) -> None:
    """A redelivered older event re-applied after a newer one: the staleness of a re-application is judged."""
    _, result = campaign(staleness_on_first_delivery_only, "asgi", CampaignConfig(seed=seed, events=300))
    found = kinds(result.verdict.violations)
    assert {"duplicate_applied", "stale_applied"} <= found, explain(result.verdict)
    assert found <= staleness_on_first_delivery_only.expected | staleness_on_first_delivery_only.allowed
#: The envelope probes whose malformed event a receiver reading it without checks trips on (an event_id that
#: is no UUID and unknown extra fields are read like any other event).
TRIPPING_PROBES = set(ENVELOPE_PROBES) - {"event_id_not_uuid", "unknown_fields"}


def test_crash_on_test_request() -> None:
    """The Test request is judged before the traffic, in-process too: a 500 to it is one server_error that
    names it; the batches are all handled correctly."""
    for transport in ("asgi", "wsgi", "http"):
        _, result = campaign(crash_on_test_request, transport, config_for(1, 15, events=60))
        found = result.verdict.violations
        assert not result.passed
        assert kinds(found) == {"server_error"}, explain(result.verdict)
        [violation] = found
        assert violation.message == f"{TEST_REQUEST_LABEL} broke the receiver"
        assert violation.received == "HTTP 500"
        (witness,) = violation.requests
        assert {k: witness[k] for k in ("request", "events", "status", "outcome")} == {
            "request": "test", "events": [], "status": 500, "outcome": "error"}
        assert witness["body"].startswith("{") and witness["time"].endswith("+00:00")  # the answer, dated
        assert result.verdict.stats["test_request"] == [500]
        assert "#test -> 500" in explain(result.verdict)


def test_refuses_test_request() -> None:
    """A 400 because the empty body holds no events: the PIM's UI shows any non-2xx as a failed Test, so it
    is rejected_valid, the UI's text in the message."""
    _, result = campaign(refuses_test_request, "asgi", config_for(2, 16, events=60))
    found = result.verdict.violations
    assert not result.passed
    assert kinds(found) == {"rejected_valid"}, explain(result.verdict)
    [violation] = found
    assert violation.message == (f'{TEST_REQUEST_LABEL} was refused: the PIM\'s UI shows the Test as failed '
                                 '("400 Bad Request")')
    assert violation.expected == "2xx" and violation.received == "HTTP 400"


def _envelope_probe_requests(result: CampaignResult, names: set[str]) -> list[RequestRecord]:
    found = [r for r in result.run.truth.requests if r.probe in names]
    assert {r.probe for r in found} == names
    return found


@pytest.mark.parametrize("seed", SEEDS)
def test_crash_mid_batch(seed: int) -> None:
    """A 500 on each envelope probe whose malformed event it trips on, after the valid events before it were
    applied (as the Sylius controller did); the bodies that are no batch break it too. Nothing else."""
    receiver, result = campaign(crash_mid_batch, "asgi", config_for(seed, 17, events=100, faults="default"))
    found = result.verdict.violations
    assert not result.passed
    assert kinds(found) == {"server_error"}, explain(result.verdict)
    assert flagged_probes(found, "server_error") == TRIPPING_PROBES | {"not_json", "wrong_shape"}
    applied = set(receiver.observation()["applied"])
    for record in _envelope_probe_requests(result, TRIPPING_PROBES):
        assert record.status == 500
        assert record.event_ids[0] in applied and record.event_ids[-1] not in applied, record


@pytest.mark.parametrize("seed", SEEDS)
def test_stops_at_malformed_event(seed: int) -> None:
    """A 200 that left out the valid events after the malformed one: event_lost, naming exactly those."""
    receiver, result = campaign(stops_at_malformed_event, "wsgi", config_for(seed, 18, events=100,
                                                                             faults="default"))
    found = result.verdict.violations
    assert not result.passed
    assert kinds(found) == {"event_lost"}, explain(result.verdict)
    assert flagged_probes(found, "event_lost") == TRIPPING_PROBES
    applied = set(receiver.observation()["applied"])
    for record in _envelope_probe_requests(result, TRIPPING_PROBES):
        [violation] = [v for v in found if v.requests[0]["request"] == record.seq]
        assert record.status == 200
        assert set(violation.event_ids) == set(record.must_apply) - applied
        assert violation.event_ids and record.must_apply[-1] in violation.event_ids


@pytest.mark.parametrize("seed", SEEDS)
def test_drops_unknown_fields(seed: int) -> None:
    """Skipping the event that carries unknown fields while answering 200 loses it."""
    _, result = campaign(drops_unknown_fields, "asgi", config_for(seed, 19, events=60))
    found = result.verdict.violations
    assert not result.passed
    assert kinds(found) == {"event_lost"}, explain(result.verdict)
    assert flagged_probes(found, "event_lost") == {"unknown_fields"}
    [record] = _envelope_probe_requests(result, {"unknown_fields"})
    [violation] = found
    assert len(violation.event_ids) == 1 and violation.event_ids[0] in record.event_ids[1:-1]


@pytest.mark.parametrize("seed", SEEDS)
def test_rejects_unknown_fields(seed: int) -> None:
    """Refusing a batch for fields the schema does not know refuses what later PIM versions send."""
    _, result = campaign(rejects_unknown_fields, "wsgi", config_for(seed, 20, events=60))
    found = result.verdict.violations
    assert not result.passed
    assert kinds(found) == {"rejected_valid"}, explain(result.verdict)
    assert flagged_probes(found, "rejected_valid") == {"unknown_fields"}
    assert [v.received for v in found] == ["HTTP 422"]


def test_every_bug_is_covered_and_names_its_kinds() -> None:
    tested = {name[len("test_"):] for name in globals() if name.startswith("test_")}
    assert set(BUGGY) <= tested
    for cls in BUGGY.values():
        assert cls.expected, cls
        assert cls.__doc__, cls
