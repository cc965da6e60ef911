"""Each built-in observer against the example receiver in another process, fuzzed by the CLI as users run
it: the correct receiver passes, the one that forgets removals is caught (README: observers)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ..support.cli import cli
from ..support.observed import PATTERN, QUERY, SECRET, SINK_MAP, observed_receiver
from ..support.postgres import postgres_databases
from ..support.processes import free_port

ENV = {"AKENEO_EVENTS_SECRET": SECRET}


def _fuzz(url: str, *observe: str, seed: int) -> tuple[int, str]:
    done = cli("fuzz", "--url", url, *observe, "--events", "150", "--seed", str(seed), env=ENV)
    return done.returncode, done.stdout + done.stderr


def _sink(tmp: Path, buggy: bool, seed: int) -> tuple[int, str]:
    port = free_port()
    with observed_receiver("--forward", f"http://127.0.0.1:{port}/applied", buggy=buggy) as url:
        code, output = _fuzz(url, "--sink", str(port), "--sink-map", SINK_MAP, seed=seed)
    assert f"sink: the receiver forwards to http://127.0.0.1:{port}/" in output
    return code, output


def _sql(tmp: Path, buggy: bool, seed: int) -> tuple[int, str]:
    database = tmp / "receiver.db"
    with observed_receiver("--database", str(database), buggy=buggy) as url:
        return _fuzz(url, "--observe-sql", f"sqlite:{database}", "--query", QUERY, seed=seed)


def _log(tmp: Path, buggy: bool, seed: int) -> tuple[int, str]:
    log = tmp / "receiver.log"
    log.write_text("applied 00000000-old-run product:from-an-earlier-run\n")  # before this run: not counted
    with observed_receiver("--log", buggy=buggy, stdout=log) as url:
        code, output = _fuzz(url, "--observe-log", str(log), "--pattern", PATTERN, seed=seed)
    assert log.read_text().count("\n") > 50  # the receiver did log its applications
    return code, output


OBSERVERS: dict[str, Callable[[Path, bool, int], tuple[int, str]]] = {"sink": _sink, "sql": _sql, "log": _log}


@pytest.fixture(scope="module")
def postgres() -> Iterator[Callable[[], str]]:
    """A new, empty database on a throwaway PostgreSQL server for each call (so runs never share a table)."""
    with postgres_databases("receiver") as database:
        yield database


@pytest.mark.parametrize("buggy", [False, True], ids=["correct", "forgets-removals"])
def test_a_receiver_with_its_own_postgresql_table_is_observed(buggy: bool, postgres: Callable[[], str]) -> None:
    """``--observe-sql postgresql://...`` against a receiver that writes its applications to PostgreSQL
    (README: observers): the same verdicts as with its SQLite table."""
    database = postgres()
    with observed_receiver("--database", database, buggy=buggy) as url:
        code, output = _fuzz(url, "--observe-sql", database, "--query", QUERY, seed=11)
    if not buggy:
        assert code == 0 and "PASS: no violations" in output, output[-3000:]
    else:
        assert code == 1, output[-3000:]
        assert re.search(r"^\d+ error\(s\), 0 warning\(s\): event_lost x\d+$", output, re.M), output[-3000:]


@pytest.mark.parametrize("way", sorted(OBSERVERS))
def test_a_correct_receiver_observed_without_an_adapter_passes(way: str, tmp_path: Path) -> None:
    code, output = OBSERVERS[way](tmp_path, False, 11)
    assert code == 0, output[-3000:]
    assert "PASS: no violations" in output
    assert "hazards exercised" in output and "update after removal" in output  # removals were delivered


@pytest.mark.parametrize("way", sorted(OBSERVERS))
def test_a_receiver_that_forgets_removals_is_caught(way: str, tmp_path: Path) -> None:
    code, output = OBSERVERS[way](tmp_path, True, 11)
    assert code == 1, output[-3000:]
    assert re.search(r"^\d+ error\(s\), 0 warning\(s\): event_lost x\d+$", output, re.M), output[-3000:]
    expected = re.findall(r"^   expected: state of (\S+) ", output, re.M)
    assert expected and set(expected) <= {"product.removed", "product_model.removed"}  # each one a removal
