"""Headless Chromium for the HTML report's tests: render a page, run its scripts and dump the DOM, with the
console's messages (script errors are logged as ``Uncaught ...``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

#: the Chromium binary, or None where it is not installed (the tests that need it skip)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def dump_dom(page: Path, profile: Path, *, fragment: str = "") -> tuple[str, str]:
    """The DOM of ``page`` (opened at ``#fragment``) after its scripts ran, and Chromium's log: its own
    profile directory, no network, no GPU; killed after two minutes."""
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0", f"--user-data-dir={profile}", "--dump-dom",
         page.as_uri() + (f"#{fragment}" if fragment else "")],
        capture_output=True, timeout=120, text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, done.stderr
