"""The ready-made state machine: the reference receiver passes it, over a handle, WSGI and ASGI; a receiver
without deduplication fails it with the oracle's text and a replayable program; misuse is refused early."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.stateful import run_state_machine_as_test

from akeneo_events_testkit import strategies as aks
from akeneo_events_testkit.clock import FakeClock
from akeneo_events_testkit.events_api.faults import Fault, FaultPlan
from akeneo_events_testkit.events_api.oracle import judge
from akeneo_events_testkit.events_api.signing import verify_signature
from akeneo_events_testkit.events_api.wire import decode_envelope
from akeneo_events_testkit.judging.observation import parse_observation
from akeneo_events_testkit.receiver import MemoryStore, ReferenceReceiver
from akeneo_events_testkit.schemas import validate_payload
from akeneo_events_testkit.stateful import as_handle, deliver, receiver_state_machine

SECRET = "3ha6eonoa9icsckw8kccos084w0c0000g08g40oo4kww0gc8w4"
QUICK = settings(max_examples=25, stateful_step_count=25, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])


class CheckedReceiver:
    """The reference receiver, also asserting that every request is genuine PIM output."""

    def __init__(self, profile: str) -> None:
        self.receiver = ReferenceReceiver(SECRET, store=MemoryStore())
        self.profile = profile
        self.requests = 0

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> Any:
        named = dict(headers)
        assert verify_signature(SECRET, named["X-Akeneo-Request-Timestamp"], body,
                                named["X-Akeneo-Request-Signature"])
        assert validate_payload(json.loads(body), profile=self.profile, strict=True) == []
        assert 1 <= len(decode_envelope(body)) <= 10
        self.requests += 1
        response = self.receiver.handle(method, path, headers, body)
        assert response.status == 200, response.body
        return response

    def observation(self) -> dict[str, Any]:
        return self.receiver.observation()


class ForgetfulStore(MemoryStore):
    """The planted bug: the receiver never remembers an event id, so duplicates are applied again."""

    def mark_seen(self, event_id: str) -> bool:
        return True


TestReferenceReceiver = receiver_state_machine(
    lambda: ReferenceReceiver(SECRET, store=MemoryStore()), secret=SECRET).TestCase
TestReferenceReceiver.settings = QUICK


@pytest.mark.parametrize(("profile", "uuid_mode"), [("5.0", None), ("7.0", True)])
def test_requests_are_genuine_for_each_profile(profile: str, uuid_mode: bool | None) -> None:
    machine = receiver_state_machine(lambda: CheckedReceiver(profile), secret=SECRET, profile=profile,
                                     uuid_mode=uuid_mode, products=2, product_models=1)
    run_state_machine_as_test(machine, settings=settings(QUICK, max_examples=10))


def test_the_reference_receiver_passes_over_wsgi_and_asgi() -> None:
    def wsgi() -> tuple[Any, Any]:
        receiver = ReferenceReceiver(SECRET, store=MemoryStore())
        return receiver.wsgi(), receiver.observation

    def asgi() -> tuple[Any, Any]:
        receiver = ReferenceReceiver(SECRET, store=MemoryStore())
        return receiver.asgi(), receiver.observation

    for make in (wsgi, asgi):
        run_state_machine_as_test(receiver_state_machine(make, secret=SECRET),
                                  settings=settings(QUICK, max_examples=5, stateful_step_count=15))


def test_a_receiver_without_dedup_fails_with_the_oracle_text_and_a_program() -> None:
    machine = receiver_state_machine(lambda: ReferenceReceiver(SECRET, store=ForgetfulStore()), secret=SECRET)
    quick = settings(QUICK, max_examples=200, derandomize=True, database=None,
                     phases=[Phase.explicit, Phase.generate, Phase.shrink])
    with pytest.raises(AssertionError) as failure:
        run_state_machine_as_test(machine, settings=quick)
    text = str(failure.value)
    assert text.startswith("1 error(s), 0 warning(s): duplicate_applied x1")
    assert "expected: applied at most once" in text and "witness (requests in send order):" in text
    program = "\n".join(getattr(failure.value, "__notes__", []))
    assert "state = ReceiverStateMachine()" in program
    assert "state.deliver_now()" in program and ("state.duplicate(" in program or "state.replay(" in program)
    steps = [line for line in program.splitlines() if "state." in line and "receiver_agrees" not in line]
    assert len(steps) <= 4, program  # shrunk: a save, a delivery, a second delivery, the teardown


def test_a_wrongly_signed_receiver_is_rejected_valid() -> None:
    machine = receiver_state_machine(lambda: ReferenceReceiver("another secret", store=MemoryStore()),
                                     secret=SECRET)
    with pytest.raises(AssertionError, match="rejected_valid"):
        run_state_machine_as_test(machine, settings=settings(QUICK, database=None, derandomize=True))


def test_deliver_sends_a_schedule_to_any_target() -> None:
    schedule = find_schedule()
    for kind in ("handle", "wsgi", "asgi"):
        clock = FakeClock(aks.DEFAULT_START)
        receiver = ReferenceReceiver(SECRET, store=MemoryStore(), clock=clock)
        target = {"handle": receiver.handle, "wsgi": receiver.wsgi(), "asgi": receiver.asgi()}[kind]
        truth = deliver(schedule, target, clock=clock)
        assert [r.status for r in truth.requests] == [200] * len(schedule.items)
        assert judge(truth, parse_observation(receiver.observation())).passed
        assert receiver.stats()["events"]["duplicates"] == 1


def find_schedule() -> aks.Schedule:
    """The smallest schedule whose first request is redelivered."""
    plan = FaultPlan([Fault(0, "redeliver", {"after": 1})])
    return find(aks.delivery_schedules(secret=SECRET, fault_plans=st.just(plan)), lambda s: len(s.items) >= 2,
                settings=settings(database=None, derandomize=True, phases=[Phase.generate, Phase.shrink]))


def test_as_handle_tells_targets_apart() -> None:
    receiver = ReferenceReceiver(SECRET, store=MemoryStore())
    assert as_handle(receiver.handle) == receiver.handle
    assert as_handle(receiver.wsgi())("GET", "/state", [], b"") == 200
    asgi = as_handle(receiver.asgi())
    assert asgi("GET", "/nowhere", [], b"") == 404
    asgi.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"make_receiver": None, "secret": SECRET}, "make_receiver must be a callable"),
    ({"make_receiver": dict, "secret": ""}, "secret must be a non-empty str"),
    ({"make_receiver": dict, "secret": SECRET, "profile": "8.0"}, "unknown profile '8.0'"),
    ({"make_receiver": dict, "secret": SECRET, "products": 0, "product_models": 0}, "at least 1"),
    ({"make_receiver": dict, "secret": SECRET, "path": "webhook"}, "path must start with '/'"),
])
def test_invalid_arguments_raise_early(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        receiver_state_machine(**kwargs)


def test_a_factory_returning_nonsense_is_named() -> None:
    machine = receiver_state_machine(lambda: 42, secret=SECRET)
    with pytest.raises(InvalidArgument, match=r"make_receiver must return \(target, observe\)"):
        run_state_machine_as_test(machine, settings=settings(QUICK, max_examples=1, database=None))
