"""Event Platform security probes: crafted requests and what a correct receiver answers."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..clock import FakeClock
from ..errors import UsageError
from ..transport.sender import Sender
from ..transport.targets import Target
from ..versions import Action, AuthorType
from .rules import EP_TIMEOUT, classify
from .signing import ALGORITHM_HEADER, PRIMARY_HEADER, SECONDARY_HEADER, EpSecrets, ep_headers, sign_body
from .truth import EpAttempt, EpTruth
from .wire import cloud_event

if TYPE_CHECKING:
    pass

__all__ = [
    "EP_PROBES",
    "EpProbeKind",
]


@dataclass(frozen=True)
class EpProbeKind:
    """A crafted request: ``expect`` is ``reject`` (4xx, nothing applied), ``accept`` (2xx) or ``warn``."""

    name: str
    expect: str
    description: str


EP_PROBES: dict[str, EpProbeKind] = {p.name: p for p in (
    EpProbeKind("ep_unsigned", "reject", "no signature header at all"),
    EpProbeKind("ep_forged", "reject", "both signatures made with a secret the receiver does not hold"),
    EpProbeKind("ep_reformatted_body", "reject", "the signed JSON re-sent with spaces: same JSON, other bytes "
                                                 "(a receiver verifying re-serialised JSON accepts it)"),
    EpProbeKind("ep_sha1", "reject", "HmacSHA1 algorithm header with HMAC-SHA1 signatures (downgrade)"),
    EpProbeKind("ep_no_algorithm", "warn", "valid signatures, no X-AKENEO-SIGNATURE-ALGORITHM header"),
    EpProbeKind("ep_secondary_only", "accept", "forged primary, secondary valid with a secret the receiver "
                                               "holds (section 2: either header may match)"),
)}


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
                                            answer.status, answer.latency, answer.reason, probe=name,
                                            wall=answer.wall, timing=answer.timing.value))
