"""Benchmark 6: where the time goes in benchmarks 1 (encoding+signing), 3 (delivery) and 5 (campaign).

    python3 benchmarks/profile_hotspots.py [--quick] [--only encoding|delivery|campaign|receiver] [--pyinstrument]

cProfile (standard library) prints the top functions by own time and by cumulative time; with
``--pyinstrument`` (``pip install pyinstrument``) a sampling call tree is printed instead, which shows the
cost of C code such as the regex engine and the JSON encoder inside their Python callers. Only this
process is profiled: the loopback server of the delivery profile runs in a child process.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import time
from collections.abc import Callable
from typing import Any

from _common import SECRET, ChildServer, envelopes, parser, realistic_events

TOP = 18


def encoding_workload(quick: bool) -> Callable[[], Any]:
    from akeneo_events_testkit.encoding import php_json_encode_bytes
    from akeneo_events_testkit.events_api.signing import sign

    docs = envelopes(realistic_events(seed=1, events=600 if quick else 2000))

    def run() -> None:
        for _ in range(5):
            for doc in docs:
                sign(SECRET, 1_700_000_000, php_json_encode_bytes(doc))

    return run


def delivery_workload(quick: bool, url: str) -> Callable[[], Any]:
    from akeneo_events_testkit.events_api.pim import MockPim

    def run() -> None:
        MockPim(seed=3, events=600 if quick else 2000).run(url, secret=SECRET)

    return run


def campaign_workload(quick: bool) -> Callable[[], Any]:
    from akeneo_events_testkit.events_api.campaign import CampaignConfig, run_campaign
    from akeneo_events_testkit.receiver import MemoryStore, ReferenceReceiver

    def run() -> None:
        receiver = ReferenceReceiver(SECRET, store=MemoryStore())
        run_campaign(
            CampaignConfig(seed=5, events=1000 if quick else 5000),
            target=receiver.asgi(),
            secret=SECRET,
            observe=receiver.observation,
        )

    return run


def receiver_workload(quick: bool) -> Callable[[], Any]:
    import tempfile

    from bench_receiver import build_requests

    from akeneo_events_testkit.receiver import ReferenceReceiver, SqliteStore

    requests = build_requests(300 if quick else 1500, seed=41)
    folder = tempfile.TemporaryDirectory(prefix="bench-receiver-")  # removed at exit
    runs = [0]

    def run() -> None:
        runs[0] += 1
        store = SqliteStore(f"{folder.name}/receiver-{runs[0]}.sqlite3", synchronous="NORMAL")
        receiver = ReferenceReceiver(SECRET, store=store)
        try:
            for body, headers in requests:
                receiver.handle("POST", "/webhook", headers, body)
        finally:
            store.close()

    return run


def profile(name: str, run: Callable[[], Any], use_pyinstrument: bool) -> None:
    print(f"\n######## {name}")
    run()  # warm caches (schemas, Faker pools) outside the profile
    if use_pyinstrument:
        try:
            from pyinstrument import Profiler
        except ImportError:
            print("pyinstrument not installed (pip install pyinstrument): using cProfile")
        else:
            profiler = Profiler(interval=0.0005)
            profiler.start()
            run()
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False, show_all=False))
            return
    profiler_c = cProfile.Profile()
    started = time.perf_counter()
    profiler_c.enable()
    run()
    profiler_c.disable()
    print(f"wall time under cProfile: {time.perf_counter() - started:.2f} s")
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(profiler_c, stream=out)
        stats.strip_dirs().sort_stats(order).print_stats(TOP)
        lines = out.getvalue().splitlines()
        start = next(i for i, line in enumerate(lines) if "ncalls" in line)
        print(f"-- top {TOP} by {order}")
        print("\n".join(lines[start : start + TOP + 1]))


def main() -> None:
    cli = parser(__doc__.splitlines()[0])
    cli.add_argument("--only", choices=("encoding", "delivery", "campaign", "receiver"))
    cli.add_argument("--pyinstrument", action="store_true")
    args = cli.parse_args()
    chosen = [args.only] if args.only else ["encoding", "delivery", "campaign"]
    if "encoding" in chosen:
        profile("1. encoding + signing", encoding_workload(args.quick), args.pyinstrument)
    if "delivery" in chosen:
        with ChildServer("trivial") as server:
            profile(
                "3. delivery: MockPim.run to a trivial server",
                delivery_workload(args.quick, server.url),
                args.pyinstrument,
            )
    if "campaign" in chosen:
        profile(
            "5. campaign in-process (MemoryStore, default faults, probes)",
            campaign_workload(args.quick),
            args.pyinstrument,
        )
    if args.only == "receiver":  # on demand: the reference receiver's handle() with SQLite, no HTTP
        profile(
            "4. ReferenceReceiver.handle, SqliteStore NORMAL, 10-event batches",
            receiver_workload(args.quick),
            args.pyinstrument,
        )


if __name__ == "__main__":
    main()
