"""Node.js receivers for the tests: start one on a free loopback port, yield its base URL, leave nothing behind.

The scripts in ``tests/support/node_receivers/`` listen on ``PORT`` and exit when their stdin closes, so a
receiver cannot outlive the test process even if the test is killed before its cleanup runs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from .paths import ROOT
from .processes import free_port, wait_until_listening

NODE = shutil.which("node")
RECEIVERS = ROOT / "tests" / "support" / "node_receivers"

requires_node = pytest.mark.skipif(NODE is None, reason="Node.js is not installed")


@contextlib.contextmanager
def node_receiver(script: str | Path, env: Mapping[str, str], *, start_timeout: float = 15) -> Iterator[str]:
    """Run ``script`` (a name in ``node_receivers/`` or a path) with ``env``; yields ``http://127.0.0.1:<port>``."""
    assert NODE is not None, "use @requires_node"
    path = script if isinstance(script, Path) else RECEIVERS / script
    port = free_port()
    process = subprocess.Popen([NODE, str(path)], env={**os.environ, **env, "PORT": str(port)},
                               stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert process.stderr is not None
        stderr = process.stderr
        wait_until_listening(process, port, what=path.name, timeout=start_timeout,
                             errors=lambda: stderr.read().decode(errors="replace"))
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.stdin is not None:
            process.stdin.close()  # the receiver exits on end of stdin
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stderr is not None:
            process.stderr.close()
