"""One rendering of violations, used by the console, the failure anatomy and the reports (JUnit's text;
HTML's table cells come from the same pieces: :func:`answer_of` and the witness fields)."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from .checks import SLOW_CONFIRMATIONS
from .diagnose import diagnosis_lines
from .verdict import KIND_FIX, Verdict, Violation, harm_rank

__all__ = ["MORE_IN_PYTHON", "MORE_WITH_REPORT",
           "TIMED", "answer_of", "by_harm", "format_violations", "kind_lines", "kind_rows", "more_hint",
           "slow_summary", "timed", "violation_lines", "witness_line"]


#: How a summary says the answers were timed (the values of :class:`~..transport.timing.Timing`).
TIMED = {"handler": "timed in the handler", "exchange": "timed over the network, the kit's stalls left out",
         "rough": "timed roughly (no run-queue statistics)"}


def timed(timings: set[str]) -> str:
    """``, timed in the handler`` for each timing seen (nothing when there were no requests)."""
    return "".join(f", {TIMED.get(t, t)}" for t in sorted(timings))


def slow_summary(stats: Mapping[str, Any]) -> str:
    """The answers after the timeout, and how many are confirmed (:func:`.checks.answers`)."""
    slow, confirmed = int(stats.get("slow_answers", 0)), int(stats.get("slow_confirmed", 0))
    if not slow:
        return "none"
    if confirmed == slow:
        return f"{slow} (confirmed)"
    return f"{slow} ({confirmed} confirmed; the others are warnings: {SLOW_CONFIRMATIONS} slow answers confirm)"


def answer_of(witness: Mapping[str, Any]) -> str:
    """What the receiver answered a witness request: its status, else the outcome (``timeout``...)."""
    return str(witness["status"] or witness["outcome"])


def witness_line(witness: Mapping[str, Any], *, flagged: Collection[str] = (), full: bool = False) -> str:
    """``#12 -> 500 faults=late probe=bad_signature [id1, id2, ...]``: one request of a witness. The events
    it carried are cut after 4, but never the ``flagged`` ones (the violation's own); ``full`` shows them
    all, with the request's time (ISO 8601) and the start of a non-2xx answer's body."""
    extra = ""
    if full and witness.get("time"):
        extra += f" at {witness['time']}"
    if witness.get("faults"):
        extra += f" faults={','.join(witness['faults'])}"
    if witness.get("probe"):
        extra += f" probe={witness['probe']}"
    if witness.get("in_flight_with"):
        extra += f" in flight with #{',#'.join(map(str, witness['in_flight_with']))}"
    events = [str(e) for e in witness["events"]]
    if full or len(events) <= 4:
        shown = ", ".join(events)
    else:
        chosen = events[:4] + [e for e in events[4:] if e in flagged]
        shown = ", ".join(chosen) + (f", ... ({len(events)} events)" if len(chosen) < len(events) else "")
    line = f"#{witness['request']} -> {answer_of(witness)}{extra} [{shown}]"
    if full and witness.get("body"):
        line += f"\n       answer body: {json.dumps(witness['body'], ensure_ascii=False)}"
    return line


def violation_lines(violation: Violation, *, full: bool = False) -> list[str]:
    """One violation: ``[severity] kind: message``, expected, received, and its witness requests (``full``:
    every event, times and answer bodies, :func:`witness_line`)."""
    lines = [f"[{violation.severity}] {violation.kind}: {violation.message}"]
    if violation.expected:
        lines.append(f"   expected: {violation.expected}")
    if violation.received:
        lines.append(f"   received: {violation.received}")
    if violation.requests:
        flagged = set(violation.event_ids)
        lines.append("   witness (requests in send order):")
        lines += [f"     {witness_line(witness, flagged=flagged, full=full)}" for witness in violation.requests]
    return lines


def by_harm(violations: Sequence[Violation]) -> list[Violation]:
    """``violations`` errors first, then the most harmful kinds first (:data:`.verdict.HARM_ORDER`)."""
    return sorted(violations, key=lambda v: (v.severity != "error", harm_rank(v.kind)))


def kind_rows(verdict: Verdict, fixes: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """One row per violation kind, most harmful first (kinds with errors before warning-only kinds):
    ``kind``, ``count``, ``severity`` (``error``, ``warning`` or ``error/warning``) and ``fix``."""
    fixes = KIND_FIX if fixes is None else fixes
    rows: dict[str, dict[str, Any]] = {}
    for v in verdict.violations:
        row = rows.setdefault(v.kind, {"kind": v.kind, "count": 0, "severities": set(),
                                       "fix": fixes.get(v.kind, "")})
        row["count"] += 1
        row["severities"].add(v.severity)
    ordered = sorted(rows.values(), key=lambda r: ("error" not in r["severities"], harm_rank(r["kind"]), r["kind"]))
    return [{"kind": r["kind"], "count": r["count"], "severity": "/".join(sorted(r.pop("severities"))),
             "fix": r["fix"]} for r in ordered]


def kind_lines(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """:func:`kind_rows` as aligned text: ``forged_accepted  x8  error    fix: ...``."""
    if not rows:
        return []
    width = max(len(str(r["kind"])) for r in rows)
    counts = max(len(str(r["count"])) for r in rows) + 1
    return [f"  {r['kind']:<{width}}  {'x' + str(r['count']):<{counts}}  {r['severity']:<7}"
            + (f"  fix: {r['fix']}" if r["fix"] else "") for r in rows]


#: where the violations not printed are, on the command line without ``--report``
MORE_WITH_REPORT = "write them all with --report FILE.json"
#: the same in Python (pytest, ``assert_campaign``), where there is no ``--report``
MORE_IN_PYTHON = "the exception's .verdict.violations holds them all; --report FILE.json on the fuzz line writes them"


def more_hint(report: str | None) -> str:
    """Where the violations not printed are: the JSON report written, or the option that writes one."""
    return f"see the JSON report {report}" if report else MORE_WITH_REPORT


def format_violations(verdict: Verdict, *, limit: int = 20, report: str | None = None,
                      fixes: Mapping[str, str] | None = None) -> str:
    """The failure anatomy, summary first: headline with counts (most harmful kind first), the likely
    causes (:mod:`.diagnose`), one line per kind with its fix, the first violation of each kind in full,
    the others up to ``limit`` in all, then ``Reproduce with:``. ``report`` is the JSON report written, if
    any, named for the violations not printed; ``fixes`` the profile's fix per kind."""
    if not verdict.violations:
        return "No violations."
    rows = kind_rows(verdict, fixes)
    errors = len(verdict.errors)
    lines = [f"{errors} error(s), {len(verdict.violations) - errors} warning(s): "
             + ", ".join(f"{r['kind']} x{r['count']}" for r in rows)]
    causes = diagnosis_lines(verdict.stats.get("diagnoses") or [])
    if causes:
        lines += ["", *causes]
    lines += ["", "By kind, most harmful first:", *kind_lines(rows)]
    ordered = by_harm(verdict.violations)
    rank = {row["kind"]: index for index, row in enumerate(rows)}
    firsts: dict[str, Violation] = {}
    for v in ordered:
        firsts.setdefault(v.kind, v)
    first = sorted(firsts.values(), key=lambda v: rank[v.kind])
    others = [v for v in ordered if firsts[v.kind] is not v]
    lines += ["", "The first of each kind:"]
    for index, v in enumerate(first, 1):
        head, *rest = violation_lines(v, full=True)
        lines += ["", f"{index}. {head}", *rest]
    room = max(0, limit - len(first))
    if others and room:
        lines += ["", "Others:"]
        for index, v in enumerate(others[:room], len(first) + 1):
            head, *rest = violation_lines(v)
            lines += ["", f"{index}. {head}", *rest]
    hidden = len(others) - min(room, len(others))
    if hidden:
        lines.append(f"\n... and {hidden} more ({more_hint(report)})")
    reproduce = next((v.reproduce for v in verdict.violations if v.reproduce), "")
    if reproduce:
        lines.append(f"\nReproduce with: {reproduce}")
    return "\n".join(lines)
