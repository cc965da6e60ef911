"""Replay a delivery tape: the exact traffic of a recorded run, re-signed, against a (fixed) receiver.

A tape is the JSON Lines file written by ``--record`` on ``emit`` and ``fuzz``: the run's settings, the
"Test" request (``fuzz``), every generated event, and every request with its exact body bytes, headers
(signature redacted) and the recipe that signs it. Replaying re-signs each request at its new send time
with the secret given now, keeping each probe's flaw, and sends them in the recorded order like the PIM
(0.5 s timeout, no retry; the Test request first, without the timeout).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..clock import Clock, SystemClock
from ..errors import InvalidPayload
from ..judging.tapes import read_tape_lines
from ..transport.sender import Outcome, Sender
from ..transport.targets import Target
from ..versions import Action, get_profile
from .limits import TEST_BUTTON_TIMEOUT
from .probes import GENUINE, Recipe
from .truth import GeneratedEvent, GroundTruth, RequestRecord, attempt_to_record

__all__ = ["Tape", "TapeRequest", "changed_answers", "compare", "load_tape", "replay_tape"]


@dataclass(frozen=True)
class TapeRequest:
    record: RequestRecord
    body: bytes
    recipe: Recipe


@dataclass
class Tape:
    meta: dict[str, Any] = field(default_factory=dict)
    events: list[GeneratedEvent] = field(default_factory=list)
    requests: list[TapeRequest] = field(default_factory=list)
    #: the "Test" requests sent before the run (empty bodies), replayed first
    test_requests: list[RequestRecord] = field(default_factory=list)


def _record(data: Mapping[str, Any]) -> RequestRecord:
    return RequestRecord(
        seq=data["seq"], subscription=data["subscription"], event_ids=tuple(data["event_ids"]),
        versions=tuple(data["versions"]), timestamp=data["timestamp"], body_size=data["body_size"],
        outcome=Outcome(data["outcome"]), status=data["status"], latency=data["latency"],
        reason=data.get("reason", ""), faults=tuple(data.get("faults", ())), probe=data.get("probe"),
        message=data.get("message"), must_apply=tuple(data.get("must_apply", ())), wall=data.get("wall"),
        timing=data.get("timing", "exchange"), unstable=bool(data.get("unstable", False)),
    )


def load_tape(path: str | Path) -> Tape:
    """Read a tape; raises :class:`InvalidPayload` naming the line that is wrong."""
    tape = Tape()
    source = Path(path)
    for number, data in read_tape_lines(source):
        try:
            if data["type"] == "run":
                tape.meta = {k: v for k, v in data.items() if k != "type"}
            elif data["type"] == "event":
                tape.events.append(GeneratedEvent(data["event_id"], data["key"], Action(data["action"]),
                                                  data["epoch"], data["version"], data["author"], data["operation"]))
            elif data["type"] == "test_request":
                tape.test_requests.append(_record(data))
            elif data["type"] == "request" and "body_b64" in data:
                tape.requests.append(TapeRequest(_record(data), base64.b64decode(data["body_b64"]),
                                                 Recipe.from_json(data.get("recipe", {}))))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidPayload(f"{source}:{number}: malformed {data.get('type')} record ({exc})") from None
    if not tape.requests:
        raise InvalidPayload(f"{source}: no requests to replay; record one with --record FILE.jsonl")
    return tape


def replay_tape(
    tape: Tape,
    target: Target,
    *,
    secret: str,
    clock: Clock | None = None,
    subscription: str | None = None,
) -> GroundTruth:
    """Send the tape's requests again, re-signed now; returns a ground truth for the oracle."""
    clock = clock or SystemClock()
    profile = get_profile(str(tape.meta.get("profile", "saas")), uuid_mode=bool(tape.meta.get("uuid_mode")) or None)
    truth = GroundTruth(meta={**tape.meta, "replayed": True})
    for event in tape.events:
        truth.add_event(event)

    async def run() -> None:
        for old_test in tape.test_requests:
            if subscription is not None and old_test.subscription != subscription:
                continue
            timestamp = int(clock.now())
            async with Sender(target, follow_redirects=False, timeout=TEST_BUTTON_TIMEOUT, redact=[secret]) as tester:
                answer = await tester.post(b"", GENUINE.headers(secret, timestamp, b"", profile.user_agent))
            truth.add_test_request(attempt_to_record(
                answer, seq=len(truth.test_requests), subscription=old_test.subscription, event_ids=(), versions=(),
                timestamp=timestamp, body_size=0))
        async with Sender(target, follow_redirects=profile.follow_redirects, redact=[secret]) as sender:
            for item in tape.requests:
                if subscription is not None and item.record.subscription != subscription:
                    continue
                timestamp = int(clock.now())
                headers = item.recipe.headers(secret, timestamp, item.body, profile.user_agent)
                attempt = await sender.post(item.body, headers)
                old = item.record
                truth.add_request(attempt_to_record(
                    attempt, seq=len(truth.requests), subscription=old.subscription, event_ids=old.event_ids,
                    versions=old.versions, timestamp=timestamp, body_size=len(item.body), faults=old.faults,
                    probe=old.probe, message=old.message, must_apply=old.must_apply, unstable=old.unstable,
                ))

    asyncio.run(run())
    return truth


def changed_answers(tape: Tape, replayed: GroundTruth) -> list[tuple[int, str, int | None, int | None]]:
    """The replayed requests answered with another status than recorded: (seq, what they carried, then, now)."""
    changed = []
    for old, new in zip(tape.requests, replayed.requests, strict=False):
        if old.record.status != new.status:
            what = f"probe {new.probe}" if new.probe else "events " + ", ".join(new.event_ids[:3]) + (
                f" +{len(new.event_ids) - 3}" if len(new.event_ids) > 3 else "")
            changed.append((new.seq, what, old.record.status, new.status))
    return changed


def compare(tape: Tape, replayed: GroundTruth) -> Mapping[str, int]:
    """How the answers changed: counts of ``same`` and ``changed`` statuses, request by request."""
    same = sum(1 for old, new in zip(tape.requests, replayed.requests, strict=False)
               if old.record.status == new.status)
    return {"same": same, "changed": len(replayed.requests) - same}
