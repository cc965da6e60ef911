"""Secrets: the PIM's secret generator and how secrets are shown (never)."""

from __future__ import annotations

import math
import random

__all__ = [
    "OLD_SECRET_ENV",
    "REDACTED",
    "SECRET_ENV",
    "generate_secret",
]

#: The environment variable holding the subscription's secret (``--secret`` defaults to it); reproduce lines
#: name it instead of the secret.
SECRET_ENV = "AKENEO_EVENTS_SECRET"
#: The environment variable holding the old (secondary) secret of an Event Platform rotation
#: (``--old-secret`` defaults to it); reproduce lines name it instead of the secret.
OLD_SECRET_ENV = "AKENEO_EVENTS_OLD_SECRET"


#: What a secret-derived value looks like in any output of the kit.
REDACTED = "[redacted]"


_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


_PHP_INT_MAX = 2**63 - 1


def generate_secret(rng: random.Random | None = None) -> str:
    """A secret as the PIM makes it: ``base_convert(bin2hex(random_bytes(32)), 16, 36)``.

    PHP's ``base_convert`` overflows to a double past ``PHP_INT_MAX`` and then divides without flooring,
    so only ~53 bits vary and the tail is drawn from ``0 4 8 c g k o s w``; lengths are 47 to 50
    (facts section 2). This emulates PHP's C code step by step with IEEE doubles.
    """
    source = rng if rng is not None else random.SystemRandom()
    hexdigits = source.getrandbits(256).to_bytes(32, "big").hex()
    return _php_base_convert_16_to_36(hexdigits)


def _php_base_convert_16_to_36(hexdigits: str) -> str:
    # _php_math_basetozval: integer until it would overflow, then double
    cutoff, cutlim = divmod(_PHP_INT_MAX, 16)
    num = 0
    fnum = 0.0
    is_float = False
    for char in hexdigits:
        digit = int(char, 16)
        if not is_float:
            if num < cutoff or (num == cutoff and digit <= cutlim):
                num = num * 16 + digit
                continue
            fnum = float(num)
            is_float = True
        fnum = fnum * 16 + digit
    if not is_float:
        if num == 0:
            return "0"
        out = []
        while num:
            num, rem = divmod(num, 36)
            out.append(_BASE36[rem])
        return "".join(reversed(out))
    # _php_math_zvaltobase, double branch
    fvalue = float(math.floor(fnum))
    chars: list[str] = []
    while True:
        chars.append(_BASE36[int(math.fmod(fvalue, 36))])
        fvalue /= 36
        if len(chars) >= 64 or abs(fvalue) < 1:
            break
    return "".join(reversed(chars))
