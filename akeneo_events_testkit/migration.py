"""Compare the two wire profiles on the same activity: the one module that sees both.

``compare_profiles`` is the migration check: the same activity through the Events API (``MockPim``, profile
``saas`` with UUIDs) to the old endpoint and through the Event Platform (``EpEmitter``) to the new one, then
the two final observations compared resource by resource (keys ``product:<uuid>`` are the same on both
sides; 5.0/6.0 identifiers are not comparable).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .clock import FakeClock
from .credentials import generate_secret
from .errors import UsageError
from .event_platform.campaign import reference_receiver
from .event_platform.emitter import EpEmitter
from .event_platform.oracle import delta_states, judge_ep
from .event_platform.signing import EpSecrets
from .event_platform.truth import EpTruth
from .events_api.oracle import judge
from .judging.observation import ObservationSource, observation_reader, parse_observation, settle_observation
from .judging.verdict import Verdict
from .transport.targets import Target

if TYPE_CHECKING:
    pass

__all__ = [
    "CompareResult",
    "Difference",
    "compare_profiles",
]


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
    catalog: str | None = None,
) -> CompareResult:
    """The same activity through both profiles, no faults; differences between the final observations.

    ``client_id`` is the receiver's connection: the Events API does not send it its own events, the
    Event Platform does and the new receiver must drop them, so both should end equal. ``catalog`` (a
    catalog file) shapes the catalog of both.
    """
    from .events_api.pim import MockPim, Subscription

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
            new_target, new_observe = reference_receiver(stack, [new_secrets.primary], client_id)
        old_read = observation_reader(old_observe, old_state_url)
        new_read = observation_reader(new_observe, new_state_url)
        pim = MockPim(seed=seed, events=events, profile="saas", uuid_mode=True, start=start, catalog=catalog)
        run = pim.run(subscriptions=[Subscription(old_target, old_secret, connection_user=client_id)])
        emitter = EpEmitter(seed, events, start=start, secrets=new_secrets, client_id=client_id,
                            clock=FakeClock(start), catalog=catalog)
        new_truth = emitter.run(new_target)
        old_raw = settle_observation(old_read, settle_timeout, time.sleep)
        new_raw = settle_observation(new_read, settle_timeout, time.sleep)
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
