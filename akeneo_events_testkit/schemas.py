"""JSON Schemas (draft 2020-12) of Events API payloads, and a validator whose messages a person understands.

The schema files live in ``schemas/`` (shipped in the wheel as ``akeneo_events_testkit/_schemas``). On their
own they describe the newest wire format: SaaS, either UUID mode, docs deviations tolerated. A *profile root*,
generated here, narrows them to one PIM version by overriding their ``$dynamicAnchor`` extension points:

- ``product``: identifier mode (5.0, 6.0), legacy or UUID mode (7.0, SaaS) (facts section 4);
- ``removed-product``: ``{identifier}`` before 7.0, ``{identifier, uuid}`` since (facts section 4);
- ``metric``: ``symbol`` only in SaaS (facts sections 0 and 7);
- ``model-enabled`` and ``empty-quantified-associations``: the two documented deviations of the docs
  examples (``enabled`` on product models, ``"quantified_associations": []``; facts sections 3 and 4). They
  are accepted by default and rejected with ``strict=True``.

Validation has two paths. ``jsonschema-rs`` (Rust, native draft 2020-12 with ``$dynamicRef``), compiled once per
profile root from the very same schema documents, answers "valid?" quickly (the hot path: most payloads are
valid); only an invalid payload goes through ``jsonschema``, whose errors (with the failing subschema's
``description`` and ``title``, which ``jsonschema-rs``'s errors do not carry) are rewritten into
:class:`ValidationIssue` objects with a JSONPath and a plain message. Both libraries get the shipped files as
their registry and never fetch anything (the ``$id`` host is ``.invalid``).

The Event Platform profile (``profile="event-platform"``) validates one CloudEvent object against the files of
``schemas/event-platform/`` (``cloudevent.json``, ``data.json``, ``delta.json``; event-platform-facts.md
sections 1 and 4), through the same two paths and the same :class:`ValidationIssue` style, in two variants:
the shipped files are closed (``additionalProperties: false``: the documented keys only, ``strict=True``),
and a lenient copy made here opens every closed object, so that by default a key the schemas do not know is
a warning, not an error (the platform adds fields over time; :func:`check_payload`).
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jsonschema_rs
from jsonschema import Draft202012Validator  # type: ignore[import-untyped,unused-ignore]
from jsonschema.exceptions import best_match  # type: ignore[import-untyped,unused-ignore]
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from .errors import UsageError
from .versions import DEFAULT_PROFILE, PimVersion, get_profile, resolve_profile_name
from .versions import EVENT_PLATFORM as EP_PROFILE

__all__ = [
    "EP_PROFILE",
    "EP_SCHEMA_BASE_URI",
    "MAX_PAYLOAD_BYTES",
    "SCHEMA_BASE_URI",
    "SCHEMA_DIR",
    "ValidationIssue",
    "ValidationResult",
    "check_bytes",
    "check_payload",
    "is_valid",
    "schema_for",
    "schema_path",
    "validate_bytes",
    "validate_payload",
    "validator_for",
]

#: The ``$id`` prefix of every schema file. The ``.invalid`` host is never fetched: refs resolve locally.
SCHEMA_BASE_URI = "https://akeneo-events-testkit.invalid/schemas/"
#: The ``$id`` prefix of the Event Platform schema files (``schemas/event-platform/``).
EP_SCHEMA_BASE_URI = SCHEMA_BASE_URI + "event-platform/"
#: :func:`validate_bytes` refuses bodies larger than this (a sanity cap; 10 events are far smaller).
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
_DRAFT = "https://json-schema.org/draft/2020-12/schema"
_FORMAT_CHECKER = Draft202012Validator.FORMAT_CHECKER

Root = Literal["envelope", "event"]


def _find_schema_dir() -> Path:
    """The packaged ``_schemas`` folder of a wheel, else the repository's ``schemas/`` (editable install)."""
    packaged = resources.files("akeneo_events_testkit") / "_schemas"
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "schemas"


#: Where the schema files are read from.
SCHEMA_DIR = _find_schema_dir()


def schema_path(name: str = "envelope.json") -> Path:
    """The path of one shipped schema file, e.g. ``schema_path("values.json")``."""
    path = SCHEMA_DIR / name
    if not path.is_file():
        known = ", ".join(sorted(_documents()))
        raise UsageError(f"no schema file {name!r} in {SCHEMA_DIR}: use one of {known}")
    return path


@functools.lru_cache(maxsize=1)
def _documents() -> dict[str, dict[str, Any]]:
    """Every schema file by file name, read once."""
    documents: dict[str, dict[str, Any]] = {}
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        if contents.get("$id") != SCHEMA_BASE_URI + path.name:
            raise UsageError(f"{path} must have $id {SCHEMA_BASE_URI + path.name!r}")
        documents[path.name] = contents
    if "envelope.json" not in documents:
        raise UsageError(f"no schema files found in {SCHEMA_DIR}: reinstall akeneo-events-testkit")
    return documents


@functools.lru_cache(maxsize=1)
def _registry() -> Registry[Any]:
    """The schema files as a ``referencing`` registry; it has no retriever, so nothing is ever fetched."""
    pairs = ((contents["$id"], DRAFT202012.create_resource(contents)) for contents in _documents().values())
    return Registry().with_resources(pairs).crawl()


# -- profile roots -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Options:
    """What selects a root schema: the profile's wire traits, the UUID mode and strictness."""

    profile: str
    has_uuid: bool
    metric_symbol: bool
    uuid_mode: bool | None
    strict: bool


def _options(profile: str | PimVersion, uuid_mode: bool | None, strict: bool) -> _Options:
    """Resolve a profile (name or :class:`PimVersion`) and check ``uuid_mode`` against it.

    ``uuid_mode=None`` accepts both modes of 7.0 and SaaS; a :class:`PimVersion` whose ``uuid_mode`` is set
    selects UUID mode.
    """
    resolved = get_profile(profile)
    if uuid_mode is None and resolved.uuid_mode:
        uuid_mode = True
    if uuid_mode and not resolved.has_uuid:
        raise UsageError(
            f"profile {resolved.name} has no UUID mode: use profile 7.0 or saas, or leave uuid_mode=None"
        )
    mode = uuid_mode if resolved.has_uuid else None
    return _Options(resolved.name, resolved.has_uuid, resolved.metric_symbol, mode, bool(strict))


def _anchors(options: _Options) -> dict[str, str]:
    """Which definition each ``$dynamicAnchor`` extension point takes under these options."""
    if not options.has_uuid:
        product = "identifier-mode"
    else:
        product = {None: "any-uuid-mode", True: "uuid-mode", False: "legacy-mode"}[options.uuid_mode]
    metric = "metric-with-symbol" if options.metric_symbol else "metric-without-symbol"
    anchors = {
        "product": f"product.json#/$defs/{product}",
        "removed-product": "product.json#/$defs/" + ("removed-with-uuid" if options.has_uuid else "removed"),
        "metric": f"values.json#/$defs/{metric}",
    }
    if options.strict:
        anchors["model-enabled"] = "product-model.json#/$defs/strict-enabled"
        anchors["empty-quantified-associations"] = "associations.json#/$defs/strict-empty-quantified-associations"
    return anchors


def _root_schema(options: _Options, root: Root) -> dict[str, Any]:
    mode = {None: "", True: "-uuid-mode", False: "-legacy-mode"}[options.uuid_mode]
    name = f"{options.profile}{mode}{'-strict' if options.strict else ''}-{root}"
    return {
        "$schema": _DRAFT,
        "$id": f"{SCHEMA_BASE_URI}profiles/{name}.json",
        "title": f"Events API {root}, profile {name[: -len(root) - 1]}",
        "$ref": f"{SCHEMA_BASE_URI}{root}.json",
        # Absolute refs: a dynamic anchor is evaluated with the base URI of the $dynamicRef that reached it.
        "$defs": {
            anchor: {"$dynamicAnchor": anchor, "$ref": SCHEMA_BASE_URI + target}
            for anchor, target in _anchors(options).items()
        },
    }


def schema_for(
    profile: str | PimVersion = DEFAULT_PROFILE,
    *,
    uuid_mode: bool | None = None,
    strict: bool = False,
    root: Root = "envelope",
    bundle: bool = True,
) -> dict[str, Any]:
    """The root schema of one profile, for an envelope or (``root="event"``) a single event.

    For ``profile="event-platform"`` it is the CloudEvent schema (``root`` does not apply).

    With ``bundle=True`` (default) every schema file is embedded under ``$defs`` with its own ``$id``, giving a
    self-contained draft 2020-12 compound document that any validator can use without the files.
    """
    schema: dict[str, Any] = copy.deepcopy(_checker_for(profile, uuid_mode, strict, root).validator.schema)
    if bundle and _is_ep(profile):
        schema["$defs"] = {name: copy.deepcopy(document) for name, document in _ep_documents().items()
                           if name != "cloudevent.json"}
    elif bundle:
        schema["$defs"].update(copy.deepcopy(_documents()))
    return schema


# -- validators ----------------------------------------------------------------------------------------------


def _formats_used(node: Any, found: set[str]) -> set[str]:
    """Every ``format`` value in a schema document."""
    if isinstance(node, dict):
        if isinstance(node.get("format"), str):
            found.add(node["format"])
        for child in node.values():
            _formats_used(child, found)
    elif isinstance(node, list):
        for child in node:
            _formats_used(child, found)
    return found


def _accept(_value: str) -> bool:
    return True


class _Checker:
    """One root schema's two validators: ``jsonschema-rs`` says "valid?", ``jsonschema`` explains why not.

    The Rust validator is compiled on first use and kept, from the same resources as the Python one: the shipped
    files as its registry and ``offline=True``, so it never fetches a ``$ref``. A format that this
    installation's ``jsonschema`` does not check (``uri`` without the ``rfc3987`` package) is not checked by
    the fast path either, so the two paths always agree on what is valid.
    """

    def __init__(self, validator: Any, resources: list[tuple[str, dict[str, Any]]]) -> None:
        self.validator = validator
        self.resources = resources

    @functools.cached_property
    def fast(self) -> jsonschema_rs.Validator:
        schema = self.validator.schema
        used: set[str] = set()
        for _, contents in self.resources:
            _formats_used(contents, used)
        unchecked = {name: _accept for name in sorted(used) if name not in _FORMAT_CHECKER.checkers}
        return jsonschema_rs.validator_for(
            schema, registry=jsonschema_rs.Registry(self.resources), validate_formats=True,
            formats=unchecked or None, offline=True,
        )

    def is_valid(self, document: Any) -> bool:
        """The fast answer; a value ``jsonschema-rs`` cannot read (not JSON data, e.g. an int key) goes the
        slow way."""
        try:
            return self.fast.is_valid(document)
        except ValueError:
            return next(iter(self.validator.iter_errors(document)), None) is None

    def issues(self, document: Any) -> list[ValidationIssue]:
        """Every issue of an invalid ``document``, explained by ``jsonschema``; should the two libraries ever
        disagree, the fast path's own errors, so that an invalid payload is never reported as valid."""
        found = _issues(self.validator.iter_errors(document))
        if found:
            return found
        return sorted({ValidationIssue(_format_path(error.instance_path), error.message)
                       for error in self.fast.iter_errors(document)}, key=lambda issue: issue.path)


def _resources(documents: Iterable[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [(contents["$id"], contents) for contents in documents]


@functools.lru_cache(maxsize=64)
def _checker(options: _Options, root: Root) -> _Checker:
    schema = _root_schema(options, root)
    registry = _registry().with_resource(schema["$id"], DRAFT202012.create_resource(schema)).crawl()
    validator = Draft202012Validator(schema, registry=registry, format_checker=_FORMAT_CHECKER)
    return _Checker(validator, [*_resources(_documents().values()), (schema["$id"], schema)])


@functools.lru_cache(maxsize=1)
def _ep_documents() -> dict[str, dict[str, Any]]:
    """The Event Platform schema files by file name, read once."""
    documents: dict[str, dict[str, Any]] = {}
    for path in sorted((SCHEMA_DIR / "event-platform").glob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        if contents.get("$id") != EP_SCHEMA_BASE_URI + path.name:
            raise UsageError(f"{path} must have $id {EP_SCHEMA_BASE_URI + path.name!r}")
        documents[path.name] = contents
    if "cloudevent.json" not in documents:
        raise UsageError(f"no Event Platform schema files in {SCHEMA_DIR / 'event-platform'}: reinstall the kit")
    return documents


def _opened(node: Any, base: str, pointer: str, closed: set[str]) -> Any:
    """A copy of a schema document with every ``additionalProperties: false`` replaced by ``{}`` (anything
    goes), recording each replaced keyword's absolute location in ``closed``.

    ``{}`` rather than ``true``: ``jsonschema-rs`` reports the keys a ``{}`` evaluated as an annotation, which
    is how :func:`_unknown_keys` finds them.
    """
    if isinstance(node, dict):
        opened: dict[str, Any] = {}
        for key, value in node.items():
            here = f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}"
            if key == "additionalProperties" and value is False:
                closed.add(f"{base}#{here}")
                opened[key] = {}
            else:
                opened[key] = _opened(value, base, here, closed)
        return opened
    if isinstance(node, list):
        return [_opened(value, base, f"{pointer}/{index}", closed) for index, value in enumerate(node)]
    return node


class _EpCheckers:
    """The Event Platform's two variants: ``strict`` (the shipped, closed schemas: every key documented) and
    ``lenient`` (the default: keys the schemas do not know are allowed, and reported as warnings), each with
    both validators; ``closed`` lists where the lenient variant opened an object."""

    def __init__(self) -> None:
        documents = _ep_documents()
        self.closed: set[str] = set()
        opened = {name: _opened(contents, contents["$id"], "", self.closed) for name, contents in documents.items()}
        self.strict = self._build(documents)
        self.lenient = self._build(opened)

    @staticmethod
    def _build(documents: Mapping[str, dict[str, Any]]) -> _Checker:
        pairs = ((contents["$id"], DRAFT202012.create_resource(contents)) for contents in documents.values())
        registry: Registry[Any] = Registry().with_resources(pairs).crawl()
        schema = documents["cloudevent.json"]
        validator = Draft202012Validator(schema, registry=registry, format_checker=_FORMAT_CHECKER)
        return _Checker(validator, _resources(documents.values()))


@functools.lru_cache(maxsize=1)
def _ep_checkers() -> _EpCheckers:
    """The validators of one CloudEvent (event-platform-facts.md sections 1 and 4), built once."""
    return _EpCheckers()


def _ep_checker(strict: bool = False) -> _Checker:
    checkers = _ep_checkers()
    return checkers.strict if strict else checkers.lenient


def _pointer_path(pointer: str) -> list[str | int]:
    """The parts of a JSON Pointer (as ``jsonschema-rs`` writes instance locations)."""
    if not pointer:
        return []
    parts: list[str | int] = []
    for raw in pointer.lstrip("/").split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        parts.append(int(part) if part.isdigit() else part)
    return parts


def _unknown_keys(document: Any) -> list[ValidationIssue]:
    """A warning per object holding keys the schemas do not know, found by the lenient variant's opened
    ``additionalProperties`` (annotations of the branches that passed, so an ``if``/``then`` that did not apply
    names nothing)."""
    closed = _ep_checkers().closed
    try:
        annotations = _ep_checkers().lenient.fast.evaluate(document).annotations()
    except ValueError:
        return []
    found: dict[str, tuple[list[str | int], list[str]]] = {}
    for entry in annotations:
        names = entry["annotations"]
        if entry["absoluteKeywordLocation"] in closed and isinstance(names, list) and names:
            parts = _pointer_path(entry["instanceLocation"])
            found.setdefault(_format_path(parts), (parts, []))[1].extend(str(name) for name in names)
    ordered = sorted(found.items(), key=lambda item: _sort_key(item[1][0]))
    return [ValidationIssue(path, _unknown_message(sorted(set(names)))) for path, (_, names) in ordered]


def _unknown_message(names: list[Any]) -> str:
    return (f"unknown key{'s' if len(names) > 1 else ''} {_keys(names)}: not in the documented schema, accepted "
            "(the platform adds fields over time; event-platform-facts.md section 4); an error with strict")


_UNEXPECTED = re.compile(r"unexpected keys? (.+?)(?: \(.*\))?\Z")


def _as_unknown(issue: ValidationIssue) -> ValidationIssue:
    """A closed schema's "unexpected key" error, worded as the default's warning."""
    match = _UNEXPECTED.match(issue.message)
    if match is None:
        return issue
    return ValidationIssue(issue.path, _unknown_message(json.loads(f"[{match.group(1)}]")))


_DATASCHEMA = re.compile(r"https://(?:event\.prd\.sdk\.akeneo\.cloud/spec|events\.akeneo\.com)/(.+)\.schema\.json\Z")


def _dataschema_mismatch(document: Any) -> list[ValidationIssue]:
    """A ``dataschema`` of a documented host that names another type than ``type``: the docs' attribute-option
    and product-model examples do so; ``dataschema`` is informative (event-platform-facts.md section 1)."""
    if not isinstance(document, Mapping):
        return []
    dataschema, event_type = document.get("dataschema"), document.get("type")
    match = _DATASCHEMA.match(dataschema) if isinstance(dataschema, str) else None
    if match is None or not isinstance(event_type, str) or match.group(1) == event_type:
        return []
    return [ValidationIssue("$.dataschema", f"names the schema of {match.group(1)}, not of this event's type "
                                            f"{event_type}: informative only, as in some docs examples "
                                            "(event-platform-facts.md section 1); an error with strict")]


def _is_ep(profile: str | PimVersion) -> bool:
    """Whether ``profile`` names the Event Platform (the one resolver: :func:`~.versions.resolve_profile_name`)."""
    return resolve_profile_name(profile)[0] == EP_PROFILE


def _checker_for(profile: str | PimVersion, uuid_mode: bool | None, strict: bool, root: Root) -> _Checker:
    if _is_ep(profile):
        if uuid_mode is not None:
            raise UsageError("uuid_mode does not apply to the event-platform profile: products are always by uuid")
        return _ep_checker(strict)
    if root not in ("envelope", "event"):
        raise UsageError(f"root must be 'envelope' or 'event', got {root!r}")
    return _checker(_options(profile, uuid_mode, strict), root)


def validator_for(
    profile: str | PimVersion = DEFAULT_PROFILE,
    *,
    uuid_mode: bool | None = None,
    strict: bool = False,
    root: Root = "envelope",
) -> Any:
    """The cached ``jsonschema`` ``Draft202012Validator`` of one profile (format checking on)."""
    return _checker_for(profile, uuid_mode, strict, root).validator


# -- issues --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidationIssue:
    """One thing wrong with a payload: where (a JSONPath such as ``$.events[0].event_id``) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_TYPE_PHRASES = {
    "object": "an object", "array": "a list", "string": "a string", "integer": "an integer",
    "number": "a number", "boolean": "a boolean", "null": "null",
}
#: The docs' delta examples put words where UUIDs go ("a_product_uuid_1", "an_added_product_uuid"; facts section 1).
_PLACEHOLDER = re.compile(r"an?_[a-z0-9_]*uuid[a-z0-9_]*\Z")
_FLOAT_MESSAGE = (
    "{shown} is a JSON number with a fraction: the PIM writes decimals as strings "
    '("12.5000" for numbers and metric amounts, "12.50" for prices; facts section 7)'
)


def _format_path(parts: Iterable[str | int]) -> str:
    text = "$"
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENTIFIER.match(part):
            text += f".{part}"
        else:
            text += "['" + part.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return text


def _show(value: Any) -> str:
    """A short rendering of a value for a message; containers are described, not dumped."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'' if len(value) == 1 else 's'}"
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return f"a {type(value).__name__}"
    return text if len(text) <= 80 else text[:77] + "..."


def _is_number(value: Any) -> bool:
    """A JSON number as draft 2020-12 sees one: an int or a float, never a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return f"the string {_show(value)}"
    if _is_number(value):
        return f"the number {_show(value)}"
    return _show(value)


def _keys(names: Iterable[Any]) -> str:
    return ", ".join(json.dumps(name, ensure_ascii=False) for name in names)


def _explain(error: Any) -> tuple[list[str | int], str]:
    """The path and a plain message for one ``jsonschema`` error."""
    if error.context:
        return _explain(best_match(error.context))
    parts: list[str | int] = list(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    keyword, spec, instance = error.validator, error.validator_value, error.instance
    expected = schema.get("description")
    where = f" ({schema['title']})" if "title" in schema else ""
    if "propertyNames" in error.absolute_schema_path:
        parts.append(instance)
        return parts, f"invalid key {_show(instance)}: expected {expected or 'a valid key'}"
    if keyword == "type":
        kinds = [spec] if isinstance(spec, str) else list(spec)
        if isinstance(instance, float) and not instance.is_integer() and "number" not in kinds:
            return parts, _FLOAT_MESSAGE.format(shown=_show(instance))
        wanted = expected or " or ".join(_TYPE_PHRASES.get(kind, kind) for kind in kinds)
        return parts, f"expected {wanted}, got {_kind(instance)}"
    if keyword == "required":
        missing = [name for name in spec if name not in instance]
        return parts, f"missing required key{'s' if len(missing) > 1 else ''} {_keys(missing)}{where}"
    if keyword == "additionalProperties":
        allowed = list(schema.get("properties", ()))
        extra = [name for name in instance if name not in allowed]
        notes = [schema["title"]] if where else []
        notes += [f"allowed: {_keys(allowed)}"] if len(allowed) <= 6 else []
        suffix = f" ({'; '.join(notes)})" if notes else ""
        return parts, f"unexpected key{'s' if len(extra) > 1 else ''} {_keys(extra)}{suffix}"
    if keyword == "enum":
        return parts, f"{_show(instance)} is not one of {_keys(spec)}"
    if keyword == "const":
        return parts, f"expected {_show(spec)}, got {_show(instance)}"
    if keyword == "not":
        return parts, expected or f"{_show(instance)} is not allowed here"
    if keyword in ("minProperties", "maxProperties") and expected:
        return parts, f"expected {expected}, got the keys {_keys(instance)}"
    if keyword in ("minItems", "maxItems") and expected:
        return parts, f"expected {expected}, got {_show(instance)}"
    if keyword in ("minItems", "maxItems"):
        bound = "at least" if keyword == "minItems" else "at most"
        return parts, f"expected {bound} {spec} item{'' if spec == 1 else 's'}, got {_show(instance)}"
    if keyword in ("pattern", "format") and expected and _PLACEHOLDER.match(str(instance)):
        return parts, (f"expected {expected}, got {_show(instance)}: this looks like a placeholder from the docs "
                       "examples, not a real value (event-platform-facts.md section 1)")
    if keyword in ("pattern", "format", "minLength", "maxLength") and expected:
        return parts, f"expected {expected}, got {_show(instance)}"
    if keyword == "minLength" and spec == 1:
        return parts, "must not be empty"
    if keyword == "minimum":
        return parts, f"must be at least {spec}, got {_show(instance)}"
    return parts, str(error.message)


def _sort_key(parts: list[str | int]) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, part) if isinstance(part, int) else (1, part) for part in parts)


def _issues(errors: Iterable[Any]) -> list[ValidationIssue]:
    """Every error explained, de-duplicated, sorted by path (list indexes in numeric order)."""
    explained: dict[tuple[str, str], list[str | int]] = {}
    for error in errors:
        parts, message = _explain(error)
        explained.setdefault((_format_path(parts), message), parts)
    ordered = sorted(explained.items(), key=lambda item: (_sort_key(item[1]), item[0][1]))
    return [ValidationIssue(path, message) for (path, message), _ in ordered]


# -- public API ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidationResult:
    """What :func:`check_payload` found: ``errors`` make a payload invalid; ``warnings`` do not.

    Warnings come from the Event Platform profile only (event-platform-facts.md sections 1 and 4): keys the
    schemas do not know, and a ``dataschema`` naming another type. With ``strict=True`` they are errors.
    """

    errors: tuple[ValidationIssue, ...] = ()
    warnings: tuple[ValidationIssue, ...] = ()

    @property
    def ok(self) -> bool:
        """No errors (warnings allowed)."""
        return not self.errors


def _check_ep(document: Any, strict: bool) -> ValidationResult:
    """The Event Platform's forward-compatible check: the fast path answers for the common case (a payload
    with documented keys only); unknown keys are searched only when the closed schemas refuse it."""
    mismatch = _dataschema_mismatch(document)
    checkers = _ep_checkers()
    if checkers.strict.is_valid(document):
        return ValidationResult(tuple(mismatch), ()) if strict else ValidationResult((), tuple(mismatch))
    if strict:
        return ValidationResult(tuple(_merged(checkers.strict.issues(document), mismatch)), ())
    if checkers.lenient.is_valid(document):
        return ValidationResult((), tuple(_merged(_unknown_keys(document), mismatch)))
    # Invalid anyway: annotations are dropped, so the closed schemas' extra complaints name the unknown keys.
    errors = checkers.lenient.issues(document)
    unknown = [_as_unknown(issue) for issue in checkers.strict.issues(document) if issue not in errors]
    return ValidationResult(tuple(errors), tuple(_merged(unknown, mismatch)))


def _merged(first: list[ValidationIssue], second: list[ValidationIssue]) -> list[ValidationIssue]:
    return sorted([*first, *second], key=lambda issue: issue.path)


def check_payload(
    document: Any,
    *,
    profile: str | PimVersion = DEFAULT_PROFILE,
    uuid_mode: bool | None = None,
    strict: bool = False,
) -> ValidationResult:
    """:func:`validate_payload`'s errors, and the warnings it leaves out (see :class:`ValidationResult`).

    With ``profile="event-platform"`` validation is forward-compatible by default: a key the schemas do not
    know is a warning (the platform adds fields over time, and Akeneo's own delta examples carry one, a
    metric's ``family``), and so is a ``dataschema`` of another type; ``strict=True`` makes both errors (the
    kit's own emitted payloads are tested that way). Either documented ``dataschema`` host is accepted; any
    other host is an error: facts section 1 documents the two the platform uses, and the value is pinned
    to ``https://<host>/<type>.schema.json``, so another one is a typo rather than real traffic.
    """
    if _is_ep(profile):
        _checker_for(profile, uuid_mode, strict, "event")
        return _check_ep(document, strict)
    checker = _checker_for(profile, uuid_mode, strict, _root_of(document))
    return ValidationResult(() if checker.is_valid(document) else tuple(checker.issues(document)))


def _root_of(document: Any) -> Root:
    """An object with an ``events`` key is an envelope; any other object is a single event."""
    return "event" if isinstance(document, Mapping) and "events" not in document else "envelope"


def validate_payload(
    document: Any,
    *,
    profile: str | PimVersion = DEFAULT_PROFILE,
    uuid_mode: bool | None = None,
    strict: bool = False,
) -> list[ValidationIssue]:
    """Every issue of a decoded envelope ``{"events": [...]}`` or single event, sorted by path.

    With ``profile="event-platform"``, ``document`` is one CloudEvent object (event-platform-facts.md section 1);
    ``uuid_mode`` must stay None; keys the schemas do not know are accepted unless ``strict=True`` (the
    warnings are in :func:`check_payload`).

    ``uuid_mode=None`` accepts both the legacy and the UUID mode of 7.0 and SaaS (the mode is a per-subscription
    option, facts section 0); ``strict=True`` also rejects the deviations of the docs examples.
    """
    return list(check_payload(document, profile=profile, uuid_mode=uuid_mode, strict=strict).errors)


def is_valid(
    document: Any,
    *,
    profile: str | PimVersion = DEFAULT_PROFILE,
    uuid_mode: bool | None = None,
    strict: bool = False,
) -> bool:
    """Whether :func:`validate_payload` would report nothing."""
    if _is_ep(profile):
        return check_payload(document, profile=profile, uuid_mode=uuid_mode, strict=strict).ok
    return _checker_for(profile, uuid_mode, strict, _root_of(document)).is_valid(document)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _body_issue(message: str) -> ValidationResult:
    return ValidationResult((ValidationIssue("$", message),))


def check_bytes(
    raw: bytes | bytearray | memoryview | str,
    *,
    profile: str | PimVersion = DEFAULT_PROFILE,
    uuid_mode: bool | None = None,
    strict: bool = False,
    max_bytes: int = MAX_PAYLOAD_BYTES,
) -> ValidationResult:
    """Check a raw request body (errors and warnings, as :func:`check_payload`); an empty, oversized,
    non-UTF-8 or non-JSON body is one error at ``$``.

    Never raises for any body (only for a misused option such as an unknown profile).
    """
    _checker_for(profile, uuid_mode, strict, "envelope")
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
    if len(data) > max_bytes:
        return _body_issue(f"body is {len(data)} bytes, more than the {max_bytes}-byte limit")
    try:
        text = raw if isinstance(raw, str) else data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _body_issue(f"body is not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}")
    if not text.strip():
        if _is_ep(profile):
            return _body_issue("body is empty: the Event Platform sends one CloudEvent object "
                               "(event-platform-facts.md section 1)")
        return _body_issue('body is empty: the PIM always sends {"events": [...]} (facts section 4)')
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        return _body_issue(f"body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
    except ValueError as exc:
        return _body_issue(f"body is not JSON: {exc}")
    except RecursionError:
        return _body_issue("body is not JSON the kit can read: nested too deeply")
    return check_payload(document, profile=profile, uuid_mode=uuid_mode, strict=strict)


def validate_bytes(
    raw: bytes | bytearray | memoryview | str,
    *,
    profile: str | PimVersion = DEFAULT_PROFILE,
    uuid_mode: bool | None = None,
    strict: bool = False,
    max_bytes: int = MAX_PAYLOAD_BYTES,
) -> list[ValidationIssue]:
    """Validate a raw request body; an empty, oversized, non-UTF-8 or non-JSON body is one issue at ``$``.

    Never raises for any body (only for a misused option such as an unknown profile). The errors of
    :func:`check_bytes`.
    """
    return list(check_bytes(raw, profile=profile, uuid_mode=uuid_mode, strict=strict, max_bytes=max_bytes).errors)
