"""Benchmark 2: schema validation of valid 10-event envelopes, payloads per second.

Contenders, all on the same decoded envelopes (``json.loads`` of the PHP bytes, as a receiver sees them):

* ``kit``: ``schemas.validate_payload(doc, profile=...)`` (jsonschema-rs fast path, jsonschema on failure);
* ``kit is_valid``: ``schemas.is_valid(doc, profile=...)``, the kit's boolean API: its overhead over the bare
  library (the profile lookup, the cached validator, the root detection) is the figure. Target: >= 0.8x of
  ``jsonschema-rs`` used bare on the same bundled schema;
* ``naive``: ``jsonschema.validate(doc, schema)`` per call, ``schema = schema_for(profile, bundle=True)``
  computed once: jsonschema re-checks the schema against the meta-schema and builds a validator on every
  call, which is what a receiver author copying the jsonschema quick start does. Target: kit >= 10x naive;
* ``jsonschema (cached)``: ``validator_for(profile).is_valid(doc)``: the kit's slow path, for reference;
* ``fastjsonschema``: it only knows drafts 4, 6 and 7. Compiled from ``schema_for(profile, bundle=True)`` it
  cannot find the embedded resources; given the files through its ``handlers`` it compiles but silently
  ignores ``$dynamicRef`` (shown on a payload it wrongly accepts). So it is measured on a *flattened*
  draft-07 translation made here (each ``$ref``/``$dynamicRef`` resolved for the profile with the same
  ``referencing`` resolver, ``$ref`` siblings wrapped in ``allOf``, ``dependentSchemas`` -> ``dependencies``);
  its verdicts are cross-checked against the kit's on valid and mutated payloads before it is timed;
* ``jsonschema-rs``: Rust, supports 2020-12 and ``$dynamicRef`` (a dependency of the kit since issue 16):
  ``jsonschema_rs.validator_for(schema_for(profile, bundle=True), validate_formats=True, offline=True)``
  compiled once, ``is_valid`` per payload, the baseline of ``kit is_valid``.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

from _common import emit, envelopes, header, interleaved, parser, realistic_events

PROFILE = "saas"
TARGET_NAIVE = 10.0
TARGET_RS = 0.8


def _refuse(uri: str) -> Any:
    raise LookupError(f"benchmark refuses to fetch {uri}")


def flatten_to_draft7(profile: str) -> dict[str, Any]:
    """The profile's envelope schema as one self-contained draft-07 document (no dynamic references)."""
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    from akeneo_events_testkit.schemas import schema_for

    root = schema_for(profile, bundle=True)
    registry = Registry().with_resource(root["$id"], DRAFT202012.create_resource(root)).crawl()
    definitions: dict[str, Any] = {}
    names: dict[int, str] = {}
    keep_alive: list[Any] = []
    dropped = {"$schema", "$id", "$defs", "$comment", "$anchor", "$dynamicAnchor", "title", "description"}

    def reference(contents: Any, resolver: Any) -> dict[str, str]:
        if id(contents) not in names:
            keep_alive.append(contents)
            name = f"d{len(names)}"
            names[id(contents)] = name
            definitions[name] = convert(contents, resolver)
        return {"$ref": f"#/definitions/{names[id(contents)]}"}

    def convert(schema: Any, resolver: Any) -> Any:
        if isinstance(schema, bool):
            return schema
        out: dict[str, Any] = {}
        refs: list[dict[str, str]] = []
        for key, value in schema.items():
            if key in ("$ref", "$dynamicRef"):
                resolved = resolver.lookup(value)
                refs.append(reference(resolved.contents, resolved.resolver))
            elif key in dropped:
                continue
            elif key in ("properties", "dependentSchemas"):
                name = "dependencies" if key == "dependentSchemas" else key
                out[name] = {k: convert(v, resolver) for k, v in value.items()}
            elif key in ("additionalProperties", "propertyNames", "items", "contains", "not", "if", "then", "else"):
                out[key] = convert(value, resolver)
            elif key in ("allOf", "anyOf", "oneOf"):
                out[key] = [convert(v, resolver) for v in value]
            elif key in ("prefixItems", "unevaluatedProperties", "unevaluatedItems", "$recursiveRef"):
                raise ValueError(f"cannot flatten {key} to draft-07")
            else:
                out[key] = copy.deepcopy(value)
        if refs and not out and len(refs) == 1:
            return refs[0]
        if refs:
            out["allOf"] = refs + out.get("allOf", [])
        return out

    body = convert(root, registry.resolver(base_uri=root["$id"]))
    return {"$schema": "http://json-schema.org/draft-07/schema#", **body, "definitions": definitions}


def mutations(docs: list[dict[str, Any]], count: int, seed: int = 7) -> list[Any]:
    """Payloads made invalid (most of them) by one random change: a key removed or a value replaced."""
    rng = random.Random(seed)
    replacements: list[Any] = [None, 1.5, -3, "", "x" * 3, [], {}, True, "not-a-uuid", "2020-13-45T99:00:00+00:00"]
    made = []
    for _ in range(count):
        doc = copy.deepcopy(rng.choice(docs))
        node: Any = doc
        parent: Any = None
        key: Any = None
        for _depth in range(rng.randint(1, 9)):
            if isinstance(node, dict) and node:
                parent, key = node, rng.choice(list(node))
            elif isinstance(node, list) and node:
                parent, key = node, rng.randrange(len(node))
            else:
                break
            node = parent[key]
        if parent is None:
            continue
        if isinstance(parent, dict) and rng.random() < 0.4:
            del parent[key]
        else:
            parent[key] = rng.choice(replacements)
        made.append(doc)
    return made


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    import fastjsonschema
    import jsonschema  # type: ignore[import-untyped]

    from akeneo_events_testkit import schemas
    from akeneo_events_testkit.encoding import php_json_encode_bytes

    header("validation")
    events = realistic_events(seed=2, events=300 if args.quick else 1500)
    docs = [json.loads(php_json_encode_bytes(doc)) for doc in envelopes(events)]
    bundled = schemas.schema_for(PROFILE, bundle=True)
    cached = schemas.validator_for(PROFILE)
    assert all(schemas.validate_payload(doc, profile=PROFILE) == [] for doc in docs), "workload must be valid"
    invalid = mutations(docs, 60 if args.quick else 300)
    kit_verdicts = [schemas.validate_payload(doc, profile=PROFILE) == [] for doc in invalid]
    notes: list[str] = []

    contenders: dict[str, Any] = {}

    def kit() -> int:
        for doc in docs:
            schemas.validate_payload(doc, profile=PROFILE)
        return len(docs)

    naive_docs = docs[:3]

    def naive() -> int:
        for doc in naive_docs:
            jsonschema.validate(doc, bundled)
        return len(naive_docs)

    slow_docs = docs[:6]

    def cached_jsonschema() -> int:
        for doc in slow_docs:
            cached.is_valid(doc)
        return len(slow_docs)

    def kit_is_valid() -> int:
        for doc in docs:
            schemas.is_valid(doc, profile=PROFILE)
        return len(docs)

    contenders.update({"kit": kit, "kit is_valid": kit_is_valid, "naive jsonschema.validate": naive,
                       "jsonschema cached": cached_jsonschema})

    # fastjsonschema, three ways
    try:
        fastjsonschema.compile(bundled, handlers={"https": _refuse, "http": _refuse})
        notes.append("fastjsonschema compiled the bundled 2020-12 schema (unexpected)")
    except Exception as exc:
        notes.append(f"fastjsonschema on schema_for(bundle=True): {type(exc).__name__}: {str(exc)[:120]}")
    documents = schemas._documents()  # the shipped files, served from memory through fastjsonschema's handlers

    def from_files(uri: str) -> Any:
        return documents[uri.rsplit("/", 1)[-1].split("#", 1)[0]]

    try:
        loose = fastjsonschema.compile(
            schemas.schema_for(PROFILE, bundle=False), handlers={"https": from_files, "http": _refuse}
        )
        wrong = [doc for doc, ok in zip(invalid, kit_verdicts, strict=True) if not ok and _passes(loose, doc)]
        notes.append(
            f"fastjsonschema with the files as handlers compiles, but ignores $dynamicRef: it accepts "
            f"{len(wrong)} of {kit_verdicts.count(False)} mutated payloads the kit rejects"
        )
    except Exception as exc:
        notes.append(f"fastjsonschema with handlers: {type(exc).__name__}: {str(exc)[:120]}")
    uuid_check = schemas._FORMAT_CHECKER.checkers["uuid"][0]
    flat = flatten_to_draft7(PROFILE)
    flat_validate = fastjsonschema.compile(
        flat, handlers={"https": _refuse, "http": _refuse}, formats={"uuid": lambda value: bool(uuid_check(value))}
    )
    flat_valid = all(_passes(flat_validate, doc) for doc in docs)
    flat_agree = sum(_passes(flat_validate, doc) == ok for doc, ok in zip(invalid, kit_verdicts, strict=True))
    notes.append(
        f"fastjsonschema on the flattened draft-07 schema ({len(json.dumps(flat)) // 1024} KiB, "
        f"{len(flat['definitions'])} definitions): accepts all valid payloads: {flat_valid}; agrees with "
        f"the kit on {flat_agree}/{len(invalid)} mutated payloads"
    )

    def fast_flat() -> int:
        for doc in docs:
            try:  # noqa: SIM105 - contextlib.suppress would add its own cost to the timed loop
                flat_validate(doc)
            except fastjsonschema.JsonSchemaValueException:
                pass
        return len(docs)

    contenders["fastjsonschema (flattened draft-07)"] = fast_flat

    from importlib.metadata import version

    import jsonschema_rs

    rs = jsonschema_rs.validator_for(bundled, validate_formats=True, offline=True)
    rs_valid = all(rs.is_valid(doc) for doc in docs)
    rs_agree = sum(rs.is_valid(doc) == ok for doc, ok in zip(invalid, kit_verdicts, strict=True))
    notes.append(
        f"jsonschema-rs {version('jsonschema-rs')} on the bundled 2020-12 schema: "
        f"accepts all valid payloads: {rs_valid}; agrees with the kit on {rs_agree}/{len(invalid)} "
        "mutated payloads"
    )

    def rust() -> int:
        for doc in docs:
            rs.is_valid(doc)
        return len(docs)

    contenders["jsonschema-rs (bundled 2020-12)"] = rust

    rates = interleaved(contenders, rounds=5 if args.quick else 11, budget=10 if args.quick else 40)
    kit_rate = rates["kit"]["median"]
    print(f"  {len(docs)} valid envelopes of 10 events (profile {PROFILE}), {len(invalid)} mutated ones")
    for note in notes:
        print(f"  note: {note}")
    for name, rate in rates.items():
        print(f"  {name:<38} {rate['median']:>10,.1f} payloads/s  kit is {kit_rate / rate['median']:6.2f}x")
    ratio = kit_rate / rates["naive jsonschema.validate"]["median"]
    emit(
        args,
        {
            "benchmark": "validation vs naive jsonschema.validate",
            "unit": "payloads/s",
            "value": round(kit_rate, 1),
            "baseline": round(rates["naive jsonschema.validate"]["median"], 2),
            "baseline_name": "jsonschema.validate per call",
            "ratio": round(ratio, 1),
            "target": f">= {TARGET_NAIVE}",
            "met": ratio >= TARGET_NAIVE,
            "details": {"rates": rates, "notes": notes},
        },
    )
    rs_rate = rates["jsonschema-rs (bundled 2020-12)"]["median"]
    is_valid_ratio = rates["kit is_valid"]["median"] / rs_rate
    emit(
        args,
        {
            "benchmark": "is_valid / bare jsonschema-rs on the same schema",
            "unit": "payloads/s",
            "value": round(rates["kit is_valid"]["median"], 1),
            "baseline": round(rs_rate, 1),
            "baseline_name": f"jsonschema-rs {version('jsonschema-rs')} validator_for(bundled).is_valid",
            "ratio": round(is_valid_ratio, 2),
            "target": f">= {TARGET_RS}",
            "met": is_valid_ratio >= TARGET_RS,
        },
    )
    for name in rates:
        if name in ("kit", "kit is_valid", "naive jsonschema.validate"):
            continue
        emit(
            args,
            {
                "benchmark": f"validation vs {name}",
                "unit": "payloads/s",
                "value": round(kit_rate, 1),
                "baseline": round(rates[name]["median"], 1),
                "baseline_name": name,
                "ratio": round(kit_rate / rates[name]["median"], 2),
                "target": "report",
                "met": None,
            },
        )


def _passes(validate: Any, doc: Any) -> bool:
    import fastjsonschema

    try:
        validate(doc)
    except fastjsonschema.JsonSchemaValueException:
        return False
    return True


if __name__ == "__main__":
    main()
