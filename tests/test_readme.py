"""The README's commands and snippets work as written."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from akeneo_events_testkit.judging.observation import parse_observation

from .support.paths import ROOT
from .support.processes import free_port, wait_until_listening

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


def apply_diff(source: str, diff: str) -> str:
    """``source`` with the README's ``diff`` block applied: each ``@@`` hunk's context and ``-`` lines, found
    exactly once, replaced by its context and ``+`` lines."""
    for hunk in re.split(r"^@@.*\n", diff, flags=re.M)[1:]:
        lines = hunk.splitlines()
        assert all(line[:1] in " -+" for line in lines), hunk
        old = "".join(line[1:] + "\n" for line in lines if line[:1] in " -")
        new = "".join(line[1:] + "\n" for line in lines if line[:1] in " +")
        assert source.count(old) == 1, f"the diff's hunk is not in the snippet exactly once:\n{old}"
        source = source.replace(old, new)
    return source


def violation_counts(output: str) -> dict[str, int]:
    """The kinds and counts of a failure's headline: ``N error(s), M warning(s): kind xN, kind xN``."""
    line = re.search(r"\d+ error\(s\), \d+ warning\(s\): (.*)", output)
    assert line, output[-3000:]
    return {kind: int(count) for kind, count in re.findall(r"(\w+) x(\d+)", line.group(1))}


def test_tutorial_snippet_fails_with_the_promised_violations_only(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_webhook=block_with("def make_app(secret, recorder)"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "test_webhook.py")
    output = result.stdout.str()
    assert result.ret == 1, output[-3000:]
    promised = README[README.index("The test fails with "):README.index("and only those")]
    kinds = set(re.findall(r"`(\w+)`", promised))
    assert kinds == {"stale_applied", "stale_final_state", "resurrected"}  # what the paragraph names
    assert set(violation_counts(output)) == kinds, output[-3000:]  # no server_error from a probe, nothing else
    assert "Reproduce with: pytest 'test_webhook.py::test_webhook' --akeneo-seed 0" in output


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_documented_fix_makes_the_tutorial_pass(pytester: pytest.Pytester, seed: int) -> None:
    (diff,) = blocks("diff")
    fixed = apply_diff(block_with("def make_app(secret, recorder)"), diff)
    assert "no staleness check" not in fixed
    pytester.makepyfile(test_webhook=fixed)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "test_webhook.py", "--akeneo-seed", str(seed))
    result.assert_outcomes(passed=1)


def test_apply_diff_refuses_a_hunk_it_cannot_place() -> None:
    with pytest.raises(AssertionError, match="exactly once"):
        apply_diff("a\nb\n", "@@ x\n a\n-c\n+d\n")
    assert apply_diff("a\nb\nc\n", "@@ x\n a\n-b\n+B\n+b2\n") == "a\nB\nb2\nc\n"


def test_flask_step_is_self_contained(pytester: pytest.Pytester) -> None:
    """Step 2's two files, saved side by side as the README says, and nothing from ``examples/``."""
    pytester.makepyfile(flask_receiver=block_with("def create_app(secret)"),
                        test_flask_receiver=block_with("from flask_receiver import create_app"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "test_flask_receiver.py")
    result.assert_outcomes(passed=1)
    assert "examples" not in block_with("from flask_receiver import create_app")


def test_hypothesis_snippet(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_strategies=block_with("aks.deliveries("))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "test_strategies.py")
    result.assert_outcomes(passed=1)


def test_event_platform_hypothesis_snippet(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_ep_strategies=block_with("aeps.ep_requests("))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "test_ep_strategies.py")
    result.assert_outcomes(passed=1)


def test_every_python_block_is_tested() -> None:
    # tutorial, Flask receiver and its test, Hypothesis, Event Platform Hypothesis, Python API
    assert len(blocks("python")) == 6


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


def bash_block_with(text: str) -> str:
    found = [block for block in blocks("bash") if text in block]
    assert len(found) == 1, f"{len(found)} README bash blocks contain {text!r}"
    return found[0]


@contextlib.contextmanager
def started(command: str, cwd: Path, env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    """``command`` (a README block) run by bash in a session of its own, until it listens on ``port``; the
    whole session is ended afterwards, so the receiver it started goes with it."""
    process = subprocess.Popen(["bash", "-c", command], cwd=cwd, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert process.stderr is not None
        stderr = process.stderr
        wait_until_listening(process, port, what=repr(command), timeout=30,
                             errors=lambda: stderr.read().decode(errors="replace"))
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        if process.stderr is not None:
            process.stderr.close()


@pytest.mark.parametrize("receiver", ["python", "node"])
def test_step_3_starts_a_receiver_and_fuzzes_it(tmp_path: Path, receiver: str) -> None:
    """Step 3 as written: start the receiver (step 2's Flask file, or the Node example from the checkout),
    then fuzz it with the README's command. Only the port differs (``PORT``, as the README says), and
    ``akeneo-events`` is this checkout's CLI."""
    if receiver == "node" and shutil.which("node") is None:
        pytest.skip("Node.js is not installed")
    (tmp_path / "flask_receiver.py").write_text(block_with("def create_app(secret)"), encoding="utf-8")
    start = bash_block_with("python3 flask_receiver.py" if receiver == "python" else "node examples/node_receiver")
    fuzz = bash_block_with("akeneo-events fuzz --url http://127.0.0.1:8000/webhook")
    port = free_port()
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PORT": str(port), "PYTHONPATH": path}  # this checkout's kit, from any directory
    with started(start, tmp_path if receiver == "python" else ROOT, env, port):
        command = fuzz.replace("127.0.0.1:8000", f"127.0.0.1:{port}").replace(
            "akeneo-events fuzz", f"{shlex.quote(sys.executable)} -m akeneo_events_testkit.cli fuzz")
        done = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert done.stdout.rstrip().endswith("PASS: no violations")
    report = json.loads((tmp_path / "fuzz.json").read_text())
    assert report["verdict"] == "pass" and report["stats"]["events_generated"] == 2000, report["stats"]
    assert (tmp_path / "fuzz.xml").is_file() and (tmp_path / "fuzz.html").is_file()


def test_install_block_uses_a_virtual_environment_and_the_dev_extra() -> None:
    install = bash_block_with("python3 -m venv")
    assert install.strip() == 'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[dev]"'
    assert "`pip install akeneo-events-testkit` is for once the kit is published" in README
    pyproject = (ROOT / "pyproject.toml").read_text()
    dev = pyproject[pyproject.index("dev = ["):pyproject.index("]", pyproject.index("dev = ["))]
    assert '"fastapi>=' in dev and '"flask>=' in dev  # the tutorial's frameworks come with the extra
