"""A fuzz campaign: generate activity, deliver it with faults and probes, read the observation, judge.

Used by ``akeneo-events fuzz`` and by the pytest plugin. The receiver is reached over HTTP (any language)
or in-process (an ASGI/WSGI app with a Python callable giving its observation).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..clock import Clock
from ..credentials import SECRET_ENV, generate_secret
from ..errors import ReceiverUnreachable, UsageError
from ..judging.baseline import read_before
from ..judging.checks import REFETCH_NEEDS_API, REST_LATENCY_NEEDS_API, check_design, check_rest_latency
from ..judging.crashes import acknowledgements, crash_report, note_crashes
from ..judging.observation import ObservationSource, observation_reader, parse_observation, settle_observation
from ..judging.render import format_violations, kind_rows
from ..judging.reproduce import command_line, observer_options, receiver_options, shared_options, target_options
from ..judging.scope import Scope, parse_scope, require_matches
from ..judging.verdict import Verdict
from ..transport.crashes import LaunchedReceiver, check_crash_options, check_receiver_target, launch_receiver
from ..transport.process import LISTEN_TIMEOUT
from ..transport.replicas import DEFAULT_REPLICA_RACE, ReplicaTransport, check_replica_options
from ..transport.sender import Outcome
from ..transport.targets import Target
from ..versions import Action
from ..world.shape import load_catalog_shape
from .faults import FaultPlan, parse_fault_spec
from .oracle import judge
from .pim import MockPim, RunResult

__all__ = [
    "DEFAULT_RECEIVER_URL",
    "CampaignConfig",
    "CampaignResult",
    "reproduce_command",
    "run_campaign",
]


#: Where a receiver the kit runs (``--receiver-cmd``) takes the PIM's POSTs and serves its observation,
#: unless told otherwise: the reference receiver's paths (``akeneo-events serve``).
DEFAULT_RECEIVER_URL = "http://127.0.0.1:{port}/webhook"
DEFAULT_RECEIVER_STATE_URL = "http://127.0.0.1:{port}/state"


@dataclass
class CampaignConfig:
    """Everything that defines a campaign; the same config and seed give the same traffic."""

    seed: int = 0
    events: int = 500
    profile: str = "saas"
    uuid_mode: bool | None = None
    faults: str = "default"
    plan: FaultPlan | None = None
    probes: bool = True
    strict: bool = False
    data_mode: str = "send_time"
    settle_timeout: float = 10.0
    #: judge the data receivers report (observation ``data``), e.g. receivers that re-fetch from the REST API
    content: bool = False
    #: Unix time the activity starts at (None: now); fixing it makes event times reproducible too
    start: int | None = None
    #: the receiver's design: ``apply`` (applies each event in order) or ``refetch`` (re-reads the resource
    #: from the REST API when notified: order and duplicates are harmless, its content is judged)
    design: str = "apply"
    #: what the receiver is responsible for (``--scope``, :mod:`~akeneo_events_testkit.judging.scope`): a
    #: :class:`~akeneo_events_testkit.judging.scope.Scope`, its criteria as text, or None for everything
    scope: Scope | str | Sequence[str] | None = None
    #: a catalog file (``--catalog``): the families, attributes and channels of the generated catalog
    catalog: str | None = None
    #: the mean response time of the mock REST API in seconds (``--rest-latency``; needs ``rest_api``)
    rest_latency: float = 0.0
    #: a receiver the kit runs itself (``--receiver-cmd``): a command line with ``{port}``
    #: (:mod:`~akeneo_events_testkit.transport.process`)
    receiver_cmd: str | None = None
    #: SIGKILLs of that receiver at seeded moments of the run, each followed by a restart (``--crashes``,
    #: :mod:`~akeneo_events_testkit.transport.crashes`)
    crashes: int = 0
    #: seconds the receiver command gets to listen on its port, at its start and at each restart
    listen_timeout: float = LISTEN_TIMEOUT
    #: the webhook URLs of several replicas of one receiver (``--url`` given more than once): the requests
    #: are spread over them as a load balancer would (:mod:`~akeneo_events_testkit.transport.replicas`)
    replicas: Sequence[str] = ()
    #: with ``replicas``: the share of requests also sent to a second replica at the same moment
    replica_race: float = DEFAULT_REPLICA_RACE

    def __post_init__(self) -> None:
        if self.events < 1:
            raise UsageError(f"--events must be at least 1, got {self.events}")
        self.replicas = tuple(self.replicas)
        if self.replicas:
            check_replica_options(self.replicas, self.replica_race)
            if self.receiver_cmd is not None:
                raise UsageError("--receiver-cmd runs one receiver: not with several --url (start the replicas "
                                 "yourself, e.g. akeneo-events serve --port 8001 --store postgresql://...)")
        check_crash_options(self.receiver_cmd, self.crashes, listen_timeout=self.listen_timeout)
        check_design(self.design)
        scope = parse_scope(self.scope)
        self.scope = scope.checked(f"the Events API ({self.profile})", [a.value for a in Action], deltas=False) \
            if scope is not None else None
        check_rest_latency(self.rest_latency)
        if self.catalog is not None:
            load_catalog_shape(self.catalog)  # fail early, naming the file and the fix
        if self.plan is None:
            parse_fault_spec(self.faults)  # fail early, naming the bad part


@dataclass
class CampaignResult:
    config: CampaignConfig
    run: RunResult
    verdict: Verdict
    observation: Mapping[str, Any]
    target: str
    duration: float
    reproduce: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.verdict.passed

    @property
    def start(self) -> int | None:
        """The Unix time the activity started at, when the config fixed it."""
        return self.config.start

    def report(self) -> dict[str, Any]:
        """The JSON report (``--report``): verdict, seed, profile, stats, violations, fault plan."""
        plan = self.run.fault_plan
        return {
            "verdict": "pass" if self.passed else "fail",
            "seed": self.config.seed,
            "profile": self.config.profile,
            "uuid_mode": self.run.profile.uuid_mode,
            "events": self.config.events,
            "faults": self.config.faults if self.config.plan is None else "plan",
            "strict": self.config.strict,
            "target": self.target,
            "duration_seconds": round(self.duration, 3),
            "stats": self.verdict.stats,
            "kinds": kind_rows(self.verdict, None),
            "diagnoses": self.verdict.stats.get("diagnoses", []),
            "probe_table": self.verdict.stats.get("probe_table", []),
            "violations": [v.to_json() for v in self.verdict.violations],
            "hazards_never_exercised": [name for name, count in (self.verdict.stats.get("hazards") or {}).items()
                                        if not count],
            "fault_plan": plan.to_json() if plan is not None else {"version": 1, "spec": "none", "faults": []},
            **crash_report(self.config, self.verdict),
            "reproduce": self.reproduce,
        }

    def failure_text(self, *, report: str | None = None) -> str:
        """The verdict for a person; ``report`` names the JSON report written, for the violations not shown."""
        return format_violations(self.verdict, report=report)


def reproduce_command(config: CampaignConfig, *, url: str | None = None, state_url: str | None = None,
                      start: int | None = None, rest_api: Any = None, observed_with: Sequence[str] = ()) -> str:
    """The ``akeneo-events fuzz`` line that runs ``config`` again: every option in effect (``start`` when the
    config leaves it to the run), ``--url``/``--state-url`` as given, the secret as ``$AKENEO_EVENTS_SECRET``
    (:mod:`~..judging.reproduce`)."""
    parts = ["akeneo-events", "fuzz", "--seed", str(config.seed), "--events", str(config.events),
             "--profile", config.profile, "--faults", config.faults]
    if config.uuid_mode:
        parts.append("--uuid-mode")
    if config.strict:
        parts.append("--strict")
    if config.plan is not None and config.plan.source:
        parts += ["--plan", config.plan.source]
    parts += shared_options(config, start=config.start if config.start is not None else start, rest_api=rest_api)
    if config.receiver_cmd:
        return command_line(parts + receiver_options(config, url=url, state_url=state_url))
    if config.replicas:
        parts += ["--replica-race", f"{config.replica_race:g}"]
        parts += [option for replica in config.replicas[:-1] for option in ("--url", replica)]
        url = config.replicas[-1]
    return command_line(parts + target_options(url, state_url, observed_with=observed_with))


def run_campaign(
    config: CampaignConfig,
    *,
    target: Target | None = None,
    secret: str | None = None,
    state_url: str | None = None,
    observe: ObservationSource | None = None,
    clock: Clock | None = None,
    on_request: Callable[[int], None] | None = None,
    record: str | Path | None = None,
    store_dir: str | Path | None = None,
    rest_api: Any = None,
) -> CampaignResult:
    """Run one campaign. Without ``target``, fuzz the reference receiver on a loopback port."""
    started = time.monotonic()
    if config.design == "refetch" and rest_api is None:
        raise UsageError(REFETCH_NEEDS_API)
    if config.rest_latency and rest_api is None:
        raise UsageError(REST_LATENCY_NEEDS_API)
    with ExitStack() as stack:
        launched: LaunchedReceiver | None = None
        templates: tuple[str | None, str | None] = (None, None)
        if config.receiver_cmd is not None:
            check_receiver_target(target)
            secret = secret or generate_secret()
            templates = (target, state_url)  # as given, for the reproduce line
            launched = launch_receiver(
                stack, config.receiver_cmd, url=target or DEFAULT_RECEIVER_URL,
                state_url=state_url or (DEFAULT_RECEIVER_STATE_URL if observe is None else None),
                env={SECRET_ENV: secret}, seed=config.seed, crashes=config.crashes,
                horizon=max(2 * config.crashes + 2, config.events // 6), listen_timeout=config.listen_timeout)
            target, state_url = launched.transport, launched.state_url
            label = f"the receiver of {config.receiver_cmd!r} at {launched.url}"
        elif config.replicas:
            if target is not None and target != config.replicas[0]:
                raise UsageError("with replicas, the target is their first URL or None, not another target")
            replicas = ReplicaTransport(config.replicas, seed=config.seed, race=config.replica_race)
            target, label = replicas, replicas.label()
            if not secret:
                raise UsageError("pass --secret (or set AKENEO_EVENTS_SECRET) with the replicas' secret")
            if observe is None and state_url is None:
                raise UsageError("pass --state-url: the URL where the replicas serve their shared observation "
                                 "(see README: Replicas)")
        elif target is None:
            from ..receiver import ReceiverServer, ReferenceReceiver, SqliteStore

            secret = secret or generate_secret()
            directory = Path(store_dir) if store_dir else Path(stack.enter_context(tempfile.TemporaryDirectory()))
            store = SqliteStore(directory / "receiver.sqlite3")
            receiver = ReferenceReceiver(secret, store=store)
            server = stack.enter_context(ReceiverServer(receiver))
            stack.callback(store.close)
            target, state_url, label = server.url, server.state_url, "the reference receiver"
        else:
            label = str(target) if isinstance(target, str) else type(target).__name__
            if not secret:
                raise UsageError("pass --secret (or set AKENEO_EVENTS_SECRET) with the receiver's secret")
            if observe is None and state_url is None:
                raise UsageError("pass --state-url: the URL where the receiver serves its observation "
                                 "(see README: observation contract)")
        pim = MockPim(seed=config.seed, events=config.events, profile=config.profile, uuid_mode=config.uuid_mode,
                      data_mode=config.data_mode, clock=clock, start=config.start,
                      faults=config.plan if config.plan is not None else config.faults, probes=config.probes,
                      track_content=config.content, catalog=config.catalog,
                      scope=config.scope if isinstance(config.scope, Scope) else None)
        if rest_api is not None:
            rest_api.attach(pim, latency=config.rest_latency)
        # The PIM's "Test" button, first: it checks that a URL is reachable, and its answer is judged, for
        # in-process apps too (the PIM sends it to any subscription URL whenever the user clicks Test).
        check = pim.check_reachability(target, secret=secret)
        if isinstance(target, str) and check.attempt.outcome is Outcome.FAILED \
                and check.attempt.reason.startswith("connect"):
            raise ReceiverUnreachable(f"nothing answers at {target}: start the receiver, or check the URL")
        reader = observation_reader(observe, state_url)
        before = read_before(reader, strict=config.strict)  # state left from an earlier run (judging.baseline)
        truth_stream = None
        if record is not None:
            from .truth import GroundTruth

            truth_stream = GroundTruth()
            truth_stream.stream_to(record)
            stack.callback(truth_stream.close)
        run = pim.run(target, secret=secret, truth=truth_stream, on_request=on_request, test_requests=(check,))
        if launched is not None:
            launched.transport.ensure_up()  # the run may end while the receiver is down
        raw = settle_observation(reader, config.settle_timeout, time.sleep)
        observation = parse_observation(raw)
        served = (isinstance(target, str) and label != "the reference receiver") or bool(config.replicas)
        if launched is not None:
            reproduce = reproduce_command(config, url=templates[0], state_url=templates[1], start=pim.start,
                                          rest_api=rest_api)
        else:
            reproduce = reproduce_command(config, url=target if served and isinstance(target, str) else
                                          config.replicas[-1] if config.replicas else None,
                                          state_url=state_url if served else None, start=pim.start,
                                          rest_api=rest_api, observed_with=observer_options(observe))
        scope = config.scope if isinstance(config.scope, Scope) else None
        verdict = judge(run.truth, observation, strict=config.strict, timeout=pim.timeout, reproduce=reproduce,
                        design=config.design, scope=scope, before=before)
        require_matches(scope, verdict.stats, run.truth.resources)
        if isinstance(target, ReplicaTransport):
            verdict.stats["replicas"] = {"urls": [str(url) for url in target.urls], "requests": list(target.sent),
                                         "replica_race": target.races, "summary": target.summary()}
        if launched is not None:
            # the transport counts the "Test" requests first; the ground truth numbers the others from 0
            acks = acknowledgements((r.seq, r.event_ids) for r in run.truth.requests if r.acknowledged)
            offset = len(run.truth.test_requests)
            note_crashes(verdict, launched.records(offset), acks, planned=config.crashes,
                         casualties=launched.casualties(offset))
        return CampaignResult(config, run, verdict, raw if isinstance(raw, Mapping) else {}, label,
                              time.monotonic() - started, reproduce)


def dumps_report(result: CampaignResult) -> str:
    return json.dumps(result.report(), indent=2, default=str)
