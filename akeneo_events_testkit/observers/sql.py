"""A SQL observer: the observation read with one query from the receiver's own database.

The query returns one row per application, in the order the receiver applied them (``ORDER BY`` its own
sequence): ``event_id``, the resource (``resource_key``, or ``uuid`` / ``identifier`` / ``code`` to build
it), ``removed``, and optionally ``data`` (JSON text or a JSON column). SQLite is read with the standard
library (read-only, so the kit never writes the receiver's file); PostgreSQL through psycopg, when installed
(``pip install 'akeneo-events-testkit[postgres]'``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from ..errors import KitError, UsageError
from .records import KEY_FIELDS, Application, build_observation, coerce_data, coerce_removed, resource_key_of

__all__ = ["SqlObserver"]

_EXAMPLE = "SELECT event_id, resource_key, removed FROM applications ORDER BY seq"
_POSTGRES = ("postgresql://", "postgres://")


def _without_password(database: str) -> str:
    """``database`` with the password of a URL left out (``postgresql://user@host/db``)."""
    parts = urlsplit(database)
    if parts.password is None:
        return database
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}@{host}" if user else host))


class SqlObserver:
    """``observation()`` from ``query`` run against ``database``: ``sqlite:PATH`` or a PostgreSQL URL.

    >>> observer = SqlObserver("sqlite:receiver.db",  # doctest: +SKIP
    ...                        "SELECT event_id, resource_key, removed FROM applications ORDER BY seq")
    """

    def __init__(self, database: str, query: str, *, timeout: float = 5.0) -> None:
        if not query or not query.strip():
            raise UsageError(f"--query is empty: give the SELECT returning each application, e.g. {_EXAMPLE!r}")
        self.path: Path | None = None
        if database.startswith("sqlite:"):
            path = database[len("sqlite:"):]
            if not path:
                raise UsageError("--observe-sql sqlite:PATH: the path of the receiver's SQLite file is missing")
            self.kind, self.path = "sqlite", Path(path)
        elif database.startswith(_POSTGRES):
            self.kind = "postgresql"
        else:
            raise UsageError(f"--observe-sql {database!r}: give sqlite:PATH or a postgresql://USER@HOST/DB URL")
        self.database = database
        self.query = query
        self.timeout = timeout

    def __repr__(self) -> str:
        where = f"sqlite:{self.path}" if self.path is not None else "postgresql://…"  # a URL may hold a password
        return f"SqlObserver({where!r}, {self.query!r})"

    def _rows(self) -> tuple[list[str], Sequence[Sequence[Any]]]:
        if self.path is not None:
            if not self.path.is_file():
                raise KitError(f"--observe-sql: no SQLite database at {self.path}; give the file the receiver "
                               "writes (sqlite:PATH)")
            uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
            try:
                conn = sqlite3.connect(uri, uri=True, timeout=self.timeout)
            except sqlite3.Error as exc:
                raise KitError(f"--observe-sql: cannot open {self.path}: {exc}") from None
            try:
                cursor = conn.execute(self.query)
                rows = cursor.fetchall()
                return [d[0] for d in cursor.description or ()], rows
            except sqlite3.Error as exc:
                raise UsageError(f"--query failed on {self.path}: {exc}; it must be a SELECT such as "
                                 f"{_EXAMPLE!r}") from None
            finally:
                conn.close()
        return self._postgres_rows()

    def _postgres_rows(self) -> tuple[list[str], Sequence[Sequence[Any]]]:
        try:
            import psycopg  # type: ignore[import-not-found, unused-ignore]
        except ImportError:
            raise UsageError("--observe-sql with a PostgreSQL URL needs psycopg: "
                             "pip install 'akeneo-events-testkit[postgres]' (or psycopg[binary])") from None
        try:
            with psycopg.connect(self.database, connect_timeout=max(1, int(self.timeout)), autocommit=True) as conn:
                cursor = conn.execute(self.query)
                rows = cursor.fetchall()
                return [d.name for d in cursor.description or ()], rows
        except psycopg.OperationalError as exc:
            raise KitError(f"--observe-sql: cannot read the PostgreSQL database: {str(exc).splitlines()[0]}") \
                from None
        except psycopg.Error as exc:
            raise UsageError(f"--query failed: {str(exc).splitlines()[0]}; it must be a SELECT such as "
                             f"{_EXAMPLE!r}") from None

    def observation(self) -> dict[str, Any]:
        """The observation contract from the query's rows, in their order."""
        names, rows = self._rows()
        columns = [("key" if name.lower() == "resource_key" else name.lower()) for name in names]
        missing = [name for name in ("event_id", "removed") if name not in columns]
        if not any(name in columns for name in KEY_FIELDS):
            missing.insert(1, "resource_key")
        if missing:
            raise UsageError(f"--query returns {', '.join(names) or 'no column'}; it needs {', '.join(missing)} "
                             f"(name the columns with AS, e.g. {_EXAMPLE!r})")
        has_data = "data" in columns

        def application(index: int, row: Sequence[Any]) -> Application:
            values = dict(zip(columns, row, strict=False))
            where = f"row {index + 1} of --query"
            if values["event_id"] is None:
                raise UsageError(f"{where}: event_id is null; select the event id the receiver applied")
            return Application(str(values["event_id"]), resource_key_of(values, where),
                               coerce_removed(values["removed"], where), has_data,
                               coerce_data(values["data"], where) if has_data else None)

        return build_observation(application(index, row) for index, row in enumerate(rows))

    __call__ = observation

    def command_options(self) -> list[str]:
        """``--observe-sql DATABASE --query SQL``, a PostgreSQL URL without its password (libpq reads
        ``PGPASSWORD``; secrets are never printed)."""
        return ["--observe-sql", _without_password(self.database), "--query", self.query]
