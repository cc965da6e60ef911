"""``validate``, ``sign`` and ``verify``: commands on one payload's bytes, for both wire profiles."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, TextIO

from ..errors import UsageError
from .common import read_input, secret_of

if TYPE_CHECKING:
    from ..judging.profile import WireProfile

__all__ = ["cmd_sign", "cmd_validate", "cmd_verify"]


def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    """One line per error and per warning; a file is ``ok`` when it has no error (warnings: unknown keys and a
    ``dataschema`` of another type, Event Platform only; errors under ``--strict``)."""
    from ..schemas import check_bytes

    status = 0
    for name in args.files:
        data = read_input(name)
        result = check_bytes(data, profile=args.profile, uuid_mode=args.uuid_mode, strict=args.strict)
        for issue in result.errors:
            out.write(f"{name}: {issue}\n")
        for issue in result.warnings:
            out.write(f"{name}: warning: {issue}\n")
        if result.errors:
            status = 1
        else:
            out.write(f"{name}: ok\n")
    return status


def _signing_timestamp(args: argparse.Namespace, profile: WireProfile) -> str | None:
    """Events API: ``--timestamp`` is required; Event Platform: none is signed (event-platform-facts.md
    section 2: the signature covers the raw body alone)."""
    if not profile.signs_timestamp:
        if args.timestamp is not None:
            raise UsageError(f"the {profile.label} signs the raw body alone: drop --timestamp")
        return None
    if args.timestamp is None:
        raise UsageError("pass --timestamp: the X-Akeneo-Request-Timestamp the body was (or is to be) sent with "
                         "(or --profile event-platform, which signs the body alone)")
    return str(args.timestamp)


def cmd_sign(args: argparse.Namespace, out: TextIO) -> int:
    from ..profiles import resolve

    profile = resolve(args.profile).wire
    secret = secret_of(args)
    assert secret is not None
    timestamp = _signing_timestamp(args, profile)
    out.write(profile.sign(secret, read_input(args.file), timestamp=timestamp) + "\n")
    return 0


def cmd_verify(args: argparse.Namespace, out: TextIO) -> int:
    from ..profiles import resolve

    profile = resolve(args.profile).wire
    secret = secret_of(args)
    assert secret is not None
    timestamp = _signing_timestamp(args, profile)
    if profile.verify(secret, read_input(args.file), args.signature, timestamp=timestamp):
        out.write("ok: the signature matches\n")
        return 0
    what = "body, timestamp and secret" if profile.signs_timestamp else "body and secret"
    out.write(f"mismatch: the signature does not match this {what}\n")
    return 1
