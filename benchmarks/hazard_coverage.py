"""Hazard coverage: how often a default campaign exercises each hazard, per seed, in both wire profiles.

Not a speed benchmark: issue 14 (item 4) asks that a default 300-event campaign exercise each hazard of
``judging.checks.HAZARDS`` (an older update after a newer one, an update after a removal, a duplicate after a
removal, a create after its update) at least 3 times in every seed. For each seed, this runs the Events API
``MockPim`` and the Event Platform ``EpEmitter`` with their default faults against a receiver that answers
200 to everything (in process, on a virtual clock: the count only depends on what is delivered, in which
order) and counts the hazards with the oracle's own ``hazards`` on the oracle's own history. Prints
min / median / max per hazard and the seeds below the target, then one ``RESULT`` line per profile.

    python3 benchmarks/hazard_coverage.py                 # seeds 0..49, 300 events
    python3 benchmarks/hazard_coverage.py --seeds 200 --events 500
"""

from __future__ import annotations

import statistics
from typing import Any

from _common import emit, header, parser

START = 1_700_000_000
TARGET = 3


async def answer_200(scope: Any, receive: Any, send: Any) -> None:
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def events_api(seed: int, events: int) -> dict[str, int]:
    from akeneo_events_testkit.clock import FakeClock
    from akeneo_events_testkit.events_api.oracle import history
    from akeneo_events_testkit.events_api.pim import MockPim
    from akeneo_events_testkit.judging.checks import hazards

    run = MockPim(seed=seed, events=events, profile="saas", faults="default", clock=FakeClock(START),
                  start=START).run(answer_200, secret="hazard-coverage")
    return hazards(history(run.truth))


def event_platform(seed: int, events: int) -> dict[str, int]:
    from akeneo_events_testkit.clock import FakeClock
    from akeneo_events_testkit.event_platform.emitter import EpEmitter
    from akeneo_events_testkit.event_platform.oracle import history
    from akeneo_events_testkit.judging.checks import hazards

    truth = EpEmitter(seed, events, faults="default", clock=FakeClock(START), start=START).run(answer_200)
    return hazards(history(truth))


def main() -> None:
    cli = parser(__doc__.splitlines()[0])
    cli.add_argument("--seeds", type=int, default=50, help="seeds 0..N-1 (default 50)")
    cli.add_argument("--events", type=int, default=300, help="events per campaign (default 300)")
    args = cli.parse_args()
    seeds = 10 if args.quick else args.seeds
    from akeneo_events_testkit.judging.checks import HAZARDS

    header(f"hazard coverage, default faults, {args.events} events, seeds 0..{seeds - 1}")
    for name, count in (("events_api", events_api), ("event_platform", event_platform)):
        rows = {seed: count(seed, args.events) for seed in range(seeds)}
        figures: dict[str, Any] = {}
        for hazard in HAZARDS:
            values = [row[hazard] for row in rows.values()]
            below = [seed for seed, row in rows.items() if row[hazard] < TARGET]
            figures[hazard] = {"min": min(values), "median": statistics.median(values), "max": max(values),
                               "seeds_below_target": below}
            print(f"   {name:15s} {hazard:24s} min {min(values):3d}  median {statistics.median(values):5.1f}  "
                  f"max {max(values):3d}  seeds below {TARGET}: {below or 'none'}")
        met = all(not f["seeds_below_target"] for f in figures.values())
        emit(args, {"benchmark": "hazard_coverage", "profile": name, "events": args.events, "seeds": seeds,
                    "target": f">= {TARGET} of each hazard in every seed", "met": met, "hazards": figures})


if __name__ == "__main__":
    main()
