"""The mock REST API for Event Platform runs: thin events make re-fetching the norm (event-platform-facts.md
section 4), so the API serves the run's timeline at the virtual clock's time, and re-fetching receivers are
judged by the data they hold (``stale_content``, ``removal_not_propagated``)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.event_platform.campaign import EpCampaignConfig, EpCampaignResult, run_ep_campaign
from akeneo_events_testkit.event_platform.emitter import EpEmitter
from akeneo_events_testkit.event_platform.signing import EpSecrets, verify_ep
from akeneo_events_testkit.event_platform.wire import ep_resource_key
from akeneo_events_testkit.judging.render import format_violations
from akeneo_events_testkit.restapi import RestApi
from akeneo_events_testkit.schemas import validate_payload

from ..support.cli import cli
from ..support.ep_receiver import START
from ..support.paths import ROOT
from ..support.restapi_client import fetch_token, sync_client

SECRET = "ep-secret"
_CHANGES = ("created", "updated", "updated.delta", "deleted")


class EpRefetcher:
    """An Event Platform receiver (WSGI) that re-fetches the resource on each event.

    Deduplicates on ``id``, ignores events older than the resource's ``time``, drops its own events.
    ``ignore_removals`` is a bug: the data is kept when a ``*.deleted`` arrives.
    """

    def __init__(self, api_url: str, *, ignore_removals: bool = False, own: str = "magento_0000") -> None:
        self.http = httpx.Client(base_url=api_url, timeout=5, trust_env=False)
        self.ignore_removals = ignore_removals
        self.own = own
        self.token: str | None = None
        self.seen: set[str] = set()
        self.times: dict[str, str] = {}
        self.applied: list[str] = []
        self.resources: dict[str, dict[str, Any]] = {}

    def fetch(self, data: dict[str, Any]) -> dict[str, Any] | None:
        if self.token is None:
            self.token = fetch_token(self.http)
        path = "/api/rest/v1/" + self.route(data)
        answer = self.http.get(path, headers={"Authorization": f"Bearer {self.token}"})
        return answer.json() if answer.status_code == 200 else None

    @staticmethod
    def route(data: dict[str, Any]) -> str:
        """The REST route of the resource an event names (products, models, structure, job executions)."""
        if "product" in data:
            return f"products-uuid/{data['product']['uuid']}"
        if "product_model" in data:
            return f"product-models/{data['product_model']['code']}"
        if "attribute_option" in data:
            option = data["attribute_option"]
            return f"attributes/{option['attribute']['code']}/options/{option['code']}"
        if "asset" in data:
            return f"asset-families/{data['asset']['asset_family']['code']}/assets/{data['asset']['code']}"
        if "reference_entity_record" in data:
            record = data["reference_entity_record"]
            return f"reference-entities/{record['reference_entity']['code']}/records/{record['code']}"
        if "job" in data:
            return f"job-executions/{data['job']['execution_id']}"
        for name, collection in (("category", "categories"), ("family", "families"), ("attribute", "attributes"),
                                 ("attribute_group", "attribute-groups")):
            if name in data:
                return f"{collection}/{data[name]['code']}"
        raise KeyError("no resource named in data")

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {k[5:].replace("_", "-"): v for k, v in environ.items() if k.startswith("HTTP_")}
        if not verify_ep(body, headers, [SECRET]):
            start_response("401 Unauthorized", [])
            return [b""]
        try:
            event = json.loads(body)
            verb = event["type"].rsplit(".v1.", 1)[-1].split(".", 1)[1]
            author = event["data"].get("author") or {}
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            start_response("400 Bad Request", [])  # validly signed, but no CloudEvent it can read
            return [b""]
        if event["id"] not in self.seen and (verb in _CHANGES or verb.endswith(".status-changed")) and not (
                author.get("type") == "api" and author.get("identifier") == self.own):
            self.seen.add(event["id"])
            key = ep_resource_key(event)
            if event["time"] >= self.times.get(key, ""):
                self.times[key] = event["time"]
                self.applied.append(event["id"])
                if verb == "deleted":
                    if not self.ignore_removals:
                        self.resources[key] = {"event_id": event["id"], "removed": True, "data": None}
                else:
                    data = self.fetch(event["data"])
                    self.resources[key] = {"event_id": event["id"], "removed": data is None, "data": data}
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    def observation(self) -> dict[str, Any]:
        return {"applied": list(self.applied), "resources": dict(self.resources)}


def fuzz(seed: int, *, lag: float = 0.0, ignore_removals: bool = False, faults: str = "default",
         catalog: str | None = None) -> EpCampaignResult:
    api = RestApi(lag=lag)
    with api.server() as server:
        receiver = EpRefetcher(server.base_url, ignore_removals=ignore_removals)
        try:
            return run_ep_campaign(EpCampaignConfig(seed=seed, events=150, faults=faults, settle_timeout=0,
                                                    catalog=catalog),
                                   target=receiver, observe=receiver.observation, secrets=EpSecrets(SECRET),
                                   clock=FakeClock(START), rest_api=api)
        finally:
            receiver.http.close()


@pytest.mark.parametrize(("seed", "faults"), [(1, "default"), (2, "chaos"), (3, "duplicate=0.5,reorder=0.5")])
def test_a_correct_refetching_receiver_passes(seed: int, faults: str) -> None:
    result = fuzz(seed, faults=faults)
    assert not result.verdict.violations, format_violations(result.verdict)
    assert result.truth.content  # content was judged
    assert any(r.get("data") for r in result.observation["resources"].values())


@pytest.mark.parametrize("seed", [1, 2])
def test_a_correct_refetching_receiver_passes_with_a_catalog_file(seed: int) -> None:
    result = fuzz(seed, catalog=str(ROOT / "examples" / "catalog-rugs.json"))
    assert not result.verdict.violations, format_violations(result.verdict)
    held = [r["data"] for key, r in result.observation["resources"].items()
            if r.get("data") and key.startswith("product:")]
    assert held and {data["family"] for data in held} == {"rug"}
    families = {key for key in result.observation["resources"] if key.startswith("family:")}
    assert "family:rug" in families or any(key.startswith("family:s_") for key in families)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_receiver_ignoring_removals_is_caught(seed: int) -> None:
    result = fuzz(seed, ignore_removals=True)
    assert "removal_not_propagated" in result.verdict.counts(), format_violations(result.verdict)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_receiver_trusting_a_lagging_read_is_caught(seed: int) -> None:
    result = fuzz(seed, lag=600)
    assert "stale_content" in result.verdict.counts(), format_violations(result.verdict)


def test_the_api_answers_with_the_state_at_the_virtual_clock() -> None:
    """Before the run: the catalog's first state; after it: the final one; a product created during the run
    is a 404 before its creation time and the standard format after (valid against the schemas)."""
    clock = FakeClock(START)
    emitter = EpEmitter(5, 120, start=START, clock=clock, secrets=EpSecrets(SECRET))
    api = RestApi()
    api.attach_ep(emitter)
    events = list(emitter.cloud_events())
    created = next(e for e in events if e.type.endswith("product.created"))
    uuid = created.key.split(":", 1)[1]
    with sync_client(api) as http:
        auth = {"Authorization": f"Bearer {fetch_token(http)}"}
        clock.set(created.epoch - 1)
        assert http.get(f"/api/rest/v1/products-uuid/{uuid}", headers=auth).status_code == 404
        clock.set(created.epoch)
        answer = http.get(f"/api/rest/v1/products-uuid/{uuid}", headers=auth)
        assert answer.status_code == 200 and answer.json()["uuid"] == uuid
        assert emitter.timeline is not None
        legacy = emitter.timeline.at(created.key, created.epoch, uuid_mode=False)
        assert legacy is not None and "identifier" in legacy and "identifier" not in answer.json()
        identifier = legacy["identifier"]
        assert http.get(f"/api/rest/v1/products/{identifier}", headers=auth).json()["uuid"] == uuid
        resource = answer.json()
        validate_payload({"action": "product.created", "event_id": "7abae2fe-759a-4fce-aa43-f413980671b3",
                          "event_datetime": "2020-01-01T00:00:00+00:00", "author": "julia", "author_type": "ui",
                          "pim_source": "https://demo.akeneo.com", "data": {"resource": resource}},
                         profile="saas", uuid_mode=True)
        listed = http.get("/api/rest/v1/products-uuid", headers=auth, params={"limit": 100}).json()
        assert any(item["uuid"] == uuid for item in listed["_embedded"]["items"])


def test_assert_ep_campaign_judges_content_with_the_rest_api() -> None:
    from akeneo_events_testkit.assertions import assert_ep_campaign
    from akeneo_events_testkit.failures import ViolationsFound

    api = RestApi()
    with api.server() as server:
        good, bad = EpRefetcher(server.base_url), EpRefetcher(server.base_url, ignore_removals=True)
        config = EpCampaignConfig(seed=2, events=150, settle_timeout=0)
        try:
            assert assert_ep_campaign(config, good, secret=SECRET, observe=good.observation, rest_api=api).passed
            with pytest.raises(ViolationsFound) as failure:
                assert_ep_campaign(config, bad, secret=SECRET, observe=bad.observation, rest_api=api)
        finally:
            good.http.close()
            bad.http.close()
    assert "removal_not_propagated" in str(failure.value) and "Event Platform's traffic" in str(failure.value)


def test_cli_serves_the_rest_api_beside_an_event_platform_run() -> None:
    result = cli("fuzz", "--profile", "event-platform", "--events", "40", "--rest-api", "--rest-lag", "5")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "http://127.0.0.1:" in result.stdout and "mock_client_id" in result.stdout
    refused = cli("fuzz", "--profile", "event-platform", "--events", "5", "--rest-lag", "5")
    assert refused.returncode == 2 and "--rest-lag needs --rest-api" in refused.stderr
