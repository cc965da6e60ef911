"""One rendering of violations, used by the console, the failure anatomy and the reports (JUnit's text;
HTML's table cells come from the same pieces: :func:`answer_of` and the witness fields)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .checks import SLOW_CONFIRMATIONS
from .verdict import Verdict, Violation

__all__ = ["TIMED", "answer_of", "format_violations", "slow_summary", "timed", "violation_lines", "witness_line"]


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


def witness_line(witness: Mapping[str, Any]) -> str:
    """``#12 -> 500 faults=late probe=bad_signature [id1, id2, ...]``: one request of a witness."""
    extra = ""
    if witness.get("faults"):
        extra += f" faults={','.join(witness['faults'])}"
    if witness.get("probe"):
        extra += f" probe={witness['probe']}"
    if witness.get("in_flight_with"):
        extra += f" in flight with #{',#'.join(map(str, witness['in_flight_with']))}"
    events = witness["events"]
    shown = ", ".join(events[:4]) + (f", ... ({len(events)} events)" if len(events) > 4 else "")
    return f"#{witness['request']} -> {answer_of(witness)}{extra} [{shown}]"


def violation_lines(violation: Violation) -> list[str]:
    """One violation: ``[severity] kind: message``, expected, received, and its witness requests."""
    lines = [f"[{violation.severity}] {violation.kind}: {violation.message}"]
    if violation.expected:
        lines.append(f"   expected: {violation.expected}")
    if violation.received:
        lines.append(f"   received: {violation.received}")
    if violation.requests:
        lines.append("   witness (requests in send order):")
        lines += [f"     {witness_line(witness)}" for witness in violation.requests]
    return lines


def format_violations(verdict: Verdict, *, limit: int = 20) -> str:
    """The failure anatomy: headline with counts, expected vs received, witness, ``Reproduce with:``."""
    if not verdict.violations:
        return "No violations."
    counts = verdict.counts()
    errors = len(verdict.errors)
    lines = [f"{errors} error(s), {len(verdict.violations) - errors} warning(s): "
             + ", ".join(f"{kind} x{count}" for kind, count in sorted(counts.items()))]
    for index, v in enumerate(verdict.violations[:limit], 1):
        first, *rest = violation_lines(v)
        lines += ["", f"{index}. {first}", *rest]
    if len(verdict.violations) > limit:
        lines.append(f"\n... and {len(verdict.violations) - limit} more (see the JSON report)")
    reproduce = next((v.reproduce for v in verdict.violations if v.reproduce), "")
    if reproduce:
        lines.append(f"\nReproduce with: {reproduce}")
    return "\n".join(lines)
