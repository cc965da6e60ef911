"""``akeneo-events serve`` as users run it, in a subprocess: both profiles on their documented paths, the
client id ``fuzz`` assumes, the README's ``--compare`` example as written, usage errors, ``--log-requests``."""

from __future__ import annotations

import json
import re
import shlex
import time
from pathlib import Path

import httpx
import pytest

from akeneo_events_testkit.event_platform.rules import DEFAULT_CLIENT_ID
from akeneo_events_testkit.events_api.wire import Delivery

from ..support.cli import Served, cli
from ..support.events import event
from ..support.paths import ROOT

SECRET = "serve-secret-0123456789"
EP_SECRET = "ep-serve-secret-0123456789"


def test_serve_then_fuzz_event_platform_on_the_documented_path_passes() -> None:
    """The defaults agree: ``serve`` drops the events of ``magento_0000``, which ``fuzz`` assumes."""
    with Served("--secret", SECRET, "--store", "memory") as served:
        assert f"{served.base_url}/ep-webhook (Event Platform" in served.first_line
        assert f"client id {DEFAULT_CLIENT_ID}" in served.first_line and SECRET not in served.first_line
        result = cli("fuzz", "--profile", "event-platform", "--url", f"{served.base_url}/ep-webhook",
                     "--state-url", f"{served.base_url}/state", "--secret", SECRET, "--events", "120")
        state = httpx.get(f"{served.base_url}/state", timeout=5).json()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "self_event_processed" not in result.stdout and state["applied"]


def test_serve_client_id_empty_applies_own_events_which_fuzz_then_flags() -> None:
    """The option is really used: a receiver told it has no own events applies them, and is caught."""
    with Served("--secret", SECRET, "--store", "memory", "--client-id", "") as served:
        assert "drops no client's events" in served.first_line
        result = cli("fuzz", "--profile", "event-platform", "--url", f"{served.base_url}/ep-webhook",
                     "--state-url", f"{served.base_url}/state", "--secret", SECRET, "--events", "120",
                     "--no-probes", "--faults", "none")
    assert result.returncode == 1 and "self_event_processed" in result.stdout


def _readme_compare_block() -> list[list[str]]:
    """The README's ``--compare`` example: its commands, continuation lines joined, comments and ``&`` cut."""
    text = (ROOT / "README.md").read_text()
    block = next(b for b in re.findall(r"```bash\n(.*?)```", text, re.S) if "--compare event-platform" in b)
    commands = []
    for line in block.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        if words and words[-1] == "&":
            words.pop()
        if words:
            commands.append(words)
    return commands


def test_readme_compare_example_passes_as_written(tmp_path: Path) -> None:
    """Both ``serve`` lines run as written (on free ports: 8000/8001 may be taken on a shared machine, so
    the URLs are rewritten to the ports they got), then the ``fuzz --compare`` line: it passes and writes
    its JSON and HTML reports."""
    commands = _readme_compare_block()
    serves = [c for c in commands if c[:2] == ["akeneo-events", "serve"]]
    (compare,) = [c for c in commands if c[:2] == ["akeneo-events", "fuzz"]]
    assert len(serves) == 2 and "/ep-webhook" in " ".join(compare)
    env = {"AKENEO_EVENTS_SECRET": SECRET, "EP_SECRET": EP_SECRET}

    def expand(words: list[str]) -> list[str]:
        return [word.replace("$EP_SECRET", EP_SECRET) for word in words]

    def without_port(words: list[str]) -> list[str]:
        index = words.index("--port")
        return words[2:index] + words[index + 2:]

    with Served(*expand(without_port(serves[0])), env=env) as old, \
            Served(*expand(without_port(serves[1])), env=env) as new:
        args = [word.replace("http://127.0.0.1:8000", old.base_url).replace("http://127.0.0.1:8001", new.base_url)
                for word in expand(compare)[1:]]
        args = [str(tmp_path / word) if word.startswith("compare.") else word for word in args]
        result = cli(*args, "--events", "120", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("PASS: 0 of ")
    report = json.loads((tmp_path / "compare.json").read_text())
    assert report["passed"] is True and report["differences"] == [] and report["stats"]["resources"] > 0
    assert "<h1 class='pass'>PASS" in (tmp_path / "compare.html").read_text()


def test_compare_puts_the_verdict_and_its_causes_first_and_groups_differences(tmp_path: Path) -> None:
    """An old receiver holding another secret (it refuses everything) and a new one applying its own events:
    the FAIL line, then both causes and the client-id hint, then the differences by kind; the reports hold
    every difference with its kind."""
    with Served("--secret", "not-" + SECRET, "--store", "memory") as old, \
            Served("--secret", EP_SECRET, "--store", "memory", "--client-id", "") as new:
        result = cli("fuzz", "--compare", "event-platform", "--events", "120", "--secret", SECRET,
                     "--url", f"{old.base_url}/webhook", "--state-url", f"{old.base_url}/state",
                     "--new-url", f"{new.base_url}/ep-webhook", "--new-state-url", f"{new.base_url}/state",
                     "--new-secret", EP_SECRET, "--report", str(tmp_path / "c.json"),
                     "--html", str(tmp_path / "c.html"))
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("FAIL: ") and " resources differ" in lines[0] and lines[1] == "Causes:"
    assert lines[2].startswith("  Events API receiver: rejected_valid x"), lines[:4]
    assert any(line.startswith("  Event Platform receiver: self_event_processed x") for line in lines[2:5])
    hint = next(i for i, line in enumerate(lines) if line.startswith("  hint: the comparison assumed client id "
                                                                        "magento_0000"))
    group = next(i for i, line in enumerate(lines) if line.startswith("missing_at_old x"))
    assert hint < group
    report = json.loads((tmp_path / "c.json").read_text())
    assert report["passed"] is False and report["differences"]
    assert {d["kind"] for d in report["differences"]} == {"missing_at_old"}
    assert report["difference_counts"] == {"missing_at_old": len(report["differences"])}
    assert lines[group] == f"missing_at_old x{len(report['differences'])}: present at the Event Platform receiver, " \
                           "removed or absent at the Events API receiver"
    page = (tmp_path / "c.html").read_text()
    assert "<h1 class='fail'>FAIL" in page and "self_event_processed" in page
    assert page.count("<tr><td>") == len(report["differences"])


@pytest.mark.parametrize(("args", "message"), [
    (["--port", "80000"], "port 80000 is not a TCP port: choose one from 0 to 65535"),
    (["--port", "0", "--store", "sqlite:/nonexistent-dir-xyz/x.db"],
     "the directory /nonexistent-dir-xyz does not exist: create it"),
])
def test_serve_usage_errors_are_one_line_exit_2(args: list[str], message: str) -> None:
    result = cli("serve", "--secret", SECRET, *args, timeout=30)
    assert result.returncode == 2 and message in result.stderr
    assert result.stderr.count("\n") == 1 and result.stdout == ""


def test_serve_store_that_is_a_directory(tmp_path: Path) -> None:
    result = cli("serve", "--secret", SECRET, "--port", "0", "--store", f"sqlite:{tmp_path}", timeout=30)
    assert result.returncode == 2 and f"{tmp_path} is a directory: name a file in it" in result.stderr


def test_serve_log_requests_prints_one_line_per_request() -> None:
    with Served("--secret", SECRET, "--store", "memory", "--log-requests") as served:
        # the served receiver reads the real clock: sign with the time now
        delivery = Delivery.build([event(identifier="a"), event(identifier="b")], secret=SECRET,
                                  timestamp=int(time.time()))
        with httpx.Client(timeout=5, trust_env=False) as client:
            applied = client.post(f"{served.base_url}/webhook", content=delivery.body, headers=list(delivery.headers))
            again = client.post(f"{served.base_url}/webhook", content=delivery.body, headers=list(delivery.headers))
            forged = client.post(f"{served.base_url}/webhook", content=b"{}", headers={
                "X-Akeneo-Request-Signature": "0" * 64, "X-Akeneo-Request-Timestamp": str(int(time.time()))})
            client.get(f"{served.base_url}/state")
        output = served.stop()
    assert (applied.status_code, again.status_code, forged.status_code) == (200, 200, 401)
    lines = output.splitlines()
    assert len(lines) == 4, output
    assert re.fullmatch(r"POST /webhook 200 events 2 \(applied 2\) \d+\.\d ms", lines[0])
    assert re.fullmatch(r"POST /webhook 200 events 2 \(duplicates 2\) \d+\.\d ms", lines[1])
    assert re.fullmatch(r"POST /webhook 401 \d+\.\d ms: the signature does not match .*", lines[2])
    assert re.fullmatch(r"GET /state 200 \d+\.\d ms", lines[3]) and SECRET not in output


def test_serve_without_log_requests_prints_only_its_first_line() -> None:
    with Served("--secret", SECRET, "--store", "memory") as served:
        httpx.get(f"{served.base_url}/state", timeout=5, trust_env=False)
        assert served.stop() == ""
