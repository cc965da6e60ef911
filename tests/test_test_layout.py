"""The layout of tests/, enforced: test modules mirror the package, shared helpers live in tests/support/, and
no test module imports from another test module (or from a conftest): what two test modules share is a helper.
"""

from __future__ import annotations

import ast
from pathlib import Path

from .support.paths import ROOT

TESTS = ROOT / "tests"
PACKAGE = ROOT / "akeneo_events_testkit"
SOURCES = sorted(TESTS.rglob("*.py"))


def _module(path: Path) -> list[str]:
    """The dotted name of a file under tests/ as a list, e.g. ``["tests", "cli", "test_cli"]``."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def _forbidden_imports(path: Path, source: str | None = None) -> list[str]:
    """Every import of ``path`` that reaches a test module (``test_*``) or a conftest, relative or absolute;
    ``source`` stands for the file's text (the self-test checks a module that does not exist)."""
    tree = ast.parse(path.read_text(encoding="utf-8") if source is None else source)
    here = _module(path)
    package = here if path.name == "__init__.py" else here[:-1]
    wrong = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        targets: list[list[str]] = []
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = [*base, *(node.module.split(".") if node.module else [])]
            targets.append(module)
            targets += [[*module, alias.name] for alias in node.names]  # "from . import test_x" imports a module
        else:
            targets += [alias.name.split(".") for alias in node.names]
        for target in targets:
            if target and (target[-1].startswith("test_") or target[-1] == "conftest"):
                wrong.append(f"{path.relative_to(ROOT)} line {node.lineno}: imports {'.'.join(target)}")
                break
    return wrong


def test_no_test_module_imports_another() -> None:
    wrong = [line for path in SOURCES for line in _forbidden_imports(path)]
    assert wrong == [], "move what they share into tests/support/"


def test_the_checker_sees_a_violation() -> None:
    """The test above can fail: relative, absolute and conftest imports of test modules are all found."""
    fake = TESTS / "event_platform" / "test_layout_probe.py"
    source = (
        "from __future__ import annotations\n"
        "from ..support.ep_receiver import START\n"  # allowed: a helper
        "from ..cli.test_cli import SECRET_VECTOR_BODY\n"
        "from .test_oracle import campaign\n"
        "from . import test_tape\n"
        "import tests.test_readme\n"
        "from tests.receiver import test_server\n"
        "from conftest import ROOT\n"
        "def later():\n"
        "    from .test_delivery import emitter\n"
    )
    found = {line.split("imports ")[1] for line in _forbidden_imports(fake, source)}
    assert found == {"tests.cli.test_cli", "tests.event_platform.test_oracle", "tests.event_platform.test_tape",
                     "tests.test_readme", "tests.receiver.test_server", "conftest",
                     "tests.event_platform.test_delivery"}


def test_tests_mirror_the_package_and_helpers_live_in_support() -> None:
    subpackages = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    wrong = []
    for path in SOURCES:
        relative = path.relative_to(TESTS)
        folders = relative.parts[:-1]
        if folders[:1] == ("support",):
            continue
        if folders and folders[0] not in subpackages:
            wrong.append(f"{relative}: tests/{folders[0]}/ mirrors no package of akeneo_events_testkit")
        if not (path.name.startswith("test_") or path.name == "__init__.py" or relative == Path("conftest.py")):
            wrong.append(f"{relative}: a helper; it belongs in tests/support/")
    folders_with_code = {path.parent for path in SOURCES}
    wrong += [f"{folder.relative_to(TESTS)}: not a package (add __init__.py)" for folder in folders_with_code
              if not (folder / "__init__.py").is_file()]
    assert wrong == []
