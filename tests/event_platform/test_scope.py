"""``--scope`` on the Event Platform: a receiver that acts only on some event types and on deltas of some
attributes is judged on those alone (judging/scope.py)."""

from __future__ import annotations

from typing import Any

import pytest

from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.errors import UsageError
from akeneo_events_testkit.event_platform.campaign import EpCampaignConfig, EpCampaignResult, run_ep_campaign
from akeneo_events_testkit.event_platform.signing import EpSecrets
from akeneo_events_testkit.event_platform.wire import PRODUCT_TYPES

from ..support.ep_receiver import START, EpReceiver
from ..support.node import node_receiver, requires_node

PRICE_SCOPE = "type=product.updated.delta attribute=price"


def changes_price(event: dict[str, Any]) -> bool:
    """A price watcher's filter: product deltas whose changes touch ``price`` (written from the wire, not
    from the kit's scope code, so that each checks the other)."""
    if not event["type"].endswith(".product.updated.delta"):
        return False
    return "price" in event["data"]["product"]["changes"].get("values", {})


def _run(seed: int, receiver: EpReceiver, scope: str | None) -> EpCampaignResult:
    return run_ep_campaign(EpCampaignConfig(seed=seed, events=300, scope=scope, settle_timeout=0.0,
                                            types=PRODUCT_TYPES),
                           target=receiver, observe=receiver.observation, secrets=EpSecrets("s"),
                           clock=FakeClock(START))


@pytest.mark.parametrize("seed", range(6))
def test_a_price_watcher_passes_under_its_scope(seed: int) -> None:
    receiver = EpReceiver(["s"], own_client_id="magento_0000", acts_on=changes_price)
    result = _run(seed, receiver, PRICE_SCOPE)
    assert result.passed, result.failure_text()
    stats = result.verdict.stats
    assert stats["scope"] == PRICE_SCOPE and stats["in_scope"] >= 5 and stats["ignored_by_scope"] > 200
    assert stats["resources_judged"] >= 3  # products whose price changed were judged, not skipped
    assert len(receiver.applied) >= stats["resources_judged"]


def test_without_its_scope_the_price_watcher_loses_events() -> None:
    receiver = EpReceiver(["s"], own_client_id="magento_0000", acts_on=changes_price)
    result = _run(0, receiver, None)
    assert not result.passed and "event_lost" in result.verdict.counts()


def test_a_scoped_receiver_still_fails_on_its_own_events() -> None:
    """The scope hides what is outside it, not the bugs inside: no dedupe on the in-scope deltas."""
    receiver = EpReceiver(["s"], own_client_id="magento_0000", acts_on=changes_price, bugs=["no_dedupe"])
    counts = _run(1, receiver, PRICE_SCOPE).verdict.counts()
    assert "duplicate_applied" in counts and "event_lost" not in counts


def test_a_watcher_acting_on_more_than_its_scope_says_is_flagged() -> None:
    def price_or_name(event: dict[str, Any]) -> bool:
        changes = event["data"].get("product", {}).get("changes", {}).get("values", {})
        return event["type"].endswith(".updated.delta") and bool({"price", "name"} & set(changes))

    receiver = EpReceiver(["s"], own_client_id="magento_0000", acts_on=price_or_name)
    result = _run(0, receiver, PRICE_SCOPE)
    counts = result.verdict.counts()
    assert set(counts) == {"out_of_scope_applied"}, result.failure_text()
    violation = next(v for v in result.verdict.violations if v.kind == "out_of_scope_applied")
    assert PRICE_SCOPE in violation.message and violation.event_ids


def test_scope_in_the_summary_and_the_reproduce_line() -> None:
    from akeneo_events_testkit.event_platform.profile import EVENT_PLATFORM_PROFILE

    receiver = EpReceiver(["s"], own_client_id="magento_0000", acts_on=changes_price)
    result = _run(2, receiver, PRICE_SCOPE)
    text = EVENT_PLATFORM_PROFILE.summary(result)
    assert f"scope: {PRICE_SCOPE}: " in text and "ignored by scope" in text
    assert "--scope type=product.updated.delta --scope attribute=price" in result.reproduce


@pytest.mark.parametrize(("scope", "message"), [
    ("type=product.removed", "the Event Platform sends product.created"),
    ("colour=red", "use CRITERION=VALUE"),
    ("kind=asset", "use product or product_model"),
    ("attribute=", "give at least one value"),
])
def test_bad_scopes_name_the_fix(scope: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        EpCampaignConfig(scope=scope)


def test_types_may_carry_the_cloudevents_prefix() -> None:
    config = EpCampaignConfig(scope="type=com.akeneo.pim.v1.product.deleted")
    assert config.scope is not None and config.scope.describe() == "type=product.deleted"  # type: ignore[union-attr]


@requires_node
@pytest.mark.parametrize("seed", [3, 4, 5])
def test_a_node_price_watcher_over_http_passes_under_its_scope(seed: int) -> None:
    env = {"AKENEO_EP_SECRETS": "node-secret", "AKENEO_CLIENT_ID": "magento_0000"}
    results = []
    for scope in (PRICE_SCOPE, None):  # a fresh receiver for each run
        with node_receiver("event_platform_price_watcher.js", env) as base:
            results.append(run_ep_campaign(
                EpCampaignConfig(seed=seed, events=300, scope=scope, settle_timeout=0.0), target=f"{base}/webhook",
                state_url=f"{base}/state", secrets=EpSecrets("node-secret"), clock=FakeClock(START)))
    result, unscoped = results
    assert result.passed, result.failure_text()
    assert result.verdict.stats["resources_judged"] >= 3 and result.verdict.stats["duplicates_sent"] >= 1
    assert "event_lost" in unscoped.verdict.counts()  # judged whole, it loses what it ignores on purpose
