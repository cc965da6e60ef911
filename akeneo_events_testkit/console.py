"""What a person sees during and after a run: a progress bar on a terminal, a summary table, colour.

The bar and colour appear only on a terminal (never in CI logs: ``CI`` set, ``NO_COLOR`` set, or output not a
TTY), so logs stay clean.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from typing import IO, TYPE_CHECKING, Any

from .judging.verdict import percentile

if TYPE_CHECKING:
    from .events_api.campaign import CampaignResult
    from .events_api.pim import RunResult

__all__ = ["Progress", "render_result", "summary_table"]


def _interactive(stream: IO[str]) -> bool:
    return stream.isatty() and not os.environ.get("CI") and os.environ.get("TERM") != "dumb"


def _colour(stream: IO[str]) -> bool:
    return _interactive(stream) and not os.environ.get("NO_COLOR")


class Progress:
    """A one-line progress bar on standard error, redrawn at most 10 times a second."""

    def __init__(self, total: int, *, enabled: bool = True, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr
        self.total = max(1, total)
        self.done = 0
        self.enabled = enabled and _interactive(self.stream)
        self._last = 0.0
        self._started = time.monotonic()

    def advance(self, events: int) -> None:
        self.done += events
        now = time.monotonic()
        if self.enabled and now - self._last > 0.1:
            self._last = now
            self._draw()

    def _draw(self) -> None:
        fraction = min(1.0, self.done / self.total)
        width = 30
        filled = int(fraction * width)
        rate = self.done / max(1e-6, time.monotonic() - self._started)
        self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} events "
                          f"{rate:,.0f}/s ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 70 + "\r")
            self.stream.flush()


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.1f} ms"


def summary_table(run: RunResult, verdict_stats: dict[str, Any] | None) -> str:
    """Events, requests by outcome, faults by kind, probes, latency percentiles."""
    truth = run.truth
    genuine = [r for r in truth.requests if r.probe is None]
    probes = [r for r in truth.requests if r.probe is not None]
    latencies = truth.latencies()
    outcomes = Counter(r.outcome.value for r in genuine)
    refused = sum(1 for r in probes if r.status is not None and 400 <= r.status < 500)
    faults = run.fault_plan.counts() if run.fault_plan is not None else {}
    rows: list[tuple[str, str]] = [
        ("profile", f"{run.profile.name}{' (uuid mode)' if run.profile.uuid_mode else ''}, seed {run.seed}, "
                    f"data {run.data_mode}"),
        ("events generated", str(run.events_generated)),
        ("requests sent", f"{len(genuine)} ({', '.join(f'{k} {v}' for k, v in sorted(outcomes.items()))})"),
        ("events delivered", str(sum(len(r.event_ids) for r in genuine))),
        ("faults injected", ", ".join(f"{k} {v}" for k, v in sorted(faults.items())) or "none"),
        ("probes", f"{len(probes)} ({refused} refused with 4xx)" if probes else "none"),
        ("not sent by the PIM", ", ".join(f"{k} {v}" for k, v in sorted(truth.dropped.items())) or "none"),
        ("latency p50/p95/p99", " / ".join(_ms(percentile(latencies, q)) for q in (0.5, 0.95, 0.99))),
    ]
    if run.limiter_waits:
        rows.append(("hourly limit waits", f"{len(run.limiter_waits)} ({sum(run.limiter_waits):.0f} s virtual)"))
    if verdict_stats is not None:
        rows.append(("ties met", str(verdict_stats.get("ties", 0))))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"  {name:<{width}}  {value}" for name, value in rows)


def render_result(result: CampaignResult, *, quiet: bool = False, stream: IO[str] | None = None) -> str:
    """The fuzz summary: table, violations by kind, each violation, and the verdict line."""
    colour = _colour(stream or sys.stdout)

    def paint(text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if colour else text

    verdict = result.verdict
    lines: list[str] = []
    if not quiet:
        lines.append(f"Fuzzed {result.target} in {result.duration:.1f} s")
        lines.append(summary_table(result.run, verdict.stats))
        counts = verdict.counts()
        lines.append("  violations" + " " * 10 + (", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
                                                   or "none"))
        lines.append("")
    if verdict.violations:
        lines.append(result.failure_text())
        lines.append("")
    warnings = len(verdict.violations) - len(verdict.errors)
    if verdict.passed:
        lines.append(paint("PASS", "32;1") + f": no violations ({warnings} warning(s))" if warnings
                     else paint("PASS", "32;1") + ": no violations")
    else:
        lines.append(paint("FAIL", "31;1") + f": {len(verdict.errors)} violation(s)")
    return "\n".join(lines)
