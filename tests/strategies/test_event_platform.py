"""Hypothesis strategies for the Event Platform: schema-valid CloudEvents and correctly signed requests."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from akeneo_events_testkit import ep_strategies as aeps
from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.event_platform.signing import verify_ep
from akeneo_events_testkit.event_platform.wire import SENT_TYPES, CloudEvent, encode, ep_resource_key
from akeneo_events_testkit.receiver import ReferenceReceiver
from akeneo_events_testkit.schemas import validate_payload
from akeneo_events_testkit.versions import Action

RELAXED = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@RELAXED
@given(aeps.cloud_events())
def test_every_cloud_event_is_valid_and_encoded_like_the_platform(event: CloudEvent) -> None:
    assert validate_payload(event.body, profile="event-platform", strict=True) == []
    assert event.raw == encode(event.body)
    assert event.type.startswith("com.akeneo.pim.v1.product")
    assert event.key.startswith(("product:", "product_model:"))


@RELAXED
@given(aeps.ep_requests(secret="new-secret", secondary="old-secret"))
def test_requests_verify_with_either_secret_and_the_reference_receiver_takes_them(request: aeps.EpRequest) -> None:
    headers = dict(request.headers)
    assert verify_ep(request.body, headers, ["new-secret"]) and verify_ep(request.body, headers, ["old-secret"])
    assert not verify_ep(request.body, headers, ["another"])
    receiver = ReferenceReceiver("new-secret", ep_secrets=["old-secret"], clock=FakeClock(0))
    assert receiver.handle("POST", "/webhook", headers, request.body).status == 200


def test_deltas_carry_changes_and_options_are_honoured() -> None:
    delta = find(aeps.cloud_events(actions=st.just(Action.PRODUCT_UPDATED), deltas=st.just(True)),
                 lambda event: "values" in event.body["data"]["product"]["changes"])
    assert delta.type == "com.akeneo.pim.v1.product.updated.delta"
    assert validate_payload(delta.body, profile="event-platform", strict=True) == []
    thin = find(aeps.cloud_events(actions=st.just(Action.PRODUCT_MODEL_UPDATED), deltas=st.just(False),
                                  epochs=st.just(1_800_000_000), sources=st.just("pim")), lambda event: True)
    assert thin.type == "com.akeneo.pim.v1.product-model.updated" and thin.epoch == 1_800_000_000
    assert thin.body["source"] == "pim"
    same = find(aeps.cloud_events(uuids=st.just("7abae2fe-759a-4fce-aa43-f413980671b3"),
                                  actions=st.just(Action.PRODUCT_REMOVED)), lambda event: True)
    assert same.key == "product:7abae2fe-759a-4fce-aa43-f413980671b3" and same.is_removal


@pytest.mark.parametrize(("make", "message"), [
    (lambda: aeps.cloud_events(actions=[Action.PRODUCT_UPDATED]), "must be a Hypothesis strategy"),
    (lambda: aeps.ep_requests(secret=""), "secret must be a non-empty str"),
    (lambda: aeps.ep_requests(secondary=""), "secondary must be None"),
    (lambda: aeps.ep_requests(custom_headers=[("Authorization", "x")]), "custom_headers"),
])
def test_misuse_is_reported_when_the_strategy_is_made(make: object, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        make()  # type: ignore[operator]


@pytest.mark.parametrize("kind", SENT_TYPES)
def test_cloud_events_draw_each_sent_type_valid_against_the_strict_schemas(kind: str) -> None:
    """``types=`` (issue 18): every type the emitter sends, structure and jobs included, drawn alone."""

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(aeps.cloud_events(types=kind))
    def check(event: CloudEvent) -> None:
        assert event.type == f"com.akeneo.pim.v1.{kind}"
        assert validate_payload(event.body, profile="event-platform", strict=True) == []
        assert event.raw == encode(event.body)
        assert event.is_removal == kind.endswith(".deleted")
        assert event.key == ep_resource_key(event.body)

    check()


def test_cloud_events_types_mix_and_misuse() -> None:
    drawn = {find(aeps.cloud_events(types="category.*,job.*"), lambda e, t=t: e.type.endswith(t)).type
             for t in ("category.created", "category.deleted", "job.import.status-changed")}
    assert len(drawn) == 3
    with pytest.raises(InvalidArgument, match="types: 'nothing.*' matches no event type"):
        find(aeps.cloud_events(types="nothing.*"), lambda e: True)
