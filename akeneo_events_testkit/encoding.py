"""Encode JSON byte for byte the way PHP's ``json_encode($value)`` does with no flags.

The PIM encodes every Events API body with a bare Symfony ``JsonEncoder``, i.e. ``json_encode($data, 0)``
(events-api-facts.md section 3). The result differs from Python's ``json.dumps`` in ways that break a
receiver that verifies the signature over re-serialised JSON:

* compact output, no spaces;
* ``/`` is written ``\\/``;
* every non-ASCII character is ``\\uXXXX`` in lowercase hex, astral characters as surrogate pairs;
* DEL (U+007F) is left raw (Python writes ``\\u007f``);
* floats use PHP's shortest form (``1.0`` is ``1``, ``1e25`` is ``1.0e+25``); none occur in real
  payloads, where amounts and decimals are strings, but the encoder is exact anyway;
* key order is insertion order; an empty dict is ``{}``, an empty list ``[]`` (the PIM writes empty
  ``values``/``associations``/``quantified_associations`` as ``(object)[]``, so the model keeps them dicts).

The fast path runs CPython's C encoder and patches its output; values holding floats take an exact, slower
path. Invalid UTF-8 (lone surrogates), NaN and infinities make PHP fail, so they raise
:class:`~akeneo_events_testkit.errors.EncodingError`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .errors import EncodingError

__all__ = ["js_reserialise", "php_json_encode", "php_json_encode_bytes", "reserialisation_stable"]

_C_DUMPS = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False, check_circular=True)
_encode_string = json.encoder.encode_basestring_ascii

# A float as CPython writes it always holds "." or "e", and stands between JSON structural characters
# (or is the whole document).
# Inside a string the same shape can occur ("a:1.5,"): then we only lose speed, never exactness.
_FLOAT_TOKEN = re.compile(r"(?:^|[\[:,])-?\d+(?:\.\d+(?:e[-+]?\d+)?|e[-+]?\d+)(?:$|[,\]}])")
# Every match of _FLOAT_TOKEN holds one of these tails. They start with a literal, which re scans for in C,
# whereas _FLOAT_TOKEN is tried at every ":" and "," (on real payloads it took twice as long as encoding).
_FRACTION_TAIL = re.compile(r"\.\d+(?:e[-+]?\d+)?(?:$|[,\]}])")
_EXPONENT_TAIL = re.compile(r"e[-+]?\d+(?:$|[,\]}])")
# Escaped backslashes are consumed first so that "\\u007f" (a backslash, then text) is left alone.
_DEL_OR_BACKSLASH = re.compile(r"\\\\|\\u007f")
_SURROGATES = re.compile(r"\\\\|\\ud[89ab][0-9a-f]{2}\\ud[c-f][0-9a-f]{2}|\\ud[89a-f][0-9a-f]{2}")


def php_json_encode(value: Any, *, preserve_zero_fraction: bool = False) -> str:
    """Return ``json_encode($value)`` as PHP 7.1+ writes it (pure ASCII text).

    ``preserve_zero_fraction`` mirrors ``JSON_PRESERVE_ZERO_FRACTION``, which Symfony >= 6.2 sets by
    default (facts section 3); it only matters for floats.
    """
    try:
        text = _C_DUMPS.encode(value)
    except ValueError as exc:  # NaN, infinity, circular reference
        raise EncodingError(f"PHP json_encode cannot encode this value: {exc}") from None
    except TypeError as exc:
        raise EncodingError(f"not JSON-encodable like PHP would: {exc}") from None
    if (_FRACTION_TAIL.search(text) is not None or _EXPONENT_TAIL.search(text) is not None) and (
        _FLOAT_TOKEN.search(text) is not None
    ):
        text = _slow_encode(value, preserve_zero_fraction)
    return _patch(text)


def php_json_encode_bytes(value: Any, *, preserve_zero_fraction: bool = False) -> bytes:
    """:func:`php_json_encode` as the bytes sent on the wire."""
    return php_json_encode(value, preserve_zero_fraction=preserve_zero_fraction).encode("ascii")


def _patch(text: str) -> str:
    if "\\ud" in text:
        for match in _SURROGATES.finditer(text):
            token = match.group()
            if len(token) == 6:  # a lone surrogate: invalid UTF-8 for PHP
                raise EncodingError(
                    f"string holds a lone surrogate {token}: PHP json_encode fails on invalid UTF-8"
                )
    if "\\u007f" in text:
        text = _DEL_OR_BACKSLASH.sub(_raw_del, text)
    if "/" in text:
        text = text.replace("/", "\\/")
    return text


def _raw_del(match: re.Match[str]) -> str:
    token = match.group()
    return "\x7f" if token == "\\u007f" else token


def php_float(number: float, *, preserve_zero_fraction: bool = False) -> str:
    """Format a float as PHP's ``json_encode`` does (``serialize_precision = -1``, ``php_gcvt``)."""
    if math.isnan(number) or math.isinf(number):
        raise EncodingError(f"PHP json_encode cannot encode {number!r} (Inf and NaN are not JSON)")
    sign = "-" if math.copysign(1.0, number) < 0 else ""
    magnitude = abs(number)
    if magnitude == 0.0:
        text = sign + "0"
        return text + ".0" if preserve_zero_fraction else text
    # repr() gives the shortest round-tripping digits, exactly what zend_dtoa mode 0 returns
    shortest = Decimal(repr(magnitude)).normalize().as_tuple()
    digits = "".join(map(str, shortest.digits))
    decpt = len(digits) + int(shortest.exponent)
    if decpt < -3 or decpt > 17:
        body = digits[0] + "." + (digits[1:] or "0")
        power = decpt - 1
        return f"{sign}{body}e{'-' if power < 0 else '+'}{abs(power)}"
    if decpt <= 0:
        text = f"{sign}0.{'0' * -decpt}{digits}"
    elif decpt >= len(digits):
        text = sign + digits + "0" * (decpt - len(digits))
        if preserve_zero_fraction:
            text += ".0"
    else:
        text = f"{sign}{digits[:decpt]}.{digits[decpt:]}"
    return text


def _slow_encode(value: Any, preserve_zero_fraction: bool) -> str:
    parts: list[str] = []
    _walk(value, parts, preserve_zero_fraction)
    return "".join(parts)


def _walk(value: Any, out: list[str], pzf: bool) -> None:
    if isinstance(value, str):
        out.append(_encode_string(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(php_float(value, preserve_zero_fraction=pzf))
    elif isinstance(value, Mapping):
        out.append("{")
        first = True
        for key, item in value.items():
            if not first:
                out.append(",")
            first = False
            if isinstance(key, str):
                out.append(_encode_string(key))
            elif isinstance(key, (int, float, bool)) or key is None:
                out.append(_encode_string(json.dumps(key)))
            else:
                raise EncodingError(f"object key {key!r} is not a string")
            out.append(":")
            _walk(item, out, pzf)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _walk(item, out, pzf)
        out.append("]")
    else:
        raise EncodingError(f"not JSON-encodable like PHP would: {type(value).__name__}")


# -- what a receiver that re-serialises gets -----------------------------------------------------------------

_ARRAY_INDEX = re.compile(r"0|[1-9]\d{0,9}")


def _js_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A parsed object in the key order JavaScript keeps: array-index keys first, ascending, then the
    others in insertion order (a repeated key keeps its first place and its last value, as ``JSON.parse``)."""
    merged = dict(pairs)
    index = sorted((k for k in merged if _ARRAY_INDEX.fullmatch(k) and int(k) < 2**32 - 1), key=int)
    if not index:
        return merged
    return {**{k: merged[k] for k in index}, **{k: v for k, v in merged.items() if k not in set(index)}}


def _js_number(number: float) -> str:
    """``Number.prototype.toString`` of a finite double: integers without a fraction below 1e21,
    positional from 1e-6, else ``1.5e-7`` / ``1e+21``."""
    if number == 0:
        return "0"
    if number.is_integer() and abs(number) < 1e21:
        return str(int(number))
    exact = Decimal(repr(number))
    if 1e-6 <= abs(number) < 1e21:
        return format(exact, "f")
    sign, digits, exponent = exact.normalize().as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    power = exponent + len(text) - 1
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}e{'+' if power >= 0 else '-'}{abs(power)}"


def _js_walk(value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        out.append("{")
        for position, (key, item) in enumerate(value.items()):
            out.append(("," if position else "") + json.dumps(key, ensure_ascii=False) + ":")
            _js_walk(item, out)
        out.append("}")
    elif isinstance(value, list):
        out.append("[")
        for position, item in enumerate(value):
            if position:
                out.append(",")
            _js_walk(item, out)
        out.append("]")
    elif isinstance(value, float):
        out.append(_js_number(value) if math.isfinite(value) else "null")
    else:
        out.append(json.dumps(value, ensure_ascii=False))


def js_reserialise(raw: bytes) -> bytes | None:
    """``JSON.stringify(JSON.parse(raw))`` as UTF-8: what a receiver that verifies a signature over its
    re-serialised body (Express's ``express.json()`` then ``JSON.stringify(req.body)``, the snippet of
    event-platform-facts.md section 2) signs instead of the bytes received. None when ``raw`` is not JSON.

    Compact, ``/`` and non-ASCII raw, key order kept but for array-index keys (which JavaScript moves
    first), numbers as JavaScript writes them (``1.0`` is ``1``)."""
    try:
        value = json.loads(raw, object_pairs_hook=_js_object)
    except ValueError:
        return None
    out: list[str] = []
    _js_walk(value, out)
    return "".join(out).encode("utf-8", "surrogatepass")


_JS_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


class _HasFloat(Exception):
    """Raised by the decoder's hooks: the document holds a number JavaScript may write another way."""


def _refuse_float(_text: str) -> Any:
    raise _HasFloat


# In a compact text that the C encoder wrote, a quote after "{" or "," opens a key (a string's closing quote
# is never followed by a digit), so this finds every key that JavaScript may move first, and more.
_INDEX_KEY = re.compile(rb'[{,]"(?:0|[1-9][0-9]{0,9})":')


def _escapes_a_slash(raw: bytes) -> bool:
    """Whether the JSON text ``raw`` holds the escape ``\\/`` (every PHP body with a URL does), which a
    re-serialisation never writes: then the two differ. A run of backslashes in a string pairs up from its
    start, so a backslash escapes the ``/`` after it when an even number of backslashes precede it. (In a
    UTF-16 or UTF-32 text the bytes may match by chance; such a text never equals its UTF-8
    re-serialisation anyway.)"""
    at = raw.find(b"\\/")
    while at >= 0:
        start = at
        while start > 0 and raw[start - 1] == 0x5C:
            start -= 1
        if (at - start) % 2 == 0:
            return True
        at = raw.find(b"\\/", at + 2)
    return False


def reserialisation_stable(raw: bytes, *, json_text: bool = False) -> bool:
    """Whether a receiver that re-serialises ``raw`` (:func:`js_reserialise`) gets back the very bytes that
    were signed. PHP's ``json_encode`` writes ``\\/`` and ``\\uXXXX`` (events-api-facts.md section 3), so
    nearly every Events API body is unstable; a body that is not JSON (the empty "Test" request) is stable:
    there is nothing to re-serialise.

    The same answer as ``js_reserialise(raw) in (None, raw)``, at C speed (it runs on every request sent:
    the Python walk cost 1-5 ms per request, more than the exchange). Without floats (and NaN/Infinity), the
    re-serialisation is the C encoder's compact ``ensure_ascii=False`` output of the same decoded value, but
    for JavaScript moving array-index keys first. Decoded without the key-order hook, both keep a repeated
    key's first place and last value, so that output differs from ``raw`` whenever the re-serialisation
    does: if ``raw`` were the re-serialisation, its index keys would already stand first, and decoding it
    would keep them there. When the two are equal (no PHP body: ``\\/`` and ``\\uXXXX`` are rewritten), the
    body is stable unless a key may be an array index (:data:`_INDEX_KEY`); only then, or when there is a
    float, is the exact walk run. An escaped ``/`` answers before encoding.

    ``json_text``: the caller vouches that ``raw`` is JSON (it made it with :func:`php_json_encode_bytes`),
    so that an escaped ``/`` answers without decoding it first (the mock PIM, on every request)."""
    if json_text and _escapes_a_slash(raw):
        return False
    try:
        value = json.loads(raw, parse_float=_refuse_float, parse_constant=_refuse_float)
    except _HasFloat:
        again = js_reserialise(raw)
        return again is None or again == raw
    except ValueError:
        return True  # not JSON: js_reserialise gives None
    if _escapes_a_slash(raw):
        return False
    if _JS_DUMPS.encode(value).encode("utf-8", "surrogatepass") != raw:
        return False
    if _INDEX_KEY.search(raw) is None:
        return True
    again = js_reserialise(raw)
    return again is None or again == raw
