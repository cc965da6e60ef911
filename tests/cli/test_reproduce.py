"""Reproduce lines that reproduce (issue 15, item 4): the line a run prints, parsed by the CLI's own parser,
gives the same config and run options; URLs are the real ones, secrets only environment variables, and an
Event Platform failure prints the line once."""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
from typing import Any

import pytest

from akeneo_events_testkit.cli import build_parser
from akeneo_events_testkit.cli.run import campaign_config
from akeneo_events_testkit.credentials import OLD_SECRET_ENV, SECRET_ENV
from akeneo_events_testkit.profiles import profile_of
from akeneo_events_testkit.receiver import ReferenceReceiver
from akeneo_events_testkit.restapi import RestApi

from ..support.paths import ROOT
from ..support.servers import uvicorn_thread

RUGS = str(ROOT / "examples" / "catalog-rugs.json")
URLS = ["--url", "http://127.0.0.1:9/hooks/akeneo?tenant=a b", "--state-url", "http://127.0.0.1:9/_state"]

MATRIX = [
    [],
    ["--seed", "7", "--events", "40", "--profile", "7.0", "--uuid-mode", "--strict", "--faults", "chaos",
     "--start", "1800000000", "--no-probes", "--catalog", RUGS, "--scope", "kind=product"],
    ["--profile", "5.0", "--faults", "reorder=0.3,duplicate=0.1", "--design", "refetch", "--rest-lag", "2.5",
     "--rest-latency", "0.2", *URLS],
    ["--rest-api", "--scope", "identifier=RUG-*", "--scope", "kind=product", "--start", "2026-01-01T00:00:00Z",
     *URLS],
    ["--profile", "event-platform"],
    ["--profile", "event-platform", "--client-id", "", "--delta", "0.75", "--rotation", "both", "--keep-going",
     "--in-flight", "1", "--start", "1700000123", *URLS],
    ["--profile", "event-platform", "--client-id", "erp_1", "--scope", "type=product.updated.delta", "--scope",
     "attribute=price", "--rest-api", "--rest-latency", "0.05", "--faults", "none", "--no-probes", "--catalog",
     RUGS, "--seed", "11", "--events", "33", "--design", "refetch"],
    ["--profile", "event-platform", "--rotation", "old", "--delta", "0", "--faults", "chaos", "--types",
     "product.*,category.*"],
    ["--url", "http://127.0.0.1:8001/webhook", "--url", "http://127.0.0.1:8002/webhook", "--url",
     "http://127.0.0.1:8003/webhook", "--state-url", "http://127.0.0.1:8001/state", "--replica-race", "0.25"],
]


def _in_effect(args: argparse.Namespace) -> tuple[Any, ...]:
    """What changes a run, as ``cmd_fuzz`` reads it: the config, the start, the URLs and the mock REST API."""
    rest = bool(args.rest_api or args.design == "refetch")
    return (campaign_config(args, probes=not args.no_probes), args.start, args.url, args.state_url, rest,
            args.rest_lag if rest else 0.0)


def _line(args: argparse.Namespace) -> str:
    config, start, url, state_url, rest, lag = _in_effect(args)
    return profile_of(config).reproduce(config, url=url, state_url=state_url, start=start,
                                        rest_api=RestApi(lag=lag) if rest else None)


@pytest.mark.parametrize("argv", MATRIX, ids=lambda argv: " ".join(argv)[:60] or "defaults")
def test_the_reproduce_line_parses_back_into_the_same_run(argv: list[str]) -> None:
    parser = build_parser()
    given = parser.parse_args(["fuzz", *argv])
    line = _line(given)
    words = shlex.split(line)
    assert words[:2] == ["akeneo-events", "fuzz"]
    again = parser.parse_args(words[1:])
    assert _in_effect(again) == _in_effect(given)
    assert _line(again) == line  # a fixed point: printing the parsed line gives the line
    assert "STATE_URL" not in line and "URL " not in line
    if given.url:
        assert again.secret == f"${SECRET_ENV}" and f"--secret ${SECRET_ENV}" in line
        assert again.old_secret == (f"${OLD_SECRET_ENV}" if given.rotation else None)
    else:
        assert again.secret is None and again.old_secret is None


def test_the_options_that_change_a_run_are_all_in_the_matrix() -> None:
    """Every option the brief names is exercised by the round trip above, so a new one left out shows."""
    exercised = {word for argv in MATRIX for word in argv if word.startswith("--")}
    assert {"--rest-api", "--rest-lag", "--rest-latency", "--design", "--scope", "--catalog", "--client-id",
            "--start", "--delta", "--rotation", "--keep-going", "--in-flight", "--faults", "--no-probes", "--strict",
            "--uuid-mode", "--url", "--state-url", "--seed", "--events", "--profile"} <= exercised


def test_an_event_platform_failure_prints_one_reproduce_line_with_the_real_urls() -> None:
    """Over HTTP with the wrong secret (every request refused): the summary ends with one line, naming the
    state URL as given and the secrets as variables, never their values."""
    receiver = ReferenceReceiver("the-receivers-own-secret", ep_secrets=["the-receivers-own-secret"],
                                 own_client_id="magento_0000")
    with uvicorn_thread(receiver) as base:
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), SECRET_ENV: "not-the-receivers-secret-123",
               OLD_SECRET_ENV: "the-old-secret-of-the-rotation"}
        done = subprocess.run([sys.executable, "-m", "akeneo_events_testkit.cli", "fuzz", "--profile",
                               "event-platform", "--events", "30", "--rotation", "new", "--url", f"{base}/webhook",
                               "--state-url", f"{base}/state", "--start", "1700000000"],
                              capture_output=True, text=True, env=env, timeout=120, check=False)
    receiver.close()
    assert done.returncode == 1, done.stderr
    lines = re.findall(r"Reproduce with: (.*)", done.stdout)
    assert len(lines) == 1
    assert f"--url {base}/webhook --state-url {base}/state --secret ${SECRET_ENV} --old-secret ${OLD_SECRET_ENV}" \
        in lines[0] and "--rotation new" in lines[0] and "--start 1700000000" in lines[0]
    assert "not-the-receivers" not in done.stdout + done.stderr and "the-old-secret" not in done.stdout + done.stderr


def _reproduce(config: Any, args: argparse.Namespace, observed_with: list[str]) -> str:
    from akeneo_events_testkit.event_platform.campaign import reproduce_ep
    from akeneo_events_testkit.events_api.campaign import reproduce_command

    build = reproduce_ep if args.profile == "event-platform" else reproduce_command
    return build(config, url=args.url, start=args.start, observed_with=observed_with)


OBSERVED = [
    ["--sink", "8123", "--sink-map", "event_id=/event/id,uuid=/product/uuid,removed=/deleted"],
    ["--observe-sql", "postgresql://kit:pa55word@db.local:5432/receiver", "--query",
     "SELECT event_id, resource_key, removed FROM applications ORDER BY seq"],
    ["--observe-log", "receiver log.txt", "--pattern", r"applied (?P<event_id>\S+) (?P<key>\S+)"],
]


@pytest.mark.parametrize("profile", ["saas", "event-platform"])
@pytest.mark.parametrize("observe", OBSERVED, ids=lambda argv: argv[0])
def test_a_run_observed_by_a_built_in_observer_reproduces_with_the_same_observer(profile: str,
                                                                                 observe: list[str]) -> None:
    """The line names the observer's options (never a ``--state-url`` it did not have), which parse back into
    the same observer; a PostgreSQL password is left out (libpq reads ``PGPASSWORD``)."""
    parser = build_parser()
    given = parser.parse_args(["fuzz", "--profile", profile, "--url", "http://127.0.0.1:9/webhook", *observe])
    line = _reproduce(campaign_config(given, probes=True), given, _observer_words(given))
    assert "--state-url" not in line and "pa55word" not in line
    again = parser.parse_args(shlex.split(line)[1:])
    assert _observer_words(again) == _observer_words(given)
    if given.observe_sql:
        assert again.observe_sql == "postgresql://kit@db.local:5432/receiver"
    else:
        assert [word for word in observe] == _observer_words(again)


def _observer_words(args: argparse.Namespace) -> list[str]:
    from akeneo_events_testkit.judging.reproduce import observer_options
    from akeneo_events_testkit.observers import observer_from_options

    observer = observer_from_options(sink=args.sink, sink_map=args.sink_map, observe_sql=args.observe_sql,
                                     query=args.query, observe_log=args.observe_log, pattern=args.pattern)
    return observer_options(observer)


def test_a_replayed_fault_plan_is_in_the_reproduce_line(tmp_path: Any) -> None:
    """``--plan FILE`` changes the run: the line names the same file, which parses back into the same plan."""
    from akeneo_events_testkit.events_api.faults import FaultPlan

    plan = tmp_path / "plan one.json"
    FaultPlan.from_json({"faults": [{"target": 2, "kind": "drop", "params": {}}]}).save(plan)
    parser = build_parser()
    given = parser.parse_args(["fuzz", "--plan", str(plan), *URLS])
    line = _line(given)
    assert f"--plan {shlex.quote(str(plan))}" in line
    again = parser.parse_args(shlex.split(line)[1:])
    assert _in_effect(again) == _in_effect(given)
