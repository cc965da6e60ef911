"""The example receivers' own test suites, run as users run them: ``python3 -m pytest examples/...``.

The suites run in one subprocess from the project root, so the plugin is found through its installed entry
point and the examples get the project's pytest settings (``--strict-markers``, warnings as errors).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

# Loaded before pytester snapshots sys.modules (see tests/test_pytest_plugin.py for why that matters).
import akeneo_events_testkit.assertions
import akeneo_events_testkit.receiver  # noqa: F401

from .support.paths import ROOT

EXAMPLES = ROOT / "examples"
PYTHON_EXAMPLES = {
    "flask_receiver": {"passed": 2},
    "fastapi_receiver": {"passed": 2},
    "buggy_receiver": {"passed": 1, "xfailed": 1},
}


def test_every_example_has_a_readme_and_python_examples_stay_small() -> None:
    names = {path.name for path in EXAMPLES.iterdir() if path.is_dir() and not path.name.startswith(("_", "."))}
    assert set(PYTHON_EXAMPLES) <= names
    for name in names:
        assert (EXAMPLES / name / "README.md").is_file(), name
        for source in (EXAMPLES / name).glob("*.py"):
            assert len(source.read_text(encoding="utf-8").splitlines()) < 80, source


def _outcome(case: ET.Element) -> str:
    if case.find("skipped") is not None:
        return "xfailed" if case.find("skipped").get("type") == "pytest.xfail" else "skipped"  # type: ignore[union-attr]
    if case.find("failure") is not None:
        return "failed"
    return "errors" if case.find("error") is not None else "passed"


def test_example_suites_pass_as_documented(tmp_path: Path) -> None:
    report = tmp_path / "examples.xml"
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTEST_XDIST", "PYTEST_CURRENT_TEST", "PYTEST_ADDOPTS"))}
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", f"--junitxml={report}",
         *(f"examples/{name}" for name in PYTHON_EXAMPLES)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )
    output = completed.stdout + completed.stderr
    assert report.exists(), output
    outcomes: dict[str, Counter[str]] = {name: Counter() for name in PYTHON_EXAMPLES}
    for case in ET.parse(report).getroot().iter("testcase"):
        example = case.get("classname", "").split(".")[1]  # examples.<name>.test_<module>
        outcomes[example][_outcome(case)] += 1
    assert {name: dict(counts) for name, counts in outcomes.items()} == PYTHON_EXAMPLES, output
    assert completed.returncode == 0, output


def test_buggy_example_without_its_xfail_shows_the_failure_anatomy(pytester: pytest.Pytester) -> None:
    for source in (EXAMPLES / "buggy_receiver").glob("*.py"):
        shutil.copy(source, pytester.path)
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:benchmark", "--runxfail", "-k", "each_event_once",
                                "--akeneo-seed", "3")
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.fnmatch_lines([
        "E *ViolationsFound: Receiver Flask (in-process) mishandled the PIM's traffic (seed 3, 200 events, "
        "profile saas, faults default)",
        "E *error(s), * warning(s): duplicate_applied x*",
        "E *1. [[]error] duplicate_applied: event * was applied more than once",
        "E *Reproduce with: pytest 'test_buggy_app.py::test_receiver_applies_each_event_once' --akeneo-seed 3  "
        "# or, with the receiver served over HTTP: akeneo-events fuzz --seed 3 --events 200 --profile saas "
        "--faults default --url URL --state-url STATE_URL --secret $AKENEO_EVENTS_SECRET",
        "*- akeneo-events: seed 3 -*",
    ])


def test_examples_are_in_the_sdist_include_list() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    sdist = pyproject[pyproject.index("[tool.hatch.build.targets.sdist]"):]
    start = sdist.index("include = [")
    include = sdist[start:sdist.index("]", start)]
    assert '"examples"' in include


@pytest.mark.skipif(importlib.util.find_spec("hatchling") is None,
                    reason="hatchling (the build backend) is not installed")
def test_the_sdist_ships_every_example(tmp_path: Path) -> None:
    """Build the sdist as a release would (the project's backend, no network) and list it."""
    completed = subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d", str(tmp_path)],
                               cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    (archive,) = tmp_path.glob("*.tar.gz")
    with tarfile.open(archive) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    tracked = subprocess.run(["git", "ls-files", "examples"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    if not tracked:  # not a git checkout (an unpacked sdist): what is on disk
        tracked = [str(path.relative_to(ROOT)) for path in EXAMPLES.rglob("*")
                   if path.is_file() and "__pycache__" not in path.parts]
    assert tracked and set(tracked) <= names, sorted(set(tracked) - names)
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
