"""What a person sees during and after a run: a progress bar on a terminal, a summary table, colour.

The bar and colour appear only on a terminal (never in CI logs: ``CI`` set, ``NO_COLOR`` set, or output not a
TTY), so logs stay clean.
"""

from __future__ import annotations

import os
import sys
import time
from typing import IO, TYPE_CHECKING

from .events_api.summary import summary_table

if TYPE_CHECKING:
    from .judging.profile import CampaignOutcome

__all__ = ["Progress", "colour_enabled", "render_result", "summary_table"]


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


def colour_enabled(stream: IO[str] | None = None) -> bool:
    """Whether ANSI colours suit ``stream`` (standard output by default): a terminal, not CI, no NO_COLOR."""
    return _colour(stream or sys.stdout)


def render_result(result: CampaignOutcome, *, quiet: bool = False, stream: IO[str] | None = None,
                  report: str | None = None) -> str:
    """The summary of a run of either wire profile, coloured when ``stream`` is a terminal; ``report`` is
    the JSON report written, if any."""
    from .profiles import profile_of

    return profile_of(result).summary(result, quiet=quiet, colour=colour_enabled(stream), report=report)
