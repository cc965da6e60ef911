"""The Events API run summary: a table of what was sent and answered, the violations and the verdict line."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from ..judging.baseline import earlier_state_text
from ..judging.checks import hazard_summary, scope_summary
from ..judging.diagnose import probe_table_lines
from ..judging.render import kind_rows, slow_summary, timed
from ..judging.verdict import percentile

if TYPE_CHECKING:
    from .campaign import CampaignResult
    from .pim import RunResult
    from .truth import RequestRecord

__all__ = ["NOT_SENT_REASONS", "render_result", "requests_text", "summary_table"]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.1f} ms"


#: why the PIM did not send an event, as the summary explains it (events-api-facts.md section 5)
NOT_SENT_REASONS = {
    "own_event": "raised by the subscription's own connection: the PIM filters a connection's own events "
                 "(log NOTICE, facts section 5)",
    "not_found_at_send_time": "the product was gone (or not visible to the connection) when the message was "
                              "sent: the PIM rebuilds the data at send time and skips it (log NOTICE, facts "
                              "section 5)",
    "lost": "lost in transport before the PIM sent it (the model's lost messages, facts section 6)",
}

#: the outcomes of a request, as the summary names them (facts section 1)
_OUTCOME_NAMES = {"sent": "acknowledged", "error": "refused (4xx/5xx)", "failed": "unanswered (timeout or no "
                  "connection)"}


def requests_text(total: int, outcomes: Counter[str]) -> str:
    """``179, all answered 2xx``, or ``179: acknowledged 170, refused (4xx/5xx) 5, unanswered ... 4``."""
    if total and outcomes.get("sent", 0) == total:
        return f"{total}, all answered 2xx"
    if total and outcomes.get("failed", 0) == total:
        return f"{total}, none answered (timeout or no connection)"
    parts = [f"{_OUTCOME_NAMES.get(name, name)} {outcomes[name]}" for name in ("sent", "error", "failed")
             if outcomes.get(name)]
    return f"{total}: {', '.join(parts)}" if parts else str(total)


def _delivered(genuine: list[RequestRecord]) -> str:
    """Events in the requests sent, and how many of them the receiver acknowledged: the PIM never sends an
    event again (events-api-facts.md section 1, "Retry: none"), so only those can be expected in its state."""
    sent = sum(len(r.event_ids) for r in genuine)
    acknowledged = sum(len(r.event_ids) for r in genuine if r.acknowledged)
    return f"{sent} ({acknowledged} acknowledged)" if acknowledged != sent else f"{sent}, all acknowledged"


def summary_table(run: RunResult, verdict_stats: dict[str, Any] | None) -> str:
    """Events, requests by outcome, faults by kind, probes, latency percentiles (the receiver's time, see
    :mod:`..transport.timing`) and slow answers."""
    truth = run.truth
    genuine = [r for r in truth.requests if r.probe is None]
    probes = [r for r in truth.requests if r.probe is not None]
    latencies = truth.latencies()
    outcomes = Counter(r.outcome.value for r in genuine)
    refused = sum(1 for r in probes if r.status is not None and 400 <= r.status < 500)
    faults = run.fault_plan.counts() if run.fault_plan is not None else {}
    if verdict_stats is not None and verdict_stats.get("replicas"):  # the race is the replicas transport's fault
        faults = {**faults, "replica_race": verdict_stats["replicas"]["replica_race"]}
    rows: list[tuple[str, str]] = [
        ("profile", f"{run.profile.name}{' (uuid mode)' if run.profile.uuid_mode else ''}, seed {run.seed}, "
                    f"data {run.data_mode}"),
        ("events generated", str(run.events_generated)),
        ("requests sent", requests_text(len(genuine), outcomes)),
        ("events delivered", _delivered(genuine)),
        ("faults injected", ", ".join(f"{k} {v}" for k, v in sorted(faults.items())) or "none"),
        ("probes", f"{len(probes)} ({refused} refused with 4xx)" if probes else "none"),
        ("not sent by the PIM", ", ".join(f"{k} {v}" for k, v in sorted(truth.dropped.items())) or "none"),
        *(("", f"{reason}: {NOT_SENT_REASONS.get(reason, 'not documented')}") for reason in sorted(truth.dropped)),
        ("latency p50/p95/p99", " / ".join(_ms(percentile(latencies, q)) for q in (0.5, 0.95, 0.99))
         + timed({r.timing for r in truth.requests})),
    ]
    if run.limiter_waits:
        rows.append(("hourly limit waits", f"{len(run.limiter_waits)} ({sum(run.limiter_waits):.0f} s virtual)"))
    if verdict_stats is not None:
        rows.append(("slow answers", slow_summary(verdict_stats)))
        rows.append(("ties met", str(verdict_stats.get("ties", 0))))
        if verdict_stats.get("hazards") is not None:
            rows.append(("hazards exercised", hazard_summary(verdict_stats["hazards"])))
        if verdict_stats.get("scope"):
            rows.append(("scope", scope_summary(verdict_stats) or ""))
        if verdict_stats.get("design", "apply") != "apply":
            rows.append(("receiver design", str(verdict_stats["design"])))
        if verdict_stats.get("replicas") is not None:  # several --url: the spread and the races
            rows.append(("replicas", str(verdict_stats["replicas"]["summary"])))
        if verdict_stats.get("crash_summary") is not None:  # --crashes: the receiver the kit killed
            rows.append(("crashes", str(verdict_stats["crash_summary"])))
        if (earlier := earlier_state_text(verdict_stats)) is not None:
            rows.append(("state before the run", earlier))
        if verdict_stats.get("design_hint"):
            rows.append(("hint", str(verdict_stats["design_hint"])))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"  {name:<{width}}  {value}" for name, value in rows)


def render_result(result: CampaignResult, *, quiet: bool = False, colour: bool = False,
                  report: str | None = None) -> str:
    """The fuzz summary: table, violations by kind (most harmful first), the probes and their answers, each
    violation (summary first, :func:`..judging.render.format_violations`), and the verdict line (ANSI colours
    with ``colour``); ``report`` is the JSON report written, if any."""

    def paint(text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if colour else text

    verdict = result.verdict
    lines: list[str] = []
    if not quiet:
        lines.append(f"Fuzzed {result.target} in {result.duration:.1f} s")
        lines.append(summary_table(result.run, verdict.stats))
        counts = ", ".join(f"{row['kind']} {row['count']}" for row in kind_rows(verdict))
        lines.append("  violations" + " " * 10 + (counts or "none"))
        probes = probe_table_lines(verdict.stats.get("probe_table") or [])
        if probes:
            lines += ["", "Probes (each crafted request, what it got, what was judged):", *probes]
        lines.append("")
    if verdict.violations:
        lines.append(result.failure_text(report=report))
        lines.append("")
    warnings = len(verdict.violations) - len(verdict.errors)
    if verdict.passed:
        lines.append(paint("PASS", "32;1") + f": no violations ({warnings} warning(s))" if warnings
                     else paint("PASS", "32;1") + ": no violations")
    else:
        lines.append(paint("FAIL", "31;1") + f": {len(verdict.errors)} violation(s)")
    return "\n".join(lines)
