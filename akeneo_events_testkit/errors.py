"""Errors raised when the kit itself is misused: every kit error lives here.

Misuse of the kit (a bad option, an unknown profile, an unreadable file) raises one of these. Each is a
subclass of a builtin so that ``except ValueError`` keeps working, and every message names the fix.
A receiver that misbehaves raises :mod:`akeneo_events_testkit.failures` instead.

The tree::

    KitError (Exception)
    ├── UsageError (ValueError)             an argument or option the kit cannot use
    │   ├── UnknownProfile                  a profile name the kit does not know
    │   ├── InvalidFaultSpec                a fault specification or plan that cannot be parsed
    │   └── InvalidStrategyArgument         a strategy argument (also Hypothesis's InvalidArgument)
    ├── EncodingError (TypeError)           a value PHP's json_encode would not encode like the PIM
    ├── InvalidPayload (ValueError)         not an Events API / Event Platform payload
    ├── InvalidObservation (ValueError)     an observation that breaks the observation contract
    ├── ReceiverUnreachable (ConnectionError)  nothing answers at the receiver's URL
    ├── ReceiverCommandFailed (RuntimeError)   a receiver command that does not start, exits or never listens
    └── StoreError (RuntimeError)           the reference receiver's store cannot be opened or used

``InvalidStrategyArgument`` is built on first use (PEP 562), so that importing this module never imports
Hypothesis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "EncodingError",
    "InvalidFaultSpec",
    "InvalidObservation",
    "InvalidPayload",
    "InvalidStrategyArgument",
    "KitError",
    "ReceiverCommandFailed",
    "ReceiverUnreachable",
    "StoreError",
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


class ReceiverCommandFailed(KitError, RuntimeError):
    """A receiver command the kit runs itself (``--receiver-cmd``) could not be started, exited before it
    listened, or never listened; the message names the command and its last output lines."""

    #: output lines shown at most
    SHOWN = 10

    def __init__(self, command: str, what: str, output: str) -> None:
        self.command = command
        self.output = output
        lines = [line for line in output.splitlines() if line.strip()][-self.SHOWN:]
        shown = ("; its last output lines:\n" + "\n".join(f"  {line}" for line in lines)) if lines \
            else "; it printed nothing"
        super().__init__(f"the receiver command {command!r} {what}{shown}\n(check that the command starts the "
                         "receiver in the foreground on the port given as {port})")


class InvalidObservation(KitError, ValueError):
    """The receiver's observation does not follow the contract (README: observation contract)."""


class StoreError(KitError, RuntimeError):
    """The reference receiver's store failed (disk full, database locked for too long, not a receiver store).

    The receiver answers 503 for it: the only 5xx it ever sends.
    """


if TYPE_CHECKING:
    class InvalidStrategyArgument(UsageError):
        """For type checkers: at run time also a subclass of Hypothesis's ``InvalidArgument``."""


_LAZY: dict[str, type[Exception]] = {}


def __getattr__(name: str) -> Any:
    if name != "InvalidStrategyArgument":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name not in _LAZY:
        from hypothesis.errors import InvalidArgument

        class InvalidStrategyArgument(InvalidArgument, UsageError):
            """A strategy argument the kit cannot use: Hypothesis's ``InvalidArgument`` and a ``UsageError``."""

        InvalidStrategyArgument.__module__ = __name__
        _LAZY[name] = InvalidStrategyArgument
    return _LAZY[name]
