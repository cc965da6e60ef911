"""Run every benchmark, each in its own process, and print one summary table (Markdown) at the end.

    python3 benchmarks/run_all.py --quick      # the whole suite in about 2 minutes
    python3 benchmarks/run_all.py              # full sizes: the 1M-event campaign alone takes several minutes
    python3 benchmarks/run_all.py --profile    # also print the hot-spot profiles (benchmark 6)

Each benchmark prints its own figures and ``RESULT`` lines; every figure is a ratio against a baseline
measured in the same run. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def suite(quick: bool, profile: bool) -> list[list[str]]:
    flag = ["--quick"] if quick else []
    runs = [
        ["bench_encoding.py", *flag],
        ["bench_validation.py", *flag],
        ["bench_delivery.py", *flag],
    ]
    if not quick:
        runs.append(["bench_delivery.py", "--server", "thread"])
    runs += [
        ["bench_receiver.py", *flag],
        ["bench_campaign.py", *flag],
        ["bench_plugin_import.py", *flag],
    ]
    if not quick:
        runs.append(["bench_campaign.py", "--diagnose", "20000"])
    if profile or not quick:
        runs.append(["profile_hotspots.py", *flag])
    return runs


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--quick", action="store_true", help="smaller workloads, about 2 minutes in all")
    cli.add_argument("--profile", action="store_true", help="also run the profiles in quick mode")
    args = cli.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        results = Path(folder) / "results.jsonl"
        failed = []
        for script, *options in suite(args.quick, args.profile):
            command = [sys.executable, str(HERE / script), *options]
            if script != "profile_hotspots.py" and "--diagnose" not in options:
                command += ["--json", str(results)]
            print(f"\n$ python3 benchmarks/{script} {' '.join(options)}".rstrip(), flush=True)
            began = time.perf_counter()
            code = subprocess.call(command, env={**os.environ, "PYTHONUNBUFFERED": "1"})
            print(f"  ({time.perf_counter() - began:.0f} s)", flush=True)
            if code != 0:
                failed.append(script)
        rows = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
    print(f"\n## Summary ({'quick' if args.quick else 'full'} run, {time.perf_counter() - started:.0f} s)\n")
    print("| benchmark | value | baseline | ratio | target | met |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        value = row["value"]
        shown = ", ".join(f"{k}: {v}" for k, v in value.items()) if isinstance(value, dict) else f"{value:,}"
        extra = f" (p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms)" if "p99_ms" in row else ""
        met = {True: "yes", False: "**no**", None: "-"}[row["met"]]
        print(
            f"| {row['benchmark']} | {shown} {row['unit']}{extra} | {row['baseline']:,} ({row['baseline_name']}) "
            f"| {row['ratio']}{' ' + row['ratio_name'] if 'ratio_name' in row else ''} | {row['target']} | {met} |"
        )
    if rows:
        machine = rows[0]["machine"]
        print(
            f"\nMachine: {machine['cores']} cores ({machine['cpu']}), Python {machine['python']}, "
            f"{machine['platform']}, {machine['date']}; 1-minute load at start of each: "
            f"{sorted({r['machine']['load_1min'] for r in rows})}"
        )
    if failed:
        print(f"\nFAILED: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
