"""Where a run's result goes: the JSON report, JUnit XML, HTML, ``--json`` or the summary (both profiles)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from ..judging.profile import CampaignOutcome, WireProfile

__all__ = ["write_outputs"]


def write_outputs(result: CampaignOutcome, profile: WireProfile, args: argparse.Namespace, out: TextIO) -> int:
    """Write every report asked for, print the summary (or the JSON report); the exit code: 0 pass, 1 fail."""
    report = result.report()
    if args.report:
        Path(args.report).write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    if args.junit:
        from ..report import write_junit

        write_junit(result, args.junit)
    if args.html:
        from ..report import write_html

        write_html(result, args.html)
    if getattr(args, "save_plan", None):
        profile.save_plan(result, args.save_plan)
    if args.json:
        out.write(json.dumps(report, indent=2, default=str) + "\n")
    else:
        from ..console import colour_enabled

        out.write(profile.summary(result, quiet=args.quiet, colour=colour_enabled(out),
                                  report=str(args.report) if args.report else None) + "\n")
    return 0 if result.passed else 1
