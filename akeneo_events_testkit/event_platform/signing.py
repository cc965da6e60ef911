"""Event Platform signatures: HMAC-SHA256 of the raw body, two headers, secret rotation.

Mirrors event-platform-facts.md section 2.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..errors import UsageError

__all__ = [
    "ALGORITHM",
    "EpSecrets",
    "ep_headers",
    "sign_body",
    "verify_ep",
]


ALGORITHM = "HmacSHA256"


PRIMARY_HEADER = "X-AKENEO-SIGNATURE-PRIMARY"


SECONDARY_HEADER = "X-AKENEO-SIGNATURE-SECONDARY"


ALGORITHM_HEADER = "X-AKENEO-SIGNATURE-ALGORITHM"


RESERVED_HEADERS = frozenset({"content-type", "user-agent", "x-correlation-id", "host", "authorization", "cookie"})


_HEADER_NAME = re.compile(r"[A-Za-z0-9-]{1,128}")


def sign_body(secret: str | bytes, body: bytes) -> str:
    """Hex HMAC-SHA256 of the raw body alone (section 2)."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return hmac.new(key, body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class EpSecrets:
    """A subscription's secrets: ``primary`` always, ``secondary`` during a rotation (section 2)."""

    primary: str
    secondary: str | None = None

    def __post_init__(self) -> None:
        if not self.primary:
            raise UsageError("the Event Platform requires a primary secret")

    def __repr__(self) -> str:
        return f"EpSecrets(primary='[redacted]', secondary={'[redacted]' if self.secondary else None!r})"


def ep_headers(
    body: bytes,
    secrets: EpSecrets,
    *,
    content_type: str = "application/json",
    custom: Sequence[tuple[str, str]] = (),
) -> tuple[tuple[str, str], ...]:
    """The request headers: signatures, algorithm, then custom headers added after signing (section 1)."""
    headers: list[tuple[str, str]] = [("Content-Type", content_type),
                                      (PRIMARY_HEADER, sign_body(secrets.primary, body))]
    if secrets.secondary:
        headers.append((SECONDARY_HEADER, sign_body(secrets.secondary, body)))
    headers.append((ALGORITHM_HEADER, ALGORITHM))
    if len(custom) > 5:
        raise UsageError("at most 5 custom headers")
    for name, value in custom:
        if not _HEADER_NAME.fullmatch(name) or name.lower() in RESERVED_HEADERS or \
                name.lower().startswith("x-akeneo-signature-"):
            raise UsageError(f"custom header {name!r}: use [A-Za-z0-9-], at most 128 characters, not a reserved name")
        if len(value) > 256 or not value.isprintable() or not value.isascii():
            raise UsageError(f"custom header {name!r}: the value must be printable ASCII, at most 256 characters")
        headers.append((name, value))
    return tuple(headers)


def verify_ep(body: bytes, headers: Mapping[str, str], secrets: Iterable[str | bytes]) -> bool:
    """True if the primary or secondary signature header matches any secret held (section 2). Never raises.

    Either header may match any secret: during a rotation the platform signs with both of its secrets, and
    the receiver may hold the old one, the new one or both. So a forged primary next to a valid secondary is
    accepted: the valid one proves the origin. The algorithm header must say ``HmacSHA256``; comparisons take
    constant time. Nothing but the raw body is signed: no timestamp, no replay window (section 2).
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    if lowered.get(ALGORITHM_HEADER.lower()) != ALGORITHM:
        return False
    sent = [lowered.get(PRIMARY_HEADER.lower()), lowered.get(SECONDARY_HEADER.lower())]
    candidates = [s for s in sent if isinstance(s, str) and len(s) == 64 and s.isascii()]
    ok = False
    for secret in secrets:
        if not secret:
            continue
        expected = sign_body(secret, body)
        for signature in candidates:
            ok |= hmac.compare_digest(expected, signature)
    return ok
