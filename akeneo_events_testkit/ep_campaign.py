"""Event Platform campaigns: fuzz a receiver, probe its signature checks, rotate secrets, compare profiles.

``run_ep_campaign`` mirrors :func:`~akeneo_events_testkit.campaign.run_campaign` for the Event Platform
profile (event-platform-facts.md sections 2, 3 and 6). ``compare_profiles`` is the migration check: the same
activity through the Events API (``MockPim``, profile ``saas`` with UUIDs) to the old endpoint and through
the Event Platform (``EpEmitter``) to the new one, then the two final observations compared resource by
resource (keys ``product:<uuid>`` are the same on both sides; 5.0/6.0 identifiers are not comparable).

Secret rotation (section 2): the platform signs PRIMARY with the new secret and SECONDARY with the old
one; ``rotation`` says which the receiver holds (``old``, ``new`` or ``both``). Every genuine request then
carries a signature the receiver can check, so any refusal is ``rotation_rejected``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import shlex
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .campaign import _settle, fetch_observation
from .clock import FakeClock
from .delivery import Sender, Target
from .ep_delivery import DEFAULT_CLIENT_ID, EP_TIMEOUT, EpAttempt, EpEmitter, EpTruth, classify, parse_ep_faults
from .ep_oracle import EP_PROBES, delta_states, format_ep_verdict, judge_ep
from .errors import ReceiverUnreachable, UsageError
from .eventplatform import (
    ALGORITHM_HEADER,
    DEFAULT_SOURCE,
    PRIMARY_HEADER,
    SECONDARY_HEADER,
    EpSecrets,
    cloud_event,
    ep_headers,
    sign_body,
)
from .model import Action, AuthorType
from .oracle import Verdict, judge, parse_observation
from .signing import generate_secret

if TYPE_CHECKING:
    from .restapi import RestApi

__all__ = [
    "ROTATIONS",
    "CompareResult",
    "Difference",
    "EpCampaignConfig",
    "EpCampaignResult",
    "compare_profiles",
    "run_ep_campaign",
]

ROTATIONS = ("old", "new", "both")
ObservationSource = Callable[[], Any]


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
    enforce_suspension: bool = True
    source: str = DEFAULT_SOURCE
    settle_timeout: float = 10.0

    @property
    def profile(self) -> str:
        return "event-platform"

    def __post_init__(self) -> None:
        if self.events < 1:
            raise UsageError(f"--events must be at least 1, got {self.events}")
        if self.rotation is not None and self.rotation not in ROTATIONS:
            raise UsageError(f"rotation={self.rotation!r}: use one of {', '.join(ROTATIONS)} (the secrets the "
                             "receiver holds while the platform signs with new and old)")
        parse_ep_faults(self.faults)


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
    def violation_kinds(self) -> Mapping[str, tuple[str, str]]:
        """The properties judged, for reports (one JUnit test case each)."""
        from .ep_oracle import EP_VIOLATION_KINDS

        return EP_VIOLATION_KINDS

    def report(self) -> dict[str, Any]:
        """The JSON report: verdict, suspension, stats and violations."""
        return {
            "verdict": "pass" if self.passed else "fail",
            "profile": "event-platform",
            "seed": self.config.seed,
            "events": self.config.events,
            "faults": self.config.faults,
            "rotation": self.config.rotation,
            "target": self.target,
            "duration_seconds": round(self.duration, 3),
            "suspended": self.truth.suspension is not None,
            "suspension": self.verdict.stats.get("suspension"),
            "stats": self.verdict.stats,
            "violations": [v.to_json() for v in self.verdict.violations],
            "reproduce": self.reproduce,
        }

    def failure_text(self) -> str:
        return format_ep_verdict(self.verdict, self.truth)


def rotation_secrets(rotation: str | None, secrets: EpSecrets) -> list[str]:
    """The secrets a receiver holds in each rotation case (primary = new, secondary = old)."""
    if rotation is None or secrets.secondary is None:
        return [secrets.primary]
    return {"old": [secrets.secondary], "new": [secrets.primary],
            "both": [secrets.primary, secrets.secondary]}[rotation]


def _probe_request(name: str, raw: bytes, body: Mapping[str, Any], secrets: EpSecrets,
                   held: Sequence[str], rng: random.Random) -> tuple[bytes, list[tuple[str, str]]]:
    """The bytes and headers of one probe (``ep_oracle.EP_PROBES``)."""
    stranger = EpSecrets(f"stranger-{rng.getrandbits(64):x}", f"stranger-{rng.getrandbits(64):x}")
    genuine = list(ep_headers(raw, secrets))
    if name == "ep_unsigned":
        return raw, [("Content-Type", "application/json"), (ALGORITHM_HEADER, "HmacSHA256")]
    if name == "ep_forged":
        return raw, list(ep_headers(raw, stranger))
    if name == "ep_reformatted_body":
        spaced = json.dumps(body, separators=(", ", ": "), ensure_ascii=False).encode("utf-8")
        return spaced, genuine
    if name == "ep_sha1":
        headers = [("Content-Type", "application/json"),
                   (PRIMARY_HEADER, hmac.new(secrets.primary.encode(), raw, hashlib.sha1).hexdigest())]
        if secrets.secondary:
            headers.append((SECONDARY_HEADER, hmac.new(secrets.secondary.encode(), raw, hashlib.sha1).hexdigest()))
        return raw, [*headers, (ALGORITHM_HEADER, "HmacSHA1")]
    if name == "ep_no_algorithm":
        return raw, [h for h in genuine if h[0] != ALGORITHM_HEADER]
    if name == "ep_secondary_only":
        return raw, [("Content-Type", "application/json"), (PRIMARY_HEADER, sign_body(stranger.primary, raw)),
                     (SECONDARY_HEADER, sign_body(held[0], raw)), (ALGORITHM_HEADER, "HmacSHA256")]
    raise UsageError(f"unknown Event Platform probe {name!r}: use any of {', '.join(EP_PROBES)}")


async def send_probes(target: Target, truth: EpTruth, *, secrets: EpSecrets, held: Sequence[str], seed: int,
                      clock: FakeClock, subscription_id: str, path: str = "",
                      names: Sequence[str] = tuple(EP_PROBES)) -> None:
    """Send each probe once, after the genuine traffic; probes never count towards rate or suspension."""
    rng = random.Random(f"event-platform-probes:{seed}")
    async with Sender(target, follow_redirects=False, timeout=EP_TIMEOUT, path=path) as sender:
        for name in names:
            uuid = f"{rng.getrandbits(32):08x}-0000-4000-8000-{rng.getrandbits(48):012x}"
            event = cloud_event(action=Action.PRODUCT_UPDATED, resource={"uuid": uuid}, epoch=int(clock.now()),
                                author="julia", author_type=AuthorType.UI, rng=rng, subscription_id=subscription_id)
            body, headers = _probe_request(name, event.raw, event.body, secrets, held, rng)
            answer = await sender.post(body, headers)
            truth.attempts.append(EpAttempt(len(truth.attempts), event.id, clock.now(), 0, classify(answer),
                                            answer.status, answer.latency, answer.reason, probe=name))


def _reference(stack: ExitStack, held: Sequence[str], client_id: str | None) -> tuple[Target, ObservationSource]:
    from .receiver import ReferenceReceiver

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


def _reader(observe: ObservationSource | None, state_url: str | None) -> ObservationSource:
    if observe is not None:
        return observe
    if state_url is None:
        raise UsageError("pass --state-url: the URL where the receiver serves its observation "
                         "(see README: observation contract)")
    url = state_url
    return lambda: fetch_observation(url)


def reproduce_ep(config: EpCampaignConfig, *, url: str | None = None, start: int | None = None) -> str:
    """The ``akeneo-events fuzz`` command of this run; ``start`` is part of it (UUID v7 ids carry the time)."""
    parts = ["akeneo-events", "fuzz", "--profile", "event-platform", "--seed", str(config.seed),
             "--events", str(config.events), "--faults", config.faults]
    if start is not None:
        parts += ["--start", str(start)]
    if config.delta != EpCampaignConfig.delta:
        parts += ["--delta", str(config.delta)]
    if config.client_id != DEFAULT_CLIENT_ID:
        parts += ["--client-id", config.client_id or ""]
    if config.rotation:
        parts += ["--rotation", config.rotation]
        if url:
            parts += ["--old-secret", "$AKENEO_EVENTS_OLD_SECRET"]
    if not config.probes:
        parts.append("--no-probes")
    if url:
        parts += ["--url", url, "--state-url", "STATE_URL", "--secret", "$AKENEO_EVENTS_SECRET"]
    return " ".join(shlex.quote(p) if not p.startswith("$") else p for p in parts)


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
    if secrets is None:
        secrets = EpSecrets(generate_secret(), generate_secret() if config.rotation else None)
    if config.rotation is not None and secrets.secondary is None:
        raise UsageError("a rotation needs both secrets: EpSecrets(primary=new, secondary=old)")
    held = list(held_secrets) if held_secrets is not None else rotation_secrets(config.rotation, secrets)
    with ExitStack() as stack:
        if target is None:
            target, observe = _reference(stack, held, config.client_id)
            label = "the reference receiver"
        else:
            label = target if isinstance(target, str) else type(target).__name__
            if isinstance(target, str):
                _check_reachable(target)
        reader = _reader(observe, state_url)
        clock = clock or FakeClock(1_700_000_000)
        emitter = EpEmitter(config.seed, config.events, start=int(clock.now()), source=config.source,
                            secrets=secrets, delta=config.delta, client_id=config.client_id, clock=clock,
                            faults=config.faults, enforce_suspension=config.enforce_suspension,
                            keep_bodies=record is not None)
        if rest_api is not None:
            rest_api.attach_ep(emitter)

        async def deliver() -> EpTruth:
            truth = await emitter.arun(target, path=path)
            if config.probes:
                await send_probes(target, truth, secrets=secrets, held=held, seed=config.seed, clock=clock,
                                  subscription_id=emitter.subscription_id, path=path)
            return truth

        truth = asyncio.run(deliver())
        raw = _settle(reader, config.settle_timeout, time.sleep)
        observation = parse_observation(raw)
        reproduce = reproduce_ep(config, url=target if isinstance(target, str) else None, start=emitter.start)
        verdict = judge_ep(truth, observation, reproduce=reproduce, deltas=delta_states(raw))
        if record is not None:
            from .ep_tape import write_ep_tape

            write_ep_tape(truth, record, verdict)
        return EpCampaignResult(config, truth, verdict, raw if isinstance(raw, Mapping) else {}, label,
                                time.monotonic() - started, reproduce)


# -- migration mode ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Difference:
    """A resource on which the old and the new receiver disagree at the end."""

    key: str
    old: str
    new: str


@dataclass
class CompareResult:
    differences: list[Difference]
    old_verdict: Verdict
    new_verdict: Verdict
    new_truth: EpTruth
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.differences and self.old_verdict.passed and self.new_verdict.passed

    def text(self, *, limit: int = 20) -> str:
        lines = [f"Compared {self.stats.get('resources', 0)} resources after {self.stats.get('events', 0)} saves "
                 f"(Events API vs Event Platform): {len(self.differences)} differ."]
        for d in self.differences[:limit]:
            lines.append(f"  {d.key}: Events API receiver {d.old}; Event Platform receiver {d.new}")
        for name, verdict in (("Events API", self.old_verdict), ("Event Platform", self.new_verdict)):
            if not verdict.passed:
                lines.append(f"{name} receiver violations: "
                             + ", ".join(f"{k} x{n}" for k, n in sorted(verdict.counts().items())))
        lines.append("PASS" if self.passed else "FAIL")
        return "\n".join(lines)


def _state(entry: Any, origin_of: Mapping[str, str], epoch_of: Mapping[str, int]) -> tuple[str, str | None, int]:
    """(``gone`` or ``present``, origin save, epoch) of one observed resource."""
    if not isinstance(entry, Mapping) or entry.get("removed"):
        return "gone", None, -1
    origin = origin_of.get(str(entry.get("event_id")), str(entry.get("event_id")))
    return "present", origin, epoch_of.get(origin, -1)


def compare_profiles(
    seed: int,
    events: int,
    *,
    old_target: Target | None = None,
    new_target: Target | None = None,
    old_observe: ObservationSource | None = None,
    new_observe: ObservationSource | None = None,
    old_state_url: str | None = None,
    new_state_url: str | None = None,
    old_secret: str | None = None,
    new_secrets: EpSecrets | None = None,
    client_id: str | None = None,
    start: int | None = None,
    settle_timeout: float = 10.0,
) -> CompareResult:
    """The same activity through both profiles, no faults; differences between the final observations.

    ``client_id`` is the receiver's connection: the Events API does not send it its own events, the
    Event Platform does and the new receiver must drop them, so both should end equal.
    """
    from .pim import MockPim, Subscription

    start = int(time.time()) if start is None else int(start)
    with ExitStack() as stack:
        if old_target is None:
            from .receiver import ReferenceReceiver

            old_secret = old_secret or generate_secret()
            old = ReferenceReceiver(old_secret)
            stack.callback(old.close)
            old_target, old_observe = old.asgi(), old.observation
        if not old_secret:
            raise UsageError("pass the old receiver's secret (--secret) with --url")
        if new_secrets is None:
            new_secrets = EpSecrets(generate_secret())
        if new_target is None:
            new_target, new_observe = _reference(stack, [new_secrets.primary], client_id)
        old_read, new_read = _reader(old_observe, old_state_url), _reader(new_observe, new_state_url)
        pim = MockPim(seed=seed, events=events, profile="saas", uuid_mode=True, start=start)
        run = pim.run(subscriptions=[Subscription(old_target, old_secret, connection_user=client_id)])
        emitter = EpEmitter(seed, events, start=start, secrets=new_secrets, client_id=client_id,
                            clock=FakeClock(start))
        new_truth = emitter.run(new_target)
        old_raw = _settle(old_read, settle_timeout, time.sleep)
        new_raw = _settle(new_read, settle_timeout, time.sleep)
    old_obs, new_obs = parse_observation(old_raw), parse_observation(new_raw)
    epoch_of = {e.origin: e.epoch for e in new_truth.events.values()}
    origin_of = {e.event_id: e.origin for e in new_truth.events.values()}
    old_resources = old_raw.get("resources", {}) if isinstance(old_raw, Mapping) else {}
    new_resources = new_raw.get("resources", {}) if isinstance(new_raw, Mapping) else {}
    differences = []
    keys = sorted(set(old_resources) | set(new_resources))
    for key in keys:
        a = _state(old_resources.get(key), {}, epoch_of)
        b = _state(new_resources.get(key), origin_of, epoch_of)
        if a[0] != b[0] or (a[0] == "present" and a[1] != b[1] and a[2] != b[2]):
            differences.append(Difference(key, _describe(a), _describe(b)))
    new_verdict = judge_ep(new_truth, new_obs, deltas=delta_states(new_raw))
    return CompareResult(differences, judge(run.truth, old_obs), new_verdict, new_truth,
                         {"resources": len(keys), "events": events, "seed": seed})


def _describe(state: tuple[str, str | None, int]) -> str:
    if state[0] == "gone":
        return "has it removed or absent"
    return f"holds save {state[1]} (epoch {state[2]})"
