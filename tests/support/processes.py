"""Receivers in other processes: a free loopback port, and waiting until one listens (or has died)."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_listening(process: subprocess.Popen[bytes], port: int, *, what: str, timeout: float = 15.0,
                         errors: Callable[[], str] = lambda: "") -> None:
    """Return once ``process`` listens on ``port``; raise :class:`RuntimeError` naming ``what`` when it
    exits first (with the tail of ``errors()``, its standard error) or does not listen within ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            tail = errors()
            raise RuntimeError(f"{what} exited with {process.returncode}" + (f": {tail[-2000:]}" if tail else ""))
        with socket.socket() as conn:
            if conn.connect_ex(("127.0.0.1", port)) == 0:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not listen on port {port} within {timeout:g} s")
        time.sleep(0.05)  # polling a port another process opens: nothing to wait on instead
