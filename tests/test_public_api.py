"""The public API is __all__ in the package's __init__, and nothing public hides outside it."""

from __future__ import annotations

import importlib
import subprocess
import sys
import types

import pytest

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


def test_every_lazy_name_is_public_and_resolves_where_it_is_defined() -> None:
    lazy = kit._LAZY
    assert set(lazy) == set(kit.__all__) - {"__version__"}
    for name, module in lazy.items():
        assert getattr(importlib.import_module(module, kit.__name__), name) is getattr(kit, name), name


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        kit.no_such_name  # noqa: B018


#: What pytest pays in every session of a project that has the kit installed (benchmarks/bench_plugin_import.py).
HEAVY = ("faker", "uvicorn", "jsonschema", "jsonschema_rs", "httpx", "hypothesis", "hypothesis_jsonschema")


@pytest.mark.parametrize("module", ["akeneo_events_testkit", "akeneo_events_testkit.pytest_plugin"])
def test_importing_the_plugin_loads_no_heavy_dependency(module: str) -> None:
    code = f"import sys, {module}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            timeout=60).stdout.strip()
    assert loaded == "", f"importing {module} loaded {loaded}: import them inside the function that needs them"
