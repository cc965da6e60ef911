"""Signature malleability probes: each edits only the signature (or timestamp) it claims to, the reference
receiver refuses them all over real HTTP and in-process, and a Node.js receiver decoding hex the lax way is
caught. Why some variants are left out is in ``events_api/probes.py``; the HTTP facts behind it are tested here.
"""

from __future__ import annotations

import random
import re
import socket
import time
from typing import Any

import httpx
import pytest

from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.events_api.campaign import CampaignConfig, CampaignResult, run_campaign
from akeneo_events_testkit.events_api.probes import GENUINE, PROBE_KINDS, SIGNATURE_MALLEABILITY, Probe, make_probe
from akeneo_events_testkit.events_api.signing import check_timestamp, sign, verify_signature
from akeneo_events_testkit.judging.render import format_violations
from akeneo_events_testkit.receiver import MemoryStore, ReceiverServer, ReferenceReceiver
from akeneo_events_testkit.versions import get_profile

from ..support.node import node_receiver, requires_node
from ..support.verdicts import without_unconfirmed_slowness

SECRET = "3ha6eonoa9icsckw8kccos084w0c0000g08g40oo4kww0gc8w4"  # the docs' example secret (facts section 2)
NOW = 1_700_000_000
SIGNATURE = "X-Akeneo-Request-Signature"
TIMESTAMP = "X-Akeneo-Request-Timestamp"
HEX = re.compile(r"[0-9a-f]+")
PROFILES: tuple[tuple[str, bool | None], ...] = (
    ("5.0", None), ("6.0", None), ("7.0", False), ("7.0", True), ("saas", False), ("saas", True),
)


def probe(name: str, seed: int = 1) -> Probe:
    return make_probe(name, rng=random.Random(seed), secret=SECRET, timestamp=NOW, profile=get_profile("saas"),
                      pim_source="https://pim.example.com")


def header(p: Probe, name: str) -> Any:
    return next(value for key, value in p.headers if key == name)


def valid(p: Probe) -> str:
    return sign(SECRET, NOW, p.body)


def node_decoded(text: str) -> bytes:
    """What Node's ``Buffer.from(text, "hex")`` gives: the bytes of the leading hex digits, an odd one dropped."""
    digits = re.match(r"[0-9a-fA-F]*", text)
    assert digits is not None
    return bytes.fromhex(digits.group()[: len(digits.group()) // 2 * 2])


# -- each probe is what it claims ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*SIGNATURE_MALLEABILITY, "non_numeric_timestamp"])
def test_only_the_signature_or_timestamp_changes(name: str) -> None:
    """Same body and same other headers as a probe of the same seed with the PIM's own recipe."""
    p = probe(name)
    genuine = GENUINE.headers(SECRET, NOW, p.body, get_profile("saas").user_agent)
    edited = {"signature_other_timestamp": TIMESTAMP, "non_numeric_timestamp": TIMESTAMP}.get(name, SIGNATURE)
    assert [k for k, _ in p.headers] == [k for k, _ in genuine]
    assert [(k, v) for k, v in p.headers if k not in (edited, SIGNATURE)] == \
           [(k, v) for k, v in genuine if k not in (edited, SIGNATURE)]
    assert p.body == probe("forged_signature").body and len(p.event_ids) == 1  # the same event, untouched
    if edited == SIGNATURE:
        assert header(p, TIMESTAMP) == str(NOW)
    assert PROBE_KINDS[name].family == ("robustness" if name == "non_numeric_timestamp" else "authenticity")


@pytest.mark.parametrize("seed", range(40))
def test_suffixes(seed: int) -> None:
    mac = bytes.fromhex(valid(probe("signature_trailing_junk", seed)))
    assert header(probe("signature_trailing_junk", seed), SIGNATURE) == mac.hex() + "00"
    non_hex = header(probe("signature_non_hex_suffix", seed), SIGNATURE)
    assert non_hex[:64] == mac.hex() and non_hex[64:] in ("zz", "--", "g")
    odd = header(probe("signature_odd_suffix", seed), SIGNATURE)
    assert odd[:64] == mac.hex() and len(odd) == 65 and HEX.fullmatch(odd)
    # what makes them Node's bug: its decoder reads both as exactly the MAC
    assert node_decoded(non_hex) == node_decoded(odd) == mac
    assert node_decoded(mac.hex() + "00") != mac


@pytest.mark.parametrize("seed", range(40))
def test_inner_whitespace_sits_inside_a_byte(seed: int) -> None:
    p = probe("signature_inner_whitespace", seed)
    text = header(p, SIGNATURE)
    at = p.recipe.signature_insert_at
    assert at % 2 == 1 and 0 < at < 64 and text[at] in " \t"
    assert text[:at] + text[at + 1:] == valid(p)
    with pytest.raises(ValueError, match="non-hexadecimal"):
        bytes.fromhex(text)  # between two bytes it would read as the MAC: then a bytes-comparing receiver accepts


def test_the_drawn_mutations_cover_every_choice() -> None:
    recipes = [probe(name, seed).recipe for seed in range(60) for name in SIGNATURE_MALLEABILITY]
    assert {r.signature_suffix for r in recipes if r.signature_suffix in ("zz", "--", "g")} == {"zz", "--", "g"}
    assert {r.signature_insert for r in recipes if r.signature_insert} == {" ", "\t"}
    assert probe("signature_non_hex_suffix", 7) == probe("signature_non_hex_suffix", 7)  # from the seed alone


def test_truncated_and_prefixed() -> None:
    assert header(probe("signature_one_char_short"), SIGNATURE) == valid(probe("signature_one_char_short"))[:63]
    assert header(probe("signature_half"), SIGNATURE) == valid(probe("signature_half"))[:32]
    assert header(probe("signature_prefixed"), SIGNATURE) == "sha256=" + valid(probe("signature_prefixed"))


def test_lists_hold_the_valid_signature_and_a_forged_one() -> None:
    first, last = probe("signature_list_valid_first"), probe("signature_list_valid_last")
    head, forged = header(first, SIGNATURE).split(", ")
    assert head == valid(first) and HEX.fullmatch(forged) and len(forged) == 64 and forged != head
    forged, tail = header(last, SIGNATURE).split(", ")
    assert tail == valid(last) and HEX.fullmatch(forged) and len(forged) == 64 and forged != tail


def test_other_timestamp_is_signed_for_the_second_before_the_one_sent() -> None:
    p = probe("signature_other_timestamp")
    assert header(p, TIMESTAMP) == str(NOW + 1)
    assert header(p, SIGNATURE) == sign(SECRET, NOW, p.body) != sign(SECRET, NOW + 1, p.body)
    assert check_timestamp(header(p, TIMESTAMP), clock=FakeClock(NOW))  # fresh: only the signature is wrong


def test_non_numeric_timestamp_is_signed_as_sent() -> None:
    """Whoever made it holds the secret: a receiver verifying the text as sent and casting it is not fooled."""
    p = probe("non_numeric_timestamp")
    assert header(p, TIMESTAMP) == f"{NOW}abc"
    assert verify_signature(SECRET, header(p, TIMESTAMP), p.body, header(p, SIGNATURE))
    assert not check_timestamp(header(p, TIMESTAMP), clock=FakeClock(NOW))


@pytest.mark.parametrize("name", SIGNATURE_MALLEABILITY)
def test_a_replayed_tape_keeps_the_flaw_under_another_secret(name: str) -> None:
    p = probe(name)
    again = dict(p.recipe.headers("another-secret", NOW + 50, p.body, None))
    assert again[SIGNATURE] != header(p, SIGNATURE)
    assert not verify_signature("another-secret", again[TIMESTAMP], p.body, again[SIGNATURE])


# -- the reference receiver refuses them, in-process and over real HTTP ---------------------------------------


def _status_in_process(p: Probe) -> tuple[int, list[str]]:
    receiver = ReferenceReceiver(SECRET, store=MemoryStore(), clock=FakeClock(NOW))
    headers = {k: (v.decode("latin-1") if isinstance(v, bytes) else v) for k, v in p.headers}
    return receiver.handle("POST", "/webhook", headers, p.body).status, receiver.observation()["applied"]


@pytest.mark.parametrize("name", SIGNATURE_MALLEABILITY)
def test_the_reference_receiver_refuses_each_probe(name: str) -> None:
    for seed in range(5):
        assert _status_in_process(probe(name, seed)) == (401, [])


@pytest.fixture(scope="module")
def reference_server() -> Any:
    receiver = ReferenceReceiver(SECRET, store=MemoryStore(), clock=FakeClock(NOW))
    with ReceiverServer(receiver) as server:
        yield server


def test_the_reference_receiver_refuses_each_probe_over_uvicorn(reference_server: Any) -> None:
    sent: list[str] = []
    with httpx.Client(trust_env=False, timeout=5) as client:
        for seed in range(3):
            for name in SIGNATURE_MALLEABILITY:
                p = probe(name, seed)
                assert client.post(reference_server.url, content=p.body, headers=list(p.headers)).status_code == 401
                sent += p.event_ids
        assert not set(sent) & set(client.get(reference_server.state_url).json()["applied"])


def _raw_post(url: str, body: bytes, header_lines: list[bytes]) -> int:
    """POST ``body`` with these header lines as raw bytes (httpx validates what it sends); the status."""
    port = int(url.split(":")[2].split("/")[0])
    head = b"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\n"
    head += b"".join(line + b"\r\n" for line in header_lines)
    head += b"Content-Length: %d\r\n\r\n" % len(body)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(head + body)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1])


PADDINGS = [(b" ", b""), (b"", b"  "), (b"\t", b""), (b"", b"\t"), (b" \t", b"\t ")]


@pytest.mark.parametrize("number", range(len(PADDINGS)))
def test_surrounding_whitespace_never_reaches_the_application(reference_server: Any, number: int) -> None:
    """Why there is no leading or trailing whitespace probe: uvicorn strips it (RFC 9110 section 5.5), so such a
    probe is a genuine request to a correct receiver, which accepts it; and httpx (h11) refuses to send it."""
    before, after = PADDINGS[number]
    p = probe("signature_trailing_junk", seed=100 + number)
    signature = valid(p).encode("ascii")
    lines = [SIGNATURE.encode() + b": " + before + signature + after, TIMESTAMP.encode() + b": %d" % NOW]
    assert _raw_post(reference_server.url, p.body, lines) == 200
    with pytest.raises(httpx.LocalProtocolError, match="header value"), httpx.Client(trust_env=False) as client:
        client.post(reference_server.url, content=p.body,
                    headers={SIGNATURE: (before + signature + after).decode(), TIMESTAMP: str(NOW)})


def test_two_signature_lines_are_refused_by_the_reference_receiver(reference_server: Any) -> None:
    """A repeated header is as good as none to the reference receiver, whatever the order of the lines."""
    p = probe("signature_trailing_junk", 11)
    good, forged = valid(p).encode(), b"0" * 64
    for pair in ((good, forged), (forged, good), (good, good)):
        lines = [SIGNATURE.encode() + b": " + value for value in pair] + [TIMESTAMP.encode() + b": %d" % NOW]
        assert _raw_post(reference_server.url, p.body, lines) == 401


# -- campaigns: no false positive, and the Node.js bug is caught --------------------------------------------


def config(seed: int, **options: Any) -> CampaignConfig:
    profile, uuid_mode = PROFILES[seed % len(PROFILES)]
    return CampaignConfig(seed=seed, profile=profile, uuid_mode=uuid_mode, probes=True, **options)


def explain(result: CampaignResult) -> str:
    return "\n" + format_violations(result.verdict, limit=40)


def flagged(result: CampaignResult) -> set[str]:
    return {w["probe"] for v in result.verdict.violations if v.kind == "forged_accepted" for w in v.requests}


@pytest.mark.parametrize("seed", range(6))
def test_the_reference_receiver_over_uvicorn_is_never_flagged(seed: int) -> None:
    """Without a target the campaign serves the reference receiver with uvicorn on a loopback port."""
    result = run_campaign(config(seed, events=90, faults=("default", "chaos")[seed % 2]))
    assert result.verdict.violations == [], explain(result)
    assert result.verdict.stats["probes"] == len(PROBE_KINDS)


@requires_node
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_node_receiver_decoding_hex_laxly_is_caught(seed: int) -> None:
    """``Buffer.from(sig, "hex")`` then a length check and ``timingSafeEqual``: correct in every other way, so
    the only violations are the probes whose leading 64 characters are the valid signature and whose rest
    Node's decoder ignores (a non-hex character, an odd digit, a comma)."""
    with node_receiver("events_api_lax_hex.js", {"AKENEO_EVENTS_SECRET": SECRET}) as base:
        result = run_campaign(config(seed, events=120, faults="default"), target=base + "/webhook",
                              secret=SECRET, state_url=base + "/state")
    assert not result.passed
    assert {v.kind for v in without_unconfirmed_slowness(result.verdict.violations)} == {"forged_accepted"}, \
        explain(result)
    assert "signature_non_hex_suffix" in flagged(result)
    assert flagged(result) == {"signature_non_hex_suffix", "signature_odd_suffix", "signature_list_valid_first"}
    assert result.verdict.stats["events_acknowledged"] > 0


@requires_node
def test_a_node_server_joins_a_repeated_header_into_what_the_list_probe_sends() -> None:
    """Node's ``http`` hands the application two header lines as one value joined with ", ": a receiver there
    cannot tell two lines from the one-line list the probe sends, which is why the probe sends one line."""
    p = probe("signature_trailing_junk", 12)
    fresh = int(time.time())  # the Node receiver judges freshness by its own clock
    good, forged = sign(SECRET, fresh, p.body).encode(), b"0" * 64
    stamp = TIMESTAMP.encode() + b": %d" % fresh
    with node_receiver("events_api_lax_hex.js", {"AKENEO_EVENTS_SECRET": SECRET}) as base:
        answers = [_raw_post(base + "/webhook", p.body, [SIGNATURE.encode() + b": " + value for value in pair]
                             + [stamp]) for pair in ((good, forged), (forged, good))]
        answers.append(_raw_post(base + "/webhook", p.body, [SIGNATURE.encode() + b": " + good + b", " + forged,
                                                             stamp]))
    assert answers == [200, 401, 200]


@requires_node
@pytest.mark.parametrize("seed", [1, 2])
def test_a_node_receiver_verifying_json_stringify_is_caught_on_genuine_traffic(seed: int) -> None:
    """``"<ts>." + JSON.stringify(body)`` after parsing: PHP's ``\\/`` and ``\\uXXXX`` (facts section 3) come
    back as ``/`` and UTF-8, so genuine requests are refused; each one counts as a reserialisation hazard."""
    with node_receiver("events_api_stringify.js", {"AKENEO_EVENTS_SECRET": SECRET}) as base:
        result = run_campaign(config(seed, events=120, faults="default"), target=base + "/webhook",
                              secret=SECRET, state_url=base + "/state")
    genuine = [r for r in result.run.truth.requests if r.probe is None and r.status is not None]
    by_seq = {r.seq: r for r in genuine}
    refused = [by_seq[v.requests[0]["request"]] for v in result.verdict.violations
               if v.kind == "rejected_valid" and v.requests and v.requests[0]["request"] in by_seq]
    assert len(refused) > 0.8 * len(genuine) and all(r.unstable for r in refused), explain(result)
    assert result.verdict.stats["hazards"]["reserialisation_unstable"] == sum(r.unstable for r in genuine)
    assert sum(r.unstable for r in genuine) > 0.9 * len(genuine)
