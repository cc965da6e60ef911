"""Event Platform signature malleability probes: each edits one signature header as it claims, the reference
receiver refuses them all (in-process and over uvicorn, in every rotation), and a Node.js receiver decoding
hex the lax way is caught (event-platform-facts.md section 2)."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest

from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.event_platform.campaign import EpCampaignConfig, EpCampaignResult, run_ep_campaign
from akeneo_events_testkit.event_platform.probes import EP_PROBES, EP_SIGNATURE_MALLEABILITY, send_probes
from akeneo_events_testkit.event_platform.signing import (
    ALGORITHM_HEADER,
    PRIMARY_HEADER,
    SECONDARY_HEADER,
    EpSecrets,
    sign_body,
    verify_ep,
)
from akeneo_events_testkit.event_platform.truth import EpTruth
from akeneo_events_testkit.event_platform.wire import PRODUCT_TYPES
from akeneo_events_testkit.judging.render import format_violations
from akeneo_events_testkit.receiver import ReceiverServer, ReferenceReceiver

from ..support.asgi import read_body
from ..support.ep_receiver import START
from ..support.node import node_receiver, requires_node

NEW, OLD = "ep-new-secret-0k2ps0wggoc84ww80000o0ogs", "ep-old-secret-3kz9y947jps0wggoc84ww8"
HEX = re.compile(r"[0-9a-f]{64}")
#: What Node's ``Buffer.from(value, "hex")`` reads as the valid signature: its 64 leading characters are it,
#: and what follows is not hex (or is one odd digit).
NODE_LAX = {"ep_primary_non_hex_suffix", "ep_primary_odd_suffix", "ep_primary_list_valid_first",
            "ep_secondary_non_hex_suffix"}


class Recorder:
    """An ASGI app that keeps each request's body and headers as the application sees them, and answers 401."""

    def __init__(self) -> None:
        self.requests: list[tuple[bytes, dict[str, str]]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        self.requests.append((body, {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}))
        await send({"type": "http.response.start", "status": 401, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})


def request(name: str, seed: int = 1, held: tuple[str, ...] = (NEW,)) -> tuple[bytes, dict[str, str]]:
    """The one request probe ``name`` sends, as received (header names in lower case)."""
    recorder = Recorder()
    asyncio.run(send_probes(recorder, EpTruth(), secrets=EpSecrets(NEW, OLD), held=list(held), seed=seed,
                            clock=FakeClock(START), subscription_id="sub-1", names=[name]))
    assert len(recorder.requests) == 1
    return recorder.requests[0]


PRIMARY, SECONDARY, ALGORITHM = PRIMARY_HEADER.lower(), SECONDARY_HEADER.lower(), ALGORITHM_HEADER.lower()


@pytest.mark.parametrize("name", EP_SIGNATURE_MALLEABILITY)
def test_only_one_signature_header_is_edited(name: str) -> None:
    for seed in range(5):
        body, headers = request(name, seed)
        assert json.loads(body)["type"].startswith("com.akeneo.pim.v1.")
        assert headers["content-type"] == "application/json" and headers[ALGORITHM] == "HmacSHA256"
        valid = sign_body(NEW, body)
        if name.startswith("ep_secondary_"):
            assert HEX.fullmatch(headers[PRIMARY]) and headers[PRIMARY] != valid
            edited = headers[SECONDARY]
        else:
            assert SECONDARY not in headers
            edited = headers[PRIMARY]
        assert edited != valid
        assert valid in edited.replace(" ", "").replace("\t", "") or valid.startswith(edited)  # edited, not forged
        assert not verify_ep(body, headers, [NEW, OLD])
        assert EP_PROBES[name].expect == "reject"


def test_each_mutation() -> None:
    def edited(name: str, seed: int = 1) -> tuple[str, str]:
        body, headers = request(name, seed)
        return sign_body(NEW, body), headers[SECONDARY if name.startswith("ep_secondary_") else PRIMARY]

    valid, value = edited("ep_primary_hex_suffix")
    assert value == valid + "00"
    assert {value[64:] for valid, value in map(edited, ["ep_primary_non_hex_suffix"] * 12, range(12))} == \
           {"zz", "--", "g"}
    valid, value = edited("ep_primary_odd_suffix")
    assert re.fullmatch(valid + "[0-9a-f]", value)
    for seed in range(12):
        valid, spaced = edited("ep_primary_inner_whitespace", seed)
        at = next(i for i, c in enumerate(spaced) if c in " \t")
        assert at % 2 == 1 and spaced[:at] + spaced[at + 1:] == valid
    valid, value = edited("ep_primary_one_char_short")
    assert value == valid[:63]
    valid, value = edited("ep_primary_half")
    assert value == valid[:32]
    valid, value = edited("ep_primary_prefixed")
    assert value == "sha256=" + valid
    valid, value = edited("ep_primary_list_valid_first")
    first, forged = value.split(", ")
    assert first == valid and HEX.fullmatch(forged) and forged != valid
    valid, value = edited("ep_primary_list_valid_last")
    forged, last = value.split(", ")
    assert last == valid and HEX.fullmatch(forged) and forged != valid
    valid, value = edited("ep_secondary_non_hex_suffix")
    assert value[:64] == valid and value[64:] in ("zz", "--", "g")


def test_the_valid_signature_is_made_with_a_secret_the_receiver_holds() -> None:
    """With only the old secret held, the edited value starts with the old secret's signature."""
    body, headers = request("ep_primary_non_hex_suffix", held=(OLD,))
    assert headers[PRIMARY].startswith(sign_body(OLD, body))


# -- campaigns ------------------------------------------------------------------------------------------------


def explain(result: EpCampaignResult) -> str:
    return "\n" + format_violations(result.verdict, limit=40)


def flagged(result: EpCampaignResult) -> set[str]:
    return {w["probe"] for v in result.verdict.violations if v.kind == "forged_accepted" for w in v.requests}


def probe_answers(result: EpCampaignResult) -> dict[str, int | None]:
    return {a.probe: a.status for a in result.truth.attempts if a.probe is not None}


@pytest.mark.parametrize("rotation", [None, "old", "new", "both"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_reference_receiver_refuses_every_malleability_probe(seed: int, rotation: str | None) -> None:
    secrets = EpSecrets(NEW, OLD if rotation else None)
    config = EpCampaignConfig(seed=seed, events=80, rotation=rotation, settle_timeout=0.0)
    result = run_ep_campaign(config, secrets=secrets, clock=FakeClock(START))
    assert result.verdict.violations == [], explain(result)
    answers = probe_answers(result)
    assert {answers[name] for name in EP_SIGNATURE_MALLEABILITY} == {401}


@pytest.mark.parametrize("seed", [4, 5])
def test_the_reference_receiver_over_uvicorn(seed: int) -> None:
    receiver = ReferenceReceiver(NEW, ep_secrets=[NEW, OLD], own_client_id="magento_0000")
    with ReceiverServer(receiver) as server:
        result = run_ep_campaign(EpCampaignConfig(seed=seed, events=80, rotation="both", settle_timeout=0.0),
                                 target=server.url, state_url=server.state_url, secrets=EpSecrets(NEW, OLD),
                                 clock=FakeClock(START))
    assert result.verdict.violations == [], explain(result)
    assert {probe_answers(result)[name] for name in EP_SIGNATURE_MALLEABILITY} == {401}


@requires_node
@pytest.mark.parametrize(("seed", "rotation"), [(1, None), (2, None), (3, "both"), (4, "old")])
def test_a_node_receiver_decoding_hex_laxly_is_caught(seed: int, rotation: str | None) -> None:
    """Raw-body HMAC checked against PRIMARY and SECONDARY with every secret held, ``Buffer.from(value, "hex")``,
    a length check and ``timingSafeEqual``: only the probes Node's decoder misreads are flagged."""
    secrets = EpSecrets(NEW, OLD if rotation else None)
    held = {None: [NEW], "old": [OLD], "new": [NEW], "both": [NEW, OLD]}[rotation]
    env: dict[str, Any] = {"AKENEO_EP_SECRETS": ",".join(held), "AKENEO_CLIENT_ID": "magento_0000"}
    with node_receiver("event_platform_lax_hex.js", env) as base:
        result = run_ep_campaign(EpCampaignConfig(seed=seed, events=120, faults="default", rotation=rotation,
                                                  settle_timeout=0.0, types=PRODUCT_TYPES),
                                 target=base + "/webhook", state_url=base + "/state", secrets=secrets,
                                 clock=FakeClock(START))
    assert not result.passed
    assert set(result.verdict.counts()) == {"forged_accepted"}, explain(result)
    assert flagged(result) == NODE_LAX
    assert result.verdict.stats["probes"] == len(EP_PROBES)
