"""Project-wide pytest configuration: where the shared reference material lives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent

#: pytester runs the kit's pytest plugin the way users run it (tests/test_pytest_plugin.py, test_examples.py).
pytest_plugins = ["pytester"]


#: The shared reference folder next to the project, the source of truth for the vectors and docs examples.
SHARED_REFERENCE = ROOT.parent / "shared" / "reference"
#: Copies of its test data (vectors, docs examples) so that a lone clone, such as CI's, runs every test;
#: tests/test_reference_copies.py checks they equal the originals whenever those are present.
VENDORED_REFERENCE = ROOT / "tests" / "reference"


def _reference_dir() -> Path:
    configured = os.environ.get("AKENEO_EVENTS_REFERENCE")
    if configured:
        return Path(configured)
    return SHARED_REFERENCE if SHARED_REFERENCE.is_dir() else VENDORED_REFERENCE


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The reference test data (vectors, docs examples): AKENEO_EVENTS_REFERENCE, else the shared folder,
    else the copies in tests/reference."""
    path = _reference_dir()
    if not path.is_dir():
        pytest.skip(f"reference material not found at {path} (set AKENEO_EVENTS_REFERENCE)")
    return path
