"""Event Platform tapes: record a run, replay it re-signed against other receivers, judge the replay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.errors import InvalidPayload
from akeneo_events_testkit.event_platform.campaign import EpCampaignConfig, run_ep_campaign
from akeneo_events_testkit.event_platform.oracle import delta_states, judge_ep
from akeneo_events_testkit.event_platform.signing import EpSecrets
from akeneo_events_testkit.event_platform.tape import compare_answers, is_ep_tape, load_ep_tape, replay_ep_tape
from akeneo_events_testkit.judging.observation import parse_observation
from akeneo_events_testkit.receiver import ReferenceReceiver

from ..support.ep_receiver import START, EpReceiver

SECRET = "first-platform-secret"


@pytest.fixture
def tape(tmp_path: Path) -> Path:
    path = tmp_path / "ep.jsonl"
    receiver = EpReceiver([SECRET], own_client_id="magento_0000")
    result = run_ep_campaign(EpCampaignConfig(seed=4, events=150, faults="chaos", delta=0.6, settle_timeout=0),
                             target=receiver, observe=receiver.observation, secrets=EpSecrets(SECRET),
                             clock=FakeClock(START), record=path)
    assert result.passed, result.failure_text()
    return path


def test_tape_holds_every_event_and_attempt_but_no_secret(tape: Path) -> None:
    text = tape.read_text()
    assert SECRET not in text and is_ep_tape(tape)
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0]["type"] == "run" and lines[0]["profile"] == "event-platform" and lines[0]["seed"] == 4
    kinds = {line["type"] for line in lines}
    assert {"run", "event", "attempt", "verdict"} <= kinds
    loaded = load_ep_tape(tape)
    assert len(loaded.bodies) == len(loaded.events) == 150
    assert any(e.changes for e in loaded.events.values())  # deltas keep what they set, for the oracle
    assert any(a.retry or a.duplicate for a in loaded.genuine) and any(a.probe for a in loaded.attempts)


def test_replay_to_the_reference_receiver_with_another_secret(tape: Path) -> None:
    loaded = load_ep_tape(tape)
    receiver = ReferenceReceiver("second-secret", own_client_id="magento_0000")
    truth = replay_ep_tape(loaded, receiver.asgi(), secrets=EpSecrets("second-secret"))
    assert compare_answers(loaded, truth) == {"same": len(loaded.genuine), "changed": 0}
    raw = receiver.observation()
    verdict = judge_ep(truth, parse_observation(raw), deltas=delta_states(raw))
    assert not verdict.violations, verdict.violations
    assert verdict.stats["delta_states_judged"] > 0


def test_replay_names_the_bug_of_a_receiver_that_does_not_deduplicate(tape: Path) -> None:
    buggy = EpReceiver(["other"], own_client_id="magento_0000", bugs=["no_dedupe"])
    truth = replay_ep_tape(load_ep_tape(tape), buggy, secrets=EpSecrets("other"))
    assert "duplicate_applied" in judge_ep(truth, parse_observation(buggy.observation())).counts()


@pytest.mark.parametrize(("content", "message"), [
    ("not json\n", "not a JSON line"),
    ('{"no": "type"}\n', 'no "type"'),
    ('{"type": "run", "profile": "event-platform"}\n{"type": "attempt", "seq": 1}\n', "malformed attempt"),
    ('{"type": "run", "profile": "saas"}\n', "not an Event Platform tape"),
    ('{"type": "run", "profile": "event-platform"}\n', "no event bodies"),
])
def test_bad_tapes(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(InvalidPayload, match=message):
        load_ep_tape(path)
    with pytest.raises(InvalidPayload, match="cannot read"):
        load_ep_tape(tmp_path / "missing.jsonl")
