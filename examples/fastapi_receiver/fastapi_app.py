"""A correct Akeneo Events API receiver on FastAPI (ASGI): verify, deduplicate, keep the newest state.

Serve it with ``uvicorn fastapi_app:create_app --factory`` (secret in AKENEO_EVENTS_SECRET). The route reads
the raw ``Request`` body: the signature covers those exact bytes, not a re-serialised model.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

TOLERANCE = 300  # seconds allowed between the PIM's timestamp and our clock, both ways


def parse(event: Any) -> tuple[str, str, float, bool]:
    """(event_id, resource key, event time, removed) of one event; raises on anything malformed."""
    resource = event["data"]["resource"]
    key = ("product_model:" + resource["code"] if event["action"].startswith("product_model.")
           else "product:" + (resource.get("uuid") or resource["identifier"]))
    if not isinstance(event["event_id"], str):
        raise TypeError("event_id")
    when = datetime.fromisoformat(event["event_datetime"]).timestamp()
    return event["event_id"], key, when, event["action"].endswith(".removed")


def create_app(secret: str | None = None) -> FastAPI:
    key = (secret or os.environ["AKENEO_EVENTS_SECRET"]).encode()
    seen: set[str] = set()
    applied: list[str] = []
    current: dict[str, tuple[float, str, bool]] = {}  # resource -> (time, event_id, removed); removals stay

    app = FastAPI()

    @app.post("/webhook")
    async def webhook(request: Request) -> JSONResponse:
        body = await request.body()
        timestamp = request.headers.get("X-Akeneo-Request-Timestamp", "")
        signature = request.headers.get("X-Akeneo-Request-Signature", "")
        expected = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        fresh = timestamp.isascii() and timestamp.isdigit() and abs(time.time() - int(timestamp)) <= TOLERANCE
        if not (fresh and hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))):
            return JSONResponse({"error": "not signed by the PIM"}, 401)
        if not body:  # the "Test" button of the PIM's event subscription
            return JSONResponse({"test": True})
        try:
            events = [parse(event) for event in json.loads(body)["events"]]
        except (ValueError, KeyError, TypeError, AttributeError):
            return JSONResponse({"error": "not an Events API batch"}, 400)
        for event_id, resource, when, removed in events:  # no await inside: atomic on the event loop
            if event_id in seen:
                continue  # Pub/Sub redelivers: apply each event once
            seen.add(event_id)
            if resource in current and when < current[resource][0]:
                continue  # arrived late: a newer event already holds this resource
            current[resource] = (when, event_id, removed)
            applied.append(event_id)
        return JSONResponse({"ok": True})

    def observation() -> dict[str, Any]:
        resources = {k: {"event_id": v[1], "removed": v[2]} for k, v in current.items()}
        return {"applied": list(applied), "resources": resources}

    @app.get("/state")
    async def state() -> JSONResponse:
        return JSONResponse(observation())

    app.state.observation = observation
    return app
