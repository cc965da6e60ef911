"""A correct Akeneo Events API receiver on Flask: verify the signature, deduplicate, keep the newest state.

Run it with ``flask --app flask_app:create_app run`` (secret in AKENEO_EVENTS_SECRET); ``GET /state`` serves
the observation the kit's oracle reads (``akeneo-events fuzz --url ... --state-url ...``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
from datetime import datetime
from typing import Any

from flask import Flask, jsonify, request

TOLERANCE = 300  # seconds allowed between the PIM's timestamp and our clock, both ways


def parse(event: Any) -> tuple[str, str, float, bool]:
    """(event_id, resource key, event time, removed) of one event; raises on anything malformed."""
    resource = event["data"]["resource"]
    key = ("product_model:" + resource["code"] if event["action"].startswith("product_model.")
           else "product:" + (resource.get("uuid") or resource["identifier"]))
    when = datetime.fromisoformat(event["event_datetime"]).timestamp()
    if not isinstance(event["event_id"], str):
        raise TypeError("event_id")
    return event["event_id"], key, when, event["action"].endswith(".removed")


def create_app(secret: str | None = None) -> Flask:
    key = (secret or os.environ["AKENEO_EVENTS_SECRET"]).encode()
    app = Flask(__name__)
    lock = threading.Lock()
    seen: set[str] = set()
    applied: list[str] = []
    current: dict[str, tuple[float, str, bool]] = {}  # resource -> (time, event_id, removed); removals stay

    @app.post("/webhook")
    def webhook() -> Any:
        body = request.get_data()
        timestamp = request.headers.get("X-Akeneo-Request-Timestamp", "")
        signature = request.headers.get("X-Akeneo-Request-Signature", "")
        expected = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        fresh = timestamp.isascii() and timestamp.isdigit() and abs(time.time() - int(timestamp)) <= TOLERANCE
        if not (fresh and hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))):
            return jsonify(error="not signed by the PIM"), 401
        if not body:  # the "Test" button of the PIM's event subscription
            return jsonify(test=True)
        try:
            events = [parse(event) for event in json.loads(body)["events"]]
        except (ValueError, KeyError, TypeError, AttributeError):
            return jsonify(error="not an Events API batch"), 400
        with lock:
            for event_id, resource, when, removed in events:
                if event_id in seen:
                    continue  # Pub/Sub redelivers: apply each event once
                seen.add(event_id)
                if resource in current and when < current[resource][0]:
                    continue  # arrived late: a newer event already holds this resource
                current[resource] = (when, event_id, removed)
                applied.append(event_id)
        return jsonify(ok=True)

    @app.get("/state")
    def state() -> Any:
        with lock:
            resources = {k: {"event_id": v[1], "removed": v[2]} for k, v in current.items()}
            return jsonify(applied=list(applied), resources=resources)

    return app
