"""Catalog files (``--catalog``): the REST API's answers read as a catalog shape, and what a shaped catalog makes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from akeneo_events_testkit.errors import UsageError
from akeneo_events_testkit.events_api.pim import MockPim
from akeneo_events_testkit.schemas import validate_payload
from akeneo_events_testkit.world.activity import generate_activity
from akeneo_events_testkit.world.shape import load_catalog_shape, parse_catalog_shape

from ..support.paths import ROOT

RUGS = ROOT / "examples" / "catalog-rugs.json"
START = 1_700_000_000


def _rugs() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(RUGS.read_text(encoding="utf-8"))
    return data


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "catalog.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_the_example_loads_paginated_and_list_forms_alike(tmp_path: Path) -> None:
    data = _rugs()
    assert "_embedded" in data["families"] and isinstance(data["attributes"], list)  # both forms in the example
    paginated = load_catalog_shape(RUGS)
    flipped = copy.deepcopy(data)
    flipped["families"] = data["families"]["_embedded"]["items"]
    flipped["attributes"] = {"_links": {}, "current_page": 1, "_embedded": {"items": data["attributes"]}}
    listed = load_catalog_shape(_write(tmp_path, flipped))
    assert (listed.families, listed.attributes, listed.channels) == (
        paginated.families, paginated.attributes, paginated.channels)
    shape = paginated
    assert shape.identifier_attribute == "rug_code" and list(shape.families) == ["rug"]
    assert [c.code for c in shape.channels] == ["ecommerce", "print"]
    assert shape.channels[0].currencies == ("EUR", "USD") and shape.locales == ("en_US", "fr_FR", "de_DE")
    rug = shape.families["rug"]
    assert rug.attributes[0] == "rug_code" and rug.requirements["print"] == ("rug_code", "name", "description")
    # options: given inline (material), from attribute_options (pile), else drawn from the seed (colors)
    assert shape.attributes["material"].options == ("wool", "jute", "cotton", "polypropylene", "silk")
    assert shape.attributes["pile"].options == ("low", "medium", "high", "shaggy")
    assert shape.generated == frozenset({"colors"})
    length = shape.attributes["rug_length"]
    assert length.units[0] == ("CENTIMETER", "cm") and (length.low, length.high) == (40, 600)
    assert shape.attributes["picture"].extension == "jpg"
    assert "legacy_notes" not in shape.attributes  # an unknown type no family uses is ignored


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.pop("channels"), "missing key(s) channels"),
    (lambda d: d.update(families={"_links": {}}), "families: an object without _embedded.items"),
    (lambda d: d["families"]["_embedded"]["items"][0]["attributes"].append("fringe"),
     "family 'rug' names attribute 'fringe', which attributes does not describe"),
    (lambda d: d["families"]["_embedded"]["items"][0]["attribute_requirements"]["print"].append("legacy_notes"),
     "family 'rug' requires attribute 'legacy_notes' on 'print' but does not hold it"),
    (lambda d: d["families"]["_embedded"]["items"][0]["attributes"].append("legacy_notes"),
     "attribute 'legacy_notes' (family 'rug') has type 'pim_catalog_legacy_widget', which the kit cannot "
     "generate values for: remove it from the families that use it"),
    (lambda d: d.update(attributes=[a for a in d["attributes"] if a["code"] != "rug_code"]),
     "no attribute of type pim_catalog_identifier"),
    (lambda d: d["attributes"][6].update(metric_family="Loudness"), "metric_family 'Loudness' is unknown"),
    (lambda d: d["attributes"][6].update(default_metric_unit="FURLONG"), "'FURLONG' is not a unit of Length"),
    (lambda d: d["channels"][1]["locales"].append("xx_XX"), "channel 'print' names locale 'xx_XX'"),
    (lambda d: d["families"]["_embedded"].update(items=[]), "no family"),
])
def test_bad_files_name_the_file_and_the_fix(tmp_path: Path, edit: Any, message: str) -> None:
    data = _rugs()
    edit(data)
    path = _write(tmp_path, data)
    with pytest.raises(UsageError) as caught:
        load_catalog_shape(path)
    assert str(caught.value).startswith(f"--catalog {path}: ") and message in str(caught.value)


def test_unreadable_and_non_json_files(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not JSON .*give a JSON object with families, attributes and channels"):
        load_catalog_shape(_write(tmp_path, "{families: nope"))
    with pytest.raises(UsageError, match="cannot read it"):
        load_catalog_shape(tmp_path / "missing.json")
    with pytest.raises(UsageError, match="must hold a JSON object"):
        parse_catalog_shape([1, 2])


def test_a_measurement_family_from_the_file_gives_the_units(tmp_path: Path) -> None:
    data = _rugs()
    data["attributes"][6].update(metric_family="Area", default_metric_unit="SQUARE_METER")
    data["measurement_families"] = [{"code": "Area", "standard_unit_code": "SQUARE_METER", "units": {
        "SQUARE_METER": {"code": "SQUARE_METER", "symbol": "m²"}, "SQUARE_FOOT": {"code": "SQUARE_FOOT",
                                                                                   "symbol": "ft²"}}}]
    shape = load_catalog_shape(_write(tmp_path, data))
    assert shape.attributes["rug_length"].units == (("SQUARE_METER", "m²"), ("SQUARE_FOOT", "ft²"))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_product_is_a_rug_with_only_rug_attributes(seed: int) -> None:
    shape = load_catalog_shape(RUGS)
    rug = set(shape.families["rug"].attributes)
    catalog, operations = generate_activity(rng=seed, events=400, start=START, profile="saas", uuid_mode=True,
                                            shape=shape)
    assert catalog.product_model_count == 0 and catalog.product_count > 0
    saved = 0
    for operation in operations:
        for change in operation.changes:
            assert change.action.entity == "product"
            if change.action.is_removal:
                continue
            resource = change.snapshot
            assert resource["family"] == "rug" and resource["parent"] is None
            assert set(resource["values"]) <= rug and "rug_code" in resource["values"]  # UUID mode keeps it
            saved += 1
    assert saved > 300
    colours = catalog.structure.attributes["colors"].options
    assert len(colours) >= 2 and colours == generate_activity(rng=seed, events=1, start=START,
                                                              shape=shape)[0].structure.attributes["colors"].options


@pytest.mark.parametrize("profile", ["5.0", "7.0", "saas"])
def test_shaped_payloads_validate_and_one_seed_gives_the_same_bytes(profile: str) -> None:
    def bodies() -> list[bytes]:
        pim = MockPim(seed=7, events=120, profile=profile, start=START, catalog=RUGS)
        return [delivery.body for delivery in pim.deliveries(secret="s")]

    first = bodies()
    assert first and first == bodies()
    assert first != [d.body for d in MockPim(seed=8, events=120, profile=profile, start=START,
                                             catalog=RUGS).deliveries(secret="s")]
    for body in first:
        envelope = json.loads(body)
        assert validate_payload(envelope, profile=profile, strict=True) == []
        for event in envelope["events"]:
            if not event["action"].endswith(".removed"):
                assert event["data"]["resource"]["family"] == "rug"


def test_the_kit_catalog_still_has_family_less_products_and_models() -> None:
    catalog, operations = generate_activity(rng=1, events=300, start=START)
    families = {c.snapshot.get("family") for op in operations for c in op.changes if not c.action.is_removal}
    assert None in families and len(families) > 3 and catalog.product_model_count > 0


# -- a catalog file through campaigns, the CLI and the plugin ---------------------------------------------

@pytest.mark.parametrize("seed", [1, 2])
def test_the_reference_receiver_passes_both_profiles_with_a_catalog_file(seed: int) -> None:
    from akeneo_events_testkit.event_platform.campaign import EpCampaignConfig, run_ep_campaign
    from akeneo_events_testkit.events_api.campaign import CampaignConfig, run_campaign

    events_api = run_campaign(CampaignConfig(seed=seed, events=150, start=START, catalog=str(RUGS)))
    assert events_api.passed, events_api.failure_text()
    assert "--catalog" in events_api.reproduce and str(RUGS) in events_api.reproduce
    held = events_api.run.truth.events.values()
    assert held and all(event.key.startswith("product:") for event in held)  # no product models
    platform = run_ep_campaign(EpCampaignConfig(seed=seed, events=150, catalog=str(RUGS)))
    assert platform.passed, platform.failure_text()
    assert "--catalog" in platform.reproduce


def test_campaign_configs_refuse_a_bad_catalog_file_at_once(tmp_path: Path) -> None:
    from akeneo_events_testkit.event_platform.campaign import EpCampaignConfig
    from akeneo_events_testkit.events_api.campaign import CampaignConfig

    bad = _write(tmp_path, {"families": [], "attributes": []})
    for config in (CampaignConfig, EpCampaignConfig):
        with pytest.raises(UsageError, match=r"missing key\(s\) channels"):
            config(catalog=str(bad))


def test_cli_fuzz_and_emit_take_a_catalog_file(tmp_path: Path) -> None:
    from ..support.cli import cli

    report = tmp_path / "report.json"
    fuzzed = cli("fuzz", "--events", "60", "--catalog", str(RUGS), "--report", str(report), "--quiet")
    assert fuzzed.returncode == 0, fuzzed.stdout + fuzzed.stderr
    assert f"--catalog {RUGS}" in json.loads(report.read_text())["reproduce"]
    platform = cli("fuzz", "--profile", "event-platform", "--events", "40", "--catalog", str(RUGS), "--quiet")
    assert platform.returncode == 0, platform.stdout + platform.stderr
    broken = _write(tmp_path, "{nope")
    refused = cli("fuzz", "--events", "5", "--catalog", str(broken))
    assert refused.returncode == 2 and f"--catalog {broken}: not JSON" in refused.stderr
    emitted = cli("emit", "--url", "http://127.0.0.1:9/", "--secret", "s", "--events", "5", "--catalog", str(broken))
    assert emitted.returncode == 2 and f"--catalog {broken}: not JSON" in emitted.stderr
    latency = cli("fuzz", "--events", "5", "--rest-latency", "0.6")
    assert latency.returncode == 2 and "--rest-latency needs --rest-api" in latency.stderr
