"""Benchmark 3: delivery, requests per second from MockPim.run to a trivial loopback receiver vs bare httpx.

Both sides post to the same trivial uvicorn ASGI app (answers 200 ``{}`` after reading the body), started
once, so the ratio measures the emitter's own overhead: activity generation, send-time data, PHP encoding,
signing, the PIM's request pipeline (semaphore, the receiver-time stopwatch and deadline, streamed response) and the
ground-truth and log records.

Fairness: with one subscription, no faults and no probes, ``MockPim.run`` sends one request at a time (the
PIM's consumer handles one message at a time; only a message's fan-out to several subscriptions goes out
in parallel). The baseline is therefore a *sequential* loop over one ``httpx.AsyncClient`` (keep-alive,
``trust_env=False``) posting the very same requests (bodies and headers pre-built by ``MockPim.deliveries``
with the same seed), so both have one connection and one request in flight. ``MockPim.run`` is timed end
to end, including its start-up (catalog generation), which is also reported on its own.

By default the server runs in a child process (``--server process``) so that it has the second core and
does not share the client's GIL; ``--server thread`` runs it in a background thread of this process like
``ReceiverServer`` does (both are reported by ``run_all.py`` without ``--quick``). Target: ratio >= 0.8.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import ExitStack
from typing import Any

import httpx
from _common import SECRET, AppServer, ChildServer, emit, header, interleaved, parser, trivial_app

TARGET = 0.8
SEED = 3


def main() -> None:
    cli = parser(__doc__.splitlines()[0])
    cli.add_argument("--server", choices=("process", "thread"), default="process")
    cli.add_argument("--events", type=int, default=0, help="events per run (default 2000, quick 1000)")
    args = cli.parse_args()
    from akeneo_events_testkit.events_api.pim import MockPim
    from akeneo_events_testkit.transport.sender import Sender

    header(f"delivery (server in a {args.server})")
    events = args.events or (1000 if args.quick else 2000)
    deliveries = list(MockPim(seed=SEED, events=events).deliveries(secret=SECRET))
    requests = [(d.body, d.headers) for d in deliveries]
    started = time.perf_counter()
    MockPim(seed=SEED, events=1).deliveries(secret=SECRET).__next__()
    setup = time.perf_counter() - started

    with ExitStack() as stack:
        server: Any = (
            stack.enter_context(ChildServer("trivial"))
            if args.server == "process"
            else stack.enter_context(AppServer(trivial_app))
        )
        url = server.url
        sent: dict[str, int] = {}

        def mock_pim() -> int:
            result = MockPim(seed=SEED, events=events).run(url, secret=SECRET)
            sent["mock"] = result.requests_sent
            return result.requests_sent

        async def loop() -> int:
            async with httpx.AsyncClient(trust_env=False, timeout=5.0) as client:
                for body, headers in requests:
                    response = await client.post(url, content=body, headers=headers)
                    if response.status_code != 200:
                        raise RuntimeError(f"trivial server answered {response.status_code}")
            return len(requests)

        def bare() -> int:
            return asyncio.run(loop())

        async def sender_loop() -> int:
            async with Sender(url) as sender:
                for body, headers in requests:
                    attempt = await sender.post(body, headers)
                    if attempt.status != 200:
                        raise RuntimeError(f"trivial server: {attempt}")
            return len(requests)

        def kit_sender() -> int:
            return asyncio.run(sender_loop())

        def offline() -> int:
            return sum(1 for _ in MockPim(seed=SEED, events=events).deliveries(secret=SECRET))

        rates = interleaved(
            {
                "MockPim.run": mock_pim,
                "bare httpx loop": bare,
                "(part) Sender.post loop": kit_sender,
                "(part) offline build": offline,
            },
            rounds=3 if args.quick else 7,
            budget=15 if args.quick else 60,
        )
    if sent["mock"] != len(requests):
        raise RuntimeError(f"MockPim sent {sent['mock']} requests, the baseline {len(requests)}")
    ratio = rates["MockPim.run"]["median"] / rates["bare httpx loop"]["median"]
    mean_events = sum(len(d.events) for d in deliveries) / len(requests)
    print(
        f"  {events} events -> {len(requests)} requests of {mean_events:.1f} events on average; MockPim start-up "
        f"(catalog) {setup * 1000:.0f} ms"
    )
    for name, rate in rates.items():
        print(f"  {name:<16} {rate['median']:>8,.0f} requests/s (best {rate['best']:,.0f}, {rate['rounds']} rounds)")
    print(f"  ratio MockPim/bare = {ratio:.2f} (target >= {TARGET})")
    per = {name: 1000 / rate["median"] for name, rate in rates.items()}
    rest = per["MockPim.run"] - per["(part) Sender.post loop"] - per["(part) offline build"]
    print(
        f"  per request: MockPim {per['MockPim.run']:.2f} ms = Sender.post exchange "
        f"{per['(part) Sender.post loop']:.2f} ms (bare httpx {per['bare httpx loop']:.2f} ms) + building the "
        f"request offline {per['(part) offline build']:.2f} ms + the rest (records, scheduling; less the "
        f"preparation hidden under the previous exchange) {rest:.2f} ms"
    )
    emit(
        args,
        {
            "benchmark": f"delivery (server in a {args.server})",
            "unit": "requests/s",
            "value": round(rates["MockPim.run"]["median"]),
            "baseline": round(rates["bare httpx loop"]["median"]),
            "baseline_name": "sequential httpx.AsyncClient loop",
            "ratio": round(ratio, 3),
            "target": f">= {TARGET}",
            "met": ratio >= TARGET,
            "details": {
                "rates": rates,
                "ms_per_request": per,
                "requests": len(requests),
                "events": events,
                "setup_seconds": setup,
            },
        },
    )


if __name__ == "__main__":
    main()
