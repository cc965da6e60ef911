"""The mock REST API: PIM-shaped endpoints on the event stream's timeline, and re-fetching receivers judged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.events_api.campaign import CampaignConfig, run_campaign
from akeneo_events_testkit.events_api.pim import MockPim
from akeneo_events_testkit.events_api.signing import verify_request
from akeneo_events_testkit.restapi import RestApi
from akeneo_events_testkit.schemas import validate_payload
from akeneo_events_testkit.versions import parse_event_datetime, resource_key

from .support.restapi_client import BASIC, CREDS, fetch_token, sync_client

START = 1_700_000_000


@pytest.fixture
def client() -> Iterator[tuple[RestApi, httpx.Client, MockPim]]:
    clock = FakeClock(START)
    pim = MockPim(seed=3, events=200, profile="7.0", clock=clock, start=START)
    api = RestApi(pim, clock=clock)
    list(pim.deliveries(secret="s"))
    with sync_client(api) as http:
        yield api, http, pim


def test_token_flow(client: tuple[RestApi, httpx.Client, MockPim]) -> None:
    _api, http, _ = client
    token = fetch_token(http)
    assert http.get("/api/rest/v1/products", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    bad = http.post("/api/oauth/v1/token", headers={"Authorization": BASIC},
                    json={"grant_type": "password", "username": CREDS.username, "password": "nope"})
    assert bad.status_code == 422 and bad.json()["message"] == "No user found for the given username and password"
    no_client = http.post("/api/oauth/v1/token", json={"grant_type": "password"})
    assert no_client.status_code == 422 and "client_id" in no_client.json()["message"]
    garbage = http.post("/api/oauth/v1/token", headers={"Authorization": BASIC}, content=b"{nope")
    assert garbage.status_code == 400 and garbage.json() == {"code": 400, "message": "Invalid json message received"}


def test_tokens_expire_and_refresh(client: tuple[RestApi, httpx.Client, MockPim]) -> None:
    api, http, _ = client
    answer = http.post("/api/oauth/v1/token", headers={"Authorization": BASIC},
                       json={"grant_type": "password", "username": CREDS.username, "password": CREDS.password}).json()
    assert answer["expires_in"] == 3600 and answer["token_type"] == "bearer"
    auth = {"Authorization": f"Bearer {answer['access_token']}"}
    assert http.get("/api/rest/v1/product-models", headers=auth).status_code == 200
    assert isinstance(api.clock, FakeClock)
    api.clock.advance(3601)
    expired = http.get("/api/rest/v1/product-models", headers=auth)
    assert expired.status_code == 401 and expired.json()["message"] == "The access token provided has expired."
    refreshed = http.post("/api/oauth/v1/token", headers={"Authorization": BASIC},
                          json={"grant_type": "refresh_token", "refresh_token": answer["refresh_token"]})
    assert refreshed.status_code == 200
    again = http.post("/api/oauth/v1/token", headers={"Authorization": BASIC},
                      json={"grant_type": "refresh_token", "refresh_token": answer["refresh_token"]})
    assert again.status_code == 422  # a refresh token is used once


@pytest.mark.parametrize("auth", [None, "Bearer nope", "Basic abc", "Bearer "])
def test_401_without_a_valid_token(client: tuple[RestApi, httpx.Client, MockPim], auth: str | None) -> None:
    _, http, _ = client
    answer = http.get("/api/rest/v1/products", headers={"Authorization": auth} if auth else {})
    assert answer.status_code == 401 and set(answer.json()) == {"code", "message"}


def test_single_resources_match_the_catalog_and_validate(client: tuple[RestApi, httpx.Client, MockPim]) -> None:
    _api, http, pim = client
    auth = {"Authorization": f"Bearer {fetch_token(http)}"}
    key = next(k for k in pim.catalog.product_keys())
    legacy = pim.catalog.current(key, uuid_mode=False)[1]
    by_identifier = http.get(f"/api/rest/v1/products/{legacy['identifier']}", headers=auth)
    assert by_identifier.status_code == 200 and by_identifier.json() == json.loads(json.dumps(legacy))
    assert b"\\/" in by_identifier.content or b"/" not in by_identifier.content  # PHP encoding
    by_uuid = http.get(f"/api/rest/v1/products-uuid/{legacy['uuid']}", headers=auth).json()
    assert "identifier" not in by_uuid and by_uuid["uuid"] == legacy["uuid"]
    model_key = next(iter(pim.catalog.product_model_keys()))
    model = http.get(f"/api/rest/v1/product-models/{model_key.split(':', 1)[1]}", headers=auth).json()
    for resource, action, uuid_mode in ((by_identifier.json(), "product.updated", False),
                                        (by_uuid, "product.updated", True), (model, "product_model.updated", None)):
        event = {"action": action, "event_id": "7abae2fe-759a-4fce-aa43-f413980671b3",
                 "event_datetime": "2020-01-01T00:00:00+00:00", "author": "julia", "author_type": "ui",
                 "pim_source": "https://pim.example.com", "data": {"resource": resource}}
        assert validate_payload({"events": [event]}, profile="7.0", uuid_mode=uuid_mode, strict=True) == []


def test_404_for_removed_and_unknown(client: tuple[RestApi, httpx.Client, MockPim]) -> None:
    _api, http, _pim = client
    auth = {"Authorization": f"Bearer {fetch_token(http)}"}
    missing = http.get("/api/rest/v1/products/no-such-sku", headers=auth)
    assert missing.status_code == 404
    assert missing.json()["message"] == (
        'Product "no-such-sku" does not exist or you do not have permission to access it.')
    removed = [c for op in MockPim(seed=3, events=200, profile="7.0", clock=FakeClock(START), start=START).operations()
               for c in op.changes if c.action.value == "product.removed"]
    assert removed
    gone = removed[0].snapshot
    assert http.get(f"/api/rest/v1/products-uuid/{gone['uuid']}", headers=auth).status_code == 404
    route = http.get("/api/rest/v1/categoriez", headers=auth)
    assert route.status_code == 404 and "No route found" in route.json()["message"]
    assert http.post("/api/rest/v1/products", headers=auth).status_code == 405


def test_list_search_and_pagination(client: tuple[RestApi, httpx.Client, MockPim]) -> None:
    _, http, pim = client
    auth = {"Authorization": f"Bearer {fetch_token(http)}"}
    first = http.get("/api/rest/v1/products?limit=5&with_count=true", headers=auth).json()
    total = first["items_count"]
    assert total == len(pim.catalog.product_keys()) and len(first["_embedded"]["items"]) == 5
    assert "next" in first["_links"] and first["current_page"] == 1
    seen = []
    page = 1
    while True:
        body = http.get(f"/api/rest/v1/products?limit=7&page={page}", headers=auth).json()
        seen += [item["identifier"] for item in body["_embedded"]["items"]]
        if "next" not in body["_links"]:
            break
        page += 1
    assert len(seen) == len(set(seen)) == total
    updates = sorted(parse_event_datetime(item["updated"]) for item in first["_embedded"]["items"])
    cut = updates[2]
    from datetime import datetime, timezone

    stamp = datetime.fromtimestamp(cut, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    search = json.dumps({"updated": [{"operator": ">", "value": stamp}]})
    after = http.get("/api/rest/v1/products", params={"search": search, "limit": 100}, headers=auth).json()
    assert after["_embedded"]["items"]
    assert all(parse_event_datetime(i["updated"]) > cut for i in after["_embedded"]["items"])


@pytest.mark.parametrize(("query", "status"), [
    ("search={nope", 400), ("search=[1]", 422), ('search={"updated":[{"operator":"LIKE","value":"x"}]}', 422),
    ('search={"updated":[{"operator":">","value":"yesterday"}]}', 422),
    ('search={"enabled":[{"operator":"=","value":true}]}', 422),
    ("limit=101", 422), ("limit=0", 422), ("page=-1", 422), ("limit=abc", 422), ('search={"updated":"x"}', 422),
])
def test_bad_query_parameters_answer_as_the_pim_never_500(client: tuple[RestApi, httpx.Client, MockPim],
                                                          query: str, status: int) -> None:
    _, http, _ = client
    answer = http.get(f"/api/rest/v1/products?{query}", headers={"Authorization": f"Bearer {fetch_token(http)}"})
    assert answer.status_code == status and set(answer.json()) == {"code", "message"}


# -- re-fetching receivers -------------------------------------------------------------------------------

class Refetcher:
    """Treats each event as a notification and reads the resource from the REST API (a WSGI app).

    ``ignore_removals``: a bug, the resource is kept when a removal arrives. ``order_blind``: the Sylius
    design, correct for a re-fetching receiver: no dedupe and no date check, every notification re-reads.
    """

    def __init__(self, secret: str, api_url: str, *, ignore_removals: bool = False, order_blind: bool = False
                 ) -> None:
        self.order_blind = order_blind
        self.secret = secret
        self.http = httpx.Client(base_url=api_url, timeout=5, trust_env=False)
        self.ignore_removals = ignore_removals
        self.seen: set[str] = set()
        self.applied: list[str] = []
        self.resources: dict[str, dict[str, Any]] = {}
        self.epochs: dict[str, float] = {}
        self.token: str | None = None

    def _auth(self) -> dict[str, str]:
        if self.token is None:
            self.token = fetch_token(self.http)
        return {"Authorization": f"Bearer {self.token}"}

    def _fetch(self, event: dict[str, Any]) -> dict[str, Any] | None:
        resource = event["data"]["resource"]
        if event["action"].startswith("product_model"):
            path = f"/api/rest/v1/product-models/{resource['code']}"
        elif "uuid" in resource:
            path = f"/api/rest/v1/products-uuid/{resource['uuid']}"
        else:
            path = f"/api/rest/v1/products/{resource['identifier']}"
        answer = self.http.get(path, headers=self._auth())
        return answer.json() if answer.status_code == 200 else None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        if not verify_request(self.secret, environ.get("HTTP_X_AKENEO_REQUEST_TIMESTAMP"), body,
                              environ.get("HTTP_X_AKENEO_REQUEST_SIGNATURE")):
            start_response("401 Unauthorized", [])
            return [b""]
        if not body:  # the PIM's "Test" button
            start_response("200 OK", [])
            return [b""]
        try:
            events = json.loads(body)["events"]
            assert isinstance(events, list) and 1 <= len(events) <= 10
            for event in events:  # the whole batch is checked before any of it is applied
                resource = event["data"]["resource"]
                identity = resource.get("code") or resource.get("uuid") or resource.get("identifier")
                assert isinstance(event["event_id"], str) and isinstance(identity, str)
                resource_key(event["action"], resource), parse_event_datetime(event["event_datetime"])
        except (ValueError, KeyError, TypeError, AttributeError, AssertionError):
            start_response("400 Bad Request", [])
            return [b""]
        for event in events:
            if event["event_id"] in self.seen and not self.order_blind:
                continue
            self.seen.add(event["event_id"])
            key = resource_key(event["action"], event["data"]["resource"])
            epoch = parse_event_datetime(event["event_datetime"])
            if epoch < self.epochs.get(key, float("-inf")) and not self.order_blind:
                continue
            self.epochs[key] = epoch
            if event["action"].endswith(".removed"):
                if self.ignore_removals:
                    continue
                self.resources[key] = {"event_id": event["event_id"], "removed": True, "data": None}
            else:
                data = self._fetch(event)
                self.resources[key] = {"event_id": event["event_id"], "removed": data is None, "data": data}
            self.applied.append(event["event_id"])
        start_response("200 OK", [])
        return [b""]

    def observation(self) -> dict[str, Any]:
        return {"applied": self.applied, "resources": self.resources}


def _fuzz(seed: int, *, lag: float = 0.0, ignore_removals: bool = False, profile: str = "saas",
          order_blind: bool = False, design: str = "apply") -> Any:
    api = RestApi(lag=lag)
    with api.server() as server:
        receiver = Refetcher("s3cret", server.base_url, ignore_removals=ignore_removals, order_blind=order_blind)
        try:
            return run_campaign(CampaignConfig(seed=seed, events=150, profile=profile, faults="default", content=True,
                                               design=design),
                                target=receiver, secret="s3cret", observe=receiver.observation, rest_api=api)
        finally:
            receiver.http.close()


@pytest.mark.parametrize(("seed", "profile"), [(1, "saas"), (2, "6.0"), (3, "7.0"), (4, "saas")])
def test_a_correct_refetching_receiver_passes(seed: int, profile: str) -> None:
    result = _fuzz(seed, profile=profile)
    assert result.passed, result.failure_text()
    assert result.verdict.violations == []
    # content was judged: the receiver reported data, and the PIM recorded what each resource said
    assert result.run.truth.content
    assert any(r.get("data") for r in result.observation["resources"].values())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_receiver_ignoring_removals_is_caught(seed: int) -> None:
    result = _fuzz(seed, ignore_removals=True)
    assert "removal_not_propagated" in result.verdict.counts(), result.failure_text()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_receiver_trusting_a_lagging_read_is_caught(seed: int) -> None:
    result = _fuzz(seed, lag=600)
    assert "stale_content" in result.verdict.counts(), result.failure_text()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_order_blind_refetching_receiver_passes_under_design_refetch(seed: int) -> None:
    """The Sylius design: every notification re-reads the product, in any order, duplicates included. Judged as
    ``apply`` it fails on order and duplicates, with a hint; as ``refetch`` those are harmless warnings and its
    content, right in every run, is what is judged."""
    from akeneo_events_testkit.judging.checks import REFETCH_HARMLESS

    applied = _fuzz(seed, order_blind=True)
    assert not applied.passed and {v.kind for v in applied.verdict.errors} <= REFETCH_HARMLESS
    assert "--design refetch" in applied.verdict.stats["design_hint"]
    refetched = _fuzz(seed, order_blind=True, design="refetch")
    assert refetched.passed, refetched.failure_text()
    assert refetched.verdict.violations and {v.severity for v in refetched.verdict.violations} == {"warning"}
    assert all("harmless for a receiver that re-reads" in v.message for v in refetched.verdict.violations)
    assert refetched.verdict.stats["design_hint"] is None and "--design refetch" in refetched.reproduce


@pytest.mark.parametrize("seed", [1, 2])
def test_design_refetch_still_catches_what_matters(seed: int) -> None:
    """The ignored removal is an error: its data kept (``removal_not_propagated``) or, where a late update
    after the removal made the receiver re-read a product gone (404), the removal never applied."""
    result = _fuzz(seed, order_blind=True, ignore_removals=True, design="refetch")
    removals = [v for v in result.verdict.errors if v.kind == "removal_not_propagated" or (
        v.kind == "event_lost" and v.expected.startswith("state of product.removed"))]
    assert removals, result.failure_text()


def test_design_refetch_needs_the_rest_api_and_known_designs() -> None:
    from akeneo_events_testkit.errors import UsageError

    with pytest.raises(UsageError, match="serve the mock REST API"):
        run_campaign(CampaignConfig(events=10, design="refetch"))
    with pytest.raises(UsageError, match="use one of apply, refetch"):
        CampaignConfig(design="re-fetch")
