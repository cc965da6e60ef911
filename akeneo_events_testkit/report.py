"""Reports: JUnit XML with one test case per property checked, and a self-contained HTML page."""

from __future__ import annotations

import datetime as _dt
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from .judging.diagnose import diagnosis_lines, probe_table_lines
from .judging.render import answer_of, violation_lines
from .judging.verdict import Violation
from .profiles import profile_of

if TYPE_CHECKING:
    from .judging.profile import CampaignOutcome

__all__ = ["html_report", "junit_xml", "write_html", "write_junit"]


def _violation_text(violation: Violation) -> str:
    return "\n".join(violation_lines(violation))


def junit_xml(result: CampaignOutcome) -> str:
    """A ``<testsuite>`` whose test cases are the oracle's properties; a violated one fails.

    Warnings (e.g. ``replay_accepted`` outside ``--strict``) are reported in ``system-out`` of a passing case.
    A failing case's message names the fix; the suite's ``system-out`` holds the likely causes
    (:mod:`.judging.diagnose`) and the per-probe table (probe, family, answer, verdict).
    """
    profile = profile_of(result)
    kinds, fixes = profile.violation_kinds, profile.kind_fixes
    by_kind: dict[str, list[Violation]] = {kind: [] for kind in kinds}
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
        description = kinds.get(kind, ("error", kind))[1]
        if errors:
            fix = fixes.get(kind, "")
            failure = ET.SubElement(case, "failure", {
                "type": kind,
                "message": f"{len(errors)} violation(s): {description}" + (f"; fix: {fix}" if fix else ""),
            })
            failure.text = "\n\n".join(_violation_text(v) for v in errors[:50]) + (
                f"\n\nReproduce with: {result.reproduce}" if result.reproduce else "")
        elif items:
            out = ET.SubElement(case, "system-out")
            out.text = "\n\n".join(_violation_text(v) for v in items[:50])
    stats = result.verdict.stats
    summary = [*diagnosis_lines(stats.get("diagnoses") or [])]
    probes = probe_table_lines(stats.get("probe_table") or [])
    if probes:
        summary += [*([""] if summary else []), "Probes:", *probes]
    if summary:
        ET.SubElement(suite, "system-out").text = "\n".join(summary)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True)


def write_junit(result: CampaignOutcome, path: str | Path) -> None:
    Path(path).write_text(junit_xml(result) + "\n", encoding="utf-8")


# -- HTML ----------------------------------------------------------------------------------------------

_MAX_RESOURCES = 40

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#1d2330;background:#fff}
h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.6em 0 .5em}
.verdict{display:inline-block;padding:.2em .7em;border-radius:4px;color:#fff;font-weight:700}
.pass{background:#1a7f37}.fail{background:#cf222e}
table{border-collapse:collapse;margin:.4em 0 1em}td,th{border:1px solid #d0d7de;padding:.25em .6em;text-align:left;
vertical-align:top}th{background:#f6f8fa}code{font:12px ui-monospace,monospace}
.error{color:#cf222e;font-weight:600}.warning{color:#9a6700;font-weight:600}
.badge{display:inline-block;border-radius:3px;padding:0 .35em;margin:0 .15em;font-size:11px;background:#ddf4ff}
.fault{background:#fff1e5;color:#953800}.bad{background:#ffebe9;color:#cf222e}.ok{background:#dafbe1;color:#1a7f37}
.current td{background:#fffbdd}.removal td:nth-child(2){color:#cf222e}
.lane{display:flex;gap:4px;align-items:center;margin:.2em 0}.dot{width:10px;height:10px;border-radius:50%}
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{font-weight:600}
"""


def _esc(value: object) -> str:
    import html

    return html.escape(str(value))


def html_report(result: CampaignOutcome) -> str:
    """A self-contained page (no network): verdict, violations, and a per-resource timeline of generated,
    delivered and applied events with the faults marked, so a person sees how a violation happened.
    Both wire profiles: an Event Platform run also states whether the subscription was suspended."""
    profile = profile_of(result)
    verdict = result.verdict
    applied: list[str] = list(result.observation.get("applied", []) or [])
    resources = result.observation.get("resources", {}) or {}
    applied_at: dict[str, list[int]] = defaultdict(list)
    for index, event_id in enumerate(applied):
        applied_at[event_id].append(index)
    by_key = profile.timeline(result)
    extra = profile.report_facts(result)
    flagged = [v.resource for v in verdict.violations if v.resource]
    keys = list(dict.fromkeys(flagged))
    for key in by_key:
        if len(keys) >= _MAX_RESOURCES:
            break
        if key not in keys and any(row.deliveries for row in by_key[key]):
            keys.append(key)

    status = "pass" if verdict.passed else "fail"
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>akeneo-events fuzz: {status.upper()} (seed {result.config.seed})</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>akeneo-events fuzz <span class='verdict {status}' id='verdict'>{status.upper()}</span></h1>",
        "<dl>",
    ]
    facts = [("target", result.target), ("seed", result.config.seed), ("profile", result.config.profile),
             ("events", result.config.events), ("faults", result.config.faults),
             ("requests", verdict.stats.get("requests")), ("probes", verdict.stats.get("probes")),
             *extra, ("reproduce", result.reproduce)]
    parts += [f"<dt>{_esc(k)}</dt><dd><code>{_esc(v)}</code></dd>" for k, v in facts]
    parts.append("</dl><h2>Violations</h2>")
    if not verdict.violations:
        parts.append("<p id='no-violations'>None: the receiver handled every fault and probe correctly.</p>")
    else:
        parts.append("<table id='violations'><tr><th>#</th><th>kind</th><th>resource</th><th>expected</th>"
                     "<th>received</th><th>witness (requests in send order)</th></tr>")
        for index, v in enumerate(verdict.violations[:200], 1):
            witness = " ".join(
                f"<span class='badge'>#{w['request']} → {_esc(answer_of(w))}"
                + "".join(f" <span class='badge fault'>{_esc(f)}</span>" for f in w.get("faults", []))
                + (f" <span class='badge bad'>{_esc(w['probe'])}</span>" if w.get("probe") else "") + "</span>"
                for w in v.requests)
            anchor = f"<a href='#r-{_esc(v.resource)}'>{_esc(v.resource)}</a>" if v.resource else ""
            parts.append(f"<tr class='violation'><td>{index}</td><td class='{v.severity}'>{_esc(v.kind)}</td>"
                         f"<td>{anchor}</td><td>{_esc(v.expected)}</td><td>{_esc(v.received)}</td>"
                         f"<td>{witness}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Timeline per resource</h2><p>Each row is an event as generated (save time), the requests "
                 "that delivered it (status and faults), and where it sits in the receiver's <code>applied</code>"
                 " list. The highlighted row is the receiver's current state.</p>")
    for key in keys:
        state = resources.get(key) or {}
        mark = " <span class='badge bad'>flagged</span>" if key in flagged else ""
        parts.append(f"<h3 id='r-{_esc(key)}'><code>{_esc(key)}</code>{mark}</h3>")
        parts.append("<table class='timeline'><tr><th>time</th><th>action</th><th>event id</th>"
                     "<th>delivered in</th><th>applied at</th></tr>")
        for row in sorted(by_key.get(key, []), key=lambda r: (r.epoch, r.order)):
            classes = []
            if state.get("event_id") == row.event_id:
                classes.append("current")
            if row.removal:
                classes.append("removal")
            deliveries = " ".join(
                f"<span class='badge {'ok' if ok else 'bad'}'>#{seq} → {_esc(answer)}</span>"
                + "".join(f"<span class='badge fault'>{_esc(f)}</span>" for f in faults)
                for seq, answer, ok, faults in row.deliveries) or "<span class='badge'>not delivered</span>"
            positions = ", ".join(str(p) for p in applied_at.get(row.event_id, [])) or "—"
            stamp = _dt.datetime.fromtimestamp(row.epoch, tz=_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
            parts.append(f"<tr class='{' '.join(classes)}'><td>{stamp}</td><td>{_esc(row.action)}</td>"
                         f"<td><code>{_esc(row.event_id)}</code></td><td>{deliveries}</td><td>{positions}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)


def write_html(result: CampaignOutcome, path: str | Path) -> None:
    Path(path).write_text(html_report(result), encoding="utf-8")
