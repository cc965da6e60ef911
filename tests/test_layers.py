"""The layers of ARCHITECTURE.md, enforced: no module imports from a layer above it, and the two wire
profiles never import each other (only ``migration`` sees both). Imports under ``TYPE_CHECKING`` are for
type checkers only and do not count. And private means private: no module imports another's ``_names``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .support.paths import ROOT

PACKAGE = ROOT / "akeneo_events_testkit"

#: Top-level names of the package, lowest layer first (ARCHITECTURE.md); one layer may import its own row.
LAYERS: list[set[str]] = [
    {"versions", "credentials", "encoding", "clock", "errors", "failures", "_gc"},
    {"world", "transport"},
    {"judging", "schemas", "observers"},
    {"events_api", "event_platform"},
    {"receiver"},
    {"profiles"},
    {"restapi", "rest_search", "migration", "strategies", "ep_strategies", "stateful", "report", "console",
     "assertions"},
    {"cli", "pytest_plugin", "__init__"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
PROFILES = {"events_api", "event_platform"}
#: Known exceptions, each with its reason; the list only shrinks (issue 13 follow-up: a campaign should be
#: handed its default receiver by the entry point instead of starting the reference receiver itself).
ALLOWED = {
    ("events_api/campaign.py", "receiver"): "fuzzes the reference receiver when no target is given",
    ("event_platform/campaign.py", "receiver"): "fuzzes the reference receiver when no target is given",
}


def _top(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def _imports(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """(line, top-level package name imported) for every kit import outside ``if TYPE_CHECKING:``;
    ``source`` stands for the file's text (the self-test checks a module that does not exist)."""
    tree = ast.parse(path.read_text() if source is None else source)
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(child) for child in ast.walk(node))
    here = path.relative_to(PACKAGE).with_suffix("").parts
    package = list(here if path.name == "__init__.py" else here[:-1])
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                target = [*base, *(node.module.split(".") if node.module else [])]
                if not target:  # "from . import x" at the top: x is a top-level module
                    found += [(node.lineno, alias.name) for alias in node.names]
                    continue
                found.append((node.lineno, target[0]))
            elif node.module and node.module.startswith("akeneo_events_testkit."):
                found.append((node.lineno, node.module.split(".")[1]))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name.split(".")[1]) for a in node.names
                      if a.name.startswith("akeneo_events_testkit.")]
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_top_level_module_has_a_layer() -> None:
    names = {_top(path) for path in MODULES}
    assert names - set(RANK) == set(), "add the new module to LAYERS and to ARCHITECTURE.md"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path: Path) -> None:
    me = _top(path)
    wrong = []
    for line, name in _imports(path):
        if name == me or name not in RANK or (str(path.relative_to(PACKAGE)), name) in ALLOWED:
            continue
        if RANK[name] > RANK[me]:
            wrong.append(f"line {line}: {me} imports {name}, a layer above it")
        if me in PROFILES and name in PROFILES:
            wrong.append(f"line {line}: {me} imports the other wire profile {name}")
    assert wrong == []


def test_the_checker_sees_a_violation() -> None:
    """The test above can fail: a profile module importing the other profile and an entry point is found."""
    fake = PACKAGE / "events_api" / "_layer_probe.py"
    source = "from __future__ import annotations\nfrom ..event_platform.wire import uuid7\nfrom ..cli import main\n"
    assert {name for _, name in _imports(fake, source)} == {"event_platform", "cli"}


def _private_names(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """(line, ``module:name``) for every underscore name ``path`` imports from another module of the package.

    Dunder names (``__version__``) are not private, and neither is importing a private *module* itself
    (``from .world import _records``): the rule is that a module's ``_name`` is used only by that module.
    """
    tree = ast.parse(path.read_text() if source is None else source)
    here = path.relative_to(PACKAGE).with_suffix("").parts
    package = list(here if path.name == "__init__.py" else here[:-1])
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or node.module == "__future__":
            continue
        if node.level:
            base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
            target = [*base, *(node.module.split(".") if node.module else [])]
        elif node.module and node.module.split(".")[0] == "akeneo_events_testkit":
            target = node.module.split(".")[1:]
        else:
            continue
        folder = PACKAGE.joinpath(*target)
        for alias in node.names:
            name = alias.name
            if not name.startswith("_") or (name.startswith("__") and name.endswith("__")):
                continue
            if (folder / f"{name}.py").is_file() or (folder / name / "__init__.py").is_file():
                continue
            found.append((node.lineno, f"{'.'.join(target) or 'akeneo_events_testkit'}:{name}"))
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_another_modules_private_names(path: Path) -> None:
    """Private means private: a helper two modules share gets a public name in the module that owns it."""
    assert [f"line {line}: imports {name}" for line, name in _private_names(path)] == []


def test_the_private_name_checker_sees_a_violation() -> None:
    """The test above can fail: relative and absolute imports of ``_names`` are found, the rest is allowed."""
    fake = PACKAGE / "events_api" / "_private_probe.py"
    source = (
        "from __future__ import annotations\n"
        "from ..judging.observation import _hidden, fetch_observation\n"
        "from akeneo_events_testkit.versions import __version__, _secret\n"
        "from ..world import _records\n"
        "from .. import _gc\n"
        "from hypothesis.internal import _private\n"
    )
    assert _private_names(fake, source) == [(2, "judging.observation:_hidden"), (3, "versions:_secret")]
