"""Event Platform tapes: the ground truth of a run as JSON Lines, and its replay to a receiver.

``fuzz --profile event-platform --record FILE.jsonl`` writes one ``run`` line (the truth's metadata, with
``"profile": "event-platform"``), one ``event`` line per CloudEvent (with its bytes in ``body_b64``), one
``attempt`` line per POST (probes included, with the answer), then ``drop``, ``suspension`` and ``verdict``
lines. No secret is written: signatures are not recorded, since the platform signs the body alone and a
replay re-signs it (event-platform-facts.md section 2).

``replay`` sends the genuine attempts again in their recorded order, each group of concurrent requests
together (retries and redeliveries included, same ids, same bytes), signed with the secret given now, and
can judge the receiver's observation with
:func:`~akeneo_events_testkit.event_platform.oracle.judge_ep`. Probes are not replayed (their flaws depend on the
secrets of the recorded run); the platform's retry ladder and rate are not re-simulated: the tape is what
was sent, in that order.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..errors import InvalidPayload
from ..judging.tapes import read_tape_lines
from ..judging.verdict import Verdict
from ..transport.sender import Sender
from ..transport.targets import Target
from .rules import EP_TIMEOUT, classify
from .signing import EpSecrets, ep_headers
from .truth import EpAttempt, EpDrop, EpEvent, EpTruth, Suspension
from .wire import PROFILE_NAME

__all__ = ["changed_answers", "compare_answers", "is_ep_tape", "load_ep_tape", "replay_ep_tape", "write_ep_tape"]


def _event_line(event: EpEvent, body: bytes | None) -> dict[str, Any]:
    fields = asdict(event)
    line: dict[str, Any] = {"type": "event", "event_type": fields.pop("type"), **fields}
    line["changes"] = [[list(path), value] for path, value in event.changes]
    if body is not None:
        line["body_b64"] = base64.b64encode(body).decode("ascii")
    return line


def write_ep_tape(truth: EpTruth, path: str | Path, verdict: Verdict | None = None) -> None:
    """Write ``truth`` (and the verdict, when given) as JSON Lines; bodies come from ``truth.bodies``."""
    lines: list[Mapping[str, Any]] = [{"type": "run", **truth.meta, "profile": PROFILE_NAME}]
    lines += [_event_line(event, truth.bodies.get(event.event_id)) for event in truth.events.values()]
    lines += [{"type": "attempt", **{k: v for k, v in asdict(attempt).items() if v or k != "body"}}
              for attempt in truth.attempts]
    lines += [{"type": "drop", **asdict(drop)} for drop in truth.drops]
    if truth.suspension is not None:
        lines.append({"type": "suspension", **asdict(truth.suspension)})
    if verdict is not None:
        lines.append({"type": "verdict", "verdict": "pass" if verdict.passed else "fail",
                      "violations": dict(verdict.counts())})
    with Path(path).open("w", encoding="utf-8") as tape:
        for line in lines:
            tape.write(json.dumps(line, separators=(",", ":"), default=str) + "\n")


def is_ep_tape(path: str | Path) -> bool:
    """Whether the tape's first record says it is an Event Platform run."""
    for _, data in read_tape_lines(path):
        return data.get("type") == "run" and data.get("profile") == PROFILE_NAME
    return False


def load_ep_tape(path: str | Path) -> EpTruth:
    """Read a tape into an :class:`EpTruth`; raises :class:`InvalidPayload` naming the line that is wrong."""
    source = Path(path)
    truth = EpTruth()
    for number, data in read_tape_lines(source):
        kind = data.pop("type")
        try:
            if kind == "run":
                truth.meta = data
            elif kind == "event":
                body = data.pop("body_b64", None)
                data["type"] = data.pop("event_type")
                data["changes"] = tuple((tuple(p), v) for p, v in data.get("changes", ()))
                event = EpEvent(**data)
                truth.events[event.event_id] = event
                if body is not None:
                    truth.bodies[event.event_id] = base64.b64decode(body, validate=True)
            elif kind == "attempt":
                truth.attempts.append(EpAttempt(**data))
            elif kind == "drop":
                truth.drops.append(EpDrop(**data))
            elif kind == "suspension":
                truth.suspension = Suspension(**{**data, "responses": tuple(data["responses"]),
                                                 "attempts": tuple(data["attempts"])})
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidPayload(f"{source}:{number}: malformed {kind} record ({exc})") from None
    if truth.meta.get("profile") != PROFILE_NAME:
        raise InvalidPayload(f"{source}: not an Event Platform tape (record one with fuzz --profile event-platform "
                             "--record FILE.jsonl)")
    if not truth.bodies:
        raise InvalidPayload(f"{source}: no event bodies to replay")
    return truth


def replay_ep_tape(tape: EpTruth, target: Target, *, secrets: EpSecrets, path: str = "",
                   timeout: float = EP_TIMEOUT) -> EpTruth:
    """Send the tape's genuine attempts again in order, re-signed with ``secrets``; returns the new truth.

    The new truth keeps the tape's events and metadata (``replayed: true``); its attempts are the new
    answers, with the recorded retry number and duplicate flag, at the recorded virtual times. Requests
    recorded in one group of concurrent requests are sent together again.
    """
    truth = EpTruth(events=dict(tape.events), meta={**tape.meta, "replayed": True, "rotation": False})

    groups: list[list[EpAttempt]] = []
    for old in tape.genuine:
        if old.event_id not in tape.bodies:
            continue
        if groups and old.group is not None and groups[-1][0].group == old.group:
            groups[-1].append(old)
        else:
            groups.append([old])

    async def run() -> None:
        async with Sender(target, follow_redirects=False, timeout=timeout, path=path,
                          concurrency=max((len(g) for g in groups), default=1),
                          redact=[secrets.primary, secrets.secondary or ""]) as sender:
            for group in groups:
                answers = await asyncio.gather(*(sender.post(
                    tape.bodies[old.event_id], ep_headers(tape.bodies[old.event_id], secrets), timeout=timeout)
                    for old in group))
                for old, answer in zip(group, answers, strict=True):
                    truth.attempts.append(EpAttempt(len(truth.attempts), old.event_id, old.time, old.retry,
                                                    classify(answer), answer.status, answer.latency, answer.reason,
                                                    duplicate=old.duplicate, rate=old.rate, wall=answer.wall,
                                                    timing=answer.timing.value, group=old.group,
                                                    concurrent=old.concurrent, body=answer.body))

    asyncio.run(run())
    return truth


def changed_answers(tape: EpTruth, replayed: EpTruth) -> list[tuple[int, str, int | None, int | None]]:
    """The replayed attempts answered with another status than recorded: (seq, event id, then, now)."""
    recorded = [a for a in tape.genuine if a.event_id in tape.bodies]
    return [(new.seq, f"event {new.event_id}", old.status, new.status)
            for old, new in zip(recorded, replayed.attempts, strict=False) if old.status != new.status]


def compare_answers(tape: EpTruth, replayed: EpTruth) -> dict[str, int]:
    """How many replayed attempts got the same status as recorded, and how many a different one."""
    recorded = [a for a in tape.genuine if a.event_id in tape.bodies]
    same = sum(1 for old, new in zip(recorded, replayed.attempts, strict=False) if old.status == new.status)
    return {"same": same, "changed": len(replayed.attempts) - same}
