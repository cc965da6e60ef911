"""Real PHP (Debian's php-cli) as a differential judge of the encoder and the signer."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from .processes import free_port, wait_until_listening

PHP = shutil.which("php")

requires_php = pytest.mark.skipif(PHP is None, reason="php-cli is not installed (.ci/run installs it)")

# Reads base64 JSON documents, one per line, decodes them as stdClass objects (so {} stays {}) and prints
# base64 of json_encode() for each: one PHP process per batch keeps the differential tests fast.
_ENCODE = r"""
while (($line = fgets(STDIN)) !== false) {
    $value = json_decode(base64_decode(trim($line)), false, 512, JSON_BIGINT_AS_STRING * 0);
    $out = json_encode($value);
    echo ($out === false ? '!' . json_last_error_msg() : base64_encode($out)), "\n";
}
"""

_HMAC = r"""
while (($line = fgets(STDIN)) !== false) {
    [$secret, $ts, $body] = array_map('base64_decode', explode(' ', trim($line)));
    echo hash_hmac('sha256', $ts . '.' . $body, $secret), "\n";
}
"""


def _run(script: str, lines: list[str]) -> list[str]:
    assert PHP is not None
    done = subprocess.run(
        [PHP, "-d", "serialize_precision=-1", "-r", script],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.splitlines()


def php_json_encode_many(values: list[Any]) -> list[str | None]:
    """PHP's json_encode of each value (None where PHP refuses it)."""
    lines = [base64.b64encode(json.dumps(v).encode("utf-8", "surrogatepass")).decode() for v in values]
    results: list[str | None] = []
    for out in _run(_ENCODE, lines):
        results.append(None if out.startswith("!") else base64.b64decode(out).decode("ascii"))
    return results


def php_hmac_many(items: list[tuple[bytes, bytes, bytes]]) -> list[str]:
    """PHP's hash_hmac('sha256', "<ts>.<body>", secret) for each (secret, ts, body)."""
    lines = [" ".join(base64.b64encode(part).decode() for part in item) for item in items]
    return _run(_HMAC, lines)


@contextlib.contextmanager
def php_server(script: Path, env: Mapping[str, str]) -> Iterator[str]:
    """Serve ``script`` as the router of PHP's built-in server on a free loopback port; yields its base URL.

    ``display_errors`` is off, as in production: an uncaught exception is then a bare 500. The server (one
    process, one request at a time) is killed on exit, whatever happened.
    """
    assert PHP is not None
    port = free_port()
    process = subprocess.Popen([PHP, "-d", "display_errors=0", "-d", "log_errors=0", "-S", f"127.0.0.1:{port}",
                                str(script)], env={**os.environ, **env},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_listening(process, port, what="php -S")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait(10)
