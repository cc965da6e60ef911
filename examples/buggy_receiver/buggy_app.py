"""A receiver with a classic bug: it trusts the PIM to send each event once, so it never deduplicates.

Everything else is right (signature, Test request, newest event wins), which is why the bug survives
hand-written tests: only a redelivery, which Pub/Sub makes at random in production, shows it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask, jsonify, request


def create_app(secret: str, on_apply: Callable[[dict[str, Any]], None]) -> Flask:
    """The receiver; ``on_apply(event)`` runs for every event it applies (e.g. to update a search index)."""
    app = Flask(__name__)
    newest: dict[str, float] = {}  # resource -> time of the event applied last

    @app.post("/webhook")
    def webhook() -> Any:
        body = request.get_data()
        timestamp = request.headers.get("X-Akeneo-Request-Timestamp", "")
        signature = request.headers.get("X-Akeneo-Request-Signature", "")
        expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        fresh = timestamp.isascii() and timestamp.isdigit() and abs(time.time() - int(timestamp)) <= 300
        if not (fresh and hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))):
            return jsonify(error="not signed by the PIM"), 401
        if not body:
            return jsonify(test=True)
        try:
            events = json.loads(body)["events"]
            resources = [e["data"]["resource"] for e in events]
            keys = [str(r.get("uuid") or r.get("identifier") or r.get("code")) for r in resources]
            times = [datetime.fromisoformat(e["event_datetime"]).timestamp() for e in events]
        except (ValueError, KeyError, TypeError, AttributeError):
            return jsonify(error="not an Events API batch"), 400
        for event, key, when in zip(events, keys, times, strict=True):
            if when >= newest.get(key, 0.0):  # BUG: a redelivered event passes this test again
                newest[key] = when
                on_apply(event)
        return jsonify(ok=True)

    return app
