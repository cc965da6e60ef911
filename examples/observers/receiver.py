"""A correct Events API receiver with no /state endpoint, in the standard library alone: its effect is a
downstream call (``--forward URL``), a row in its own SQLite table (``--database PATH``) or a log line on
its standard output (``--log``). ``akeneo-events fuzz`` observes it with ``--sink``, ``--observe-sql`` or
``--observe-log`` (README: observers).

    AKENEO_EVENTS_SECRET=... PORT=8000 python3 receiver.py --database receiver.db
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import re
import sqlite3
import sys
import threading
import time
import urllib.request
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET = os.environ["AKENEO_EVENTS_SECRET"].encode()
ACTION = re.compile(r"^product(_model)?\.(created|updated|removed)$")
lock = threading.Lock()
seen: set[str] = set()
current: dict[str, float] = {}  # resource key -> event time of the event applied last


def key_of(event: dict[str, Any]) -> str:
    resource = event["data"]["resource"]
    if event["action"].startswith("product_model"):
        return f"product_model:{resource['code']}"
    return f"product:{resource.get('uuid') or resource['identifier']}"


def valid(event: Any) -> bool:
    try:
        datetime.fromisoformat(event["event_datetime"])
        return isinstance(event["event_id"], str) and bool(ACTION.match(event["action"])) \
            and isinstance(key_of(event), str)
    except (KeyError, TypeError, ValueError, AttributeError):
        return False


class Effects:
    """What applying an event does: forward it, write a row, or print a line."""

    def __init__(self, options: argparse.Namespace) -> None:
        self.forward, self.log = options.forward, options.log
        self.db = sqlite3.connect(options.database, check_same_thread=False) if options.database else None
        if self.db is not None:
            self.db.execute("CREATE TABLE IF NOT EXISTS applications (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
                            "event_id TEXT NOT NULL, resource_key TEXT NOT NULL, removed INTEGER NOT NULL)")
            self.db.commit()

    def apply(self, event: dict[str, Any], key: str, removed: bool) -> None:
        if self.forward:
            resource = event["data"]["resource"]
            kind = "product_model" if key.startswith("product_model:") else "product"
            body = {"event": {"id": event["event_id"], "action": event["action"]},
                    kind: {name: resource.get(name) for name in ("uuid", "identifier", "code") if name in resource},
                    "deleted": removed}
            request = urllib.request.Request(self.forward, json.dumps(body).encode(), method="POST",
                                             headers={"Content-Type": "application/json"})
            urllib.request.urlopen(request, timeout=5).close()
        if self.db is not None:
            self.db.execute("INSERT INTO applications (event_id, resource_key, removed) VALUES (?, ?, ?)",
                            (event["event_id"], key, int(removed)))
        if self.log:
            print(f"applied {event['event_id']} {key}{' removed' if removed else ''}", flush=True)

    def commit(self) -> None:
        if self.db is not None:
            self.db.commit()


class Handler(BaseHTTPRequestHandler):
    effects: Effects

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
            return self.answer(400)  # a malformed event: refuse the whole batch
        with lock:
            for event in events:
                if event["event_id"] in seen:
                    continue  # deduplicate by event_id
                seen.add(event["event_id"])
                key, at = key_of(event), datetime.fromisoformat(event["event_datetime"]).timestamp()
                if key in current and at < current[key]:
                    continue  # outdated (ties may apply)
                current[key] = at
                self.effects.apply(event, key, event["action"].endswith(".removed"))
            self.effects.commit()
        self.answer(200)

    def answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # only the effect lines go to the output


def main(effects_class: type[Effects] = Effects) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forward", metavar="URL", help="POST each applied event to URL (a sink)")
    parser.add_argument("--database", metavar="PATH", help="write each application to a SQLite table")
    parser.add_argument("--log", action="store_true", help="print one line per application")
    parser.add_argument("--exit-with-stdin", action="store_true", help="stop when standard input closes (tests)")
    options = parser.parse_args()
    Handler.effects = effects_class(options)
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "8000"))), Handler)
    if options.exit_with_stdin:
        threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
