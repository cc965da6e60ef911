"""The compact id index and bitmap the ground truth and the detectors use instead of per-event objects."""

from __future__ import annotations

import gc
import random
from uuid import UUID

from akeneo_events_testkit.judging.ordinals import Bitmap, IdIndex
from akeneo_events_testkit.world.catalog import new_uuid4


def test_ids_are_numbered_in_order_and_found_again() -> None:
    rng = random.Random(3)
    ids = [new_uuid4(rng) for _ in range(5000)]  # grows the table several times
    index = IdIndex()
    assert [index.add(event_id) for event_id in ids] == list(range(5000))
    assert len(index) == 5000
    assert [index.get(event_id) for event_id in ids] == list(range(5000))
    assert [index.id_of(n) for n in range(5000)] == ids
    assert list(index) == ids
    assert index.add(ids[1234]) == 1234 and len(index) == 5000  # known: same ordinal, nothing added


def test_unknown_and_non_canonical_ids_are_not_confused() -> None:
    rng = random.Random(4)
    event_id = new_uuid4(rng)
    index = IdIndex()
    index.add(event_id)
    assert index.get(new_uuid4(rng)) is None
    assert index.get(event_id.upper()) is None  # another string: not the same id
    assert index.get(event_id.replace("-", "")) is None
    assert index.get("") is None and "nope" not in index


def test_any_string_is_an_id() -> None:
    index = IdIndex()
    odd = ["a", "b", "probe-1", "ABCDEFAB-ABCD-4BCD-8BCD-ABCDEFABCDEF", "0000_000-0000-4000-8000-000000000000"]
    canonical = str(UUID(int=0))
    assert [index.add(x) for x in [*odd, canonical]] == list(range(6))
    assert [index.get(x) for x in [*odd, canonical]] == list(range(6))
    assert [index.id_of(n) for n in range(6)] == [*odd, canonical]
    assert index.add("a") == 0


def test_no_object_per_id_is_tracked_by_the_collector() -> None:
    rng = random.Random(5)
    ids = [new_uuid4(rng) for _ in range(20000)]
    gc.collect()
    before = len(gc.get_objects())
    index = IdIndex()
    for event_id in ids:
        index.add(event_id)
    gc.collect()
    assert len(gc.get_objects()) - before < 50


def test_bitmap() -> None:
    bits = Bitmap()
    assert 5 not in bits and -1 not in bits
    assert bits.add(5) is False and bits.add(5) is True
    assert bits.add(100_000) is False
    assert 5 in bits and 100_000 in bits and 6 not in bits and 99_999 not in bits
