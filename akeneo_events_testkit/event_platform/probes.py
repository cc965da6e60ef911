"""Event Platform security probes: crafted requests and what a correct receiver answers.

The signature malleability probes (:data:`EP_SIGNATURE_MALLEABILITY`, all ``reject``) mirror the Events API's
(see :mod:`akeneo_events_testkit.events_api.probes` for the variants left out, and why) on the signature
headers of event-platform-facts.md section 2: the valid signature of the raw body, made with a secret the
receiver holds, edited the ways a lax check lets through (Node's ``Buffer.from(sig, "hex")`` stops at the
first non-hex character; ``startswith``, ``in``, a stripped ``sha256=`` prefix or a split on commas compare
less than the whole value). The edited value is the only signature the probe carries: PRIMARY alone, or,
for the ``ep_secondary_*`` probe, SECONDARY next to a forged PRIMARY, as in a rotation (either header may
match, so a receiver that checks both must check both exactly).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..clock import FakeClock
from ..errors import UsageError
from ..transport.sender import Attempt, Sender
from ..transport.targets import Target
from ..versions import Action, AuthorType
from .rules import EP_TIMEOUT, TIMEOUT, classify
from .signing import (
    ALGORITHM,
    ALGORITHM_HEADER,
    PRIMARY_HEADER,
    SECONDARY_HEADER,
    EpSecrets,
    ep_headers,
    sign_body,
)
from .truth import EpAttempt, EpTruth
from .wire import cloud_event, encode

if TYPE_CHECKING:
    pass

__all__ = [
    "EP_PROBES",
    "EP_SIGNATURE_MALLEABILITY",
    "EpProbeKind",
]


#: A type that exists only on a branch of the docs (event-platform-facts.md section 4).
UNKNOWN_TYPE = "com.akeneo.pim.v1.workflow.task.completed"


@dataclass(frozen=True)
class EpProbeKind:
    """A crafted request: ``expect`` is ``reject`` (4xx, nothing applied), ``accept`` (2xx), ``warn`` or
    ``any`` (anything but a 5xx)."""

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
    EpProbeKind("ep_primary_hex_suffix", "reject", "the valid primary followed by two more hex digits"),
    EpProbeKind("ep_primary_non_hex_suffix", "reject", "the valid primary followed by non-hex characters"),
    EpProbeKind("ep_primary_odd_suffix", "reject", "the valid primary followed by one more hex digit"),
    EpProbeKind("ep_primary_inner_whitespace", "reject", "the valid primary with a space or tab inside a byte"),
    EpProbeKind("ep_primary_one_char_short", "reject", "the valid primary without its last character"),
    EpProbeKind("ep_primary_half", "reject", "the first half of the valid primary"),
    EpProbeKind("ep_primary_prefixed", "reject", "the valid primary written sha256=<hex>"),
    EpProbeKind("ep_primary_list_valid_first", "reject", "in the primary: the valid signature, a comma and a "
                                                         "forged one"),
    EpProbeKind("ep_primary_list_valid_last", "reject", "in the primary: a forged signature, a comma and the "
                                                        "valid one"),
    EpProbeKind("ep_secondary_non_hex_suffix", "reject", "forged primary, the valid secondary followed by non-hex "
                                                         "characters (a rotation)"),
)}
#: Validly signed CloudEvents a receiver may take or refuse, never answer 5xx (retried, then counted towards
#: suspension, section 3): one without ``data``, one of a type it does not know (the live list of types may
#: differ from the documented one, section 4).
EP_PROBES.update({p.name: p for p in (
    EpProbeKind("ep_missing_data", "any", "a validly signed CloudEvent without data"),
    EpProbeKind("ep_unknown_type", "any", f"a validly signed CloudEvent of type {UNKNOWN_TYPE}"),
)})

#: The signature malleability probes (see the module's docstring), in the order of :data:`EP_PROBES`.
EP_SIGNATURE_MALLEABILITY = ("ep_primary_hex_suffix", "ep_primary_non_hex_suffix", "ep_primary_odd_suffix",
                             "ep_primary_inner_whitespace", "ep_primary_one_char_short", "ep_primary_half",
                             "ep_primary_prefixed", "ep_primary_list_valid_first", "ep_primary_list_valid_last",
                             "ep_secondary_non_hex_suffix")
_NON_HEX = ("zz", "--", "g")


def _mangled(name: str, valid: str, rng: random.Random) -> str:
    """``valid`` edited as malleability probe ``name`` says; every choice is drawn from ``rng``."""
    mutation = name.split("_", 2)[2]
    if mutation == "hex_suffix":
        return valid + "00"
    if mutation == "non_hex_suffix":
        return valid + rng.choice(_NON_HEX)
    if mutation == "odd_suffix":
        return valid + rng.choice("0123456789abcdef")
    if mutation == "inner_whitespace":
        at = rng.randrange(1, 64, 2)  # inside a byte: bytes.fromhex skips whitespace between two bytes
        return valid[:at] + rng.choice((" ", "\t")) + valid[at:]
    if mutation == "one_char_short":
        return valid[:-1]
    if mutation == "half":
        return valid[:32]
    if mutation == "prefixed":
        return "sha256=" + valid
    forged = f"{rng.getrandbits(256):064x}"
    return f"{valid}, {forged}" if mutation == "list_valid_first" else f"{forged}, {valid}"


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
    if name in ("ep_missing_data", "ep_unknown_type"):
        changed = {k: v for k, v in body.items() if k != "data"} if name == "ep_missing_data" else {
            **body, "type": UNKNOWN_TYPE}
        resigned = encode(changed)
        return resigned, list(ep_headers(resigned, secrets))
    if name == "ep_secondary_only":
        return raw, [("Content-Type", "application/json"), (PRIMARY_HEADER, sign_body(stranger.primary, raw)),
                     (SECONDARY_HEADER, sign_body(held[0], raw)), (ALGORITHM_HEADER, "HmacSHA256")]
    if name in EP_SIGNATURE_MALLEABILITY:
        edited = _mangled(name, sign_body(held[0], raw), rng)
        signatures = ([(PRIMARY_HEADER, sign_body(stranger.primary, raw)), (SECONDARY_HEADER, edited)]
                      if name.startswith("ep_secondary_") else [(PRIMARY_HEADER, edited)])
        return raw, [("Content-Type", "application/json"), *signatures, (ALGORITHM_HEADER, ALGORITHM)]
    raise UsageError(f"unknown Event Platform probe {name!r}: use any of {', '.join(EP_PROBES)}")


async def send_probes(target: Target, truth: EpTruth, *, secrets: EpSecrets, held: Sequence[str], seed: int,
                      clock: FakeClock, subscription_id: str, path: str = "",
                      names: Sequence[str] = tuple(EP_PROBES)) -> None:
    """Send each probe once, after the genuine traffic; probes never count towards rate or suspension.

    One at a time, until one gets no answer within the 5 s timeout (section 3): the receiver hangs on some
    requests, so the rest go out together and share one timeout (the platform has several requests in
    flight at once, section 3), and a receiver that hangs on every forged request costs about two timeouts,
    not one per probe. They are recorded in probe order either way."""
    rng = random.Random(f"event-platform-probes:{seed}")
    made: list[tuple[str, str, bytes, list[tuple[str, str]]]] = []
    for name in names:
        uuid = f"{rng.getrandbits(32):08x}-0000-4000-8000-{rng.getrandbits(48):012x}"
        event = cloud_event(action=Action.PRODUCT_UPDATED, resource={"uuid": uuid}, epoch=int(clock.now()),
                            author="julia", author_type=AuthorType.UI, rng=rng, subscription_id=subscription_id)
        made.append((name, event.id, *_probe_request(name, event.raw, event.body, secrets, held, rng)))
    answers: list[Attempt] = []
    redact = [secrets.primary, secrets.secondary or "", *held]
    async with Sender(target, follow_redirects=False, timeout=EP_TIMEOUT, path=path, redact=redact) as sender:
        for _, _, body, headers in made:
            answers.append(await sender.post(body, headers))
            if classify(answers[-1]) == TIMEOUT:
                break
    rest = made[len(answers):]
    if rest:
        async with Sender(target, follow_redirects=False, timeout=EP_TIMEOUT, path=path,
                          concurrency=len(rest), redact=redact) as sender:
            answers += await asyncio.gather(*(sender.post(body, headers) for _, _, body, headers in rest))
    for (name, event_id, _, _), answer in zip(made, answers, strict=True):
        truth.attempts.append(EpAttempt(len(truth.attempts), event_id, clock.now(), 0, classify(answer),
                                        answer.status, answer.latency, answer.reason, probe=name,
                                        wall=answer.wall, timing=answer.timing.value, body=answer.body))
