"""What crashes the kit injected (``--crashes``) say about a verdict: a note on each event lost after one.

The oracle judges a crashed run as any other (:mod:`.checks` is unchanged): an event that was acknowledged
and is not reflected after the restarts is ``event_lost``. When a crash came between that acknowledgement
and the observation, the receiver acknowledged before its effect was durable (a store in memory, a commit
after the answer): the note says so, and names the crash.

The requests that failed because the kit had killed the receiver (sent while it was down, in flight when it
was killed) are the kit's doing, not a receiver that broke: their ``server_error`` is taken out, and
counted (``crash_casualties``). Whatever they carried is judged as usual: an Events API request that failed
is lost (never re-sent, events-api-facts.md section 1), an Event Platform one is retried.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from ..transport.crashes import CrashRecord, crash_summary
from .verdict import Verdict

__all__ = ["acknowledgements", "crash_report", "note_crashes"]


def crash_report(config: Any, verdict: Verdict) -> dict[str, Any]:
    """The JSON report's ``receiver_cmd`` and ``crashes`` (planned, the summary line, and each crash that
    happened, from ``verdict.stats``), for a run with a receiver command; nothing without one."""
    if not getattr(config, "receiver_cmd", None):
        return {}
    return {"receiver_cmd": config.receiver_cmd,
            "crashes": {"planned": config.crashes, "summary": verdict.stats.get("crash_summary", "none"),
                        "casualties": verdict.stats.get("crash_casualties", 0),
                        "happened": verdict.stats.get("crashes", [])}}


def acknowledgements(acked: Iterable[tuple[int, Iterable[str]]]) -> dict[str, list[int]]:
    """Event id -> the request numbers that acknowledged it, from ``(request number, event ids)`` pairs of
    acknowledged requests."""
    found: dict[str, list[int]] = {}
    for seq, event_ids in acked:
        for event_id in event_ids:
            found.setdefault(event_id, []).append(seq)
    return found


def _after(crash: CrashRecord, ack: int) -> bool:
    """Whether ``crash`` came after the acknowledgement by request ``ack`` (right after its 2xx counts)."""
    assert crash.request is not None
    return crash.request > ack or (crash.request == ack and crash.kind == "after_2xx")


def note_crashes(verdict: Verdict, crashes: Sequence[CrashRecord], acks: Mapping[str, Sequence[int]],
                 *, planned: int, casualties: Collection[int] = (),
                 suspension: tuple[str, Sequence[int]] | None = None) -> None:
    """Record ``crashes`` in ``verdict.stats`` (``crashes``, ``crash_summary``), take out the
    ``server_error`` of the ``casualties`` (request numbers), and note, on each ``event_lost`` whose events
    were acknowledged before one of the crashes, the crash that came between.

    ``suspension`` is the Event Platform's (its cause, and the failed requests it counted): a threshold
    suspension whose failures were all casualties is the kit's doing, and its ``suspension_risk`` becomes a
    warning that says so (the platform really stopped sending: what it dropped is not expected anyway).
    """
    verdict.stats["crashes"] = [record.to_json() for record in crashes]
    verdict.stats["crashes_planned"] = planned
    verdict.stats["crash_summary"] = crash_summary(crashes, planned)
    verdict.stats["crash_casualties"] = len(casualties)
    if not crashes:
        return
    killed = set(casualties)
    if suspension is not None:
        _note_suspension(verdict, *suspension, killed)
    verdict.violations[:] = [
        violation for violation in verdict.violations
        if not (violation.kind == "server_error" and violation.requests
                and all(witness.get("request") in killed for witness in violation.requests))]
    for row in verdict.stats.get("probe_table") or ():
        if row.get("request") in killed:
            kinds = [kind for kind in str(row.get("verdict", "")).split(", ") if kind not in ("server_error", "ok")]
            row["verdict"] = ", ".join(kinds) or "not judged: the kit had killed the receiver"
    for index, violation in enumerate(verdict.violations):
        if violation.kind != "event_lost":
            continue
        # each event's last acknowledgement; the violation may also name the event whose state was found
        lasts = sorted(max(acks[event_id]) for event_id in violation.event_ids if acks.get(event_id))
        found = next(((last, crash) for last in lasts for crash in crashes
                      if crash.request is not None and _after(crash, last)), None)
        if found is None:
            continue
        last, crash = found
        note = (f"; a crash came between its acknowledgement (#{last}) and the observation: the receiver was "
                f"killed {crash.describe()} and restarted, so it acknowledged before the event was durable")
        verdict.violations[index] = dataclasses.replace(violation, message=violation.message + note)


def _note_suspension(verdict: Verdict, cause: str, failures: Sequence[int], killed: Collection[int]) -> None:
    ours = [seq for seq in failures if seq in killed]
    if not ours:
        return
    for index, violation in enumerate(verdict.violations):
        if violation.kind != "suspension_risk":
            continue
        if cause == "threshold" and len(ours) == len(failures):
            verdict.violations[index] = dataclasses.replace(
                violation, severity="warning",
                message=violation.message + f"; all {len(ours)} failures were requests the kit sent while it had "
                                            "killed the receiver (--crashes), so the crashes, not the receiver, "
                                            "caused it")
        else:
            verdict.violations[index] = dataclasses.replace(
                violation, message=violation.message + f"; {len(ours)} of its {len(failures)} failures were "
                                                       "requests the kit sent while it had killed the receiver")
