"""The CLI as users run it: a subprocess, exact exit codes, one-line errors, never a traceback."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from ..support.cli import cli
from ..support.node import node_receiver, requires_node

SECRET_VECTOR_BODY = (
    '{"events":[{"action":"product.created","event_id":"7abae2fe-759a-4fce-aa43-f413980671b3",'
    '"event_datetime":"2020-01-01T00:00:00+00:00","author":"julia","author_type":"ui",'
    '"pim_source":"staging.akeneo.com","data":["data_1"]}]}'
)


def test_console_script_is_installed() -> None:
    import shutil

    script = shutil.which("akeneo-events")
    if script is None:
        pytest.skip("the package is not installed with pip (the console script is created by pip install)")
    assert subprocess.run([script, "--help"], capture_output=True, timeout=60).returncode == 0


@pytest.mark.parametrize("command", ["validate", "sign", "verify", "emit", "serve", "fuzz"])
def test_help_on_every_command(command: str) -> None:
    result = cli(command, "--help")
    assert result.returncode == 0 and "usage: akeneo-events" in result.stdout


def test_validate_docs_examples(reference_dir: Path) -> None:
    files = sorted(str(p) for p in (reference_dir / "docs-examples").glob("*.json"))
    assert len(files) == 12
    result = cli("validate", *files)
    assert result.returncode == 0
    assert result.stdout.splitlines() == [f"{name}: ok" for name in files]
    seven = [f for f in files if "/7.0-" in f]
    assert cli("validate", "--profile", "7.0", *seven).returncode == 0
    strict = cli("validate", "--strict", *files)
    assert strict.returncode == 1 and "quantified_associations" in strict.stdout


@pytest.mark.parametrize(("content", "fragment"), [
    (b"not json", "$: "),
    (b"\xff\xfe\x00garbage", "$: "),
    (b"", "$: "),
    (b'{"events": []}', "$.events"),
    (b'["a list"]', "$"),
    (b'{"events":[{"action":"product.exploded"}]}', "$.events[0].action"),
])
def test_validate_bad_files_one_line_each_exit_1(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "payload.json"
    path.write_bytes(content)
    result = cli("validate", str(path))
    assert result.returncode == 1
    assert all(line.startswith(f"{path}: ") for line in result.stdout.splitlines())
    assert fragment in result.stdout


def test_validate_huge_file(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    path.write_bytes(b'{"events":["' + b"x" * (11 * 1024 * 1024) + b'"]}')
    result = cli("validate", str(path))
    assert result.returncode == 1 and len(result.stdout.splitlines()) == 1


def test_validate_stdin_and_mixed_results(tmp_path: Path, reference_dir: Path) -> None:
    good = reference_dir / "docs-examples" / "serenity-product-removed.json"
    result = cli("validate", "-", stdin=good.read_bytes())
    assert result.returncode == 0 and result.stdout == "-: ok\n"
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    mixed = cli("validate", str(good), str(bad))
    assert mixed.returncode == 1 and f"{good}: ok" in mixed.stdout


def test_validate_usage_errors(tmp_path: Path) -> None:
    unknown = cli("validate", "--profile", "8.0", "x.json")
    assert unknown.returncode == 2 and "use one of 5.0, 6.0, 7.0, saas" in unknown.stderr
    missing = cli("validate", str(tmp_path / "missing.json"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_sign_and_verify(tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_bytes(SECRET_VECTOR_BODY.encode())
    expected = "ef61805e9b061b0b653144bac0e399bd5c3a85c09b53bf504466a67e42944de5"
    signed = cli("sign", "--secret", "a_secret", "--timestamp", "1577836800", str(body))
    assert signed.returncode == 0 and signed.stdout.strip() == expected
    from_env = cli("sign", "--timestamp", "1577836800", "-", stdin=body.read_bytes(),
                   env={"AKENEO_EVENTS_SECRET": "a_secret"})
    assert from_env.stdout.strip() == expected
    ok = cli("verify", "--secret", "a_secret", "--timestamp", "1577836800", "--signature", expected, str(body))
    assert ok.returncode == 0
    for garbage in (expected[:-1] + "0", "zz", "é" * 64, expected.upper()):
        bad = cli("verify", "--secret", "a_secret", "--timestamp", "1577836800", "--signature", garbage, str(body))
        assert bad.returncode == 1 and "mismatch" in bad.stdout
    assert "a_secret" not in signed.stdout + signed.stderr


def test_sign_usage_errors(tmp_path: Path) -> None:
    body = tmp_path / "b"
    body.write_bytes(b"{}")
    no_secret = cli("sign", "--timestamp", "1", str(body))
    assert no_secret.returncode == 2 and "AKENEO_EVENTS_SECRET" in no_secret.stderr
    bad_ts = cli("sign", "--secret", "s", "--timestamp", "soon", str(body))
    assert bad_ts.returncode == 2 and "not a Unix timestamp" in bad_ts.stderr


def test_sign_and_verify_event_platform(tmp_path: Path) -> None:
    """The Event Platform signs the raw body alone (event-platform-facts.md section 2): no timestamp."""
    from akeneo_events_testkit.event_platform.signing import sign_body

    body = tmp_path / "event.json"
    body.write_bytes(b'{"specversion":"1.0","id":"x"}')
    expected = sign_body("ep_secret", body.read_bytes())
    signed = cli("sign", "--profile", "event-platform", "--secret", "ep_secret", str(body))
    assert signed.returncode == 0 and signed.stdout.strip() == expected
    ok = cli("verify", "--profile", "event-platform", "--secret", "ep_secret", "--signature", expected, str(body))
    assert ok.returncode == 0 and "ok" in ok.stdout
    bad = cli("verify", "--profile", "event-platform", "--secret", "other", "--signature", expected, str(body))
    assert bad.returncode == 1 and "body and secret" in bad.stdout
    with_ts = cli("sign", "--profile", "event-platform", "--secret", "s", "--timestamp", "1", str(body))
    assert with_ts.returncode == 2 and "drop --timestamp" in with_ts.stderr
    without_ts = cli("sign", "--secret", "s", str(body))
    assert without_ts.returncode == 2 and "pass --timestamp" in without_ts.stderr


def test_emit_event_platform_to_the_reference_receiver_over_http(tmp_path: Path) -> None:
    from akeneo_events_testkit.receiver import ReceiverServer, ReferenceReceiver

    receiver = ReferenceReceiver("ep-secret", own_client_id="magento_0000")
    tape = tmp_path / "ep.jsonl"
    with ReceiverServer(receiver) as server:
        result = cli("emit", "--profile", "event-platform", "--url", server.url, "--secret", "ep-secret",
                     "--events", "40", "--faults", "duplicate=0.3", "--delta", "1", "--probes", "--record",
                     str(tape))
        applied = receiver.observation()["applied"]
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Event Platform: 40 events, ") and "probes" in result.stdout
    assert result.stdout.rstrip().endswith("the subscription stayed active")
    assert applied and len(applied) == len(set(applied))
    assert sum(1 for line in tape.read_text().splitlines() if '"type":"event"' in line) == 40
    refused = cli("emit", "--profile", "event-platform", "--url", "http://127.0.0.1:9/", "--secret", "s",
                  "--data-mode", "snapshot")
    assert refused.returncode == 2 and "--data-mode: Events API only" in refused.stderr
    refused = cli("emit", "--url", "http://127.0.0.1:9/", "--secret", "s", "--delta", "0.5")
    assert refused.returncode == 2 and "--delta: Event Platform only" in refused.stderr


def test_emit_to_a_real_server(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    plan = tmp_path / "plan.json"
    record = tmp_path / "run.jsonl"
    result = cli("emit", "--url", httpserver.url_for("/hook"), "--secret", "s3cret-value", "--seed", "3",
                 "--events", "60", "--faults", "chaos", "--save-plan", str(plan), "--record", str(record))
    assert result.returncode == 0, result.stderr
    assert "events generated" in result.stdout and "latency p50/p95/p99" in result.stdout
    assert "private network" in result.stderr  # loopback works but the real PIM would refuse it
    first = [r.get_data() for r, _ in httpserver.log]
    assert first and json.loads(plan.read_text())["faults"]
    assert "s3cret-value" not in record.read_text()
    httpserver.clear_log()
    again = cli("emit", "--url", httpserver.url_for("/hook"), "--secret", "s3cret-value", "--seed", "3",
                "--events", "60", "--plan", str(plan), "--quiet")
    assert again.returncode == 0 and again.stdout == ""
    replayed = [r.get_data() for r, _ in httpserver.log]
    assert [json.loads(b)["events"][0]["event_id"] for b in replayed] == \
        [json.loads(b)["events"][0]["event_id"] for b in first]


@pytest.mark.parametrize(("args", "message"), [
    (["--events", "-5"], "negative"),
    (["--profile", "9.9"], "use one of"),
    (["--faults", "drop=abc"], "drop=abc: not a probability"),
    (["--faults", "drop=2"], "between 0 and 1"),
])
def test_emit_invalid_options_exit_2(args: list[str], message: str) -> None:
    result = cli("emit", "--url", "http://127.0.0.1:9/hook", "--secret", "s", *args)
    assert result.returncode == 2 and message in result.stderr


def test_emit_url_without_scheme() -> None:
    result = cli("emit", "--url", "127.0.0.1:8000/hook", "--secret", "s", "--events", "1")
    assert result.returncode == 2 and "http://" in result.stderr


def test_fuzz_the_reference_receiver_with_reports(tmp_path: Path) -> None:
    report, junit = tmp_path / "r.json", tmp_path / "r.xml"
    result = cli("fuzz", "--seed", "5", "--events", "300", "--report", str(report), "--junit", str(junit))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("PASS: no violations")
    data = json.loads(report.read_text())
    assert data["verdict"] == "pass" and data["seed"] == 5 and data["profile"] == "saas"
    assert data["violations"] == [] and data["fault_plan"]["faults"]
    assert {"events_generated", "ties", "latency_p99"} <= set(data["stats"])
    suite = ET.parse(junit).getroot()
    assert suite.tag == "testsuite" and suite.get("failures") == "0"
    assert {case.get("name") for case in suite.iter("testcase")} >= {"duplicate_applied", "forged_accepted"}


def test_fuzz_output_modes() -> None:
    quiet = cli("fuzz", "--seed", "1", "--events", "80", "--quiet")
    assert quiet.returncode == 0 and quiet.stdout.strip() == "PASS: no violations"
    as_json = cli("fuzz", "--seed", "1", "--events", "80", "--json")
    assert json.loads(as_json.stdout)["verdict"] == "pass"


def test_fuzz_usage_errors() -> None:
    no_state = cli("fuzz", "--url", "http://127.0.0.1:9/hook", "--secret", "s")
    assert no_state.returncode == 2 and "--state-url" in no_state.stderr
    unreachable = cli("fuzz", "--url", "http://127.0.0.1:9/hook", "--state-url", "http://127.0.0.1:9/state",
                      "--secret", "s", "--events", "5")
    assert unreachable.returncode == 2 and "nothing answers" in unreachable.stderr


def test_fuzz_state_url_answering_garbage(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    httpserver.expect_request("/state").respond_with_data("<html>not json</html>")
    result = cli("fuzz", "--url", httpserver.url_for("/hook"), "--state-url", httpserver.url_for("/state"),
                 "--secret", "s", "--events", "20", "--no-probes")
    assert result.returncode == 2 and "observation contract" in result.stderr


def test_fuzz_fails_with_named_violations_on_a_receiver_that_ignores_everything(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    httpserver.expect_request("/state").respond_with_json({"applied": [], "resources": {}})
    result = cli("fuzz", "--url", httpserver.url_for("/hook"), "--state-url", httpserver.url_for("/state"),
                 "--secret", "s3cret-value", "--events", "50", "--seed", "2")
    assert result.returncode == 1
    assert "event_lost" in result.stdout and "forged_accepted" in result.stdout
    assert "Reproduce with: akeneo-events fuzz --seed 2 --events 50" in result.stdout
    assert "s3cret-value" not in result.stdout + result.stderr



def test_fuzz_event_platform_with_junit_and_refused_options(tmp_path: Path) -> None:
    junit = tmp_path / "ep.xml"
    result = cli("fuzz", "--profile", "event-platform", "--events", "60", "--junit", str(junit))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stayed active" in result.stdout and result.stdout.rstrip().endswith("PASS")
    names = {case.get("name") for case in ET.parse(junit).getroot().iter("testcase")}
    assert {"suspension_risk", "self_event_processed", "rotation_rejected"} <= names
    refused = cli("fuzz", "--profile", "event-platform", "--events", "5", "--plan", str(tmp_path / "p.json"))
    assert refused.returncode == 2 and "--plan: Events API only" in refused.stderr
    refused = cli("fuzz", "--events", "5", "--delta", "0.5", "--rotation", "old")
    assert refused.returncode == 2 and "--delta, --rotation: Event Platform only" in refused.stderr
    refused = cli("fuzz", "--profile", "event-platform", "--delta", "2")
    assert refused.returncode == 2 and "between 0 and 1" in refused.stderr
    refused = cli("fuzz", "--profile", "event-platform", "--url", "http://127.0.0.1:9/", "--state-url",
                  "http://127.0.0.1:9/state", "--secret", "s", "--rotation", "old")
    assert refused.returncode == 2 and "--old-secret" in refused.stderr
    nobody = cli("fuzz", "--profile", "event-platform", "--url", "http://127.0.0.1:9/", "--state-url",
                 "http://127.0.0.1:9/state", "--secret", "s", "--events", "5")
    assert nobody.returncode == 2 and "nothing answers at http://127.0.0.1:9/" in nobody.stderr
    refused = cli("fuzz", "--compare", "event-platform", "--events", "5", "--junit", str(tmp_path / "c.xml"))
    assert refused.returncode == 2 and "--junit: not with --compare" in refused.stderr


def test_fuzz_event_platform_reports_tape_and_replay_over_http(tmp_path: Path) -> None:
    """Every report of an Event Platform run, then its tape replayed to a reference receiver served over
    real HTTP by ``akeneo-events serve``, judged from its state URL."""
    from akeneo_events_testkit.cli.common import DEFAULT_DELTA
    from akeneo_events_testkit.event_platform.campaign import EpCampaignConfig

    assert EpCampaignConfig.delta == DEFAULT_DELTA
    html, tape, report = tmp_path / "ep.html", tmp_path / "ep.jsonl", tmp_path / "ep.json"
    result = cli("fuzz", "--profile", "event-platform", "--events", "80", "--delta", "0.8", "--rotation", "old",
                 "--start", "2026-06-01T00:00:00Z", "--html", str(html), "--record", str(tape), "--report",
                 str(report))
    assert result.returncode == 0, result.stdout + result.stderr
    page = html.read_text()
    assert "id='verdict'>PASS" in page and "product.updated.delta" in page and "subscription" in page
    assert json.loads(report.read_text())["rotation"] == "old"
    assert json.loads(tape.read_text().splitlines()[0])["start"] == 1780272000
    from akeneo_events_testkit.receiver import ReceiverServer, ReferenceReceiver

    receiver = ReferenceReceiver("replay-secret", own_client_id="magento_0000")
    with ReceiverServer(receiver) as server:
        replayed = cli("replay", str(tape), "--url", server.url, "--secret", "replay-secret", "--state-url",
                       server.state_url)
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "Event Platform requests" in replayed.stdout and " 0 answered differently" in replayed.stdout
    assert replayed.stdout.rstrip().endswith("PASS")


def test_compare_needs_saas() -> None:
    result = cli("fuzz", "--profile", "6.0", "--compare", "event-platform", "--events", "5")
    assert result.returncode == 2 and "--profile saas" in result.stderr


def test_start_option() -> None:
    bad = cli("emit", "--url", "http://127.0.0.1:9/h", "--secret", "s", "--start", "yesterday")
    assert bad.returncode == 2 and "ISO 8601" in bad.stderr
    from akeneo_events_testkit.cli.common import start_time as _start_time

    assert _start_time("1767225600") == _start_time("2026-01-01T00:00:00+00:00") == _start_time("2026-01-01T00:00:00Z")


def test_fuzz_design_refetch_serves_the_rest_api_and_weighs_content(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = cli("fuzz", "--design", "refetch", "--events", "40", "--seed", "2", "--report", str(report), "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "REST API" in result.stdout or "REST API" in result.stderr  # --design refetch implies --rest-api
    data = json.loads(report.read_text())
    assert data["stats"]["design"] == "refetch" and "--design refetch" in data["reproduce"]
    assert set(data["stats"]["hazards"]) == {"older_after_newer", "update_after_removal", "duplicate_after_removal",
                                             "create_after_update", "reserialisation_unstable"}
    assert data["stats"]["hazards"]["reserialisation_unstable"] > 0  # PHP's \/ and \uXXXX (facts section 3)
    bad = cli("fuzz", "--design", "re-fetch")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_keep_going_is_an_event_platform_option() -> None:
    refused = cli("fuzz", "--keep-going", "--events", "5")
    assert refused.returncode == 2 and "--keep-going: Event Platform only" in refused.stderr


@requires_node
def test_fuzz_keep_going_delivers_past_a_suspension_and_says_so(tmp_path: Path) -> None:
    """A receiver refusing all but delta events is suspended; --keep-going delivers the rest and the summary
    and the JSON report say what would have happened (the suspension still fails the run)."""
    report = tmp_path / "report.json"
    env = {"AKENEO_EP_SECRETS": "s3cret", "AKENEO_CLIENT_ID": "magento_0000"}
    with node_receiver("event_platform_old_header.js", env) as base:
        result = cli("fuzz", "--profile", "event-platform", "--url", base + "/webhook", "--state-url", base + "/state",
                     "--secret", "s3cret", "--seed", "3", "--events", "300", "--start", "1700000000", "--keep-going",
                     "--report", str(report), "--html", str(tmp_path / "report.html"))
    assert result.returncode == 1, result.stdout + result.stderr
    html = (tmp_path / "report.html").read_text()
    assert "reserialisation unstable" in html and "--keep-going delivered the" in html
    data = json.loads(report.read_text())
    suspension = data["stats"]["suspension"]
    assert suspension["enforced"] is False and suspension["delivered_after"] > 250
    assert f"--keep-going delivered the {suspension['delivered_after']} events after it, judged as if it had not " \
           "been" in result.stdout
    assert "duplicate_applied" in {v["kind"] for v in data["violations"]} and "--keep-going" in data["reproduce"]
    assert "reserialisation unstable" in result.stdout and data["stats"]["hazards"]["reserialisation_unstable"] > 0


def test_fuzz_event_platform_in_flight(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    sequential = cli("fuzz", "--profile", "event-platform", "--events", "80", "--start", "1700000000",
                     "--in-flight", "1", "--report", str(report))
    assert sequential.returncode == 0, sequential.stdout + sequential.stderr
    assert "requests in flight: one at a time (--in-flight 1)" in sequential.stdout
    data = json.loads(report.read_text())
    assert data["in_flight"] == 1 and data["stats"]["in_flight"]["requests_sent_concurrently"] == 0
    assert "--in-flight 1" in data["reproduce"]
    concurrent = cli("fuzz", "--profile", "event-platform", "--events", "80", "--start", "1700000000",
                     "--in-flight", "4", "--report", str(report))
    assert concurrent.returncode == 0, concurrent.stdout + concurrent.stderr
    stats = json.loads(report.read_text())["stats"]["in_flight"]
    assert stats["max_in_flight"] == 4 and 1 < stats["largest_group"] <= 4
    assert f"requests in flight: up to 4 at once; {stats['requests_sent_concurrently']} of" in concurrent.stdout
    refused = cli("fuzz", "--events", "5", "--in-flight", "2")
    assert refused.returncode == 2 and "--in-flight: Event Platform only" in refused.stderr
    refused = cli("fuzz", "--profile", "event-platform", "--in-flight", "0")
    assert refused.returncode == 2 and "--in-flight" in refused.stderr


def test_fuzz_names_a_wrong_secret_first_and_where_the_rest_is(httpserver: HTTPServer, tmp_path: Path) -> None:
    """Issue 15: a receiver that refuses every request with 401 gets "check the secret" before the
    violations, its answer's body shown with the secret redacted; "see the JSON report" only when one is
    written, else the option that writes it."""
    secret = "cli-summary-secret-value"
    httpserver.expect_request("/hook").respond_with_data(f"wrong signature (my secret is {secret})", status=401)
    httpserver.expect_request("/state").respond_with_json({"applied": [], "resources": {}})
    args = ("fuzz", "--url", httpserver.url_for("/hook"), "--state-url", httpserver.url_for("/state"),
            "--secret", secret, "--seed", "2", "--events", "120")
    plain = cli(*args)
    assert plain.returncode == 1, plain.stderr
    out = plain.stdout
    assert out.index("Likely causes:") < out.index("The first of each kind:")
    assert "check the secret" in out and "rejected_valid" in out
    assert 'answer body: "wrong signature (my secret is [redacted])"' in out
    assert secret not in out + plain.stderr
    assert "write them all with --report FILE.json" in out and "see the JSON report" not in out
    report = tmp_path / "run.json"
    written = cli(*args, "--report", str(report), "--junit", str(tmp_path / "run.xml"))
    assert f"see the JSON report {report}" in written.stdout
    data = json.loads(report.read_text())
    assert [d["cause"] for d in data["diagnoses"]][:1] == ["check_the_secret"]
    assert data["probe_table"] and all(row["answer"] == "HTTP 401" for row in data["probe_table"])
    suite = ET.parse(tmp_path / "run.xml").getroot()
    assert "check the secret" in (suite.findtext("system-out") or "")
    assert secret not in report.read_text() + (tmp_path / "run.xml").read_text()
