"""Record a run as a tape, replay it re-signed against another receiver, and judge the replay."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest

from akeneo_events_testkit.errors import InvalidPayload
from akeneo_events_testkit.events_api.campaign import CampaignConfig, run_campaign
from akeneo_events_testkit.events_api.oracle import judge
from akeneo_events_testkit.events_api.tape import compare, load_tape, replay_tape
from akeneo_events_testkit.judging.observation import parse_observation
from akeneo_events_testkit.receiver import MemoryStore, ReferenceReceiver


@pytest.fixture
def tape(tmp_path: Path) -> Path:
    path = tmp_path / "tape.jsonl"
    receiver = ReferenceReceiver("first-secret-value", store=MemoryStore())
    result = run_campaign(CampaignConfig(seed=8, events=120, faults="default"), target=receiver.wsgi(),
                          secret="first-secret-value", observe=receiver.observation, record=path)
    assert result.passed
    return path


def test_tape_holds_bytes_and_recipes_but_no_secret(tape: Path) -> None:
    text = tape.read_text()
    assert "first-secret-value" not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0]["type"] == "run" and lines[0]["seed"] == 8
    requests = [line for line in lines if line["type"] == "request"]
    assert requests and all("body_b64" in r and r["headers"] for r in requests)
    assert all(dict(r["headers"])["X-Akeneo-Request-Signature"] == "[redacted]"
               for r in requests if "X-Akeneo-Request-Signature" in dict(r["headers"]))
    assert any(r["recipe"] for r in requests if r.get("probe"))


def test_the_test_request_is_on_the_tape_and_replayed_first(tape: Path) -> None:
    """The PIM's Test request comes right after the run line; a replay sends it again, re-signed, and the
    oracle judges the new answer."""
    lines = [json.loads(line) for line in tape.read_text().splitlines()]
    assert lines[1]["type"] == "test_request" and lines[1]["status"] == 200 and lines[1]["body_b64"] == ""
    assert dict(lines[1]["headers"])["X-Akeneo-Request-Signature"] == "[redacted]"
    loaded = load_tape(tape)
    assert [r.status for r in loaded.test_requests] == [200]

    def refuses_empty_bodies(environ, start_response):  # type: ignore[no-untyped-def]
        empty = not int(environ.get("CONTENT_LENGTH") or 0)
        start_response("400 Bad Request" if empty else "200 OK", [])
        return [b""]

    truth = replay_tape(loaded, refuses_empty_bodies, secret="whatever")
    assert [r.status for r in truth.test_requests] == [400]
    verdict = judge(truth, parse_observation({"applied": [], "resources": {}}))
    assert [w["request"] for v in verdict.violations if v.kind == "rejected_valid" for w in v.requests][:1] == [
        "test"]


def test_replay_with_another_secret_gets_the_same_answers(tape: Path) -> None:
    loaded = load_tape(tape)
    receiver = ReferenceReceiver("second-secret", store=MemoryStore())
    truth = replay_tape(loaded, receiver.wsgi(), secret="second-secret")
    assert compare(loaded, truth) == {"same": len(loaded.requests), "changed": 0}
    verdict = judge(truth, parse_observation(receiver.observation()))
    assert verdict.passed, verdict.violations


def test_replay_against_a_buggy_receiver_names_the_bug(tape: Path) -> None:
    applied: list[str] = []

    def no_signature_check(environ, start_response):  # type: ignore[no-untyped-def]
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        with contextlib.suppress(ValueError, KeyError, TypeError):
            applied.extend(e["event_id"] for e in json.loads(body)["events"])
        start_response("200 OK", [])
        return [b""]

    truth = replay_tape(load_tape(tape), no_signature_check, secret="whatever")
    verdict = judge(truth, parse_observation({"applied": applied, "resources": {}}))
    assert "forged_accepted" in verdict.counts()


@pytest.mark.parametrize(("content", "message"), [
    ("not json\n", "not a JSON line"),
    ('{"no": "type"}\n', 'no "type"'),
    ('{"type": "request", "body_b64": "e30=", "seq": "x"}\n', "malformed request"),
    ('{"type": "run", "seed": 1}\n', "no requests to replay"),
])
def test_bad_tapes(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(InvalidPayload, match=message):
        load_tape(path)
    with pytest.raises(InvalidPayload, match="cannot read"):
        load_tape(tmp_path / "missing.jsonl")
