"""The README's commands and snippets work as written."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from akeneo_events_testkit.judging.observation import parse_observation

from .support.paths import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def block_with(text: str) -> str:
    """The one Python block of the README that contains ``text`` (robust to new blocks in between)."""
    found = [block for block in blocks("python") if text in block]
    assert len(found) == 1, f"{len(found)} README python blocks contain {text!r}"
    return found[0]


def test_readme_starts_with_the_two_commands() -> None:
    first, second = blocks("bash")[:2]
    assert README.index("```bash") < README.index("\n## ")
    assert first.strip().startswith('pip install -e ".[dev]" && akeneo-events fuzz')
    assert second.strip() == 'pip install -e ".[dev]" && python3 -m pytest -q -n 2'
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 -m pytest -q -n 2" in ci  # CI runs exactly the README's test command


def test_the_main_job_command_passes() -> None:
    command = blocks("bash")[0].split("&&", 1)[1].split()
    assert command[:2] == ["akeneo-events", "fuzz"]
    done = subprocess.run([sys.executable, "-m", "akeneo_events_testkit.cli", *command[1:]], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "CI": "true"})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert done.stdout.rstrip().endswith("PASS: no violations")


def test_tutorial_snippet_fails_with_the_promised_violations(pytester: pytest.Pytester) -> None:
    snippet = blocks("python")[0]
    pytester.makepyfile(test_webhook=snippet)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "test_webhook.py")
    output = result.stdout.str()
    assert result.ret == 1
    assert "stale_applied" in output and "stale_final_state" in output
    assert "Reproduce with: pytest 'test_webhook.py::test_webhook' --akeneo-seed 0" in output


def test_flask_snippet_runs_against_the_example(pytester: pytest.Pytester) -> None:
    snippet = blocks("python")[1]
    example = ROOT / "examples" / "flask_receiver"
    pytester.makeconftest(f"""
import sys
sys.path.insert(0, {str(example)!r})
import pytest
from flask_app import create_app

@pytest.fixture
def app(akeneo_secret):
    app = create_app(akeneo_secret)
    app.testing = True
    return app
""")
    pytester.makepyfile(test_flask=snippet)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "test_flask.py")
    result.assert_outcomes(passed=1)


def test_hypothesis_snippet(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_strategies=block_with("aks.deliveries("))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "test_strategies.py")
    result.assert_outcomes(passed=1)


def test_event_platform_hypothesis_snippet(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_ep_strategies=block_with("aeps.ep_requests("))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "test_ep_strategies.py")
    result.assert_outcomes(passed=1)


def test_every_python_block_is_tested() -> None:
    assert len(blocks("python")) == 5  # tutorial, Flask, Hypothesis, Event Platform Hypothesis, Python API


def test_python_api_snippet() -> None:
    snippet = block_with("from akeneo_events_testkit import MockPim, ReferenceReceiver")
    done = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_observation_example_follows_the_contract() -> None:
    example = json.loads(blocks("json")[0])
    observation = parse_observation(example)
    assert len(observation.applied) == 2 and len(observation.resources) == 2


def test_node_excerpt_is_the_example_file() -> None:
    excerpt = blocks("javascript")[0].strip().splitlines()
    source = (ROOT / "examples" / "node_receiver" / "receiver.js").read_text().splitlines()
    body = [line for line in excerpt if not line.startswith("}).listen(")]
    assert all(line in source for line in body)
    assert len(body) <= 30


def test_every_cli_command_is_documented() -> None:
    from akeneo_events_testkit.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices  # type: ignore[union-attr]
    for name in commands:
        assert f"`akeneo-events {name}" in README, name


def test_every_violation_kind_is_in_the_glossary() -> None:
    from akeneo_events_testkit.event_platform.oracle import EP_VIOLATION_KINDS
    from akeneo_events_testkit.events_api.oracle import VIOLATION_KINDS

    for kind in {**VIOLATION_KINDS, **EP_VIOLATION_KINDS}:
        assert f"| `{kind}`" in README, kind


def test_the_summary_fixes_are_the_glossary_fixes() -> None:
    """The fix the summary prints beside each kind is the glossary's last column (backticks dropped, "as
    above" resolved); the Event Platform's own kinds too, and its shared kinds have one."""
    from akeneo_events_testkit.event_platform.oracle import EP_KIND_FIX, EP_VIOLATION_KINDS
    from akeneo_events_testkit.events_api.oracle import VIOLATION_KINDS
    from akeneo_events_testkit.judging.verdict import KIND_FIX

    glossary = README[README.index("## Violation glossary"):README.index("## Faults and probes")]
    fixes: dict[str, str] = {}
    previous = ""
    for line in glossary.splitlines():
        found = re.match(r"\| `(\w+)`", line)
        if found:
            fix = line.strip().strip("|").split("|")[-1].strip().replace("`", "")
            previous = fixes[found.group(1)] = previous if fix == "as above" else fix
    assert set(KIND_FIX) == set(VIOLATION_KINDS) and set(EP_KIND_FIX) == set(EP_VIOLATION_KINDS)
    for kind, fix in KIND_FIX.items():
        assert fixes[kind] == fix, kind
    for kind in set(EP_VIOLATION_KINDS) - set(VIOLATION_KINDS):
        assert fixes[kind] == EP_KIND_FIX[kind], kind


def test_migration_guide_names_real_kinds_and_options() -> None:
    from akeneo_events_testkit.cli import build_parser
    from akeneo_events_testkit.event_platform.oracle import EP_VIOLATION_KINDS

    guide = README[README.index("## Migrating to the Event Platform"):README.index("## CLI reference")]
    for kind in ("suspension_risk", "self_event_processed", "rotation_rejected"):
        assert f"`{kind}`" in guide and kind in EP_VIOLATION_KINDS
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    options = {option for name in ("fuzz", "serve") for action in commands[name]._actions  # the guide serves too
               for option in action.option_strings}
    for option in re.findall(r"(?<![-\w])(--[a-z][a-z-]*)", guide):
        assert option in options, option
