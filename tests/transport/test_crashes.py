"""Crash injection with real processes over loopback HTTP: ``akeneo-events serve`` run by the kit, SIGKILLed at
seeded moments and restarted. A durable store (SQLite) passes, a store in memory loses what it acknowledged;
the moments repeat with the seed; a receiver command that cannot start is a clear error; no process is ever
left behind (Ctrl-C and SIGTERM included)."""

from __future__ import annotations

import itertools
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from akeneo_events_testkit.errors import ReceiverCommandFailed, UsageError
from akeneo_events_testkit.event_platform.campaign import EpCampaignConfig, run_ep_campaign
from akeneo_events_testkit.events_api.campaign import CampaignConfig, run_campaign
from akeneo_events_testkit.transport.crashes import CRASH_KINDS, plan_crashes
from akeneo_events_testkit.transport.process import ANNOUNCE, ReceiverProcess

from ..support.cli import cli

SERVE = f"{shlex.quote(sys.executable)} -m akeneo_events_testkit.cli serve --port {{port}}"


def serve(store: str) -> str:
    return f"{SERVE} --store {shlex.quote(store)}"


def gone(pid: int) -> bool:
    """Whether no process of the group ``pid`` is left (the receivers run in their own session)."""
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture
def pids() -> list[int]:
    """The pids of the receivers the kit starts during the test (from its announcements)."""
    seen: list[int] = []
    token = ANNOUNCE.set(lambda line: seen.append(int(line.rsplit("(pid ", 1)[1].rstrip(")"))))
    yield seen
    ANNOUNCE.reset(token)


# -- the plan ----------------------------------------------------------------------------------------------

def test_plan_is_the_seeds_and_leaves_room_for_each_restart() -> None:
    plan = plan_crashes(7, 3, 40)
    assert plan == plan_crashes(7, 3, 40)
    assert plan != plan_crashes(8, 3, 40)
    assert sorted(c.kind for c in plan) == sorted(CRASH_KINDS)  # three crashes are one of each
    assert plan_crashes(7, 1, 40)[0].kind == "after_2xx"
    for before, after in itertools.pairwise(plan):
        assert after.at > before.at + before.down  # down requests and the restart before the next crash
    assert all(c.at >= 2 and 0 <= c.down <= 3 for c in plan)


def test_crashes_need_a_receiver_command_with_port() -> None:
    with pytest.raises(UsageError, match="--crashes needs --receiver-cmd"):
        CampaignConfig(crashes=2)
    with pytest.raises(UsageError, match=r"has no \{port\}: write it where the receiver takes its port"):
        EpCampaignConfig(receiver_cmd="akeneo-events serve --port 8000", crashes=1)


# -- judging a crashed receiver ------------------------------------------------------------------------------

def test_sqlite_store_survives_crashes_on_the_events_api(tmp_path: Path, pids: list[int]) -> None:
    config = CampaignConfig(seed=3, events=200, receiver_cmd=serve(f"sqlite:{tmp_path / 'r.db'}"), crashes=3)
    result = run_campaign(config)
    assert result.passed, result.failure_text()
    crashes = result.verdict.stats["crashes"]
    assert [c["kind"] for c in crashes] == [c.kind for c in plan_crashes(3, 3, 200 // 6)]
    assert len(pids) == 4 and all(gone(pid) for pid in pids)  # started, restarted 3 times, all killed
    # the crash moments are the ground truth's requests: acknowledged then crashed, or failed by the crash
    by_seq = {r.seq: r for r in result.run.truth.requests}
    for crash in crashes:
        request = by_seq[crash["request"]]
        assert request.acknowledged if crash["kind"] == "after_2xx" else request.status is None, (crash, request)
    assert result.verdict.stats["crash_casualties"] >= 2  # before_send and in_flight at least
    report = result.report()
    assert report["crashes"]["planned"] == 3 and report["crashes"]["happened"] == crashes
    assert "--receiver-cmd" in result.reproduce and "--crashes 3" in result.reproduce


def test_memory_store_loses_what_it_acknowledged_before_a_crash(pids: list[int]) -> None:
    result = run_campaign(CampaignConfig(seed=3, events=200, receiver_cmd=serve("memory"), crashes=3))
    assert not result.passed
    lost = [v for v in result.verdict.violations if v.kind == "event_lost"]
    assert lost and {v.kind for v in result.verdict.errors} == {"event_lost"}
    assert all("a crash came between its acknowledgement" in v.message for v in lost), [v.message for v in lost]
    assert all(gone(pid) for pid in pids)


def test_same_seed_same_crash_moments(tmp_path: Path) -> None:
    runs = [run_campaign(CampaignConfig(seed=5, events=150, receiver_cmd=serve(f"sqlite:{tmp_path / f'{n}.db'}"),
                                        crashes=3, start=1_700_000_000)) for n in (1, 2)]
    first, second = ([(c["at"], c["kind"], c["down"], c["restarted"]) for c in r.verdict.stats["crashes"]]
                     for r in runs)
    assert len(first) == 3 and first == second
    assert all(r.passed for r in runs), runs[0].failure_text()


def test_event_platform_sqlite_passes_and_memory_loses(tmp_path: Path, pids: list[int]) -> None:
    durable = run_ep_campaign(EpCampaignConfig(seed=1, events=200, receiver_cmd=serve(f"sqlite:{tmp_path / 'r.db'}"),
                                               crashes=3))
    assert durable.passed, durable.failure_text()
    assert len(durable.verdict.stats["crashes"]) == 3
    memory = run_ep_campaign(EpCampaignConfig(seed=1, events=200, receiver_cmd=serve("memory"), crashes=3))
    lost = [v for v in memory.verdict.errors if v.kind == "event_lost"]
    assert lost and all("a crash came between its acknowledgement" in v.message for v in lost)
    assert all(gone(pid) for pid in pids)


# -- receiver commands that do not work ---------------------------------------------------------------------

def test_a_command_that_does_not_exist_is_named() -> None:
    with pytest.raises(ReceiverCommandFailed, match="the receiver command 'no-such-receiver-xyz --port {port}' "
                                                    "cannot be started: No such file or directory"):
        ReceiverProcess("no-such-receiver-xyz --port {port}").start()


def test_a_command_that_exits_at_once_shows_its_last_lines(pids: list[int]) -> None:
    command = f"{shlex.quote(sys.executable)} -c \"print('boom'); raise SystemExit(3)\" {{port}}"
    with pytest.raises(ReceiverCommandFailed) as caught:
        ReceiverProcess(command).start()
    text = str(caught.value)
    assert f"the receiver command {command!r} exited with status 3 before listening on port" in text
    assert "its last output lines:\n  boom" in text
    assert len(pids) == 1 and gone(pids[0])


def test_a_command_that_never_listens_is_killed(pids: list[int]) -> None:
    command = f"{shlex.quote(sys.executable)} -c \"import time; print('waiting', flush=True); time.sleep(60)\" {{port}}"
    with pytest.raises(ReceiverCommandFailed, match=r"did not listen on port \d+ within 0.5 s; its last output "
                                                    r"lines:\n  waiting"):
        run_campaign(CampaignConfig(events=20, receiver_cmd=command, listen_timeout=0.5))
    assert len(pids) == 1 and gone(pids[0])


def test_cli_errors_are_one_paragraph_exit_2() -> None:
    result = cli("fuzz", "--events", "20", "--receiver-cmd",
                 f"{shlex.quote(sys.executable)} -c \"print('boom'); raise SystemExit(3)\" {{port}}")
    assert result.returncode == 2
    started, error = result.stderr.split("akeneo-events fuzz: error: ", 1)
    assert started.startswith("receiver: started ") and started.count("\n") == 1  # the one line before
    assert error.startswith("the receiver command ") and "\n\n" not in error  # one paragraph
    assert "exited with status 3 before listening" in error and "\n  boom\n" in error
    missing = cli("fuzz", "--receiver-cmd", "no-such-receiver-xyz {port}")
    assert missing.returncode == 2 and "cannot be started: No such file or directory" in missing.stderr
    no_port = cli("fuzz", "--receiver-cmd", "akeneo-events serve --port 8000")
    assert no_port.returncode == 2 and "has no {port}: write it where the receiver takes its port" in no_port.stderr
    alone = cli("fuzz", "--crashes", "2")
    assert alone.returncode == 2 and "--crashes needs --receiver-cmd" in alone.stderr


def test_cli_fuzz_with_crashes_prints_them(tmp_path: Path) -> None:
    result = cli("fuzz", "--events", "150", "--seed", "2", "--receiver-cmd", serve(f"sqlite:{tmp_path / 'r.db'}"),
                 "--crashes", "2", "--secret", "crash-secret-0123456789")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "  crashes              2 (" in result.stdout
    assert result.stderr.count("receiver: restarted") == 2 and "crash-secret" not in result.stderr


# -- no orphan, whatever the way out ---------------------------------------------------------------------------

@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
def test_interrupting_the_cli_kills_the_receiver(tmp_path: Path, how: signal.Signals) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "AKENEO_EVENTS_SECRET"}
    with subprocess.Popen(
            [sys.executable, "-m", "akeneo_events_testkit.cli", "fuzz", "--events", "3000", "--crashes", "1",
             "--receiver-cmd", serve(f"sqlite:{tmp_path / 'r.db'}")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env={**environment, "CI": "true"}) as process:
        assert process.stderr is not None
        seen = []
        for line in process.stderr:  # until the receiver came back from its crash: the run is under way
            if line.startswith("receiver: "):
                seen.append(int(line.rsplit("(pid ", 1)[1].split(")")[0]))
            if line.startswith("receiver: restarted"):
                break
        process.send_signal(how)
        rest = process.stderr.read()
        assert process.wait(timeout=60) == 130, rest
    assert len(seen) == 2 and all(gone(pid) for pid in seen)
    assert "Traceback" not in rest


def test_a_receiver_command_takes_no_in_process_app_as_target() -> None:
    """Both profiles refuse an app beside the command they would start, before starting anything."""
    def app(environ: object, start_response: object) -> list[bytes]:
        return []

    command = f"{shlex.quote(sys.executable)} -c pass {{port}}"
    with pytest.raises(UsageError, match="with receiver_cmd, the target is the URL of the receiver it starts"):
        run_campaign(CampaignConfig(events=5, receiver_cmd=command), target=app, secret="s3cret-0123456789")
    with pytest.raises(UsageError, match="with receiver_cmd, the target is the URL of the receiver it starts"):
        run_ep_campaign(EpCampaignConfig(events=5, receiver_cmd=command), target=app)
