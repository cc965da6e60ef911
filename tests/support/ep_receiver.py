"""A minimal correct Event Platform receiver with switchable bugs, and the virtual start time of the
Event Platform tests (event-platform-facts.md sections 3 and 6)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from typing import Any

from akeneo_events_testkit.event_platform.signing import ALGORITHM_HEADER, PRIMARY_HEADER, sign_body, verify_ep
from akeneo_events_testkit.event_platform.wire import encode, ep_resource_key

from .asgi import read_body

#: The virtual clock's start (2023-11-14T22:13:20Z) in the Event Platform tests.
START = 1_700_000_000

Script = Callable[[dict[str, Any], int], "int | None"]


class EpReceiver:
    """A minimal correct Event Platform receiver (ASGI), with switchable bugs for the gallery.

    Verifies either signature against every secret held over the raw bytes, deduplicates on ``id``,
    ignores events older than the resource's current ``time`` (ties applied), tombstones ``*.deleted``,
    drops events authored by its own ``api`` client id (section 6) and reports the delta state it patched
    from ``*.updated.delta`` events (``track_deltas``).
    """

    def __init__(self, secrets: Sequence[str], *, own_client_id: str | None = None,
                 bugs: Sequence[str] = (), script: Script | None = None, delay: float = 0.0,
                 track_deltas: bool = True, acts_on: Callable[[dict[str, Any]], bool] | None = None) -> None:
        self.secrets = list(secrets)
        #: what a partial receiver acts on (a price watcher...): the other events are acknowledged, not applied
        self.acts_on = acts_on
        self.own_client_id = own_client_id
        self.bugs = frozenset(bugs)
        self.script = script
        self.delay = delay
        self.applied: list[str] = []
        self.resources: dict[str, dict[str, Any]] = {}
        self.seen: set[str] = set()
        self.calls: dict[str, int] = {}
        self.received: list[str] = []
        self.deltas: dict[str, dict[str, Any]] = {}
        self.track_deltas = track_deltas

    def verify(self, body: bytes, headers: dict[str, str]) -> bool:
        if "no_verify" in self.bugs:
            return True
        if "follows_algorithm" in self.bugs and headers.get(ALGORITHM_HEADER.lower()) == "HmacSHA1":
            return any(hmac.new(s.encode(), body, hashlib.sha1).hexdigest() == headers.get(PRIMARY_HEADER.lower())
                       for s in self.secrets)
        if "ignores_algorithm" in self.bugs:
            headers = {**headers, ALGORITHM_HEADER.lower(): "HmacSHA256"}
        if "reserialised" in self.bugs:
            try:
                body = encode(json.loads(body))
            except ValueError:
                return False
        if "primary_only" in self.bugs:
            sent = headers.get(PRIMARY_HEADER.lower(), "")
            return any(sign_body(s, body) == sent for s in self.secrets)
        return verify_ep(body, headers, self.secrets)

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        if not self.verify(body, headers):
            return 401
        try:
            event = json.loads(body)
            event_id, when, kind = str(event["id"]), str(event["time"]), str(event["type"])
            data = event.get("data") if "trusts_data" in self.bugs else event["data"]  # the bug: None, then raises
        except (ValueError, KeyError, TypeError):
            return 400
        self.calls[event_id] = self.calls.get(event_id, 0) + 1
        self.received.append(event_id)
        if self.script is not None:
            status = self.script(event, self.calls[event_id])
            if status is not None:
                return status
        key = ep_resource_key(event)
        if "not_found_unknown" in self.bugs and kind.endswith("updated") and key not in self.resources:
            return 404
        if event_id in self.seen and "no_dedupe" not in self.bugs:
            return 200
        self.seen.add(event_id)
        author = data.get("author") or {}
        if (self.own_client_id and author.get("type") == "api" and author.get("identifier") == self.own_client_id
                and "processes_own" not in self.bugs):
            return 200
        if "ignore_deletes" in self.bugs and kind.endswith(".deleted"):
            return 200
        if self.acts_on is not None and not self.acts_on(event):
            return 200
        current = self.resources.get(key)
        changes = next((v.get("changes") for v in data.values() if isinstance(v, dict) and "changes" in v), None)
        if "delta_any_order" in self.bugs and changes:
            self.patch(key, changes)  # the bug: fields patched before the staleness check
        # the bug: option events applied as they come, as if the platform delivered them in order
        in_order = "options_any_order" in self.bugs and ".attribute-option." in kind
        if current is not None and when < current["time"] and "no_staleness" not in self.bugs and not in_order:
            return 200
        self.applied.append(event_id)
        removed = kind.endswith(".deleted")
        if removed and "forgets_category_tombstones" in self.bugs and ".category." in kind:
            self.resources.pop(key, None)  # the bug: a deleted category is forgotten, not tombstoned
            return 200
        self.resources[key] = {"event_id": event_id, "removed": removed, "time": when}
        if removed:
            self.deltas.pop(key, None)
        elif changes and "delta_any_order" not in self.bugs:
            self.patch(key, changes)
        else:
            self.deltas.setdefault(key, {"values": {}})
        return 200

    def patch(self, key: str, changes: dict[str, Any]) -> None:
        """The delta state, written apart from the kit's ``apply_delta`` so that each checks the other."""
        state = self.deltas.setdefault(key, {"values": {}})
        for name in ("enabled", "family", "parent"):
            if name in changes:
                state[name] = changes[name]["new"]
        for code, items in changes.get("values", {}).items():
            slots = {(i["locale"], i["scope"]): i["data"] for i in state["values"].get(code, [])}
            for item in items:
                slots[(item["locale"], item["scope"])] = item["new"]
            kept = [{"locale": loc, "scope": sc, "data": d} for (loc, sc), d in slots.items() if d is not None]
            state["values"][code] = kept
            if not kept:
                del state["values"][code]

    def observation(self) -> dict[str, Any]:
        resources: dict[str, Any] = {}
        for key, value in self.resources.items():
            resources[key] = {"event_id": value["event_id"], "removed": value["removed"]}
            if self.track_deltas and key in self.deltas and not value["removed"]:
                resources[key]["delta"] = self.deltas[key]
        return {"applied": list(self.applied), "resources": resources}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self.handle(headers, body)
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})


class RacyStalenessReceiver(EpReceiver):
    """A receiver correct but for one race: it checks staleness non-atomically, as code backed by a database
    does (read the resource's ``time``, await a store round trip, write without looking again). Of two
    events of one resource in flight together, the one that writes last wins, older or not
    (event-platform-facts.md section 3: concurrent deliveries). Dedupe and its own-event rule are atomic."""

    def __init__(self, secrets: Sequence[str], *, round_trip: float = 0.05, **options: Any) -> None:
        super().__init__(secrets, track_deltas=False, **options)
        self.round_trip = round_trip

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        status = await self.deliver(headers, body)
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    async def deliver(self, headers: dict[str, str], body: bytes) -> int:
        if not self.verify(body, headers):
            return 401
        try:
            event = json.loads(body)
            event_id, when, kind, data = str(event["id"]), str(event["time"]), str(event["type"]), event["data"]
        except (ValueError, KeyError, TypeError):
            return 400
        if event_id in self.seen:
            return 200
        self.seen.add(event_id)
        author = data.get("author") or {}
        if self.own_client_id and author.get("type") == "api" and author.get("identifier") == self.own_client_id:
            return 200
        key = ep_resource_key(event)
        current = self.resources.get(key)  # read
        await asyncio.sleep(self.round_trip)  # the store's round trip: another request may write meanwhile
        if current is not None and when < current["time"]:
            return 200
        self.applied.append(event_id)  # write, on what was read before the wait
        self.resources[key] = {"event_id": event_id, "removed": kind.endswith(".deleted"), "time": when}
        return 200


class Overlap:
    """Wraps an ASGI app: holds each request ``pause`` seconds before handing it on, and counts the requests
    being handled at once (``most``), to see the platform's requests really run together."""

    def __init__(self, app: Any, *, pause: float = 0.05, delay: Callable[[int], float] | None = None) -> None:
        self.app = app
        self.pause = pause
        #: seconds a request waits instead of ``pause``, given how many were being handled when it arrived (its
        #: place in its group: a group's requests all arrive before any is answered)
        self.delay = delay
        self.active = 0
        self.most = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        place = self.active
        self.active += 1
        self.most = max(self.most, self.active)
        try:
            await asyncio.sleep(self.pause if self.delay is None else self.delay(place))
            await self.app(scope, receive, send)
        finally:
            self.active -= 1
