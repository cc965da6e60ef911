"""Project-wide pytest configuration: where the shared reference material lives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent

#: pytester runs the kit's pytest plugin the way users run it (tests/test_pytest_plugin.py, test_examples.py).
pytest_plugins = ["pytester"]


def _reference_dir() -> Path:
    configured = os.environ.get("AKENEO_EVENTS_REFERENCE")
    if configured:
        return Path(configured)
    return ROOT.parent / "shared" / "reference"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The shared reference folder (facts, vectors, docs examples); tests needing it skip without it."""
    path = _reference_dir()
    if not path.is_dir():
        pytest.skip(f"reference material not found at {path} (set AKENEO_EVENTS_REFERENCE)")
    return path
