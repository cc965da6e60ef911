"""Compare the two wire profiles on the same activity: the one module that sees both.

``compare_profiles`` is the migration check: the same activity through the Events API (``MockPim``, profile
``saas`` with UUIDs) to the old endpoint and through the Event Platform (``EpEmitter``) to the new one, as a
subscription to product and product model types (the Events API delivered no other), then the two final
observations compared resource by resource (keys ``product:<uuid>`` are the same on both sides; 5.0/6.0
identifiers are not comparable).
"""

from __future__ import annotations

import html
import time
from collections import Counter
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .clock import FakeClock
from .credentials import generate_secret
from .errors import UsageError
from .event_platform.campaign import reference_receiver
from .event_platform.emitter import EpEmitter
from .event_platform.oracle import EP_VIOLATION_KINDS, delta_states, judge_ep
from .event_platform.signing import EpSecrets
from .event_platform.truth import EpTruth
from .event_platform.wire import PRODUCT_TYPES
from .events_api.oracle import VIOLATION_KINDS, judge
from .judging.observation import ObservationSource, observation_reader, parse_observation, settle_observation
from .judging.verdict import Verdict
from .transport.targets import Target

if TYPE_CHECKING:
    pass

__all__ = [
    "DIFFERENCE_KINDS",
    "CompareResult",
    "Difference",
    "compare_profiles",
]


#: difference kind -> what it means, in the order the comparison lists them
DIFFERENCE_KINDS: dict[str, str] = {
    "missing_at_new": "present at the Events API receiver, removed or absent at the Event Platform receiver",
    "missing_at_old": "present at the Event Platform receiver, removed or absent at the Events API receiver",
    "different_save": "both hold the resource, from different saves",
}


@dataclass(frozen=True)
class Difference:
    """A resource on which the old and the new receiver disagree at the end; ``kind`` is a key of
    :data:`DIFFERENCE_KINDS`."""

    key: str
    old: str
    new: str
    kind: str = "different_save"

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "resource": self.key, "events_api": self.old, "event_platform": self.new}


def _causes(name: str, verdict: Verdict, glossary: Mapping[str, tuple[str, str]]) -> list[str]:
    """One line per violation kind of a failing side: count, meaning, and the first message."""
    lines = []
    for kind, count in sorted(Counter(v.kind for v in verdict.errors).items(), key=lambda item: (-item[1], item[0])):
        first = next(v for v in verdict.errors if v.kind == kind)
        meaning = glossary.get(kind, ("", ""))[1]
        lines.append(f"{name} receiver: {kind} x{count}" + (f" ({meaning})" if meaning else "")
                     + f"; e.g. {first.message[:160]}")
    return lines


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

    def groups(self) -> dict[str, list[Difference]]:
        """The differences by kind, in :data:`DIFFERENCE_KINDS` order, empty kinds left out."""
        found = {kind: [d for d in self.differences if d.kind == kind] for kind in DIFFERENCE_KINDS}
        return {kind: items for kind, items in found.items() if items}

    def causes(self) -> list[str]:
        """Why the comparison fails, most telling first: each side's violations (a receiver that refuses the
        traffic or applies its own events explains the differences that follow), with a hint for the
        client id the comparison assumed."""
        lines = (_causes("Events API", self.old_verdict, VIOLATION_KINDS)
                 + _causes("Event Platform", self.new_verdict, EP_VIOLATION_KINDS))
        if any(v.kind == "self_event_processed" for v in self.new_verdict.errors):
            client = self.stats.get("client_id")
            lines.append(f"hint: the comparison assumed client id {client}; start the Event Platform receiver with "
                         "it (akeneo-events serve --client-id ...), or pass the receiver's own as --client-id")
        return lines

    def text(self, *, limit: int = 5) -> str:
        """Verdict and causes first, then the differences grouped by kind (``limit`` shown per kind)."""
        resources, events = self.stats.get("resources", 0), self.stats.get("events", 0)
        verdict = "PASS" if self.passed else "FAIL"
        lines = [f"{verdict}: {len(self.differences)} of {resources} resources differ after {events} saves "
                 "(Events API vs Event Platform)"]
        causes = self.causes()
        if causes:
            lines.append("Causes:")
            lines += [f"  {cause}" for cause in causes]
        for kind, items in self.groups().items():
            lines.append(f"{kind} x{len(items)}: {DIFFERENCE_KINDS[kind]}")
            for d in items[:limit]:
                lines.append(f"  {d.key}: Events API receiver {d.old}; Event Platform receiver {d.new}")
            if len(items) > limit:
                lines.append(f"  ... and {len(items) - limit} more (--report FILE.json lists them all)")
        return "\n".join(lines)

    def report(self) -> dict[str, Any]:
        """The comparison as JSON: verdict, causes, counts per kind, every difference, both verdicts."""
        return {
            "passed": self.passed, "causes": self.causes(), "stats": dict(self.stats),
            "difference_counts": {kind: len(items) for kind, items in self.groups().items()},
            "differences": [d.to_json() for d in self.differences],
            "events_api": {"passed": self.old_verdict.passed, "counts": dict(self.old_verdict.counts()),
                           "violations": [v.to_json() for v in self.old_verdict.violations]},
            "event_platform": {"passed": self.new_verdict.passed, "counts": dict(self.new_verdict.counts()),
                               "violations": [v.to_json() for v in self.new_verdict.violations]},
        }

    def html(self) -> str:
        """A simple self-contained page: verdict, causes, then one table per kind of difference."""
        esc = html.escape
        parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Migration comparison: "
                 f"{'PASS' if self.passed else 'FAIL'}</title><style>body{{font-family:sans-serif;margin:2em}}"
                 "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}"
                 ".fail{color:#b00}.pass{color:#070}</style></head><body>",
                 f"<h1 class='{'pass' if self.passed else 'fail'}'>{esc(self.text().splitlines()[0])}</h1>"]
        causes = self.causes()
        if causes:
            parts.append("<h2>Causes</h2><ul>" + "".join(f"<li>{esc(c)}</li>" for c in causes) + "</ul>")
        for kind, items in self.groups().items():
            parts.append(f"<h2 id='{esc(kind)}'>{esc(kind)} ({len(items)})</h2><p>{esc(DIFFERENCE_KINDS[kind])}</p>"
                         "<table><tr><th>resource</th><th>Events API receiver</th><th>Event Platform receiver</th>"
                         "</tr>" + "".join(f"<tr><td>{esc(d.key)}</td><td>{esc(d.old)}</td><td>{esc(d.new)}</td></tr>"
                                           for d in items) + "</table>")
        parts.append("</body></html>\n")
        return "".join(parts)


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
                            clock=FakeClock(start), catalog=catalog, types=PRODUCT_TYPES)
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
            kind = "different_save" if a[0] == b[0] else "missing_at_new" if a[0] == "present" else "missing_at_old"
            differences.append(Difference(key, _describe(a), _describe(b), kind))
    new_verdict = judge_ep(new_truth, new_obs, deltas=delta_states(new_raw))
    return CompareResult(differences, judge(run.truth, old_obs), new_verdict, new_truth,
                         {"resources": len(keys), "events": events, "seed": seed, "client_id": client_id})


def _describe(state: tuple[str, str | None, int]) -> str:
    if state[0] == "gone":
        return "has it removed or absent"
    return f"holds save {state[1]} (epoch {state[2]})"
