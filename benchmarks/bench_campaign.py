"""Benchmark 5: a fuzz campaign end to end in-process: events per second, and peak memory by campaign size.

Throughput: ``run_campaign(CampaignConfig(seed, events), target=receiver.asgi(), secret=...,
observe=receiver.observation)`` against the reference receiver with a ``MemoryStore``, default faults and
probes on, timed end to end (generation, faults, delivery through ``httpx.ASGITransport``, the receiver,
the observation and the oracle). Baseline: building the same number of events' requests offline
(``MockPim.deliveries``: generation + encoding + signing only), so the ratio shows what delivering,
receiving and judging cost on top of making the traffic.

``--profile event-platform`` runs the same for the Event Platform: ``run_ep_campaign(EpCampaignConfig(seed,
events))`` against its in-process reference receiver (default faults and probes, the virtual clock), versus
building the same events offline (``EpEmitter.cloud_events``: generation, deltas, encoding, plus signing each
body with ``ep_headers``); ``--profile both`` runs one after the other.

Memory: one child process per size (``--child N``) runs one campaign and reports its peak RSS
(``resource.getrusage``), its RSS after a 200-event warm-up campaign (imports, Faker pools, schemas), and
what the run retained: events in the ground truth, request records, resources in the observation, events
applied. ``--http`` serves the receiver (``MemoryStore``) from a child process of its own
(``_serve.py``) and fuzzes it over loopback HTTP, so the child's peak RSS is **the kit's own memory** (the
issue 16 target: at most 64 B per extra event from 100k to 1M). ``--diagnose N`` runs one campaign under
``tracemalloc`` and prints the allocation sites that
still hold memory at the end, and the deep size of the per-event containers.

    python3 benchmarks/bench_campaign.py [--quick] [--sizes 10000,100000,1000000] [--diagnose 20000]
                                         [--profile events-api|event-platform|both]
    python3 benchmarks/bench_campaign.py --http --skip-throughput [--quick] [--sizes 100000,1000000]
"""

from __future__ import annotations

import gc
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import SECRET, emit, header, interleaved, parser


def campaign(events: int, seed: int = 5, *, must_pass: bool = True, http: list[str] | None = None) -> tuple[Any, Any]:
    """One campaign against the reference receiver: in-process, or at ``http`` (``[webhook_url, state_url]``
    of a receiver served by another process, whose memory is then not this process's)."""
    from akeneo_events_testkit.events_api.campaign import CampaignConfig, run_campaign
    from akeneo_events_testkit.receiver import MemoryStore, ReferenceReceiver

    if http is not None:
        result = run_campaign(CampaignConfig(seed=seed, events=events), target=http[0], secret=SECRET,
                              state_url=http[1])
        if must_pass and not result.passed:
            raise RuntimeError(f"the reference receiver failed its campaign:\n{result.failure_text()}")
        return result, None
    receiver = ReferenceReceiver(SECRET, store=MemoryStore())
    result = run_campaign(
        CampaignConfig(seed=seed, events=events), target=receiver.asgi(), secret=SECRET, observe=receiver.observation
    )
    if must_pass and not result.passed:
        raise RuntimeError(f"the reference receiver failed its campaign:\n{result.failure_text()}")
    return result, receiver


def ep_campaign(events: int, seed: int = 5, *, must_pass: bool = True) -> Any:
    """An Event Platform campaign against its in-process reference receiver (the default target)."""
    from akeneo_events_testkit.event_platform.campaign import EpCampaignConfig, run_ep_campaign

    result = run_ep_campaign(EpCampaignConfig(seed=seed, events=events))
    if must_pass and not result.passed:
        raise RuntimeError(f"the reference receiver failed its Event Platform campaign:\n{result.verdict.counts()}")
    return result


def ep_offline(events: int, seed: int = 5) -> int:
    """The Event Platform's traffic built offline: every CloudEvent (generation, deltas, encoding), signed."""
    from akeneo_events_testkit.event_platform.emitter import EpEmitter
    from akeneo_events_testkit.event_platform.signing import ep_headers

    emitter = EpEmitter(seed, events)
    count = 0
    for event in emitter.cloud_events():
        ep_headers(event.raw, emitter.secrets)
        count += 1
    return count


class GcPauses:
    """Counts the garbage collector's runs per generation and their longest pause (via ``gc.callbacks``)."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.longest = [0.0, 0.0, 0.0]
        self.total = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        pause = time.perf_counter() - self._started
        generation = info["generation"]
        self.count[generation] += 1
        self.longest[generation] = max(self.longest[generation], pause)
        self.total += pause


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def ep_child(events: int) -> None:
    """:func:`child` for an Event Platform campaign."""
    ep_campaign(200, seed=99)
    gc.collect()
    warm_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = ep_campaign(events, must_pass=False)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "events": events, "seconds": round(seconds, 2), "events_per_second": round(events / seconds),
        "verdict": "pass" if result.passed else "fail", "violations": dict(result.verdict.counts()),
        "peak_rss_kib": peak, "warm_peak_rss_kib": warm_peak, "growth_kib": peak - warm_peak,
        "truth_events": len(result.truth.events), "requests": len(result.truth.attempts),
        "resources": len(result.observation.get("resources", {})),
    }), flush=True)


class ServedReceiver:
    """The reference receiver (``MemoryStore``) served by a child process (``_serve.py``), which exits when its
    standard input closes: each campaign gets a fresh one, so an earlier run's state is not judged."""

    def __enter__(self) -> list[str]:
        serve = Path(__file__).with_name("_serve.py")
        self.process = subprocess.Popen([sys.executable, str(serve), "receiver", "--store", "memory",
                                         "--max-seconds", "14400"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        urls: list[str] = json.loads(self.process.stdout.readline())
        return urls

    def __exit__(self, *exc: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)


def child(events: int, http: bool = False) -> None:
    """Run one campaign of ``events`` events and print one JSON line about its time and memory; with
    ``http``, against a receiver in another process (this process's memory is then the kit's alone)."""
    if http:
        with ServedReceiver() as urls:
            campaign(200, seed=99, http=urls)  # imports, Faker pools, schemas: the fixed cost
    else:
        campaign(200, seed=99)  # imports, Faker pools, schemas: the fixed cost
    gc.collect()
    warm_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    warm_rss = _rss_kib()
    pauses = GcPauses()
    gc.callbacks.append(pauses)
    started = time.perf_counter()
    if http:
        with ServedReceiver() as urls:
            result, receiver = campaign(events, must_pass=False, http=urls)
    else:
        result, receiver = campaign(events, must_pass=False)
    seconds = time.perf_counter() - started
    gc.callbacks.remove(pauses)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    truth = result.run.truth
    store = receiver.store if receiver is not None else None
    print(
        json.dumps(
            {
                "events": events,
                "seconds": round(seconds, 2),
                "events_per_second": round(events / seconds),
                "verdict": "pass" if result.passed else "fail",
                "violations": dict(result.verdict.counts()),
                "gc_runs": pauses.count,
                "gc_longest_pause_s": [round(p, 3) for p in pauses.longest],
                "gc_total_s": round(pauses.total, 2),
                "peak_rss_kib": peak,
                "warm_peak_rss_kib": warm_peak,
                "warm_rss_kib": warm_rss,
                "end_rss_kib": _rss_kib(),
                "growth_kib": peak - warm_peak,
                "truth_events": len(truth.events),
                "requests": len(truth.requests),
                "log_entries": len(truth.log),
                "faults_in_plan": len(result.run.fault_plan.faults) if result.run.fault_plan else 0,
                "resources": result.verdict.stats.get("resources_judged", 0),
                "applied": result.verdict.stats.get("applied", 0),
                "seen": len(store._seen) if store is not None else None,
                "stored_resources": len(store._resources) if store is not None else None,
            }
        ),
        flush=True,
    )


def deep_size(root: Any) -> int:
    """Bytes held by ``root`` and everything it references (shared objects counted once)."""
    seen: set[int] = set()
    stack = [root]
    total = 0
    while stack:
        item = stack.pop()
        if id(item) in seen or isinstance(item, type):
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        elif hasattr(item, "__dict__"):
            stack.append(vars(item))
        elif hasattr(item, "__slots__"):
            stack.extend(getattr(item, name) for name in item.__slots__ if hasattr(item, name))
    return total


def diagnose(events: int) -> None:
    """Where the memory that grows with a campaign is held: allocation sites and per-event containers."""
    import tracemalloc

    campaign(200, seed=99)
    gc.collect()
    tracemalloc.start(1)
    before = tracemalloc.take_snapshot()
    result, receiver = campaign(events)
    gc.collect()
    after = tracemalloc.take_snapshot()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"  tracemalloc: {events} events, retained after the campaign {current / 2**20:.1f} MiB, "
        f"peak {peak / 2**20:.1f} MiB"
    )
    print("  allocation sites holding the most memory at the end (retained, not freed):")
    for stat in after.compare_to(before, "lineno")[:14]:
        frame = stat.traceback[0]
        where = f"{Path(frame.filename).parent.name}/{Path(frame.filename).name}:{frame.lineno}"
        print(f"    {stat.size_diff / 2**20:7.2f} MiB {stat.count_diff:>9,} blocks  {where}")
    truth = result.run.truth
    store = receiver.store
    containers = {
        "GroundTruth.events (dict id -> GeneratedEvent)": truth.events,
        "GroundTruth.requests (list of RequestRecord)": truth.requests,
        "GroundTruth.log (capped at keep_log)": truth.log,
        "FaultPlan.faults (list of Fault)": result.run.fault_plan.faults if result.run.fault_plan else [],
        "MemoryStore._seen (set of ids)": store._seen,
        "MemoryStore._applied (list of ids)": store._applied,
        "MemoryStore._resources + _data (per resource)": (store._resources, store._data),
        "observation (applied list + resources)": result.observation,
        "Verdict (violations + stats)": result.verdict,
    }
    print("  deep size of what the run keeps (each measured alone; event-id strings are shared between them):")
    for name, container in containers.items():
        size = deep_size(container)
        print(f"    {size / 2**20:7.2f} MiB  {size / events:7.0f} B/event  {name}")


def main() -> None:
    cli = parser(__doc__.splitlines()[0])
    cli.add_argument("--sizes", help="comma-separated campaign sizes for the memory curve")
    cli.add_argument("--child", type=int, help=argparse_hidden())
    cli.add_argument("--diagnose", type=int, metavar="EVENTS", help="tracemalloc diagnosis of one campaign")
    cli.add_argument("--skip-throughput", action="store_true")
    cli.add_argument("--profile", choices=("events-api", "event-platform", "both"), default="events-api")
    cli.add_argument("--ep-child", type=int, help=argparse_hidden())
    cli.add_argument("--http", action="store_true",
                     help="memory curve with the receiver over HTTP in a child process: the kit's own memory")
    args = cli.parse_args()
    if args.child:
        child(args.child, http=args.http)
        return
    if args.ep_child:
        ep_child(args.ep_child)
        return
    if args.profile in ("events-api", "both"):
        header("fuzz campaign " + ("over loopback HTTP (reference receiver in a child process, MemoryStore"
                                   if args.http else "in-process (reference receiver, MemoryStore")
               + ", default faults, probes on)")
        if args.diagnose:
            diagnose(args.diagnose)
            return
        if not args.skip_throughput:
            throughput(args)
        quick_sizes = [10_000, 100_000] if args.http else [3_000, 10_000, 30_000]
        full_sizes = [100_000, 1_000_000] if args.http else [10_000, 100_000, 1_000_000]
        sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else (quick_sizes if args.quick else full_sizes)
        memory_curve(args, sizes)
    if args.profile in ("event-platform", "both"):
        header("Event Platform campaign in-process (reference receiver, default faults, probes on)")
        if not args.skip_throughput:
            ep_throughput(args)
        ep_sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else (
            [10_000] if args.quick else [10_000, 100_000])
        ep_memory(args, ep_sizes)


def ep_throughput(args: Any) -> None:
    """Event Platform campaign events/s against building the same events offline, interleaved."""
    events = 2000 if args.quick else 10_000
    ep_campaign(200, seed=99)

    def run() -> int:
        ep_campaign(events)
        return events

    rates = interleaved({"campaign": run, "offline build": lambda: ep_offline(events)},
                        rounds=2 if args.quick else 4, budget=10 if args.quick else 120)
    ratio = rates["campaign"]["median"] / rates["offline build"]["median"]
    for name, rate in rates.items():
        print(f"  {name:<14} {rate['median']:>8,.0f} events/s ({rate['rounds']} rounds of {events} events)")
    print(f"  ratio campaign/offline build = {ratio:.2f}")
    emit(args, {
        "benchmark": "Event Platform campaign in-process", "unit": "events/s",
        "value": round(rates["campaign"]["median"]), "baseline": round(rates["offline build"]["median"]),
        "baseline_name": "EpEmitter.cloud_events + ep_headers (offline build)", "ratio": round(ratio, 3),
        "target": ">= 0.5", "met": ratio >= 0.5, "details": {"rates": rates, "events": events},
    })


def ep_memory(args: Any, sizes: list[int]) -> None:
    """Peak RSS of an Event Platform campaign per size, each in a fresh child."""
    rows: list[dict[str, Any]] = []
    for size in sizes:
        command = [sys.executable, __file__, "--ep-child", str(size)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=4 * 3600, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"Event Platform campaign child of {size} events failed:\n{done.stderr[-3000:]}")
        row = json.loads(done.stdout.strip().splitlines()[-1])
        slope = ""
        if rows:
            previous = rows[-1]
            row["slope_bytes_per_event"] = round(
                (row["peak_rss_kib"] - previous["peak_rss_kib"]) * 1024 / (row["events"] - previous["events"]))
            slope = f"; since {previous['events']:,}: {row['slope_bytes_per_event']:,} B per extra event"
        rows.append(row)
        print(f"  {size:>9,} events: {row['seconds']:>8.1f} s ({row['events_per_second']:,} events/s), peak RSS "
              f"{row['peak_rss_kib'] / 1024:7.1f} MiB (after warm-up {row['warm_peak_rss_kib'] / 1024:.1f}){slope}; "
              f"{row['requests']:,} requests, {row['resources']:,} resources, verdict {row['verdict']} "
              f"{row['violations'] or ''}", flush=True)
        emit(args, {
            "benchmark": f"Event Platform campaign peak memory, {size:,} events", "unit": "MiB peak RSS",
            "value": round(row["peak_rss_kib"] / 1024, 1), "baseline": round(row["warm_peak_rss_kib"] / 1024, 1),
            "baseline_name": "peak RSS after a warm-up campaign",
            "ratio": row.get("slope_bytes_per_event"), "ratio_name": "bytes per extra event since the previous size",
            "target": "report", "met": None, "details": row,
        })


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


def throughput(args: Any) -> None:
    from akeneo_events_testkit.events_api.pim import MockPim

    events = 2000 if args.quick else 10_000
    campaign(200, seed=99)

    cpu: list[float] = []

    def run() -> int:
        before = resource.getrusage(resource.RUSAGE_SELF)
        campaign(events)
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        return events

    def offline() -> int:
        return sum(len(d.events) for d in MockPim(seed=5, events=events).deliveries(secret=SECRET))

    rates = interleaved(
        {"campaign": run, "offline build": offline}, rounds=2 if args.quick else 4, budget=10 if args.quick else 120
    )
    ratio = rates["campaign"]["median"] / rates["offline build"]["median"]
    for name, rate in rates.items():
        print(f"  {name:<14} {rate['median']:>8,.0f} events/s ({rate['rounds']} rounds of {events} events)")
    print(
        f"  ratio campaign/offline build = {ratio:.2f}; campaign CPU (all threads) "
        f"{events / (sum(cpu[1:]) / max(1, len(cpu) - 1)):,.0f} events per CPU-second"
    )
    emit(
        args,
        {
            "benchmark": "fuzz campaign in-process",
            "unit": "events/s",
            "value": round(rates["campaign"]["median"]),
            "baseline": round(rates["offline build"]["median"]),
            "baseline_name": "MockPim.deliveries (offline build)",
            "ratio": round(ratio, 3),
            "target": "report",
            "met": None,
            "details": {"rates": rates, "events": events},
        },
    )


def memory_curve(args: Any, sizes: list[int]) -> None:
    """Peak RSS per campaign size, each in a fresh child; the slope between sizes is the per-event cost.

    The difference of two peaks cancels the fixed cost (interpreter, imports, Faker pools, ~60 MiB) and most
    of the allocator's noise (+-15 MiB between runs), so the slope between the largest sizes is the figure.
    """
    rows: list[dict[str, Any]] = []
    for size in sizes:
        command = [sys.executable, __file__, "--child", str(size), *(["--http"] if args.http else [])]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, timeout=4 * 3600, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"campaign child of {size} events failed:\n{done.stderr[-3000:]}")
        row = json.loads(done.stdout.strip().splitlines()[-1])
        row["wall"] = round(time.perf_counter() - started, 1)
        slope = ""
        if rows:
            previous = rows[-1]
            row["slope_bytes_per_event"] = round(
                (row["peak_rss_kib"] - previous["peak_rss_kib"]) * 1024 / (row["events"] - previous["events"])
            )
            row["slope_bytes_per_resource"] = round(
                (row["peak_rss_kib"] - previous["peak_rss_kib"])
                * 1024
                / max(1, row["resources"] - previous["resources"])
            )
            slope = (
                f"; since {previous['events']:,}: {row['slope_bytes_per_event']:,} B per extra event = "
                f"{row['slope_bytes_per_resource']:,} B per extra resource"
            )
        rows.append(row)
        print(
            f"  {size:>9,} events: {row['seconds']:>8.1f} s ({row['events_per_second']:,} events/s), peak RSS "
            f"{row['peak_rss_kib'] / 1024:7.1f} MiB (after warm-up {row['warm_peak_rss_kib'] / 1024:.1f}){slope}",
            flush=True,
        )
        print(
            f"  {'':>9}         resources {row['resources']:,}, requests {row['requests']:,}, applied "
            f"{row['applied']:,}; verdict {row['verdict']} {row['violations'] or ''}; garbage collector "
            f"{row['gc_total_s']} s in all, longest full (gen 2) pause {row['gc_longest_pause_s'][2]} s over "
            f"{row['gc_runs'][2]} full collections",
            flush=True,
        )
    first, last = rows[0], rows[-1]
    slope = last.get("slope_bytes_per_event", 0)
    grew = last["resources"] / max(1, first["resources"])
    print(
        f"  events grew {last['events'] / first['events']:.0f}x, resources {grew:.1f}x, peak RSS "
        f"{last['peak_rss_kib'] / first['peak_rss_kib']:.1f}x"
    )
    span = f"{first['events'] // 1000}k -> {last['events'] // 1000}k" if len(rows) > 1 else ""
    if args.http:
        emit(
            args,
            {
                "benchmark": f"campaign peak RSS per extra event, receiver over HTTP, {span}"
                + ("" if (first["events"], last["events"]) == (100_000, 1_000_000) else
                   " (quick sizes; the target is stated for 100k -> 1M)"),
                "unit": "bytes per extra event",
                "value": slope,
                "baseline": round(first["warm_peak_rss_kib"] / 1024, 1),
                "baseline_name": "peak RSS (MiB) after a warm-up campaign",
                "ratio": slope,
                "ratio_name": "bytes per extra event (largest sizes)",
                "target": "<= 64",
                "met": slope <= 64,
                "details": {"rows": rows},
            },
        )
        return
    emit(
        args,
        {
            "benchmark": "fuzz campaign peak memory",
            "unit": "MiB peak RSS",
            "value": {str(r["events"]): round(r["peak_rss_kib"] / 1024, 1) for r in rows},
            "baseline": round(first["warm_peak_rss_kib"] / 1024, 1),
            "baseline_name": "peak RSS after a warm-up campaign",
            "ratio": slope,
            "ratio_name": "bytes per extra event (largest sizes)",
            "target": "O(resources)",
            "met": slope < 64,
            "details": {"rows": rows},
        },
    )


if __name__ == "__main__":
    main()
