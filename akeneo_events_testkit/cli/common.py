"""What every ``akeneo-events`` command shares: the parser class, argument types, inputs, the secret, and
the one rule that refuses an option of the other wire profile."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timezone
from typing import TYPE_CHECKING, NoReturn

from ..credentials import SECRET_ENV
from ..errors import UsageError

if TYPE_CHECKING:
    from ..judging.profile import WireProfile

__all__ = ["MAX_FILE", "SECRET_ENV", "Parser", "flag", "read_input", "refuse_foreign", "secret_of", "start_time"]

MAX_FILE = 10 * 1024 * 1024
#: the share of updates the Event Platform sends as deltas unless told otherwise (EpCampaignConfig.delta)
DEFAULT_DELTA = 0.3


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors exit 2 with the usage line, as argparse does, on stderr."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def profile_name(value: str) -> str:
    """A profile name as typed (``--profile``): a PIM version or ``event-platform``, canonical."""
    from ..profiles import resolve

    try:
        return resolve(value).name
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def non_negative(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative: pass 0 or more")
    return number


def positive(value: str) -> int:
    number = non_negative(value)
    if number == 0:
        raise argparse.ArgumentTypeError("pass 1 or more")
    return number


def timestamp(value: str) -> str:
    if not (value.isascii() and value.isdigit()):
        raise argparse.ArgumentTypeError(f"{value!r} is not a Unix timestamp (decimal seconds, e.g. 1577836800)")
    return value


def ratio(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 <= number <= 1:
        raise argparse.ArgumentTypeError(f"{value!r}: write a ratio between 0 and 1, e.g. 0.3")
    return number


def start_time(value: str) -> int:
    """``--start``: Unix seconds, or an ISO 8601 time (UTC when it names no offset)."""
    if value.isascii() and value.isdigit():
        return int(value)
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: write Unix seconds or an ISO 8601 time such as "
                                         "2026-01-01T00:00:00+00:00") from None
    return int((when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp())


def read_input(name: str) -> bytes:
    """The file's exact bytes (``-`` is standard input); unreadable files are usage errors."""
    try:
        if name == "-":
            data = sys.stdin.buffer.read(MAX_FILE + 1)
        else:
            with open(name, "rb") as handle:
                data = handle.read(MAX_FILE + 1)
    except OSError as exc:
        raise UsageError(f"{name}: cannot read: {exc.strerror or exc}") from None
    return data


def secret_of(args: argparse.Namespace, *, required: bool = True) -> str | None:
    """``--secret``, else ``$AKENEO_EVENTS_SECRET``; a usage error when required and neither is set."""
    secret = args.secret or os.environ.get(SECRET_ENV)
    if required and not secret:
        raise UsageError(f"pass --secret or set {SECRET_ENV}")
    return secret or None


def flag(name: str) -> str:
    """An option name as typed on the command line: ``uuid_mode`` -> ``--uuid-mode``."""
    return "--" + name.replace("_", "-")


def refuse_foreign(profile: WireProfile, args: argparse.Namespace) -> None:
    """Refuse every option given on the command line that belongs to another wire profile (one message
    style: ``--delta, --rotation: Event Platform only (not the Events API), add --profile event-platform``)."""
    from ..profiles import foreign_options, refuse_foreign_options

    given = [name for name in foreign_options(profile) if getattr(args, name, None) not in (None, False)]
    refuse_foreign_options(profile, given, spell=flag, select=lambda other: f"add --profile {other.selector}")
