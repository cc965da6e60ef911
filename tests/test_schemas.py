"""The JSON Schemas and the validator: docs examples, hand-made payloads per profile, and a gallery of errors."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator  # type: ignore[import-untyped,unused-ignore]

from akeneo_events_testkit.encoding import php_json_encode_bytes
from akeneo_events_testkit.errors import UnknownProfile, UsageError
from akeneo_events_testkit.schemas import (
    MAX_PAYLOAD_BYTES,
    SCHEMA_BASE_URI,
    SCHEMA_DIR,
    ValidationIssue,
    _checker_for,
    is_valid,
    schema_for,
    schema_path,
    validate_bytes,
    validate_payload,
    validator_for,
)
from akeneo_events_testkit.versions import get_profile

PRODUCT_UUID = "1fd20ad8-ef95-49d7-a581-fb9f8ac0c5ad"
OTHER_UUID = "5b2c1f3e-9d4a-4c8e-b1f7-2a6d8e0c4b19"
PIM = "https://demo.akeneo.com"
MEDIA_KEY = "9/9/c/c/99cc83f105199c667505cfa8ec1458c8be4f0814_sunglasses.jpg"

# -- hand-made valid payloads ----------------------------------------------------------------------------


def _value(data: Any, locale: str | None = None, scope: str | None = None) -> list[dict[str, Any]]:
    return [{"locale": locale, "scope": scope, "data": data}]


def values(profile: str, *, uuid_mode: bool = False) -> dict[str, Any]:
    """One value of every attribute type (facts section 7)."""
    metric: dict[str, Any] = {"amount": "800.0000", "unit": "GRAM"}
    if profile == "saas":
        metric["symbol"] = "g"
    result: dict[str, Any] = {
        "name": _value("Sunglasses"),
        "description": _value("<p>Brown and gold</p>", "en_US", "ecommerce"),
        "age": _value(40),
        "typing_speed": _value("89.8970"),
        "weight": _value(metric),
        "height": _value({"amount": 12, "unit": "CENTIMETER"}),
        "price": _value([{"amount": "12.50", "currency": "EUR"}, {"amount": 15, "currency": "USD"}]),
        "color": _value("brown"),
        "materials": _value(["metal", "glass"]),
        "waterproof": _value(True),
        "release_date": _value("2021-04-29T00:00:00+00:00"),
        "picture": [{
            "locale": None, "scope": None, "data": MEDIA_KEY,
            "_links": {"download": {"href": f"{PIM}/api/rest/v1/media-files/{MEDIA_KEY}/download"}},
        }],
        "designer": _value("bouroullec"),
        "fabrics": _value(["cotton", "silk"]),
        "packshots": _value(["allie_jean_frontview"]),
        "brand": _value("akeneo"),
        "suppliers": _value(["zaro", "acme"]),
        "nutrition": _value([{"ingredient": "sugar", "quantity": "10.5", "organic": True}]),
    }
    if profile == "saas":
        result["included_battery"] = _value({"type": "product", "id": OTHER_UUID})
    if uuid_mode:
        result["sku"] = _value("1111111304")
    return result


def product(profile: str, *, uuid_mode: bool = False) -> dict[str, Any]:
    """A product as ``profile`` sends it; ``uuid_mode`` for the 7.0/SaaS "use UUID" option (facts section 4)."""
    associated = OTHER_UUID if uuid_mode else "other_sku"
    quantified = {"uuid": OTHER_UUID, "quantity": 2} if uuid_mode else {"identifier": "other_sku", "quantity": 2}
    resource: dict[str, Any] = {}
    if profile in ("7.0", "saas"):
        resource["uuid"] = PRODUCT_UUID
    if not uuid_mode:
        resource["identifier"] = "1111111304"
    resource.update({
        "enabled": True,
        "family": "accessories",
        "categories": ["master_accessories_sunglasses", "supplier_zaro"],
        "groups": [],
        "parent": None,
        "values": values(profile, uuid_mode=uuid_mode),
        "created": "2020-10-20T08:30:28+00:00",
        "updated": "2020-10-20T09:13:59+01:00",
        "associations": {
            "X_SELL": {"products": [associated], "product_models": ["sunglasses"], "groups": []},
            "UPSELL": {"products": [], "product_models": [], "groups": ["promo"]},
        },
        "quantified_associations": {
            "PACK": {"products": [quantified], "product_models": [{"identifier": "sunglasses", "quantity": 1}]},
        },
        "metadata": {"workflow_status": "working_copy"},
    })
    return resource


def product_model(profile: str) -> dict[str, Any]:
    return {
        "code": "sunglasses",
        "family": "accessories",
        "family_variant": "accessories_colorsize",
        "parent": None,
        "categories": ["master_accessories_sunglasses"],
        "values": {"name": _value("Sunglasses"), "weight": values(profile)["weight"]},
        "created": "2020-10-20T08:30:28+00:00",
        "updated": "2020-10-20T08:30:28+00:00",
        "associations": {"X_SELL": {"products": [], "product_models": [], "groups": []}},
        "quantified_associations": {},
    }


def event(action: str, resource: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "action": action,
        "event_id": "c306e088-fb76-479c-bbc0-18fef19da75d",
        "event_datetime": "2020-12-04T16:02:47+01:00",
        "author": "julia",
        "author_type": "ui",
        "pim_source": PIM,
        "data": {"resource": resource},
        **fields,
    }


def envelope(*events: dict[str, Any]) -> dict[str, Any]:
    return {"events": list(events)}


def removed_product(profile: str) -> dict[str, Any]:
    if profile in ("5.0", "6.0"):
        return {"identifier": "1111111304"}
    return {"identifier": "1111111304", "uuid": PRODUCT_UUID}


def valid_payloads() -> list[tuple[str, str, bool | None, dict[str, Any]]]:
    """(id, profile, uuid_mode, envelope) for every profile and mode."""
    cases: list[tuple[str, str, bool | None, dict[str, Any]]] = []
    for profile in ("5.0", "6.0", "7.0", "saas"):
        modes: list[bool | None] = [None] if profile in ("5.0", "6.0") else [None, False, True]
        for mode in modes:
            body = envelope(
                event("product.created", product(profile, uuid_mode=bool(mode))),
                event("product.updated", product(profile, uuid_mode=bool(mode)), author_type="api"),
            )
            cases.append((f"{profile}-products-uuid_mode={mode}", profile, mode, body))
        cases.append((f"{profile}-removed", profile, None, envelope(
            event("product.removed", removed_product(profile)), event("product.removed", removed_product(profile)))))
        cases.append((f"{profile}-models", profile, None, envelope(
            event("product_model.created", product_model(profile), author_type="system"),
            event("product_model.updated", product_model(profile)))))
        cases.append((f"{profile}-models-removed", profile, None, envelope(
            event("product_model.removed", {"code": "sunglasses"}))))
    return cases


VALID = valid_payloads()


@pytest.mark.parametrize(("profile", "uuid_mode", "body"), [case[1:] for case in VALID], ids=[c[0] for c in VALID])
def test_hand_made_payloads_are_valid(profile: str, uuid_mode: bool | None, body: dict[str, Any]) -> None:
    for strict in (False, True):
        assert validate_payload(body, profile=profile, uuid_mode=uuid_mode, strict=strict) == []
        assert is_valid(body, profile=profile, uuid_mode=uuid_mode, strict=strict)


def test_php_encoded_body_validates() -> None:
    raw = php_json_encode_bytes(envelope(event("product.created", product("saas"))))
    assert b"\\/" in raw
    assert validate_bytes(raw) == []


def test_single_event_is_detected_and_paths_start_at_the_event() -> None:
    single = event("product.created", product("7.0"))
    assert validate_payload(single, profile="7.0") == []
    single["event_id"] = "nope"
    assert [issue.path for issue in validate_payload(single, profile="7.0")] == ["$.event_id"]


def test_a_mode_is_enforced_only_when_asked() -> None:
    legacy = envelope(event("product.created", product("saas")))
    by_uuid = envelope(event("product.created", product("saas", uuid_mode=True)))
    assert is_valid(legacy, uuid_mode=False) and is_valid(by_uuid, uuid_mode=True)
    assert [i.path for i in validate_payload(legacy, uuid_mode=True)] == [
        "$.events[0].data.resource.associations.X_SELL.products[0]",
        "$.events[0].data.resource.identifier",
        "$.events[0].data.resource.quantified_associations.PACK.products[0]",
    ]
    assert str(validate_payload(by_uuid, uuid_mode=False)[0]) == (
        '$.events[0].data.resource: missing required key "identifier" '
        "(product in legacy mode, as in 7.0 and SaaS)"
    )


# -- docs examples ---------------------------------------------------------------------------------------

DEVIATIONS = {
    "product": {"$.events[0].data.resource.quantified_associations"},
    "product_model": {"$.events[0].data.resource.enabled", "$.events[0].data.resource.quantified_associations"},
}


def _docs_examples(reference_dir: Path) -> list[tuple[Path, str]]:
    found = sorted((reference_dir / "docs-examples").glob("*.json"))
    assert found, "no docs examples"
    return [(path, "7.0" if path.name.startswith("7.0-") else "saas") for path in found]


def test_docs_examples_validate_under_their_profile(reference_dir: Path) -> None:
    for path, profile in _docs_examples(reference_dir):
        document = json.loads(path.read_text())
        assert validate_payload(document, profile=profile) == [], path.name
        assert validate_bytes(path.read_bytes(), profile=profile) == [], path.name


def test_docs_examples_fail_strict_only_for_documented_deviations(reference_dir: Path) -> None:
    for path, profile in _docs_examples(reference_dir):
        document = json.loads(path.read_text())
        issues = validate_payload(document, profile=profile, strict=True)
        entity, verb = document["events"][0]["action"].split(".")
        assert {issue.path for issue in issues} == (set() if verb == "removed" else DEVIATIONS[entity]), path.name
        for issue in issues:
            assert "docs examples" in issue.message


def test_serenity_metric_symbol_is_rejected_under_7_0(reference_dir: Path) -> None:
    document = json.loads((reference_dir / "docs-examples" / "serenity-product-created.json").read_text())
    assert [str(issue) for issue in validate_payload(document, profile="7.0")] == [
        '$.events[0].data.resource.values.weight[0].data.symbol: Metric values carry "symbol" only in SaaS '
        'since May 2026; this profile sends {"amount", "unit"} (facts sections 0 and 7).'
    ]


# -- the gallery of broken payloads ----------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class Whole:
    """Returned by a mutation that replaces the whole document."""

    document: Any


def base(profile: str = "saas", action: str = "product.updated", *, uuid_mode: bool = False) -> dict[str, Any]:
    if action.startswith("product_model."):
        resource = {"code": "sunglasses"} if action.endswith("removed") else product_model(profile)
    else:
        resource = removed_product(profile) if action.endswith("removed") else product(profile, uuid_mode=uuid_mode)
    return envelope(event(action, resource))


def res(document: dict[str, Any]) -> dict[str, Any]:
    resource: dict[str, Any] = document["events"][0]["data"]["resource"]
    return resource


def val(document: dict[str, Any], code: str) -> dict[str, Any]:
    first: dict[str, Any] = res(document)["values"][code][0]
    return first


def ev(document: dict[str, Any]) -> dict[str, Any]:
    first: dict[str, Any] = document["events"][0]
    return first


R = "$.events[0].data.resource"
V = f"{R}.values"
GALLERY: list[tuple[str, dict[str, Any], Mutation, str, str, dict[str, Any]]] = [
    # (id, base payload, mutation, expected path, message fragment, validation options)
    ("missing event_id", base(), lambda d: ev(d).pop("event_id"), "$.events[0]",
     'missing required key "event_id"', {}),
    ("uppercase event_id", base(), lambda d: ev(d).update(event_id="C306E088-FB76-479C-BBC0-18FEF19DA75D"),
     "$.events[0].event_id", "lowercase version-4 UUID", {}),
    ("event_id not a uuid", base(), lambda d: ev(d).update(event_id="42"), "$.events[0].event_id",
     'expected a lowercase version-4 UUID such as "7abae2fe-', {}),
    ("event_id version 1", base(), lambda d: ev(d).update(event_id="c306e088-fb76-119c-bbc0-18fef19da75d"),
     "$.events[0].event_id", "version-4", {}),
    ("datetime with a space", base(), lambda d: ev(d).update(event_datetime="2020-10-20 09:13:59"),
     "$.events[0].event_datetime", 'got "2020-10-20 09:13:59"', {}),
    ("datetime with Z", base(), lambda d: ev(d).update(event_datetime="2020-10-20T09:13:59Z"),
     "$.events[0].event_datetime", "no Z", {}),
    ("datetime with fraction", base(), lambda d: ev(d).update(event_datetime="2020-10-20T09:13:59.101+00:00"),
     "$.events[0].event_datetime", "no fraction", {}),
    ("datetime as epoch", base(), lambda d: ev(d).update(event_datetime=1607094167),
     "$.events[0].event_datetime", "got the number 1607094167", {}),
    ("old event_date key", base(), lambda d: ev(d).update(event_date=ev(d).pop("event_datetime")),
     "$.events[0]", 'unexpected key "event_date"', {}),
    ("unknown action", base(), lambda d: ev(d).update(action="product.deleted"), "$.events[0].action",
     '"product.deleted" is not one of "product.created", "product.updated"', {}),
    ("unknown author_type", base(), lambda d: ev(d).update(author_type="user"), "$.events[0].author_type",
     '"user" is not one of "ui", "api", "system"', {}),
    ("empty author", base(), lambda d: ev(d).update(author=""), "$.events[0].author",
     'expected a username, got ""', {}),
    ("empty pim_source", base(), lambda d: ev(d).update(pim_source=""), "$.events[0].pim_source",
     "expected the PIM's URL", {}),
    ("11 events", base(), lambda d: d.update(events=d["events"] * 11), "$.events",
     "1 to 10 events (webhook_max_bulk_size, facts section 4), got a list of 11 items", {}),
    ("0 events", base(), lambda d: d.update(events=[]), "$.events", "got a list of 0 items", {}),
    ("extra envelope key", base(), lambda d: d.update(signature="x"), "$",
     'unexpected key "signature" (Events API request body; allowed: "events")', {}),
    ("event not an object", base(), lambda d: d.update(events=["x"]), "$.events[0]",
     'expected an event object {action, event_id, event_datetime, author, author_type, pim_source, data}, '
     'got the string "x"', {}),
    ("data without resource", base(), lambda d: ev(d).update(data={}), "$.events[0].data",
     'missing required key "resource"', {}),
    ("data as a list", base(), lambda d: ev(d).update(data=["data_1"]), "$.events[0].data",
     "expected an object, got a list of 1 item", {}),
    ("removed product with full resource", base(), lambda d: ev(d).update(action="product.removed"), R,
     'unexpected keys "enabled", "family"', {}),
    ("removed product without uuid in 7.0", base("7.0", "product.removed"), lambda d: res(d).pop("uuid"), R,
     'missing required key "uuid" (removed product, as in 7.0 and SaaS)', {"profile": "7.0"}),
    ("removed product with uuid in 5.0", base("5.0", "product.removed"), lambda d: res(d).update(uuid=PRODUCT_UUID),
     R, 'unexpected key "uuid" (removed product, as in 5.0 and 6.0; allowed: "identifier")', {"profile": "5.0"}),
    ("removed model with full resource", base("saas", "product_model.updated"),
     lambda d: ev(d).update(action="product_model.removed"), R, '(removed product model; allowed: "code")', {}),
    ("product without identifier in 5.0", base("5.0"), lambda d: res(d).pop("identifier"), R,
     'missing required key "identifier" (product in identifier mode, as in 5.0 and 6.0)', {"profile": "5.0"}),
    ("product with uuid in 6.0", base("6.0"), lambda d: res(d).update(uuid=PRODUCT_UUID), f"{R}.uuid",
     'no "uuid" before PIM 7.0', {"profile": "6.0"}),
    ("root identifier in UUID mode", base(uuid_mode=True), lambda d: res(d).update(identifier="sku"),
     f"{R}.identifier", 'stays in "values"', {"uuid_mode": True}),
    ("associated identifier in UUID mode", base(uuid_mode=True),
     lambda d: res(d)["associations"]["X_SELL"].update(products=["other_sku"]),
     f"{R}.associations.X_SELL.products[0]", "expected a lowercase UUID", {"uuid_mode": True}),
    ("product uuid uppercase", base(), lambda d: res(d).update(uuid=PRODUCT_UUID.upper()), f"{R}.uuid",
     "expected a lowercase UUID", {}),
    ("metric symbol in 7.0", base("saas"), lambda d: None, f"{V}.weight[0].data.symbol",
     'carry "symbol" only in SaaS', {"profile": "7.0"}),
    ("float number value", base(), lambda d: val(d, "age").update(data=12.5), f"{V}.age[0].data",
     "12.5 is a JSON number with a fraction: the PIM writes decimals as strings", {}),
    ("metric amount with 2 decimals", base(), lambda d: val(d, "weight")["data"].update(amount="800.50"),
     f"{V}.weight[0].data.amount", 'exactly 4 decimals such as "800.0000"', {}),
    ("metric amount as float", base(), lambda d: val(d, "weight")["data"].update(amount=800.5),
     f"{V}.weight[0].data.amount", "JSON number with a fraction", {}),
    ("metric without unit", base(), lambda d: val(d, "weight")["data"].pop("unit"), f"{V}.weight[0].data",
     'missing required key "unit"', {}),
    ("price amount with 4 decimals", base(), lambda d: val(d, "price")["data"][0].update(amount="12.5000"),
     f"{V}.price[0].data[0].amount", 'exactly 2 decimals such as "12.50"', {}),
    ("price without currency", base(), lambda d: val(d, "price")["data"][1].pop("currency"),
     f"{V}.price[0].data[1]", 'missing required key "currency" (price)', {}),
    ("value without scope", base(), lambda d: val(d, "name").pop("scope"), f"{V}.name[0]",
     'missing required key "scope" (value)', {}),
    ("value with extra key", base(), lambda d: val(d, "name").update(attribute_type="pim_catalog_text"),
     f"{V}.name[0]", 'unexpected key "attribute_type" (value; allowed: "locale", "scope", "data", "_links")', {}),
    ("null data", base(), lambda d: val(d, "name").update(data=None), f"{V}.name[0].data",
     "expected a value's data: a string, an integer, a boolean, a metric, a product link or a list, got null", {}),
    ("object data of no format", base(), lambda d: val(d, "name").update(data={"foo": 1}), f"{V}.name[0].data",
     "must be a metric", {}),
    ("number in an option list", base(), lambda d: val(d, "materials").update(data=["metal", 7]),
     f"{V}.materials[0].data[1]", "expected an option, record or asset code, got the number 7", {}),
    ("product link of unknown type", base(), lambda d: val(d, "included_battery")["data"].update(type="category"),
     f"{V}.included_battery[0].data.type", '"category" is not one of "product", "product_model"', {}),
    ("media links without href", base(), lambda d: val(d, "picture")["_links"].update(download={}),
     f"{V}.picture[0]._links.download", 'missing required key "href"', {}),
    ("media link relative href", base(),
     lambda d: val(d, "picture")["_links"]["download"].update(href=f"/api/rest/v1/media-files/{MEDIA_KEY}/download"),
     f"{V}.picture[0]._links.download.href", "expected an absolute URL ending in /api/rest/v1/media-files/", {}),
    ("media links on a list value", base(), lambda d: val(d, "materials").update(_links=val(d, "picture")["_links"]),
     f"{V}.materials[0].data", "expected a file key", {}),
    ("attribute code with a space", base(), lambda d: res(d)["values"].update({"bad code": _value("x")}),
     f"{V}['bad code']", "invalid key \"bad code\": expected an attribute code", {}),
    ("empty value list", base(), lambda d: res(d)["values"].update(name=[]), f"{V}.name",
     "expected a non-empty list of values {locale, scope, data}, got a list of 0 items", {}),
    ("values as a list", base(), lambda d: res(d).update(values=[]), f"{R}.values",
     "expected an object of attribute code to a list of values, got a list of 0 items", {}),
    ("association type without products", base(), lambda d: res(d)["associations"]["X_SELL"].pop("products"),
     f"{R}.associations.X_SELL", 'missing required key "products" (association)', {}),
    ("unknown workflow_status", base(), lambda d: res(d)["metadata"].update(workflow_status="approved"),
     f"{R}.metadata.workflow_status", '"approved" is not one of "read_only", "draft_in_progress"', {}),
    ("quantified item without quantity", base(),
     lambda d: res(d)["quantified_associations"]["PACK"]["products"][0].pop("quantity"),
     f"{R}.quantified_associations.PACK.products[0]", 'missing required key "quantity"', {}),
    ("quantity zero", base(),
     lambda d: res(d)["quantified_associations"]["PACK"]["product_models"][0].update(quantity=0),
     f"{R}.quantified_associations.PACK.product_models[0].quantity", "must be at least 1, got 0", {}),
    ("non-empty quantified list", base(), lambda d: res(d).update(quantified_associations=[{"x": 1}]),
     f"{R}.quantified_associations", "expected an object; an empty list [] is tolerated", {}),
    ("empty quantified list under strict", base(), lambda d: res(d).update(quantified_associations=[]),
     f"{R}.quantified_associations", '"quantified_associations" is {} when empty', {"strict": True}),
    ("model with enabled under strict", base("saas", "product_model.created"), lambda d: res(d).update(enabled=True),
     f"{R}.enabled", 'Product models have no "enabled" key', {"strict": True}),
    ("model without family_variant", base("saas", "product_model.created"), lambda d: res(d).pop("family_variant"),
     R, 'missing required key "family_variant" (product model)', {}),
    ("categories not a list", base(), lambda d: res(d).update(categories="master"), f"{R}.categories",
     'expected a list of codes, got the string "master"', {}),
    ("family as a number", base(), lambda d: res(d).update(family=12), f"{R}.family",
     "expected a non-empty code or null, got the number 12", {}),
    ("enabled as a string", base(), lambda d: res(d).update(enabled="true"), f"{R}.enabled",
     'expected a boolean, got the string "true"', {}),
    ("created without offset", base(), lambda d: res(d).update(created="2020-10-20T08:30:28"), f"{R}.created",
     "a +HH:MM offset", {}),
    ("quality_scores present", base(), lambda d: res(d).update(quality_scores=[]), R,
     'unexpected key "quality_scores" (product)', {}),
    ("document is a list", base(), lambda d: Whole([d]), "$",
     'expected an object {"events": [...]} with 1 to 10 events (facts section 4), got a list of 1 item', {}),
]


def _apply(case_base: dict[str, Any], mutate: Mutation) -> Any:
    """A deep copy of ``case_base`` changed in place by ``mutate``, or the :class:`Whole` it returns."""
    document = copy.deepcopy(case_base)
    replaced = mutate(document)
    return replaced.document if isinstance(replaced, Whole) else document


@pytest.mark.parametrize(
    ("case_base", "mutate", "path", "fragment", "options"),
    [case[1:] for case in GALLERY],
    ids=[case[0] for case in GALLERY],
)
def test_gallery(
    case_base: dict[str, Any], mutate: Mutation, path: str, fragment: str, options: dict[str, Any]
) -> None:
    document = _apply(case_base, mutate)
    issues = validate_payload(document, **options)
    assert issues, "the broken payload validated"
    assert any(issue.path == path and fragment in issue.message for issue in issues), "\n".join(map(str, issues))
    assert not is_valid(document, **options)


def test_gallery_is_big_enough() -> None:
    assert len(GALLERY) >= 30
    assert len({case[0] for case in GALLERY}) == len(GALLERY)


# -- shape of the report ---------------------------------------------------------------------------------


def test_all_errors_are_reported_at_once() -> None:
    document = base()
    ev(document)["author_type"] = "robot"
    val(document, "age")["data"] = 1.5
    res(document)["quantified_associations"]["PACK"]["products"][0]["quantity"] = -1
    issues = validate_payload(document)
    assert [issue.path for issue in issues] == [
        "$.events[0].author_type",
        f"{R}.quantified_associations.PACK.products[0].quantity",
        f"{V}.age[0].data",
    ]


def test_issues_are_sorted_by_path_in_numeric_order_and_deduplicated() -> None:
    document = envelope(*[event("product.removed", removed_product("saas")) for _ in range(11)])
    document["events"][10]["author"] = ""
    document["events"][2]["author"] = ""
    document["events"][2]["event_id"] = "C306E088-FB76-479C-BBC0-18FEF19DA75D"  # fails pattern and format
    paths = [issue.path for issue in validate_payload(document)]
    assert paths == ["$.events", "$.events[2].author", "$.events[2].event_id", "$.events[10].author"]


def test_issue_str_and_immutability() -> None:
    issue = ValidationIssue("$.events[0].event_id", "bad")
    assert str(issue) == "$.events[0].event_id: bad"
    with pytest.raises(AttributeError):
        issue.path = "$"  # type: ignore[misc]


# -- raw bytes -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"", "body is empty"),
        (b"  \n", "body is empty"),
        (b"events", "body is not JSON: Expecting value at line 1 column 1"),
        (b'{"events": [', "body is not JSON"),
        (b'{"events": NaN}', "NaN is not valid JSON"),
        (b'{"author": "\xe9"}', "body is not UTF-8: byte 0xe9 at offset 12"),
        (b"[" * 200_000 + b"]" * 200_000, "body is not JSON"),
        (b" " * (MAX_PAYLOAD_BYTES + 1), f"more than the {MAX_PAYLOAD_BYTES}-byte limit"),
    ],
    ids=["empty", "blank", "not-json", "truncated", "nan", "latin-1", "too-deep", "huge"],
)
def test_validate_bytes_reports_unreadable_bodies_as_one_issue(raw: bytes, fragment: str) -> None:
    issues = validate_bytes(raw)
    assert len(issues) == 1
    assert issues[0].path == "$"
    assert fragment in issues[0].message


def test_validate_bytes_accepts_str_bytearray_memoryview_and_a_custom_limit() -> None:
    text = json.dumps(base())
    assert validate_bytes(text) == []
    assert validate_bytes(bytearray(text.encode())) == []
    assert validate_bytes(memoryview(text.encode())) == []
    assert "byte limit" in validate_bytes(text, max_bytes=100)[0].message


# -- options, caching, schema files ----------------------------------------------------------------------


def test_validators_are_cached_per_options() -> None:
    assert validator_for("saas") is validator_for("saas")
    assert validator_for("serenity") is validator_for("saas")
    assert validator_for("7.0", uuid_mode=True) is validator_for("7.0", uuid_mode=True)
    assert validator_for("7.0", uuid_mode=True) is not validator_for("7.0", uuid_mode=False)
    assert validator_for("saas", strict=True) is not validator_for("saas")
    assert validator_for("5.0", uuid_mode=False) is validator_for("5.0")


def test_profile_objects_and_aliases_are_accepted() -> None:
    by_uuid = envelope(event("product.created", product("saas", uuid_mode=True)))
    legacy = envelope(event("product.created", product("saas")))
    assert is_valid(by_uuid, profile=get_profile("serenity", uuid_mode=True))
    assert not is_valid(legacy, profile=get_profile("saas", uuid_mode=True))
    assert is_valid(legacy, profile=get_profile("saas"))


def test_schema_for_returns_a_copy() -> None:
    schema = schema_for("7.0")
    schema["$defs"].clear()
    assert schema_for("7.0")["$defs"]["envelope.json"]["$id"] == SCHEMA_BASE_URI + "envelope.json"
    assert validate_payload(base("7.0"), profile="7.0") == []


def test_misused_options_raise_kit_errors() -> None:
    with pytest.raises(UsageError, match="profile 5.0 has no UUID mode"):
        validate_payload(base("5.0"), profile="5.0", uuid_mode=True)
    with pytest.raises(UnknownProfile):
        validate_payload(base(), profile="8.0")
    with pytest.raises(UsageError, match="no schema file"):
        schema_path("nope.json")
    with pytest.raises(UsageError, match="root must be"):
        validator_for("saas", root="delivery")  # type: ignore[arg-type]


def test_schema_files_are_valid_draft_2020_12() -> None:
    files = sorted(SCHEMA_DIR.glob("*.json"))
    assert {path.name for path in files} >= {"envelope.json", "event.json", "product.json", "values.json"}
    for path in files:
        document = json.loads(path.read_text())
        Draft202012Validator.check_schema(document)
        assert document["$id"] == SCHEMA_BASE_URI + path.name
    assert schema_path() == SCHEMA_DIR / "envelope.json"


@pytest.mark.parametrize("profile", ["5.0", "6.0", "7.0", "saas"])
def test_bundled_root_is_self_contained_and_agrees(profile: str) -> None:
    for strict in (False, True):
        bundled = schema_for(profile, strict=strict)
        Draft202012Validator.check_schema(bundled)
        standalone = Draft202012Validator(bundled, format_checker=Draft202012Validator.FORMAT_CHECKER)
        for _, _, _, body in VALID:
            assert standalone.is_valid(body) == is_valid(body, profile=profile, strict=strict)
    assert "$defs" in schema_for(profile, bundle=False)
    assert "envelope.json" not in schema_for(profile, bundle=False)["$defs"]


# -- the fast path (jsonschema-rs) agrees with jsonschema ---------------------------------------------------


def _agree(document: Any, **options: Any) -> bool:
    """The jsonschema-rs fast path and the jsonschema slow path give the same verdict; returns it."""
    root: Literal["envelope", "event"] = (
        "event" if isinstance(document, dict) and "events" not in document else "envelope"
    )
    checker = _checker_for(options.get("profile", "saas"), options.get("uuid_mode"), options.get("strict", False), root)
    slow = next(iter(checker.validator.iter_errors(document)), None) is None
    assert checker.fast.is_valid(document) is slow
    return slow


def test_fast_path_is_jsonschema_rs_and_never_fetches() -> None:
    import jsonschema_rs

    checker = _checker_for("saas", None, False, "envelope")
    assert isinstance(checker.fast, jsonschema_rs.Validator)
    assert checker.fast is _checker_for("saas", None, False, "envelope").fast  # compiled once, cached
    # Without the bundled files as its registry, the root cannot be compiled offline: its refs are not fetched.
    with pytest.raises(jsonschema_rs.ValidationError, match="Retrieval is disabled"):
        jsonschema_rs.validator_for(checker.validator.schema, offline=True)


def test_fast_path_tells_dynamic_anchors_apart() -> None:
    """$dynamicRef: the same files, narrowed per profile, give different verdicts on the fast path."""
    body = base("saas")
    assert _agree(body, profile="saas") and not _agree(body, profile="7.0")  # the "metric" anchor: symbol
    removed = base("7.0", "product.removed")
    assert _agree(removed, profile="7.0") and not _agree(removed, profile="6.0")  # "removed-product": uuid
    del res(removed)["uuid"]
    assert not _agree(removed, profile="7.0") and _agree(removed, profile="6.0")


def test_a_value_that_is_not_json_data_takes_the_slow_path() -> None:
    body = base("saas")
    body["events"][0]["data"]["resource"]["values"][1] = []  # type: ignore[index]  # an int key: jsonschema-rs cannot read it
    assert not is_valid(body, profile="saas")
    assert validate_payload(body, profile="saas")


def test_fast_path_agrees_on_every_case() -> None:
    for _, profile, mode, body in VALID:
        for strict in (False, True):
            _agree(body, profile=profile, uuid_mode=mode, strict=strict)
    for _, case_base, mutate, _, _, options in GALLERY:
        _agree(_apply(case_base, mutate), **options)


def test_fast_path_agrees_on_docs_examples(reference_dir: Path) -> None:
    for path, profile in _docs_examples(reference_dir):
        for strict in (False, True):
            _agree(json.loads(path.read_text()), profile=profile, strict=strict)


JSON_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "x", "12.5000", "12.50", "EUR", "GRAM", PRODUCT_UUID, "2020-12-04T16:02:47+01:00",
                     "2021-02-29T16:02:47+01:00",
                     "product", "product.removed", "api", "working_copy"]),
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(["amount", "unit", "currency", "type", "id", "href", "x"]), children, max_size=3),
    max_leaves=6,
)


def _containers(node: Any, found: list[Any]) -> list[Any]:
    if isinstance(node, (dict, list)):
        found.append(node)
        for child in node.values() if isinstance(node, dict) else node:
            _containers(child, found)
    return found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case=st.sampled_from(VALID),
    strict=st.booleans(),
    pick=st.integers(min_value=0),
    key=st.sampled_from(["data", "amount", "uuid", "identifier", "products", "quantity", "values", "symbol", 0]),
    replacement=JSON_VALUES,
)
def test_fast_path_agrees_with_jsonschema_on_mutations(
    case: tuple[str, str, bool | None, dict[str, Any]], strict: bool, pick: int, key: str | int, replacement: Any
) -> None:
    _, profile, mode, body = case
    document = copy.deepcopy(body)
    containers = _containers(document, [])
    target = containers[pick % len(containers)]
    if isinstance(target, dict):
        target[str(key) if not isinstance(key, str) else key] = replacement
    elif target:
        target[pick % len(target)] = replacement
    _agree(document, profile=profile, uuid_mode=mode, strict=strict)
