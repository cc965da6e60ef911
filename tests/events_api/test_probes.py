"""Each probe is what it claims, and its recipe re-creates it under another secret."""

from __future__ import annotations

import json
import random
import uuid

import pytest

from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.encoding import php_json_encode_bytes
from akeneo_events_testkit.events_api.probes import ENVELOPE_PROBES, GENUINE, PROBE_KINDS, Recipe, make_probe
from akeneo_events_testkit.events_api.signing import check_timestamp, verify_request, verify_signature
from akeneo_events_testkit.events_api.wire import Event
from akeneo_events_testkit.receiver import MemoryStore, ReferenceReceiver
from akeneo_events_testkit.versions import Action, get_profile, parse_event_datetime

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


# -- malformed events inside genuine envelopes ------------------------------------------------------------


def _events(p):  # type: ignore[no-untyped-def]
    return json.loads(p.body)["events"]


@pytest.mark.parametrize("profile", ["5.0", "7.0", "saas"])
@pytest.mark.parametrize("name", sorted(ENVELOPE_PROBES))
def test_envelope_probes_are_genuine_envelopes_around_one_bad_event(name: str, profile: str) -> None:
    """Validly signed, fresh, at most 10 events; valid events of probe resources on both sides of the bad
    one; ``must_apply`` names the valid ones (all of them for unknown fields, which are no flaw)."""
    p = probe(name, profile=profile)
    ts = _header(p, "X-Akeneo-Request-Timestamp")
    assert verify_request("s3cret", ts, p.body, _header(p, "X-Akeneo-Request-Signature"), clock=FakeClock(NOW))
    assert PROBE_KINDS[name].family == "robustness"
    events = _events(p)
    assert 3 <= len(events) <= 7
    good = [Event.from_dict(e) for e in events if isinstance(e, dict) and e.get("event_id") in p.must_apply]
    assert [e.event_id for e in good] == list(p.must_apply)
    assert all(e.key.startswith("product:") and e.author == "probe_user" for e in good)
    assert good[0].event_id == events[0]["event_id"] and good[-1].event_id == events[-1]["event_id"]
    if name == "unknown_fields":
        assert len(p.must_apply) == len(events) == len(p.event_ids)
    else:
        assert len(p.must_apply) == len(events) - 1
    assert p.body == php_json_encode_bytes(json.loads(p.body))


def test_each_envelope_probe_has_its_flaw() -> None:
    flawed = {name: next(e for e in _events(probe(name)) if not isinstance(e, dict)
                         or e.get("event_id") not in probe(name).must_apply)
              for name in ENVELOPE_PROBES if name != "unknown_fields"}
    assert "data" not in flawed["event_without_data"]
    assert flawed["event_without_resource"]["data"] == {}
    assert flawed["unknown_action"]["action"] not in {a.value for a in Action}
    assert not {"identifier", "uuid"} & set(flawed["resource_without_key"]["data"]["resource"])
    with pytest.raises(ValueError):
        uuid.UUID(flawed["event_id_not_uuid"]["event_id"])
    with pytest.raises(ValueError):
        parse_event_datetime(flawed["unparsable_event_datetime"]["event_datetime"])
    assert flawed["non_object_event"] is None or isinstance(flawed["non_object_event"], str)
    document = json.loads(probe("unknown_fields").body)
    assert set(document) == {"events", "future_field"}
    assert any(set(e) - set(Event.from_dict(e).to_dict()) for e in document["events"])


def test_envelope_probes_draw_from_the_seed() -> None:
    again = [probe(name) for name in ENVELOPE_PROBES]
    assert [p.body for p in again] == [probe(name).body for name in ENVELOPE_PROBES]
    other = make_probe("event_without_data", rng=random.Random(2), secret="s3cret", timestamp=NOW,
                       profile=get_profile("saas"), pim_source="https://pim.example.com")
    assert other.body != probe("event_without_data").body


@pytest.mark.parametrize("name", sorted(ENVELOPE_PROBES))
def test_the_reference_receiver_refuses_a_flawed_envelope_whole_or_applies_it_all(name: str) -> None:
    """It validates a batch before applying any of it: 400 and nothing applied, or (a non-UUID event_id,
    unknown fields) 200 and every event applied."""
    receiver = ReferenceReceiver("s3cret", store=MemoryStore(), clock=FakeClock(NOW))
    p = probe(name)
    status = receiver.handle("POST", "/webhook", dict(p.headers), p.body).status  # type: ignore[arg-type]
    applied = receiver.observation()["applied"]
    if name in ("event_id_not_uuid", "unknown_fields"):
        assert status == 200 and applied == list(p.event_ids)
    else:
        assert status == 400 and applied == []
