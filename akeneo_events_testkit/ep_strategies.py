"""A thin alias of the Event Platform strategies, now in :mod:`akeneo_events_testkit.strategies`.

Kept so that ``from akeneo_events_testkit import ep_strategies as aeps`` goes on working.
"""

from __future__ import annotations

from .strategies import EpRequest, cloud_events, ep_requests

__all__ = ["EpRequest", "cloud_events", "ep_requests"]
