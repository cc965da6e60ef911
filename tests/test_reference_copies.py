"""tests/reference holds copies of the shared reference's test data, so that a lone clone runs every test.
They must not drift from the originals: whenever the shared folder is present, they are compared byte for
byte."""

from __future__ import annotations

import pytest

from .support.reference import SHARED_REFERENCE, VENDORED_REFERENCE


def test_every_copy_equals_its_original() -> None:
    copies = sorted(p for p in VENDORED_REFERENCE.rglob("*") if p.is_file())
    assert {p.name for p in copies} >= {"signature-vectors.json", "php-json-encode-vectors.json"}
    assert len([p for p in copies if p.parent.name == "docs-examples"]) == 12
    if not SHARED_REFERENCE.is_dir():
        pytest.skip(f"no shared reference at {SHARED_REFERENCE} to compare the copies with")
    for copy in copies:
        original = SHARED_REFERENCE / copy.relative_to(VENDORED_REFERENCE)
        assert original.read_bytes() == copy.read_bytes(), f"{copy} differs from {original}: copy it again"
    originals = {p.relative_to(SHARED_REFERENCE) for p in SHARED_REFERENCE.rglob("*.json")}
    assert originals == {p.relative_to(VENDORED_REFERENCE) for p in copies}, "a reference JSON file is not copied"
