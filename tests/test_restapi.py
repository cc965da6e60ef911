"""The mock REST API: PIM-shaped endpoints on the event stream's timeline, and re-fetching receivers judged."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.errors import UsageError
from akeneo_events_testkit.events_api.campaign import CampaignConfig, run_campaign
from akeneo_events_testkit.events_api.pim import MockPim
from akeneo_events_testkit.events_api.signing import verify_request
from akeneo_events_testkit.restapi import RestApi, rest_latencies
from akeneo_events_testkit.schemas import validate_payload
from akeneo_events_testkit.versions import parse_event_datetime, resource_key

from .support.paths import ROOT
from .support.restapi_client import BASIC, CREDS, fetch_token, sync_client

START = 1_700_000_000
RUGS = ROOT / "examples" / "catalog-rugs.json"


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
    ('search={"completeness":[{"operator":"=","value":100}]}', 422),
    ('search={"enabled":[{"operator":"IN","value":[true]}]}', 422), ('search={"enabled":[{"operator":"="}]}', 422),
    ('search={"family":[{"operator":"IN","value":"rug"}]}', 422), ('search={"family":[{"value":["x"]}]}', 422),
    ("limit=101", 422), ("limit=0", 422), ("page=-1", 422), ("limit=abc", 422), ('search={"updated":"x"}', 422),
])
def test_bad_query_parameters_answer_as_the_pim_never_500(client: tuple[RestApi, httpx.Client, MockPim],
                                                          query: str, status: int) -> None:
    _, http, _ = client
    answer = http.get(f"/api/rest/v1/products?{query}", headers={"Authorization": f"Bearer {fetch_token(http)}"})
    assert answer.status_code == status and set(answer.json()) == {"code", "message"}


def _walk(http: httpx.Client, path: str, search: Any, auth: dict[str, str], limit: int = 2) -> list[dict[str, Any]]:
    """Every item of a filtered list, following the ``next`` links the API gives (as clients do)."""
    url: str | None = f"{path}?limit={limit}&search={quote(json.dumps(search))}"
    items: list[dict[str, Any]] = []
    while url is not None:
        body = http.get(url, headers=auth).json()
        assert "_embedded" in body, body
        items += body["_embedded"]["items"]
        url = body["_links"].get("next", {}).get("href")
        if url is not None:
            assert "search=" in url  # the PIM's links keep the filter
            url = "/api/rest/v1/" + url.split("/api/rest/v1/", 1)[1]
    return items


def test_search_lists_the_children_of_a_product_model(client: tuple[RestApi, httpx.Client, MockPim]) -> None:
    _, http, pim = client
    auth = {"Authorization": f"Bearer {fetch_token(http)}"}
    products = [pim.catalog.current(k, uuid_mode=False)[1] for k in pim.catalog.product_keys()]
    models = [pim.catalog.current(k)[1] for k in pim.catalog.product_model_keys()]
    parents = sorted({p["parent"] for p in products if p["parent"]})
    assert len(parents) >= 2
    children = _walk(http, "/api/rest/v1/products", {"parent": [{"operator": "IN", "value": parents[:2]}]}, auth)
    assert sorted(c["identifier"] for c in children) == sorted(
        p["identifier"] for p in products if p["parent"] in parents[:2])
    by_uuid = _walk(http, "/api/rest/v1/products-uuid", {"parent": [{"operator": "IN", "value": parents[:1]}]}, auth)
    assert sorted(c["uuid"] for c in by_uuid) == sorted(p["uuid"] for p in products if p["parent"] == parents[0])
    # "=" takes the descendants of a root model, through its sub models
    roots = {m["code"]: m for m in models}
    sub = next(m for m in models if m["parent"])
    descendants = _walk(http, "/api/rest/v1/products", {"parent": [{"operator": "=", "value": sub["parent"]}]}, auth)
    expected = [p["identifier"] for p in products if p["parent"] and (
        p["parent"] == sub["parent"] or roots[p["parent"]]["parent"] == sub["parent"])]
    assert sorted(d["identifier"] for d in descendants) == sorted(expected) and len(expected) >= 2
    subs = _walk(http, "/api/rest/v1/product-models", {"parent": [{"operator": "IN", "value": [sub["parent"]]}]}, auth)
    assert sorted(m["code"] for m in subs) == sorted(m["code"] for m in models if m["parent"] == sub["parent"])
    simple = _walk(http, "/api/rest/v1/products", {"parent": [{"operator": "EMPTY"}]}, auth, limit=100)
    assert len(simple) == sum(1 for p in products if p["parent"] is None)


def test_search_filters_combine_with_and(client: tuple[RestApi, httpx.Client, MockPim]) -> None:
    _, http, pim = client
    auth = {"Authorization": f"Bearer {fetch_token(http)}"}
    products = [pim.catalog.current(k, uuid_mode=False)[1] for k in pim.catalog.product_keys()]
    families = sorted({p["family"] for p in products if p["family"]})
    wanted = families[:2]
    search = {"family": [{"operator": "IN", "value": wanted}], "enabled": [{"operator": "=", "value": True}],
              "parent": [{"operator": "EMPTY"}]}
    found = _walk(http, "/api/rest/v1/products", search, auth, limit=3)
    expected = [p["identifier"] for p in products if p["family"] in wanted and p["enabled"] and not p["parent"]]
    assert sorted(f["identifier"] for f in found) == sorted(expected) and expected
    others = _walk(http, "/api/rest/v1/products", {"family": [{"operator": "NOT IN", "value": wanted}],
                                                   "enabled": [{"operator": "!=", "value": True}]}, auth, limit=100)
    assert sorted(o["identifier"] for o in others) == sorted(
        p["identifier"] for p in products if p["family"] not in wanted and not p["enabled"])
    picked = [p["identifier"] for p in products[:3]]
    named = _walk(http, "/api/rest/v1/products", {"identifier": [{"operator": "IN", "value": picked}]}, auth)
    assert sorted(n["identifier"] for n in named) == sorted(picked)
    one = _walk(http, "/api/rest/v1/products", {"identifier": [{"operator": "=", "value": picked[0]}],
                                                "family": [{"operator": "IN", "value": ["no_such_family"]}]}, auth)
    assert one == []
    counted = http.get("/api/rest/v1/products", headers=auth, params={
        "search": json.dumps({"identifier": [{"operator": "IN", "value": picked}]}), "with_count": "true",
        "limit": 2}).json()
    assert counted["items_count"] == 3 and len(counted["_embedded"]["items"]) == 2 and "next" in counted["_links"]


def test_search_operators_the_profile_lacks_are_refused_as_by_the_pim() -> None:
    clock = FakeClock(START)
    pim = MockPim(seed=3, events=20, profile="5.0", clock=clock, start=START)
    api = RestApi(pim, clock=clock)
    list(pim.deliveries(secret="s"))
    with sync_client(api) as http:
        auth = {"Authorization": f"Bearer {fetch_token(http)}"}
        refused = http.get("/api/rest/v1/products", headers=auth,
                           params={"search": json.dumps({"parent": [{"operator": "IN", "value": ["x"]}]})})
        assert refused.status_code == 422 and refused.json()["message"] == (
            'Filter on property "parent" is not supported or does not support operator "IN"')
        kept = http.get("/api/rest/v1/products", headers=auth,
                        params={"search": json.dumps({"parent": [{"operator": "=", "value": "x"}]})})
        assert kept.status_code == 200 and kept.json()["_embedded"]["items"] == []
        bad = http.get("/api/rest/v1/products", headers=auth, params={"search": "{\"parent\":"})
        assert bad.status_code == 400 and bad.json()["message"] == "Search query parameter should be valid JSON."


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
          order_blind: bool = False, design: str = "apply", catalog: str | None = None) -> Any:
    api = RestApi(lag=lag)
    with api.server() as server:
        receiver = Refetcher("s3cret", server.base_url, ignore_removals=ignore_removals, order_blind=order_blind)
        try:
            return run_campaign(CampaignConfig(seed=seed, events=150, profile=profile, faults="default", content=True,
                                               design=design, catalog=catalog),
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


@pytest.mark.parametrize(("seed", "profile"), [(1, "saas"), (2, "5.0"), (3, "7.0")])
def test_a_correct_refetching_receiver_passes_with_a_catalog_file(seed: int, profile: str) -> None:
    """The identifier attribute is the file's (``rug_code``, not ``sku``): a receiver reading
    ``/products-uuid`` holds it in ``values``, the events' legacy data does not, and both are right."""
    result = _fuzz(seed, profile=profile, catalog=str(RUGS))
    assert result.passed, result.failure_text()
    assert result.verdict.violations == []
    families = {r["data"]["family"] for r in result.observation["resources"].values() if r.get("data")}
    assert families == {"rug"}


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


# -- response time ---------------------------------------------------------------------------------------

def test_rest_latencies_are_seeded_bounded_and_in_request_order() -> None:
    first = list(itertools.islice(rest_latencies(0.8, 5), 200))
    assert first == list(itertools.islice(rest_latencies(0.8, 5), 200))
    assert first != list(itertools.islice(rest_latencies(0.8, 6), 200))
    assert all(0.4 <= d <= 1.2 for d in first) and abs(sum(first) / len(first) - 0.8) < 0.05
    api = RestApi()
    assert api.next_latency() == 0.0
    api.attach(MockPim(seed=5, events=1), latency=0.8)
    assert [api.next_latency() for _ in range(5)] == first[:5]
    api.attach(MockPim(seed=5, events=1))
    assert api.next_latency() == 0.0
    with pytest.raises(UsageError, match="rest_latency -1: give the mean response time"):
        CampaignConfig(rest_latency=-1)
    with pytest.raises(UsageError, match="rest_latency slows the mock REST API's answers: serve it"):
        run_campaign(CampaignConfig(events=5, rest_latency=0.5))


def test_the_latency_sleeps_without_holding_other_requests() -> None:
    """Requests in flight together each wait their own draw: the server sleeps with asyncio, not a thread."""
    api = RestApi()
    api.attach(MockPim(seed=1, events=1), latency=0.4)
    draws = list(itertools.islice(rest_latencies(0.4, 1), 4))
    with api.server() as server:
        async def fetch_all() -> list[int]:
            async with httpx.AsyncClient(base_url=server.base_url, trust_env=False) as http:
                answers = await asyncio.gather(*(http.get("/api/rest/v1/products") for _ in range(4)))
            return [a.status_code for a in answers]

        started = time.monotonic()
        statuses = asyncio.run(fetch_all())
        elapsed = time.monotonic() - started
    assert statuses == [401] * 4
    assert api.waiting_peak == 4 and api.waiting == 0  # all four waited together, not one after another
    assert elapsed >= max(draws)


def test_a_receiver_that_refetches_before_answering_is_slow_with_a_slow_rest_api() -> None:
    api = RestApi()
    with api.server() as server:
        receiver = Refetcher("s3cret", server.base_url)
        try:
            result = run_campaign(CampaignConfig(seed=2, events=4, faults="none", probes=False, content=True,
                                                 rest_latency=0.9),
                                  target=receiver, secret="s3cret", observe=receiver.observation, rest_api=api)
        finally:
            receiver.http.close()
    assert "slow_ack" in result.verdict.counts(), result.failure_text()
    assert "--rest-latency 0.9" in result.reproduce
