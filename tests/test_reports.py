"""JSON, JUnit and HTML reports of a campaign, checked by parsing them (and rendering, where Chromium exists)."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from akeneo_events_testkit.events_api.campaign import CampaignConfig, CampaignResult, run_campaign
from akeneo_events_testkit.events_api.oracle import VIOLATION_KINDS
from akeneo_events_testkit.receiver import MemoryStore, ReferenceReceiver
from akeneo_events_testkit.report import html_report, junit_xml
from akeneo_events_testkit.versions import resource_key


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


def test_html_report_is_self_contained_and_shows_the_timeline(failing: CampaignResult) -> None:
    page = html_report(failing)
    parsed = _parse(page)
    assert "verdict" in parsed.ids and "FAIL" in "".join(parsed.text)
    # no network: no external scripts, styles, images or fonts
    for tag, attributes in parsed.tags:
        assert tag not in ("script", "link", "img", "iframe"), tag
        assert not str(attributes.get("src") or "").startswith("http")
    rows = [a for t, a in parsed.tags if t == "tr" and a.get("class") == "violation"]
    assert len(rows) == min(200, len(failing.verdict.violations))
    flagged = {v.resource for v in failing.verdict.violations if v.resource}
    assert flagged and all(f"r-{key}" in parsed.ids for key in flagged)
    assert "fault" in page and "current" in page


def test_html_report_of_a_pass(passing: CampaignResult) -> None:
    parsed = _parse(html_report(passing))
    assert "no-violations" in parsed.ids and "PASS" in "".join(parsed.text)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


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
    dumped = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         f"--user-data-dir={tmp_path / 'profile2'}", "--dump-dom", page.as_uri()],
        capture_output=True, timeout=120, text=True,
    )
    assert "id=\"verdict\"" in dumped.stdout and "FAIL" in dumped.stdout
