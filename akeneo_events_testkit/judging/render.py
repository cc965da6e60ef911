"""One rendering of violations, used by the console, the failure anatomy and the reports."""

from __future__ import annotations

from .verdict import Verdict


def format_violations(verdict: Verdict, *, limit: int = 20) -> str:
    """The failure anatomy: headline with counts, expected vs received, witness, ``Reproduce with:``."""
    if not verdict.violations:
        return "No violations."
    counts = verdict.counts()
    errors = len(verdict.errors)
    lines = [f"{errors} error(s), {len(verdict.violations) - errors} warning(s): "
             + ", ".join(f"{kind} x{count}" for kind, count in sorted(counts.items()))]
    for index, v in enumerate(verdict.violations[:limit], 1):
        lines.append("")
        lines.append(f"{index}. [{v.severity}] {v.kind}: {v.message}")
        if v.expected:
            lines.append(f"   expected: {v.expected}")
        if v.received:
            lines.append(f"   received: {v.received}")
        if v.requests:
            lines.append("   witness (requests in send order):")
            for witness in v.requests:
                extra = ""
                if witness.get("faults"):
                    extra += f" faults={','.join(witness['faults'])}"
                if witness.get("probe"):
                    extra += f" probe={witness['probe']}"
                events = witness["events"]
                shown = ", ".join(events[:4]) + (f", ... ({len(events)} events)" if len(events) > 4 else "")
                lines.append(f"     #{witness['request']} -> {witness['status'] or witness['outcome']}"
                             f"{extra} [{shown}]")
    if len(verdict.violations) > limit:
        lines.append(f"\n... and {len(verdict.violations) - limit} more (see the JSON report)")
    reproduce = next((v.reproduce for v in verdict.violations if v.reproduce), "")
    if reproduce:
        lines.append(f"\nReproduce with: {reproduce}")
    return "\n".join(lines)
