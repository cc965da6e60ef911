"""A notify-then-re-fetch receiver in PHP (``tests/support/refetch_arrays.php``): it re-reads each resource
from the mock REST API over real HTTP and stores it as PHP arrays, so every ``{}`` it reports comes back as
``[]``. Under ``--design refetch`` it is correct and must pass; removals it ignores are still caught."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from akeneo_events_testkit.events_api.campaign import CampaignConfig, CampaignResult, run_campaign
from akeneo_events_testkit.restapi import RestApi

from ..support.paths import ROOT
from ..support.php import php_server, requires_php

pytestmark = [pytest.mark.php, requires_php]

SECRET = "php-refetch-secret"
RECEIVER = ROOT / "tests" / "support" / "refetch_arrays.php"


def fuzz(tmp_path: Path, seed: int, *, design: str = "refetch", lag: float = 0.0) -> CampaignResult:
    api = RestApi(lag=lag)
    with api.server() as server:
        creds = api.credentials
        env = {"AKENEO_EVENTS_SECRET": SECRET, "AKENEO_STATE_FILE": str(tmp_path / f"state-{seed}.json"),
               "AKENEO_API_URL": server.base_url, "AKENEO_CLIENT_ID": creds.client_id,
               "AKENEO_CLIENT_SECRET": creds.secret, "AKENEO_USERNAME": creds.username,
               "AKENEO_PASSWORD": creds.password}
        with php_server(RECEIVER, env) as base:
            return run_campaign(CampaignConfig(seed=seed, events=200, design=design, content=True),
                                target=f"{base}/webhook", secret=SECRET, state_url=f"{base}/state", rest_api=api)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_php_refetcher_storing_arrays_passes_under_design_refetch(tmp_path: Path, seed: int) -> None:
    result = fuzz(tmp_path, seed)
    assert result.passed, result.failure_text()
    assert {v.severity for v in result.verdict.violations} <= {"warning"}
    held = [r["data"] for r in result.observation["resources"].values() if r.get("data")]
    assert held, "the receiver reported the data it re-read"
    # PHP arrays: the empty objects of the PIM's payload ("values": {} ...) came back as lists
    assert '"quantified_associations":[]' in json.dumps(held, separators=(",", ":"))
    assert result.run.truth.content and result.verdict.stats["test_request"] == [200]


def test_under_design_apply_it_fails_with_a_hint(tmp_path: Path) -> None:
    result = fuzz(tmp_path, 2, design="apply")
    assert not result.passed
    assert "--design refetch" in (result.verdict.stats["design_hint"] or "")
    assert "stale_content" not in result.verdict.counts()  # {} == [] in content comparisons


def test_trusting_a_lagging_replica_is_still_caught(tmp_path: Path) -> None:
    result = fuzz(tmp_path, 1, lag=600)
    assert "stale_content" in {v.kind for v in result.verdict.errors}, result.failure_text()
