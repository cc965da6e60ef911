"""The ground truth's columns give back exactly what was recorded, without one object per event."""

from __future__ import annotations

import gc
import random

from akeneo_events_testkit.events_api.truth import GeneratedEvent, GroundTruth, RequestRecord
from akeneo_events_testkit.transport.sender import Outcome
from akeneo_events_testkit.versions import Action
from akeneo_events_testkit.world.catalog import new_uuid4


def _events(rng: random.Random, count: int) -> list[GeneratedEvent]:
    actions = list(Action)
    return [GeneratedEvent(new_uuid4(rng), f"product:{rng.randrange(50)}", rng.choice(actions),
                           1_700_000_000 + rng.randrange(10**6), rng.randrange(1, 40), rng.choice(["julia", "api"]),
                           n) for n in range(count)]


def test_events_read_back_as_recorded() -> None:
    truth = GroundTruth()
    events = _events(random.Random(1), 3000)
    for event in events:
        truth.add_event(event)
    assert len(truth.events) == 3000
    assert list(truth.events.values()) == events
    assert dict(truth.events) == {e.event_id: e for e in events}
    assert events[17].event_id in truth.events and "nope" not in truth.events
    replaced = GeneratedEvent(events[17].event_id, "product:other", Action.PRODUCT_REMOVED, 5, 6, "x", 7)
    truth.add_event(replaced)  # like a dict: the same id again replaces the event
    assert truth.events[events[17].event_id] == replaced and len(truth.events) == 3000


def test_requests_read_back_as_recorded() -> None:
    rng = random.Random(2)
    truth = GroundTruth()
    events = _events(rng, 200)
    for event in events:
        truth.add_event(event)
    records = []
    for seq in range(300):
        carried = tuple(rng.choice(events).event_id for _ in range(rng.randrange(0, 4)))
        probe = rng.choice([None, None, "forged_signature"])
        if probe is not None and rng.random() < 0.5:
            carried = (*carried, "probe-event")  # no event of the run
        status = rng.choice([None, 200, 202, 401, 500])
        records.append(RequestRecord(
            seq=seq, subscription=rng.choice(["default", "second"]), event_ids=carried,
            versions=tuple(rng.randrange(1, 9) for _ in carried), timestamp=1_700_000_000 + seq,
            body_size=rng.randrange(100, 9000),
            outcome=Outcome.FAILED if status is None else Outcome.SENT if status < 300 else Outcome.ERROR,
            status=status, latency=rng.random(), reason=rng.choice(["", "timeout", "connect error"]),
            faults=rng.choice([(), ("redeliver",), ("delay", "replay")]), probe=probe,
            message=rng.choice([None, seq]), must_apply=carried[:1] if probe else (),
            wall=rng.choice([None, rng.random()]), timing=rng.choice(["exchange", "handler"]),
            unstable=rng.random() < 0.2, answer_body=rng.choice(["", "oops"])))
        truth.add_request(records[-1])
    assert len(truth.requests) == 300
    assert list(truth.requests) == records
    assert truth.requests[-1] == records[-1] and truth.requests[10:13] == records[10:13]
    assert truth.requests == records


def test_no_object_per_event_or_request() -> None:
    rng = random.Random(3)
    events = _events(rng, 20000)
    gc.collect()
    before = len(gc.get_objects())
    truth = GroundTruth()
    for n, event in enumerate(events):
        truth.add_event(event)
        truth.add_request(RequestRecord(n, "default", (event.event_id,), (1,), 0, 10, Outcome.SENT, 200, 0.01))
    gc.collect()
    assert len(gc.get_objects()) - before < 200
