from __future__ import annotations

import json

import pytest

from akeneo_events_testkit.errors import InvalidPayload, UnknownProfile, UsageError
from akeneo_events_testkit.events_api.signing import verify_signature
from akeneo_events_testkit.events_api.wire import Delivery, Event, decode_envelope
from akeneo_events_testkit.versions import (
    PROFILES,
    Action,
    format_event_datetime,
    get_profile,
    parse_event_datetime,
    resource_key,
)


def _event(**overrides: object) -> Event:
    fields: dict[str, object] = {
        "action": "product.updated",
        "event_id": "7abae2fe-759a-4fce-aa43-f413980671b3",
        "event_datetime": "2020-01-01T00:00:00+00:00",
        "author": "julia",
        "author_type": "ui",
        "pim_source": "https://demo.akeneo.com",
        "data": {"resource": {"uuid": "1fd20ad8-ef95-49d7-a581-fb9f8ac0c5ad", "identifier": "sku-1"}},
    }
    fields.update(overrides)
    return Event(**fields)  # type: ignore[arg-type]


def test_six_actions_and_their_buffers() -> None:
    assert [a.value for a in Action] == [
        "product.created", "product.updated", "product.removed",
        "product_model.created", "product_model.updated", "product_model.removed",
    ]
    assert Action.PRODUCT_CREATED.buffer == Action.PRODUCT_UPDATED.buffer == "product.upserted"
    assert Action.PRODUCT_REMOVED.buffer == "product.removed"
    assert Action.PRODUCT_MODEL_UPDATED.buffer == "product_model.upserted"
    assert len({a.buffer for a in Action}) == 4


def test_resource_keys() -> None:
    assert resource_key("product.updated", {"uuid": "u-1", "identifier": "sku"}) == "product:u-1"
    assert resource_key("product.removed", {"identifier": "sku"}) == "product:sku"
    assert resource_key("product_model.removed", {"code": "m"}) == "product_model:m"
    assert _event().key == "product:1fd20ad8-ef95-49d7-a581-fb9f8ac0c5ad"


def test_event_datetime_round_trip_and_offsets() -> None:
    assert format_event_datetime(1607094167, 60) == "2020-12-04T16:02:47+01:00"
    assert format_event_datetime(1607094167) == "2020-12-04T15:02:47+00:00"
    assert parse_event_datetime("2020-12-04T16:02:47+01:00") == 1607094167
    assert _event(event_datetime="2020-12-04T16:02:47+01:00").epoch == 1607094167


def test_event_dict_has_the_pims_key_order() -> None:
    assert list(_event().to_dict()) == [
        "action", "event_id", "event_datetime", "author", "author_type", "pim_source", "data"
    ]


def test_event_is_immutable() -> None:
    event = _event()
    with pytest.raises(AttributeError):
        event.author = "mallory"  # type: ignore[misc]


def test_delivery_reproduces_the_pims_own_test_body() -> None:
    # the body of GuzzleWebhookClientTest (facts section 2), signed at 1577836800 with a_secret
    event = _event(action="product.created", pim_source="staging.akeneo.com", data={"resource": {}})
    delivery = Delivery.build([event], secret="a_secret", timestamp=1577836800, profile="6.0")
    expected_prefix = (
        b'{"events":[{"action":"product.created","event_id":"7abae2fe-759a-4fce-aa43-f413980671b3",'
        b'"event_datetime":"2020-01-01T00:00:00+00:00","author":"julia","author_type":"ui",'
        b'"pim_source":"staging.akeneo.com","data":'
    )
    assert delivery.body.startswith(expected_prefix)
    assert verify_signature("a_secret", "1577836800", delivery.body, delivery.signature)


@pytest.mark.parametrize(
    ("profile", "user_agent"),
    [("5.0", "GuzzleHttp/6.5.5 curl/7.64.0 PHP/7.4.16"), ("6.0", ""), ("7.0", ""),
     ("saas", "AkeneoPIM/v20210526040645")],
)
def test_headers_in_the_pims_order_per_era(profile: str, user_agent: str) -> None:
    delivery = Delivery.build([_event()], secret="s", timestamp=42, profile=profile)
    names = [name for name, _ in delivery.headers]
    assert names == ["Content-Type", "X-Akeneo-Request-Signature", "X-Akeneo-Request-Timestamp", "User-Agent"]
    assert delivery.header("content-type") == "application/json"
    assert delivery.header("User-Agent") == user_agent
    assert delivery.header("x-akeneo-request-timestamp") == "42"


def test_delivery_size_bounds() -> None:
    with pytest.raises(ValueError, match="1 to 10"):
        Delivery.build([], secret="s", timestamp=1)
    with pytest.raises(ValueError, match="1 to 10"):
        Delivery.build([_event()] * 11, secret="s", timestamp=1)


def test_resigned_keeps_body_and_changes_signature() -> None:
    first = Delivery.build([_event()], secret="s", timestamp=1)
    again = first.resigned(secret="s", timestamp=2)
    assert again.body == first.body and again.signature != first.signature
    assert verify_signature("s", "2", again.body, again.signature)


def test_envelope_round_trip() -> None:
    delivery = Delivery.build([_event(), _event(event_id="00000000-0000-4000-8000-000000000000")],
                              secret="s", timestamp=1)
    assert decode_envelope(delivery.body) == list(delivery.events)
    with pytest.raises(InvalidPayload):
        decode_envelope(b"not json")
    with pytest.raises(InvalidPayload):
        decode_envelope(json.dumps({"event": []}))
    with pytest.raises(InvalidPayload, match="lacks event_id"):
        decode_envelope(json.dumps({"events": [{"action": "product.created"}]}))
    bad_action = {**_event().to_dict(), "action": "product.exploded"}
    with pytest.raises(InvalidPayload, match="product.exploded"):
        decode_envelope(json.dumps({"events": [bad_action]}))


def test_profiles() -> None:
    assert set(PROFILES) == {"5.0", "6.0", "7.0", "saas"}
    assert get_profile("serenity") is PROFILES["saas"]
    assert get_profile("7.0", uuid_mode=True).uuid_mode
    with pytest.raises(UnknownProfile, match="use one of 5.0, 6.0, 7.0, saas"):
        get_profile("8.0")
    with pytest.raises(UsageError, match="no UUID mode"):
        get_profile("6.0", uuid_mode=True)
    assert PROFILES["5.0"].follow_redirects and not PROFILES["6.0"].follow_redirects
    assert PROFILES["saas"].metric_symbol and not PROFILES["7.0"].metric_symbol


def test_content_digest_treats_an_empty_object_and_an_empty_list_alike() -> None:
    """PHP's json_decode(..., true) then json_encode turn ``{}`` into ``[]``: the same content."""
    from akeneo_events_testkit.versions import content_digest

    sent = {"family": "shoes", "values": {}, "associations": {"X_SELL": {"products": []}},
            "quantified_associations": {}}
    php = {"family": "shoes", "values": [], "associations": {"X_SELL": {"products": []}},
           "quantified_associations": []}
    assert content_digest(sent) == content_digest(php)
    assert content_digest(sent) != content_digest({**php, "family": "boots"})
    assert content_digest({"values": {"a": []}}) == content_digest({"values": {"a": {}}})


@pytest.mark.parametrize("epoch", [0, 1_700_000_000, 1_700_000_000.9, 2_000_000_059])
@pytest.mark.parametrize("resource", [{"uuid": "1fd20ad8-ef95-49d7-a581-fb9f8ac0c5ad", "identifier": "sku-1"},
                                      {"identifier": "sku-2"}, {"code": "model"}])
def test_event_at_is_the_event_with_its_datetime_formatted(epoch: float, resource: dict[str, str]) -> None:
    from akeneo_events_testkit.versions import AuthorType

    action = Action("product_model.updated" if "code" in resource else "product.removed")
    fields = {"action": action, "event_id": "e1", "author": "julia", "author_type": AuthorType("api"),
              "pim_source": "https://demo.akeneo.com", "data": {"resource": resource}}
    made = Event.at(int(epoch), **fields)  # type: ignore[arg-type]
    expected = Event(event_datetime=format_event_datetime(epoch), **fields)  # type: ignore[arg-type]
    assert made == expected
    assert (made.epoch, made.key, type(made.epoch)) == (expected.epoch, expected.key, float)
    assert made.to_dict() == expected.to_dict()


def test_format_event_datetime_keeps_its_offsets_apart() -> None:
    assert format_event_datetime(0) == "1970-01-01T00:00:00+00:00"
    assert format_event_datetime(0, 90) == "1970-01-01T01:30:00+01:30"
    assert format_event_datetime(0, -300) == "1969-12-31T19:00:00-05:00"
    assert format_event_datetime(0) == "1970-01-01T00:00:00+00:00"
