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


class Served:
    """``akeneo-events serve *args`` in a subprocess (``--port 0``): its base URL from the first line it prints;
    :meth:`stop` ends it (SIGTERM, then SIGKILL after 10 s) and returns the rest of its output."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        environment = {key: value for key, value in os.environ.items() if key != "AKENEO_EVENTS_SECRET"}
        environment.update(env or {})
        self.process = subprocess.Popen(
            [sys.executable, "-m", "akeneo_events_testkit.cli", "serve", "--port", "0", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
        assert self.process.stdout is not None
        self.output = self.errors = ""
        self.first_line = self.process.stdout.readline()  # printed before serving; EOF if serve exits
        if " at http://" not in self.first_line:
            self.stop()
            raise AssertionError(f"serve did not start: {self.first_line!r} {self.errors!r}")
        self.base_url = self.first_line.split(" at ", 1)[1].split(" ", 1)[0].rsplit("/", 1)[0]

    def stop(self) -> str:
        """Stop the server (once) and return what it printed after its first line."""
        if self.process.returncode is None:
            self.process.terminate()
            try:
                self.output, self.errors = self.process.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.output, self.errors = self.process.communicate(timeout=10)
        return self.output

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
