"""The observation contract: what a receiver says it did, read, settled and checked."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ..errors import InvalidObservation, KitError, ReceiverUnreachable, UsageError

__all__ = [
    "Observation",
    "fetch_observation",
    "observation_reader",
    "parse_observation",
    "settle_observation",
]


@dataclass(frozen=True)
class ResourceState:
    event_id: str
    removed: bool
    has_data: bool = False
    data: Any = None


@dataclass(frozen=True)
class Observation:
    """What the receiver says it did: every application in order, and the current event per resource."""

    applied: tuple[str, ...]
    resources: Mapping[str, ResourceState]


def parse_observation(data: Any) -> Observation:
    """Check ``data`` against the observation contract; raises :class:`InvalidObservation`."""
    if not isinstance(data, Mapping):
        raise InvalidObservation(f'the observation must be a JSON object {{"applied": [...], "resources": {{...}}}}, '
                                 f"got {type(data).__name__}")
    applied = data.get("applied")
    resources = data.get("resources", {})
    if not isinstance(applied, list) or not all(isinstance(item, str) for item in applied):
        raise InvalidObservation('"applied" must be a list of event_id strings')
    if not isinstance(resources, Mapping):
        raise InvalidObservation('"resources" must be an object keyed by resource key')
    states: dict[str, ResourceState] = {}
    for key, value in resources.items():
        if not isinstance(value, Mapping) or not isinstance(value.get("event_id"), str):
            raise InvalidObservation(f'resources[{key!r}] must be {{"event_id": str, "removed": bool}}')
        removed = value.get("removed", False)
        if not isinstance(removed, bool):
            raise InvalidObservation(f'resources[{key!r}].removed must be true or false')
        data = value.get("data")
        if "data" in value and data is not None and not isinstance(data, Mapping):
            raise InvalidObservation(f"resources[{key!r}].data must be the resource object the receiver holds")
        states[str(key)] = ResourceState(value["event_id"], removed, "data" in value, data)
    return Observation(tuple(applied), states)


ObservationSource = Callable[[], Any]


def fetch_observation(state_url: str, *, timeout: float = 5.0) -> Any:
    """GET the observation; unreachable or garbage answers are tool errors naming the contract."""
    try:
        response = httpx.get(state_url, timeout=timeout, trust_env=False)
    except httpx.HTTPError as exc:
        raise ReceiverUnreachable(f"cannot read the observation at {state_url}: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise KitError(f"the state URL {state_url} answered HTTP {response.status_code}; it must answer 200 "
                       "with the observation JSON (see README: observation contract)")
    try:
        return response.json()
    except ValueError:
        raise KitError(f"the state URL {state_url} did not answer JSON; see README: observation contract") from None


def observation_reader(observe: ObservationSource | None, state_url: str | None) -> ObservationSource:
    """``observe`` itself, else a source that GETs ``state_url``; neither is a usage error naming the fix."""
    if observe is not None:
        return observe
    if state_url is None:
        raise UsageError("pass --state-url: the URL where the receiver serves its observation "
                         "(see README: observation contract)")
    url = state_url
    return lambda: fetch_observation(url)


def settle_observation(read: ObservationSource, timeout: float, clock_sleep: Callable[[float], None]) -> Any:
    """Read the observation until two reads in a row agree (asynchronous receivers), bounded in time."""
    deadline = time.monotonic() + timeout
    previous = read()
    while time.monotonic() < deadline:
        clock_sleep(0.05)
        current = read()
        if current == previous:
            return current
        previous = current
    return previous
