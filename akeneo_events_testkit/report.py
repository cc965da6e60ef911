"""Reports for CI: JUnit XML with one test case per property checked."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

from .oracle import VIOLATION_KINDS, Violation

if TYPE_CHECKING:
    from .campaign import CampaignResult

__all__ = ["junit_xml", "write_junit"]


def _violation_text(violation: Violation) -> str:
    lines = [f"{violation.kind}: {violation.message}"]
    if violation.expected:
        lines.append(f"expected: {violation.expected}")
    if violation.received:
        lines.append(f"received: {violation.received}")
    for witness in violation.requests:
        lines.append(f"  request #{witness['request']} -> {witness['status'] or witness['outcome']} "
                     f"{witness['events']}")
    return "\n".join(lines)


def junit_xml(result: CampaignResult) -> str:
    """A ``<testsuite>`` whose test cases are the oracle's properties; a violated one fails.

    Warnings (e.g. ``replay_accepted`` outside ``--strict``) are reported in ``system-out`` of a passing case.
    """
    by_kind: dict[str, list[Violation]] = {kind: [] for kind in VIOLATION_KINDS}
    for violation in result.verdict.violations:
        by_kind.setdefault(violation.kind, []).append(violation)
    failures = sum(1 for items in by_kind.values() if any(v.severity == "error" for v in items))
    suite = ET.Element("testsuite", {
        "name": "akeneo-events fuzz", "tests": str(len(by_kind)), "failures": str(failures), "errors": "0",
        "skipped": "0", "time": f"{result.duration:.3f}",
    })
    properties = ET.SubElement(suite, "properties")
    for name, value in (("seed", result.config.seed), ("profile", result.config.profile),
                        ("events", result.config.events), ("faults", result.config.faults),
                        ("reproduce", result.reproduce)):
        ET.SubElement(properties, "property", {"name": name, "value": str(value)})
    for kind, items in by_kind.items():
        case = ET.SubElement(suite, "testcase", {"classname": "akeneo_events.oracle", "name": kind, "time": "0"})
        errors = [v for v in items if v.severity == "error"]
        description = VIOLATION_KINDS.get(kind, ("error", kind))[1]
        if errors:
            failure = ET.SubElement(case, "failure", {
                "type": kind, "message": f"{len(errors)} violation(s): {description}",
            })
            failure.text = "\n\n".join(_violation_text(v) for v in errors[:50]) + (
                f"\n\nReproduce with: {result.reproduce}" if result.reproduce else "")
        elif items:
            out = ET.SubElement(case, "system-out")
            out.text = "\n\n".join(_violation_text(v) for v in items[:50])
    return ET.tostring(suite, encoding="unicode", xml_declaration=True)


def write_junit(result: CampaignResult, path: str | Path) -> None:
    Path(path).write_text(junit_xml(result) + "\n", encoding="utf-8")
