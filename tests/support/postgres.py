"""A throwaway PostgreSQL server for the tests that need a real one (the SQL observer, the receiver's store).

Debian's ``postgresql`` package puts its binaries under ``/usr/lib/postgresql/<version>/bin`` without a
cluster the tests could use, so each test session starts its own: ``initdb`` into a temporary directory
(trust authentication, loopback only, on a free port), ``pg_ctl start -w``, and ``pg_ctl stop -m immediate``
at the end. PostgreSQL refuses to run as root; as root the commands run as the ``postgres`` user. Without
the binaries or psycopg, :func:`postgres_server` skips with the reason (``.ci/run`` installs both).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .processes import free_port

__all__ = ["postgres_databases", "postgres_server"]


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_owner(command: list[str]) -> list[str]:
    """``command`` as the ``postgres`` user when the tests run as root (initdb and postgres refuse root)."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextmanager
def postgres_server() -> Iterator[str]:
    """A running PostgreSQL server: yields its URL (``postgresql://postgres@127.0.0.1:PORT/postgres``)."""
    pytest.importorskip("psycopg", reason="psycopg is not installed: pip install -e '.[dev]'")
    binaries = _binaries()
    if binaries is None:
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install postgresql; .ci/run does it)")
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root without a postgres user: PostgreSQL refuses to run as root")
    folder = Path(tempfile.mkdtemp(prefix="akeneo-pg-"))
    data = folder / "data"
    if os.geteuid() == 0:
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    port = free_port()
    log = folder / "server.log"
    environment = {**os.environ, "LC_ALL": "C", "TZ": "UTC"}
    try:
        subprocess.run(_as_owner([str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                                  "--no-sync", "-E", "UTF8"]),
                       check=True, capture_output=True, env=environment, timeout=120)
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off -c max_connections=200"
        started = subprocess.run(_as_owner([str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-o",
                                            options, "-w", "-t", "60", "start"]),
                                 capture_output=True, env=environment, timeout=90)
        if started.returncode != 0:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else started.stderr.decode()
            raise RuntimeError(f"PostgreSQL did not start: {tail}")
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(_as_owner([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                           capture_output=True, env=environment, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def postgres_databases(prefix: str) -> Iterator[Callable[[], str]]:
    """A throwaway server and a function that creates a new, empty database on it at each call (so runs
    never share a table): yields that function, which returns the new database's URL."""
    with postgres_server() as server:
        import psycopg

        numbers = itertools.count()

        def database() -> str:
            name = f"{prefix}_{next(numbers)}"
            with psycopg.connect(server, autocommit=True) as connection:
                connection.execute(f"CREATE DATABASE {name}")
            return server.rsplit("/", 1)[0] + f"/{name}"

        yield database
