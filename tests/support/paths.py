"""Paths of the repository that tests read, computed in one place so that a test's depth in tests/ does not matter."""

from __future__ import annotations

from pathlib import Path

#: The repository's root (pyproject.toml, README.md, examples/, the package).
ROOT = Path(__file__).resolve().parents[2]
