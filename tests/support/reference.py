"""Where the shared reference material lives: the originals next to the project, and the copies in tests/reference."""

from __future__ import annotations

import os
from pathlib import Path

from .paths import ROOT

#: The shared reference folder next to the project, the source of truth for the vectors, the docs examples
#: and the two facts documents (events-api-facts.md, event-platform-facts.md).
SHARED_REFERENCE = ROOT.parent / "shared" / "reference"
#: Copies of all of it, so that a lone clone, such as CI's, runs every test and resolves every "facts section N";
#: tests/test_reference_copies.py checks they equal the originals whenever those are present.
VENDORED_REFERENCE = ROOT / "tests" / "reference"


def reference_dir() -> Path:
    """AKENEO_EVENTS_REFERENCE if set, else the shared folder if present, else the copies in tests/reference."""
    configured = os.environ.get("AKENEO_EVENTS_REFERENCE")
    if configured:
        return Path(configured)
    return SHARED_REFERENCE if SHARED_REFERENCE.is_dir() else VENDORED_REFERENCE
