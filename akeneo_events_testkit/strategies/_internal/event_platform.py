"""Hypothesis strategies for the Event Platform: CloudEvents and the signed requests that carry them.

The Event Platform's counterpart of :mod:`.strategies` (event-platform-facts.md sections 1, 2 and 4)::

    from hypothesis import given
    from akeneo_events_testkit import ep_strategies as aeps

    @given(aeps.ep_requests(secret="s3cret"))
    def test_receiver_accepts_any_genuine_event(request): ...

Each CloudEvent is valid against the kit's ``event-platform`` schemas: a product or product model event
with thin data (``product.uuid``, ``product_model.code``), an author, and for ``*.updated.delta`` the
``changes`` between two drawn states, each value in the shape the platform gives its attribute type.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from ...errors import UsageError
from ...event_platform.delta import delta_changes
from ...event_platform.signing import EpSecrets, ep_headers
from ...event_platform.wire import DEFAULT_SOURCE, CloudEvent, cloud_event, structure_cloud_event, subscribed_types
from ...versions import Action, AuthorType, get_profile
from ...world.structure_activity import StructureChange, job_state, structure_data, structure_key
from .common import AUTHORS, DEFAULT_SECRET, DEFAULT_START, as_action, check_strategy, fail
from .payloads import codes, draw_resource, uuid4s

__all__ = ["EpRequest", "cloud_events", "ep_requests"]

#: The types of the attributes :mod:`._payloads` draws values for, so that deltas take their shapes.
ATTRIBUTE_TYPES = {
    "name": "pim_catalog_text", "description": "pim_catalog_textarea", "weight": "pim_catalog_metric",
    "price": "pim_catalog_price_collection", "color": "pim_catalog_simpleselect",
    "materials": "pim_catalog_multiselect", "waterproof": "pim_catalog_boolean", "release_date": "pim_catalog_date",
    "picture": "pim_catalog_image", "stock": "pim_catalog_number", "ratio": "pim_catalog_number",
}
_UPDATES = frozenset({Action.PRODUCT_UPDATED, Action.PRODUCT_MODEL_UPDATED})
_SAAS = get_profile("saas", uuid_mode=True)
_YEAR = 365 * 86_400


@dataclass(frozen=True)
class EpRequest:
    """One POST as the platform sends it: the raw body and its headers (signatures, algorithm)."""

    event: CloudEvent
    body: bytes
    headers: tuple[tuple[str, str], ...]


def _changes(draw: st.DrawFn, action: Action, code: str, epoch: int) -> dict[str, object]:
    """The ``changes`` between two drawn states of one resource; never empty (the platform sends no empty
    delta)."""
    entity = Action.PRODUCT_UPDATED if action is Action.PRODUCT_UPDATED else Action.PRODUCT_MODEL_UPDATED
    before = draw_resource(draw, entity, _SAAS, True, code, epoch - 60, 0, "https://pim.test")
    after = draw_resource(draw, entity, _SAAS, True, code, epoch, 0, "https://pim.test")
    changes = delta_changes(before, after, attribute_types=ATTRIBUTE_TYPES, main_identifier="sku")
    if not changes:
        name = "enabled" if action is Action.PRODUCT_UPDATED else "parent"
        changes = {name: {"previous": True, "new": False} if name == "enabled" else {"previous": None, "new": code}}
    return changes


def cloud_events(
    *,
    actions: SearchStrategy[Action] | None = None,
    deltas: SearchStrategy[bool] | None = None,
    uuids: SearchStrategy[str] | None = None,
    authors: SearchStrategy[tuple[str, AuthorType]] | None = None,
    epochs: SearchStrategy[int] | None = None,
    subscription_ids: SearchStrategy[str] | None = None,
    sources: SearchStrategy[str] | None = None,
    types: str | Sequence[str] | None = None,
) -> SearchStrategy[CloudEvent]:
    """CloudEvents of product and product model changes, each valid against the ``event-platform`` schemas.

    ``actions`` draws the change (created, updated, removed for products and product models); ``deltas``
    whether an update is sent as ``*.updated.delta`` (default: either); ``uuids`` the product uuid (a small
    set gives several events about one product); ``authors`` ``(name, AuthorType)`` pairs (``api`` authors
    are client ids, the ones a receiver must drop when they are its own, section 6); ``epochs`` the event
    ``time`` in Unix seconds (second precision, section 1). ``types`` (shell patterns, as ``--types``:
    ``"*"``, ``"category.*,job.*"``) draws among those types instead, the catalog structure and job status
    changes included (section 4); ``actions`` then does not apply, ``deltas`` still does.
    """
    chosen: list[str] | None = None
    if types is not None:
        try:
            chosen = sorted(subscribed_types(types))
        except UsageError as exc:
            fail(str(exc).replace("--types", "types"))
    for name, value in (("actions", actions), ("deltas", deltas), ("uuids", uuids), ("authors", authors),
                        ("epochs", epochs), ("subscription_ids", subscription_ids), ("sources", sources)):
        if value is not None:
            check_strategy(name, value)
    drawn_actions = actions if actions is not None else st.sampled_from(list(Action))
    drawn_deltas = deltas if deltas is not None else st.booleans()
    drawn_uuids = uuids if uuids is not None else uuid4s
    drawn_authors = authors if authors is not None else st.sampled_from(sorted(AUTHORS.items()))
    drawn_epochs = epochs if epochs is not None else st.integers(DEFAULT_START, DEFAULT_START + _YEAR)
    drawn_subscriptions = subscription_ids if subscription_ids is not None else st.just("01J0000000000000000000SUB1")
    drawn_sources = sources if sources is not None else st.just(DEFAULT_SOURCE)

    @st.composite
    def build(draw: st.DrawFn) -> CloudEvent:
        if chosen is not None:
            kind = draw(st.sampled_from(chosen))
            if kind not in _ACTION_OF:
                return _structure_event(draw, kind, drawn_authors, drawn_epochs, drawn_subscriptions, drawn_sources)
            action = _ACTION_OF[kind]
            delta = kind.endswith(".delta")
        else:
            action = as_action(draw(drawn_actions))
            delta = action in _UPDATES and draw(drawn_deltas)
        uuid, code, (author, author_type) = draw(drawn_uuids), draw(codes), draw(drawn_authors)
        epoch = draw(drawn_epochs)
        if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
            fail(f"epochs generated {epoch!r}: generate Unix seconds (ints >= 0)")
        if not isinstance(author, str) or not author:
            fail(f"authors generated {author!r}: generate (non-empty name, AuthorType) pairs")
        changes = _changes(draw, action, code, epoch) if delta else None
        return cloud_event(action=action, resource={"uuid": str(uuid), "code": code}, epoch=epoch, author=author,
                           author_type=AuthorType(author_type), rng=random.Random(draw(st.integers(0, 2**64))),
                           subscription_id=draw(drawn_subscriptions), source=draw(drawn_sources), changes=changes)

    return build()


#: the product action of each product type name (``product.updated.delta`` is an update sent as a delta)
_ACTION_OF = {f"{entity}.{verb}": action for action, (entity, verb) in (
    (Action.PRODUCT_CREATED, ("product", "created")), (Action.PRODUCT_UPDATED, ("product", "updated")),
    (Action.PRODUCT_REMOVED, ("product", "deleted")), (Action.PRODUCT_MODEL_CREATED, ("product-model", "created")),
    (Action.PRODUCT_MODEL_UPDATED, ("product-model", "updated")),
    (Action.PRODUCT_MODEL_REMOVED, ("product-model", "deleted")))}
_ACTION_OF.update({f"{name}.delta": action for name, action in list(_ACTION_OF.items()) if name.endswith(".updated")})


def _structure_event(draw: st.DrawFn, kind: str, authors: SearchStrategy[tuple[str, AuthorType]],
                     epochs: SearchStrategy[int], subscriptions: SearchStrategy[str],
                     sources: SearchStrategy[str]) -> CloudEvent:
    """One structure or job event of type ``kind`` about a drawn resource (facts section 4)."""
    entity, verb = kind.split(".", 1)
    epoch = draw(epochs)
    author, author_type = draw(authors)
    if entity == "job":
        status = draw(st.sampled_from(("starting", "in_progress", "completed", "failed")))
        execution = draw(st.integers(1, 10**6))
        state = job_state(execution, verb.split(".")[0], status, epoch,
                          epoch if status in ("completed", "failed") else None)
        change = StructureChange(kind, f"job:{execution}", epoch, {"job": state}, state, author,
                                 AuthorType(author_type))
    else:
        owner = f"{draw(codes)}:" if entity in ("attribute-option", "asset", "reference-entity-record") else ""
        data = structure_data(entity, f"{entity}:{owner}{draw(codes)}")
        key = structure_key(entity, data)
        assert key is not None  # structure_data always names the resource
        change = StructureChange(kind, key, epoch, data, None, author, AuthorType(author_type))
    return structure_cloud_event(change, rng=random.Random(draw(st.integers(0, 2**64))),
                                 subscription_id=draw(subscriptions), source=draw(sources))


def ep_requests(
    *,
    secret: str = DEFAULT_SECRET,
    secondary: str | None = None,
    custom_headers: Sequence[tuple[str, str]] = (),
    events: SearchStrategy[CloudEvent] | None = None,
) -> SearchStrategy[EpRequest]:
    """Requests as the platform sends them: one CloudEvent (from ``events``, default :func:`cloud_events`)
    signed with ``secret`` as the primary secret and ``secondary`` (during a rotation), custom headers
    added after signing (sections 1 and 2)."""
    if not isinstance(secret, str) or not secret:
        fail("secret must be a non-empty str: the one the receiver under test is configured with")
    if secondary is not None and (not isinstance(secondary, str) or not secondary):
        fail("secondary must be None or a non-empty str: the old secret during a rotation")
    if events is not None:
        check_strategy("events", events)
    secrets = EpSecrets(secret, secondary)
    custom = tuple(custom_headers)
    try:
        ep_headers(b"", secrets, custom=custom)
    except ValueError as exc:
        fail(f"custom_headers: {exc}")
    source = events if events is not None else cloud_events()
    return source.map(lambda event: EpRequest(event, event.raw, ep_headers(event.raw, secrets, custom=custom)))
