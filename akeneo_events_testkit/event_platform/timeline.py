"""Every state of every resource over an Event Platform run, as the REST API serves it."""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from typing import Any

from ..world.catalog import Catalog

__all__ = [
    "EpTimeline",
]


class EpTimeline:
    """Every state of every resource over the run's timeline, as the REST API serves it (``track_content``).

    The Event Platform's payloads are thin, so its receivers re-fetch (event-platform-facts.md section 4);
    the mock REST API (:meth:`~akeneo_events_testkit.restapi.RestApi.attach_ep`) answers from this timeline
    at the virtual clock's time, so that a re-fetch during a retry 20 minutes later sees the state of then.
    """

    def __init__(self, pim_url: str) -> None:
        self.pim_url = pim_url
        self._epochs: dict[str, list[int]] = {}
        self._states: dict[str, list[tuple[dict[str, Any] | None, dict[str, Any] | None]]] = {}
        self.identifiers: dict[str, str] = {}

    def record(self, catalog: Catalog, key: str, epoch: int) -> None:
        """The state of ``key`` in ``catalog`` from ``epoch`` on (legacy and UUID-mode payloads)."""
        legacy, uuid = catalog.api_payloads(key)
        if legacy is not None and "identifier" in legacy and key.startswith("product:"):
            self.identifiers[str(legacy["identifier"])] = key
        epochs, states = self._epochs.setdefault(key, []), self._states.setdefault(key, [])
        if epochs and epochs[-1] == epoch:
            states[-1] = (legacy, uuid)
        else:
            epochs.append(epoch)
            states.append((legacy, uuid))

    def record_state(self, key: str, epoch: int, state: Mapping[str, Any] | None) -> None:
        """The REST state of a structure resource (``category:<code>``...) from ``epoch`` on, None once
        deleted; served as is in both modes (only products differ between them)."""
        payload = None if state is None else dict(state)
        epochs, states = self._epochs.setdefault(key, []), self._states.setdefault(key, [])
        if epochs and epochs[-1] == epoch:
            states[-1] = (payload, payload)
        else:
            epochs.append(epoch)
            states.append((payload, payload))

    def at(self, key: str, epoch: float, *, uuid_mode: bool = True) -> dict[str, Any] | None:
        """The payload of ``key`` as of ``epoch``; None when it did not exist yet or was removed."""
        epochs = self._epochs.get(key)
        if not epochs:
            return None
        index = bisect.bisect_right(epochs, epoch) - 1
        if index < 0:
            return None
        legacy, uuid = self._states[key][index]
        return uuid if uuid_mode else legacy

    def keys(self) -> list[str]:
        return list(self._epochs)
