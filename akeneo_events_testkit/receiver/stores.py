"""Where the reference receiver keeps what it has seen and applied: in memory or in SQLite.

A store holds three things, all needed because the PIM reorders, duplicates and loses events
(events-api-facts.md section 6):

* the ids of every event ever seen, so that a redelivery (same ``event_id``) is never applied twice;
* per resource key, the state that is current: which event, its ``event_datetime`` as Unix seconds, and
  whether it is a removal (a *tombstone*, kept forever so that a late, older update cannot resurrect it),
  plus the resource data of upserts;
* the append-only log of applications, in order.

The receiver calls the other methods inside :meth:`Store.transaction`, which makes check-and-apply atomic:
concurrent deliveries of one event are serialised, and a failed batch leaves no trace.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ..errors import StoreError, UsageError

__all__ = ["DELTA_PREFIX", "MemoryStore", "ResourceState", "SqliteStore", "Store", "StoreError", "dump_data",
           "observation_of", "open_store"]


@dataclass(frozen=True)
class ResourceState:
    """The current state of one resource: the event whose data is current, and its time.

    ``epoch`` is the event's ``event_datetime`` in Unix seconds (second precision, facts section 4);
    ``removed`` marks a tombstone.
    """

    event_id: str
    epoch: float
    removed: bool


#: How the stored JSON of an Event Platform resource starts (``ReferenceReceiver._ep_data``): its delta state
#: goes into the observation (README: Event Platform), without parsing the data of Events API resources.
DELTA_PREFIX = '{"delta":'


def observation_of(applied: list[str], resources: Mapping[str, ResourceState],
                   deltas: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The observation contract (README: observation contract) from a store's rows, every store alike."""
    deltas = deltas or {}
    found: dict[str, Any] = {}
    for key, state in sorted(resources.items()):
        entry: dict[str, Any] = {"event_id": state.event_id, "removed": state.removed}
        text = deltas.get(key)
        if text is not None and not state.removed and text.startswith(DELTA_PREFIX):
            entry["delta"] = json.loads(text)["delta"]
        found[key] = entry
    return {"applied": applied, "resources": found}


def dump_data(data: Mapping[str, Any] | None) -> str | None:
    """A resource's data as the stores keep it: compact JSON text, None for none."""
    return None if data is None else json.dumps(data, ensure_ascii=False, separators=(",", ":"))


@runtime_checkable
class Store(Protocol):
    """What the receiver needs from storage. Call the mutating methods inside :meth:`transaction`."""

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """Hold the store exclusively; commit everything on normal exit, nothing on an exception."""
        ...

    def seen(self, event_id: str) -> bool:
        """Whether ``event_id`` was ever marked seen."""
        ...

    def mark_seen(self, event_id: str) -> bool:
        """Mark ``event_id`` seen; True if it was new, False if it had been seen before."""
        ...

    def current(self, key: str) -> ResourceState | None:
        """The current state of resource ``key``, tombstones included; None if never applied."""
        ...

    def put(self, key: str, state: ResourceState, data: Mapping[str, Any] | None) -> None:
        """Make ``state`` current for ``key``, with the resource data of an upsert (None for a removal)."""
        ...

    def data(self, key: str) -> Any:
        """The stored resource data of ``key`` (None for a tombstone or an unknown key)."""
        ...

    def append_applied(self, event_id: str) -> None:
        """Record that ``event_id`` was applied (append-only)."""
        ...

    def observation(self) -> dict[str, Any]:
        """``{"applied": [ids in order], "resources": {key: {"event_id", "removed"}}}``, one snapshot."""
        ...

    def reset(self) -> None:
        """Forget everything (test fixtures use it between tests)."""
        ...

    def close(self) -> None:
        """Release resources; the store is unusable afterwards."""
        ...


class MemoryStore:
    """A store in process memory, guarded by one lock; lost when the process ends.

    The lock is re-entrant so that reads made inside a transaction by the same thread do not deadlock.
    A transaction keeps an undo log, so a batch interrupted by an exception leaves no trace.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._seen: set[str] = set()
        self._resources: dict[str, ResourceState] = {}
        self._data: dict[str, str | None] = {}
        self._applied: list[str] = []
        self._undo: list[Callable[[], None]] | None = None

    def __repr__(self) -> str:
        return "MemoryStore()"

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            if self._undo is not None:  # nested: part of the outer transaction
                yield
                return
            self._undo = []
            try:
                yield
            except BaseException:
                for undo in reversed(self._undo):
                    undo()
                raise
            finally:
                self._undo = None

    def _journal(self, undo: Callable[[], None]) -> None:
        if self._undo is not None:
            self._undo.append(undo)

    def seen(self, event_id: str) -> bool:
        with self._lock:
            return event_id in self._seen

    def mark_seen(self, event_id: str) -> bool:
        with self._lock:
            if event_id in self._seen:
                return False
            self._seen.add(event_id)
            self._journal(lambda: self._seen.discard(event_id))
            return True

    def current(self, key: str) -> ResourceState | None:
        with self._lock:
            return self._resources.get(key)

    def put(self, key: str, state: ResourceState, data: Mapping[str, Any] | None) -> None:
        text = dump_data(data)
        with self._lock:
            if key in self._resources:
                old_state, old_data = self._resources[key], self._data[key]

                def undo() -> None:
                    self._resources[key], self._data[key] = old_state, old_data
            else:

                def undo() -> None:
                    del self._resources[key], self._data[key]

            self._resources[key], self._data[key] = state, text
            self._journal(undo)

    def data(self, key: str) -> Any:
        with self._lock:
            text = self._data.get(key)
        return None if text is None else json.loads(text)

    def append_applied(self, event_id: str) -> None:
        with self._lock:
            self._applied.append(event_id)
            self._journal(self._unappend)

    def _unappend(self) -> None:
        self._applied.pop()

    def observation(self) -> dict[str, Any]:
        with self._lock:
            deltas = {key: text for key, text in self._data.items() if text and text.startswith(DELTA_PREFIX)}
            return observation_of(list(self._applied), dict(self._resources), deltas)

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()
            self._resources.clear()
            self._data.clear()
            self._applied.clear()

    def close(self) -> None:
        """Nothing to release; kept for the :class:`Store` protocol."""


_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (event_id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS resources (
    key TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    epoch REAL NOT NULL,
    removed INTEGER NOT NULL,
    data TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS applied (seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL);
"""
_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")


class SqliteStore:
    """A durable store in one SQLite file: dedup memory and tombstones survive restarts.

    * WAL journal with ``synchronous=FULL`` by default: a commit is on disk before the receiver answers 2xx,
      so an acknowledged event is never forgotten, across a SIGKILL and even a power loss. ``NORMAL`` is
      faster and still safe across a process crash (only an OS crash can lose the last commits).
    * One connection shared by the process's threads, guarded by a lock; transactions are
      ``BEGIN IMMEDIATE``, so other processes on the same file are serialised too (with ``busy_timeout``
      waiting up to ``busy_timeout`` seconds for the write lock, then :class:`StoreError`).
    * Every lookup goes through a primary key, so a 10-event batch costs a few dozen B-tree probes and one
      commit.
    """

    def __init__(self, path: str | os.PathLike[str], *, synchronous: str = "FULL", busy_timeout: float = 5.0) -> None:
        level = synchronous.upper()
        if level not in _SYNCHRONOUS:
            raise UsageError(f"synchronous={synchronous!r} is not a SQLite level: use one of {', '.join(_SYNCHRONOUS)}")
        self.path = os.fspath(path)
        self._lock = threading.RLock()
        self._depth = 0
        try:
            self._conn: sqlite3.Connection | None = sqlite3.connect(
                self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite store {self.path!r}: {exc}") from exc
        try:
            with self._errors():
                conn = self._conn
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(f"PRAGMA synchronous={level}")
                conn.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
                with self.transaction():
                    version = conn.execute("PRAGMA user_version").fetchone()[0]
                    if version not in (0, _SCHEMA_VERSION):
                        raise StoreError(f"{self.path!r} is not a receiver store (schema version {version})")
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"SqliteStore({self.path!r})"

    @contextlib.contextmanager
    def _errors(self) -> Iterator[sqlite3.Connection]:
        if self._conn is None:
            raise StoreError(f"SQLite store {self.path!r} is closed")
        try:
            yield self._conn
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite store {self.path!r} failed: {exc}") from exc

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock, self._errors() as conn:
            if self._depth:  # nested: part of the outer transaction
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                conn.rollback()
                raise
            else:
                try:
                    conn.execute("COMMIT")
                except sqlite3.Error:
                    conn.rollback()
                    raise
            finally:
                self._depth = 0

    def seen(self, event_id: str) -> bool:
        with self._lock, self._errors() as conn:
            return conn.execute("SELECT 1 FROM seen WHERE event_id = ?", (event_id,)).fetchone() is not None

    def mark_seen(self, event_id: str) -> bool:
        with self._lock, self._errors() as conn:
            return conn.execute("INSERT OR IGNORE INTO seen (event_id) VALUES (?)", (event_id,)).rowcount == 1

    def current(self, key: str) -> ResourceState | None:
        with self._lock, self._errors() as conn:
            row = conn.execute("SELECT event_id, epoch, removed FROM resources WHERE key = ?", (key,)).fetchone()
        return None if row is None else ResourceState(row[0], row[1], bool(row[2]))

    def put(self, key: str, state: ResourceState, data: Mapping[str, Any] | None) -> None:
        text = dump_data(data)
        with self._lock, self._errors() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO resources (key, event_id, epoch, removed, data) VALUES (?, ?, ?, ?, ?)",
                (key, state.event_id, state.epoch, int(state.removed), text),
            )

    def data(self, key: str) -> Any:
        with self._lock, self._errors() as conn:
            row = conn.execute("SELECT data FROM resources WHERE key = ?", (key,)).fetchone()
        return None if row is None or row[0] is None else json.loads(row[0])

    def append_applied(self, event_id: str) -> None:
        with self._lock, self._errors() as conn:
            conn.execute("INSERT INTO applied (event_id) VALUES (?)", (event_id,))

    def observation(self) -> dict[str, Any]:
        with self.transaction(), self._errors() as conn:  # one consistent snapshot, even across processes
            applied = [row[0] for row in conn.execute("SELECT event_id FROM applied ORDER BY seq")]
            resources = {
                row[0]: ResourceState(row[1], row[2], bool(row[3]))
                for row in conn.execute("SELECT key, event_id, epoch, removed FROM resources")
            }
            deltas = dict(conn.execute("SELECT key, data FROM resources WHERE removed = 0 AND substr(data, 1, ?) = ?",
                                       (len(DELTA_PREFIX), DELTA_PREFIX)))
        return observation_of(applied, resources, deltas)

    def reset(self) -> None:
        with self.transaction(), self._errors() as conn:
            for table in ("seen", "resources", "applied"):
                conn.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                conn, self._conn = self._conn, None
                conn.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(spec: str) -> Store:
    """A store from a command-line spec: ``memory``, ``sqlite:PATH`` (``sqlite::memory:`` works too) or a
    PostgreSQL URL (:mod:`.postgres`, shared by replicas)."""
    text = spec.strip()
    if text.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresStore
        return PostgresStore(text)
    if text == "memory":
        return MemoryStore()
    if text.startswith("sqlite:") and text[len("sqlite:"):]:
        path = text[len("sqlite:"):]
        if path != ":memory:":
            _check_sqlite_path(spec, path)
        return SqliteStore(path)
    raise UsageError(
        f"unknown store {spec!r}: use 'memory' or 'sqlite:PATH' (for example sqlite:/tmp/receiver.db), or a "
        "PostgreSQL URL shared by replicas (postgresql://user@host/database)"
    )


def _check_sqlite_path(spec: str, path: str) -> None:
    """A usage error naming the fix when ``path`` cannot be a database file: its directory is missing, or it
    is a directory itself (SQLite would only say "unable to open database file")."""
    if os.path.isdir(path):
        raise UsageError(f"store {spec!r}: {path} is a directory: name a file in it, e.g. "
                         f"sqlite:{os.path.join(path, 'akeneo-events.sqlite3')}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"store {spec!r}: the directory {folder} does not exist: create it (mkdir -p {folder}) "
                         "or choose another path")
