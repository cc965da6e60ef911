"""Group saves into messages the way the PIM's producers do (events-api-facts.md section 4).

* A ``unitary`` save (a UI edit, a single API call) is a 1-event message.
* ``saveAll`` (API bulk PATCH, imports, mass edits) buffers events and flushes at 10 or at the end.
* Buffers are kept per kind: product upserts, product removals, product-model upserts, product-model
  removals. A message never mixes products with models, nor removals with upserts.
* Every event of a message comes from one operation and author, in save order.
* Each message then goes to every active subscription (at most 3), minus the connection's own events
  (facts section 5).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..versions import AuthorType
from ..world.activity import Change, Operation
from .wire import MAX_BATCH_SIZE

__all__ = ["MAX_SUBSCRIPTIONS", "Message", "batch_operations", "filter_own_events"]

#: ``webhook_active_event_subscriptions_limit`` (facts section 1).
MAX_SUBSCRIPTIONS = 3


@dataclass(frozen=True)
class Message:
    """One Pub/Sub message of the PIM: up to 10 changes of one kind from one operation."""

    seq: int
    operation: int
    buffer: str
    author: str
    author_type: AuthorType
    changes: tuple[Change, ...]


def batch_operations(operations: Iterable[Operation], *, max_size: int = MAX_BATCH_SIZE) -> Iterator[Message]:
    """Messages in the order the PIM publishes them, numbered from 0."""
    seq = 0
    for operation in operations:
        if operation.unitary:
            for change in operation.changes:
                yield Message(seq, operation.seq, change.action.buffer, operation.author,
                              operation.author_type, (change,))
                seq += 1
            continue
        buffers: dict[str, list[Change]] = {}
        for change in operation.changes:
            buffer = buffers.setdefault(change.action.buffer, [])
            buffer.append(change)
            if len(buffer) == max_size:
                yield Message(seq, operation.seq, change.action.buffer, operation.author,
                              operation.author_type, tuple(buffer))
                seq += 1
                buffer.clear()
        for kind, buffer in buffers.items():
            if buffer:
                yield Message(seq, operation.seq, kind, operation.author, operation.author_type, tuple(buffer))
                seq += 1


def filter_own_events(message: Message, connection_user: str | None) -> tuple[Change, ...]:
    """The changes a subscription receives: none when the connection raised them itself.

    All events of a message share the author, so the filter keeps all or nothing; an empty result means
    no request is sent (facts section 5, ``filterConnectionOwnEvents``).
    """
    if connection_user is not None and message.author == connection_user:
        return ()
    return message.changes
