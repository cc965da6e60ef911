"""The public API is __all__ in the package's __init__, and nothing public hides outside it."""

from __future__ import annotations

import types

import akeneo_events_testkit as kit


def test_all_names_exist() -> None:
    missing = [name for name in kit.__all__ if not hasattr(kit, name)]
    assert missing == []
    assert len(kit.__all__) == len(set(kit.__all__))


def test_every_public_attribute_is_in_all() -> None:
    public = {name for name, value in vars(kit).items()
              if not name.startswith("_") and not isinstance(value, types.ModuleType) and name != "annotations"}
    assert public - set(kit.__all__) == set()


def test_version() -> None:
    assert kit.__version__.count(".") == 2
