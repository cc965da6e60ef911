"""Content expectations: what a re-fetching receiver may hold for each resource at the end of a run."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ..versions import content_digest
from .observation import Observation

__all__ = [
    "ContentExpectation",
    "content_findings",
]


@dataclass
class ContentExpectation:
    """What a resource may say at the end, for receivers that report their data (re-fetching receivers).

    Set anew by each acknowledged delivery of a newer event; a later delivery of the resource (even of an
    older event, which a re-fetching receiver may answer by reading the API again) adds the state it read.
    ``None`` stands for "absent or removed".
    """

    newest_epoch: float
    digests: set[str | None]
    #: the catalog's identifier attribute, whose value the digests leave out (``sku``, or a catalog file's)
    identifier_attribute: str = "sku"


_MAX_DIGESTS = 64


def note_content(content: dict[str, ContentExpectation], key: str, epoch: float, current: str | None,
                 carried: str | None, *, identifier_attribute: str = "sku") -> None:
    """Update ``content`` for an acknowledged delivery of an event of ``key`` at ``epoch`` (both profiles):
    ``current`` is the digest of the state the PIM served then, ``carried`` of the data the event carried,
    both made with ``identifier_attribute`` (:func:`~akeneo_events_testkit.versions.content_digest`)."""
    expectation = content.get(key)
    if expectation is None or epoch > expectation.newest_epoch:
        content[key] = ContentExpectation(epoch, {current, carried}, identifier_attribute)
    elif len(expectation.digests) < _MAX_DIGESTS:
        expectation.digests.add(current)
        if epoch == expectation.newest_epoch:
            expectation.digests.add(carried)


def content_findings(content: Mapping[str, ContentExpectation], observation: Observation
                     ) -> Iterator[tuple[str, str, str, str, str]]:
    """``(kind, key, message, expected, received)`` for each resource whose reported data is wrong.

    Judged only when the receiver reports data (``"data"`` per resource, README: observation contract):
    what it holds must be one of the states the PIM served while notifying it of the newest event (or of
    a later delivery), or absent when the PIM had removed the resource.
    """
    if not any(state.has_data for state in observation.resources.values()):
        return
    for key, expectation in content.items():
        state = observation.resources.get(key)
        if state is not None and not state.has_data:
            continue
        holds = None if state is None or state.removed else content_digest(
            state.data, identifier_attribute=expectation.identifier_attribute)
        if holds in expectation.digests:
            continue
        if all(d is None for d in expectation.digests):
            yield ("removal_not_propagated", key, f"{key}: removed in the PIM, still held by the receiver",
                   "absent or removed", "present with data")
        else:
            yield ("stale_content", key, f"{key}: the data held is not what the PIM had when it notified",
                   "the resource as served when its newest event was delivered (or later)",
                   "absent" if holds is None else "older or other data")
