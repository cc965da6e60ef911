"""Hypothesis strategies for both wire profiles, in one namespace (implementation in ``_internal/``).

Events API (events-api-facts.md sections 2 and 4): :func:`events`, :func:`deliveries`, :func:`workloads`,
:func:`delivery_schedules`, :func:`fault_plans`. Event Platform (event-platform-facts.md sections 1, 2 and
4): :func:`cloud_events` and :func:`ep_requests`::

    from hypothesis import given
    from akeneo_events_testkit import strategies as aes

    @given(aes.deliveries(secret="s3cret"))
    def test_receiver_accepts_any_genuine_delivery(delivery): ...
"""

from __future__ import annotations

from ..errors import InvalidStrategyArgument
from ._internal.event_platform import EpRequest, cloud_events, ep_requests
from ._internal.events_api import (
    AUTHORS,
    DEFAULT_SECRET,
    DEFAULT_START,
    Schedule,
    ScheduledDelivery,
    deliveries,
    delivery_schedules,
    events,
    fault_plans,
    workloads,
)

__all__ = [
    "AUTHORS",
    "DEFAULT_SECRET",
    "DEFAULT_START",
    "EpRequest",
    "InvalidStrategyArgument",
    "Schedule",
    "ScheduledDelivery",
    "cloud_events",
    "deliveries",
    "delivery_schedules",
    "ep_requests",
    "events",
    "fault_plans",
    "workloads",
]
