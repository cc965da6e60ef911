from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from akeneo_events_testkit.encoding import php_float, php_json_encode, php_json_encode_bytes
from akeneo_events_testkit.errors import EncodingError

from .support.php import php_json_encode_many, requires_php


def _vectors(reference_dir: Any) -> list[dict[str, Any]]:
    return json.loads((reference_dir / "php-json-encode-vectors.json").read_text())["vectors"]  # type: ignore[no-any-return]


def test_every_php_vector_matches(reference_dir: Any) -> None:
    vectors = _vectors(reference_dir)
    assert len(vectors) >= 15
    for vector in vectors:
        assert php_json_encode(vector["value"]) == vector["php_json_encode"], vector["value"]


def test_output_is_ascii_bytes() -> None:
    assert php_json_encode_bytes({"name": "Größe"}) == b'{"name":"Gr\\u00f6\\u00dfe"}'


def test_slash_escaped_but_not_html_characters() -> None:
    assert php_json_encode("<a href='/x'>&</a>") == "\"<a href='\\/x'>&<\\/a>\""


def test_del_left_raw_even_next_to_escaped_backslashes() -> None:
    assert php_json_encode("\x7f") == '"\x7f"'
    # a literal backslash followed by the text "u007f" must stay escaped text
    assert php_json_encode("\\u007f") == '"\\\\u007f"'
    assert php_json_encode("\\\x7f") == '"\\\\\x7f"'


def test_empty_containers() -> None:
    assert php_json_encode({"values": {}, "categories": []}) == '{"values":{},"categories":[]}'


def test_key_order_is_insertion_order() -> None:
    assert php_json_encode({"b": 1, "a": 2}) == '{"b":1,"a":2}'


@pytest.mark.parametrize(
    ("number", "expected"),
    [(1.0, "1"), (0.1, "0.1"), (1e25, "1.0e+25"), (1e-5, "1.0e-5"), (1e16, "10000000000000000"),
     (1e17, "1.0e+17"), (-0.0, "-0"), (2.5e-7, "2.5e-7"), (123.456, "123.456")],
)
def test_floats_like_php(number: float, expected: str) -> None:
    assert php_float(number) == expected
    assert php_json_encode([number]) == f"[{expected}]"


def test_preserve_zero_fraction() -> None:
    assert php_json_encode({"a": 1.0}, preserve_zero_fraction=True) == '{"a":1.0}'


def test_string_that_looks_like_a_float_token_stays_a_string() -> None:
    assert php_json_encode({"a": "x:1.5,y"}) == '{"a":"x:1.5,y"}'


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, "\ud800", "a\udc00b", {1, 2}, object()])
def test_what_php_refuses_raises_encoding_error(bad: object) -> None:
    with pytest.raises(EncodingError):
        php_json_encode({"v": bad})


def _php_rule_reference(text: str) -> str:
    """The PHP rule written independently of the implementation, character by character."""
    out = ['"']
    named = {'"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\f": "\\f",
             "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    for char in text:
        code = ord(char)
        if char in named:
            out.append(named[char])
        elif code < 0x20:
            out.append(f"\\u{code:04x}")
        elif code < 0x80:
            out.append(char)
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
    out.append('"')
    return "".join(out)


text_with_everything = st.text(
    alphabet=st.characters(codec="utf-8", categories=None, exclude_categories=["Cs"]), max_size=60
) | st.text(alphabet="\x00\x01\x1f\x7f/\\\"\u2028\u2029é😀🇫", max_size=30)


@settings(max_examples=300)
@given(text_with_everything)
def test_strings_follow_php_rule_and_round_trip(text: str) -> None:
    encoded = php_json_encode(text)
    assert encoded == _php_rule_reference(text)
    assert json.loads(encoded) == text
    assert encoded.isascii()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | text_with_everything,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(text_with_everything, children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200)
@given(json_values)
def test_any_value_round_trips(value: Any) -> None:
    assert json.loads(php_json_encode(value)) == value


@requires_php
@pytest.mark.php
def test_differential_against_real_php() -> None:
    """Hundreds of random documents, encoded by real PHP 8 and by us: byte-identical."""
    import random

    rng = random.Random(20261126)
    alphabet = "aZ09 /\\\"\x00\x1f\x7f<>&'é€日😀\u2028ñ\t\n"
    def text() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
    def value(depth: int = 0) -> Any:
        kind = rng.randint(0, 9 if depth < 3 else 5)
        if kind == 0:
            return None
        if kind == 1:
            return rng.choice([True, False])
        if kind == 2:
            return rng.randint(-(2**63), 2**63 - 1)
        if kind == 3:
            return rng.choice([0.5, 1.0, 1e25, 1e-7, -2.75, 123456789.125, 1e16, 1e17])
        if kind in (4, 5):
            return text()
        if kind in (6, 7):
            return [value(depth + 1) for _ in range(rng.randint(0, 3))]
        # PHP objects cannot hold a property whose name starts with NUL (a limit of the harness's stdClass)
        return {"k" + text(): value(depth + 1) for _ in range(rng.randint(0, 3))}
    docs = [value() for _ in range(400)]
    expected = php_json_encode_many(docs)
    for doc, php in zip(docs, expected, strict=True):
        assert php is not None
        assert php_json_encode(doc) == php, doc


@requires_php
@pytest.mark.php
def test_differential_vectors_file_is_what_php_produces(reference_dir: Any) -> None:
    vectors = _vectors(reference_dir)
    assert php_json_encode_many([v["value"] for v in vectors]) == [v["php_json_encode"] for v in vectors]


def test_float_token_detector_never_misses_a_float() -> None:
    # every float CPython writes has "." or "e" after digits, between structural characters
    from akeneo_events_testkit.encoding import _FLOAT_TOKEN

    for number in [0.5, 1e300, -1e-300, 5e-324, 1.7976931348623157e308, 1e-7]:
        for document in (number, [number], {"a": number}, [1, number, 2]):
            assert _FLOAT_TOKEN.search(json.dumps(document, separators=(",", ":"))), document
            assert php_json_encode(document) == php_json_encode(document, preserve_zero_fraction=False)
    assert php_json_encode(1e-7) == "1.0e-7"


# -- reserialisation_stable: the fast decision against the exact re-serialisation --------------------------

_keys = (st.sampled_from(["0", "1", "2", "10", "01", "4294967294", "4294967295", "a", "b", "é", "/"])
         | text_with_everything)
_scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | text_with_everything
            | st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([1.0, -0.0, 1e21, 1.5e-7, 100.0]))
# objects as lists of pairs, so that documents may repeat a key
_trees = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4).map(lambda items: ("list", items))
    | st.lists(st.tuples(_keys, children), max_size=4).map(lambda pairs: ("object", pairs)),
    max_leaves=16,
)


def _write(tree: Any, ascii_only: bool, escape_slash: bool) -> str:
    """``tree`` as compact JSON text: Python's way (``ensure_ascii`` either way), ``/`` escaped or not."""
    def string(text: str) -> str:
        out = json.dumps(text, ensure_ascii=ascii_only)
        return out.replace("/", "\\/") if escape_slash else out

    if isinstance(tree, tuple) and tree[0] == "list":
        return "[" + ",".join(_write(item, ascii_only, escape_slash) for item in tree[1]) + "]"
    if isinstance(tree, tuple):
        return "{" + ",".join(string(k) + ":" + _write(v, ascii_only, escape_slash) for k, v in tree[1]) + "}"
    return string(tree) if isinstance(tree, str) else json.dumps(tree)


@settings(max_examples=600)
@given(_trees, st.booleans(), st.booleans(), st.sampled_from(["", " ", "x", "\n"]))
def test_reserialisation_stable_is_the_exact_re_serialisation(tree: Any, ascii_only: bool, escape_slash: bool,
                                                              tail: str) -> None:
    from akeneo_events_testkit.encoding import js_reserialise, reserialisation_stable

    for raw in (_write(tree, ascii_only, escape_slash) + tail).encode("utf-8", "surrogatepass"), \
            php_json_encode_bytes(json.loads(_write(tree, True, False))) if _finite(tree) else b"":
        again = js_reserialise(raw)
        assert reserialisation_stable(raw) is (again is None or again == raw), raw
        if again is not None:
            assert reserialisation_stable(raw, json_text=True) is (again == raw), raw


def _finite(tree: Any) -> bool:
    if isinstance(tree, tuple):
        return all(_finite(item) for item in (tree[1] if tree[0] == "list" else [v for _, v in tree[1]]))
    return not isinstance(tree, float) or math.isfinite(tree)


def test_reserialisation_stable_on_real_bodies() -> None:
    from akeneo_events_testkit.encoding import js_reserialise, reserialisation_stable
    from akeneo_events_testkit.events_api.pim import MockPim

    bodies = [d.body for d in MockPim(seed=2, events=120).deliveries(secret="s")]
    bodies += [b'{"1":{"a":1},"b":[1,2]}', b'{"b":1,"1":2}', b'{"a":1,"a":1}', b'{"a":1.0}', b"", b"[]"]
    verdicts = [reserialisation_stable(raw) for raw in bodies]
    assert verdicts == [js_reserialise(raw) in (None, raw) for raw in bodies]
    assert not any(verdicts[:-6]) and verdicts[-6:] == [True, False, False, False, True, True]


def test_reserialisation_stable_around_runs_of_backslashes_before_a_slash() -> None:
    # every string of up to 5 of these pieces: escaped or literal backslashes, slashes, escaped slashes
    import itertools

    from akeneo_events_testkit.encoding import js_reserialise, reserialisation_stable

    pieces = ["\\", "/", '"', "a", "\\\\", "\\/"]
    checked = 0
    for size in range(6):
        for parts in itertools.product(pieces, repeat=size):
            raw = ('{"k":"' + "".join(parts) + '"}').encode()
            again = js_reserialise(raw)
            assert reserialisation_stable(raw) is (again is None or again == raw), raw
            if again is not None:
                assert reserialisation_stable(raw, json_text=True) is (again == raw), raw
            checked += again is not None
    assert checked > 1000
