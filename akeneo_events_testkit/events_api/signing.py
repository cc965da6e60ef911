"""Sign and verify Events API requests (secrets of the PIM's shape are in :mod:`..credentials`).

The PIM signs ``hash_hmac('sha256', "<timestamp>.<raw body>", $secret)``: 64 lowercase hex characters over
the exact bytes sent, with the send time in Unix seconds (events-api-facts.md section 2).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import Enum

from ..clock import Clock, SystemClock

__all__ = [
    "DEFAULT_TOLERANCE",
    "TimestampCheck",
    "TimestampVerdict",
    "check_timestamp",
    "sign",
    "verify_request",
    "verify_signature",
]


#: Seconds a receiver accepts between the request timestamp and its own clock, in both directions.
DEFAULT_TOLERANCE = 300


_HEX = frozenset("0123456789abcdef")


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def sign(secret: str | bytes, timestamp: int | str, body: str | bytes) -> str:
    """The PIM's signature: lowercase hex HMAC-SHA256 of ``"<timestamp>.<body>"`` with ``secret``.

    ``timestamp`` may be the header text; it is signed exactly as given, as the PIM signs its header text.
    """
    message = _as_bytes(str(timestamp)) + b"." + _as_bytes(body)
    return hmac.new(_as_bytes(secret), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str | bytes,
    timestamp: int | str | bytes | None,
    body: str | bytes,
    signature: str | bytes | None,
) -> bool:
    """True if ``signature`` is the PIM's signature of ``body`` at ``timestamp``.

    Never raises on hostile input: a missing, non-ASCII, non-hex, upper-case or wrongly sized signature, or a
    missing timestamp, is simply ``False``. The comparison of well-formed signatures takes constant time.
    The PIM always sends lowercase hex, so upper case is not the PIM's signature.
    """
    if signature is None or timestamp is None or not secret:
        return False
    try:
        sig_text = signature.decode("ascii") if isinstance(signature, bytes) else signature
        ts_text = timestamp.decode("ascii") if isinstance(timestamp, bytes) else str(timestamp)
        if not isinstance(sig_text, str) or len(sig_text) != 64 or not _HEX.issuperset(sig_text):
            return False
        expected = sign(secret, ts_text, body)
    except (UnicodeError, TypeError, ValueError):
        return False
    return hmac.compare_digest(expected, sig_text)


class TimestampVerdict(str, Enum):
    """How a request timestamp compares with the receiver's clock."""

    OK = "ok"
    MISSING = "missing"
    MALFORMED = "malformed"
    TOO_OLD = "too_old"
    IN_FUTURE = "in_future"


@dataclass(frozen=True)
class TimestampCheck:
    """The result of :func:`check_timestamp`; truthy when the timestamp is acceptable."""

    verdict: TimestampVerdict
    skew: float | None = None

    def __bool__(self) -> bool:
        return self.verdict is TimestampVerdict.OK


def check_timestamp(
    timestamp: int | str | bytes | None,
    *,
    clock: Clock | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> TimestampCheck:
    """Judge a request timestamp against ``clock``: too old and too far in the future both fail.

    The header must be decimal digits (the PIM sends ``time()`` as an integer). Never raises.
    """
    if timestamp is None:
        return TimestampCheck(TimestampVerdict.MISSING)
    try:
        text = timestamp.decode("ascii") if isinstance(timestamp, bytes) else str(timestamp)
    except UnicodeError:
        return TimestampCheck(TimestampVerdict.MALFORMED)
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        return TimestampCheck(TimestampVerdict.MALFORMED)
    now = (clock or SystemClock()).now()
    skew = now - int(text)
    if skew > tolerance:
        return TimestampCheck(TimestampVerdict.TOO_OLD, skew)
    if -skew > tolerance:
        return TimestampCheck(TimestampVerdict.IN_FUTURE, skew)
    return TimestampCheck(TimestampVerdict.OK, skew)


def verify_request(
    secret: str | bytes,
    timestamp: int | str | bytes | None,
    body: str | bytes,
    signature: str | bytes | None,
    *,
    clock: Clock | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> bool:
    """Both checks a receiver must make: the signature matches and the timestamp is fresh."""
    return bool(check_timestamp(timestamp, clock=clock, tolerance=tolerance)) and verify_signature(
        secret, timestamp, body, signature
    )
