"""Benchmark 7: what the kit's pytest plugin costs every pytest session of a project that has it installed.

    python3 benchmarks/bench_plugin_import.py [--quick] [--json FILE]

pytest loads the plugin through its ``pytest11`` entry point in every session, even in suites that never use
the kit, so its import must stay cheap. Each round starts fresh interpreters, interleaved: one runs
``import pytest`` (the baseline), one ``import pytest`` then ``import akeneo_events_testkit.pytest_plugin``.
The figure is the median extra time of the plugin and the ratio of the two medians; it also lists which heavy
dependencies (Faker, uvicorn, jsonschema, httpx, Hypothesis) the plugin import loaded (the target: none).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

from _common import ROOT, emit, header, parser

HEAVY = ("faker", "uvicorn", "jsonschema", "jsonschema_rs", "httpx", "hypothesis")
#: The plugin may add at most this share to a bare ``import pytest``.
TARGET = 1.2

_TIMED = (
    "import time; t = time.perf_counter(); {imports}; "
    "import sys, json; print(json.dumps([time.perf_counter() - t, sorted(m for m in {heavy!r} if m in sys.modules)]))"
)


def _run(imports: str) -> tuple[float, list[str]]:
    code = _TIMED.format(imports=imports, heavy=HEAVY)
    # -S would hide site-packages; -I would drop the checkout from the path: PYTHONPATH keeps it first
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60,
                            cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}).stdout
    elapsed, loaded = json.loads(output)
    return float(elapsed), list(loaded)


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    header("pytest plugin import")
    rounds = 8 if args.quick else 30
    bare: list[float] = []
    plugin: list[float] = []
    loaded: list[str] = []
    deadline = time.perf_counter() + (30 if args.quick else 120)
    for index in range(rounds + 1):
        pair = [("bare", "import pytest"), ("plugin", "import pytest; import akeneo_events_testkit.pytest_plugin")]
        if index % 2:
            pair.reverse()
        for name, imports in pair:
            elapsed, heavy = _run(imports)
            if index == 0:
                continue  # warm-up: the first interpreters fill the OS caches
            (bare if name == "bare" else plugin).append(elapsed)
            if name == "plugin":
                loaded = heavy
        if index >= 3 and time.perf_counter() > deadline:
            break
    bare_ms = statistics.median(bare) * 1000
    plugin_ms = statistics.median(plugin) * 1000
    ratio = plugin_ms / bare_ms
    print(f"  import pytest                           {bare_ms:7.1f} ms (median of {len(bare)})")
    print(f"  import pytest + the kit's pytest plugin {plugin_ms:7.1f} ms (+{plugin_ms - bare_ms:.1f} ms)")
    print(f"  ratio = {ratio:.2f} (target <= {TARGET}); heavy modules loaded: {', '.join(loaded) or 'none'}")
    emit(args, {
        "benchmark": "pytest plugin import",
        "unit": "ms",
        "value": round(plugin_ms, 1),
        "baseline": round(bare_ms, 1),
        "baseline_name": "import pytest",
        "ratio": round(ratio, 3),
        "target": f"<= {TARGET}, no heavy module",
        "met": ratio <= TARGET and not loaded,
        "details": {"bare_ms": bare, "plugin_ms": plugin, "heavy_loaded": loaded},
    })


if __name__ == "__main__":
    main()
