"""The test suite's pytest configuration: the pytester plugin and the reference material's fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from .support.reference import reference_dir as _reference_dir

#: pytester runs the kit's pytest plugin the way users run it (tests/test_pytest_plugin.py, test_examples.py).
#: pytest only allows ``pytest_plugins`` in a conftest it loads at start-up: this one is, for any run of the
#: suite or of a part of it (testpaths, or any path under tests/).
pytest_plugins = ["pytester"]


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The reference test data (vectors, docs examples): AKENEO_EVENTS_REFERENCE, else the shared folder,
    else the copies in tests/reference."""
    path = _reference_dir()
    if not path.is_dir():
        pytest.skip(f"reference material not found at {path} (set AKENEO_EVENTS_REFERENCE)")
    return path
