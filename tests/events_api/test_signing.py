from __future__ import annotations

import collections
import json
import random
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.credentials import generate_secret
from akeneo_events_testkit.events_api.signing import (
    TimestampVerdict,
    check_timestamp,
    sign,
    verify_request,
    verify_signature,
)

from ..support.php import PHP, php_hmac_many, requires_php


def test_signature_vectors(reference_dir: Any) -> None:
    vectors = json.loads((reference_dir / "signature-vectors.json").read_text())["vectors"]
    assert len(vectors) == 2
    for vector in vectors:
        assert sign(vector["secret"], vector["timestamp"], vector["body"]) == vector["signature"]
        assert verify_signature(vector["secret"], str(vector["timestamp"]), vector["body"].encode(),
                                vector["signature"])


def test_signature_is_64_lowercase_hex() -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", sign("s", 1, b"{}"))


@pytest.mark.parametrize(
    "hostile",
    [None, "", "zz" * 32, "é" * 64, "A" * 64, "0" * 63, "0" * 65, "0" * 6400, b"\xff" * 64, "\x00" * 64,
     "sha256=" + "0" * 64, 12345],
)
def test_verification_never_raises_on_hostile_signatures(hostile: Any) -> None:
    assert verify_signature("secret", "1577836800", b"{}", hostile) is False


@pytest.mark.parametrize("timestamp", [None, "", "abc", b"\xff", "1e9", "-1", " 1"])
def test_hostile_timestamps_fail_but_do_not_raise(timestamp: Any) -> None:
    signature = sign("secret", "1577836800", b"{}")
    assert verify_signature("secret", timestamp, b"{}", signature) is False
    assert not check_timestamp(timestamp, clock=FakeClock(1577836800))


def test_upper_case_signature_is_not_the_pims() -> None:
    signature = sign("secret", 1, b"x")
    assert not verify_signature("secret", 1, b"x", signature.upper())


def test_empty_secret_never_verifies() -> None:
    assert not verify_signature("", 1, b"x", sign("", 1, b"x"))


bodies = st.binary(max_size=300)


@settings(max_examples=150)
@given(secret=st.text(min_size=1, max_size=60), ts=st.integers(0, 2**40), body=bodies, data=st.data())
def test_any_single_byte_change_fails(secret: str, ts: int, body: bytes, data: st.DataObject) -> None:
    signature = sign(secret, ts, body)
    assert verify_signature(secret, str(ts), body, signature)
    if body:
        index = data.draw(st.integers(0, len(body) - 1))
        delta = data.draw(st.integers(1, 255))
        changed = bytearray(body)
        changed[index] = (changed[index] + delta) % 256
        assert not verify_signature(secret, str(ts), bytes(changed), signature)
    assert not verify_signature(secret, str(ts + data.draw(st.integers(1, 10**6))), body, signature)
    position = data.draw(st.integers(0, 63))
    replacement = data.draw(st.sampled_from("0123456789abcdef").filter(lambda c: c != signature[position]))
    forged = signature[:position] + replacement + signature[position + 1:]
    assert not verify_signature(secret, str(ts), body, forged)


def test_timestamp_window_in_both_directions() -> None:
    clock = FakeClock(1_000_000)
    assert check_timestamp("1000000", clock=clock).verdict is TimestampVerdict.OK
    assert check_timestamp(str(1_000_000 - 300), clock=clock)
    assert check_timestamp(str(1_000_000 - 301), clock=clock).verdict is TimestampVerdict.TOO_OLD
    assert check_timestamp(str(1_000_000 + 300), clock=clock)
    assert check_timestamp(str(1_000_000 + 301), clock=clock).verdict is TimestampVerdict.IN_FUTURE
    assert check_timestamp(None).verdict is TimestampVerdict.MISSING
    assert check_timestamp("12a").verdict is TimestampVerdict.MALFORMED
    assert check_timestamp("1000001", clock=clock, tolerance=0).verdict is TimestampVerdict.IN_FUTURE


def test_verify_request_combines_both_checks() -> None:
    clock = FakeClock(2_000_000)
    good = sign("s", 2_000_000, b"b")
    assert verify_request("s", "2000000", b"b", good, clock=clock)
    stale = sign("s", 1_000_000, b"b")
    assert not verify_request("s", "1000000", b"b", stale, clock=clock)


def test_secret_shape_matches_the_pims() -> None:
    rng = random.Random(7)
    secrets = [generate_secret(rng) for _ in range(5000)]
    lengths = collections.Counter(len(s) for s in secrets)
    assert set(lengths) <= {46, 47, 48, 49, 50}
    assert lengths[50] / len(secrets) > 0.75
    assert 0.08 < lengths[49] / len(secrets) < 0.25
    for secret in secrets:
        assert re.fullmatch(r"[0-9a-z]+", secret)
        assert set(secret[14:]) <= set("048cgkosw"), secret
    # both secrets shown in Akeneo's docs have this shape
    for documented in ("3ha6eonoa9icsckw8kccos084w0c0000g08g40oo4kww0gc8w4",
                       "3kz9y947jps0wggoc84ww80000o0ogs0ssc444w008s8kkcgw"):
        assert set(documented[14:]) <= set("048cgkosw")


def test_secret_generation_is_seeded() -> None:
    assert generate_secret(random.Random(1)) == generate_secret(random.Random(1))
    assert generate_secret(random.Random(1)) != generate_secret(random.Random(2))


@requires_php
@pytest.mark.php
def test_secret_generator_matches_php_base_convert() -> None:
    import subprocess

    from akeneo_events_testkit.credentials import _php_base_convert_16_to_36

    rng = random.Random(3)
    inputs = [rng.getrandbits(256).to_bytes(32, "big").hex() for _ in range(300)]
    inputs += ["0" * 64, "f" * 64, "00000000000000000000000000000000000000000000000000000000000000ff"]
    script = 'while (($l = fgets(STDIN)) !== false) { echo base_convert(trim($l), 16, 36), "\\n"; }'
    assert PHP is not None
    out = subprocess.run([PHP, "-r", script], input="\n".join(inputs) + "\n", capture_output=True,
                         text=True, check=True, timeout=60).stdout.splitlines()
    assert [_php_base_convert_16_to_36(h) for h in inputs] == out


@requires_php
@pytest.mark.php
def test_signatures_match_php_hash_hmac() -> None:
    rng = random.Random(11)
    items = []
    for _ in range(300):
        secret = generate_secret(rng).encode()
        ts = str(rng.randint(0, 2**33)).encode()
        body = bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 200)))
        items.append((secret, ts, body))
    assert php_hmac_many(items) == [sign(s, t.decode(), b) for s, t, b in items]
