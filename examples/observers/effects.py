"""What examples/observers/receiver.py checks (a valid event, its resource key) and does (its effects)."""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import urllib.request
from datetime import datetime
from typing import Any

ACTION = re.compile(r"^product(_model)?\.(created|updated|removed)$")


class Effects:
    """What applying an event does: forward it, write a row, or print a line."""

    def __init__(self, options: argparse.Namespace) -> None:
        self.forward, self.log = options.forward, options.log
        self.db: Any = None
        table = "applications (seq {}, event_id TEXT NOT NULL, resource_key TEXT NOT NULL, removed BOOLEAN NOT NULL)"
        if options.database and options.database.startswith("postgresql://"):
            import psycopg  # pip install "psycopg[binary]"

            self.db, self.mark = psycopg.connect(options.database), "%s"
            self.db.execute("CREATE TABLE IF NOT EXISTS " + table.format("BIGSERIAL PRIMARY KEY"))
        elif options.database:
            self.db, self.mark = sqlite3.connect(options.database, check_same_thread=False), "?"
            self.db.execute("CREATE TABLE IF NOT EXISTS " + table.format("INTEGER PRIMARY KEY AUTOINCREMENT"))
        if self.db is not None:
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
            marks = ", ".join([self.mark] * 3)
            self.db.execute(f"INSERT INTO applications (event_id, resource_key, removed) VALUES ({marks})",
                            (event["event_id"], key, removed))
        if self.log:
            print(f"applied {event['event_id']} {key}{' removed' if removed else ''}", flush=True)

    def commit(self) -> None:
        if self.db is not None:
            self.db.commit()


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


def parse_options(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--forward", metavar="URL", help="POST each applied event to URL (a sink)")
    parser.add_argument("--database", metavar="PATH", help="write each application to a table: a SQLite file "
                        "or a postgresql:// URL")
    parser.add_argument("--log", action="store_true", help="print one line per application")
    parser.add_argument("--exit-with-stdin", action="store_true", help="stop when standard input closes (tests)")
    return parser.parse_args()
