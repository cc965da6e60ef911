"""Each probe is what it claims, and its recipe re-creates it under another secret."""

from __future__ import annotations

import random

import pytest

from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.events_api.probes import GENUINE, PROBE_KINDS, Recipe, make_probe
from akeneo_events_testkit.events_api.signing import check_timestamp, verify_request, verify_signature
from akeneo_events_testkit.receiver import MemoryStore, ReferenceReceiver
from akeneo_events_testkit.versions import get_profile

NOW = 1_700_000_000


def probe(name: str, secret: str = "s3cret", profile: str = "saas"):  # type: ignore[no-untyped-def]
    return make_probe(name, rng=random.Random(1), secret=secret, timestamp=NOW, profile=get_profile(profile),
                      pim_source="https://pim.example.com")


def _header(p, name: str):  # type: ignore[no-untyped-def]
    return next((v for k, v in p.headers if k == name), None)


@pytest.mark.parametrize("name", [n for n, k in PROBE_KINDS.items() if k.family == "authenticity"])
def test_authenticity_probes_never_pass_both_checks(name: str) -> None:
    p = probe(name)
    assert not verify_request("s3cret", _header(p, "X-Akeneo-Request-Timestamp"), p.body,
                              _header(p, "X-Akeneo-Request-Signature"), clock=FakeClock(NOW))


@pytest.mark.parametrize("name", ["stale_timestamp", "future_timestamp"])
def test_freshness_probes_are_validly_signed_but_not_fresh(name: str) -> None:
    p = probe(name)
    ts = _header(p, "X-Akeneo-Request-Timestamp")
    assert verify_signature("s3cret", ts, p.body, _header(p, "X-Akeneo-Request-Signature"))
    assert not check_timestamp(ts, clock=FakeClock(NOW))


@pytest.mark.parametrize("name", ["not_json", "wrong_shape", "too_many_events", "wrong_content_type"])
def test_robustness_probes_are_validly_signed(name: str) -> None:
    p = probe(name)
    assert verify_signature("s3cret", _header(p, "X-Akeneo-Request-Timestamp"), p.body,
                            _header(p, "X-Akeneo-Request-Signature"))


def test_uppercase_is_the_valid_signature_in_upper_case() -> None:
    p = probe("uppercase_signature")
    signature = _header(p, "X-Akeneo-Request-Signature")
    assert signature.isupper() or signature.upper() == signature
    assert verify_signature("s3cret", _header(p, "X-Akeneo-Request-Timestamp"), p.body, signature.lower())


@pytest.mark.parametrize("name", sorted(PROBE_KINDS))
def test_recipes_round_trip_and_rebuild_the_same_headers(name: str) -> None:
    p = probe(name)
    again = Recipe.from_json(p.recipe.to_json())
    assert again == p.recipe
    assert again.headers("s3cret", NOW, p.body, get_profile("saas").user_agent) == p.headers


@pytest.mark.parametrize("name", sorted(PROBE_KINDS))
def test_the_reference_receiver_answers_every_probe_as_allowed(name: str) -> None:
    receiver = ReferenceReceiver("s3cret", store=MemoryStore(), clock=FakeClock(NOW))
    p = probe(name)
    headers = {k: (v.decode("latin-1") if isinstance(v, bytes) else v) for k, v in p.headers}
    status = receiver.handle("POST", "/webhook", headers, p.body).status
    kind = PROBE_KINDS[name]
    if kind.family in ("authenticity", "freshness"):
        assert 400 <= status < 500 and receiver.observation()["applied"] == []
    else:
        assert status < 500


def test_probe_events_touch_only_their_own_resources() -> None:
    keys = {k for name in PROBE_KINDS for k in probe(name).keys}
    assert keys and all(k.startswith("product:") for k in keys)
    identifiers = [probe(name, profile="6.0").keys for name in PROBE_KINDS]
    assert all(k.startswith("product:probe-") for ks in identifiers for k in ks)
    assert GENUINE.to_json() == {}
