"""A receiver store in PostgreSQL, shared by several replicas of the reference receiver (README: Replicas).

Production receivers run as several replicas behind a load balancer, all on one database; the PIM's
redeliveries (events-api-facts.md section 6) can then reach two replicas at the same moment. This store keeps
what :mod:`.stores` describes (the seen ids, the current state per resource, the log of applications) in
three tables, so that any replica serves the whole observation, and makes each batch safe across replicas:

* one transaction per batch (:meth:`PostgresStore.transaction`), which first takes a transaction-level
  advisory lock of the store (``pg_advisory_xact_lock``): batches from all replicas are serialised as
  SQLite's ``BEGIN IMMEDIATE`` serialises processes. Per-key locks were rejected: two batches holding the
  same resources in a different order deadlock, PostgreSQL aborts one after ``deadlock_timeout`` (one
  second, past the PIM's 0.5 s timeout), and the store cannot replay the receiver's batch;
* ``INSERT ... ON CONFLICT DO NOTHING`` for the seen ids: a second copy of an event is a duplicate however
  its transaction interleaves (PostgreSQL makes the second insert wait for the first one's commit);
* a conditional upsert for the newest event of each resource (``ON CONFLICT (key) DO UPDATE ... WHERE
  excluded.epoch >= resources.epoch``): a write never takes a resource back to an older event, even from a
  client that skipped the staleness check;
* the log of applications in a table numbered by an identity column, read in that order.

psycopg 3 is imported lazily: it is the optional ``postgres`` extra.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import StoreError, UsageError
from .stores import DELTA_PREFIX, ResourceState, dump_data, observation_of

__all__ = ["INSTALL_HINT", "PostgresStore"]

#: What to install for ``serve --store postgresql://...``.
INSTALL_HINT = 'pip install "akeneo-events-testkit[postgres]"'

#: The advisory lock key of the store's batches (any constant; "akeneo" in ASCII).
_LOCK_KEY = 0x616B656E656F

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS seen (event_id TEXT PRIMARY KEY)",
    "CREATE TABLE IF NOT EXISTS resources (key TEXT PRIMARY KEY, event_id TEXT NOT NULL, "
    "epoch DOUBLE PRECISION NOT NULL, removed BOOLEAN NOT NULL, data TEXT)",
    "CREATE TABLE IF NOT EXISTS applied (seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    "event_id TEXT NOT NULL)",
)

_PUT = (
    "INSERT INTO resources (key, event_id, epoch, removed, data) VALUES (%s, %s, %s, %s, %s) "
    "ON CONFLICT (key) DO UPDATE SET event_id = excluded.event_id, epoch = excluded.epoch, "
    "removed = excluded.removed, data = excluded.data WHERE excluded.epoch >= resources.epoch"
)


def _redacted(url: str) -> str:
    """``url`` without its password, for messages and ``repr``."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}:[redacted]@{host}"


class PostgresStore:
    """A durable store in a PostgreSQL database, which several receiver processes may share (module docstring).

    One connection per process, guarded by a lock (the receiver's threads take turns, as with
    :class:`~.stores.SqliteStore`); every lookup goes through a primary key.
    """

    def __init__(self, url: str, *, connect_timeout: float = 10.0) -> None:
        try:
            import psycopg
        except ImportError as exc:
            raise UsageError(f"--store {_redacted(url)} needs psycopg, the PostgreSQL driver: {INSTALL_HINT}") \
                from exc
        self.url = url
        self._psycopg = psycopg
        self._lock = threading.RLock()
        self._depth = 0
        try:
            self._conn: Any = psycopg.connect(url, autocommit=True, connect_timeout=max(1, int(connect_timeout)))
        except psycopg.Error as exc:
            raise StoreError(f"cannot open PostgreSQL store {_redacted(url)}: {exc}".strip()) from exc
        try:
            with self.transaction(), self._errors() as conn:  # under the lock: replicas start together
                for statement in _SCHEMA:
                    conn.execute(statement)
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"PostgresStore({_redacted(self.url)!r})"

    @contextlib.contextmanager
    def _errors(self) -> Iterator[Any]:
        if self._conn is None:
            raise StoreError(f"PostgreSQL store {_redacted(self.url)} is closed")
        try:
            yield self._conn
        except self._psycopg.Error as exc:
            raise StoreError(f"PostgreSQL store {_redacted(self.url)} failed: {exc}".strip()) from exc

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One PostgreSQL transaction holding the store's advisory lock until it commits or rolls back."""
        with self._lock, self._errors() as conn:
            if self._depth:  # nested: part of the outer transaction
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            conn.execute("BEGIN")
            self._depth = 1
            try:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
                yield
            except BaseException:
                self._rollback(conn)
                raise
            else:
                try:
                    conn.execute("COMMIT")
                except self._psycopg.Error:
                    self._rollback(conn)
                    raise
            finally:
                self._depth = 0

    def _rollback(self, conn: Any) -> None:
        with contextlib.suppress(self._psycopg.Error):
            conn.execute("ROLLBACK")

    def seen(self, event_id: str) -> bool:
        with self._lock, self._errors() as conn:
            return conn.execute("SELECT 1 FROM seen WHERE event_id = %s", (event_id,)).fetchone() is not None

    def mark_seen(self, event_id: str) -> bool:
        with self._lock, self._errors() as conn:
            cursor = conn.execute("INSERT INTO seen (event_id) VALUES (%s) ON CONFLICT DO NOTHING", (event_id,))
            return bool(cursor.rowcount == 1)

    def current(self, key: str) -> ResourceState | None:
        with self._lock, self._errors() as conn:
            row = conn.execute("SELECT event_id, epoch, removed FROM resources WHERE key = %s", (key,)).fetchone()
        return None if row is None else ResourceState(row[0], row[1], bool(row[2]))

    def put(self, key: str, state: ResourceState, data: Mapping[str, Any] | None) -> None:
        text = dump_data(data)
        with self._lock, self._errors() as conn:
            conn.execute(_PUT, (key, state.event_id, state.epoch, state.removed, text))

    def data(self, key: str) -> Any:
        with self._lock, self._errors() as conn:
            row = conn.execute("SELECT data FROM resources WHERE key = %s", (key,)).fetchone()
        return None if row is None or row[0] is None else json.loads(row[0])

    def append_applied(self, event_id: str) -> None:
        with self._lock, self._errors() as conn:
            conn.execute("INSERT INTO applied (event_id) VALUES (%s)", (event_id,))

    def observation(self) -> dict[str, Any]:
        """The shared tables in one snapshot (a repeatable-read transaction): every replica's applications."""
        with self._lock, self._errors() as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                applied = [row[0] for row in conn.execute("SELECT event_id FROM applied ORDER BY seq")]
                resources = {
                    row[0]: ResourceState(row[1], row[2], bool(row[3]))
                    for row in conn.execute("SELECT key, event_id, epoch, removed FROM resources")
                }
                deltas = dict(conn.execute("SELECT key, data FROM resources WHERE NOT removed AND "
                                           "left(data, %s) = %s", (len(DELTA_PREFIX), DELTA_PREFIX)))
            finally:
                self._rollback(conn)
        return observation_of(applied, resources, deltas)

    def reset(self) -> None:
        """Empty the shared tables: for every replica on the database."""
        with self.transaction(), self._errors() as conn:
            conn.execute("TRUNCATE seen, resources, applied RESTART IDENTITY")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                conn, self._conn = self._conn, None
                with contextlib.suppress(Exception):
                    conn.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
