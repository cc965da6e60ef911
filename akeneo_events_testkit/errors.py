"""Errors raised when the kit itself is misused.

Misuse of the kit (a bad option, an unknown profile, an unreadable file) raises one of these. Each is a
subclass of a builtin so that ``except ValueError`` keeps working, and every message names the fix.
A receiver that misbehaves raises :mod:`akeneo_events_testkit.failures` instead.
"""

from __future__ import annotations

__all__ = [
    "EncodingError",
    "InvalidFaultSpec",
    "InvalidPayload",
    "KitError",
    "ReceiverUnreachable",
    "UnknownProfile",
    "UsageError",
]


class KitError(Exception):
    """Base class of every error the kit raises for its own misuse."""


class UsageError(KitError, ValueError):
    """An argument or option has a value the kit cannot use; the message names the fix."""


class UnknownProfile(UsageError):
    """A wire profile name that the kit does not know."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        super().__init__(f"unknown profile {name!r}: use one of {', '.join(known)}")


class InvalidFaultSpec(UsageError):
    """A fault specification or fault plan that cannot be parsed."""


class EncodingError(KitError, TypeError):
    """A value that PHP's ``json_encode`` could not encode the way the PIM does."""


class InvalidPayload(KitError, ValueError):
    """A document that is not an Events API payload (not JSON, not UTF-8, wrong shape, too big)."""


class ReceiverUnreachable(KitError, ConnectionError):
    """The receiver under test cannot be reached at all (nothing answers at its URL)."""
