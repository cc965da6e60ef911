"""The seeded catalog: determinism, coverage of the catalog structure and the wire formats per profile."""

from __future__ import annotations

import random
import re
import subprocess
import time
import tracemalloc
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from faker import Faker

from akeneo_events_testkit.encoding import php_json_encode
from akeneo_events_testkit.versions import Action, resource_key
from akeneo_events_testkit.world._records import MAX_LINKS
from akeneo_events_testkit.world.catalog import Catalog, Edit
from akeneo_events_testkit.world.faker_provider import PimProvider
from akeneo_events_testkit.world.values import ATTRIBUTE_TYPES, PRODUCT_LINK, format_amount

from ..support.php import PHP, requires_php

NOW = 1_700_000_000
MODES = [("5.0", None), ("6.0", None), ("7.0", False), ("7.0", True), ("saas", False), ("saas", True)]
PRODUCT_KEYS_IDENTIFIER = ["identifier", "enabled", "family", "categories", "groups", "parent", "values",
                           "created", "updated", "associations", "quantified_associations", "metadata"]
MODEL_KEYS = ["code", "family", "family_variant", "parent", "categories", "values", "created", "updated",
              "associations", "quantified_associations", "metadata"]
C_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
MEDIA_KEY = re.compile(r"^([0-9a-f])/([0-9a-f])/([0-9a-f])/([0-9a-f])/\1\2\3\4[0-9a-f]{36}_[A-Za-z0-9_.]+$")


def payloads(catalog: Catalog) -> Iterator[tuple[str, dict[str, Any]]]:
    for key in catalog:
        current = catalog.current(key)
        assert current is not None
        yield key, current[1]


def encoded(catalog: Catalog) -> str:
    return php_json_encode([[key, catalog.current(key)] for key in catalog])


def values_of(catalog: Catalog) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (attribute type, value entry) of every payload."""
    attributes = catalog.structure.attributes
    for _key, payload in payloads(catalog):
        for code, entries in payload["values"].items():
            for entry in entries:
                yield attributes[code].type, entry


@pytest.fixture(scope="module")
def saas() -> Catalog:
    return Catalog(11, profile="saas", products=30, product_models=6)


# ------------------------------------------------------------------ determinism


@pytest.mark.parametrize(("profile", "uuid_mode"), MODES)
def test_same_seed_gives_the_same_catalog(profile: str, uuid_mode: bool | None) -> None:
    first = Catalog(5, profile=profile, uuid_mode=uuid_mode, now=NOW)
    second = Catalog(random.Random(5), profile=profile, uuid_mode=uuid_mode, now=NOW)
    assert encoded(first) == encoded(second)


def test_another_seed_gives_another_catalog() -> None:
    assert encoded(Catalog(5, now=NOW)) != encoded(Catalog(6, now=NOW))


def test_the_profile_changes_the_encoding_not_the_products() -> None:
    catalogs = [Catalog(9, profile=p, uuid_mode=m, now=NOW) for p, m in MODES]
    identifiers = [[payload.get("identifier") for key, payload in payloads(c) if key.startswith("product:")]
                   for c in catalogs if not c.profile.uuid_mode]
    assert all(ids == identifiers[0] for ids in identifiers)
    assert len({c.structure.attributes["designer"].options for c in catalogs}) == 1


# ------------------------------------------------------------------ structure


def test_every_attribute_type_is_defined_and_used(saas: Catalog) -> None:
    assert {a.type for a in saas.structure.attributes.values()} == set(ATTRIBUTE_TYPES)
    used = {kind for kind, _ in values_of(saas)}
    assert used == set(ATTRIBUTE_TYPES) - {"pim_catalog_identifier"}  # the identifier is at the root


def test_product_link_only_in_saas() -> None:
    for profile in ("5.0", "7.0"):
        catalog = Catalog(11, profile=profile, products=30, product_models=6)
        assert PRODUCT_LINK not in {kind for kind, _ in values_of(catalog)}


def test_values_carry_non_ascii_text_encoded_as_escapes(saas: Catalog) -> None:
    texts = [e["data"] for kind, e in values_of(saas) if kind.endswith(("text", "textarea"))]
    scripts = {"ja": r"[\u3040-\u30ff]", "zh": r"[\u4e00-\u9fff]", "ru": r"[\u0400-\u04ff]"}
    for pattern in scripts.values():
        assert any(re.search(pattern, t) for t in texts)
    body = encoded(saas)
    assert body.isascii() and "\\u" in body


def test_families_have_requirements_per_channel(saas: Catalog) -> None:
    channels = {c.code for c in saas.structure.channels}
    assert len(saas.structure.families) >= 4
    for family in saas.structure.families.values():
        assert set(family.requirements) == channels
        for required in family.requirements.values():
            assert "sku" in required and set(required) <= set(family.attributes)


def test_family_variants_have_one_or_two_levels_with_axes(saas: Catalog) -> None:
    depths = {len(v.levels) for v in saas.structure.family_variants.values()}
    assert depths == {1, 2}
    for variant in saas.structure.family_variants.values():
        family = saas.structure.families[variant.family]
        assert variant.levels[-1].attributes[0] == "sku"
        for level in variant.levels:
            assert level.axes and set(level.axes) <= set(level.attributes) <= set(family.attributes)


def test_category_tree_and_classification(saas: Catalog) -> None:
    categories = saas.structure.categories
    roots = [c for c in categories.values() if c.parent is None]
    assert {"master", "supplier"} <= {r.code for r in roots}
    assert all(c.parent is None or c.parent in categories for c in categories.values())
    assert any(categories[c.parent].parent is not None for c in categories.values() if c.parent)
    for _key, payload in payloads(saas):
        assert set(payload["categories"]) <= set(categories)


def test_models_sub_models_and_variant_products(saas: Catalog) -> None:
    models = {p["code"]: p for key, p in payloads(saas) if key.startswith("product_model:")}
    assert any(m["parent"] is None for m in models.values())
    assert any(m["parent"] in models for m in models.values())
    variants = [p for key, p in payloads(saas) if key.startswith("product:") and p["parent"]]
    assert variants and all(v["parent"] in models for v in variants)
    for variant in variants:
        model = models[variant["parent"]]
        assert variant["family"] == model["family"]
        assert set(model["values"]) <= set(variant["values"])  # inherited values


def test_associations_and_quantified_associations(saas: Catalog) -> None:
    assert {"X_SELL", "UPSELL", "SUBSTITUTION", "PACK"} <= set(saas.structure.plain_association_types)
    assert "PRODUCTSET" in saas.structure.quantified_association_types
    all_payloads = [p for _, p in payloads(saas)]
    for payload in all_payloads:
        assert list(payload["associations"]) == sorted(saas.structure.plain_association_types)
        for links in payload["associations"].values():
            assert list(links) == ["products", "product_models", "groups"]
    assert any(links["products"] for p in all_payloads for links in p["associations"].values())
    assert any(p["quantified_associations"] for p in all_payloads)
    assert any(not p["quantified_associations"] for p in all_payloads)


# ------------------------------------------------------------------ normalisation per profile


@pytest.mark.parametrize(("profile", "uuid_mode"), MODES)
def test_root_keys_in_the_normalizers_order(profile: str, uuid_mode: bool | None) -> None:
    catalog = Catalog(3, profile=profile, uuid_mode=uuid_mode, now=NOW)
    if profile in ("5.0", "6.0"):
        expected = PRODUCT_KEYS_IDENTIFIER
    elif uuid_mode:
        expected = ["uuid", *PRODUCT_KEYS_IDENTIFIER[1:]]
    else:
        expected = ["uuid", *PRODUCT_KEYS_IDENTIFIER]
    identifiers = {p["identifier"] for k, p in payloads(Catalog(3, profile="5.0", now=NOW)) if k[:8] == "product:"}
    for key, payload in payloads(catalog):
        assert resource_key(Action.PRODUCT_UPDATED if key.startswith("product:") else Action.PRODUCT_MODEL_UPDATED,
                            payload) == key
        if key.startswith("product_model:"):
            assert list(payload) == MODEL_KEYS
            continue
        assert list(payload) == expected
        sku = payload["values"].get("sku")
        if uuid_mode:
            assert UUID4.match(payload["uuid"])
            assert sku is not None and sku[0]["data"] in identifiers
        else:
            assert sku is None and payload["identifier"] in identifiers
        for links in payload["associations"].values():
            for ref in links["products"]:
                assert bool(UUID4.match(ref)) is bool(uuid_mode)
        for links in payload["quantified_associations"].values():
            assert list(links) == ["products", "product_models"]
            for item in links["products"]:
                assert list(item) == (["uuid", "quantity"] if uuid_mode else ["identifier", "quantity"])
            for item in links["product_models"]:
                assert list(item) == ["identifier", "quantity"]


def test_empty_maps_are_objects_and_lists_are_lists() -> None:
    catalog = Catalog(4, profile="5.0", now=NOW, products=0, product_models=0)
    bare = None
    for _ in range(50):
        saved = catalog.create_product(NOW, family=None)
        if not saved.snapshot["values"]:
            bare = saved.snapshot
            break
    assert bare is not None
    assert bare["values"] == {} and bare["quantified_associations"] == {}
    text = php_json_encode(bare)
    assert '"values":{}' in text and '"quantified_associations":{}' in text
    assert '"groups":[]' in text or bare["groups"]
    assert '"products":[],"product_models":[],"groups":[]' in text


@pytest.mark.parametrize("profile", ["5.0", "6.0", "7.0", "saas"])
def test_metric_symbol_only_in_saas(profile: str) -> None:
    catalog = Catalog(8, profile=profile, now=NOW)
    metrics = [e["data"] for kind, e in values_of(catalog) if kind == "pim_catalog_metric"]
    assert metrics
    for data in metrics:
        if profile == "saas":
            assert list(data) == ["amount", "unit", "symbol"]
            assert (data["unit"], data["symbol"]) in {("GRAM", "g"), ("KILOGRAM", "kg"), ("MILLIGRAM", "mg"),
                                                      ("POUND", "lb"), ("OUNCE", "oz"), ("CENTIMETER", "cm"),
                                                      ("MILLIMETER", "mm"), ("METER", "m"), ("INCH", "in"),
                                                      ("WATT", "W"), ("KILOWATT", "kW"), ("MILLILITER", "ml"),
                                                      ("LITER", "l")}
        else:
            assert list(data) == ["amount", "unit"]


def test_number_formats(saas: Catalog) -> None:
    attributes = saas.structure.attributes
    seen = {"metric4": 0, "metric_int": 0, "price2": 0, "price_int": 0, "number4": 0, "number_int": 0}
    for _key, payload in payloads(saas):
        for code, entries in payload["values"].items():
            attribute = attributes[code]
            for entry in entries:
                data = entry["data"]
                if attribute.type == "pim_catalog_metric":
                    if attribute.decimals_allowed:
                        assert re.fullmatch(r"\d+\.\d{4}", data["amount"])
                        seen["metric4"] += 1
                    else:
                        assert type(data["amount"]) is int
                        seen["metric_int"] += 1
                elif attribute.type == "pim_catalog_price_collection":
                    assert [p["currency"] for p in data] == sorted(p["currency"] for p in data)
                    for price in data:
                        assert list(price) == ["amount", "currency"]
                        if attribute.decimals_allowed:
                            assert re.fullmatch(r"\d+\.\d{2}", price["amount"])
                            seen["price2"] += 1
                        else:
                            assert type(price["amount"]) is int
                            seen["price_int"] += 1
                elif attribute.type == "pim_catalog_number":
                    if attribute.decimals_allowed:
                        assert re.fullmatch(r"\d+\.\d{4}", data)
                        seen["number4"] += 1
                    else:
                        assert type(data) is int
                        seen["number_int"] += 1
                elif attribute.type == "pim_catalog_date":
                    assert C_DATE.match(data) and data.endswith("T00:00:00+00:00")
    assert all(seen.values()), seen
    assert "float" not in {type(x).__name__ for x in _leaves([p for _, p in payloads(saas)])}


def _leaves(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        for item in node.values():
            yield from _leaves(item)
    elif isinstance(node, list):
        for item in node:
            yield from _leaves(item)
    else:
        yield node


def test_created_and_updated_in_c_format(saas: Catalog) -> None:
    for _key, payload in payloads(saas):
        assert C_DATE.match(payload["created"]) and C_DATE.match(payload["updated"])
        assert payload["created"] <= payload["updated"]


@requires_php
@pytest.mark.php
def test_format_amount_is_phps_number_format() -> None:
    """Byte for byte what PHP prints for the same amount, negative ones and no decimals included."""
    cases = [(1250, 2), (0, 2), (-1, 2), (-99, 2), (-100, 2), (5, 2), (-123456789, 4), (-5, 4), (10**12 + 1, 4),
             (-(10**8), 4), (999, 3), (-999, 3), (7, 0), (-7, 0), (0, 0)]
    arguments = [f"{Decimal(units).scaleb(-decimals)} {decimals}" for units, decimals in cases]  # "-0.01 2"
    script = ("foreach (array_slice($argv, 1) as $arg) { [$x, $d] = explode(' ', $arg); "
              "echo number_format((float) $x, (int) $d, '.', ''), \"\\n\"; }")
    assert PHP is not None
    done = subprocess.run([PHP, "-r", script, "--", *arguments], capture_output=True, text=True, timeout=60,
                          check=True)
    assert [format_amount(units, decimals) for units, decimals in cases] == done.stdout.splitlines()

def test_media_values_with_download_links(saas: Catalog) -> None:
    media = [e for kind, e in values_of(saas) if kind in ("pim_catalog_image", "pim_catalog_file")]
    assert media
    for entry in media:
        assert list(entry) == ["locale", "scope", "data", "_links"]
        assert MEDIA_KEY.match(entry["data"])
        href = entry["_links"]["download"]["href"]
        assert href == f"http://localhost:8080/api/rest/v1/media-files/{entry['data']}/download"
    assert "http:\\/\\/localhost:8080\\/api\\/rest\\/v1\\/media-files\\/" in encoded(saas)


def test_value_entries_per_locale_and_channel(saas: Catalog) -> None:
    attributes = saas.structure.attributes
    channels = saas.structure.channels
    locales = list(dict.fromkeys(loc for c in channels for loc in c.locales))
    for _key, payload in payloads(saas):
        for code, entries in payload["values"].items():
            attribute = attributes[code]
            assert all(list(e)[:3] == ["locale", "scope", "data"] for e in entries)
            slots = [(e["locale"], e["scope"]) for e in entries]
            if attribute.localizable and attribute.scopable:
                assert slots == [(loc, c.code) for c in channels for loc in c.locales]
            elif attribute.localizable:
                assert slots == [(loc, None) for loc in locales]
            elif attribute.scopable:
                assert slots == [(None, c.code) for c in channels]
            else:
                assert slots == [(None, None)]


# ------------------------------------------------------------------ state, removal, cache, memory


@pytest.mark.parametrize(("profile", "payload_keys"), [("5.0", ["identifier"]), ("6.0", ["identifier"]),
                                                       ("7.0", ["identifier", "uuid"]),
                                                       ("saas", ["identifier", "uuid"])])
def test_removal_payloads(profile: str, payload_keys: list[str]) -> None:
    for uuid_mode in ((False, True) if profile in ("7.0", "saas") else (None,)):
        catalog = Catalog(2, profile=profile, uuid_mode=uuid_mode, now=NOW)
        key = catalog.product_keys()[0]
        version = catalog.version(key)
        assert version is not None
        removal = catalog.remove_product(key)
        assert removal.action is Action.PRODUCT_REMOVED and list(removal.snapshot) == payload_keys
        assert removal.version == version + 1
        assert resource_key(removal.action, removal.snapshot) == key
        assert catalog.current(key) is None and key not in catalog
        model_key = catalog.product_model_keys()[0]
        removals = catalog.remove_product_model(model_key)
        assert removals[-1].snapshot == {"code": model_key.split(":", 1)[1]}
        assert all(catalog.current(r.key) is None for r in removals)
        assert [r.action for r in removals[:-1]] and all(r.action.is_removal for r in removals)


def test_removal_scrubs_associations_to_the_removed_product() -> None:
    catalog = Catalog(11, profile="saas", uuid_mode=True, products=30, product_models=6)
    target = next(u for _, p in payloads(catalog) for links in p["associations"].values() for u in links["products"])
    catalog.remove_product(f"product:{target}")
    for _, payload in payloads(catalog):
        for links in payload["associations"].values():
            assert target not in links["products"]


def test_payload_is_cached_per_version_and_rebuilt_after_a_save() -> None:
    catalog = Catalog(1, now=NOW)
    key = catalog.product_keys()[0]
    first = catalog.current(key)
    assert first is not None and catalog.current(key) == first and catalog.current(key)[1] is first[1]  # type: ignore[index]
    saved = catalog.update_product(key, NOW + 5)
    assert saved is not None and saved.version == first[0] + 1
    again = catalog.current(key)
    assert again is not None and again[1] is saved.snapshot and again[1]["updated"] == "2023-11-14T22:13:25+00:00"
    assert first[1]["updated"] != again[1]["updated"]  # the old snapshot is untouched


def test_mass_edit_changes_or_skips() -> None:
    catalog = Catalog(1, now=NOW)
    key = catalog.product_keys()[0]
    edit = Edit("category", code=catalog.structure.leaf_categories[0])
    first = catalog.update_product(key, NOW + 1, edit=edit)
    assert first is None or edit.code in first.snapshot["categories"]
    assert catalog.update_product(key, NOW + 2, edit=edit) is None  # nothing left to change


def test_normalising_a_product_takes_microseconds() -> None:
    catalog = Catalog(1, now=NOW, products=40)
    keys = catalog.product_keys()
    started = time.perf_counter()
    for index in range(2000):
        catalog.update_product(keys[index % len(keys)], NOW + index)
    per_save = (time.perf_counter() - started) / 2000
    assert per_save < 0.001, f"{per_save * 1e6:.0f} us per save and normalisation"


def test_memory_does_not_grow_with_saves() -> None:
    catalog = Catalog(6, now=NOW, products=10, product_models=2)
    rng = random.Random(6)
    keys = list(catalog.keys())

    def edit(count: int, offset: int) -> None:
        for index in range(count):
            key = rng.choice(keys)
            if key.startswith("product:"):
                catalog.update_product(key, NOW + offset + index, rng=rng)
            else:
                catalog.update_product_model(key, NOW + offset + index, rng=rng)
            catalog.current(key)

    edit(500, 0)
    early = catalog.footprint()
    tracemalloc.start()
    try:
        edit(500, 500)
        before = tracemalloc.get_traced_memory()[0]
        edit(3000, 1000)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(catalog) == len(keys)
    # resources, two cached payloads each, and association links, bounded per resource and type
    types = len(catalog.structure.association_types)
    assert early <= catalog.footprint() <= len(keys) * (3 + types * MAX_LINKS)
    assert after - before < 512 * 1024, f"grew by {after - before} bytes over 3000 saves"


# ------------------------------------------------------------------ Faker provider


def test_faker_provider_is_seeded_by_faker() -> None:
    def draw(seed: int) -> str:
        fake = Faker()
        fake.add_provider(PimProvider)
        fake.seed_instance(seed)
        return php_json_encode([
            fake.pim_identifier(), fake.pim_attribute_code(), fake.pim_metric(symbol=True),
            fake.pim_price_collection(), fake.pim_date_value(), fake.pim_media_file_key(),
            fake.pim_product("7.0"), fake.pim_product_model("5.0"), fake.pim_event("product.removed", "saas"),
        ])

    assert draw(1) == draw(1)
    assert draw(1) != draw(2)


def test_faker_provider_shapes() -> None:
    fake = Faker()
    fake.add_provider(PimProvider)
    fake.seed_instance(4)
    assert re.fullmatch(r"[a-z_]+", fake.pim_attribute_code())
    assert list(fake.pim_metric("Length", decimals=False)) == ["amount", "unit"]
    assert type(fake.pim_metric(decimals=False)["amount"]) is int
    assert C_DATE.match(fake.pim_date_value())
    assert MEDIA_KEY.match(fake.pim_media_file_key("Sun glasses-1.jpg"))
    assert fake.pim_media_file_key("Sun glasses-1.jpg").endswith("_Sun_glasses_1.jpg")
    assert list(fake.pim_product("5.0")) == PRODUCT_KEYS_IDENTIFIER
    assert next(iter(fake.pim_product("saas", uuid_mode=True))) == "uuid"
    assert list(fake.pim_product_model()) == MODEL_KEYS
    for action in Action:
        event = fake.pim_event(action, "7.0")
        assert list(event) == ["action", "event_id", "event_datetime", "author", "author_type", "pim_source",
                               "data"]
        assert event["action"] == action.value and UUID4.match(event["event_id"])
        resource = event["data"]["resource"]
        if action is Action.PRODUCT_CREATED:
            assert resource["created"] == resource["updated"]
        if action.is_removal:
            assert list(resource) == (["identifier", "uuid"] if action.entity == "product" else ["code"])
    with pytest.raises(ValueError, match="unknown measurement family"):
        fake.pim_metric("Speed")
