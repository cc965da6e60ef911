"""tests/reference holds copies of the shared reference: its test data (vectors, docs examples), so that a lone
clone runs every test, and the two facts documents, so that every "(facts section N)" reference resolves in
one. They must not drift from the originals: whenever the shared folder is present, they are compared byte for
byte, and every JSON or Markdown file of it must have its copy."""

from __future__ import annotations

import pytest

from .support.reference import SHARED_REFERENCE, VENDORED_REFERENCE

#: The kinds of file the shared reference holds, all copied.
COPIED = {".json", ".md"}
FACTS = {"events-api-facts.md", "event-platform-facts.md"}


def test_every_copy_equals_its_original() -> None:
    copies = sorted(p for p in VENDORED_REFERENCE.rglob("*") if p.is_file())
    assert {p.name for p in copies} >= {"signature-vectors.json", "php-json-encode-vectors.json"}
    assert {p.name for p in copies if p.parent == VENDORED_REFERENCE and p.suffix == ".md"} == FACTS
    assert len([p for p in copies if p.parent.name == "docs-examples"]) == 12
    if not SHARED_REFERENCE.is_dir():
        pytest.skip(f"no shared reference at {SHARED_REFERENCE} to compare the copies with")
    for copy in copies:
        original = SHARED_REFERENCE / copy.relative_to(VENDORED_REFERENCE)
        assert original.is_file(), f"{copy} has no original at {original}"
        assert original.read_bytes() == copy.read_bytes(), f"{copy} differs from {original}: copy it again"
    originals = {p.relative_to(SHARED_REFERENCE) for p in SHARED_REFERENCE.rglob("*")
                 if p.is_file() and p.suffix in COPIED}
    missing = originals - {p.relative_to(VENDORED_REFERENCE) for p in copies}
    assert missing == set(), f"reference files not copied into {VENDORED_REFERENCE}: {sorted(map(str, missing))}"
