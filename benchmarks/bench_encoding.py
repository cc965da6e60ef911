"""Benchmark 1: PHP-faithful encoding + HMAC signing, events per second, against json.dumps + hmac.

Workload: realistic 10-event envelopes built from a faultless MockPim run (``deliveries()`` -> events ->
``to_dict()``), regrouped by 10. Kit: ``php_json_encode_bytes`` + ``signing.sign``. Baseline: the fastest
stdlib equivalent, ``json.dumps(..., separators=(",", ":")).encode()`` + ``hmac.new(...).hexdigest()`` of
the same objects (which is *not* byte-identical to PHP: no ``\\/`` escaping, DEL escaped). Target: >= 0.5.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from _common import SECRET, emit, envelopes, header, interleaved, parser, realistic_events

TARGET = 0.5


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    from akeneo_events_testkit.encoding import php_json_encode_bytes
    from akeneo_events_testkit.events_api.signing import sign

    header("encoding + signing")
    events = realistic_events(seed=1, events=600 if args.quick else 3000)
    docs = envelopes(events)
    count = 10 * len(docs)
    timestamp = 1_700_000_000
    key = SECRET.encode()
    prefix = str(timestamp).encode() + b"."
    sizes = [len(php_json_encode_bytes(doc)) for doc in docs]

    def kit() -> int:
        for doc in docs:
            sign(SECRET, timestamp, php_json_encode_bytes(doc))
        return count

    def baseline() -> int:
        for doc in docs:
            body = json.dumps(doc, separators=(",", ":")).encode()
            hmac.new(key, prefix + body, hashlib.sha256).hexdigest()
        return count

    def encode_only() -> int:
        for doc in docs:
            php_json_encode_bytes(doc)
        return count

    def dumps_only() -> int:
        for doc in docs:
            json.dumps(doc, separators=(",", ":")).encode()
        return count

    rates = interleaved(
        {"kit": kit, "baseline": baseline, "kit_encode_only": encode_only, "dumps_only": dumps_only},
        rounds=7 if args.quick else 15,
        budget=8 if args.quick else 30,
    )
    ratio = rates["kit"]["median"] / rates["baseline"]["median"]
    print(f"  {len(docs)} envelopes of 10 events, mean body {sum(sizes) / len(sizes) / 1024:.1f} KiB")
    for name, rate in rates.items():
        print(f"  {name:<16} {rate['median']:>10,.0f} events/s (best {rate['best']:,.0f}, {rate['rounds']} rounds)")
    print(f"  ratio kit/baseline = {ratio:.2f} (target >= {TARGET})")
    emit(
        args,
        {
            "benchmark": "encoding+signing",
            "unit": "events/s",
            "value": round(rates["kit"]["median"]),
            "baseline": round(rates["baseline"]["median"]),
            "baseline_name": "json.dumps + hmac",
            "ratio": round(ratio, 3),
            "target": f">= {TARGET}",
            "met": ratio >= TARGET,
            "details": {
                "rates": rates,
                "envelopes": len(docs),
                "mean_body_bytes": sum(sizes) / len(sizes),
                "encode_only_ratio": rates["kit_encode_only"]["median"] / rates["dumps_only"]["median"],
            },
        },
    )


if __name__ == "__main__":
    main()
