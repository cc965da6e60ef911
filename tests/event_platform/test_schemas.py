"""The Event Platform JSON Schemas: every type validates, broken CloudEvents fail at the right path, the CLI."""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from akeneo_events_testkit.errors import UsageError
from akeneo_events_testkit.event_platform.wire import cloud_event, encode
from akeneo_events_testkit.schemas import (
    SCHEMA_DIR,
    ValidationResult,
    _checker_for,
    check_payload,
    is_valid,
    schema_for,
    validate_bytes,
    validate_payload,
)
from akeneo_events_testkit.versions import Action, AuthorType

EP = "event-platform"
UUID = "1fd20ad8-ef95-49d7-a581-fb9f8ac0c5ad"
AUTHOR = {"identifier": "erp_1234", "type": "api"}


def envelope(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    event_type = f"com.akeneo.pim.v1.{kind}"
    return {
        "specversion": "1.0", "id": "018e32f9-dfe4-760e-a273-5da1c089dfdb", "source": "akeneo-event-platform",
        "type": event_type, "subject": "01HQ0SUBSCRIPTIONID", "time": "2024-03-07T15:16:37Z",
        "datacontenttype": "application/json",
        "dataschema": f"https://event.prd.sdk.akeneo.cloud/spec/{event_type}.schema.json", "data": data,
    }


DELTA_CHANGES = {
    "enabled": {"previous": True, "new": False},
    "family": {"previous": None, "new": "shoes"},
    "parent": {"previous": "m1", "new": None},
    "categories": {"added": ["summer"], "removed": []},
    "groups": {"added": [], "removed": ["promo"]},
    "values": {
        "name": [{"previous": "A", "new": "B", "type": "pim_catalog_text", "locale": "en_US", "scope": None}],
        "weight": [{"previous": None, "new": {"data": "1.5000", "unit": "KILOGRAM", "base_data": "1.5",
                                             "base_unit": "KILOGRAM"},
                    "type": "pim_catalog_metric", "locale": None, "scope": None}],
        "release": [{"previous": {"date": "2021-04-29 00:00:00.000000", "timezone": "UTC"}, "new": None,
                     "type": "pim_catalog_date", "locale": None, "scope": "ecommerce"}],
        "sku": [{"previous": {"data": "A1", "is_main_identifier": True},
                 "new": {"data": "A2", "is_main_identifier": True},
                 "type": "pim_catalog_identifier", "locale": None, "scope": None}],
        "manual": [{"previous": None, "new": {"file_name": "m.pdf", "key": "a/b/c/d/abcd_m.pdf"},
                    "type": "pim_catalog_file", "locale": None, "scope": None}],
        "price": [{"previous": [{"amount": "1.00", "currency": "EUR"}], "new": [{"amount": 2, "currency": "EUR"}],
                   "type": "pim_catalog_price_collection", "locale": None, "scope": None}],
        "link": [{"previous": None, "new": {"type": "product_model", "id": "m2"},
                  "type": "pim_catalog_product_link", "locale": None, "scope": None}],
        "nutrition": [{"previous": None, "new": {"rows": [{"cells": [{"cell": "ingredient", "data": "egg"}]}]},
                       "type": "pim_catalog_table", "locale": None, "scope": None}],
        "colors": [{"previous": ["red"], "new": ["red", "blue"], "type": "pim_catalog_multiselect",
                    "locale": None, "scope": None}],
    },
    "associations": {"X_SELL": {"added": {"products": [UUID], "product_models": [], "groups": ["g"]},
                                "removed": {"product_models": ["m"]}}},
    "quantified_associations": {"PACK": {"added": {"products": [{"uuid": UUID, "quantity": 2}]},
                                         "removed": {"product_models": ["m"]},
                                         "updated": {"product_models": [{"code": "m2", "quantity": 3,
                                                                         "previous_quantity": 1}]}}},
}
UPDATED_AT = {"date": "2024-10-14 13:01:21.000000", "timezone": "UTC"}

VALID: dict[str, dict[str, Any]] = {
    "product.created": {"product": {"uuid": UUID}, "author": AUTHOR},
    "product.updated": {"product": {"uuid": UUID, "identifier": "sku-1"}, "author": AUTHOR},
    "product.deleted": {"product": {"uuid": UUID}, "author": {"identifier": "julia", "type": "user"}},
    "product.updated.delta": {"product": {"uuid": UUID, "updated_at": UPDATED_AT, "changes": DELTA_CHANGES},
                              "author": AUTHOR},
    "product.became-complete": {"product": {"uuid": UUID, "complete_on": [{"locale": "en_US",
                                                                           "scope": "ecommerce"}]}},
    "product.became-incomplete": {"product": {"uuid": UUID, "incomplete_on": []}},
    "product-model.created": {"product_model": {"code": "m1"}, "author": {"identifier": "x", "type": "job"}},
    "product-model.updated": {"product_model": {"code": "m1"}, "author": {"identifier": "x", "type": "system"}},
    "product-model.deleted": {"product_model": {"code": "m1"},
                              "author": {"identifier": "x", "type": "unknown-user-type"}},
    "product-model.updated.delta": {"product_model": {"code": "m1", "updated_at": UPDATED_AT,
                                                      "changes": {"parent": {"previous": None, "new": "root"}}},
                                    "author": AUTHOR},
    "app.deleted": {"app": {"client_id": "abc"}},
    "connection.deleted": {"connection": {"client_id": "abc"}},
    "asset.created": {"asset": {"code": "a1", "asset_family": {"code": "packshots"}}},
    "attribute.updated": {"attribute": {"code": "color"}, "author": AUTHOR},
    "attribute-group.deleted": {"attribute_group": {"code": "marketing"}},
    "attribute-option.created": {"attribute_option": {"code": "red", "attribute": {"code": "color"}}},
    "category.created": {"category": {"code": "summer"}},
    "family.updated": {"family": {"code": "shoes"}},
    "reference-entity-record.deleted": {"reference_entity_record": {"code": "r1",
                                                                    "reference_entity": {"code": "brands"}}},
    "job.import.status-changed": {"job": {"code": "csv_import", "execution_id": 12, "status": "COMPLETED"}},
    "workflow.task.created": {"task": {"id": 1}},
}


@pytest.mark.parametrize("kind", sorted(VALID))
def test_every_type_validates(kind: str) -> None:
    document = envelope(kind, VALID[kind])
    assert validate_payload(document, profile=EP, strict=True) == []
    assert is_valid(document, profile=EP, strict=True)
    assert validate_bytes(encode(document), profile=EP) == []


MUTATIONS: list[Any] = [None, 1.5, -3, "", "x", [], {}, True, "not-a-uuid", "2024-02-30T10:00:00Z",
                         "com.akeneo.pim.v1.product.created", UUID]


def _mutants(document: dict[str, Any], rng: random.Random, count: int) -> list[Any]:
    """Copies of ``document`` with one seeded change each: a key removed, added, or a value replaced."""
    made = []
    for _ in range(count):
        copied = copy.deepcopy(document)
        containers: list[Any] = []
        stack: list[Any] = [copied]
        while stack:
            node = stack.pop()
            if isinstance(node, (dict, list)) and node:
                containers.append(node)
                stack.extend(node.values() if isinstance(node, dict) else node)
        target = rng.choice(containers)
        if isinstance(target, dict):
            key = rng.choice([*target, "extra"])
            if key in target and rng.random() < 0.4:
                del target[key]
            else:
                target[key] = rng.choice(MUTATIONS)
        else:
            target[rng.randrange(len(target))] = rng.choice(MUTATIONS)
        made.append(copied)
    return made


def test_fast_path_agrees_with_jsonschema_on_every_type_and_mutations() -> None:
    """jsonschema-rs (the fast path) and jsonschema (the messages) give one verdict, so that no payload is
    "invalid" with nothing to explain; every type's schema, valid and mutated, incl. the invalid dates that
    only ``format`` rejects."""
    rng = random.Random(18)
    verdicts = []
    for strict in (False, True):  # the lenient default (unknown keys allowed) and the closed schemas
        checker = _checker_for(EP, None, strict, "event")
        for kind in sorted(VALID):
            document = envelope(kind, VALID[kind])
            for candidate in [document, *_mutants(document, rng, 40)]:
                slow = next(iter(checker.validator.iter_errors(candidate)), None) is None
                assert checker.fast.is_valid(candidate) is slow, candidate
                verdicts.append((strict, slow))
    assert verdicts.count((True, False)) > len(VALID) * 20  # the mutants do break payloads
    # an added key breaks the closed schemas only: the variants differ
    assert verdicts.count((True, False)) > verdicts.count((False, False))


# -- forward-compatible by default (issue 18 item 4; event-platform-facts.md sections 1 and 4) -----------------

#: Types whose docs examples use the events.akeneo.com host (facts section 1).
OTHER_HOST_TYPES = [kind for kind in sorted(VALID) if kind.split(".")[0] in
                    ("asset", "attribute-option", "category", "family", "reference-entity-record")]


def documented(kind: str, data: dict[str, Any], *, host: str = "https://events.akeneo.com/",
               schema_type: str | None = None) -> dict[str, Any]:
    """A CloudEvent shaped like the docs examples (facts section 1: ``source`` "pim", a ``dataschema`` of the
    events.akeneo.com host, possibly naming another type)."""
    document = envelope(kind, data)
    document["source"] = "pim"
    document["subject"] = "srnt-whatever"
    document["dataschema"] = f"{host}{schema_type or document['type']}.schema.json"
    return document


def _strings(issues: Any) -> list[str]:
    return [str(issue) for issue in issues]


@pytest.mark.parametrize("kind", OTHER_HOST_TYPES)
def test_the_events_akeneo_com_host_is_accepted(kind: str) -> None:
    document = documented(kind, VALID[kind])
    for strict in (False, True):
        assert check_payload(document, profile=EP, strict=strict) == ValidationResult()
        assert is_valid(document, profile=EP, strict=strict)


def test_other_host_types_cover_the_documented_families() -> None:
    assert {kind.split(".")[0] for kind in OTHER_HOST_TYPES} == {
        "asset", "attribute-option", "category", "family", "reference-entity-record"}


@pytest.mark.parametrize(("kind", "named"), [
    ("attribute-option.created", "com.akeneo.pim.v1.reference-entity-record.created"),
    ("product-model.updated", "com.akeneo.pim.v1.product.updated"),
])
def test_a_dataschema_of_another_type_is_a_warning(kind: str, named: str) -> None:
    """The docs' attribute-option and product-model examples name another type's schema (facts section 1)."""
    data = VALID.get(kind) or {"product_model": {"code": "m1"}, "author": AUTHOR}
    document = documented(kind, data, schema_type=named)
    message = (f"$.dataschema: names the schema of {named}, not of this event's type com.akeneo.pim.v1.{kind}: "
               "informative only, as in some docs examples (event-platform-facts.md section 1); an error with strict")
    result = check_payload(document, profile=EP)
    assert result.errors == () and _strings(result.warnings) == [message]
    assert validate_payload(document, profile=EP) == [] and is_valid(document, profile=EP)
    strict = check_payload(document, profile=EP, strict=True)
    assert _strings(strict.errors) == [message] and strict.warnings == ()
    assert not is_valid(document, profile=EP, strict=True)


def test_an_undocumented_dataschema_host_is_an_error() -> None:
    """Facts section 1 documents two hosts; a third is a typo rather than platform traffic."""
    document = documented("category.created", VALID["category.created"], host="https://events.akeneo.test/")
    for strict in (False, True):
        result = check_payload(document, profile=EP, strict=strict)
        assert [issue.path for issue in result.errors] == ["$.dataschema"]
        assert "https://events.akeneo.com/<type>.schema.json" in result.errors[0].message


METRIC_WITH_FAMILY = {"data": "1.5000", "unit": "KILOGRAM", "base_data": "1.5", "base_unit": "KILOGRAM",
                      "family": "Weight"}


def _delta_with_family() -> dict[str, Any]:
    document = _delta()
    document["data"]["product"]["changes"]["values"]["weight"][0]["new"] = dict(METRIC_WITH_FAMILY)
    return document


def test_a_metric_with_its_measurement_family_validates_with_one_warning() -> None:
    """Akeneo's delta examples carry the measurement ``family`` in metric values (facts section 4 lists
    ``{data,unit,base_data,base_unit}``): accepted by default, with a warning naming the key."""
    document = _delta_with_family()
    result = check_payload(document, profile=EP)
    assert result.errors == ()
    assert _strings(result.warnings) == [
        '$.data.product.changes.values.weight[0].new: unknown key "family": not in the documented schema, '
        "accepted (the platform adds fields over time; event-platform-facts.md section 4); an error with strict"]
    assert validate_bytes(encode(document), profile=EP) == []
    assert _strings(validate_payload(document, profile=EP, strict=True)) == [
        '$.data.product.changes.values.weight[0].new: unexpected key "family" (metric {data, unit, base_data, '
        'base_unit}; allowed: "data", "unit", "base_data", "base_unit")']


@pytest.mark.parametrize(("make", "path", "keys"), [
    (lambda: _product(traceparent="00-abc"), "$", ['"traceparent"']),
    (lambda: _set(_delta(), "data/product/changes/status", {}), "$.data.product.changes", ['"status"']),
    (lambda: _set(_product(), "data/product/identifier", "sku-1"), None, []),  # documented: no warning
    (lambda: _set(_set(_product(), "data/extra", 1), "data/author/email", "a@b.c"), None,
     ["$.data", "$.data.author"]),
])
def test_unknown_keys_are_warnings_by_default_and_errors_when_strict(
    make: Maker, path: str | None, keys: list[str]
) -> None:
    document = make()
    result = check_payload(document, profile=EP)
    assert result.errors == ()
    if path is None and not keys:
        assert result.warnings == () and check_payload(document, profile=EP, strict=True).ok
        return
    if path is None:
        assert [issue.path for issue in result.warnings] == keys
    else:
        assert [(issue.path, issue.message.split(":")[0]) for issue in result.warnings] == [
            (path, f"unknown key {keys[0]}")]
    strict = check_payload(document, profile=EP, strict=True)
    assert not strict.ok and all("unexpected key" in issue.message for issue in strict.errors)


def test_unknown_keys_are_still_reported_beside_errors() -> None:
    document = _set(_delta_with_family(), "data/product/updated_at", _DELETE)
    result = check_payload(document, profile=EP)
    assert _strings(result.errors) == [
        '$.data.product: missing required key "updated_at" (data.product of product.updated.delta)']
    assert _strings(result.warnings) == [
        '$.data.product.changes.values.weight[0].new: unknown key "family": not in the documented schema, '
        "accepted (the platform adds fields over time; event-platform-facts.md section 4); an error with strict"]


@pytest.mark.parametrize(("path", "placeholder"), [
    ("data/product/uuid", "a_product_uuid_1"),
    ("data/product/changes/associations/X_SELL/added/products/0", "an_added_product_uuid"),
])
def test_a_docs_placeholder_where_a_uuid_goes_stays_invalid(path: str, placeholder: str) -> None:
    """Facts section 1: the delta examples put placeholders where UUIDs go."""
    document = _set(_delta(), path, placeholder)
    for strict in (False, True):
        result = check_payload(document, profile=EP, strict=strict)
        assert len(result.errors) == 1, _strings(result.errors)
        assert result.errors[0].message == (
            f'expected a UUID such as "1fd20ad8-ef95-49d7-a581-fb9f8ac0c5ad", got "{placeholder}": this looks like '
            "a placeholder from the docs examples, not a real value (event-platform-facts.md section 1)")
    assert "placeholder" not in validate_payload(_set(_delta(), path, "sku-1"), profile=EP)[0].message


def test_cli_validate_reports_warnings_and_strict_refuses(tmp_path: Path) -> None:
    path = tmp_path / "delta.json"
    path.write_bytes(encode(_delta_with_family()))
    done = _cli("validate", "--profile", "event-platform", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f'{path}: warning: $.data.product.changes.values.weight[0].new: unknown key "family": not in the '
        "documented schema, accepted (the platform adds fields over time; event-platform-facts.md section 4); "
        "an error with strict",
        f"{path}: ok"]
    strict = _cli("validate", "--profile", "event-platform", "--strict", str(path))
    assert strict.returncode == 1
    assert strict.stdout.splitlines() == [
        f'{path}: $.data.product.changes.values.weight[0].new: unexpected key "family" (metric {{data, unit, '
        'base_data, base_unit}; allowed: "data", "unit", "base_data", "base_unit")']


def test_envelope_lists_37_documented_types() -> None:
    schema = json.loads((SCHEMA_DIR / "event-platform" / "cloudevent.json").read_text(encoding="utf-8"))
    assert len(schema["properties"]["type"]["enum"]) == 37


@pytest.mark.parametrize("action", list(Action))
def test_generated_events_validate(action: Action) -> None:
    resource = {"uuid": UUID, "identifier": "sku-1", "code": "m1"}
    for author_type in AuthorType:
        event = cloud_event(action=action, resource=resource, epoch=1_700_000_000, author="who",
                            author_type=author_type, rng=random.Random(1), subscription_id="sub",
                            send_product_identifier=True)
        assert validate_payload(event.body, profile=EP, strict=True) == []


def _product(**changes: Any) -> dict[str, Any]:
    document = envelope("product.updated", {"product": {"uuid": UUID}, "author": dict(AUTHOR)})
    document.update(changes)
    return document


def _delta() -> dict[str, Any]:
    return envelope("product.updated.delta", copy.deepcopy(VALID["product.updated.delta"]))


def _set(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    target: Any = document
    *parents, last = path.split("/")
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is _DELETE:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return document


_DELETE = object()
Maker = Callable[[], dict[str, Any]]

GALLERY: list[tuple[str, Maker, str, str]] = [
    ("specversion 0.3", lambda: _product(specversion="0.3"), "$.specversion", 'expected "1.0"'),
    ("id not a UUID", lambda: _product(id="evt-1"), "$.id", "expected a UUID"),
    ("empty source", lambda: _product(source=""), "$.source", "expected a non-empty source"),
    ("unknown type", lambda: _product(type="com.akeneo.pim.v1.product.exploded"), "$.type", "is not one of"),
    ("Events API action as type", lambda: _product(type="product.updated"), "$.type", "is not one of"),
    ("empty subject", lambda: _product(subject=""), "$.subject", "expected the subscription id"),
    ("time with offset", lambda: _product(time="2024-03-07T16:16:37+01:00"), "$.time", "RFC 3339 UTC"),
    ("time with fraction", lambda: _product(time="2024-03-07T15:16:37.123Z"), "$.time", "RFC 3339 UTC"),
    ("datacontenttype", lambda: _product(datacontenttype="application/cloudevents+json"), "$.datacontenttype",
     'expected "application/json"'),
    ("dataschema of another type",
     lambda: _product(dataschema="https://event.prd.sdk.akeneo.cloud/spec/com.akeneo.pim.v1.product.created"
                                 ".schema.json"), "$.dataschema",
     "names the schema of com.akeneo.pim.v1.product.created"),
    ("dataschema of an undocumented host",
     lambda: _product(dataschema="https://example.com/com.akeneo.pim.v1.product.updated.schema.json"), "$.dataschema",
     "or https://events.akeneo.com/<type>.schema.json"),
    ("extension attribute", lambda: _product(traceparent="00-abc"), "$", 'unexpected key "traceparent"'),
    ("missing id", lambda: _set(_product(), "id", _DELETE), "$", 'missing required key "id"'),
    ("data is a list", lambda: _product(data=[]), "$.data", "expected an object"),
    ("product identifier only",
     lambda: _set(_product(), "data/product", {"identifier": "sku"}), "$.data.product", 'missing required key "uuid"'),
    ("product uuid not a UUID", lambda: _set(_product(), "data/product/uuid", "sku-1"), "$.data.product.uuid",
     "expected a UUID"),
    ("author type ui", lambda: _set(_product(), "data/author/type", "ui"), "$.data.author.type", '"ui" is not one of'),
    ("author missing", lambda: _set(_product(), "data/author", _DELETE), "$.data", 'missing required key "author"'),
    ("product model by product key",
     lambda: envelope("product-model.updated", {"product": {"code": "m1"}, "author": AUTHOR}), "$.data",
     'missing required key "product_model"'),
    ("author on completeness",
     lambda: envelope("product.became-complete", {"product": {"uuid": UUID, "complete_on": []}, "author": AUTHOR}),
     "$.data", 'unexpected key "author"'),
    ("complete_on without scope",
     lambda: envelope("product.became-complete", {"product": {"uuid": UUID, "complete_on": [{"locale": "en_US"}]}}),
     "$.data.product.complete_on[0]", 'missing required key "scope"'),
    ("delta without updated_at", lambda: _set(_delta(), "data/product/updated_at", _DELETE), "$.data.product",
     'missing required key "updated_at"'),
    ("delta updated_at in ISO 8601", lambda: _set(_delta(), "data/product/updated_at/date", "2024-10-14T13:01:21Z"),
     "$.data.product.updated_at.date", "expected a date like"),
    ("delta unknown change", lambda: _set(_delta(), "data/product/changes/status", {}), "$.data.product.changes",
     'unexpected key "status"'),
    ("delta metric in connector format",
     lambda: _set(_delta(), "data/product/changes/values/weight/0/new", {"amount": "1.5000", "unit": "KILOGRAM"}),
     "$.data.product.changes.values.weight[0].new", "missing required keys"),
    ("delta date in connector format",
     lambda: _set(_delta(), "data/product/changes/values/release/0/previous", "2021-04-29T00:00:00+00:00"),
     "$.data.product.changes.values.release[0].previous", "expected an object or null"),
    ("delta file as a key", lambda: _set(_delta(), "data/product/changes/values/manual/0/new", "a/b/c/d/abcd_m.pdf"),
     "$.data.product.changes.values.manual[0].new", "expected an object or null"),
    ("delta table as rows", lambda: _set(_delta(), "data/product/changes/values/nutrition/0/new",
                                         {"rows": [{"ingredient": "egg"}]}),
     "$.data.product.changes.values.nutrition[0].new.rows[0]", 'missing required key "cells"'),
    ("delta value item without scope", lambda: _set(_delta(), "data/product/changes/values/name/0/scope", _DELETE),
     "$.data.product.changes.values.name[0]", 'missing required key "scope"'),
    ("delta enabled not boolean", lambda: _set(_delta(), "data/product/changes/enabled/new", "no"),
     "$.data.product.changes.enabled.new", "expected a boolean or null"),
    ("delta categories as list", lambda: _set(_delta(), "data/product/changes/categories", ["summer"]),
     "$.data.product.changes.categories", "expected an object"),
    ("delta quantity zero",
     lambda: _set(_delta(), "data/product/changes/quantified_associations/PACK/added/products/0/quantity", 0),
     "$.data.product.changes.quantified_associations.PACK.added.products[0].quantity", "must be at least 1"),
    ("model delta with enabled",
     lambda: envelope("product-model.updated.delta", {"product_model": {
         "code": "m1", "updated_at": UPDATED_AT, "changes": {"enabled": {"previous": True, "new": False}}},
         "author": AUTHOR}),
     "$.data.product_model.changes", 'unexpected key "enabled"'),
    ("attribute option without attribute",
     lambda: envelope("attribute-option.created", {"attribute_option": {"code": "red"}}),
     "$.data.attribute_option", 'missing required key "attribute"'),
]


def test_gallery_is_large_enough() -> None:
    assert len(GALLERY) >= 15


@pytest.mark.parametrize(("make", "path", "fragment"), [case[1:] for case in GALLERY], ids=[c[0] for c in GALLERY])
def test_broken_cloud_events(make: Maker, path: str, fragment: str) -> None:
    issues = validate_payload(make(), profile=EP, strict=True)
    assert issues, "expected at least one issue"
    matching = [issue for issue in issues if issue.path == path]
    assert matching, f"no issue at {path}: {[str(i) for i in issues]}"
    assert any(fragment in issue.message for issue in matching), [str(i) for i in matching]


def test_bytes_edge_cases() -> None:
    assert [str(i) for i in validate_bytes(b"", profile=EP)] == [
        "$: body is empty: the Event Platform sends one CloudEvent object (event-platform-facts.md section 1)"]
    assert validate_bytes(b"[{}]", profile=EP)[0].message == "expected an object, got a list of 1 item"
    assert validate_bytes(b"{", profile=EP)[0].message.startswith("body is not JSON")
    batch = encode({"events": [envelope("product.created", VALID["product.created"])]})
    assert validate_bytes(batch, profile=EP)


def test_events_api_profiles_unchanged_and_uuid_mode_refused() -> None:
    assert validate_payload(envelope("product.created", VALID["product.created"]))  # not an Events API batch
    with pytest.raises(UsageError, match="uuid_mode does not apply"):
        validate_payload({}, profile=EP, uuid_mode=True)


def test_bundled_schema_validates_standalone() -> None:
    schema = schema_for(EP)
    assert "data.json" in schema["$defs"] and "delta.json" in schema["$defs"]
    validator = Draft202012Validator(schema)
    assert validator.is_valid(envelope("product.updated.delta", VALID["product.updated.delta"]))
    assert not validator.is_valid(_product(time="yesterday"))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "akeneo_events_testkit.cli", *args], capture_output=True,
                          text=True, timeout=60, check=False)


def test_cli_validate_event_platform(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_bytes(encode(envelope("product.updated.delta", VALID["product.updated.delta"])))
    bad = tmp_path / "bad.json"
    bad.write_bytes(encode(_product(time="2024-03-07T16:16:37+01:00")))
    done = _cli("validate", "--profile", "event-platform", str(good), str(bad))
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == [
        f"{good}: ok",
        f'{bad}: $.time: expected an RFC 3339 UTC time to the second such as "2024-03-07T15:16:37Z", '
        f'got "2024-03-07T16:16:37+01:00"',
    ]
    assert _cli("validate", "--profile", "event-platform", str(good)).returncode == 0
    unknown = _cli("validate", "--profile", "event-platforms", str(good))
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
