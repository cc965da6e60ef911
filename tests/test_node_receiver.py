"""A receiver in another language and another process, reached only over HTTP, fuzzed by the CLI."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from .support.paths import ROOT

NODE = shutil.which("node")
RECEIVER = ROOT / "examples" / "node_receiver" / "receiver.js"
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def node_receiver() -> Iterator[str]:
    assert NODE is not None
    port = _free_port()
    process = subprocess.Popen([NODE, str(RECEIVER)], env={**os.environ, "AKENEO_EVENTS_SECRET": "node-s3cret",
                                                          "PORT": str(port)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with socket.socket() as conn:
                if conn.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        else:
            pytest.fail("the Node.js receiver did not start within 15 s")
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
