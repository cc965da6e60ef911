"""The Hypothesis strategies: schema-valid payloads for every profile, coherent workloads, faithful fault
schedules, shrinking to a minimal failing schedule, and misuse refused early with InvalidArgument."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from akeneo_events_testkit import strategies as aks
from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.errors import UsageError
from akeneo_events_testkit.events_api.batching import batch_operations
from akeneo_events_testkit.events_api.faults import FAULT_KINDS, FaultPlan
from akeneo_events_testkit.events_api.oracle import judge
from akeneo_events_testkit.events_api.signing import verify_signature
from akeneo_events_testkit.events_api.wire import MAX_BATCH_SIZE, Delivery, Event
from akeneo_events_testkit.judging.observation import parse_observation
from akeneo_events_testkit.receiver import MemoryStore, ReferenceReceiver
from akeneo_events_testkit.schemas import validate_payload
from akeneo_events_testkit.stateful import deliver
from akeneo_events_testkit.versions import Action, AuthorType, get_profile
from akeneo_events_testkit.world.activity import Operation

SECRET = "3kz9y947jps0wggoc84ww80000o0ogs0ssc444w008s8kkcgw"
MODES = [("5.0", None), ("6.0", None), ("7.0", None), ("7.0", False), ("7.0", True),
         ("saas", None), ("saas", False), ("saas", True)]
FAST = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: Deterministic and without the explain phase, which would replay the shrunk example hundreds of times.
SHRINK = settings(database=None, derandomize=True, max_examples=300, deadline=None,
                  phases=[Phase.explicit, Phase.generate, Phase.shrink])


def valid(document: Any, profile: str, uuid_mode: bool | None) -> list[str]:
    return [str(issue) for issue in validate_payload(document, profile=profile, uuid_mode=uuid_mode, strict=True)]


# -- events and deliveries ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("profile", "uuid_mode"), MODES)
@FAST
@given(data=st.data())
def test_events_are_schema_valid_for_every_profile(profile: str, uuid_mode: bool | None, data: st.DataObject) -> None:
    event = data.draw(aks.events(profile=profile, uuid_mode=uuid_mode))
    assert valid(event.to_dict(), profile, uuid_mode) == []
    assert Event.from_dict(json.loads(json.dumps(event.to_dict()))) == event


@pytest.mark.parametrize(("profile", "uuid_mode"), MODES)
@FAST
@given(data=st.data())
def test_deliveries_are_valid_signed_pim_batches(profile: str, uuid_mode: bool | None, data: st.DataObject) -> None:
    delivery = data.draw(aks.deliveries(profile=profile, uuid_mode=uuid_mode, secret=SECRET))
    assert valid(json.loads(delivery.body), profile, uuid_mode) == []
    assert verify_signature(SECRET, delivery.timestamp, delivery.body, delivery.signature)
    assert delivery.headers == get_profile(profile).headers(delivery.signature, delivery.timestamp)
    assert delivery.body.isascii() and b"/" not in delivery.body.replace(b"\\/", b"")  # PHP json_encode
    # one message: one buffer kind, one author, save order (facts section 4)
    assert 1 <= len(delivery.events) <= MAX_BATCH_SIZE
    assert len({event.action.buffer for event in delivery.events}) == 1
    assert len({(event.author, event.author_type) for event in delivery.events}) == 1
    assert len(set(delivery.event_ids)) == len(delivery.events)
    epochs = [event.epoch for event in delivery.events]
    assert epochs == sorted(epochs) and delivery.timestamp >= max(epochs)


@settings(max_examples=30, deadline=None)
@given(st.from_type(Event), st.from_type(Delivery))
def test_from_type_works_once_the_module_is_imported(event: Event, delivery: Delivery) -> None:
    assert valid(event.to_dict(), "saas", None) == []
    assert verify_signature(aks.DEFAULT_SECRET, delivery.timestamp, delivery.body, delivery.signature)


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_events_follow_the_strategies_they_are_given(data: st.DataObject) -> None:
    moment = datetime(2021, 3, 4, 5, 6, 7, 890, tzinfo=timezone(timedelta(hours=1)))
    event = data.draw(aks.events(
        profile="6.0", actions=st.just(Action.PRODUCT_MODEL_UPDATED), identifiers=st.just("tshirt"),
        authors=st.just(("magento_0000", AuthorType.API)), event_datetimes=st.just(moment),
        pim_sources=st.just("http://localhost:8080"),
    ))
    assert (event.action, event.resource["code"], event.author, event.author_type) == (
        Action.PRODUCT_MODEL_UPDATED, "tshirt", "magento_0000", AuthorType.API)
    assert event.event_datetime == "2021-03-04T05:06:07+01:00"
    assert "enabled" not in event.resource  # product models have none (facts section 4)
    assert valid(event.to_dict(), "6.0", None) == []


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_a_shared_identifier_names_one_resource(data: st.DataObject) -> None:
    identifiers = st.sampled_from(["a", "b"])
    batch = data.draw(st.lists(aks.events(profile="saas", uuid_mode=True, identifiers=identifiers,
                                          actions=st.sampled_from([Action.PRODUCT_UPDATED, Action.PRODUCT_REMOVED])),
                               min_size=4, max_size=4))
    assert len({event.key for event in batch}) <= 2


@settings(max_examples=20, deadline=None)
@given(aks.deliveries(events=st.lists(aks.events(profile="5.0"), min_size=1, max_size=3), secret="other",
                      timestamps=st.just(1_600_000_000), profile="5.0"))
def test_deliveries_take_event_lists_and_timestamps(delivery: Delivery) -> None:
    assert delivery.timestamp == 1_600_000_000 and 1 <= len(delivery.events) <= 3
    assert verify_signature("other", delivery.timestamp, delivery.body, delivery.signature)
    assert valid(json.loads(delivery.body), "5.0", None) == []


# -- workloads ------------------------------------------------------------------------------------------------------


def check_coherent(operations: list[Operation], *, max_events: int, max_resources: int) -> None:
    """Created before updated, nothing after a removal but a re-creation, versions up, time never back."""
    last_epoch, names = 0, set()
    present: dict[str, bool] = {}
    versions: dict[str, int] = {}
    changes = [change for operation in operations for change in operation.changes]
    assert 1 <= len(changes) <= max_events
    for seq, operation in enumerate(operations):
        assert operation.seq == seq and operation.changes and operation.epoch == operation.changes[0].epoch
        assert aks.AUTHORS[operation.author] is operation.author_type
        assert not operation.unitary or len(operation.changes) == 1
    for change in changes:
        assert change.epoch >= last_epoch
        last_epoch = change.epoch
        verb = change.action.value.split(".")[1]
        assert verb in (("updated", "removed") if present.get(change.key) else ("created",))
        present[change.key] = verb != "removed"
        assert change.version > versions.get(change.key, 0)
        versions[change.key] = change.version
        sku = change.snapshot.get("values", {}).get("sku", [{}])[0].get("data")  # UUID mode: no root identifier
        names.add((change.action.entity, change.snapshot.get("code", change.snapshot.get("identifier", sku))))
    assert len(names) <= max_resources
    assert len({change.event_id for change in changes}) == len(changes)


@pytest.mark.parametrize(("profile", "uuid_mode"), [("5.0", None), ("7.0", True), ("saas", None)])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_workloads_are_coherent_histories(profile: str, uuid_mode: bool | None, data: st.DataObject) -> None:
    operations = data.draw(aks.workloads(profile=profile, uuid_mode=uuid_mode, max_events=30, max_resources=3))
    check_coherent(operations, max_events=30, max_resources=3)
    for operation in operations:
        for change in operation.changes:
            event = {"action": change.action.value, "event_id": change.event_id,
                     "event_datetime": "2026-01-01T00:00:00+00:00", "author": operation.author,
                     "author_type": operation.author_type.value, "pim_source": "https://pim.example.com",
                     "data": {"resource": change.snapshot}}
            assert valid(event, profile, uuid_mode) == []


def test_workloads_can_have_same_second_ties_and_recreations() -> None:
    ties = find(aks.workloads(max_resources=1), lambda ops: len({c.epoch for o in ops for c in o.changes}) <
                sum(len(o.changes) for o in ops), settings=settings(database=None, derandomize=True))
    assert sum(len(o.changes) for o in ties) == 2
    recreated = find(aks.workloads(profile="6.0"), lambda ops: Counter(
        c.action for o in ops for c in o.changes)[Action.PRODUCT_CREATED] > 1 and any(
        c.action is Action.PRODUCT_REMOVED for o in ops for c in o.changes),
        settings=SHRINK)
    actions = ",".join(c.action.value.split(".")[1] for o in recreated for c in o.changes)
    assert re.fullmatch(r"created(,updated)*,removed,created", actions), actions
    assert len({c.key for o in recreated for c in o.changes}) == 1  # one key before 7.0: no uuid


# -- fault plans and schedules --------------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(aks.fault_plans(kinds=["duplicate", "drop_event"], max_faults=4, max_target=5))
def test_fault_plans_are_replayable_and_respect_their_arguments(plan: FaultPlan) -> None:
    assert len(plan.faults) <= 4
    assert {fault.kind for fault in plan.faults} <= {*FAULT_KINDS["duplicate"], "drop_event"}
    assert all(0 <= fault.target <= 5 for fault in plan.faults)
    assert FaultPlan.from_json(json.loads(json.dumps(plan.to_json()))).faults == plan.faults


def check_faithful(schedule: aks.Schedule) -> None:
    """Faults never invent events: requests carry the workload's events, as often as the plan allows."""
    generated = schedule.events
    messages = list(batch_operations(schedule.operations))
    plan = schedule.plan.by_target()
    assert all(0 <= fault.target < len(messages) for fault in schedule.plan.faults)
    for item in schedule.items:
        ids = item.delivery.event_ids
        assert set(ids) <= {change.event_id for change in messages[item.message].changes} <= set(generated)
        assert verify_signature(SECRET, item.delivery.timestamp, item.delivery.body, item.delivery.signature)
        assert valid(json.loads(item.delivery.body), "saas", None) == []
    sent = Counter(item.message for item in schedule.items)
    for seq, message in enumerate(messages):
        kinds = [fault.kind for fault in plan.get(seq, [])]
        extra = sum(kind in ("redeliver", "replay", "duplicate_event") for kind in kinds)
        assert sent[seq] <= 1 + extra
        if not kinds:
            assert sent[seq] == 1
            assert [i.delivery.event_ids for i in schedule.items if i.message == seq] == [
                tuple(c.event_id for c in message.changes)]
    assert schedule.truth().events == generated


@settings(max_examples=60, deadline=None)
@given(aks.delivery_schedules(secret=SECRET, fault_plans=aks.fault_plans(max_faults=5)))
def test_schedules_apply_plans_faithfully(schedule: aks.Schedule) -> None:
    check_faithful(schedule)
    times = [item.at for item in schedule.items]
    assert times == sorted(times)
    for item in schedule.items:
        if "replay" in item.faults:  # byte for byte, old timestamp and signature included
            assert any(other.delivery == item.delivery for other in schedule.items if other is not item)


@settings(max_examples=30, deadline=None)
@given(aks.delivery_schedules(secret=SECRET, fault_plans=st.just(FaultPlan())))
def test_schedules_without_faults_send_every_message_once_in_order(schedule: aks.Schedule) -> None:
    check_faithful(schedule)
    assert [item.message for item in schedule.items] == list(range(len(schedule.items)))
    messages = batch_operations(schedule.operations)
    assert [item.delivery.event_ids for item in schedule.items] == [
        tuple(change.event_id for change in message.changes) for message in messages]


@settings(max_examples=25, deadline=None)
@given(aks.delivery_schedules(secret=SECRET))
def test_the_reference_receiver_passes_any_schedule(schedule: aks.Schedule) -> None:
    clock = FakeClock(aks.DEFAULT_START)
    receiver = ReferenceReceiver(SECRET, store=MemoryStore(), clock=clock)
    verdict = judge(deliver(schedule, receiver.handle, clock=clock), parse_observation(receiver.observation()))
    assert verdict.passed, schedule


# -- shrinking: a planted bug ------------------------------------------------------------------------------------


class ForgetfulStore(MemoryStore):
    """The planted bug: never remembers an event id, so a redelivered event is applied again."""

    def mark_seen(self, event_id: str) -> bool:
        return True


class ArrivalOrderReceiver(ReferenceReceiver):
    """Another planted bug: the last event to arrive wins, whatever its ``event_datetime``."""

    def _supersedes(self, epoch: float, current: Any) -> bool:
        return True


def fails_on(schedule: aks.Schedule, *, make: Any = None) -> bool:
    clock = FakeClock(aks.DEFAULT_START)
    receiver = (make or (lambda c: ReferenceReceiver(SECRET, store=ForgetfulStore(), clock=c)))(clock)
    verdict = judge(deliver(schedule, receiver.handle, clock=clock), parse_observation(receiver.observation()))
    return not verdict.passed


def test_a_duplicate_bug_shrinks_to_a_tiny_schedule() -> None:
    minimal = find(aks.delivery_schedules(secret=SECRET), fails_on, settings=SHRINK)
    assert len(minimal.events) <= 3 and len(minimal.resources) == 1
    assert 1 <= len(minimal.plan.faults) <= 2
    assert {f.kind for f in minimal.plan.faults} & {"redeliver", "replay", "duplicate_event"}
    assert len(minimal.items) <= 3
    assert "fault request 0:" in repr(minimal)


def test_an_ordering_bug_shrinks_to_two_events_and_one_reorder() -> None:
    def arrival_order(clock: FakeClock) -> ReferenceReceiver:
        return ArrivalOrderReceiver(SECRET, store=MemoryStore(), clock=clock)

    minimal = find(aks.delivery_schedules(secret=SECRET, profile="6.0"),
                   lambda schedule: fails_on(schedule, make=arrival_order), settings=SHRINK)
    assert len(minimal.events) == 2 and len(minimal.resources) == 1 and len(minimal.plan.faults) == 1
    assert minimal.plan.faults[0].kind in ("late", "swap", "delay")
    first, second = (event.epoch for event in minimal.events.values())
    assert first < second  # a tie would be no bug: either order is right (oracle, facts section 4)


def test_a_receiver_that_breaks_on_a_second_arrival_is_caught_with_a_minimal_example() -> None:
    tried: list[aks.Schedule] = []

    @SHRINK
    @given(aks.delivery_schedules(secret=SECRET, workloads=aks.workloads(max_events=20)))
    def receiver_never_sees_an_event_twice(schedule: aks.Schedule) -> None:
        tried.append(schedule)
        ids = Counter(event_id for delivery in schedule.deliveries for event_id in delivery.event_ids)
        assert max(ids.values(), default=0) <= 1, "an event arrived twice"

    with pytest.raises(AssertionError, match="arrived twice"):
        receiver_never_sees_an_event_twice()
    minimal = tried[-1]  # Hypothesis replays the shrunk example last
    assert len(minimal.events) == 1 and len(minimal.plan.faults) == 1 and len(minimal.items) == 2


# -- misuse ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("make", "message"), [
    (lambda: aks.workloads(min_events=5, max_events=2), "max_events=2 < min_events=5"),
    (lambda: aks.workloads(max_resources=0), "max_resources=0 must be at least 1"),
    (lambda: aks.workloads(max_events=True), "max_events must be an int"),
    (lambda: aks.events(profile="4.0"), "unknown profile '4.0'"),
    (lambda: aks.events(profile="6.0", uuid_mode=True), "profile 6.0 has no UUID mode"),
    (lambda: aks.events(actions=[Action.PRODUCT_CREATED]), "st.sampled_from"),
    (lambda: aks.events(identifiers="sku"), "st.just('sku')"),
    (lambda: aks.deliveries(secret=""), "secret must be a non-empty str"),
    (lambda: aks.deliveries(timestamps=123), "timestamps must be a Hypothesis strategy"),
    (lambda: aks.fault_plans(kinds=["explode"]), "unknown fault kind 'explode'"),
    (lambda: aks.fault_plans(kinds="drop"), "kinds=['drop']"),
    (lambda: aks.fault_plans(min_faults=3, max_faults=1), "max_faults=1 < min_faults=3"),
    (lambda: aks.delivery_schedules(workloads=[]), "workloads must be a Hypothesis strategy"),
    (lambda: aks.delivery_schedules(profile="serenity", secret=None), "secret must be a non-empty str"),
])
def test_invalid_arguments_raise_early(make: Any, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        make()  # at call time: nothing is drawn
    with pytest.raises(UsageError):
        make()


@pytest.mark.parametrize(("strategy", "message"), [
    (aks.events(event_datetimes=st.just(datetime(2021, 1, 1))), "aware datetimes"),
    (aks.events(actions=st.just("product.exploded")), "actions generated"),
    (aks.deliveries(events=st.just([])), "lists of 1 to 10 Event"),
])
def test_invalid_generated_values_are_named(strategy: Any, message: str) -> None:
    @settings(database=None, max_examples=1)
    @given(strategy)
    def draw(value: Any) -> None:
        pass

    with pytest.raises(InvalidArgument, match=message):
        draw()
