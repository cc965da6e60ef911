"""JSON, JUnit and HTML reports of a campaign, checked by parsing them (and rendering, where Chromium exists)."""

from __future__ import annotations

import html
import json
import re
import subprocess
import xml.etree.ElementTree as ET
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.event_platform.campaign import EpCampaignConfig, run_ep_campaign
from akeneo_events_testkit.event_platform.oracle import EP_VIOLATION_KINDS
from akeneo_events_testkit.event_platform.signing import EpSecrets
from akeneo_events_testkit.events_api.campaign import CampaignConfig, CampaignResult, run_campaign
from akeneo_events_testkit.events_api.oracle import VIOLATION_KINDS
from akeneo_events_testkit.judging.profile import CampaignOutcome
from akeneo_events_testkit.profiles import profile_of
from akeneo_events_testkit.receiver import MemoryStore, ReferenceReceiver
from akeneo_events_testkit.report import KIND_FIXES, html_report, junit_xml
from akeneo_events_testkit.versions import resource_key

from .support.chromium import CHROMIUM, dump_dom
from .support.ep_receiver import START, EpReceiver
from .support.paths import ROOT


class TrustingReceiver:
    """No signature check, no dedup, no staleness check: a receiver with many bugs at once."""

    def __init__(self) -> None:
        self.applied: list[str] = []
        self.resources: dict[str, Any] = {}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        try:
            for event in json.loads(body)["events"]:
                self.applied.append(event["event_id"])
                key = resource_key(event["action"], event["data"]["resource"])
                self.resources[key] = {"event_id": event["event_id"], "removed": event["action"].endswith("removed")}
        except (ValueError, KeyError, TypeError):
            pass
        start_response("200 OK", [])
        return [b""]

    def observation(self) -> dict[str, Any]:
        return {"applied": self.applied, "resources": self.resources}


@pytest.fixture(scope="module")
def failing() -> CampaignResult:
    receiver = TrustingReceiver()
    return run_campaign(CampaignConfig(seed=2, events=150, faults="chaos"), target=receiver, secret="s",
                        observe=receiver.observation)


@pytest.fixture(scope="module")
def passing() -> CampaignResult:
    receiver = ReferenceReceiver("s", store=MemoryStore())
    return run_campaign(CampaignConfig(seed=2, events=150), target=receiver.wsgi(), secret="s",
                        observe=receiver.observation)


@pytest.fixture(scope="module")
def ep_failing() -> CampaignOutcome:
    receiver = EpReceiver(["s3cret"], bugs=["no_dedupe", "no_staleness", "ignore_deletes"])
    return run_ep_campaign(EpCampaignConfig(seed=3, events=150, faults="chaos", settle_timeout=0.0),
                           target=receiver, observe=receiver.observation, secrets=EpSecrets("s3cret"),
                           clock=FakeClock(START))


@pytest.fixture(scope="module", params=["events-api", "event-platform"])
def failing_any(request: pytest.FixtureRequest) -> CampaignOutcome:
    """A failing run of each wire profile."""
    outcome: CampaignOutcome = request.getfixturevalue("failing" if request.param == "events-api"
                                                       else "ep_failing")
    return outcome


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if attributes.get("id"):
            self.ids.add(str(attributes["id"]))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Collector:
    collector = _Collector()
    collector.feed(page)
    return collector


def test_json_report(failing: CampaignResult) -> None:
    report = failing.report()
    assert report["verdict"] == "fail" and report["seed"] == 2
    kinds = {v["kind"] for v in report["violations"]}
    assert {"forged_accepted", "duplicate_applied"} <= kinds
    first = report["violations"][0]
    assert {"kind", "severity", "message", "expected", "received", "witness", "reproduce"} <= set(first)
    json.dumps(report)


def test_junit_has_one_case_per_property(failing: CampaignResult, passing: CampaignResult) -> None:
    suite = ET.fromstring(junit_xml(failing))
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == set(VIOLATION_KINDS)
    failed = {name for name, case in cases.items() if case.find("failure") is not None}
    assert failed == {v.kind for v in failing.verdict.errors}
    assert suite.get("failures") == str(len(failed)) and suite.get("tests") == str(len(VIOLATION_KINDS))
    failure = cases["forged_accepted"].find("failure")
    assert failure is not None and "Reproduce with: akeneo-events fuzz --seed 2" in (failure.text or "")
    clean = ET.fromstring(junit_xml(passing))
    assert clean.get("failures") == "0" and all(c.find("failure") is None for c in clean.iter("testcase"))



_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[+-]\d\d:\d\d|Z)$")


def _rows(page: str, cls: str) -> list[dict[str, str | None]]:
    return [a for t, a in _parse(page).tags if t == "tr" and cls in str(a.get("class") or "").split()]


def _cells(page: str, row_class: str) -> list[list[str]]:
    """The text of each cell of the ``<tr class=row_class>`` rows."""
    rows = re.findall(rf"<tr class='{row_class}'[^>]*>(.*?)</tr>", page)
    return [[html.unescape(re.sub("<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", r)] for r in rows]


def test_html_report_is_self_contained_and_shows_the_timeline(failing_any: CampaignOutcome) -> None:
    page = html_report(failing_any)
    parsed = _parse(page)
    assert "verdict" in parsed.ids and "FAIL" in "".join(parsed.text)
    # no network: inline scripts and styles only, no images or fonts
    for tag, attributes in parsed.tags:
        assert tag not in ("link", "img", "iframe"), tag
        assert not (tag == "script" and attributes.get("src")), attributes
        assert not str(attributes.get("src") or attributes.get("href") or "").startswith(("http", "//")), attributes
    violations = failing_any.verdict.violations
    by_kind: dict[str, int] = defaultdict(int)
    for v in violations:
        by_kind[v.kind] += 1
    assert len(_rows(page, "violation")) == sum(min(100, n) for n in by_kind.values())
    flagged = {v.resource for v in violations if v.resource}
    assert flagged and all(f"r-{key}" in parsed.ids for key in flagged)
    assert "fault" in page and "current" in page


def test_html_counts_per_kind_by_harm_with_the_fix(failing_any: CampaignOutcome) -> None:
    page = html_report(failing_any)
    counts = _cells(page, "count")
    assert {row[0]: int(row[2]) for row in counts} == dict(failing_any.verdict.counts())
    fixes = {**KIND_FIXES, **profile_of(failing_any).kind_fixes}  # the run's profile words its own fixes
    assert all(row[4] == fixes[row[0]] for row in counts)
    kinds = [row[0] for row in counts]
    errors = [k for k in kinds if any(v.severity == "error" for v in failing_any.verdict.violations if v.kind == k)]
    assert kinds[:len(errors)] == errors  # warnings after errors
    if "forged_accepted" in kinds:
        assert kinds[0] == "forged_accepted"  # authenticity first, though other kinds are more numerous
    for before, after in (("event_lost", "duplicate_applied"), ("stale_final_state", "stale_applied")):
        if before in kinds and after in kinds:
            assert kinds.index(before) < kinds.index(after)
    # the counts come before the first violation and the first timeline
    assert page.index("id='counts'") < page.index("class='kind-group'") < page.index("class='timeline'")


def test_every_kind_has_the_readme_glossarys_fix() -> None:
    """KIND_FIXES is the README glossary's "fix in the receiver" column, for every kind of both profiles."""
    assert set(VIOLATION_KINDS) | set(EP_VIOLATION_KINDS) <= set(KIND_FIXES)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    glossary = readme[readme.index("## Violation glossary"):]
    glossary = glossary[:glossary.index("\n\n", glossary.index("| kind |"))]
    previous = ""
    for line in glossary.splitlines():
        match = re.match(r"\| `(\w+)`[^|]*\|.*\| ([^|]+) \|$", line)
        if match:
            fix = match.group(2).replace("`", "")
            fix = previous if fix == "as above" else fix
            assert KIND_FIXES[match.group(1)] == fix, match.group(1)
            previous = fix


def test_html_violations_link_to_highlighted_timeline_rows(failing_any: CampaignOutcome) -> None:
    page = html_report(failing_any)
    parsed = _parse(page)
    offending = {str(a["id"])[2:]: str(a.get("data-violations")).split() for a in _rows(page, "offending")}
    expected: dict[str, list[str]] = defaultdict(list)
    for number, v in enumerate(failing_any.verdict.violations, 1):
        for event_id in v.event_ids:
            if f"e-{event_id}" in parsed.ids:
                expected[event_id].append(str(number))
    assert offending == dict(expected) and offending
    links = {(str(a.get("data-v")), str(a["href"])) for t, a in parsed.tags if t == "a" and a.get("data-v")}
    for number, v in enumerate(failing_any.verdict.violations, 1):
        if v.resource:
            assert (str(number), f"#r-{v.resource}") in links
        for event_id in v.event_ids:
            assert (f"e-{event_id}" in parsed.ids) == ((str(number), f"#e-{event_id}") in links)


def test_html_times_are_iso_8601_with_an_offset(failing_any: CampaignOutcome) -> None:
    page = html_report(failing_any)
    stamps = [row.split("</td>")[0] for row in re.split(r"<tr id='e-[^']*'[^>]*><td>", page)[1:]]
    assert stamps and all(_ISO.match(s) for s in stamps), stamps[:3]
    assert not re.search(r"\bat \d{9,10}\b", page)  # the Events API's texts say "at <Unix time>"
    if failing_any.start is not None:
        assert re.search(r"activity starts</dt><dd><code>\d{4}-\d\d-\d\dT[\d:]+\+00:00<", page)


def test_html_long_tables_are_collapsed(failing: CampaignResult) -> None:
    page = html_report(failing)
    groups = re.findall(r"<details class='kind-group' id='k-(\w+)'[^>]*?( open)?>", page)
    counts = failing.verdict.counts()
    assert groups[0][1] == " open"  # the most harmful kind is shown
    assert all(bool(is_open) == (counts[kind] <= 12) for kind, is_open in groups[1:])
    assert any(not is_open for _, is_open in groups)
    timelines = re.findall(r"<details class='timeline' [^>]*?( open)?><summary><code>[^<]*</code> \((\d+) events",
                           page)
    assert all(int(n) <= 12 for is_open, n in timelines if is_open) and any(not o for o, _ in timelines)


def test_html_report_of_a_pass(passing: CampaignResult) -> None:
    page = html_report(passing)
    parsed = _parse(page)
    assert "no-violations" in parsed.ids and "PASS" in "".join(parsed.text)
    assert "diagnoses" not in parsed.ids and not _rows(page, "offending")


def test_html_shows_the_diagnoses_first() -> None:
    """Diagnoses (a list of texts, or of objects with a cause and a fix) in the stats come before the counts."""
    receiver = ReferenceReceiver("s", store=MemoryStore())
    result = run_campaign(CampaignConfig(seed=5, events=20), target=receiver.wsgi(), secret="s",
                          observe=receiver.observation)
    result.verdict.stats["diagnoses"] = [
        "every genuine request was refused with 401",
        {"cause": "the receiver does not record what it applies", "fix": "see the observation contract",
         "evidence": "0 applied, 20 acknowledged"},
    ]
    page = html_report(result)
    section = page[page.index("<section id='diagnoses'>"):page.index("</section>")]
    assert page.index("id='diagnoses'") < page.index("id='counts'")
    for text in ("every genuine request was refused with 401", "the receiver does not record what it applies",
                 "see the observation contract", "0 applied, 20 acknowledged"):
        assert text in section


_CLICKS = """<script>(function(){
var plan=PLAN,out={};
function all(s){return Array.prototype.slice.call(document.querySelectorAll(s));}
function shown(e){for(;e;e=e.parentElement){if(e.hidden){return false;}}return true;}
function rows(attr){return all('tr.violation').filter(shown).map(function(r){return r.getAttribute(attr);});}
function timelines(){return all('details.timeline').filter(shown).map(function(t){return t.id;});}
var kind=document.getElementById('f-kind'),res=document.getElementById('f-resource');
out.filters_shown=shown(document.getElementById('filters'));out.all=rows('data-kind').length;
kind.value=plan.kind;kind.dispatchEvent(new Event('change'));
out.kind={rows:rows('data-kind'),timelines:timelines(),hash:location.hash};
document.getElementById('f-clear').click();out.cleared=rows('data-kind').length;out.cleared_hash=location.hash;
res.value=plan.resource;res.dispatchEvent(new Event('input'));
out.resource={rows:rows('data-resource'),timelines:timelines()};
document.getElementById('f-clear').click();
document.querySelector('a.to-timeline[data-v="'+plan.v+'"]').click();
var target=document.getElementById(plan.target);
out.link={open:target.open,focus:all('tr.focus').map(function(r){return r.id;}),hash:location.hash};
var p=document.createElement('pre');p.id='test-result';p.textContent=JSON.stringify(out);document.body.appendChild(p);
})();</script></body>"""


def _result_of(dom: str) -> Any:
    found = re.search(r'<pre id="test-result">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    return json.loads(html.unescape(found.group(1)))


def _no_script_errors(dom: str, log: str) -> None:
    errors = re.search(r'<pre id="js-errors"[^>]*>(.*?)</pre>', dom, re.S)
    assert errors is not None and errors.group(1) == "", errors
    assert "Uncaught" not in log, [line for line in log.splitlines() if "CONSOLE" in line]


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)")
def test_html_report_renders_in_headless_chromium(failing: CampaignResult, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(html_report(failing), encoding="utf-8")
    shot = tmp_path / "report.png"
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1600", f"--screenshot={shot}",
         page.as_uri()],
        capture_output=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    dom, log = dump_dom(page, tmp_path / "profile2")
    assert "id=\"verdict\"" in dom and "FAIL" in dom
    _no_script_errors(dom, log)


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)")
def test_html_filters_and_links_work_in_headless_chromium(failing_any: CampaignOutcome, tmp_path: Path) -> None:
    """A script appended to the page uses the filters and a link as a person would, and records what shows."""
    violations = list(enumerate(failing_any.verdict.violations, 1))
    counts = failing_any.verdict.counts()
    kind = max((k for k in counts if any(v.kind == k and v.resource for _, v in violations)), key=counts.__getitem__)
    other = next(v for _, v in violations if v.kind != kind and v.resource)
    assert other.resource is not None
    number, linked = next((n, v) for n, v in violations if v.resource and v.event_ids)
    plan = {"kind": kind, "resource": other.resource, "v": str(number), "target": f"r-{linked.resource}"}
    page = tmp_path / "report.html"
    page.write_text(html_report(failing_any).replace("</body>", _CLICKS.replace("PLAN", json.dumps(plan))),
                    encoding="utf-8")
    dom, log = dump_dom(page, tmp_path / "profile")
    _no_script_errors(dom, log)
    out = _result_of(dom)
    total = sum(min(100, n) for n in counts.values())
    assert out["filters_shown"] and out["all"] == total and out["cleared"] == total and out["cleared_hash"] == ""
    assert out["kind"]["rows"] == [kind] * min(100, counts[kind])
    assert set(out["kind"]["timelines"]) == {f"r-{v.resource}" for _, v in violations if v.kind == kind and v.resource}
    assert out["kind"]["hash"] == f"#kind={kind}"
    shown = [v for k in counts for v in [v for _, v in violations if v.kind == k][:100]]
    assert sorted(out["resource"]["rows"]) == sorted(
        v.resource for v in shown if v.resource and other.resource in v.resource)
    assert out["resource"]["timelines"] and all(other.resource in t for t in out["resource"]["timelines"])
    assert out["link"]["open"] and out["link"]["hash"] == f"#r-{linked.resource}"
    assert sorted(out["link"]["focus"]) == sorted(f"e-{e}" for e in linked.event_ids)


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)")
def test_html_filter_from_the_fragment(failing: CampaignResult, tmp_path: Path) -> None:
    """``report.html#kind=...`` opens filtered: a filtered view can be shared as a link."""
    page = tmp_path / "report.html"
    page.write_text(html_report(failing), encoding="utf-8")
    dom, log = dump_dom(page, tmp_path / "profile", fragment="kind=stale_applied")
    _no_script_errors(dom, log)
    rows = [a for t, a in _parse(dom).tags if t == "tr" and a.get("class") == "violation"]
    visible = [a["data-kind"] for a in rows if "hidden" not in a]
    assert visible == ["stale_applied"] * failing.verdict.counts()["stale_applied"]
    assert len(rows) > len(visible)
