"""Reports: JUnit XML with one test case per property checked, and a self-contained HTML page."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .judging.diagnose import diagnosis_lines, probe_table_lines
from .judging.render import answer_of, violation_lines
from .judging.verdict import KIND_FIX, Violation
from .profiles import WIRE_PROFILES, profile_of
from .versions import format_event_datetime

if TYPE_CHECKING:
    from .judging.profile import CampaignOutcome

__all__ = ["KIND_FIXES", "html_report", "junit_xml", "write_html", "write_junit"]


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

#: kind -> the README glossary's "fix in the receiver" (both profiles): the profiles' own fixes
#: (``WireProfile.kind_fixes``), the shared kinds as ``judging.verdict.KIND_FIX`` words them, not a copy.
#: A report shows the fixes of its run's profile.
KIND_FIXES: dict[str, str] = {**{kind: fix for profile in WIRE_PROFILES.values()
                                 for kind, fix in profile.kind_fixes.items()}, **KIND_FIX}

#: Kinds by harm (issue 15): authenticity, lost or wrong state, application, answers; warnings after errors.
_HARM = ("forged_accepted", "event_lost", "resurrected", "stale_final_state", "removal_not_propagated",
         "stale_content", "delta_corrupted", "duplicate_applied", "stale_applied", "self_event_processed",
         "out_of_scope_applied", "suspension_risk", "server_error", "rejected_valid", "rotation_rejected",
         "slow_ack", "probe_unanswered", "replay_accepted", "algorithm_ignored")

_MAX_RESOURCES = 40
#: violation rows shown per kind (the JSON report has them all)
_MAX_PER_KIND = 100
#: a kind's violations, or a resource's timeline, longer than this starts collapsed
_LONG = 12
#: at most this many flagged timelines start open
_OPEN_TIMELINES = 10
_EPOCH = re.compile(r"\bat (\d{9,10})\b")

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
tr.offending td{background:#ffebe9}tr.offending.current td{background:#fde2c8}
tr.focus td{outline:2px solid #cf222e;background:#ffcecb}
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{font-weight:600}
details{margin:.3em 0}summary{cursor:pointer}details>table{margin-left:1em}
.fix{color:#1a7f37}.diagnosis{background:#fff8c5;border-left:4px solid #9a6700;padding:.4em .8em;margin:.4em 0}
#filters{position:sticky;top:0;background:#fff;padding:.4em 0;border-bottom:1px solid #d0d7de}
#js-errors{color:#cf222e}
"""

#: Runs before anything else: a script error is written into the page (a person sees it, a test reads it).
_ERRORS_JS = """window.addEventListener('error',function(e){var p=document.getElementById('js-errors');
if(!p){p=document.createElement('pre');p.id='js-errors';(document.body||document.documentElement).appendChild(p);}
p.hidden=false;p.textContent+='script error: '+(e.message||e)+'\\n';});"""

#: Filters by kind and resource (state kept in the fragment, ``#kind=...&resource=...``), opening what a
#: link points to, and highlighting the timeline rows of the violation a link came from.
_JS = """(function(){
var kind=document.getElementById('f-kind'),res=document.getElementById('f-resource'),
count=document.getElementById('f-count'),form=document.getElementById('filters');
function all(s){return Array.prototype.slice.call(document.querySelectorAll(s));}
function dec(s){try{return decodeURIComponent(s);}catch(e){return s;}}
function has(list,word){return (' '+(list||'')+' ').indexOf(' '+word+' ')>=0;}
function openTo(el){for(var e=el;e;e=e.parentElement){if(e.tagName==='DETAILS'){e.open=true;}}}
function focus(n){all('tr.focus').forEach(function(r){r.classList.remove('focus');});
all('tr[data-violations]').forEach(function(r){if(has(r.getAttribute('data-violations'),n)){r.classList.add('focus');}});}
function apply(write){var k=kind.value,r=res.value.trim(),shown=0,total=0;
all('tr.violation').forEach(function(row){total++;var ok=(!k||row.getAttribute('data-kind')===k)&&
(!r||(row.getAttribute('data-resource')||'').indexOf(r)>=0);row.hidden=!ok;if(ok){shown++;}});
all('details.kind-group').forEach(function(g){var any=g.querySelector('tr.violation:not([hidden])')!==null;
g.hidden=!any;if(any&&(k||r)){g.open=true;}});
all('details.timeline').forEach(function(t){var ok=(!k||has(t.getAttribute('data-kinds'),k))&&
(!r||t.getAttribute('data-resource').indexOf(r)>=0);t.hidden=!ok;if(ok&&r){t.open=true;}});
count.textContent=(k||r)?shown+' of '+total+' violations shown':total+' violations';
if(write){var h=[];if(k){h.push('kind='+encodeURIComponent(k));}if(r){h.push('resource='+encodeURIComponent(r));}
history.replaceState(null,'',h.length?'#'+h.join('&'):location.pathname+location.search);}}
function target(id){var el=document.getElementById(id);if(el){openTo(el);}return el;}
function fromHash(){var h=location.hash.slice(1);if(!h){return;}
if(/^(kind|resource)=/.test(h)){h.split('&').forEach(function(p){var i=p.indexOf('='),
v=dec(p.slice(i+1));if(p.slice(0,i)==='kind'){kind.value=v;}if(p.slice(0,i)==='resource'){res.value=v;}});
apply(false);return;}var el=target(dec(h));if(el){el.scrollIntoView();}}
form.hidden=false;kind.addEventListener('change',function(){apply(true);});
res.addEventListener('input',function(){apply(true);});
document.getElementById('f-clear').addEventListener('click',function(){kind.value='';res.value='';apply(true);});
document.addEventListener('click',function(e){var a=e.target.closest?e.target.closest('a[href^="#"]'):null;
if(!a){return;}if(a.hasAttribute('data-v')){focus(a.getAttribute('data-v'));}
target(dec(a.getAttribute('href').slice(1)));});
window.addEventListener('hashchange',fromHash);apply(false);fromHash();})();"""


def _esc(value: object) -> str:
    return html.escape(str(value))


def _iso(epoch: float) -> str:
    """ISO 8601 with its offset, as the PIM writes ``event_datetime`` (events-api-facts.md, Envelope)."""
    return format_event_datetime(epoch)


def _times(text: object) -> str:
    """``text`` escaped, with any ``at <Unix time>`` a verdict says written as an ISO 8601 date."""
    return _esc(_EPOCH.sub(lambda m: f"at {_iso(int(m.group(1)))}", str(text)))


def _harm(kind: str, severity: str) -> tuple[int, int, str]:
    return (severity != "error", _HARM.index(kind) if kind in _HARM else len(_HARM), kind)


def _diagnoses(result: CampaignOutcome) -> list[Any]:
    """The named causes a colleague's diagnosis adds to the stats or to the JSON report, when present."""
    found = result.verdict.stats.get("diagnoses")
    if found is None:
        found = result.report().get("diagnoses")
    return list(found or [])


def _diagnosis_html(item: Any) -> str:
    if not isinstance(item, Mapping):
        return f"<div class='diagnosis'>{_times(item)}</div>"
    head = next((item[k] for k in ("cause", "title", "message", "summary", "name") if item.get(k)), "")
    fix = next((item[k] for k in ("fix", "hint", "advice") if item.get(k)), "")
    rest = [(k, v) for k, v in item.items() if v not in (head, fix) and v not in (None, "", [], {})]
    return (f"<div class='diagnosis'><strong>{_times(head)}</strong>"
            + (f" <span class='fix'>{_times(fix)}</span>" if fix else "")
            + "".join(f"<br><small>{_esc(k)}: <code>{_times(v)}</code></small>" for k, v in rest) + "</div>")


def _table_html(rows: list[Any], *, element_id: str, title: str) -> str:
    """A list of JSON objects (the per-probe table) as a collapsed table, columns in first-seen order."""
    dicts = [row for row in rows if isinstance(row, Mapping)]
    columns = list(dict.fromkeys(k for row in dicts for k in row))
    body = "".join("<tr>" + "".join(f"<td>{_times(row.get(c, ''))}</td>" for c in columns) + "</tr>"
                   for row in dicts)
    return (f"<details id='{element_id}'><summary>{_esc(title)} ({len(dicts)})</summary><table><tr>"
            + "".join(f"<th>{_esc(c)}</th>" for c in columns) + f"</tr>{body}</table></details>")


def _witness_html(witness: Mapping[str, Any]) -> str:
    extra = "".join(f" <span class='badge fault'>{_esc(f)}</span>" for f in witness.get("faults", []))
    if witness.get("probe"):
        extra += f" <span class='badge bad'>{_esc(witness['probe'])}</span>"
    if witness.get("time"):
        extra += f" <small>{_times(witness['time'])}</small>"
    body = witness.get("body")
    if body:
        extra += f" <code title='first bytes of the answer'>{_esc(body)}</code>"
    return f"<span class='badge'>#{witness['request']} → {_esc(answer_of(witness))}{extra}</span>"


def html_report(result: CampaignOutcome) -> str:
    """A self-contained page (no network, inline script only) for a person: the diagnoses and the counts per
    kind with the fix in the receiver on top, then the violations grouped by kind (filterable by kind and
    resource, long groups collapsed), each linked to its resource's timeline of generated, delivered and
    applied events, where the offending rows are highlighted. Both wire profiles (their ``timeline`` and
    ``report_facts``); every time is ISO 8601 with its offset."""
    profile = profile_of(result)
    verdict = result.verdict
    applied: list[str] = list(result.observation.get("applied", []) or [])
    resources = result.observation.get("resources", {}) or {}
    applied_at: dict[str, list[int]] = defaultdict(list)
    for index, event_id in enumerate(applied):
        applied_at[event_id].append(index)
    by_key = profile.timeline(result)
    numbered = list(enumerate(verdict.violations, 1))
    kinds_of: dict[str, set[str]] = defaultdict(set)
    flagging: dict[str, list[tuple[int, str]]] = defaultdict(list)  # event id -> (violation number, kind)
    for number, v in numbered:
        if v.resource:
            kinds_of[v.resource].add(v.kind)
        for event_id in v.event_ids:
            flagging[event_id].append((number, v.kind))
    keys = list(dict.fromkeys(v.resource for v in verdict.violations if v.resource))
    flagged = set(keys)
    for key in by_key:
        if len(keys) >= _MAX_RESOURCES:
            break
        if key not in flagged and any(row.deliveries for row in by_key[key]):
            keys.append(key)
    shown_events = {row.event_id for key in keys for row in by_key.get(key, [])}

    status = "pass" if verdict.passed else "fail"
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>akeneo-events fuzz: {status.upper()} (seed {result.config.seed})</title>",
        f"<style>{_CSS}</style><script>{_ERRORS_JS}</script></head><body><pre id='js-errors' hidden></pre>",
        f"<h1>akeneo-events fuzz <span class='verdict {status}' id='verdict'>{status.upper()}</span></h1>",
    ]
    diagnoses = _diagnoses(result)
    if diagnoses:
        parts.append("<section id='diagnoses'><h2>Diagnoses</h2>"
                     + "".join(_diagnosis_html(item) for item in diagnoses) + "</section>")
    groups: dict[str, list[tuple[int, Violation]]] = defaultdict(list)
    for number, v in numbered:
        groups[v.kind].append((number, v))
    descriptions = profile.violation_kinds
    fixes = {**KIND_FIXES, **profile.kind_fixes}  # the run's profile words its own fixes
    order = sorted(groups, key=lambda k: _harm(k, "error" if any(v.severity == "error" for _, v in groups[k])
                                               else "warning"))
    parts.append("<section id='counts'><h2>Violations by kind</h2>")
    if not verdict.violations:
        parts.append("<p id='no-violations'>None: the receiver handled every fault and probe correctly.</p>")
    else:
        parts.append("<table><tr><th>kind</th><th>severity</th><th>count</th><th>what happened</th>"
                     "<th>fix in the receiver</th></tr>")
        for kind in order:
            severities = Counter(v.severity for _, v in groups[kind])
            severity = ", ".join(f"<span class='{s}'>{n} {s}{'s' if n > 1 else ''}</span>"
                                 for s, n in sorted(severities.items()))
            parts.append(f"<tr class='count' data-kind='{_esc(kind)}'><td><a href='#k-{_esc(kind)}'>"
                         f"<code>{_esc(kind)}</code></a></td><td>{severity}</td><td>{len(groups[kind])}</td>"
                         f"<td>{_esc(descriptions.get(kind, ('', ''))[1])}</td>"
                         f"<td class='fix'>{_esc(fixes.get(kind, ''))}</td></tr>")
        parts.append("</table>")
    parts.append("</section>")
    probe_table = verdict.stats.get("probe_table")
    if isinstance(probe_table, list) and probe_table:
        parts.append(_table_html(probe_table, element_id="probes", title="Probes"))

    facts = [("target", result.target), ("seed", result.config.seed), ("profile", result.config.profile),
             ("events", result.config.events), ("faults", result.config.faults),
             *((("activity starts", _iso(result.start)),) if result.start is not None else ()),
             ("requests", verdict.stats.get("requests")), ("probes", verdict.stats.get("probes")),
             *profile.report_facts(result), ("reproduce", result.reproduce)]
    parts.append("<details id='facts' open><summary>Run</summary><dl>")
    parts += [f"<dt>{_esc(k)}</dt><dd><code>{_times(v)}</code></dd>" for k, v in facts]
    parts.append("</dl></details>")

    parts.append("<form id='filters' hidden onsubmit='return false'>Filter: <select id='f-kind'>"
                 "<option value=''>every kind</option>"
                 + "".join(f"<option value='{_esc(k)}'>{_esc(k)} ({len(groups[k])})</option>" for k in order)
                 + "</select> <input id='f-resource' list='f-resources' placeholder='resource (or part)' size='40'>"
                 "<datalist id='f-resources'>" + "".join(f"<option value='{_esc(k)}'>" for k in sorted(flagged))
                 + "</datalist> <button type='button' id='f-clear'>clear</button> <span id='f-count'></span>"
                 "</form>")
    if verdict.violations:
        parts.append("<h2>Violations</h2>")
    for position, kind in enumerate(order):
        items = groups[kind]
        is_open = " open" if position == 0 or len(items) <= _LONG else ""
        parts.append(f"<details class='kind-group' id='k-{_esc(kind)}' data-kind='{_esc(kind)}'{is_open}>"
                     f"<summary><code>{_esc(kind)}</code> × {len(items)} — <span class='fix'>fix: "
                     f"{_esc(fixes.get(kind, descriptions.get(kind, ('', ''))[1]))}</span></summary>"
                     "<table class='violations'><tr><th>#</th><th>resource</th><th>what</th><th>expected</th>"
                     "<th>received</th><th>events</th><th>witness (requests in send order)</th></tr>")
        for number, v in items[:_MAX_PER_KIND]:
            anchor = (f"<a class='to-timeline' data-v='{number}' href='#r-{_esc(v.resource)}'>"
                      f"{_esc(v.resource)}</a>" if v.resource in flagged else "")
            # the tail of an id: a UUIDv7's head is its time, shared by the events of one second
            events = " ".join(f"<a data-v='{number}' href='#e-{_esc(e)}'><code title='{_esc(e)}'>…{_esc(e[-12:])}"
                              "</code></a>" if e in shown_events else f"<code title='{_esc(e)}'>…{_esc(e[-12:])}</code>"
                              for e in v.event_ids)
            parts.append(f"<tr class='violation' id='v-{number}' data-kind='{_esc(v.kind)}' "
                         f"data-resource='{_esc(v.resource or '')}'><td>{number}</td><td>{anchor}</td>"
                         f"<td class='{v.severity}'>{_times(v.message)}</td><td>{_times(v.expected)}</td>"
                         f"<td>{_times(v.received)}</td><td>{events}</td>"
                         f"<td>{' '.join(_witness_html(w) for w in v.requests)}</td></tr>")
        parts.append("</table>")
        if len(items) > _MAX_PER_KIND:
            parts.append(f"<p>... and {len(items) - _MAX_PER_KIND} more {_esc(kind)} in the JSON report "
                         "(<code>--report FILE.json</code>).</p>")
        parts.append("</details>")

    parts.append("<h2>Timeline per resource</h2><p>Each row is an event as generated (save time), the requests "
                 "that delivered it (status and faults), where it sits in the receiver's <code>applied</code> "
                 "list, and the violations it is part of (those rows are red). The yellow row is the receiver's "
                 "current state.</p>")
    opened = 0
    for key in keys:
        rows = sorted(by_key.get(key, []), key=lambda r: (r.epoch, r.order))
        kinds = sorted(kinds_of.get(key, ()), key=lambda k: _harm(k, "error"))
        is_open = ""
        if key in flagged and len(rows) <= _LONG and opened < _OPEN_TIMELINES:
            is_open, opened = " open", opened + 1
        marks = "".join(f" <span class='badge bad'>{_esc(k)}</span>" for k in kinds)
        parts.append(f"<details class='timeline' id='r-{_esc(key)}' data-resource='{_esc(key)}' "
                     f"data-kinds='{_esc(' '.join(kinds))}'{is_open}><summary><code>{_esc(key)}</code> "
                     f"({len(rows)} events){marks}</summary>"
                     "<table><tr><th>time</th><th>action</th><th>event id</th><th>delivered in</th>"
                     "<th>applied at</th><th>flagged by</th></tr>")
        state = resources.get(key) or {}
        for row in rows:
            classes = []
            if state.get("event_id") == row.event_id:
                classes.append("current")
            if row.removal:
                classes.append("removal")
            by = flagging.get(row.event_id, [])
            if by:
                classes.append("offending")
            deliveries = " ".join(
                f"<span class='badge {'ok' if ok else 'bad'}'>#{seq} → {_esc(answer)}</span>"
                + "".join(f"<span class='badge fault'>{_esc(f)}</span>" for f in faults)
                for seq, answer, ok, faults in row.deliveries) or "<span class='badge'>not delivered</span>"
            positions = ", ".join(str(p) for p in applied_at.get(row.event_id, [])) or "—"
            links = " ".join(f"<a href='#v-{n}'>#{n} {_esc(k)}</a>" for n, k in by)
            numbers = f" data-violations='{' '.join(str(n) for n, _ in by)}'" if by else ""
            parts.append(f"<tr id='e-{_esc(row.event_id)}' class='{' '.join(classes)}'{numbers}>"
                         f"<td>{_iso(row.epoch)}</td><td>{_esc(row.action)}</td>"
                         f"<td><code>{_esc(row.event_id)}</code></td><td>{deliveries}</td><td>{positions}</td>"
                         f"<td>{links}</td></tr>")
        parts.append("</table></details>")
    parts.append(f"<script>{_JS}</script></body></html>")
    return "".join(parts)


def write_html(result: CampaignOutcome, path: str | Path) -> None:
    Path(path).write_text(html_report(result), encoding="utf-8")
