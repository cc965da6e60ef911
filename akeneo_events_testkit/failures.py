"""Failures of the receiver under test: what the kit raises when the *receiver* is wrong.

Convention 5: misuse of the kit raises :mod:`errors` (subclasses of builtins such as ``ValueError``); a
receiver that misbehaves raises one of these, subclasses of :class:`AssertionError`, so that pytest reports a
*failed* test (the receiver's fault) rather than an *error* (the test's own set-up went wrong). Each class is
named after the symptom, and its message is the whole failure anatomy (convention 6), secrets redacted.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from .judging.profile import CampaignOutcome
    from .judging.verdict import Verdict

__all__ = ["ReceiverFailure", "ReceiverServerError", "ViolationsFound"]

#: Lines of a server-side traceback shown in a failure; the rest is noise once the cause is visible.
_TRACEBACK_LINES = 40


def _folder(path: str | None) -> str:
    return os.path.normcase(os.path.dirname(os.path.abspath(path or ""))) + os.sep


#: Where frames come from that only carry a request to the receiver: the kit, the event loop, httpx.
_PLUMBING = tuple(_folder(path) for path in (asyncio.__file__, concurrent.futures.__file__, httpx.__file__, __file__))


class ReceiverFailure(AssertionError):
    """Base class of every way a receiver under test can be found wrong."""


class ViolationsFound(ReceiverFailure):
    """The oracle found errors in what the receiver did with the PIM's traffic.

    ``anatomy`` is the rendered report (headline with counts, expected vs received, witness, ``Reproduce
    with:``); ``verdict`` and ``result`` keep the data, for users who want to inspect it in a test.
    """

    def __init__(self, anatomy: str, *, verdict: Verdict, result: CampaignOutcome | None = None
                 ) -> None:
        super().__init__(anatomy)
        self.anatomy = anatomy
        self.verdict = verdict
        self.result = result

    def __str__(self) -> str:
        return self.anatomy


def _plumbing(filename: str) -> bool:
    path = os.path.normcase(os.path.abspath(filename))
    return path.startswith(_PLUMBING)


def describe_exception(exc: BaseException) -> str:
    """The traceback of ``exc`` without the kit's and the event loop's frames, trimmed to its last lines.

    What explains a crash is the receiver's own code; the frames of the transport that called it only push
    those off the screen.
    """
    described = traceback.TracebackException.from_exception(exc)
    own = [frame for frame in described.stack if not _plumbing(frame.filename)]
    if own:
        described.stack = traceback.StackSummary.from_list(own)
    lines = "".join(described.format()).rstrip().splitlines()
    if len(lines) > _TRACEBACK_LINES:
        lines = ["  ...", *lines[-_TRACEBACK_LINES:]]
    return "\n".join(lines)


class ReceiverServerError(ReceiverFailure):
    """Code under test raised inside a server or a worker thread, where no test could see it.

    A crash inside a handler reaches the PIM only as a ``500`` (or a dropped connection); raising this at
    teardown makes the exception itself visible, instead of hiding it behind the status code (the mistake
    described in pytest-httpserver issue #68).
    """

    def __init__(self, where: str, errors: Sequence[BaseException]) -> None:
        self.where = where
        self.errors = list(errors)
        count = len(self.errors)
        head = f"{count} exception(s) raised inside {where}; the PIM only saw HTTP 500 or a broken connection"
        detail = describe_exception(self.errors[0]) if self.errors else ""
        message = head if not detail else f"{head}\n\nFirst exception:\n{detail}"
        if count > 1:
            others = ", ".join(f"{type(e).__name__}: {e}" for e in self.errors[1:6])
            message += f"\n\nOthers: {others}" + (" ..." if count > 6 else "")
        super().__init__(message)
