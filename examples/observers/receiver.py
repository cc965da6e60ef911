"""A correct Events API receiver with no /state endpoint, in the standard library alone: its effect is a
downstream call (``--forward URL``), a row in its own SQLite table (``--database PATH``) or a log line on
its standard output (``--log``). ``akeneo-events fuzz`` observes it with ``--sink``, ``--observe-sql`` or
``--observe-log`` (README: observers). Run: ``AKENEO_EVENTS_SECRET=... PORT=8000 python3 receiver.py --log``
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
from typing import Any

from effects import Effects, key_of, parse_options, valid  # beside this file

SECRET = os.environ["AKENEO_EVENTS_SECRET"].encode()
lock = threading.Lock()
seen: set[str] = set()
current: dict[str, float] = {}  # resource key -> event time of the event applied last


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
    options = parse_options(__doc__.splitlines()[0])
    Handler.effects = effects_class(options)
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "8000"))), Handler)
    if options.exit_with_stdin:
        threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
