"""A receiver in another language and another process, reached only over HTTP, fuzzed by the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest

from .support.paths import ROOT
from .support.processes import free_port, wait_until_listening

NODE = shutil.which("node")
RECEIVER = ROOT / "examples" / "node_receiver" / "receiver.js"
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed")


@pytest.fixture
def node_receiver() -> Iterator[str]:
    assert NODE is not None
    port = free_port()
    process = subprocess.Popen([NODE, str(RECEIVER)], env={**os.environ, "AKENEO_EVENTS_SECRET": "node-s3cret",
                                                          "PORT": str(port)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_listening(process, port, what="the Node.js receiver")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait(10)


@pytest.mark.parametrize("seed", [1, 2])
def test_fuzz_a_correct_node_receiver_over_http(node_receiver: str, seed: int) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "akeneo_events_testkit.cli", "fuzz", "--url", f"{node_receiver}/webhook",
         "--state-url", f"{node_receiver}/state", "--seed", str(seed), "--events", "300", "--faults", "chaos"],
        env={**os.environ, "AKENEO_EVENTS_SECRET": "node-s3cret", "CI": "true"},
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert done.stdout.rstrip().endswith("PASS: no violations")


def test_a_wrong_secret_is_named(node_receiver: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "akeneo_events_testkit.cli", "fuzz", "--url", f"{node_receiver}/webhook",
         "--state-url", f"{node_receiver}/state", "--events", "40", "--secret", "not-the-receivers-secret"],
        env={**os.environ, "CI": "true"}, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1
    assert "rejected_valid" in done.stdout and "not-the-receivers-secret" not in done.stdout
