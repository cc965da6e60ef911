"""Snapshots of what the CLI prints, so that a change in the output people read is a deliberate one.

Regenerate after an intended change with ``AKENEO_UPDATE_SNAPSHOTS=1 pytest tests/cli/test_snapshots.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "akeneo_events_testkit.cli", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "CI": "true"})


def _check(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("AKENEO_UPDATE_SNAPSHOTS"):
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"output changed; if intended, regenerate {path.name} (see module docstring)"


def test_failure_anatomy_of_a_receiver_that_applies_nothing(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    httpserver.expect_request("/state").respond_with_json({"applied": [], "resources": {}})
    done = _run("fuzz", "--url", httpserver.url_for("/hook"), "--state-url", httpserver.url_for("/state"),
                "--secret", "snapshot-secret", "--seed", "4", "--events", "40", "--start", "1767225600", "--quiet")
    assert done.returncode == 1
    text = re.sub(r"(127\.0\.0\.1|localhost):\d+", "HOST:PORT", done.stdout)
    # a request's time is the clock's when it was signed (probes: the wall clock), not the activity's --start
    text = re.sub(r"(-> \S+ at )\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", r"\1TIME", text)
    _check("fuzz_quiet_failure.txt", text)


@pytest.mark.parametrize("name", ["serenity-product-removed.json"])
def test_validate_output(reference_dir: Path, tmp_path: Path, name: str) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"events":[{"action":"product.updated","event_id":"nope","event_datetime":"2020-01-01",'
                      '"author":"","author_type":"robot","pim_source":"x","data":{"resource":{"uuid":1}}}]}')
    done = _run("validate", str(reference_dir / "docs-examples" / name), str(broken))
    assert done.returncode == 1
    text = done.stdout.replace(str(reference_dir), "REFERENCE").replace(str(tmp_path), "TMP")
    _check("validate_mixed.txt", text)
