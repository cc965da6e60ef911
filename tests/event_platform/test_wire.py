"""The Event Platform wire core: ids, encoding, signatures, rotation, custom headers and delta shapes."""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

import pytest

from akeneo_events_testkit.errors import UsageError
from akeneo_events_testkit.event_platform.delta import delta_changes, platform_value
from akeneo_events_testkit.event_platform.signing import (
    ALGORITHM,
    ALGORITHM_HEADER,
    PRIMARY_HEADER,
    SECONDARY_HEADER,
    EpSecrets,
    ep_headers,
    sign_body,
    verify_ep,
)
from akeneo_events_testkit.event_platform.wire import cloud_event, encode, ep_resource_key, uuid7
from akeneo_events_testkit.schemas import validate_payload
from akeneo_events_testkit.versions import Action, AuthorType
from akeneo_events_testkit.world.catalog import Catalog

OLD, NEW = "old-secret-0123456789", "new-secret-9876543210"
BODY = b'{"specversion":"1.0","id":"x"}'
UUID = "1fd20ad8-ef95-49d7-a581-fb9f8ac0c5ad"


# -- ids and encoding -----------------------------------------------------------------------------------------

def test_uuid7_version_variant_and_time_order() -> None:
    rng = random.Random(5)
    ids = [uuid7(rng, 1_700_000_000_000 + ms) for ms in range(0, 5000, 7)]
    for text in ids:
        value = uuid.UUID(text)
        assert value.version == 7
        assert value.variant == uuid.RFC_4122
        assert text == text.lower()
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert int(uuid.UUID(ids[0]).hex[:12], 16) == 1_700_000_000_000


def test_uuid7_is_deterministic_per_seed() -> None:
    assert uuid7(random.Random(1), 10) == uuid7(random.Random(1), 10)
    assert uuid7(random.Random(1), 10) != uuid7(random.Random(2), 10)


def test_encode_is_compact_keeps_order_and_raw_unicode() -> None:
    assert encode({"b": 1, "a": "é/✨"}) == '{"b":1,"a":"é/✨"}'.encode()


def _event(**overrides: Any) -> Any:
    options: dict[str, Any] = {
        "action": Action.PRODUCT_UPDATED, "resource": {"uuid": UUID, "identifier": "sku-1"},
        "epoch": 1_709_824_597, "author": "julia", "author_type": AuthorType.UI,
        "rng": random.Random(3), "subscription_id": "01J0SUBSCRIPTION",
    }
    options.update(overrides)
    return cloud_event(**options)


def test_cloud_event_fields() -> None:
    event = _event()
    body = event.body
    assert list(body) == ["specversion", "id", "source", "type", "subject", "time", "datacontenttype",
                          "dataschema", "data"]
    assert body["specversion"] == "1.0"
    assert body["source"] == "akeneo-event-platform"
    assert body["type"] == "com.akeneo.pim.v1.product.updated"
    assert body["subject"] == "01J0SUBSCRIPTION"
    assert body["time"] == "2024-03-07T15:16:37Z"
    assert body["dataschema"] == "https://event.prd.sdk.akeneo.cloud/spec/com.akeneo.pim.v1.product.updated.schema.json"
    assert body["data"] == {"product": {"uuid": UUID}, "author": {"identifier": "julia", "type": "user"}}
    assert event.raw == encode(body)
    assert event.key == f"product:{UUID}" == ep_resource_key(body)
    assert uuid.UUID(event.id).version == 7


def test_cloud_event_identifier_source_and_delta() -> None:
    event = _event(send_product_identifier=True, source="pim", changes={"enabled": {"previous": True, "new": False}})
    assert event.body["source"] == "pim"
    assert event.type == "com.akeneo.pim.v1.product.updated.delta"
    product = event.body["data"]["product"]
    assert product["identifier"] == "sku-1"
    assert product["updated_at"] == {"date": "2024-03-07 15:16:37.000000", "timezone": "UTC"}
    with pytest.raises(UsageError, match="only updates have a delta"):
        _event(action=Action.PRODUCT_REMOVED, changes={})


def test_ep_resource_key_never_raises() -> None:
    assert ep_resource_key({"data": {"product_model": {"code": "m"}}}) == "product_model:m"
    assert ep_resource_key({"data": {"product_model": "m"}}) == "product_model:None"
    assert ep_resource_key({"data": []}) == "product:None"


# -- signatures and rotation ----------------------------------------------------------------------------------

def _headers(secrets: EpSecrets, body: bytes = BODY) -> dict[str, str]:
    return dict(ep_headers(body, secrets))


def test_sign_body_is_hex_hmac_of_body_alone() -> None:
    assert sign_body("key", b"") == "5d5d139563c95b5967b9bd9a8c9b233a9dedb45072794cd232dc1b74832607d0"
    assert sign_body(b"key", BODY) == sign_body("key", BODY)


def test_headers_primary_secondary_algorithm() -> None:
    headers = _headers(EpSecrets(NEW, OLD))
    assert headers[PRIMARY_HEADER] == sign_body(NEW, BODY)
    assert headers[SECONDARY_HEADER] == sign_body(OLD, BODY)
    assert headers[ALGORITHM_HEADER] == ALGORITHM == "HmacSHA256"
    assert headers["Content-Type"] == "application/json"
    assert SECONDARY_HEADER not in _headers(EpSecrets(NEW))
    assert "secret" not in repr(EpSecrets(NEW, OLD)).replace("secondary", "")


@pytest.mark.parametrize(("platform", "held", "accepted"), [
    (EpSecrets(NEW, OLD), [OLD], True),
    (EpSecrets(NEW, OLD), [NEW], True),
    (EpSecrets(NEW, OLD), [OLD, NEW], True),
    (EpSecrets(OLD, NEW), [OLD], True),
    (EpSecrets(OLD, NEW), [NEW], True),
    (EpSecrets(OLD, NEW), [NEW, OLD], True),
    (EpSecrets(NEW), [OLD], False),
    (EpSecrets(OLD), [NEW, "other"], False),
    (EpSecrets(NEW), [], False),
])
def test_verify_rotation(platform: EpSecrets, held: list[str], accepted: bool) -> None:
    assert verify_ep(BODY, _headers(platform), held) is accepted


def test_forged_primary_with_valid_secondary_is_accepted() -> None:
    """Section 2: accept if either header matches any secret held; the valid one proves the origin."""
    headers = _headers(EpSecrets(NEW, OLD))
    headers[PRIMARY_HEADER] = "0" * 64
    assert verify_ep(BODY, headers, [OLD])
    headers[SECONDARY_HEADER] = "f" * 64
    assert not verify_ep(BODY, headers, [OLD, NEW])


@pytest.mark.parametrize("algorithm", [None, "HmacSHA1", "hmacsha256", "sha256", ""])
def test_missing_or_wrong_algorithm_rejected(algorithm: str | None) -> None:
    headers = _headers(EpSecrets(NEW))
    del headers[ALGORITHM_HEADER]
    if algorithm is not None:
        headers[ALGORITHM_HEADER] = algorithm
    assert not verify_ep(BODY, headers, [NEW])


def test_verify_is_case_insensitive_on_names_and_exact_on_body() -> None:
    headers = {name.lower(): value for name, value in _headers(EpSecrets(NEW)).items()}
    assert verify_ep(BODY, headers, [NEW])
    assert not verify_ep(BODY + b" ", headers, [NEW])
    reformatted = json.dumps(json.loads(BODY), indent=1).encode()
    assert not verify_ep(reformatted, headers, [NEW])
    assert not verify_ep(BODY, {**headers, PRIMARY_HEADER.lower(): "not hex"}, [NEW])


def test_custom_headers_added_after_signing_and_not_covered() -> None:
    plain = _headers(EpSecrets(NEW))
    headers = ep_headers(BODY, EpSecrets(NEW), custom=[("X-Tenant", "acme 42"), ("X-Trace", "")])
    assert headers[-2:] == (("X-Tenant", "acme 42"), ("X-Trace", ""))
    assert dict(headers)[PRIMARY_HEADER] == plain[PRIMARY_HEADER]


@pytest.mark.parametrize(("custom", "message"), [
    ([("X-Bad Name", "v")], "use \\[A-Za-z0-9-\\]"),
    ([("X_Under", "v")], "use \\[A-Za-z0-9-\\]"),
    ([("X" * 129, "v")], "at most 128"),
    ([("", "v")], "use \\[A-Za-z0-9-\\]"),
    ([("Content-Type", "text/plain")], "reserved"),
    ([("authorization", "Bearer x")], "reserved"),
    ([("X-Correlation-ID", "1")], "reserved"),
    ([("X-AKENEO-SIGNATURE-EXTRA", "1")], "reserved"),
    ([("X-Ok", "é")], "printable ASCII"),
    ([("X-Ok", "a\nb")], "printable ASCII"),
    ([("X-Ok", "v" * 257)], "at most 256"),
    ([(f"X-H{i}", "v") for i in range(6)], "at most 5"),
])
def test_custom_headers_validated(custom: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        ep_headers(BODY, EpSecrets(NEW), custom=custom)


def test_custom_header_limits_inclusive() -> None:
    custom = [("X" * 128, "v" * 256), *((f"X-H{i}", "~") for i in range(4))]
    assert len(ep_headers(BODY, EpSecrets(NEW), custom=custom)) == 3 + 5


# -- delta shapes ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "data", "expected"), [
    ("pim_catalog_text", "Nice", "Nice"),
    ("pim_catalog_number", "12.5000", "12.5000"),
    ("pim_catalog_boolean", False, False),
    ("pim_catalog_simpleselect", "blue", "blue"),
    ("akeneo_reference_entity", "rec", "rec"),
    ("pim_catalog_multiselect", ["a", "b"], ["a", "b"]),
    ("pim_catalog_asset_collection", ["pack"], ["pack"]),
    ("akeneo_reference_entity_collection", ["r1"], ["r1"]),
    ("pim_catalog_image", "0/a/4/5/0a452b53500c48e1fc147a78196a8d845ec8e9d7_my_photo.jpg",
     {"file_name": "my_photo.jpg", "key": "0/a/4/5/0a452b53500c48e1fc147a78196a8d845ec8e9d7_my_photo.jpg"}),
    ("pim_catalog_price_collection", [{"amount": "12.50", "currency": "EUR"}],
     [{"amount": "12.50", "currency": "EUR"}]),
    ("pim_catalog_metric", {"amount": "2775.7500", "unit": "GRAM", "symbol": "g"},
     {"data": "2775.7500", "unit": "GRAM", "base_data": "2.77575", "base_unit": "KILOGRAM"}),
    ("pim_catalog_metric", {"amount": 3, "unit": "KILOWATT"},
     {"data": 3, "unit": "KILOWATT", "base_data": "3000", "base_unit": "WATT"}),
    ("pim_catalog_date", "2021-04-29T00:00:00+00:00", {"date": "2021-04-29 00:00:00.000000", "timezone": "UTC"}),
    ("pim_catalog_date", "2021-04-29T02:00:00+02:00", {"date": "2021-04-29 00:00:00.000000", "timezone": "UTC"}),
    ("pim_catalog_identifier", "SKU-1", {"data": "SKU-1", "is_main_identifier": True}),
    ("pim_catalog_product_link", {"type": "product", "id": UUID}, {"type": "product", "id": UUID}),
    ("pim_catalog_table", [{"ingredient": "egg", "quantity": 2}],
     {"rows": [{"cells": [{"cell": "ingredient", "data": "egg"}, {"cell": "quantity", "data": 2}]}]}),
    ("pim_catalog_file", None, None),
])
def test_platform_value_shapes(kind: str, data: Any, expected: Any) -> None:
    assert platform_value(kind, data) == expected


def test_secondary_identifier_is_not_main() -> None:
    previous = {"values": {"ean_id": [{"locale": None, "scope": None, "data": "1"}]}}
    current = {"values": {"ean_id": [{"locale": None, "scope": None, "data": "2"}]}}
    changes = delta_changes(previous, current, attribute_types={"ean_id": "pim_catalog_identifier"},
                            main_identifier="sku")
    assert changes["values"]["ean_id"] == [{"previous": {"data": "1", "is_main_identifier": False},
                                            "new": {"data": "2", "is_main_identifier": False},
                                            "type": "pim_catalog_identifier", "locale": None, "scope": None}]


def test_delta_values_added_removed_and_per_slot() -> None:
    previous = {"uuid": UUID, "values": {
        "name": [{"locale": "en_US", "scope": None, "data": "A"}, {"locale": "fr_FR", "scope": None, "data": "B"}],
        "gone": [{"locale": None, "scope": "print", "data": "2020-01-01T00:00:00+00:00"}]}}
    current = {"uuid": UUID, "values": {
        "name": [{"locale": "en_US", "scope": None, "data": "A"}, {"locale": "fr_FR", "scope": None, "data": "C"}],
        "new": [{"locale": None, "scope": None, "data": True}]}}
    changes = delta_changes(previous, current, attribute_types={"gone": "pim_catalog_date",
                                                                "new": "pim_catalog_boolean"})
    assert changes == {"values": {
        "name": [{"previous": "B", "new": "C", "type": "pim_catalog_text", "locale": "fr_FR", "scope": None}],
        "gone": [{"previous": {"date": "2020-01-01 00:00:00.000000", "timezone": "UTC"}, "new": None,
                  "type": "pim_catalog_date", "locale": None, "scope": "print"}],
        "new": [{"previous": None, "new": True, "type": "pim_catalog_boolean", "locale": None, "scope": None}],
    }}


def test_delta_associations() -> None:
    previous = {"uuid": UUID, "associations": {"X_SELL": {"products": ["p1"], "product_models": [], "groups": ["g"]}},
                "quantified_associations": {"PACK": {"products": [{"uuid": "p1", "quantity": 1},
                                                                  {"uuid": "p2", "quantity": 2}],
                                                     "product_models": [{"code": "m", "quantity": 3}]}}}
    current = {"uuid": UUID, "associations": {"X_SELL": {"products": ["p2"], "product_models": ["m"], "groups": ["g"]},
                                              "UPSELL": {"products": [], "product_models": [], "groups": []}},
               "quantified_associations": {"PACK": {"products": [{"uuid": "p2", "quantity": 5},
                                                                 {"uuid": "p3", "quantity": 1}],
                                                    "product_models": [{"code": "m", "quantity": 3}]}}}
    changes = delta_changes(previous, current)
    assert changes["associations"] == {"X_SELL": {
        "added": {"products": ["p2"], "product_models": ["m"], "groups": []},
        "removed": {"products": ["p1"], "product_models": [], "groups": []}}}
    assert changes["quantified_associations"] == {"PACK": {
        "added": {"products": [{"uuid": "p3", "quantity": 1}]},
        "removed": {"products": ["p1"]},
        "updated": {"products": [{"uuid": "p2", "quantity": 5, "previous_quantity": 2}]}}}
    assert "associations" not in delta_changes(current, current)


def test_delta_product_model_has_only_parent_among_scalars() -> None:
    changes = delta_changes({"code": "m", "parent": None, "family": "a"}, {"code": "m", "parent": "root",
                                                                           "family": "b"})
    assert changes == {"parent": {"previous": None, "new": "root"}}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog(7, profile="saas")


def test_catalog_deltas_have_platform_shapes_and_validate(catalog: Catalog) -> None:
    """Real states from the catalog: every attribute type's shape, and every delta valid (section 4)."""
    types = {code: attribute.type for code, attribute in catalog.structure.attributes.items()}
    rng = random.Random(11)
    seen: set[str] = set()
    now = 1_700_000_100
    for step in range(300):
        key = rng.choice(catalog.product_keys())
        before = catalog.current(key, uuid_mode=True)
        assert before is not None
        if catalog.update_product(key, now + step, rng=rng) is None:
            continue
        after = catalog.current(key, uuid_mode=True)
        assert after is not None
        changes = delta_changes(before[1], after[1], attribute_types=types,
                                main_identifier=catalog.structure.identifier_attribute)
        if not changes:  # a workflow status edit: metadata, not part of a delta
            continue
        seen.update(changes)
        for code, items in changes.get("values", {}).items():
            seen.add(types[code])
            for item in items:
                for side in ("previous", "new"):
                    _check_shape(types[code], item[side])
        event = cloud_event(action=Action.PRODUCT_UPDATED, resource=after[1], epoch=now + step, author="erp",
                            author_type=AuthorType.API, rng=rng, subscription_id="sub", changes=changes)
        assert validate_payload(event.body, profile="event-platform", strict=True) == []
    expected = set(types.values()) - {"pim_catalog_identifier"}
    assert expected <= seen
    assert {"values", "categories", "associations", "quantified_associations", "enabled"} <= seen


def _check_shape(kind: str, value: Any) -> None:
    if value is None:
        return
    if kind in ("pim_catalog_file", "pim_catalog_image"):
        assert set(value) == {"file_name", "key"}
    elif kind == "pim_catalog_metric":
        assert set(value) == {"data", "unit", "base_data", "base_unit"}
    elif kind == "pim_catalog_date":
        assert value["timezone"] == "UTC" and len(value["date"]) == 26
    elif kind == "pim_catalog_table":
        assert all(set(cell) == {"cell", "data"} for row in value["rows"] for cell in row["cells"])
    elif kind == "pim_catalog_price_collection":
        assert all(set(price) == {"amount", "currency"} for price in value)
    elif kind == "pim_catalog_product_link":
        assert set(value) == {"type", "id"}
    elif kind in ("pim_catalog_multiselect", "pim_reference_data_multiselect", "pim_catalog_asset_collection",
                  "akeneo_reference_entity_collection"):
        assert isinstance(value, list) and all(isinstance(code, str) for code in value)
    else:
        assert isinstance(value, (str, int, float, bool))
