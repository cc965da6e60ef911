"""The Event Platform as a :class:`~akeneo_events_testkit.judging.profile.WireProfile`: one CloudEvent per
request, raw-body signatures with rotation, retries and suspension (event-platform-facts.md)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..judging.baseline import earlier_state_text
from ..judging.checks import hazard_summary, scope_summary
from ..judging.diagnose import probe_table_lines
from ..judging.profile import CampaignOutcome, EmitOutcome, ReplayOutcome, TimelineRow
from ..judging.scope import Scope
from ..judging.verdict import Verdict
from .campaign import EpCampaignConfig, EpCampaignResult, reproduce_ep, run_ep_campaign
from .oracle import EP_KIND_FIX, EP_VIOLATION_KINDS, format_ep_verdict, in_flight_stats, in_flight_text
from .wire import PROFILE_NAME

if TYPE_CHECKING:
    from ..judging.observation import ObservationSource
    from ..transport.targets import Target
    from ..versions import PimVersion
    from .emitter import EpEmitter
    from .truth import EpTruth

__all__ = ["EVENT_PLATFORM_PROFILE", "EventPlatformProfile"]


class EventPlatformProfile:
    """The Event Platform wire profile (one object, :data:`EVENT_PLATFORM_PROFILE`)."""

    name = PROFILE_NAME
    label = "Event Platform"
    selector = PROFILE_NAME
    #: options of the Event Platform only: deltas, the own client id, secret rotation, suspension, source
    options: tuple[str, ...] = ("delta", "client_id", "rotation", "old_secret", "keep_going", "source",
                                "in_flight", "types")
    violation_kinds: Mapping[str, tuple[str, str]] = EP_VIOLATION_KINDS
    kind_fixes: Mapping[str, str] = EP_KIND_FIX

    #: the signature covers the raw body alone (event-platform-facts.md section 2)
    signs_timestamp = False

    def __repr__(self) -> str:
        return "EVENT_PLATFORM_PROFILE"

    def sign(self, secret: str, body: bytes, *, timestamp: str | None = None) -> str:
        from .signing import sign_body

        return sign_body(secret, body)

    def verify(self, secret: str, body: bytes, signature: str, *, timestamp: str | None = None) -> bool:
        from .signing import ALGORITHM, ALGORITHM_HEADER, PRIMARY_HEADER, verify_ep

        return verify_ep(body, {PRIMARY_HEADER: signature, ALGORITHM_HEADER: ALGORITHM}, [secret])

    def owns(self, thing: object) -> bool:
        return isinstance(thing, (EpCampaignConfig, EpCampaignResult))

    def config(self, version: PimVersion | None, **options: Any) -> EpCampaignConfig:
        """The Event Platform has no PIM version of its own (``version`` is ignored)."""
        return EpCampaignConfig(**options)

    def emitter(self, config: EpCampaignConfig, *, secret: str,
                wrap_target: Callable[[Target], Target] | None = None) -> EpEmitter:
        """An :class:`~.emitter.EpEmitter` of ``config`` signing with ``secret`` on a virtual clock."""
        from .emitter import EpEmitter
        from .signing import EpSecrets

        return EpEmitter(config.seed, config.events, secrets=EpSecrets(str(secret)), delta=config.delta,
                         client_id=config.client_id, faults=config.faults, source=config.source,
                         enforce_suspension=not config.keep_going, wrap_target=wrap_target,
                         catalog=config.catalog, max_in_flight=config.in_flight, types=config.types,
                         scope=config.scope if isinstance(config.scope, Scope) else None)

    def configure_reference(self, receiver: Any, config: EpCampaignConfig) -> None:
        """The reference receiver drops the events of ``config.client_id``, its own (facts section 6)."""
        receiver.own_client_id = config.client_id

    def run(self, config: EpCampaignConfig, *, target: Target | None = None, secret: str | None = None,
            old_secret: str | None = None, state_url: str | None = None, observe: ObservationSource | None = None,
            record: str | Path | None = None, rest_api: Any = None, on_request: Callable[[int], None] | None = None,
            start: int | None = None, receiver_holds_secret: bool = False) -> CampaignOutcome:
        """:func:`~.campaign.run_ep_campaign` on a virtual clock starting at ``start``; by default at a fixed
        time, so that the same seed gives the same UUID v7 ids (they carry the time) and a pytest rerun repeats
        the traffic.

        The platform signs PRIMARY with ``secret`` (the new one) and SECONDARY with ``old_secret``
        (facts section 2). With ``receiver_holds_secret``, the receiver holds ``secret`` alone: with a
        rotation the kit generates the other of the pair (the new one when the receiver holds the old).
        """
        from ..clock import FakeClock
        from ..credentials import generate_secret
        from .signing import EpSecrets

        held: list[str] | None = None
        secrets: EpSecrets | None = None
        if secret and receiver_holds_secret:
            other = generate_secret() if config.rotation else None
            secrets = EpSecrets(other, secret) if other and config.rotation == "old" else EpSecrets(secret, other)
            held = [secret]
        elif secret:
            secrets = EpSecrets(secret, old_secret or None)
        return run_ep_campaign(config, target=target, secrets=secrets, held_secrets=held, observe=observe,
                               state_url=state_url, clock=FakeClock(start) if start is not None else None,
                               record=record, rest_api=rest_api)

    def emit(self, config: EpCampaignConfig, url: str, *, secret: str, record: str | Path | None = None,
             save_plan: str | Path | None = None, on_request: Callable[[int], None] | None = None,
             start: int | None = None) -> EmitOutcome:
        """One CloudEvent per request to ``url``, retries and rate on a virtual clock from ``start`` (now by
        default); probes when ``config.probes``. The platform has no fault plans (``save_plan`` is refused
        before: it is an Events API option)."""
        import asyncio
        import time

        from ..clock import FakeClock
        from .emitter import EpEmitter
        from .probes import send_probes
        from .rules import SUCCESS
        from .signing import EpSecrets

        secrets = EpSecrets(secret)
        clock = FakeClock(start if start is not None else int(time.time()))  # virtual from there on
        emitter = EpEmitter(config.seed, config.events, start=start, clock=clock, secrets=secrets,
                            delta=config.delta, client_id=config.client_id, faults=config.faults,
                            source=config.source, keep_bodies=bool(record), enforce_suspension=not config.keep_going,
                            catalog=config.catalog, max_in_flight=config.in_flight,
                            types=config.types)

        async def deliver() -> EpTruth:
            truth = await emitter.arun(url)
            if config.probes:
                await send_probes(url, truth, secrets=secrets, held=[secret], seed=config.seed, clock=clock,
                                  subscription_id=emitter.subscription_id)
            return truth

        truth = asyncio.run(deliver())
        if record:
            from .tape import write_ep_tape

            write_ep_tape(truth, record)
        outcomes = Counter(a.outcome for a in truth.genuine)
        drops = truth.dropped()
        answered = ("all answered 200" if set(outcomes) == {SUCCESS}
                    else ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
        failure = next((a.reason for a in truth.attempts if a.status is None and a.reason), "")
        return EmitOutcome("\n".join([
            f"Event Platform: {len(truth.events)} events, {len(truth.genuine)} requests "
            f"({answered}), "
            f"{len(truth.delivered)} delivered" + (f", {len(truth.attempts) - len(truth.genuine)} probes"
                                                    if config.probes else ""),
            "dropped by the platform: " + (", ".join(f"{k} {v}" for k, v in sorted(drops.items())) or "none"),
            "requests in flight: " + in_flight_text(in_flight_stats(truth)),
            truth.fate() if truth.suspension is not None else "the subscription stayed active"]),
            len(truth.attempts), sum(1 for a in truth.attempts if a.status is not None), failure)

    def save_plan(self, result: EpCampaignResult, path: str | Path) -> None:
        from ..errors import UsageError

        raise UsageError("the Event Platform has no fault plans: the seed alone fixes its faults")

    def reproduce(self, config: EpCampaignConfig, *, url: str | None = None, state_url: str | None = None,
                  start: int | None = None, rest_api: Any = None) -> str:
        return reproduce_ep(config, url=url, state_url=state_url, start=start, rest_api=rest_api)

    def headline(self, result: EpCampaignResult) -> str:
        config = result.config
        return (f"Receiver {result.target} mishandled the Event Platform's traffic (seed {config.seed}, "
                f"{config.events} events, profile {PROFILE_NAME}, faults {config.faults})")

    def format_verdict(self, result: EpCampaignResult, verdict: Verdict) -> str:
        return format_ep_verdict(verdict, result.truth)

    def summary(self, result: EpCampaignResult, *, quiet: bool = False, colour: bool = False,
                report: str | None = None) -> str:
        hazards = hazard_summary(result.verdict.stats.get("hazards") or {})
        hint = result.verdict.stats.get("design_hint")
        scoped = scope_summary(result.verdict.stats)
        rows = probe_table_lines(result.verdict.stats.get("probe_table") or []) if not quiet else []
        probes = "".join(f"{line}\n" for line in ["Probes (each crafted request, what it got, what was judged):",
                                                   *rows]) if rows else ""
        earlier = earlier_state_text(result.verdict.stats)
        text = (f"Event Platform fuzz of {result.target}, seed {result.config.seed}\n"
                f"hazards exercised: {hazards}\n" + (f"scope: {scoped}\n" if scoped else "")
                + f"requests in flight: {in_flight_text(result.verdict.stats.get('in_flight') or {})}\n"
                + (f"crashes: {result.verdict.stats['crash_summary']}\n"
                   if result.verdict.stats.get("crash_summary") is not None else "")
                + (f"hint: {hint}\n" if hint else "")
                + (f"state before the run: {earlier}\n" if earlier else "") + probes
                + result.failure_text(report=report))
        if result.passed or "Reproduce with:" in text:
            return text  # printed once
        return f"{text}\nReproduce with: {result.reproduce}"

    def is_tape(self, path: str | Path) -> bool:
        from .tape import is_ep_tape

        return is_ep_tape(path)

    def replay(self, tape: str | Path, url: str, *, secret: str, state_url: str | None = None) -> ReplayOutcome:
        from ..judging.observation import fetch_observation, parse_observation
        from ..judging.tapes import changed_answers_text
        from .oracle import delta_states, judge_ep
        from .signing import EpSecrets
        from .tape import changed_answers, compare_answers, load_ep_tape, replay_ep_tape

        loaded = load_ep_tape(tape)
        truth = replay_ep_tape(loaded, url, secrets=EpSecrets(secret))
        changes = compare_answers(loaded, truth)
        changed = changed_answers_text(changed_answers(loaded, truth))
        outcomes = Counter(a.outcome for a in truth.attempts)
        text = (f"replayed {len(truth.attempts)} Event Platform requests "
                f"({', '.join(f'{k} {v}' for k, v in sorted(outcomes.items()))}; probes are not replayed); "
                f"{changes['changed']} answered differently than when recorded" + (f":\n{changed}" if changed else ""))
        if not state_url:
            return ReplayOutcome(text, True)
        raw = fetch_observation(state_url)
        verdict = judge_ep(truth, parse_observation(raw), deltas=delta_states(raw),
                           reproduce=f"akeneo-events replay {tape} --url {url} --state-url {state_url}")
        return ReplayOutcome(f"{text}\n{format_ep_verdict(verdict, truth)}", verdict.passed)

    def timeline(self, result: EpCampaignResult) -> dict[str, list[TimelineRow]]:
        truth = result.truth
        attempts: dict[str, list[Any]] = defaultdict(list)
        for attempt in truth.genuine:
            attempts[attempt.event_id].append(attempt)
        rows: dict[str, list[TimelineRow]] = defaultdict(list)
        for order, event in enumerate(truth.events.values()):
            deliveries = tuple(
                (a.seq, str(a.status or a.outcome), a.acknowledged,
                 (("duplicate",) if a.duplicate else ()) + ((f"retry {a.retry}",) if a.retry else ()))
                for a in attempts.get(event.event_id, []))
            rows[event.key].append(TimelineRow(event.epoch, order, event.type.rsplit(".v1.", 1)[-1],
                                               event.event_id, event.is_removal, deliveries))
        return rows

    def report_facts(self, result: EpCampaignResult) -> list[tuple[str, Any]]:
        suspension = result.verdict.stats.get("suspension")
        fate = "active"
        if suspension and suspension.get("enforced", True):
            fate = "suspended at {time} ({cause})".format(**suspension)
        elif suspension:
            fate = ("would have been suspended at {time} ({cause}); --keep-going delivered the {delivered_after} "
                    "events after it, judged as if it had not been").format(**suspension)
        return [("hazards exercised", hazard_summary(result.verdict.stats.get("hazards") or {})),
                *((("scope", scoped),) if (scoped := scope_summary(result.verdict.stats)) else ()),
                ("requests in flight", in_flight_text(result.verdict.stats.get("in_flight") or {})),
                ("retries", result.verdict.stats.get("retries")),
                ("subscription", fate)]


#: The Event Platform wire profile.
EVENT_PLATFORM_PROFILE = EventPlatformProfile()
