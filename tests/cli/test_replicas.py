"""``fuzz --url A --url B --url C`` against replicas in their own processes on one real PostgreSQL database
(README: Replicas): the reference receiver's PostgreSQL store passes under the replica_race fault, and a
receiver that dedupes with check-then-insert is caught with duplicate_applied."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import pytest

from ..support.cli import Served, cli
from ..support.paths import ROOT
from ..support.postgres import postgres_databases
from ..support.processes import free_port, wait_until_listening

SECRET = "replicas-s3cret-0123456789abcdef"
ENV = {"AKENEO_EVENTS_SECRET": SECRET}
CHECK_THEN_INSERT = ROOT / "tests" / "support" / "check_then_insert.py"


@pytest.fixture(scope="module")
def databases() -> Iterator[Callable[[], str]]:
    """A new, empty database on a throwaway PostgreSQL server for each call (runs never share a table)."""
    with postgres_databases("replicas") as database:
        yield database


@contextmanager
def reference_replicas(database: str, count: int = 3) -> Iterator[list[str]]:
    """``count`` ``akeneo-events serve --store postgresql://...`` processes: their base URLs."""
    with ExitStack() as stack:
        served = [stack.enter_context(Served("--store", database, env=ENV)) for _ in range(count)]
        yield [replica.base_url for replica in served]


@contextmanager
def check_then_insert_replicas(database: str, count: int) -> Iterator[list[str]]:
    """``count`` processes of tests/support/check_then_insert.py on ``database``: their base URLs."""
    with ExitStack() as stack:
        urls = []
        for _ in range(count):
            port = free_port()
            process = subprocess.Popen([sys.executable, str(CHECK_THEN_INSERT), database, "--exit-with-stdin"],
                                       env={**os.environ, **ENV, "PORT": str(port)}, stdin=subprocess.PIPE,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            stack.callback(process.wait, 10)
            assert process.stdin is not None
            stack.callback(process.stdin.close)
            wait_until_listening(process, port, what="the check-then-insert receiver")
            urls.append(f"http://127.0.0.1:{port}")
        yield urls


def fuzz(bases: list[str], *options: str, seed: int) -> tuple[int, str]:
    urls = [option for base in bases for option in ("--url", f"{base}/webhook")]
    done = cli("fuzz", *urls, "--state-url", f"{bases[0]}/state", "--events", "150", "--seed", str(seed),
               *options, env=ENV, timeout=300)
    return done.returncode, done.stdout + done.stderr


def races(output: str) -> tuple[list[int], int]:
    """The requests each replica got and the replica_race count, from the summary's replicas line."""
    found = re.search(r"^  replicas +requests ([\d / ]+) \(replica_race (\d+)\)$", output, re.M)
    assert found, output[-3000:]
    return [int(n) for n in found.group(1).split(" / ")], int(found.group(2))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_three_reference_replicas_on_postgresql_pass_under_the_race(seed: int,
                                                                    databases: Callable[[], str]) -> None:
    with reference_replicas(databases()) as bases:
        code, output = fuzz(bases, seed=seed)
    assert code == 0 and "PASS: no violations" in output, output[-3000:]
    spread, raced = races(output)
    assert raced > 0 and all(count > 10 for count in spread), output[-3000:]
    assert re.search(rf"^  faults injected .*replica_race {raced}\b", output, re.M), output[-3000:]
    assert "duplicate after removal" in output  # the kit's own redeliveries were exercised too


@pytest.mark.parametrize("seed", [1, 2])
def test_check_then_insert_across_replicas_is_caught(seed: int, databases: Callable[[], str]) -> None:
    with check_then_insert_replicas(databases(), 3) as bases:
        code, output = fuzz(bases, seed=seed)
    assert code == 1, output[-3000:]
    assert re.search(r"^  violations +.*duplicate_applied \d+", output, re.M), output[-3000:]
    assert races(output)[1] > 0
    line = re.search(r"^Reproduce with: (.*)$", output, re.M)
    assert line, output[-3000:]
    assert " ".join(f"--url {base}/webhook" for base in bases) in line.group(1)
    assert "--replica-race 0.1" in line.group(1)


def test_check_then_insert_without_a_race_is_not_caught(databases: Callable[[], str]) -> None:
    """The control: the same receiver as two replicas with --replica-race 0 (the kit's duplicates come
    later, one at a time) passes, so the catch above is the race's."""
    with check_then_insert_replicas(databases(), 2) as bases:
        code, output = fuzz(bases, "--replica-race", "0", seed=1)
    assert races(output)[1] == 0
    assert "duplicate_applied" not in output, output[-3000:]
    assert code == 0, output[-3000:]


@pytest.mark.parametrize(("options", "message"), [
    (["--url", "http://127.0.0.1:1/webhook", "--replica-race", "0.2"], "--replica-race needs several --url"),
    (["--url", "http://127.0.0.1:1/w", "--url", "http://127.0.0.1:1/w"], "is given twice"),
    (["--url", "http://127.0.0.1:1/a", "--url", "http://127.0.0.1:2/b", "--replica-race", "2"],
     "probability from 0 to 1"),
    (["--url", "http://127.0.0.1:1/a", "--url", "http://127.0.0.1:2/b", "--profile", "event-platform"],
     "replicas are fuzzed with the Events API profiles"),
    (["--url", "http://127.0.0.1:1/a", "--url", "http://127.0.0.1:2/b", "--receiver-cmd", "x {port}"],
     "not with --receiver-cmd"),
    (["--url", "http://127.0.0.1:1/a", "--url", "http://127.0.0.1:2/b", "--state-url", "http://127.0.0.1:2/s"],
     "--state-url is given twice"),
])
def test_bad_replica_options_are_usage_errors(options: list[str], message: str) -> None:
    done = cli("fuzz", *options, "--state-url", "http://127.0.0.1:1/state", env=ENV)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr


def test_serve_without_psycopg_names_the_extra() -> None:
    """psycopg made unimportable (``sys.modules`` entry None), as where the extra is not installed."""
    done = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['psycopg'] = None; "
         "from akeneo_events_testkit.cli import main; sys.exit(main(['serve', '--store', "
         "'postgresql://r@127.0.0.1:1/r', '--secret', 'x' * 32]))"],
        capture_output=True, text=True, timeout=60, env={**os.environ, "CI": "true"})
    assert done.returncode == 2, done.stdout + done.stderr
    assert 'pip install "akeneo-events-testkit[postgres]"' in done.stderr
    assert "Traceback" not in done.stderr


def test_the_postgresql_store_survives_crashes(databases: Callable[[], str]) -> None:
    """Durable: the reference receiver on PostgreSQL, SIGKILLed after a 2xx, before and during a request,
    loses nothing it acknowledged (README: Replicas; Crashes)."""
    command = f"{sys.executable} -m akeneo_events_testkit.cli serve --port {{port}} --store {databases()}"
    done = cli("fuzz", "--receiver-cmd", command, "--crashes", "3", "--events", "150", "--seed", "4", env=ENV,
               timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0 and "PASS: no violations" in output, output[-3000:]
    assert re.search(r"^  crashes +3 \(", output, re.M), output[-3000:]
