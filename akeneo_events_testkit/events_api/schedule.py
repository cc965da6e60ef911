"""Planned requests and send orders: what the fault stage reorders, duplicates, drops and delays."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..world.activity import Change
from .batching import Message

__all__ = [
    "Planned",
    "SendOrder",
]


@dataclass(frozen=True)
class Planned:
    """A request the PIM intends to send: one message for one subscription."""

    seq: int
    message: Message
    subscription: int
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class SendOrder:
    """What to actually send: the changes (maybe reordered or thinned) and the faults applied.

    ``replay_of`` names an earlier order whose exact bytes, headers included, are sent again.
    """

    planned: Planned
    changes: tuple[Change, ...]
    faults: tuple[str, ...] = ()
    replay_of: int | None = None
    order_id: int = 0
    keep_bytes: bool = False  # a later order replays these exact bytes
    #: build (data read, body encoded, signed) now, send nothing: a later ``replay_of`` order sends it
    build_only: bool = False


Scheduler = Callable[[Iterator[Planned]], Iterator[SendOrder]]


def no_faults(planned: Iterator[Planned]) -> Iterator[SendOrder]:
    """Deliver everything once, in order."""
    for item in planned:
        yield SendOrder(item, item.changes, order_id=item.seq)
