"""The CLI run as users run it: ``python -m akeneo_events_testkit.cli`` in a subprocess, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys


def cli(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``akeneo-events *args`` with ``CI=true`` and no ``AKENEO_EVENTS_SECRET`` from this environment (unless
    ``env`` sets it); the output decoded, and asserted free of tracebacks."""
    environment = {key: value for key, value in os.environ.items() if key != "AKENEO_EVENTS_SECRET"}
    environment.update({"CI": "true", **(env or {})})
    done = subprocess.run([sys.executable, "-m", "akeneo_events_testkit.cli", *args], input=stdin,
                          capture_output=True, timeout=timeout, env=environment)
    result = subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())
    assert "Traceback" not in result.stderr, result.stderr
    return result
