"""The subscription secret never leaks: not on stdout or stderr, not in any file written, repr or error message.

The signature is the only proof of origin (events-api-facts.md sections 1 and 2), so whoever reads a CI log,
a report, a tape or a traceback must not learn the secret. Outputs may show ``[redacted]`` or the
``$AKENEO_EVENTS_SECRET`` placeholder. A distinctive secret is searched in full and by its first 12 characters.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.errors import KitError
from akeneo_events_testkit.events_api.campaign import CampaignConfig, run_campaign
from akeneo_events_testkit.events_api.pim import MockPim, Subscription
from akeneo_events_testkit.events_api.signing import sign
from akeneo_events_testkit.events_api.wire import Delivery
from akeneo_events_testkit.receiver import MemoryStore, ReceiverServer, ReferenceReceiver, SqliteStore

from .support.paths import ROOT

SECRET = "Zq81vK2wPmBx7tq0ggoc84ww80000o0ogs0ssc444w008s8kk"
FORBIDDEN = (SECRET, SECRET[:12])
ENV = "AKENEO_EVENTS_SECRET"


def assert_clean(text: str | bytes, where: str) -> None:
    blob = text if isinstance(text, bytes) else text.encode("utf-8", "replace")
    for needle in FORBIDDEN:
        assert needle.encode() not in blob, f"the secret ({needle[:4]}...) leaked in {where}"


def assert_files_clean(folder: Path) -> list[Path]:
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    for path in files:
        assert_clean(path.read_bytes(), str(path))
    return files


def cli(*args: str, cwd: Path, via_env: bool = False, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    """The CLI as users run it, the secret given by ``--secret`` or by the environment."""
    env = {key: value for key, value in os.environ.items() if key != ENV}
    env.update({"CI": "true", "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")})
    argv = list(args)
    if via_env:
        env[ENV] = SECRET
    else:
        argv += ["--secret", SECRET]
    done = subprocess.run([sys.executable, "-m", "akeneo_events_testkit.cli", *argv], cwd=cwd, env=env,
                          capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    assert_clean(done.stdout, f"stdout of {args[0]}")
    assert_clean(done.stderr, f"stderr of {args[0]}")
    assert b"Traceback" not in done.stderr, done.stderr.decode(errors="replace")
    return done


@pytest.fixture
def receiver_server(tmp_path: Path) -> Iterator[ReceiverServer]:
    store = SqliteStore(tmp_path / "served.sqlite3")
    with ReceiverServer(ReferenceReceiver(SECRET, store=store)) as server:
        yield server
    store.close()


# -- the command line ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("via_env", [False, True], ids=["option", "env"])
def test_fuzz_reports_tape_and_plan(tmp_path: Path, via_env: bool) -> None:
    out = tmp_path / "out"
    out.mkdir()
    done = cli("fuzz", "--seed", "4", "--events", "60", "--report", str(out / "report.json"), "--junit",
               str(out / "junit.xml"), "--html", str(out / "report.html"), "--record", str(out / "tape.jsonl"),
               "--save-plan", str(out / "plan.json"), cwd=tmp_path, via_env=via_env)
    assert done.returncode == 0, done.stdout.decode()
    assert {path.name for path in assert_files_clean(out)} == {"report.json", "junit.xml", "report.html",
                                                               "tape.jsonl", "plan.json"}
    assert_files_clean(tmp_path)  # nothing else written next to them carries it either
    json_done = cli("fuzz", "--seed", "4", "--events", "40", "--json", cwd=tmp_path, via_env=via_env)
    assert json_done.returncode == 0 and json_done.stdout.lstrip().startswith(b"{")


def test_fuzz_of_a_failing_url_receiver_names_the_placeholder(tmp_path: Path) -> None:
    """A receiver with another secret refuses everything: the failure anatomy and reproduce line stay clean."""
    store = MemoryStore()
    with ReceiverServer(ReferenceReceiver("some-other-secret", store=store)) as server:
        done = cli("fuzz", "--url", server.url, "--state-url", server.state_url, "--seed", "2", "--events", "40",
                   "--report", str(tmp_path / "report.json"), "--junit", str(tmp_path / "junit.xml"),
                   cwd=tmp_path)
    assert done.returncode == 1
    assert b"$AKENEO_EVENTS_SECRET" in done.stdout
    assert_files_clean(tmp_path)


@pytest.mark.parametrize("via_env", [False, True], ids=["option", "env"])
def test_emit_with_record_and_replay(receiver_server: ReceiverServer, tmp_path: Path, via_env: bool) -> None:
    tape = tmp_path / "tape.jsonl"
    emitted = cli("emit", "--url", receiver_server.url, "--seed", "1", "--events", "40", "--probes", "--record",
                  str(tape), cwd=tmp_path, via_env=via_env)
    assert emitted.returncode == 0 and tape.stat().st_size > 0
    replayed = cli("replay", str(tape), "--url", receiver_server.url, "--state-url", receiver_server.state_url,
                   cwd=tmp_path, via_env=via_env)
    assert replayed.returncode in (0, 1)
    assert_files_clean(tmp_path)


def test_fuzz_unreachable_receiver_error(tmp_path: Path) -> None:
    done = cli("fuzz", "--url", "http://127.0.0.1:9/hook", "--state-url", "http://127.0.0.1:9/state",
               "--events", "5", cwd=tmp_path)
    assert done.returncode == 2 and b"error" in done.stderr


@pytest.mark.parametrize("via_env", [False, True], ids=["option", "env"])
def test_sign_and_verify_outputs_and_errors(tmp_path: Path, via_env: bool) -> None:
    body = tmp_path / "body.json"
    body.write_bytes(b'{"events":[]}')
    signed = cli("sign", "--timestamp", "1577836800", str(body), cwd=tmp_path, via_env=via_env)
    signature = signed.stdout.decode().strip()
    assert signed.returncode == 0 and signature == sign(SECRET, 1577836800, b'{"events":[]}')
    ok = cli("verify", "--timestamp", "1577836800", "--signature", signature, str(body), cwd=tmp_path,
             via_env=via_env)
    assert ok.returncode == 0
    mismatch = cli("verify", "--timestamp", "1577836801", "--signature", signature, str(body), cwd=tmp_path,
                   via_env=via_env)
    assert mismatch.returncode == 1 and b"mismatch" in mismatch.stdout
    missing = cli("verify", "--timestamp", "1", "--signature", signature, str(tmp_path / "nope.json"),
                  cwd=tmp_path, via_env=via_env)
    assert missing.returncode == 2 and b"cannot read" in missing.stderr
    bad_ts = cli("sign", "--timestamp", "yesterday", str(body), cwd=tmp_path, via_env=via_env)
    assert bad_ts.returncode == 2 and b"timestamp" in bad_ts.stderr
    bad_profile = cli("emit", "--url", "http://127.0.0.1:9/x", "--profile", "4.0", cwd=tmp_path, via_env=via_env)
    assert bad_profile.returncode == 2


@pytest.mark.parametrize("via_env", [False, True], ids=["option", "env"])
def test_serve_output_and_store(tmp_path: Path, via_env: bool) -> None:
    env = {key: value for key, value in os.environ.items() if key != ENV}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    argv = [sys.executable, "-m", "akeneo_events_testkit.cli", "serve", "--port", "0", "--store",
            f"sqlite:{tmp_path / 'serve.sqlite3'}"]
    if via_env:
        env[ENV] = SECRET
    else:
        argv += ["--secret", SECRET]
    stdout, stderr = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        process = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 20
            while b"Receiving Akeneo events at " not in stdout.read_bytes():
                assert process.poll() is None and time.monotonic() < deadline, stderr.read_text()
                time.sleep(0.05)
            url = stdout.read_text().split(" at ", 1)[1].split(" ", 1)[0]
            delivery = next(iter(MockPim(seed=1, events=3).deliveries(secret=SECRET)))
            with httpx.Client(timeout=5, trust_env=False) as client:
                assert client.post(url, content=delivery.body, headers=list(delivery.headers)).status_code == 200
                assert client.post(url, content=b"{}", headers={"X-Akeneo-Request-Signature": "0" * 64,
                                                                "X-Akeneo-Request-Timestamp": "1"}).status_code == 401
                assert client.post(url, content=b"not json", headers=list(delivery.headers)).status_code == 401
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
    assert process.returncode == 0, stderr.read_text()
    assert_files_clean(tmp_path)  # stdout, stderr and the SQLite store (WAL included)


# -- in-process: reprs, errors, logs ------------------------------------------------------------------------


def test_reprs_never_show_the_secret(receiver_server: ReceiverServer) -> None:
    subscription = Subscription(target=receiver_server.url, secret=SECRET, name="erp")
    receiver = ReferenceReceiver(SECRET, store=MemoryStore())
    pim = MockPim(seed=1, events=5)
    delivery = next(iter(pim.deliveries(secret=SECRET)))
    for value in (subscription, receiver, receiver_server.receiver, pim, receiver_server, delivery,
                  ReferenceReceiver(SECRET.encode(), store=MemoryStore())):
        assert_clean(repr(value), f"repr({type(value).__name__})")
        assert_clean(str(value), f"str({type(value).__name__})")
    assert "[redacted]" in repr(subscription) and "[redacted]" in repr(receiver)


def test_a_campaign_result_and_its_reports_never_show_the_secret(receiver_server: ReceiverServer) -> None:
    result = run_campaign(CampaignConfig(seed=3, events=30), target=receiver_server.url, secret=SECRET,
                          state_url=receiver_server.state_url)
    assert_clean(repr(result), "repr(CampaignResult)")
    assert_clean(repr(result.report()), "the JSON report")
    assert_clean(result.failure_text(), "the failure text")
    assert_clean(repr(result.run.truth.requests), "the ground truth")


def _raises(call: Any) -> Exception:
    try:
        call()
    except Exception as exc:
        return exc
    raise AssertionError("expected an exception")


def test_error_messages_never_show_the_secret() -> None:
    url = "http://127.0.0.1:9/hook"
    same_name = [Subscription(url, SECRET, name="a"), Subscription(url, SECRET, name="a")]
    calls = [
        lambda: ReferenceReceiver(SECRET, tie_break="sideways"),
        lambda: ReferenceReceiver(SECRET, tolerance=-1),
        lambda: ReferenceReceiver(SECRET, paths=["webhook"]),
        lambda: MockPim(events=3).run("not a url", secret=SECRET),
        lambda: MockPim(events=3).run(url, secret=SECRET, subscriptions=[Subscription(url, SECRET)]),
        lambda: MockPim(events=3, profile="5.0").run(subscriptions=[Subscription(url, SECRET, uuid_mode=True)]),
        lambda: MockPim(events=3).run(subscriptions=same_name),
        lambda: Delivery.build([], secret=SECRET, timestamp=1),
        lambda: run_campaign(CampaignConfig(events=5), target=url, secret=SECRET, state_url=url),
        lambda: sign(SECRET, 1, object()),  # type: ignore[arg-type]
    ]
    for number, call in enumerate(calls):
        exc = _raises(call)
        assert_clean(f"{exc!s} {exc!r} {exc.args!r}", f"error {number} ({type(exc).__name__})")
    assert isinstance(_raises(calls[8]), KitError)


def test_assertion_failures_never_show_the_secret() -> None:
    from akeneo_events_testkit.assertions import assert_receiver_correct

    async def ignores_everything(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    failure = _raises(lambda: assert_receiver_correct(
        ignores_everything, secret=SECRET, observe=lambda: {"applied": [], "resources": {}}, events=30))
    assert isinstance(failure, AssertionError)
    assert_clean(f"{failure!s} {failure!r}", "the failure anatomy")


def test_receiver_logs_never_show_the_secret(caplog: pytest.LogCaptureFixture) -> None:
    receiver = ReferenceReceiver(SECRET, store=MemoryStore(), clock=FakeClock(1_700_000_000))
    delivery = next(iter(MockPim(seed=2, events=3, clock=FakeClock(1_700_000_000)).deliveries(secret=SECRET)))
    with caplog.at_level(logging.DEBUG):
        for headers, body in [
            (list(delivery.headers), delivery.body),
            (list(delivery.headers), delivery.body + b" "),
            ([("X-Akeneo-Request-Signature", SECRET), ("X-Akeneo-Request-Timestamp", "1700000000")], b"{}"),
            ([("X-Akeneo-Request-Signature", sign(SECRET, 1_700_000_000, b"[1")),
              ("X-Akeneo-Request-Timestamp", "1700000000")], b"[1"),
        ]:
            response = receiver.handle("POST", "/webhook", headers, body)
            assert_clean(response.body, "a response body")
    assert_clean(caplog.text, "the receiver's log")
