"""``--scope``: a receiver responsible for part of the catalog is judged on that part alone, events outside
it are ignored by scope (never ``event_lost``), and applying one of them is ``out_of_scope_applied``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from akeneo_events_testkit.errors import UsageError
from akeneo_events_testkit.events_api.campaign import CampaignConfig, CampaignResult, run_campaign
from akeneo_events_testkit.judging.scope import ResourceFacts, Scope, focus_factor, note_resource, parse_scope

from ..support.cli import cli
from ..support.gallery import (
    SCOPED_FAMILY,
    GalleryReceiver,
    forwards_one_family,
    forwards_one_family_forgets_removals,
    forwards_one_family_leaks,
)
from ..support.paths import ROOT
from ..support.servers import uvicorn_thread

SECRET = "scope-secret"
SCOPE = f"family={SCOPED_FAMILY}"


def _run(receiver: GalleryReceiver, seed: int, scope: str | None = SCOPE, events: int = 300) -> CampaignResult:
    return run_campaign(CampaignConfig(seed=seed, events=events, scope=scope, settle_timeout=0.0),
                        target=receiver.asgi(), secret=SECRET, observe=receiver.observation)


# -- the criteria ----------------------------------------------------------------------------------------

def test_criteria_combine_all_of_them_and_any_of_their_values() -> None:
    scope = parse_scope(["family=shoes,food", "identifier=RUG-*,MAT-?"])
    assert scope == Scope(families=("shoes", "food"), identifiers=("RUG-*", "MAT-?"))
    rug = ResourceFacts("product", frozenset({"shoes"}), frozenset({"RUG-12"}))
    assert scope.covers_resource("product:1", rug)
    assert not scope.covers_resource("product:1", ResourceFacts("product", frozenset({"shoes"}),
                                                                frozenset({"TABLE-1"})))
    assert not scope.covers_resource("product:1", ResourceFacts("product", frozenset({"clothing"}),
                                                                frozenset({"RUG-1"})))
    assert parse_scope("kind=product_model").covers_resource("product_model:m", None)  # type: ignore[union-attr]
    assert not parse_scope("kind=product_model").covers_resource("product:p", None)  # type: ignore[union-attr]
    assert not scope.covers_resource("product:only-removed", None)  # no data ever seen: no family to match
    assert parse_scope(None) is None and parse_scope([]) is None


def test_events_are_narrowed_by_type_and_by_the_attributes_a_delta_changes() -> None:
    scope = Scope(types=("product.updated.delta", "product.deleted"), attributes=("price",))
    assert scope.covers_event("product.updated.delta", ("name", "price"), delta=True)
    assert not scope.covers_event("product.updated.delta", ("name",), delta=True)
    assert scope.covers_event("product.deleted")  # attributes narrow deltas only
    assert not scope.covers_event("product.updated")
    assert scope.options() == ["--scope type=product.updated.delta,product.deleted", "--scope attribute=price"]


def test_resource_facts_are_learnt_from_the_data_of_events_not_removals() -> None:
    resources: dict[str, ResourceFacts] = {}
    note_resource(resources, "product:u", {"identifier": "A", "family": "shoes", "values": {}})
    note_resource(resources, "product:u", {"identifier": "B", "family": None, "values": {}})
    note_resource(resources, "product_model:m", {"code": "m", "family": "food"})
    assert resources["product:u"] == ResourceFacts("product", frozenset({"shoes", "none"}), frozenset({"A", "B"}))
    assert resources["product_model:m"].identifiers == frozenset({"m"})


@pytest.mark.parametrize(("spec", "message"), [
    ("family", "use CRITERION=VALUE"),
    ("colour=red", "a criterion among kind"),
    ("kind=asset", "use product or product_model"),
    ("type=product.deleted", r"the Events API \(saas\) sends product.created"),
    ("attribute=price", "narrows \\*.updated.delta events"),
])
def test_bad_scopes_are_usage_errors_naming_the_fix(spec: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        CampaignConfig(scope=spec)


def test_focus_raises_faults_on_a_small_scope_only() -> None:
    assert focus_factor(0.1, 300, total=300) == 1.0  # everything in scope: the faults as configured
    assert focus_factor(0.0, 10, total=300) == 1.0
    assert focus_factor(0.05, 20, total=300) == 5.0  # about 5 faults on the 20 events in scope
    assert focus_factor(0.05, 1, total=300) == 10.0  # never more than 10x, never past a probability of 0.5
    assert focus_factor(0.2, 1, total=300) == 2.5


# -- receivers ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(8))
def test_a_bridge_of_one_family_passes_under_its_scope(seed: int) -> None:
    result = _run(forwards_one_family(SECRET), seed)
    assert result.passed, result.failure_text()
    stats = result.verdict.stats
    assert stats["scope"] == SCOPE and stats["in_scope"] >= 10 and stats["ignored_by_scope"] >= 100
    assert stats["resources_judged"] >= 2


def test_without_its_scope_the_bridge_loses_every_other_event() -> None:
    result = _run(forwards_one_family(SECRET), 0, scope=None)
    assert set(result.verdict.counts()) == {"event_lost"}


@pytest.mark.parametrize("seed", range(3))
def test_a_filter_looser_than_the_declared_scope_is_flagged(seed: int) -> None:
    result = _run(forwards_one_family_leaks(SECRET), seed)
    assert set(result.verdict.counts()) == {"out_of_scope_applied"}, result.failure_text()
    violation = result.verdict.violations[0]
    assert violation.message.endswith(f"applied an event outside --scope {SCOPE}") and violation.requests


def test_the_reference_receiver_applies_everything_so_a_scope_flags_it() -> None:
    result = run_campaign(CampaignConfig(seed=1, events=120, scope=SCOPE, settle_timeout=0.0))
    assert "out_of_scope_applied" in result.verdict.counts()
    assert all(v.resource for v in result.verdict.violations if v.kind == "out_of_scope_applied")


def test_a_scope_that_matches_nothing_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="left out all .* events .*families: .*shoes.*--catalog FILE"):
        _run(forwards_one_family(SECRET), 0, scope="family=rug", events=60)


# -- the command line --------------------------------------------------------------------------------------

def test_fuzz_scope_over_http(tmp_path: Path) -> None:
    receiver = forwards_one_family(SECRET)
    report = f"{tmp_path}/report.json"
    with uvicorn_thread(receiver) as base:
        done = cli("fuzz", "--url", f"{base}/webhook", "--state-url", f"{base}/state", "--events", "200",
                   "--seed", "2", "--scope", SCOPE, "--report", report, env={"AKENEO_EVENTS_SECRET": SECRET})
    assert done.returncode == 0, done.stdout + done.stderr
    assert any(line.split() [:2] == ["scope", f"{SCOPE}:"] for line in done.stdout.splitlines()), done.stdout
    with open(report) as handle:
        stats = json.load(handle)["stats"]
    assert stats["scope"] == SCOPE and stats["ignored_by_scope"] > 0


def test_fuzz_scope_usage_errors_exit_2() -> None:
    bad = cli("fuzz", "--events", "5", "--scope", "colour=red")
    assert bad.returncode == 2 and "use CRITERION=VALUE" in bad.stderr
    nothing = cli("fuzz", "--events", "20", "--scope", "family=rug", "--no-probes")
    assert nothing.returncode == 2 and "left out all" in nothing.stderr and "--catalog FILE" in nothing.stderr


# -- the bridge of the issue: one family of a PIM's own catalog ----------------------------------------------

class forwards_rugs(forwards_one_family):
    """The Fastify bridge's design: only products of family ``rug`` are forwarded downstream."""

    family = "rug"


class forwards_rugs_forgets_removals(forwards_one_family_forgets_removals):
    family = "rug"


def rugs_and_lamps(tmp_path: Path) -> str:
    """The example catalog (``examples/catalog-rugs.json``) with a second family, ``lamp``, sharing some of
    the attributes: the bridge's PIM has more than rugs."""
    document = json.loads((ROOT / "examples" / "catalog-rugs.json").read_text())
    families = document["families"]
    items = families if isinstance(families, list) else families["_embedded"]["items"]
    rug = items[0]
    lamp = {**rug, "code": "lamp", "labels": {"en_US": "Lamps"},
            "attributes": [a for a in rug["attributes"] if a not in ("pile", "knots_per_m2", "rug_length")],
            "attribute_requirements": {channel: [a for a in required if a not in ("pile",)]
                                       for channel, required in rug["attribute_requirements"].items()}}
    lamp.pop("_links", None)
    items.append(lamp)
    path = tmp_path / "rugs-and-lamps.json"
    path.write_text(json.dumps(document))
    return str(path)


def _bridge_run(receiver: GalleryReceiver, seed: int, catalog: str) -> CampaignResult:
    return run_campaign(CampaignConfig(seed=seed, events=300, scope="family=rug", catalog=catalog,
                                       settle_timeout=0.0),
                        target=receiver.asgi(), secret=SECRET, observe=receiver.observation)


@pytest.mark.parametrize("seed", range(4))
def test_a_rug_bridge_on_its_own_catalog(tmp_path: Path, seed: int) -> None:
    """The issue's bridge: passes when scoped, and its removal bug is reached (the faults aim at rugs)."""
    catalog = rugs_and_lamps(tmp_path)
    good = _bridge_run(forwards_rugs(SECRET), seed, catalog)
    assert good.passed, good.failure_text()
    assert good.verdict.stats["ignored_by_scope"] > 50 and good.verdict.stats["in_scope"] > 50
    assert good.verdict.stats["hazards"]["update_after_removal"] >= 3
    bad = _bridge_run(forwards_rugs_forgets_removals(SECRET), seed, catalog)
    assert "resurrected" in bad.verdict.counts(), bad.failure_text()
    assert "event_lost" not in bad.verdict.counts() and "out_of_scope_applied" not in bad.verdict.counts()


@pytest.mark.parametrize("seed", range(6))
def test_a_scope_hides_nothing_inside_it(seed: int) -> None:
    """A one-family bridge forgetting removals is caught although its family is a fifth of the catalog: the
    hazards are aimed at the events in scope."""
    result = _run(forwards_one_family_forgets_removals(SECRET), seed)
    assert "resurrected" in result.verdict.counts(), result.failure_text()
    assert result.verdict.stats["hazards"]["update_after_removal"] >= 1
