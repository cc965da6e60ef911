"""The built-in observers read the observation contract out of a sink's bodies, a SQL query's rows and log
lines; every bad option is a usage error naming the fix (CLI exit 2, one line)."""

from __future__ import annotations

import os
import sqlite3
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import httpx
import pytest

from akeneo_events_testkit.errors import InvalidObservation, KitError, UsageError
from akeneo_events_testkit.judging.observation import parse_observation
from akeneo_events_testkit.observers import LogObserver, Sink, SqlObserver, parse_sink_map

from ..support.cli import cli
from ..support.observed import PATTERN, QUERY, SECRET, observed_receiver

MAP = "event_id=/event/id,uuid=/product/uuid,code=/model/code,removed=/deleted,data=/product"


def test_a_sink_builds_the_contract_from_what_it_was_forwarded() -> None:
    with Sink(MAP) as sink:
        assert sink.url.startswith("http://127.0.0.1:")
        bodies = [{"event": {"id": "e1"}, "product": {"uuid": "u1", "enabled": True}},
                  [{"event": {"id": "e2"}, "model": {"code": "m1"}},  # an array: one record per item
                   {"event": {"id": "e3"}, "product": {"uuid": "u1"}, "deleted": True}],
                  {"event": {"id": "e1"}, "product": {"uuid": "u1", "enabled": False}}]
        for body in bodies:
            assert httpx.post(sink.url + "any/path", json=body, trust_env=False).status_code == 204
        observation = sink.observation()
    assert observation["applied"] == ["e1", "e2", "e3", "e1"]
    assert observation["resources"] == {
        "product:u1": {"event_id": "e1", "removed": False, "data": {"uuid": "u1", "enabled": False}},
        "product_model:m1": {"event_id": "e2", "removed": False},  # /product absent: no data claimed
    }
    assert parse_observation(observation).resources["product:u1"].has_data


def test_a_sink_names_a_body_it_cannot_read() -> None:
    with Sink("event_id=/id,identifier=/sku") as sink:
        httpx.post(sink.url, json={"sku": "A-1"}, trust_env=False)
        with pytest.raises(InvalidObservation, match=r"sink body 1: no event id at /id \(got nothing\); fix "
                                                     "--sink-map event_id="):
            sink.observation()
        sink.reset()
        assert httpx.post(sink.url, content=b"not json", trust_env=False).status_code == 400
        with pytest.raises(InvalidObservation, match="cannot read: a POST to / is not JSON"):
            sink.observation()


@pytest.mark.parametrize(("spec", "message"), [
    ("uuid=/p/uuid", "--sink-map needs event_id=POINTER"),
    ("event_id=/id", "--sink-map needs the resource: one of key=POINTER"),
    ("event_id=/id,sku=/sku", "--sink-map: unknown name 'sku'; use event_id, key, uuid"),
    ("event_id=id,uuid=/u", "--sink-map event_id=id: a JSON pointer starts with /"),
    ("event_id", "--sink-map 'event_id': write NAME=/json/pointer"),
])
def test_a_bad_sink_map_names_the_fix(spec: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_sink_map(spec)
    assert str(caught.value).startswith(message)


def test_json_pointers_unescape_and_index() -> None:
    with Sink({"event_id": "/a~1b/0", "key": "/k~0"}) as sink:
        httpx.post(sink.url, json={"a/b": ["e9"], "k~": "product:x"}, trust_env=False)
        assert sink.observation()["applied"] == ["e9"]


def _table(path: Path, rows: list[tuple[str, str, int, str | None]]) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE applications (seq INTEGER PRIMARY KEY, event_id TEXT, resource_key TEXT, "
                     "removed INTEGER, data TEXT)")
        conn.executemany("INSERT INTO applications (event_id, resource_key, removed, data) VALUES (?, ?, ?, ?)",
                         rows)
    conn.close()


def test_a_sql_query_gives_the_applications_in_order(tmp_path: Path) -> None:
    _table(tmp_path / "r.db", [("e1", "product:u1", 0, '{"enabled": true}'), ("e2", "product:u1", 1, None)])
    observer = SqlObserver(f"sqlite:{tmp_path / 'r.db'}",
                           "SELECT event_id, resource_key, removed, data FROM applications ORDER BY seq")
    assert observer.observation() == {"applied": ["e1", "e2"],
                                      "resources": {"product:u1": {"event_id": "e2", "removed": True, "data": None}}}
    by_uuid = SqlObserver(f"sqlite:{tmp_path / 'r.db'}", "SELECT event_id, substr(resource_key, 9) AS uuid, "
                                                         "removed FROM applications ORDER BY seq")
    assert list(by_uuid.observation()["resources"]) == ["product:u1"]


def test_sql_mistakes_name_the_fix(tmp_path: Path) -> None:
    _table(tmp_path / "r.db", [])
    with pytest.raises(UsageError, match=r"--query returns event_id, resource_key; it needs removed \(name the"):
        SqlObserver(f"sqlite:{tmp_path / 'r.db'}", "SELECT event_id, resource_key FROM applications").observation()
    with pytest.raises(UsageError, match="--query failed on .*: no such table: nope; it must be a SELECT"):
        SqlObserver(f"sqlite:{tmp_path / 'r.db'}", "SELECT * FROM nope").observation()
    with pytest.raises(KitError, match="no SQLite database at .*missing.db; give the file the receiver writes"):
        SqlObserver(f"sqlite:{tmp_path / 'missing.db'}", QUERY).observation()
    with pytest.raises(UsageError, match="give sqlite:PATH or a postgresql://USER@HOST/DB URL"):
        SqlObserver("mysql://x", QUERY)


def test_postgresql_without_psycopg_says_what_to_install() -> None:
    try:
        import psycopg  # type: ignore[import-not-found, unused-ignore]  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("psycopg is installed: the PostgreSQL observer is tested against a real server "
                    "(tests/observers/test_observed_receivers.py)")
    with pytest.raises(UsageError, match=r"needs psycopg: pip install 'akeneo-events-testkit\[postgres\]'"):
        SqlObserver("postgresql://kit@127.0.0.1/receiver", QUERY).observation()


def test_a_log_counts_the_complete_lines_written_since_it_was_created(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    log.write_text("applied old product:earlier-run\n")
    observer = LogObserver(PATTERN, log)
    with log.open("a") as file:
        file.write("GET /health 200\napplied e1 product:u1\napplied e2 product_model:m removed\napplied e3 pro")
    assert observer.observation() == {"applied": ["e1", "e2"], "resources": {
        "product:u1": {"event_id": "e1", "removed": False}, "product_model:m": {"event_id": "e2", "removed": True}}}
    observer.feed("applied e4 product:u2\n")
    assert observer.observation()["applied"] == ["e1", "e2", "e4"]
    assert LogObserver(PATTERN, log, from_start=True).observation()["applied"][0] == "old"
    data = LogObserver(r"(?P<event_id>\w+) (?P<uuid>\w+) (?P<data>\{.*\})")
    data.feed('e5 u5 {"enabled": false}')
    assert data.observation()["resources"] == {"product:u5": {"event_id": "e5", "removed": False,
                                                              "data": {"enabled": False}}}


@pytest.mark.parametrize(("pattern", "message"), [
    ("(?P<event_id>", "--pattern is not a regular expression"),
    (r"(?P<key>\S+)", r"--pattern needs the named group(s) (?P<event_id>...)"),
    (r"(?P<event_id>\S+)", r"--pattern needs the named group(s) (?P<key (or uuid, identifier, code)>...)"),
    (r"(?P<event_id>\S+) (?P<key>\S+) (?P<when>\S+)", "--pattern: unknown group(s) when"),
])
def test_a_bad_pattern_names_the_fix(pattern: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        LogObserver(pattern)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(("args", "message"), [
    (["--sink"], "error: --sink needs --sink-map: where each forwarded body holds the event id"),
    (["--sink-map", "event_id=/id,uuid=/u"], "error: --sink-map needs --sink [PORT]"),
    (["--observe-sql", "sqlite:x.db"], "error: --observe-sql needs --query: the SELECT returning each application"),
    (["--query", QUERY], "error: --query needs --observe-sql"),
    (["--observe-log", "x.log"], "error: --observe-log needs --pattern: a regular expression with the groups"),
    (["--state-url", "http://127.0.0.1:9/state", "--observe-log", "x.log", "--pattern", PATTERN],
     "error: --state-url and --observe-log: choose one way to observe the receiver"),
    (["--sink", "70000", "--sink-map", "event_id=/id,uuid=/u"],
     "argument --sink: 70000 is not a port: pass 0 to 65535"),
])
def test_observer_options_misused_exit_2_naming_the_fix(args: list[str], message: str) -> None:
    done = cli("fuzz", "--url", "http://127.0.0.1:9/webhook", *args, "--events", "5", env={"AKENEO_EVENTS_SECRET": "s"})
    assert done.returncode == 2
    assert message in done.stderr, done.stderr


def test_an_observer_needs_the_url_of_the_receiver_it_observes() -> None:
    done = cli("fuzz", "--observe-log", "x.log", "--pattern", PATTERN, "--events", "5")
    assert done.returncode == 2
    assert "pass --url with --observe-log: the webhook URL of the receiver it observes" in done.stderr


def _plugin_args() -> list[str]:
    registered = any(ep.name == "akeneo_events" for ep in entry_points(group="pytest11"))
    return [] if registered else ["-p", "akeneo_events_testkit.pytest_plugin"]


def test_akeneo_check_takes_an_observer_object(pytester: pytest.Pytester, tmp_path: Path) -> None:
    database = tmp_path / "receiver.db"
    pytester.makepyfile(textwrap.dedent(f"""
        import os
        from akeneo_events_testkit import SqlObserver

        def test_receiver(akeneo_check):
            observer = SqlObserver("sqlite:" + os.environ["RECEIVER_DB"], {QUERY!r})
            result = akeneo_check(os.environ["RECEIVER_URL"], observe=observer, secret={SECRET!r}, events=150)
            assert result.passed
            assert len(observer.observation()["applied"]) > 50
    """))
    with observed_receiver("--database", str(database)) as url:
        os.environ.update(RECEIVER_URL=url, RECEIVER_DB=str(database))
        try:
            result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:benchmark", *_plugin_args())
        finally:
            del os.environ["RECEIVER_URL"], os.environ["RECEIVER_DB"]
    result.assert_outcomes(passed=1)
