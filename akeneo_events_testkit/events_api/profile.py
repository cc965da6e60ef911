"""The Events API as a :class:`~akeneo_events_testkit.judging.profile.WireProfile`: batches signed with a
timestamp, sent once (events-api-facts.md). The PIM versions 5.0, 6.0, 7.0 and SaaS all resolve to it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..judging.checks import hazard_summary, scope_summary
from ..judging.profile import CampaignOutcome, EmitOutcome, ReplayOutcome, TimelineRow
from ..judging.render import format_violations
from ..judging.scope import Scope
from ..judging.verdict import KIND_FIX, Verdict
from .campaign import CampaignConfig, CampaignResult, reproduce_command, run_campaign
from .oracle import VIOLATION_KINDS
from .summary import render_result

if TYPE_CHECKING:
    from ..judging.observation import ObservationSource
    from ..transport.targets import Target
    from ..versions import PimVersion
    from .pim import MockPim
    from .truth import RequestRecord

__all__ = ["EVENTS_API", "EventsApiProfile"]


class EventsApiProfile:
    """The Events API wire profile (one object, :data:`EVENTS_API`)."""

    name = "events-api"
    label = "Events API"
    selector = "saas"
    #: options of the Events API only: its fault plans, UUID mode, strictness, data mode
    options: tuple[str, ...] = ("plan", "save_plan", "uuid_mode", "strict", "data_mode")
    violation_kinds: Mapping[str, tuple[str, str]] = VIOLATION_KINDS
    kind_fixes: Mapping[str, str] = KIND_FIX

    #: the signature covers ``"<timestamp>.<raw body>"`` (facts section 2)
    signs_timestamp = True

    def __repr__(self) -> str:
        return "EVENTS_API"

    def sign(self, secret: str, body: bytes, *, timestamp: str | None = None) -> str:
        from .signing import sign

        assert timestamp is not None
        return sign(secret, timestamp, body)

    def verify(self, secret: str, body: bytes, signature: str, *, timestamp: str | None = None) -> bool:
        from .signing import verify_signature

        assert timestamp is not None
        return verify_signature(secret, timestamp, body, signature)

    def owns(self, thing: object) -> bool:
        return isinstance(thing, (CampaignConfig, CampaignResult))

    def config(self, version: PimVersion | None, **options: Any) -> CampaignConfig:
        return CampaignConfig(profile=version.name if version is not None else "saas", **options)

    def emitter(self, config: CampaignConfig, *, secret: str,
                wrap_target: Callable[[Target], Target] | None = None) -> MockPim:
        """A :class:`~.pim.MockPim` of ``config``; ``secret`` is passed to its ``run``, as the PIM's
        subscriptions each have their own."""
        from .pim import MockPim

        return MockPim(seed=config.seed, events=config.events, profile=config.profile, uuid_mode=config.uuid_mode,
                       faults=config.faults, probes=config.probes, data_mode=config.data_mode,
                       wrap_target=wrap_target, catalog=config.catalog,
                       scope=config.scope if isinstance(config.scope, Scope) else None)

    def configure_reference(self, receiver: Any, config: CampaignConfig) -> None:
        """Nothing to set: the Events API has no own-event rule on the receiver's side."""

    def run(self, config: CampaignConfig, *, target: Target | None = None, secret: str | None = None,
            old_secret: str | None = None, state_url: str | None = None, observe: ObservationSource | None = None,
            record: str | Path | None = None, rest_api: Any = None, on_request: Callable[[int], None] | None = None,
            start: int | None = None, receiver_holds_secret: bool = False) -> CampaignOutcome:
        """:func:`~.campaign.run_campaign`; ``start`` overrides ``config.start``; ``old_secret`` does not apply."""
        if start is not None and config.start is None:
            config = replace(config, start=start)
        if rest_api is not None and not config.content:
            config = replace(config, content=True)
        return run_campaign(config, target=target, secret=secret, state_url=state_url, observe=observe,
                            on_request=on_request, record=record, rest_api=rest_api)

    def emit(self, config: CampaignConfig, url: str, *, secret: str, record: str | Path | None = None,
             save_plan: str | Path | None = None, on_request: Callable[[int], None] | None = None,
             start: int | None = None) -> EmitOutcome:
        """Batches to ``url`` as the PIM sends them; ``record`` streams the ground truth as a tape."""
        from .pim import MockPim
        from .summary import summary_table
        from .truth import GroundTruth

        pim = MockPim(seed=config.seed, events=config.events, profile=config.profile, uuid_mode=config.uuid_mode,
                      faults=config.plan if config.plan is not None else config.faults, probes=config.probes,
                      data_mode=config.data_mode, start=config.start if config.start is not None else start,
                      catalog=config.catalog)
        truth = GroundTruth()
        if record:
            truth.stream_to(record)
        try:
            result = pim.run(url, secret=secret, truth=truth, on_request=on_request)
        finally:
            truth.close()
        if save_plan and result.fault_plan is not None:
            result.fault_plan.save(save_plan)
        sent = list(truth.requests)
        failure = next((r.reason for r in sent if r.status is None and r.reason), "")
        return EmitOutcome(summary_table(result, None), len(sent), sum(1 for r in sent if r.status is not None),
                           failure)

    def save_plan(self, result: CampaignResult, path: str | Path) -> None:
        if result.run.fault_plan is not None:
            result.run.fault_plan.save(path)

    def reproduce(self, config: CampaignConfig, *, url: str | None = None, state_url: str | None = None,
                  start: int | None = None, rest_api: Any = None) -> str:
        return reproduce_command(config, url=url, state_url=state_url, start=start, rest_api=rest_api)

    def headline(self, result: CampaignResult) -> str:
        config = result.config
        return (f"Receiver {result.target} mishandled the PIM's traffic (seed {config.seed}, {config.events} events, "
                f"profile {config.profile}, faults {config.faults if config.plan is None else 'plan'})")

    def format_verdict(self, result: CampaignResult, verdict: Verdict) -> str:
        return format_violations(verdict)

    def summary(self, result: CampaignResult, *, quiet: bool = False, colour: bool = False,
                report: str | None = None) -> str:
        return render_result(result, quiet=quiet, colour=colour, report=report)

    def is_tape(self, path: str | Path) -> bool:
        """Whether the tape's first record is a run of a PIM version; a tape without one is taken too, so
        that :func:`~.tape.load_tape` names what is wrong with it."""
        from ..judging.tapes import read_tape_lines
        from ..versions import PROFILES

        for _, data in read_tape_lines(path):
            return not (data.get("type") == "run" and "profile" in data and data["profile"] not in PROFILES)
        return True

    def replay(self, tape: str | Path, url: str, *, secret: str, state_url: str | None = None) -> ReplayOutcome:
        from ..judging.observation import fetch_observation, parse_observation
        from ..judging.tapes import changed_answers_text
        from .oracle import judge
        from .tape import changed_answers, compare, load_tape, replay_tape

        loaded = load_tape(tape)
        truth = replay_tape(loaded, url, secret=secret)
        changes = compare(loaded, truth)
        changed = changed_answers_text(changed_answers(loaded, truth))
        statuses = truth.outcome_counts()
        text = (f"replayed {len(truth.requests)} requests "
                f"({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))});"
                f" {changes['changed']} answered differently than when recorded" + (f":\n{changed}" if changed else ""))
        if not state_url:
            return ReplayOutcome(text, True)
        verdict = judge(truth, parse_observation(fetch_observation(state_url)),
                        reproduce=f"akeneo-events replay {tape} --url {url} --state-url {state_url}")
        return ReplayOutcome(f"{text}\n{format_violations(verdict)}\n{'PASS' if verdict.passed else 'FAIL'}",
                             verdict.passed)

    def timeline(self, result: CampaignResult) -> dict[str, list[TimelineRow]]:
        truth = result.run.truth
        delivered_in: dict[str, list[RequestRecord]] = defaultdict(list)
        for record in truth.requests:
            if record.probe is None:
                for event_id in record.event_ids:
                    delivered_in[event_id].append(record)
        rows: dict[str, list[TimelineRow]] = defaultdict(list)
        for event in truth.events.values():
            deliveries = tuple((r.seq, str(r.status or r.outcome.value),
                                r.status is not None and 200 <= r.status < 300, tuple(r.faults))
                               for r in delivered_in.get(event.event_id, []))
            rows[event.key].append(TimelineRow(event.epoch, event.version, event.action.value, event.event_id,
                                               event.is_removal, deliveries))
        return rows

    def report_facts(self, result: CampaignResult) -> list[tuple[str, Any]]:
        return [("ties met", result.verdict.stats.get("ties")),
                ("hazards exercised", hazard_summary(result.verdict.stats.get("hazards") or {})),
                *((("scope", scoped),) if (scoped := scope_summary(result.verdict.stats)) else ())]


#: The Events API wire profile.
EVENTS_API = EventsApiProfile()
