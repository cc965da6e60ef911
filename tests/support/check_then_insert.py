"""A gallery receiver for replicas: it dedupes with check-then-insert on a shared PostgreSQL database.

Written like the code it stands for: each request checks which of its events were seen (``SELECT``), applies
the new ones, then marks them seen (``INSERT``), in separate autocommitted statements and no transaction.
Each request has its own connection, as in a web framework's connection pool; two copies of one request
(on two replicas behind a balancer) get through the check at once, and both apply it: ``duplicate_applied``.

Between the check and the insert, a real receiver does its slow part (a downstream call, a file to write).
Here that part is a hold that makes the race window certain rather than lucky: after its check, a request
records its first new event id in ``checking`` and waits (polling the database) until a second request with
that id has been checked too, or ``HOLD`` seconds have passed. The kit's ``replica_race`` fault writes both
copies at the same moment, so the second copy's check lands inside the first one's hold unless the machine
stalls one copy for longer than ``HOLD``; a request that has no copy waits the whole ``HOLD``, which stays
under the PIM's 0.5 s timeout.

Run: ``AKENEO_EVENTS_SECRET=... PORT=8001 python3 check_then_insert.py postgresql://... [--exit-with-stdin]``;
``GET /state`` serves the observation from the shared tables.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "observers"
sys.path.insert(0, str(EXAMPLE))

from effects import key_of, valid  # noqa: E402  (the example's module, found through the path above)

SECRET = os.environ["AKENEO_EVENTS_SECRET"].encode()
HOLD = 0.25  # seconds a request waits between its check and its insert, at most
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS seen (event_id TEXT PRIMARY KEY)",
    "CREATE TABLE IF NOT EXISTS checking (event_id TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS resources (key TEXT PRIMARY KEY, event_id TEXT NOT NULL, "
    "epoch DOUBLE PRECISION NOT NULL, removed BOOLEAN NOT NULL)",
    "CREATE TABLE IF NOT EXISTS applied (seq BIGSERIAL PRIMARY KEY, event_id TEXT NOT NULL)",
)
URL = ""


def hold(database: Any, event_id: str) -> None:
    """Wait until another request with ``event_id`` was checked too, or ``HOLD`` seconds (module docstring)."""
    database.execute("INSERT INTO checking (event_id) VALUES (%s)", (event_id,))
    deadline = time.monotonic() + HOLD
    while time.monotonic() < deadline:
        count = database.execute("SELECT count(*) FROM checking WHERE event_id = %s", (event_id,)).fetchone()[0]
        if count >= 2:
            return
        time.sleep(0.005)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/state":
            return self.answer(404)
        with psycopg.connect(URL, autocommit=True) as database:
            applied = [row[0] for row in database.execute("SELECT event_id FROM applied ORDER BY seq")]
            resources = {row[0]: {"event_id": row[1], "removed": row[2]}
                         for row in database.execute("SELECT key, event_id, removed FROM resources")}
        self.answer(200, json.dumps({"applied": applied, "resources": resources}).encode())

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        timestamp = self.headers.get("X-Akeneo-Request-Timestamp", "")
        good = hmac.new(SECRET, f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest().encode()
        given = self.headers.get("X-Akeneo-Request-Signature", "").encode("utf-8", "surrogateescape")
        fresh = timestamp.isascii() and timestamp.isdigit() and abs(time.time() - int(timestamp)) <= 300
        if not fresh or not hmac.compare_digest(given, good):
            return self.answer(401)
        if not raw:
            return self.answer(200)  # the PIM's "Test" button
        try:
            events = json.loads(raw)["events"]
        except (ValueError, KeyError, TypeError):
            events = None
        if not isinstance(events, list) or not 1 <= len(events) <= 10 or not all(map(valid, events)):
            return self.answer(400)
        with psycopg.connect(URL, autocommit=True) as database:
            new = []
            for event in events:  # the check
                found = database.execute("SELECT 1 FROM seen WHERE event_id = %s", (event["event_id"],)).fetchone()
                if found is None and event["event_id"] not in {e["event_id"] for e in new}:
                    new.append(event)
            if new:
                hold(database, new[0]["event_id"])
            for event in new:  # the apply, then the insert
                key, at = key_of(event), datetime.fromisoformat(event["event_datetime"]).timestamp()
                row = database.execute("SELECT epoch FROM resources WHERE key = %s", (key,)).fetchone()
                if row is None or at >= row[0]:
                    database.execute(
                        "INSERT INTO resources (key, event_id, epoch, removed) VALUES (%s, %s, %s, %s) "
                        "ON CONFLICT (key) DO UPDATE SET event_id = excluded.event_id, epoch = excluded.epoch, "
                        "removed = excluded.removed",
                        (key, event["event_id"], at, event["action"].endswith(".removed")))
                    database.execute("INSERT INTO applied (event_id) VALUES (%s)", (event["event_id"],))
                database.execute("INSERT INTO seen (event_id) VALUES (%s) ON CONFLICT DO NOTHING",
                                 (event["event_id"],))
        self.answer(200)

    def answer(self, status: int, body: bytes = b"") -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def main() -> None:
    global URL
    URL = sys.argv[1]
    with psycopg.connect(URL, autocommit=True) as database:
        for statement in SCHEMA:  # replicas start one after another: no race on the schema
            database.execute(statement)
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "8000"))), Handler)
    if "--exit-with-stdin" in sys.argv:
        threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
