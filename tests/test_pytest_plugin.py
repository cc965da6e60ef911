"""The pytest plugin, run the way users run it: inner pytest sessions through ``pytester`` (convention 9).

The plugin is loaded by its ``pytest11`` entry point, as for any user who installed the kit; should the entry
point be missing (kit not installed), the inner runs load it with ``-p``.
"""

from __future__ import annotations

import contextlib
import importlib
import re
import time
from importlib.metadata import entry_points

import pytest

from akeneo_events_testkit.assertions import ObservationRecorder, assert_receiver_correct
from akeneo_events_testkit.errors import ReceiverUnreachable
from akeneo_events_testkit.events_api.campaign import CampaignConfig, run_campaign
from akeneo_events_testkit.failures import ReceiverFailure, ViolationsFound
from akeneo_events_testkit.receiver import ReferenceReceiver

from .support.paths import ROOT


@pytest.fixture(scope="module", autouse=True)
def _load_what_inner_runs_use() -> None:
    """Run every kind of campaign once here, before pytester snapshots ``sys.modules``.

    pytester unloads whatever an in-process run imported. httpx imports httpcore lazily and caches its
    exception classes; a re-imported httpcore then no longer matches the cache, and a refused connection
    escapes as a raw ``httpcore.ConnectError``. With everything loaded here first, inner runs share this
    process's modules (and each saves ~1 s of imports; hypothesis's plugin imports hypothesis at the end).
    """
    importlib.import_module("hypothesis")
    run_campaign(CampaignConfig(events=5))  # the reference receiver over real HTTP: uvicorn, httpcore, anyio
    with contextlib.suppress(ReceiverUnreachable):
        run_campaign(CampaignConfig(events=5), target="http://127.0.0.1:9/webhook", secret="x",
                     state_url="http://127.0.0.1:9/state")
    receiver = ReferenceReceiver("x")
    for app in (receiver.wsgi(), receiver.asgi()):
        assert_receiver_correct(app, secret="x", observe=receiver, events=5, probes=False)
        receiver.reset()


def _plugin_args() -> list[str]:
    registered = any(ep.name == "akeneo_events" for ep in entry_points(group="pytest11"))
    return [] if registered else ["-p", "akeneo_events_testkit.pytest_plugin"]


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # pytest-benchmark warns when it sees xdist (this suite runs with -n 2), and warnings are errors here
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:benchmark", *_plugin_args(), *args)


# A receiver with the classic dedup bug, and a correct one, both in-process WSGI apps.
RECEIVERS = '''
import json
from akeneo_events_testkit import verify_request

def make_app(secret, recorder, *, dedup):
    seen = set()
    newest = {}

    def app(environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        if not verify_request(secret, environ.get("HTTP_X_AKENEO_REQUEST_TIMESTAMP"), body,
                              environ.get("HTTP_X_AKENEO_REQUEST_SIGNATURE")):
            start_response("401 Unauthorized", [])
            return [b""]
        if body:
            from akeneo_events_testkit.versions import Action, parse_event_datetime
            try:
                events = json.loads(body)["events"]
                [(e["event_id"], Action(e["action"]), parse_event_datetime(e["event_datetime"]),
                  e["data"]["resource"].items()) for e in events]
            except Exception:
                start_response("400 Bad Request", [])
                return [b""]
            for event in events:
                if dedup and event["event_id"] in seen:
                    continue
                seen.add(event["event_id"])
                key = str(event["data"]["resource"].get("uuid") or event["data"]["resource"].get("code"))
                when = parse_event_datetime(event["event_datetime"])
                if when < newest.get(key, 0):
                    continue
                newest[key] = when
                recorder.record(event)
        start_response("200 OK", [])
        return [b""]

    return app
'''


def test_fixtures_are_available_and_wired(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from akeneo_events_testkit.events_api.campaign import CampaignConfig
        from akeneo_events_testkit.events_api.pim import MockPim

        def test_fixtures(akeneo_seed, akeneo_config, akeneo_pim, akeneo_secret, akeneo_receiver,
                          akeneo_observation, akeneo_check):
            assert akeneo_seed == 0
            assert isinstance(akeneo_config, CampaignConfig) and akeneo_config.events == 200
            assert isinstance(akeneo_pim, MockPim) and (akeneo_pim.seed, akeneo_pim.events) == (0, 200)
            assert 40 <= len(akeneo_secret) <= 50 and repr(akeneo_secret) == "'[redacted]'"
            assert akeneo_receiver.url.startswith("http://127.0.0.1:") and akeneo_receiver.url.endswith("/webhook")
            assert akeneo_receiver.state_url.endswith("/state")
            assert akeneo_receiver.receiver.observation() == {"applied": [], "resources": {}}
            assert akeneo_observation() == {"applied": [], "resources": {}}

        def test_receiver_is_shared_by_the_session_and_reset(akeneo_receiver, akeneo_pim, akeneo_secret):
            result = akeneo_pim.run(akeneo_receiver.url, secret=akeneo_secret)
            assert result.requests_sent > 0 and akeneo_receiver.receiver.observation()["applied"]

        def test_next_test_sees_an_empty_receiver(akeneo_receiver):
            assert akeneo_receiver.receiver.observation()["applied"] == []
        """
    )
    run(pytester).assert_outcomes(passed=3)


def test_secret_can_be_overridden_by_the_user(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def akeneo_secret():
            return "my-receivers-own-secret"
        """
    )
    pytester.makepyfile(
        """
        def test_it(akeneo_secret, akeneo_receiver, akeneo_check):
            assert akeneo_secret == "my-receivers-own-secret"
            akeneo_check(akeneo_receiver, events=30)
        """
    )
    run(pytester).assert_outcomes(passed=1)


SHOW_SETTINGS = """
import pytest

def test_plain(akeneo_config, akeneo_seed):
    print(f"SETTINGS plain seed={akeneo_seed} profile={akeneo_config.profile} faults={akeneo_config.faults} "
          f"events={akeneo_config.events}")

@pytest.mark.akeneo_events(seed=5, profile="7.0", uuid_mode=True, events=30, probes=False, strict=True)
def test_marked(akeneo_config, akeneo_seed, akeneo_pim):
    print(f"SETTINGS marked seed={akeneo_seed} profile={akeneo_config.profile} faults={akeneo_config.faults} "
          f"events={akeneo_config.events} uuid={akeneo_pim.profile.uuid_mode} probes={akeneo_config.probes} "
          f"strict={akeneo_config.strict}")
"""


def _settings(result: pytest.RunResult) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in re.finditer(r"SETTINGS (\w+) (.*)", result.stdout.str())}


def test_marker_beats_command_line_beats_ini_beats_default(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SHOW_SETTINGS)
    marked = "seed=5 profile=7.0 faults={} events=30 uuid=True probes=False strict=True"

    default = _settings(run(pytester, "-s", "--strict-markers"))
    assert default == {"plain": "seed=0 profile=saas faults=default events=200", "marked": marked.format("default")}

    pytester.makeini("[pytest]\nakeneo_seed = 3\nakeneo_profile = 6.0\nakeneo_faults = gentle\n")
    from_ini = _settings(run(pytester, "-s"))
    assert from_ini == {"plain": "seed=3 profile=6.0 faults=gentle events=200", "marked": marked.format("gentle")}

    from_cli = _settings(run(pytester, "-s", "--akeneo-seed", "9", "--akeneo-faults", "drop=0.5,reorder=0.1"))
    assert from_cli["plain"] == "seed=9 profile=6.0 faults=drop=0.5,reorder=0.1 events=200"
    assert from_cli["marked"] == marked.format("drop=0.5,reorder=0.1")


def test_marker_on_a_class_merges_with_the_function_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.akeneo_events(profile="5.0")

        @pytest.mark.akeneo_events(seed=2, faults="none")
        class TestGroup:
            @pytest.mark.akeneo_events(seed=8)
            def test_it(self, akeneo_config):
                assert (akeneo_config.seed, akeneo_config.faults, akeneo_config.profile) == (8, "none", "5.0")
        """
    )
    run(pytester).assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("sede=3", "unknown argument(s) sede; valid ones are seed, events, faults, profile, uuid_mode, probes, "
                   "strict"),
        ("profile='9.9'", "profile='9.9' is not valid; profile takes 5.0, 6.0, 7.0, saas or event-platform"),
        ("faults='drop=2'", "faults='drop=2' is not valid (drop=2: a probability is between 0 and 1)"),
        ("seed=-1", "seed=-1 is not valid; seed takes an integer >= 0"),
        ("events=0", "events=0 is not valid; events takes an integer >= 1"),
        ("probes='yes'", "probes='yes' is not valid; probes takes True or False"),
        ("profile='6.0', uuid_mode=True", "profile 6.0 has no UUID mode"),
        ("3", "keyword arguments only (seed, events, faults, profile, uuid_mode, probes, strict, delta, "
              "client_id, keep_going, types, design, catalog, rest_latency, scope, receiver_cmd, crashes, "
              "listen_timeout), got (3,)"),
        ("profile='event-platform', types='nothing.*'", "types='nothing.*' is not valid (--types: 'nothing.*' "
                                                          "matches no event type"),
        ("scope='colour=red'", "scope='colour=red' is not valid (--scope 'colour=red': use CRITERION=VALUE"),
    ],
)
def test_invalid_marker_fails_at_collection(pytester: pytest.Pytester, marker: str, message: str) -> None:
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.akeneo_events({marker})
        def test_bad(akeneo_config):
            raise AssertionError("never runs")

        def test_other():
            pass
        """
    )
    result = run(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ERROR collecting test_invalid_marker_fails_at_collection.py*"])
    assert "test_invalid_marker_fails_at_collection.py::test_bad: @pytest.mark.akeneo_events: " in result.stdout.str()
    assert message in result.stdout.str()
    assert "never runs" not in result.stdout.str()


@pytest.mark.parametrize(
    ("args", "ini", "message"),
    [
        (["--akeneo-profile", "8.0"], "",
         "--akeneo-profile='8.0' is not valid; profile takes 5.0, 6.0, 7.0, saas or event-platform"),
        (["--akeneo-faults", "bogus=1"], "", "--akeneo-faults='bogus=1' is not valid (bogus=1: unknown fault kind "
                                             "'bogus': use one of reorder, duplicate, drop, delay)"),
        (["--akeneo-seed", "x"], "", "--akeneo-seed='x': the seed must be an integer >= 0"),
        ([], "akeneo_profile = serenity-ish", "ini key akeneo_profile='serenity-ish' is not valid; profile takes 5.0"),
    ],
)
def test_invalid_options_are_usage_errors(
    pytester: pytest.Pytester, args: list[str], ini: str, message: str
) -> None:
    pytester.makepyfile("def test_nothing():\n    pass\n")
    if ini:
        pytester.makeini(f"[pytest]\n{ini}\n")
    result = run(pytester, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"ERROR: {message}" in result.stderr.str()


def test_marker_is_registered_for_strict_markers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.akeneo_events(seed=1)
        def test_ok():
            pass
        """
    )
    run(pytester, "--strict-markers").assert_outcomes(passed=1)
    assert ("akeneo_events(seed=..., events=..., faults=..., profile=..., uuid_mode=..., probes=..., strict=..., "
            "delta=..., client_id=..., keep_going=..., types=..., design=..., "
            "catalog=..., rest_latency=..., scope=..., receiver_cmd=..., crashes=..., listen_timeout=...)"
            ) in run(pytester, "--markers").stdout.str()


def test_the_marker_takes_a_scope(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.akeneo_events(scope="family=shoes kind=product")
        def test_it(akeneo_config):
            assert akeneo_config.scope.describe() == "kind=product family=shoes"
        """
    )
    run(pytester).assert_outcomes(passed=1)


def test_buggy_receiver_fails_with_the_failure_anatomy(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(receivers=RECEIVERS)
    pytester.makepyfile(
        test_buggy="""
        import pytest
        from receivers import make_app

        @pytest.mark.akeneo_events(events=120)
        def test_dedup(akeneo_check, akeneo_secret, akeneo_observation):
            with open("secret.txt", "w") as file:
                file.write(str(akeneo_secret))
            akeneo_check(make_app(akeneo_secret, akeneo_observation, dedup=False), observe=akeneo_observation)
        """
    )
    result = run(pytester, "--akeneo-seed", "4", "--akeneo-faults", "duplicate=0.4", "-l", "--tb=long")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    result.stdout.fnmatch_lines([
        "E   *ViolationsFound: Receiver app (in-process) mishandled the PIM's traffic (seed 4, 120 events, "
        "profile saas, faults duplicate=0.4)",
        "E *error(s), 0 warning(s): duplicate_applied x*",
        "E *1. [[]error] duplicate_applied: event * was applied more than once",
        "E *expected: applied at most once",
        "E *received: applied again",
        "E *witness (requests in send order):",
        "E *#* -> 200 *faults=*",
        "E *Reproduce with: pytest 'test_buggy.py::test_dedup' --akeneo-seed 4 --akeneo-faults duplicate=0.4  "
        "# or, with the receiver served over HTTP: akeneo-events fuzz --seed 4 --events 120 --profile saas "
        "--faults duplicate=0.4 --url URL --state-url STATE_URL --secret $AKENEO_EVENTS_SECRET",
        "*- akeneo-events: seed 4 -*",
        "seed 4 (events 120, profile saas, faults duplicate=0.4)",
        "Reproduce with: pytest 'test_buggy.py::test_dedup' --akeneo-seed 4 --akeneo-faults duplicate=0.4",
    ])
    secret = (pytester.path / "secret.txt").read_text()
    assert len(secret) > 40 and secret not in out
    assert "[redacted]" in out  # --showlocals shows the fixture's repr


def test_correct_receivers_pass(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(receivers=RECEIVERS)
    pytester.makepyfile(
        test_correct="""
        import pytest
        from receivers import make_app
        from akeneo_events_testkit.receiver import ReferenceReceiver

        @pytest.mark.akeneo_events(events=150)
        def test_hand_written_wsgi(akeneo_check, akeneo_secret, akeneo_observation):
            result = akeneo_check(make_app(akeneo_secret, akeneo_observation, dedup=True), observe=akeneo_observation)
            assert result.passed and result.verdict.stats["requests"] > 10

        @pytest.mark.akeneo_events(events=150, profile="6.0", faults="chaos")
        def test_reference_over_http(akeneo_check, akeneo_receiver):
            assert akeneo_check(akeneo_receiver).passed

        @pytest.mark.akeneo_events(events=150, seed=11)
        def test_reference_asgi_in_process(akeneo_check, akeneo_secret):
            receiver = ReferenceReceiver(str(akeneo_secret))
            akeneo_check(receiver.asgi(), observe=receiver, path="/webhook")
        """
    )
    run(pytester).assert_outcomes(passed=3)


def test_exceptions_inside_servers_fail_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        def crashing_app(environ, start_response):
            raise RuntimeError("kaboom in the handler")

        @pytest.mark.akeneo_events(events=5, probes=False)
        def test_wsgi_app_crash(akeneo_pim, akeneo_secret):
            assert akeneo_pim.run(crashing_app, secret=akeneo_secret).requests_sent > 0  # only 500s seen here

        @pytest.mark.akeneo_events(events=5, probes=False)
        def test_reference_receiver_bug(akeneo_pim, akeneo_secret, akeneo_receiver, monkeypatch):
            def broken_apply(items):
                raise ZeroDivisionError("bug in apply")
            monkeypatch.setattr(akeneo_receiver.receiver, "_apply", broken_apply)
            akeneo_pim.run(akeneo_receiver.url, secret=akeneo_secret)

        def test_server_thread_death_is_reported(akeneo_receiver):
            akeneo_receiver.server.thread_error = OSError("the server thread died")

        def test_next_test_gets_a_working_receiver(akeneo_check, akeneo_receiver):
            akeneo_check(akeneo_receiver, events=40)
        """
    )
    result = run(pytester, "-p", "no:logging")
    result.assert_outcomes(passed=4, errors=3)
    result.stdout.fnmatch_lines([
        "*_ ERROR at teardown of test_wsgi_app_crash _*",
        "akeneo_events_testkit.failures.ReceiverServerError: * exception(s) raised inside the in-process receiver "
        "app; the PIM only saw HTTP 500 or a broken connection",
        "First exception:",
        "Traceback (most recent call last):",
        '*raise RuntimeError("kaboom in the handler")',
        "RuntimeError: kaboom in the handler",
        "*- akeneo-events: seed 0 -*",
        "*_ ERROR at teardown of test_reference_receiver_bug _*",
        "akeneo_events_testkit.failures.ReceiverServerError: * exception(s) raised inside the reference receiver's "
        "server at http://127.0.0.1:*",
        "ZeroDivisionError: bug in apply",
        "*_ ERROR at teardown of test_server_thread_death_is_reported _*",
        "OSError: the server thread died",
    ])


def test_unreachable_receiver_and_bad_state_are_clear_errors_not_hangs(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import re
        import socket
        import pytest
        from akeneo_events_testkit.errors import KitError, ReceiverUnreachable, UsageError
        from akeneo_events_testkit.errors import InvalidObservation

        def free_port():
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                return sock.getsockname()[1]

        def test_nothing_listens(akeneo_check):
            url = f"http://127.0.0.1:{free_port()}"
            with pytest.raises(ReceiverUnreachable, match="nothing answers at http://127.0.0.1:.*/webhook"):
                akeneo_check(url + "/webhook", state_url=url + "/state")

        @pytest.mark.akeneo_events(events=10)
        def test_state_url_answers_404(akeneo_check, akeneo_receiver):
            with pytest.raises(KitError, match="answered HTTP 404; it must answer 200 with the observation JSON"):
                akeneo_check(akeneo_receiver.url, state_url=akeneo_receiver.url + "/nope")

        @pytest.mark.akeneo_events(events=10)
        def test_observation_is_garbage(akeneo_check, akeneo_receiver):
            with pytest.raises(InvalidObservation, match='"applied" must be a list of event_id strings'):
                akeneo_check(akeneo_receiver, observe=lambda: {"applied": "everything"})

        def test_missing_observation_names_the_fix(akeneo_check):
            with pytest.raises(UsageError, match="pass observe="):
                akeneo_check(lambda environ, start_response: [])

        def test_bad_override_names_the_valid_ones(akeneo_check, akeneo_receiver):
            message = "akeneo_check(): unknown argument(s) seeds; valid ones are seed"
            with pytest.raises(UsageError, match=re.escape(message)):
                akeneo_check(akeneo_receiver, seeds=3)

        def test_kit_errors_show_the_message_not_the_kit(akeneo_check):
            akeneo_check("http://127.0.0.1:9/webhook", state_url="http://127.0.0.1:9/state")
        """
    )
    started = time.monotonic()
    result = run(pytester)
    assert time.monotonic() - started < 20
    result.assert_outcomes(passed=5, failed=1)
    out = result.stdout.str()
    assert "E       akeneo_events_testkit.errors.ReceiverUnreachable: nothing answers at http://127.0.0.1:9/webhook: " \
        "start the receiver, or check the URL" in out
    assert "campaign.py" not in out  # the kit's own frames are not the story


def test_assert_receiver_correct_outside_pytest_fixtures() -> None:
    receiver = ReferenceReceiver("s3cret-value")
    result = assert_receiver_correct(receiver.wsgi(), secret="s3cret-value", observe=receiver, events=80, seed=2)
    assert result.passed

    recorder = ObservationRecorder()

    def accept_everything(environ: dict[str, object], start_response: object) -> list[bytes]:
        start_response("200 OK", [])  # type: ignore[operator]
        return [b""]

    with pytest.raises(ViolationsFound) as caught:
        assert_receiver_correct(accept_everything, secret="s3cret-value", observe=recorder, events=40)
    assert isinstance(caught.value, ReceiverFailure) and isinstance(caught.value, AssertionError)
    message = str(caught.value)
    assert "forged_accepted" in message and "event_lost" in message
    assert len(caught.value.verdict.violations) > 20  # more than the anatomy prints: it says where the rest are
    assert "more (the exception's .verdict.violations holds them all; --report FILE.json on the fuzz line " \
        "writes them)" in message and "(write them all with --report FILE.json)" not in message
    assert message.splitlines()[-1] == (
        "Reproduce with: akeneo-events fuzz --seed 0 --events 40 --profile saas --faults default --url URL "
        "--state-url STATE_URL --secret $AKENEO_EVENTS_SECRET"
    )
    assert "s3cret-value" not in message


def test_observation_sources_take_what_users_have() -> None:
    from akeneo_events_testkit.assertions import observation_source
    from akeneo_events_testkit.errors import UsageError

    document = {"applied": ["e1"], "resources": {"product:p": {"event_id": "e1", "removed": False}}}
    live = {"applied": [], "resources": {}}
    read_live = observation_source(live)
    snapshot = read_live()
    live["applied"].append("e1")
    assert snapshot == {"applied": [], "resources": {}}  # a snapshot, not the live object
    assert observation_source(lambda: document)() == document
    assert observation_source(lambda: '{"applied": ["e1"]}')() == {"applied": ["e1"]}
    assert observation_source(lambda: b'{"applied": []}')() == {"applied": []}
    assert observation_source(lambda: "not json")() == "not json"  # parse_observation names the contract
    with pytest.raises(UsageError, match="pass a callable returning the observation"):
        observation_source(42)

    recorder = ObservationRecorder()
    recorder.record({"action": "product.removed", "event_id": "e2", "data": {"resource": {"uuid": "u1"}}})
    recorder.record({"action": "product_model.updated", "event_id": "e3", "data": {"resource": {"code": "m"}}})
    assert observation_source(recorder)() == {
        "applied": ["e2", "e3"],
        "resources": {"product:u1": {"event_id": "e2", "removed": True},
                      "product_model:m": {"event_id": "e3", "removed": False}},
    }
    with pytest.raises(UsageError, match="record.. takes one decoded event"):
        recorder.record({"action": "product.exploded"})


def test_in_process_wsgi_apps_see_non_ascii_headers_as_latin_1() -> None:
    """PEP 3333: the probe's non-ASCII signature reaches the app (a receiver answers 401, not a false 500)."""
    import httpx

    from akeneo_events_testkit.assertions import AppErrorGuard

    seen: dict[str, str] = {}

    def app(environ: dict[str, str], start_response: object) -> list[bytes]:
        seen.update(signature=environ["HTTP_X_AKENEO_REQUEST_SIGNATURE"], path=environ["PATH_INFO"])
        start_response("401 Unauthorized", [("Content-Type", "text/plain")])  # type: ignore[operator]
        return [b"no"]

    guard = AppErrorGuard()
    transport = guard.wrap(app, path="/webhook")
    assert isinstance(transport, httpx.BaseTransport)
    request = httpx.Request("POST", "http://receiver.invalid/", content=b"{}",
                            headers=[(b"X-Akeneo-Request-Signature", "abé".encode())])
    response = transport.handle_request(request)
    assert (response.status_code, response.read()) == (401, b"no")
    assert seen == {"signature": "abé".encode().decode("latin-1"), "path": "/webhook"}
    assert guard.errors == []


REFETCHER = '''
import json

import httpx
import pytest

from akeneo_events_testkit import verify_request
from akeneo_events_testkit.versions import parse_event_datetime, resource_key


def make_refetcher(secret, api, *, ignore_removals=False):
    http = httpx.Client(base_url=api.base_url, timeout=5, trust_env=False)
    c = api.credentials
    token = http.post("/api/oauth/v1/token", auth=(c.client_id, c.secret),
                      json={"grant_type": "password", "username": c.username, "password": c.password}).json()
    auth = {"Authorization": "Bearer " + token["access_token"]}
    seen, applied, resources, times = set(), [], {}, {}

    def app(environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        if not verify_request(secret, environ.get("HTTP_X_AKENEO_REQUEST_TIMESTAMP"), body,
                              environ.get("HTTP_X_AKENEO_REQUEST_SIGNATURE")):
            start_response("401 Unauthorized", [])
            return [b""]
        if not body:  # the PIM's "Test" button
            start_response("200 OK", [])
            return [b""]
        try:
            events = json.loads(body)["events"]
            assert isinstance(events, list) and 0 < len(events) <= 10
            for event in events:  # the whole batch is checked before any of it is applied
                resource = event["data"]["resource"]
                assert isinstance(event["event_id"], str) and isinstance(resource.get("uuid") or resource["code"], str)
                resource_key(event["action"], resource), parse_event_datetime(event["event_datetime"])
        except Exception:
            start_response("400 Bad Request", [])
            return [b""]
        for event in events:
            if event["event_id"] in seen:
                continue
            seen.add(event["event_id"])
            key = resource_key(event["action"], event["data"]["resource"])
            when = parse_event_datetime(event["event_datetime"])
            if when < times.get(key, float("-inf")):
                continue
            times[key] = when
            resource = event["data"]["resource"]
            if event["action"].endswith(".removed"):
                if ignore_removals:
                    continue
                data = None
            elif "code" in resource:
                answer = http.get(f"/api/rest/v1/product-models/{resource['code']}", headers=auth)
                data = answer.json() if answer.status_code == 200 else None
            else:
                answer = http.get(f"/api/rest/v1/products-uuid/{resource['uuid']}", headers=auth)
                data = answer.json() if answer.status_code == 200 else None
            resources[key] = {"event_id": event["event_id"], "removed": data is None, "data": data}
            applied.append(event["event_id"])
        start_response("200 OK", [])
        return [b""]

    return app, lambda: {"applied": applied, "resources": resources}


@pytest.mark.akeneo_events(events=120)
def test_refetcher(akeneo_check, akeneo_secret, akeneo_rest_api):
    app, observe = make_refetcher(akeneo_secret, akeneo_rest_api)
    result = akeneo_check(app, observe=observe, rest_api=akeneo_rest_api)
    assert result.run.truth.content


@pytest.mark.akeneo_events(events=400)
def test_refetcher_ignoring_removals(akeneo_check, akeneo_secret, akeneo_rest_api):
    app, observe = make_refetcher(akeneo_secret, akeneo_rest_api, ignore_removals=True)
    akeneo_check(app, observe=observe, rest_api=akeneo_rest_api)


@pytest.mark.akeneo_rest_api(lag=600)
@pytest.mark.akeneo_events(events=120)
def test_refetcher_on_a_lagging_replica(akeneo_check, akeneo_secret, akeneo_rest_api):
    app, observe = make_refetcher(akeneo_secret, akeneo_rest_api)
    akeneo_check(app, observe=observe, rest_api=akeneo_rest_api)
'''


def test_akeneo_rest_api_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_refetch=REFETCHER)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "test_refetch.py")
    result.assert_outcomes(passed=1, failed=2)
    output = result.stdout.str()
    assert "FAILED test_refetch.py::test_refetcher_ignoring_removals" in output
    assert "FAILED test_refetch.py::test_refetcher_on_a_lagging_replica" in output
    assert "removal_not_propagated" in output and "stale_content" in output


# An Event Platform receiver (WSGI), correct or without deduplication on ``id``.
EP_RECEIVERS = '''
import json
from akeneo_events_testkit.event_platform.signing import verify_ep

def make_ep_app(secret, recorder, *, dedup, own_client_id="magento_0000"):
    seen = set()
    newest = {}

    def app(environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {k[5:].replace("_", "-"): v for k, v in environ.items() if k.startswith("HTTP_")}
        if not verify_ep(body, headers, [secret]):
            start_response("401 Unauthorized", [])
            return [b""]
        try:
            event = json.loads(body)
            event_id, when, author = event["id"], event["time"], event["data"].get("author") or {}
        except Exception:
            start_response("400 Bad Request", [])
            return [b""]
        if (not dedup or event_id not in seen) and event["type"].rsplit(".v1.", 1)[-1].split(".", 1)[1] in (
                "created", "updated", "updated.delta", "deleted"):
            seen.add(event_id)
            own = author.get("type") == "api" and author.get("identifier") == own_client_id
            key = (event["data"].get("product") or {}).get("uuid") or event["data"]["product_model"]["code"]
            if not own and when >= newest.get(key, ""):
                newest[key] = when
                recorder.record(event)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    return app
'''


def test_event_platform_profile_in_the_plugin(pytester: pytest.Pytester) -> None:
    """The marker and the option select the Event Platform: akeneo_config, akeneo_pim and akeneo_check follow,
    over HTTP with the session's reference receiver and in-process with a hand-written app."""
    pytester.makepyfile(ep_receivers=EP_RECEIVERS)
    pytester.makepyfile(
        test_ep="""
        import pytest
        from ep_receivers import make_ep_app
        from akeneo_events_testkit.event_platform.campaign import EpCampaignConfig

        pytestmark = pytest.mark.akeneo_events(profile="event-platform", events=120, delta=0.5)

        def test_config_and_pim(akeneo_config, akeneo_pim, akeneo_receiver):
            assert isinstance(akeneo_config, EpCampaignConfig) and akeneo_config.delta == 0.5
            truth = akeneo_pim.run(akeneo_receiver.url)
            assert len(truth.events) == 120 and truth.delivered

        @pytest.mark.akeneo_events(faults="chaos")
        def test_reference_over_http(akeneo_check, akeneo_receiver):
            result = akeneo_check(akeneo_receiver)
            assert result.passed and result.verdict.stats["delta_states_judged"] > 0

        def test_hand_written(akeneo_check, akeneo_secret, akeneo_observation):
            app = make_ep_app(str(akeneo_secret), akeneo_observation, dedup=True)
            # a receiver of products only subscribes to their types, as in production
            assert akeneo_check(app, observe=akeneo_observation, faults="duplicate=0.3",
                                types="product.*,product-model.*").passed

        def test_back_to_the_events_api(akeneo_check, akeneo_receiver):
            assert akeneo_check(akeneo_receiver, profile="saas", events=50).config.profile == "saas"

        def test_foreign_overrides_are_usage_errors(akeneo_check, akeneo_receiver):
            from akeneo_events_testkit.errors import UsageError

            with pytest.raises(UsageError, match="akeneo_check..: uuid_mode: Events API only .not the Event"):
                akeneo_check(akeneo_receiver, uuid_mode=True)
            with pytest.raises(UsageError, match="delta: Event Platform only .* use profile='event-platform'"):
                akeneo_check(akeneo_receiver, profile="saas", delta=0.5)
        """
    )
    run(pytester).assert_outcomes(passed=5)


def test_event_platform_failure_anatomy_and_rerun(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(ep_receivers=EP_RECEIVERS)
    pytester.makepyfile(
        test_ep_buggy="""
        import pytest
        from ep_receivers import make_ep_app

        @pytest.mark.akeneo_events(events=100, types="product.*,product-model.*")
        def test_dedup(akeneo_check, akeneo_secret, akeneo_observation):
            app = make_ep_app(str(akeneo_secret), akeneo_observation, dedup=False)
            akeneo_check(app, observe=akeneo_observation)
        """
    )
    result = run(pytester, "--akeneo-profile", "event-platform", "--akeneo-faults", "duplicate=0.4", "--akeneo-seed",
                 "3")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "E   *ViolationsFound: Receiver app (in-process) mishandled the Event Platform's traffic (seed 3, 100 "
        "events, profile event-platform, faults duplicate=0.4)",
        "E   *The subscription stayed active*",
        "E *duplicate_applied: event * was applied more than once",
        "E *Reproduce with: pytest 'test_ep_buggy.py::test_dedup' --akeneo-seed 3 --akeneo-faults duplicate=0.4 "
        "--akeneo-profile event-platform  # or, with the receiver served over HTTP: akeneo-events fuzz --profile "
        "event-platform --seed 3 --events 100 --faults duplicate=0.4 --types 'product.*,product-model.*' --start "
        "1700000000 --url URL --state-url STATE_URL*",
        "seed 3 (events 100, profile event-platform, faults duplicate=0.4)",
    ])


@pytest.mark.parametrize(("marker", "message"), [
    ('profile="event-platform", uuid_mode=True', "uuid_mode: Events API only (not the Event Platform), use "
                                                 "profile='saas'"),
    ('profile="saas", delta=0.5', "delta: Event Platform only (not the Events API), use profile='event-platform'"),
    ('profile="event-platform", delta=2', "delta=2 is not valid"),
])
def test_event_platform_marker_errors(pytester: pytest.Pytester, marker: str, message: str) -> None:
    pytester.makepyfile(f"""
        import pytest

        @pytest.mark.akeneo_events({marker})
        def test_bad(akeneo_config):
            pass
        """)
    result = run(pytester)
    assert result.ret != 0
    assert message in result.stdout.str()


def test_the_plugin_takes_a_catalog_from_the_marker_and_the_ini_file(pytester: pytest.Pytester) -> None:
    rugs = ROOT / "examples" / "catalog-rugs.json"
    (pytester.path / "rugs.json").write_text(rugs.read_text(encoding="utf-8"), encoding="utf-8")
    pytester.makeini("[pytest]\nakeneo_catalog = rugs.json\n")
    pytester.makepyfile(
        """
        import pytest

        def test_ini(akeneo_config, akeneo_check, akeneo_receiver):
            assert akeneo_config.catalog.endswith("rugs.json")
            result = akeneo_check(akeneo_receiver, events=40)
            assert "--catalog" in result.reproduce

        @pytest.mark.akeneo_events(profile="event-platform", catalog=None)
        def test_marker_none(akeneo_config):
            assert akeneo_config.catalog is None
        """
    )
    run(pytester).assert_outcomes(passed=2)
    pytester.makepyfile(test_bad="""
        import pytest

        @pytest.mark.akeneo_events(catalog="missing.json")
        def test_bad(akeneo_config):
            pass
        """)
    bad = run(pytester, "test_bad.py")
    bad.assert_outcomes(errors=1)
    bad.stdout.fnmatch_lines(["*catalog='missing.json' is not valid (--catalog missing.json: cannot read it*"])
    elsewhere = run(pytester, "--akeneo-catalog", "nowhere.json")
    assert elsewhere.ret == pytest.ExitCode.USAGE_ERROR
    elsewhere.stderr.fnmatch_lines(["*--akeneo-catalog=*nowhere.json* is not valid (--catalog *nowhere.json: cannot*"])


# Receivers the kit runs itself (``receiver_cmd``) and crashes: a durable store passes, one in memory fails.
CRASHED = '''
import shlex
import sys

SERVE = f"{shlex.quote(sys.executable)} -m akeneo_events_testkit.cli serve --port {{port}} --store "


def test_sqlite_survives(akeneo_check, tmp_path):
    result = akeneo_check(receiver_cmd=SERVE + f"sqlite:{tmp_path / 'r.db'}", crashes=3, events=150)
    assert len(result.verdict.stats["crashes"]) == 3


def test_memory_loses(akeneo_check):
    akeneo_check(receiver_cmd=SERVE + "memory", crashes=3, events=150)


def test_no_target(akeneo_check):
    akeneo_check()


def test_bad_command(akeneo_check):
    akeneo_check(receiver_cmd="serve --port 8000")
'''


def test_akeneo_check_runs_and_crashes_a_receiver_command(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_crashed=CRASHED)
    result = run(pytester, "test_crashed.py")
    result.assert_outcomes(passed=1, failed=3)
    output = result.stdout.str()
    assert "FAILED test_crashed.py::test_memory_loses" in output and "event_lost" in output
    assert "a crash came between its acknowledgement" in output
    assert "--receiver-cmd" in output and "--crashes 3" in output  # the reproduce line runs it again
    assert "pass the target (a URL, an app or akeneo_receiver), or receiver_cmd=" in output
    assert "has no {port}: write it where the receiver takes its port" in output
