"""Named causes read off plain evidence, before the violations they explain (issue 15, both profiles).

A wrong secret shows as dozens of ``rejected_valid ... HTTP 401``, a wrong path as the same with 404, a
receiver that records nothing as dozens of ``event_lost``: the violations are right, but the likely cause
is one line. :func:`diagnose` is a pure function of the history, the observation and the verdict's
statistics; it names a cause only when the evidence is unambiguous (every genuine request refused with the
same kind of status, an empty observation while requests were acknowledged...). A diagnosis never changes
the verdict. :func:`probe_table` lists each probe with what it got and what was judged of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .history import History, HistoryRequest
from .observation import Observation
from .verdict import Violation

__all__ = ["diagnose", "diagnosis_lines", "probe_table", "probe_table_lines"]

#: The statuses a receiver answers a request it does not authenticate with, and one whose path it lacks.
_AUTH = (401, 403)
_PATH = (404, 405)


def _statuses(statuses: set[int | None]) -> str:
    return "/".join(f"HTTP {status}" for status in sorted(s for s in statuses if s is not None))


def diagnose(history: History, observation: Observation, stats: Mapping[str, Any]) -> list[dict[str, str]]:
    """The likely causes the evidence names, each ``{"cause", "message"}``, most fundamental first.

    ``cause`` is a stable name: ``check_the_secret`` (every genuine request refused with 401/403),
    ``check_the_path`` (with 404/405), ``test_request_refused`` (the Events API's "Test" request got no
    2xx), ``not_recording`` (an empty observation while requests were acknowledged), ``all_timed_out``
    (no genuine request answered in time). ``stats`` (the verdict's) adds what the history does not hold:
    the receiver's design, for the wording."""
    count, statuses, timed_out = 0, set(), 0  # of the genuine requests, in one pass: none is kept
    tests: list[HistoryRequest] = []
    for request in history.requests:
        if request.probe is not None:
            continue
        if request.label:
            tests.append(request)
            continue
        count += 1
        statuses.add(request.status)
        timed_out += request.timed_out
    found: list[dict[str, str]] = []

    def add(cause: str, message: str) -> None:
        found.append({"cause": cause, "message": message})

    if count and statuses <= set(_AUTH):
        add("check_the_secret", f"every genuine request ({count}) was refused with {_statuses(statuses)}: the "
            "receiver does not accept the signatures; check the secret (the receiver's and the kit's "
            "--secret / $AKENEO_EVENTS_SECRET must be the same)")
    elif count and statuses <= set(_PATH):
        add("check_the_path", f"every genuine request ({count}) was refused with {_statuses(statuses)}: the "
            "URL's path is not the receiver's webhook route; check the path of --url")
    for test in tests:
        if test.refusal is not None or test.broken or test.timed_out:
            add("test_request_refused", f"{test.label} got {test.answer()}: the PIM's UI shows the Test as "
                f"failed; a receiver must answer it {test.expected or '2xx'}")
    if count and timed_out == count:
        add("all_timed_out", f"every genuine request ({count}) timed out (no answer within {history.timeout:g} "
            "s): the receiver is blocked or does its work before answering; acknowledge first")
    acknowledged = sum(delivered.count for delivered in history.acknowledged.values())
    if acknowledged and not observation.applied and not observation.resources:
        add("not_recording", f"the observation is empty while {acknowledged} event(s) were acknowledged: the "
            "receiver does not record what it applies: see the observation contract (README, \"The "
            "observation contract\")" + (", which a re-fetching receiver fills too"
                                          if stats.get("design") == "refetch" else ""))
    return found


def probe_table(history: History, violations: Sequence[Violation]) -> list[dict[str, Any]]:
    """One row per probe sent, in send order: ``probe``, ``family``, ``expected``, ``answer`` and
    ``verdict`` (``ok``, or the kinds of the violations it witnesses)."""
    flagged: dict[tuple[object, str], list[str]] = {}
    for violation in violations:
        for witness in violation.requests:
            if witness.get("probe"):
                kinds = flagged.setdefault((witness["request"], str(witness["probe"])), [])
                if violation.kind not in kinds:
                    kinds.append(violation.kind)
    rows = []
    for request in history.requests:
        rule = request.probe
        if rule is not None:
            seen = flagged.get((request.witness.get("request", request.seq), rule.name))
            rows.append({"request": request.seq, "probe": rule.name, "family": rule.family or "-",
                         "expected": rule.expect, "answer": request.answer(),
                         "verdict": ", ".join(seen) if seen else "ok"})
    return rows


def diagnosis_lines(diagnoses: Sequence[Mapping[str, str]]) -> list[str]:
    """``Likely cause(s):`` and one line each, or nothing."""
    if not diagnoses:
        return []
    return ["Likely cause" + ("s" if len(diagnoses) > 1 else "") + ":",
            *(f"  - {d['message']}" for d in diagnoses)]


def probe_table_lines(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The probe table as aligned text (``probe  family  answer  verdict``), or nothing without probes."""
    if not rows:
        return []
    table = [("probe", "family", "answer", "verdict"),
             *((str(r["probe"]), str(r["family"]), str(r["answer"]), str(r["verdict"])) for r in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    return [f"  {a:<{widths[0]}}  {b:<{widths[1]}}  {c:<{widths[2]}}  {d}".rstrip() for a, b, c, d in table]
