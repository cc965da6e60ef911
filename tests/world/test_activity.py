"""The activity: a deterministic, coherent timeline of saves by plausible authors (facts sections 4 and 5)."""

from __future__ import annotations

import itertools
import random
import re
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from akeneo_events_testkit.encoding import php_json_encode
from akeneo_events_testkit.errors import UsageError
from akeneo_events_testkit.events_api.wire import MAX_BATCH_SIZE
from akeneo_events_testkit.versions import Action, AuthorType, format_event_datetime, resource_key
from akeneo_events_testkit.world.activity import (
    DEFAULT_CONNECTIONS,
    DEFAULT_MIX,
    DEFAULT_USERS,
    Activity,
    Operation,
    generate_activity,
    generate_operations,
)
from akeneo_events_testkit.world.catalog import Catalog

START = 1_700_000_000
MODES = [("5.0", None), ("6.0", None), ("7.0", False), ("7.0", True), ("saas", False), ("saas", True)]
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def encode(operations: list[Operation]) -> str:
    return php_json_encode([
        [o.seq, o.kind, o.author, o.author_type.value, o.unitary, o.epoch,
         [[c.action.value, c.key, c.event_id, c.epoch, c.version, c.snapshot] for c in o.changes]]
        for o in operations
    ])


def run(seed: int, profile: str = "saas", uuid_mode: bool | None = None, count: int = 200,
        **options: Any) -> tuple[Activity, set[str], list[Operation]]:
    activity = Activity.from_seed(seed, start=START, profile=profile, uuid_mode=uuid_mode, **options)
    initial = set(activity.catalog.keys())
    return activity, initial, list(itertools.islice(activity.operations(), count))


def has_tie(operations: list[Operation]) -> bool:
    """Two saves of one resource in the same second (event_datetime cannot order them)."""
    saves = Counter((c.key, c.epoch) for o in operations for c in o.changes)
    return any(n > 1 for n in saves.values())


# ------------------------------------------------------------------ determinism


def test_same_seed_same_operations() -> None:
    first = list(generate_operations(seed=3, events=400, start=START, profile="7.0"))
    second = list(generate_operations(seed=3, events=400, start=START, profile="7.0"))
    assert encode(first) == encode(second)
    assert encode(first) != encode(list(generate_operations(seed=4, events=400, start=START, profile="7.0")))


def test_the_profile_does_not_change_the_timeline() -> None:
    timelines = [[(o.kind, o.author, o.epoch, len(o.changes)) for o in run(8, p, m, 150)[2]] for p, m in MODES]
    assert all(t == timelines[0] for t in timelines)


def test_generate_stops_at_exactly_the_number_of_events() -> None:
    for events in (0, 1, 57, 500):
        operations = list(generate_operations(seed=1, events=events, start=START))
        assert sum(len(o.changes) for o in operations) == events
    catalog, stream = generate_activity(rng=random.Random(2), events=30, start=START, profile="6.0")
    assert isinstance(catalog, Catalog) and catalog.profile.name == "6.0"
    assert sum(len(o.changes) for o in stream) == 30


# ------------------------------------------------------------------ coherence


@pytest.mark.parametrize(("profile", "uuid_mode"), MODES)
def test_sequencing_and_versions_per_resource(profile: str, uuid_mode: bool | None) -> None:
    activity, initial, operations = run(5, profile, uuid_mode, 250)
    state: dict[str, str] = {key: "live" for key in initial}
    versions: dict[str, int] = {}
    last_epoch = START
    for operation in operations:
        assert operation.epoch == operation.changes[0].epoch >= last_epoch
        for change in operation.changes:
            assert change.epoch >= last_epoch
            last_epoch = change.epoch
            assert change.key == resource_key(change.action, change.snapshot)
            if change.key in versions:
                assert change.version > versions[change.key]
            else:
                assert change.version >= 1
            versions[change.key] = change.version
            before = state.get(change.key)
            if change.action in (Action.PRODUCT_CREATED, Action.PRODUCT_MODEL_CREATED):
                assert before in (None, "removed"), change
                if before is None:
                    assert change.version == 1
            else:
                assert before == "live", change  # no update or removal of what does not exist
            state[change.key] = "removed" if change.action.is_removal else "live"
    for key, status in state.items():
        current = activity.catalog.current(key)
        if status == "removed":
            assert current is None and key not in activity.catalog
        else:
            assert current is not None and current[0] == versions.get(key, current[0])


def test_each_operation_is_applied_before_it_is_yielded() -> None:
    activity = Activity.from_seed(2, start=START)
    for operation in itertools.islice(activity.operations(), 100):
        last = {c.key: c for c in operation.changes}
        for key, change in last.items():
            current = activity.catalog.current(key)
            if change.action.is_removal:
                assert current is None
            else:
                assert current is not None and current[0] == change.version
                if change.action.entity == "product":
                    assert current[1] is change.snapshot or current[1]["updated"] == change.snapshot["updated"]


def test_authors_and_author_types() -> None:
    _, _, operations = run(6, count=400)
    types = Counter(o.author_type for o in operations)
    assert set(types) == {AuthorType.UI, AuthorType.API, AuthorType.SYSTEM}
    for operation in operations:
        if operation.author_type is AuthorType.UI:
            assert operation.author in DEFAULT_USERS
        elif operation.author_type is AuthorType.API:
            assert operation.author in DEFAULT_CONNECTIONS
        else:
            assert operation.author == "system"
        assert operation.kind in DEFAULT_MIX
        assert 1 <= len(operation.changes) <= 200


def test_unitary_operations_have_one_change_and_bulks_many() -> None:
    _, _, operations = run(7, count=500)
    sizes: dict[str, list[int]] = {}
    for operation in operations:
        sizes.setdefault(operation.kind, []).append(len(operation.changes))
        if operation.unitary:
            assert len(operation.changes) == 1
        if operation.kind in ("api_bulk", "import", "mass_edit", "mass_removal"):
            assert not operation.unitary and operation.author_type is not AuthorType.SYSTEM
        if operation.kind == "api_bulk":
            assert operation.author_type is AuthorType.API and len(operation.changes) <= 100
        if operation.kind in ("import", "mass_edit"):
            assert operation.author_type is AuthorType.UI  # jobs run as the user who launched them
    assert max(sizes["api_bulk"]) >= 10 and min(sizes["api_bulk"]) >= 1
    assert max(sizes["import"]) > MAX_BATCH_SIZE  # the emitter will have to split it
    # a bulk runs many saves within one second
    bulk = max((o for o in operations if o.kind == "api_bulk"), key=lambda o: len(o.changes))
    assert bulk.changes[-1].epoch - bulk.changes[0].epoch < len(bulk.changes)


def test_event_ids_are_unique_uuid4() -> None:
    _, _, operations = run(9, count=300)
    ids = [c.event_id for o in operations for c in o.changes]
    assert len(ids) == len(set(ids)) and all(UUID4.match(i) for i in ids)


def test_same_second_ties_on_one_resource_within_500_events() -> None:
    seeds = range(10)
    tied = [has_tie(list(generate_operations(seed=s, events=500, start=START))) for s in seeds]
    assert sum(tied) >= 8, tied


def test_time_advances_by_seconds_to_minutes() -> None:
    _, _, operations = run(10, count=300)
    gaps = [b.epoch - a.changes[-1].epoch for a, b in itertools.pairwise(operations)]
    assert min(gaps) == 0 and max(gaps) >= 120 and all(g >= 0 for g in gaps)
    assert operations[0].epoch == START


def recreate_mix() -> dict[str, float]:
    return {"ui_edit": 0.3, "ui_removal": 0.3, "recreate": 0.3, "api_save": 0.1}


@pytest.mark.parametrize(("profile", "same_key"), [("5.0", True), ("6.0", True), ("7.0", False), ("saas", False)])
def test_recreation_of_a_removed_identifier(profile: str, same_key: bool) -> None:
    _, _, operations = run(4, profile, count=200, mix=recreate_mix())
    removed: dict[str, str] = {}  # identifier -> key
    recreated = 0
    for change in (c for o in operations for c in o.changes):
        identifier = str(change.snapshot.get("identifier"))
        if change.action is Action.PRODUCT_REMOVED:
            removed[identifier] = change.key
        elif change.action is Action.PRODUCT_CREATED and identifier in removed:
            recreated += 1
            assert (change.key == removed[identifier]) is same_key
            assert change.version > 1 if same_key else change.version == 1
    assert recreated >= 3


def test_variant_products_and_model_removal_cascade() -> None:
    mix = {"model_import": 0.3, "model_removal": 0.2, "ui_variant_create": 0.2, "ui_model_edit": 0.3}
    activity, _, operations = run(12, "saas", count=120, mix=mix)
    models = set(activity.catalog.product_model_keys())
    cascades = 0
    for operation in operations:
        for change in operation.changes:
            if change.action is Action.PRODUCT_CREATED and operation.kind in ("model_import", "ui_variant_create"):
                assert change.snapshot["parent"] is not None
        if operation.kind == "model_removal":
            actions = [c.action for c in operation.changes]
            assert actions[-1] is Action.PRODUCT_MODEL_REMOVED and all(a.is_removal for a in actions)
            assert not operation.unitary
            cascades += Action.PRODUCT_REMOVED in actions
    assert cascades >= 1 and models


def test_catalog_size_stays_near_its_start_over_a_long_run() -> None:
    activity = Activity.from_seed(13, start=START)
    start = activity.catalog.product_count
    for _ in itertools.islice(activity.operations(), 2000):
        pass
    assert 0.4 * start <= activity.catalog.product_count <= 2.5 * start


# ------------------------------------------------------------------ misuse


def test_misuse_is_reported_with_the_fix() -> None:
    catalog = Catalog(1, profile="7.0")
    with pytest.raises(UsageError, match="differs from the catalog"):
        Activity(catalog, rng=random.Random(1), start=START, profile="saas")
    uuid_catalog = Catalog(1, profile="7.0", uuid_mode=True)
    assert Activity(uuid_catalog, rng=random.Random(1), start=START, profile="7.0").profile.uuid_mode
    with pytest.raises(UsageError, match="unknown operation kind 'dance'"):
        Activity(catalog, rng=random.Random(1), start=START, mix={"dance": 1.0})
    with pytest.raises(UsageError, match="not all zero"):
        Activity(catalog, rng=random.Random(1), start=START, mix={"ui_edit": 0.0})
    with pytest.raises(UsageError, match="at least one UI user"):
        Activity(catalog, rng=random.Random(1), start=START, users=())
    with pytest.raises(UsageError, match="events must be zero or more"):
        generate_activity(rng=1, events=-1, start=START)


# ------------------------------------------------------------------ payloads validate against the schemas

schemas = pytest.importorskip("akeneo_events_testkit.schemas")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1), mode=st.sampled_from(MODES))
def test_generated_snapshots_validate_against_the_schemas(seed: int, mode: tuple[str, bool | None]) -> None:
    profile, uuid_mode = mode
    activity = Activity.from_seed(seed, start=START, profile=profile, uuid_mode=uuid_mode, products=8,
                                  product_models=2)
    for operation in itertools.islice(activity.operations(), 40):
        events = [{
            "action": c.action.value, "event_id": c.event_id, "event_datetime": format_event_datetime(c.epoch),
            "author": operation.author, "author_type": operation.author_type.value,
            "pim_source": activity.pim_source, "data": {"resource": c.snapshot},
        } for c in operation.changes]
        for index in range(0, len(events), MAX_BATCH_SIZE):
            document = {"events": events[index:index + MAX_BATCH_SIZE]}
            issues = schemas.validate_payload(document, profile=activity.profile, uuid_mode=uuid_mode, strict=True)
            assert issues == [], [str(i) for i in issues[:5]]
