"""Hypothesis strategies for the Events API: events, signed deliveries, workloads, fault plans, schedules.

:func:`events` and :func:`deliveries` are written here; :func:`workloads` lives in :mod:`.workloads`,
:func:`fault_plans` and :func:`delivery_schedules` in :mod:`.schedules`, and all are re-exported.

Import the module to use it; importing it also registers :func:`events` and :func:`deliveries` for
``st.from_type(Event)`` and ``st.from_type(Delivery)``::

    from hypothesis import given
    from akeneo_events_testkit import strategies as aks

    @given(aks.deliveries(profile="6.0", secret="s3cret"))
    def test_receiver_accepts_any_genuine_request(delivery): ...

Payloads are written by hand from events-api-facts.md sections 4 and 7 (value formats, key order, UUID
modes); the JSON Schemas check them and never generate them. The API follows Hypothesis's house style:
plural nouns, keyword-only arguments, strategies where values vary, and misuse raises
:class:`~hypothesis.errors.InvalidArgument` when the strategy is made, not when it is drawn from.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from ...events_api.wire import MAX_BATCH_SIZE, Delivery, Event
from ...versions import Action, AuthorType, PimVersion, format_event_datetime
from ...world.catalog import DEFAULT_PIM_URL
from .common import (
    AUTHORS,
    DEFAULT_SECRET,
    DEFAULT_START,
    as_action,
    check_secret,
    check_strategy,
    fail,
    resolve_profile,
    uuid_modes,
)
from .payloads import codes, draw_resource, stable_uuid4, uuid4s
from .schedules import Schedule, ScheduledDelivery, delivery_schedules, fault_plans
from .workloads import ResourceHistory, Slot, operation_kind, workloads

# Workloads and schedules live in their own modules; re-exported so that this module keeps offering them.
__all__ = [
    "AUTHORS",
    "DEFAULT_SECRET",
    "DEFAULT_START",
    "ResourceHistory",
    "Schedule",
    "ScheduledDelivery",
    "Slot",
    "deliveries",
    "delivery_schedules",
    "events",
    "fault_plans",
    "operation_kind",
    "workloads",
]

_PIM_SOURCES = (DEFAULT_PIM_URL, "https://pim.example.com", "https://acme.cloud.akeneo.com")
_OFFSETS = (0, 60, 120, -300, 330)
_BUFFERS: tuple[tuple[Action, ...], ...] = (
    (Action.PRODUCT_CREATED, Action.PRODUCT_UPDATED), (Action.PRODUCT_REMOVED,),
    (Action.PRODUCT_MODEL_CREATED, Action.PRODUCT_MODEL_UPDATED), (Action.PRODUCT_MODEL_REMOVED,),
)


def _utc_offset(moment: object) -> int:
    if not isinstance(moment, datetime):
        fail(f"event_datetimes must generate datetimes, got {moment!r}")
    offset = moment.utcoffset()
    if offset is None:
        fail(f"event_datetimes must generate aware datetimes, got naive {moment!r}: "
              "use st.datetimes(timezones=st.just(timezone.utc))")
    minutes = int(offset.total_seconds()) // 60
    if abs(minutes) >= 15 * 60 or not 1000 <= moment.year <= 9999:
        fail(f"event_datetimes generated {moment!r}: the PIM writes years 1000-9999 and offsets within ±14:59")
    return minutes


def _draw_event(draw: st.DrawFn, *, profile: PimVersion, mode: bool, action: Action, code: str, author: str,
                author_type: AuthorType, moment: datetime, pim_source: str, event_id: str) -> Event:
    offset = _utc_offset(moment)
    epoch = int(moment.timestamp())
    resource = draw_resource(draw, action, profile, mode, code, epoch, offset, pim_source)
    return Event(action, event_id, format_event_datetime(epoch, offset), author, author_type, pim_source,
                 {"resource": resource})


_datetimes = st.datetimes(min_value=datetime(2021, 1, 1), max_value=datetime(2026, 12, 31),
                          timezones=st.sampled_from([timezone(timedelta(minutes=m)) for m in _OFFSETS]))
_authors = st.sampled_from(sorted(AUTHORS.items()))


def events(
    *,
    profile: str | PimVersion = "saas",
    uuid_mode: bool | None = None,
    actions: SearchStrategy[Action] | None = None,
    identifiers: SearchStrategy[str] | None = None,
    authors: SearchStrategy[tuple[str, AuthorType]] | None = None,
    event_datetimes: SearchStrategy[datetime] | None = None,
    pim_sources: SearchStrategy[str] | None = None,
) -> SearchStrategy[Event]:
    """Events as the PIM of ``profile`` sends them, each valid against that profile's schema.

    ``data.resource`` is a small product, product model or removal payload (facts sections 4 and 7):
    4-decimal number strings, metrics with a unit (and a ``symbol`` in SaaS), 2-decimal prices, PHP ``'c'``
    dates, media with an absolute ``_links`` href, and sometimes non-ASCII text. ``identifiers`` draws the
    product identifier or model code; the same identifier always gets the same product ``uuid``, so a small
    set of identifiers yields several events about one resource. ``authors`` draws ``(name, AuthorType)``;
    ``event_datetimes`` draws aware datetimes (the offset is kept, facts section 4). ``uuid_mode=None``
    draws either mode on 7.0 and SaaS.
    """
    resolved = resolve_profile(profile, uuid_mode)
    for name, value in (("actions", actions), ("identifiers", identifiers), ("authors", authors),
                        ("event_datetimes", event_datetimes), ("pim_sources", pim_sources)):
        if value is not None:
            check_strategy(name, value)
    modes = uuid_modes(resolved, uuid_mode)
    drawn_actions = actions if actions is not None else st.sampled_from(list(Action))
    drawn_codes = identifiers if identifiers is not None else codes
    drawn_authors = authors if authors is not None else _authors
    moments = event_datetimes if event_datetimes is not None else _datetimes
    sources = pim_sources if pim_sources is not None else st.sampled_from(_PIM_SOURCES)

    @st.composite
    def build(draw: st.DrawFn) -> Event:
        action = as_action(draw(drawn_actions))
        code, (author, author_type) = draw(drawn_codes), draw(drawn_authors)
        if not isinstance(code, str) or not code:
            fail(f"identifiers generated {code!r}: generate non-empty strings")
        if not isinstance(author, str) or not author:
            fail(f"authors generated {author!r}: generate (non-empty name, AuthorType) pairs")
        return _draw_event(draw, profile=resolved, mode=draw(modes), action=action, code=code, author=author,
                           author_type=AuthorType(author_type), moment=draw(moments), pim_source=draw(sources),
                           event_id=draw(uuid4s))

    return build()


_batch_sizes, _steps, _lags = st.integers(1, MAX_BATCH_SIZE), st.integers(0, 2), st.integers(0, 30)
_buffers = st.sampled_from([st.sampled_from(kinds) for kinds in _BUFFERS])
_pim_sources = st.sampled_from(_PIM_SOURCES)


@st.composite
def _batches(draw: st.DrawFn, profile: PimVersion, modes: SearchStrategy[bool]) -> list[Event]:
    """One message's events: one buffer kind, one author, save order, unique ids (facts section 4)."""
    actions, mode = draw(_buffers), draw(modes)
    author, author_type = draw(_authors)
    moment, pim_source = draw(_datetimes), draw(_pim_sources)
    batch: list[Event] = []
    for index in range(draw(_batch_sizes)):
        moment += timedelta(seconds=draw(_steps))
        event_id = draw(uuid4s)
        if any(event.event_id == event_id for event in batch):
            event_id = stable_uuid4("batch", event_id, index)
        batch.append(_draw_event(draw, profile=profile, mode=mode, action=draw(actions),
                                 code=draw(codes), author=author, author_type=author_type, moment=moment,
                                 pim_source=pim_source, event_id=event_id))
    return batch


def deliveries(
    *,
    events: SearchStrategy[Sequence[Event]] | None = None,
    secret: str = DEFAULT_SECRET,
    timestamps: SearchStrategy[int] | None = None,
    profile: str | PimVersion = "saas",
    uuid_mode: bool | None = None,
) -> SearchStrategy[Delivery]:
    """Signed requests of 1 to 10 events, encoded and signed as the PIM does (``Delivery.build``).

    By default a batch is what one PIM message holds: one buffer kind, one author, save order (facts
    section 4). ``events`` draws the event lists instead; ``timestamps`` the signing time, by default a
    few seconds after the newest event (the PIM signs at send time, facts section 2).
    """
    resolved = resolve_profile(profile, uuid_mode)
    secret = check_secret(secret)
    if events is not None:
        check_strategy("events", events)
    if timestamps is not None:
        check_strategy("timestamps", timestamps)
    batches = events if events is not None else _batches(resolved, uuid_modes(resolved, uuid_mode))

    @st.composite
    def build(draw: st.DrawFn) -> Delivery:
        batch = list(draw(batches))
        if not 1 <= len(batch) <= MAX_BATCH_SIZE or not all(isinstance(e, Event) for e in batch):
            fail(f"events must generate lists of 1 to {MAX_BATCH_SIZE} Event objects, got {batch!r:.200}")
        newest = max(int(event.epoch) for event in batch)
        timestamp = draw(timestamps) if timestamps is not None else newest + draw(_lags)
        return Delivery.build(batch, secret=secret, timestamp=timestamp, profile=resolved)

    return build()


st.register_type_strategy(Event, events())
st.register_type_strategy(Delivery, deliveries())
