"""The reference receiver with Event Platform deliveries, next to Events API ones (by headers)."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.errors import UsageError
from akeneo_events_testkit.event_platform.signing import (
    ALGORITHM_HEADER,
    PRIMARY_HEADER,
    SECONDARY_HEADER,
    EpSecrets,
    ep_headers,
)
from akeneo_events_testkit.event_platform.wire import cloud_event, encode
from akeneo_events_testkit.events_api.wire import Delivery, Event
from akeneo_events_testkit.receiver import ReferenceReceiver, Response
from akeneo_events_testkit.versions import Action, AuthorType, format_event_datetime

SECRET = "3ha6eonoa9icsckw8kccos084w0c0000g08g40oo4kww0gc8w4"
NEW = "n3w-s3cret-after-rotation-000000000"
NOW = 1_700_000_000
UUID = "1fd20ad8-ef95-49d7-a581-fb9f8ac0c5ad"
PLATFORM = EpSecrets(SECRET)


def ce(action: Action = Action.PRODUCT_UPDATED, *, epoch: int = NOW, uuid: str = UUID, code: str = "m1",
       author: str = "julia", author_type: AuthorType = AuthorType.UI, seed: int = 1,
       changes: dict[str, Any] | None = None) -> dict[str, Any]:
    event = cloud_event(action=action, resource={"uuid": uuid, "code": code}, epoch=epoch, author=author,
                        author_type=author_type, rng=random.Random(seed), subscription_id="sub", changes=changes)
    return dict(event.body)


def post(receiver: ReferenceReceiver, body: bytes, secrets: EpSecrets = PLATFORM,
         headers: dict[str, str] | None = None) -> Response:
    sent = dict(ep_headers(body, secrets)) if headers is None else headers
    return receiver.handle("POST", "/webhook", sent, body)


def deliver(receiver: ReferenceReceiver, event: dict[str, Any], **options: Any) -> Response:
    return post(receiver, encode(event), **options)


@pytest.fixture
def receiver() -> ReferenceReceiver:
    return ReferenceReceiver(SECRET, clock=FakeClock(NOW), own_client_id="erp_client")


def test_both_profiles_accepted_by_headers(receiver: ReferenceReceiver) -> None:
    ep = ce()
    response = deliver(receiver, ep)
    assert response.status == 200
    assert response.json() == {"applied": 1, "duplicates": 0, "stale": 0, "self_triggered": 0, "ignored": 0}
    event = Event(Action.PRODUCT_UPDATED, "7abae2fe-759a-4fce-aa43-f413980671b3", format_event_datetime(NOW),
                  "julia", AuthorType.UI, "https://demo.akeneo.com",
                  {"resource": {"uuid": "2fd20ad8-ef95-49d7-a581-fb9f8ac0c5ad", "identifier": "x"}})
    delivery = Delivery.build([event], secret=SECRET, timestamp=NOW)
    events_api = receiver.handle("POST", "/webhook", dict(delivery.headers), delivery.body)
    assert events_api.status == 200
    observed = receiver.observation()
    assert observed["applied"] == [ep["id"], "7abae2fe-759a-4fce-aa43-f413980671b3"]
    assert set(observed["resources"]) == {f"product:{UUID}", "product:2fd20ad8-ef95-49d7-a581-fb9f8ac0c5ad"}
    assert receiver.internal_errors == []


def test_no_timestamp_check(receiver: ReferenceReceiver) -> None:
    """The platform sends no timestamp (section 2): an event from long ago is still authentic."""
    assert deliver(receiver, ce(epoch=NOW - 30 * 86_400)).status == 200


def test_dedup_on_id(receiver: ReferenceReceiver) -> None:
    event = ce()
    assert deliver(receiver, event).json()["applied"] == 1
    again = deliver(receiver, event)
    assert again.status == 200 and again.json()["duplicates"] == 1
    assert receiver.observation()["applied"] == [event["id"]]


def test_staleness_by_time_and_tombstones(receiver: ReferenceReceiver) -> None:
    newer, older = ce(epoch=NOW + 10, seed=2), ce(epoch=NOW, seed=3)
    assert deliver(receiver, newer).json()["applied"] == 1
    assert deliver(receiver, older).json()["stale"] == 1
    removal = ce(Action.PRODUCT_REMOVED, epoch=NOW + 20, seed=4)
    assert deliver(receiver, removal).json()["applied"] == 1
    late = ce(epoch=NOW + 15, seed=5)
    assert deliver(receiver, late).json()["stale"] == 1
    assert receiver.observation()["resources"][f"product:{UUID}"] == {"event_id": removal["id"], "removed": True}
    assert receiver.resource(f"product:{UUID}") is None
    created = ce(Action.PRODUCT_CREATED, epoch=NOW + 30, seed=6)
    assert deliver(receiver, created).json()["applied"] == 1
    assert receiver.observation()["resources"][f"product:{UUID}"]["removed"] is False


def test_delta_applied_as_update_and_product_models(receiver: ReferenceReceiver) -> None:
    delta = ce(changes={"enabled": {"previous": True, "new": False}}, seed=7)
    assert delta["type"].endswith(".updated.delta")
    assert deliver(receiver, delta).json()["applied"] == 1
    model = ce(Action.PRODUCT_MODEL_REMOVED, seed=8)
    assert deliver(receiver, model).json()["applied"] == 1
    resources = receiver.observation()["resources"]
    assert resources == {f"product:{UUID}": {"event_id": delta["id"], "removed": False,
                                             "delta": {"enabled": False, "values": {}}},
                         "product_model:m1": {"event_id": model["id"], "removed": True}}


def value_change(code: str, previous: Any, new: Any, locale: str | None = None) -> dict[str, Any]:
    return {"values": {code: [{"previous": previous, "new": new, "type": "pim_catalog_text", "locale": locale,
                               "scope": None}]}}


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_delta_state_follows_time_not_arrival(store: str, tmp_path: Any) -> None:
    """The delta state patches fields in ``time`` order: an outdated delta is ignored whole, a removed
    value leaves its slot, a thin update keeps what the deltas said, a deletion ends it (both stores)."""
    from akeneo_events_testkit.receiver import SqliteStore

    receiver = ReferenceReceiver(SECRET, clock=FakeClock(NOW), store=SqliteStore(tmp_path / "r.db")
                                 if store == "sqlite" else None)
    try:
        key = f"product:{UUID}"
        first = ce(epoch=NOW, seed=20, changes={**value_change("name", None, "Chair", "en_US"),
                                               "family": {"previous": None, "new": "chairs"}})
        third = ce(epoch=NOW + 20, seed=21, changes=value_change("name", "Table", "Desk", "en_US"))
        second = ce(epoch=NOW + 10, seed=22, changes=value_change("name", "Chair", "Table", "en_US"))
        for event in (first, third, second):  # the second arrives last: outdated, ignored
            deliver(receiver, event)
        assert receiver.observation()["resources"][key]["delta"] == {
            "family": "chairs", "values": {"name": [{"locale": "en_US", "scope": None, "data": "Desk"}]}}
        deliver(receiver, ce(epoch=NOW + 30, seed=23, changes=value_change("name", "Desk", None, "en_US")))
        deliver(receiver, ce(epoch=NOW + 40, seed=24))  # a thin update: nothing to patch
        assert receiver.observation()["resources"][key]["delta"] == {"family": "chairs", "values": {}}
        deliver(receiver, ce(Action.PRODUCT_REMOVED, epoch=NOW + 50, seed=25))
        assert receiver.observation()["resources"][key] == {"event_id": receiver.observation()["applied"][-1],
                                                            "removed": True}
        deliver(receiver, ce(Action.PRODUCT_CREATED, epoch=NOW + 60, seed=26))
        assert receiver.observation()["resources"][key]["delta"] == {"values": {}}
    finally:
        receiver.close()


def test_a_delta_without_changes_is_malformed(receiver: ReferenceReceiver) -> None:
    event = ce(changes={"enabled": {"previous": True, "new": False}})
    event["data"]["product"]["changes"] = ["enabled"]
    assert deliver(receiver, event).status == 400
    assert receiver.observation() == {"applied": [], "resources": {}}


def test_self_triggered_events_dropped(receiver: ReferenceReceiver) -> None:
    own = ce(author="erp_client", author_type=AuthorType.API, seed=9)
    response = deliver(receiver, own)
    assert response.status == 200 and response.json()["self_triggered"] == 1
    assert receiver.observation() == {"applied": [], "resources": {}}
    other_api = ce(author="other_client", author_type=AuthorType.API, seed=10)
    user_named_like_us = ce(author="erp_client", author_type=AuthorType.UI, seed=11, epoch=NOW + 1)
    assert deliver(receiver, other_api).json()["applied"] == 1
    assert deliver(receiver, user_named_like_us).json()["applied"] == 1


def test_other_types_acknowledged_not_applied(receiver: ReferenceReceiver) -> None:
    event = ce()
    event["type"] = "com.akeneo.pim.v1.product.became-complete"
    event["data"] = {"product": {"uuid": UUID, "complete_on": [{"locale": "en_US", "scope": "ecommerce"}]}}
    assert deliver(receiver, event).json()["ignored"] == 1
    app = {**ce(seed=12), "type": "com.akeneo.pim.v1.app.deleted", "data": {"client_id": "an_app"}}
    assert deliver(receiver, app).json()["ignored"] == 1
    assert receiver.observation()["resources"] == {}


def test_structure_events_are_applied_as_resources(receiver: ReferenceReceiver) -> None:
    """Categories, options, jobs... are resources keyed by their codes (README: observation contract)."""
    family = {**ce(seed=12), "type": "com.akeneo.pim.v1.family.created", "data": {"family": {"code": "shoes"}}}
    assert deliver(receiver, family).json()["applied"] == 1
    option = {**ce(seed=13, epoch=NOW + 5), "type": "com.akeneo.pim.v1.attribute-option.deleted",
              "data": {"attribute_option": {"code": "red", "attribute": {"code": "color"}}}}
    assert deliver(receiver, option).json()["applied"] == 1
    job = {**ce(seed=14), "type": "com.akeneo.pim.v1.job.import.status-changed",
           "data": {"job": {"execution_id": 42, "code": "csv_import", "status": "completed"}}}
    assert deliver(receiver, job).json()["applied"] == 1
    resources = receiver.observation()["resources"]
    assert resources["family:shoes"]["removed"] is False and resources["job:42"]["removed"] is False
    assert resources["attribute_option:color:red"]["removed"] is True
    nameless = {**ce(seed=15), "type": "com.akeneo.pim.v1.asset.created", "data": {"asset": {"code": "x"}}}
    assert deliver(receiver, nameless).status == 400  # no asset family: no resource to apply it to


@pytest.mark.parametrize(("platform", "held"), [
    (EpSecrets(NEW, SECRET), [SECRET]),
    (EpSecrets(NEW, SECRET), [NEW]),
    (EpSecrets(NEW, SECRET), [SECRET, NEW]),
    (EpSecrets(SECRET, NEW), [NEW]),
    (EpSecrets(SECRET, NEW), [SECRET, NEW]),
])
def test_rotation(platform: EpSecrets, held: list[str]) -> None:
    receiver = ReferenceReceiver(SECRET, ep_secrets=held)
    assert deliver(receiver, ce(), secrets=platform).status == 200


def test_rotation_without_a_shared_secret_is_401() -> None:
    receiver = ReferenceReceiver(SECRET, ep_secrets=[NEW])
    response = deliver(receiver, ce(), secrets=EpSecrets(SECRET))
    assert response.status == 401
    assert response.header("WWW-Authenticate") == 'Akeneo-Signature realm="event-platform"'


def _signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return dict(ep_headers(body, EpSecrets(secret)))


@pytest.mark.parametrize("tamper", ["forged", "missing_algorithm", "wrong_algorithm", "no_signature",
                                    "repeated_signature", "wrong_secret"])
def test_authenticity_failures_are_401(receiver: ReferenceReceiver, tamper: str) -> None:
    body = encode(ce())
    headers: Any = _signed(body, NEW if tamper == "wrong_secret" else SECRET)
    if tamper == "forged":
        headers[PRIMARY_HEADER] = "a" * 64
    elif tamper == "missing_algorithm":
        del headers[ALGORITHM_HEADER]
    elif tamper == "wrong_algorithm":
        headers[ALGORITHM_HEADER] = "HmacSHA1"
    elif tamper == "no_signature":
        del headers[PRIMARY_HEADER]
    elif tamper == "repeated_signature":
        headers = [*headers.items(), (PRIMARY_HEADER, headers[PRIMARY_HEADER])]
    response = receiver.handle("POST", "/webhook", headers, body)
    assert response.status == 401, response.json()
    assert receiver.observation()["applied"] == []


def test_forged_primary_with_valid_secondary_accepted() -> None:
    receiver = ReferenceReceiver(SECRET, ep_secrets=[SECRET])
    body = encode(ce())
    headers = dict(ep_headers(body, EpSecrets(NEW, SECRET)))
    headers[PRIMARY_HEADER] = "0" * 64
    assert receiver.handle("POST", "/", headers, body).status == 200
    assert SECONDARY_HEADER in headers


def test_reformatted_body_fails_verification(receiver: ReferenceReceiver) -> None:
    """Signed over the compact bytes, delivered re-formatted: a receiver must verify the raw body."""
    event = ce()
    headers = _signed(encode(event))
    spaced = json.dumps(event, indent=2).encode()
    assert receiver.handle("POST", "/webhook", headers, spaced).status == 401
    assert receiver.handle("POST", "/webhook", headers, encode(event)).status == 200


@pytest.mark.parametrize(("body", "fragment"), [
    (b"", "body is empty"),
    (b"not json", "not JSON"),
    (b'{"events":[]}', "specversion"),
    (b"[]", "one CloudEvent JSON object"),
    (encode({**ce(), "specversion": "0.3"}), "specversion"),
    (encode({**ce(), "id": ""}), "id must be"),
    (encode({**ce(), "type": "product.updated"}), "does not start with"),
    (encode({**ce(), "time": "yesterday"}), "RFC 3339"),
    (encode({**ce(), "data": None}), "data must be"),
    (encode({**ce(), "data": {"product": {"identifier": "sku"}}}), "data.product.uuid"),
    (b'{"specversion":"1.0","specversion":"1.0"}', "duplicate key"),
])
def test_malformed_is_400(receiver: ReferenceReceiver, body: bytes, fragment: str) -> None:
    response = post(receiver, body)
    assert response.status == 400
    assert fragment in response.json()["error"]
    assert receiver.internal_errors == []


def test_ep_secrets_validated() -> None:
    with pytest.raises(UsageError, match="ep_secrets"):
        ReferenceReceiver(SECRET, ep_secrets=[])
    with pytest.raises(UsageError, match="ep_secrets"):
        ReferenceReceiver(SECRET, ep_secrets=SECRET)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="ep_secrets"):
        ReferenceReceiver(SECRET, ep_secrets=[SECRET, ""])
    assert NEW not in repr(ReferenceReceiver(SECRET, ep_secrets=[NEW]))


def test_bytes_secret_default_serves_both_profiles() -> None:
    receiver = ReferenceReceiver(SECRET.encode())
    assert deliver(receiver, ce()).status == 200


def test_fields_the_schemas_do_not_know_are_applied(receiver: ReferenceReceiver) -> None:
    """Forward compatibility (issue 18 item 4): the platform adds fields over time (a metric's measurement
    ``family`` in Akeneo's own delta examples, a CloudEvents extension, a ``dataschema`` of the other documented
    host); the receiver applies such an event like any other, and the kit's default validation agrees."""
    from akeneo_events_testkit.schemas import check_payload

    changes = {"values": {"weight": [{"previous": None, "new": {"data": "1.5000", "unit": "KILOGRAM",
                                                                "base_data": "1.5", "base_unit": "KILOGRAM",
                                                                "family": "Weight"},
                                      "type": "pim_catalog_metric", "locale": None, "scope": None}]}}
    event = ce(Action.PRODUCT_UPDATED, changes=changes)
    event["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    event["dataschema"] = f"https://events.akeneo.com/{event['type']}.schema.json"
    event["data"]["author"]["email"] = "julia@example.com"
    result = check_payload(event, profile="event-platform")
    assert result.errors == () and len(result.warnings) == 3
    assert not check_payload(event, profile="event-platform", strict=True).ok
    response = deliver(receiver, event)
    assert response.status == 200 and response.json()["applied"] == 1
    assert receiver.observation()["applied"] == [event["id"]]
