"""Event Platform campaigns: fuzz a receiver, probe its signature checks, rotate secrets.

``run_ep_campaign`` mirrors :func:`~akeneo_events_testkit.events_api.campaign.run_campaign` for the Event Platform
profile (event-platform-facts.md sections 2, 3 and 6).
The migration check that runs both profiles is :mod:`akeneo_events_testkit.migration`.

Secret rotation (section 2): the platform signs PRIMARY with the new secret and SECONDARY with the old
one; ``rotation`` says which the receiver holds (``old``, ``new`` or ``both``). Every genuine request then
carries a signature the receiver can check, so any refusal is ``rotation_rejected``.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..clock import FakeClock
from ..credentials import OLD_SECRET_ENV, SECRET_ENV, generate_secret
from ..errors import ReceiverUnreachable, UsageError
from ..judging.baseline import read_before
from ..judging.checks import REFETCH_NEEDS_API, REST_LATENCY_NEEDS_API, check_design, check_rest_latency
from ..judging.crashes import acknowledgements, crash_report, note_crashes
from ..judging.observation import ObservationSource, observation_reader, parse_observation, settle_observation
from ..judging.render import kind_rows
from ..judging.reproduce import command_line, observer_options, receiver_options, shared_options, target_options
from ..judging.scope import Scope, parse_scope, require_matches
from ..judging.verdict import Verdict
from ..transport.crashes import LaunchedReceiver, check_crash_options, check_receiver_target, launch_receiver
from ..transport.process import LISTEN_TIMEOUT
from ..transport.targets import Target
from ..world.shape import load_catalog_shape
from .emitter import EpEmitter
from .faults import parse_ep_faults
from .oracle import EP_KIND_FIX, delta_states, format_ep_verdict, judge_ep
from .probes import send_probes
from .rules import DEFAULT_CLIENT_ID, DEFAULT_IN_FLIGHT
from .signing import EpSecrets
from .truth import EpTruth
from .wire import DEFAULT_SOURCE, EP_TYPE_NAMES, subscribed_types

if TYPE_CHECKING:
    from ..restapi import RestApi

__all__ = [
    "ROTATIONS",
    "EpCampaignConfig",
    "EpCampaignResult",
    "reference_receiver",
    "run_ep_campaign",
]


ROTATIONS = ("old", "new", "both")

#: Where a receiver the kit runs (``--receiver-cmd``) takes the platform's POSTs and serves its
#: observation, unless told otherwise: the reference receiver's (``akeneo-events serve``).
DEFAULT_RECEIVER_URL = "http://127.0.0.1:{port}/ep-webhook"
DEFAULT_RECEIVER_STATE_URL = "http://127.0.0.1:{port}/state"



@dataclass
class EpCampaignConfig:
    """What defines an Event Platform campaign; the same config and seed give the same traffic."""

    seed: int = 0
    events: int = 500
    faults: str = "default"
    probes: bool = True
    delta: float = 0.3
    client_id: str | None = DEFAULT_CLIENT_ID
    rotation: str | None = None
    #: deliver past a suspension (``--keep-going``): what it would have masked is judged too, and the
    #: suspension is still reported (facts section 3: a suspended subscription sends nothing)
    keep_going: bool = False
    source: str = DEFAULT_SOURCE
    settle_timeout: float = 10.0
    #: ``apply`` or ``refetch`` (see :class:`~akeneo_events_testkit.events_api.campaign.CampaignConfig`)
    design: str = "apply"
    #: what the receiver is responsible for (``--scope``, :mod:`~akeneo_events_testkit.judging.scope`)
    scope: Scope | str | Sequence[str] | None = None
    #: a catalog file (see :class:`~akeneo_events_testkit.events_api.campaign.CampaignConfig`)
    catalog: str | None = None
    #: the mean response time of the mock REST API in seconds (``--rest-latency``; needs ``rest_api``)
    rest_latency: float = 0.0
    #: requests the platform keeps in flight at most (:class:`~.emitter.EpEmitter` ``max_in_flight``; 1: one
    #: at a time)
    in_flight: int = DEFAULT_IN_FLIGHT
    #: a receiver the kit runs itself, with ``{port}`` (see
    #: :class:`~akeneo_events_testkit.events_api.campaign.CampaignConfig`)
    receiver_cmd: str | None = None
    #: SIGKILLs of that receiver at seeded moments, each followed by a restart (``--crashes``)
    crashes: int = 0
    #: seconds the receiver command gets to listen on its port, at its start and at each restart
    listen_timeout: float = LISTEN_TIMEOUT
    #: the types the subscription receives (``--types``, shell patterns such as ``product.*,category.*``;
    #: None: every type the emitter sends, :data:`~.wire.SENT_TYPES`)
    types: str | None = None

    @property
    def profile(self) -> str:
        return "event-platform"

    def __post_init__(self) -> None:
        if self.events < 1:
            raise UsageError(f"--events must be at least 1, got {self.events}")
        check_crash_options(self.receiver_cmd, self.crashes, listen_timeout=self.listen_timeout)
        check_design(self.design)
        scope = parse_scope(self.scope)
        self.scope = scope.checked("the Event Platform", EP_TYPE_NAMES, deltas=True) if scope is not None else None
        check_rest_latency(self.rest_latency)
        if self.catalog is not None:
            load_catalog_shape(self.catalog)  # fail early, naming the file and the fix
        if isinstance(self.in_flight, bool) or not isinstance(self.in_flight, int) or self.in_flight < 1:
            raise UsageError(f"--in-flight must be a whole number of requests, 1 or more (1 sends one at a time), "
                             f"got {self.in_flight!r}")
        if self.rotation is not None and self.rotation not in ROTATIONS:
            raise UsageError(f"rotation={self.rotation!r}: use one of {', '.join(ROTATIONS)} (the secrets the "
                             "receiver holds while the platform signs with new and old)")
        parse_ep_faults(self.faults)
        subscribed_types(self.types)  # fail early, naming the types


@dataclass
class EpCampaignResult:
    config: EpCampaignConfig
    truth: EpTruth
    verdict: Verdict
    observation: Mapping[str, Any]
    target: str
    duration: float
    reproduce: str

    @property
    def passed(self) -> bool:
        return self.verdict.passed

    @property
    def start(self) -> int | None:
        """The virtual clock's time when delivery began (UUID v7 ids carry it, so a rerun must repeat it)."""
        start = self.truth.meta.get("start")
        return int(start) if start is not None else None

    def report(self) -> dict[str, Any]:
        """The JSON report: verdict, suspension, stats and violations."""
        return {
            "verdict": "pass" if self.passed else "fail",
            "profile": "event-platform",
            "seed": self.config.seed,
            "events": self.config.events,
            "faults": self.config.faults,
            "rotation": self.config.rotation,
            "in_flight": self.config.in_flight,
            "target": self.target,
            "duration_seconds": round(self.duration, 3),
            "suspended": self.truth.suspension is not None,
            "suspension": self.verdict.stats.get("suspension"),
            "stats": self.verdict.stats,
            "kinds": kind_rows(self.verdict, EP_KIND_FIX),
            "diagnoses": self.verdict.stats.get("diagnoses", []),
            "probe_table": self.verdict.stats.get("probe_table", []),
            "violations": [v.to_json() for v in self.verdict.violations],
            "hazards_never_exercised": [name for name, count in (self.verdict.stats.get("hazards") or {}).items()
                                        if not count],
            **crash_report(self.config, self.verdict),
            "reproduce": self.reproduce,
        }

    def failure_text(self, *, report: str | None = None) -> str:
        """The verdict for a person; ``report`` names the JSON report written, for the violations not shown."""
        return format_ep_verdict(self.verdict, self.truth, report=report)


def rotation_secrets(rotation: str | None, secrets: EpSecrets) -> list[str]:
    """The secrets a receiver holds in each rotation case (primary = new, secondary = old)."""
    if rotation is None or secrets.secondary is None:
        return [secrets.primary]
    return {"old": [secrets.secondary], "new": [secrets.primary],
            "both": [secrets.primary, secrets.secondary]}[rotation]


def reference_receiver(stack: ExitStack, held: Sequence[str],
                       client_id: str | None) -> tuple[Target, ObservationSource]:
    """The reference receiver holding the ``held`` secrets, as an in-process ASGI target and its observation;
    ``stack`` closes it."""
    from ..receiver import ReferenceReceiver

    receiver = ReferenceReceiver(held[0], ep_secrets=list(held), own_client_id=client_id)
    stack.callback(receiver.close)
    return receiver.asgi(), receiver.observation


def _check_reachable(url: str, timeout: float = 5.0) -> None:
    """Fail fast, naming the fix, when nothing listens at ``url`` (the platform has no "Test" request)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UsageError(f"{url!r} has an invalid port") from None
    try:
        socket.create_connection((parts.hostname or "", port), timeout=timeout).close()
    except OSError:
        raise ReceiverUnreachable(f"nothing answers at {url}: start the receiver, or check the URL") from None


def reproduce_ep(config: EpCampaignConfig, *, url: str | None = None, state_url: str | None = None,
                 start: int | None = None, rest_api: Any = None, observed_with: Sequence[str] = ()) -> str:
    """The ``akeneo-events fuzz`` line of this run: every option in effect, ``start`` included (UUID v7 ids
    carry the time), ``--url``/``--state-url`` as given, the secrets as ``$AKENEO_EVENTS_SECRET`` and, with a
    rotation, ``$AKENEO_EVENTS_OLD_SECRET`` (:mod:`~..judging.reproduce`)."""
    parts = ["akeneo-events", "fuzz", "--profile", "event-platform", "--seed", str(config.seed),
             "--events", str(config.events), "--faults", config.faults]
    if config.delta != EpCampaignConfig.delta:
        parts += ["--delta", str(config.delta)]
    if config.client_id != DEFAULT_CLIENT_ID:
        parts += ["--client-id", config.client_id or ""]
    if config.rotation:
        parts += ["--rotation", config.rotation]
    if config.keep_going:
        parts.append("--keep-going")
    if config.in_flight != DEFAULT_IN_FLIGHT:
        parts += ["--in-flight", str(config.in_flight)]
    if config.types is not None:
        parts += ["--types", config.types]
    parts += shared_options(config, start=start, rest_api=rest_api)
    if config.receiver_cmd:
        return command_line(parts + receiver_options(config, url=url, state_url=state_url,
                                                     old_secret=bool(config.rotation)))
    return command_line(parts + target_options(url, state_url, old_secret=bool(config.rotation),
                                               observed_with=observed_with))


def run_ep_campaign(
    config: EpCampaignConfig,
    *,
    target: Target | None = None,
    secrets: EpSecrets | None = None,
    held_secrets: Sequence[str] | None = None,
    observe: ObservationSource | None = None,
    state_url: str | None = None,
    clock: FakeClock | None = None,
    path: str = "",
    record: str | Path | None = None,
    rest_api: RestApi | None = None,
) -> EpCampaignResult:
    """Deliver the seed's activity the Event Platform way, probe, read the observation and judge it.

    Without ``target``, the reference receiver runs in-process holding ``held_secrets`` (by default what
    ``config.rotation`` says). ``secrets`` are what the platform signs with; with a rotation and no
    ``secrets``, fresh new and old secrets are generated. ``record`` writes the run as a tape
    (:mod:`.ep_tape`) that ``akeneo-events replay`` sends again. With ``rest_api`` (a
    :class:`~akeneo_events_testkit.restapi.RestApi`), the API serves this run's timeline at the virtual
    clock's time, and the data a re-fetching receiver reports is judged (``stale_content``...).
    """
    started = time.monotonic()
    if config.design == "refetch" and rest_api is None:
        raise UsageError(REFETCH_NEEDS_API)
    if config.rest_latency and rest_api is None:
        raise UsageError(REST_LATENCY_NEEDS_API)
    if secrets is None:
        secrets = EpSecrets(generate_secret(), generate_secret() if config.rotation else None)
    if config.rotation is not None and secrets.secondary is None:
        raise UsageError("a rotation needs both secrets: EpSecrets(primary=new, secondary=old)")
    held = list(held_secrets) if held_secrets is not None else rotation_secrets(config.rotation, secrets)
    with ExitStack() as stack:
        launched: LaunchedReceiver | None = None
        templates: tuple[str | None, str | None] = (None, None)
        if config.receiver_cmd is not None:
            check_receiver_target(target)
            templates = (target, state_url)  # as given, for the reproduce line
            env = {SECRET_ENV: held[0]}
            if secrets.secondary is not None:
                env[OLD_SECRET_ENV] = secrets.secondary
            launched = launch_receiver(
                stack, config.receiver_cmd, url=target or DEFAULT_RECEIVER_URL,
                state_url=state_url or (DEFAULT_RECEIVER_STATE_URL if observe is None else None), env=env,
                seed=config.seed, crashes=config.crashes, horizon=max(2 * config.crashes + 2, config.events // 2),
                first=max(2, config.events // 6),
                listen_timeout=config.listen_timeout)
            target, state_url = launched.transport, launched.state_url
            label = f"the receiver of {config.receiver_cmd!r} at {launched.url}"
        elif target is None:
            target, observe = reference_receiver(stack, held, config.client_id)
            label = "the reference receiver"
        else:
            label = target if isinstance(target, str) else type(target).__name__
            if isinstance(target, str):
                _check_reachable(target)
        reader = observation_reader(observe, state_url)
        before = read_before(reader)  # state left from an earlier run (judging.baseline)
        clock = clock or FakeClock(1_700_000_000)
        emitter = EpEmitter(config.seed, config.events, start=int(clock.now()), source=config.source,
                            secrets=secrets, delta=config.delta, client_id=config.client_id, clock=clock,
                            faults=config.faults, enforce_suspension=not config.keep_going,
                            keep_bodies=record is not None, catalog=config.catalog,
                            scope=config.scope if isinstance(config.scope, Scope) else None,
                            max_in_flight=config.in_flight, types=config.types)
        if rest_api is not None:
            rest_api.attach_ep(emitter, latency=config.rest_latency)

        async def deliver() -> EpTruth:
            truth = await emitter.arun(target, path=path)
            if config.probes:
                await send_probes(target, truth, secrets=secrets, held=held, seed=config.seed, clock=clock,
                                  subscription_id=emitter.subscription_id, path=path)
            return truth

        truth = asyncio.run(deliver())
        if launched is not None:
            launched.transport.ensure_up()  # the run may end while the receiver is down
        raw = settle_observation(reader, config.settle_timeout, time.sleep)
        observation = parse_observation(raw)
        served = target if isinstance(target, str) else None
        if launched is not None:
            reproduce = reproduce_ep(config, url=templates[0], state_url=templates[1], start=emitter.start,
                                     rest_api=rest_api)
        else:
            reproduce = reproduce_ep(config, url=served, state_url=state_url if served else None,
                                     start=emitter.start, rest_api=rest_api, observed_with=observer_options(observe))
        scope = config.scope if isinstance(config.scope, Scope) else None
        verdict = judge_ep(truth, observation, reproduce=reproduce, deltas=delta_states(raw), design=config.design,
                           scope=scope, before=before)
        require_matches(scope, verdict.stats, truth.resources)
        if launched is not None:
            # the transport numbers the attempts as the ground truth does, from 1 instead of 0
            acks = acknowledgements((a.seq, (a.event_id,)) for a in truth.attempts if a.acknowledged)
            failed = truth.suspension
            note_crashes(verdict, launched.records(0), acks, planned=config.crashes,
                         casualties=launched.casualties(0),
                         suspension=(failed.cause, failed.attempts) if failed is not None else None)
        if record is not None:
            from .tape import write_ep_tape

            write_ep_tape(truth, record, verdict)
        return EpCampaignResult(config, truth, verdict, raw if isinstance(raw, Mapping) else {}, label,
                                time.monotonic() - started, reproduce)
