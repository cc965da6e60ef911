"""examples/observers/receiver.py (or its buggy variant) in another process on a free loopback port.

The receiver stops when its standard input closes (``--exit-with-stdin``), so it cannot outlive the test."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .paths import ROOT
from .processes import free_port, wait_until_listening

SECRET = "observed-s3cret"
EXAMPLE = ROOT / "examples" / "observers" / "receiver.py"
FORGETS_REMOVALS = ROOT / "tests" / "support" / "forgets_removals.py"
#: the sink mapping of the example's forwarded bodies
SINK_MAP = "event_id=/event/id,uuid=/product/uuid,identifier=/product/identifier,code=/product_model/code," \
           "removed=/deleted"
QUERY = "SELECT event_id, resource_key, removed FROM applications ORDER BY seq"
PATTERN = r"applied (?P<event_id>\S+) (?P<key>\S+)(?P<removed> removed)?"


@contextlib.contextmanager
def observed_receiver(*options: str, buggy: bool = False, stdout: Path | None = None) -> Iterator[str]:
    """Start the receiver with ``options`` (``--forward URL``, ``--database PATH``, ``--log``), its output
    to ``stdout``; yields its webhook URL once it listens."""
    port = free_port()
    script = FORGETS_REMOVALS if buggy else EXAMPLE
    out: IO[bytes] | int = stdout.open("ab") if stdout is not None else subprocess.DEVNULL
    errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed below) a file, not a pipe: tracebacks never block it
    process = subprocess.Popen([sys.executable, str(script), *options, "--exit-with-stdin"],
                               env={**os.environ, "AKENEO_EVENTS_SECRET": SECRET, "PORT": str(port)},
                               stdin=subprocess.PIPE, stdout=out, stderr=errors)
    try:
        def stderr() -> str:
            errors.seek(0)
            return errors.read().decode(errors="replace")

        wait_until_listening(process, port, what="the receiver", errors=stderr)
        yield f"http://127.0.0.1:{port}/webhook"
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        errors.close()
        if not isinstance(out, int):
            out.close()
