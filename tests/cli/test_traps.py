"""Small traps of the CLI, run as users run it (subprocess): ``emit`` where nothing listens, counters that
read well, every "not sent by the PIM" reason explained, ``--quiet`` quiet, replay naming what changed."""

from __future__ import annotations

from pathlib import Path

from akeneo_events_testkit.events_api.pim import MockPim
from akeneo_events_testkit.events_api.summary import NOT_SENT_REASONS, summary_table
from akeneo_events_testkit.receiver import ReceiverServer, ReferenceReceiver

from ..support.cli import cli

SECRET = "traps-secret-0123456789"


def test_emit_where_nothing_listens_exits_1_with_the_reason() -> None:
    for profile in ("saas", "event-platform"):
        result = cli("emit", "--profile", profile, "--url", "http://127.0.0.1:9/hook", "--secret", SECRET,
                     "--events", "5")
        assert result.returncode == 1, (profile, result.stderr)
        error = result.stderr.splitlines()[-1]
        assert error.startswith("akeneo-events emit: error: none of the ") and "got an answer from " \
            "http://127.0.0.1:9/hook (first failure: connect" in error, error


def test_emit_quiet_prints_no_warning_and_only_the_error() -> None:
    result = cli("emit", "--url", "http://127.0.0.1:9/hook", "--secret", SECRET, "--events", "5", "--quiet")
    assert result.returncode == 1 and result.stdout == ""
    assert "warning" not in result.stderr and result.stderr.count("\n") == 1


def test_emit_to_a_receiver_reads_well_and_exits_0() -> None:
    with ReceiverServer(ReferenceReceiver(SECRET)) as server:
        result = cli("emit", "--url", server.url, "--secret", SECRET, "--events", "20")
        quiet = cli("emit", "--url", server.url, "--secret", SECRET, "--events", "5", "--quiet")
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "requests sent" in line)
    assert row.split("requests sent", 1)[1].strip().endswith(", all answered 2xx"), row
    assert "(sent " not in result.stdout
    delivered = next(line for line in result.stdout.splitlines() if "events delivered" in line)
    assert delivered.split("events delivered", 1)[1].strip().endswith(", all acknowledged"), delivered
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")


def test_emit_to_a_refusing_receiver_names_the_refusals() -> None:
    with ReceiverServer(ReferenceReceiver("another-" + SECRET)) as server:
        result = cli("emit", "--url", server.url, "--secret", SECRET, "--events", "20")
    assert result.returncode == 0, result.stderr  # answered: the receiver is there, it refuses
    row = next(line for line in result.stdout.splitlines() if "requests sent" in line)
    assert ": refused (4xx/5xx) " in row and "acknowledged" not in row, row
    delivered = next(line for line in result.stdout.splitlines() if "events delivered" in line)
    assert delivered.split("events delivered", 1)[1].strip().endswith(" (0 acknowledged)"), delivered


def test_every_reason_not_sent_is_explained_in_the_summary() -> None:
    pim = MockPim(seed=0, events=300, faults="default", profile="saas")
    run = pim.run(ReferenceReceiver(SECRET).asgi(), secret=SECRET)
    assert run.truth.dropped, "the seed must drop some events for this test to see anything"
    table = summary_table(run, None)
    for reason in run.truth.dropped:
        assert f"{reason}: {NOT_SENT_REASONS[reason]}" in table
    assert "not_found_at_send_time" in NOT_SENT_REASONS and "own_event" in NOT_SENT_REASONS


def test_replay_lists_the_requests_answered_differently(tmp_path: Path) -> None:
    tape = tmp_path / "run.jsonl"
    with ReceiverServer(ReferenceReceiver(SECRET)) as server:
        recorded = cli("emit", "--url", server.url, "--secret", SECRET, "--events", "30", "--record", str(tape))
    assert recorded.returncode == 0, recorded.stderr
    with ReceiverServer(ReferenceReceiver("another-" + SECRET)) as other:
        replayed = cli("replay", str(tape), "--url", other.url, "--secret", SECRET)
    lines = replayed.stdout.splitlines()
    changed = int(lines[0].rsplit("; ", 1)[1].split()[0])
    assert changed > 0 and lines[0].endswith("answered differently than when recorded:")
    listed = [line for line in lines[1:] if line.startswith("  request ")]
    assert len(listed) == min(changed, 10)
    assert all(line.endswith("HTTP 200 when recorded, HTTP 401 now") and "(events " in line for line in listed)
