"""Hand-made Events API events for the reference receiver's tests, and the secret and clock they are signed with."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from akeneo_events_testkit.events_api.wire import Event
from akeneo_events_testkit.versions import Action, AuthorType, format_event_datetime

SECRET = "3ha6eonoa9icsckw8kccos084w0c0000g08g40oo4kww0gc8w4"
NOW = 1_700_000_000
_ids = itertools.count(1)


def event(
    action: str = "product.updated",
    *,
    event_id: str | None = None,
    at: int = NOW - 60,
    offset: int = 0,
    identifier: str = "sku-1",
    product_uuid: str | None = None,
    code: str = "model-1",
) -> Event:
    act = Action(action)
    if act.entity == "product_model":
        resource: dict[str, Any] = {"code": code}
    else:
        resource = {"identifier": identifier} if product_uuid is None else {"uuid": product_uuid}
    if not act.is_removal:
        resource["values"] = {"name": [{"locale": None, "scope": None, "data": f"made at {at}"}]}
    return Event(
        act, event_id or str(uuid.UUID(int=next(_ids), version=4)), format_event_datetime(at, offset),
        "julia", AuthorType.UI, "https://demo.akeneo.com", {"resource": resource},
    )
