"""A loopback server for the benchmarks, run as a child process so that it has a core of its own.

    python3 benchmarks/_serve.py trivial
    python3 benchmarks/_serve.py receiver --store sqlite --synchronous FULL --dir /tmp/x
    python3 benchmarks/_serve.py receiver --store memory

Prints ``[webhook_url, state_url]`` as JSON on its first line, then serves on 127.0.0.1 (a free port) until
its standard input is closed, and exits. It never runs longer than ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import json
import select
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from _common import SECRET, AppServer, trivial_app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=("trivial", "receiver"))
    parser.add_argument("--store", choices=("sqlite", "memory"), default="sqlite")
    parser.add_argument("--synchronous", default="FULL")
    parser.add_argument("--dir", help="where the SQLite file goes (default: a fresh temporary folder)")
    parser.add_argument("--max-seconds", type=float, default=900.0)
    args = parser.parse_args()
    with ExitStack() as stack:
        if args.kind == "trivial":
            server = stack.enter_context(AppServer(trivial_app))
            urls = [server.url, ""]
        else:
            from akeneo_events_testkit.receiver import MemoryStore, ReceiverServer, ReferenceReceiver, SqliteStore

            store: MemoryStore | SqliteStore
            if args.store == "memory":
                store = MemoryStore()
            else:
                folder = Path(args.dir) if args.dir else Path(stack.enter_context(tempfile.TemporaryDirectory()))
                store = SqliteStore(folder / "receiver.sqlite3", synchronous=args.synchronous)
                stack.callback(store.close)
            receiver = ReferenceReceiver(SECRET, store=store)
            served = stack.enter_context(ReceiverServer(receiver))
            urls = [served.url, served.state_url]
        print(json.dumps(urls), flush=True)
        deadline = time.monotonic() + args.max_seconds
        while time.monotonic() < deadline:
            readable, _, _ = select.select([sys.stdin], [], [], 0.5)
            if readable and not sys.stdin.read(1):
                break


if __name__ == "__main__":
    main()
