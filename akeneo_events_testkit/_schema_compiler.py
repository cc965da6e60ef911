"""The boolean fast path of :mod:`.schemas`: the shipped JSON Schemas compiled into plain predicates.

Most payloads are valid, so "valid?" is answered by a predicate compiled from the very same schema documents
``jsonschema`` uses, and only an invalid payload goes through ``jsonschema`` to be explained. The compiler
knows the subset of draft 2020-12 that the shipped files use; any other keyword raises
:class:`UnsupportedKeyword`, and the caller then keeps the slow path only, never a partial check.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from referencing._core import Resolver  # not re-exported by referencing; used for annotations only

__all__ = ["Check", "UnsupportedKeyword", "compile_schema", "is_number"]

Check = Callable[[Any], bool]
#: Keywords that do not assert anything ("then" and "else" are compiled with "if").
_SKIPPED = frozenset(
    {"$schema", "$id", "$defs", "$comment", "$anchor", "$dynamicAnchor", "title", "description", "then", "else"}
)


class UnsupportedKeyword(Exception):
    """A keyword the compiler does not know: the fast path is then disabled, never silently partial."""


def is_number(value: Any) -> bool:
    """A JSON number as draft 2020-12 sees one: an int or a float, never a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
    "integer": lambda value: (isinstance(value, int) and not isinstance(value, bool))
    or (isinstance(value, float) and value.is_integer()),
    "number": is_number,
}
_PLAIN_TYPES: dict[str, type] = {"object": dict, "array": list, "string": str, "null": type(None)}


def _every(checks: list[Check]) -> Check:
    if len(checks) == 1:
        return checks[0]

    def check(value: Any) -> bool:  # a loop: all() over a generator is twice as slow here
        for each in checks:  # noqa: SIM110
            if not each(value):
                return False
        return True

    return check


class _Compiler:
    """Compile the subset of draft 2020-12 that the shipped files use into plain predicates.

    References are followed through the same ``referencing`` resolver as ``jsonschema`` uses, so
    ``$dynamicRef`` sees the same dynamic scope (the profile root is outermost) and lands on the same anchor.
    """

    def __init__(self, format_checker: Any) -> None:
        self._format_checker = format_checker
        self._memo: dict[int, Check] = {}

    def compile(self, schema: Any, resolver: Resolver[Any]) -> Check:
        if schema is True or schema == {}:
            return lambda value: True
        if schema is False:
            return lambda value: False
        if id(schema) in self._memo:
            return self._memo[id(schema)]
        late: list[Check] = []
        self._memo[id(schema)] = lambda value: late[0](value)
        checks = [self._keyword(key, spec, schema, resolver) for key, spec in schema.items()
                  if key not in _SKIPPED]
        late.append(_every(checks) if checks else (lambda value: True))
        self._memo[id(schema)] = late[0]
        return late[0]

    def _keyword(self, key: str, spec: Any, schema: dict[str, Any], resolver: Resolver[Any]) -> Check:
        sub = functools.partial(self.compile, resolver=resolver)
        if key in ("$ref", "$dynamicRef"):
            resolved = resolver.lookup(spec)
            return self.compile(resolved.contents, resolved.resolver)
        if key == "type":
            names = [spec] if isinstance(spec, str) else spec
            if len(names) == 1:
                return _TYPES[names[0]]
            plain = tuple(_PLAIN_TYPES[name] for name in names if name in _PLAIN_TYPES)
            others = [_TYPES[name] for name in names if name not in _PLAIN_TYPES]
            return lambda value: isinstance(value, plain) or any(other(value) for other in others)
        if key in ("enum", "const"):
            allowed = frozenset(spec if key == "enum" else [spec])
            if not all(isinstance(item, str) for item in allowed):
                raise UnsupportedKeyword(f"{key} with non-string values")
            return lambda value: isinstance(value, str) and value in allowed
        if key == "format":
            if spec not in self._format_checker.checkers:
                return lambda value: True
            function, raises = self._format_checker.checkers[spec]

            def conforms(value: Any) -> bool:  # FormatChecker.conforms without its per-call lookups
                try:
                    return bool(function(value))
                except raises:
                    return False

            return conforms
        if key == "pattern":
            search = re.compile(spec).search
            return lambda value: not isinstance(value, str) or search(value) is not None
        if key in ("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"):
            kind = {"L": str, "I": list, "P": dict}[key[3]]
            if key.startswith("min"):
                return lambda value: not isinstance(value, kind) or len(value) >= spec
            return lambda value: not isinstance(value, kind) or len(value) <= spec
        if key == "minimum":
            return lambda value: not is_number(value) or value >= spec
        if key == "required":
            required = frozenset(spec)
            return lambda value: not isinstance(value, dict) or required.issubset(value)
        if key == "properties":
            pairs = [(name, sub(each)) for name, each in spec.items()]

            def properties(value: Any) -> bool:
                if isinstance(value, dict):
                    for name, check in pairs:
                        if name in value and not check(value[name]):
                            return False
                return True

            return properties
        if key == "additionalProperties":
            if "patternProperties" in schema:
                raise UnsupportedKeyword("patternProperties")
            known = frozenset(schema.get("properties", ()))
            if spec is False:
                return lambda value: not isinstance(value, dict) or known.issuperset(value)
            extra = sub(spec)

            def additional(value: Any) -> bool:
                if isinstance(value, dict):
                    for name, item in value.items():
                        if name not in known and not extra(item):
                            return False
                return True

            return additional
        if key == "propertyNames":
            valid_name = sub(spec)
            return lambda value: not isinstance(value, dict) or all(valid_name(name) for name in value)
        if key == "dependentSchemas":
            dependents = [(name, sub(each)) for name, each in spec.items()]
            return lambda value: not isinstance(value, dict) or all(
                check(value) for name, check in dependents if name in value)
        if key in ("items", "contains"):
            if {"prefixItems", "minContains", "maxContains"} & schema.keys():
                raise UnsupportedKeyword("prefixItems/minContains/maxContains")
            item_check = sub(spec)
            if key == "items":

                def items(value: Any) -> bool:
                    if isinstance(value, list):
                        for item in value:
                            if not item_check(item):
                                return False
                    return True

                return items
            return lambda value: not isinstance(value, list) or any(item_check(item) for item in value)
        if key in ("allOf", "anyOf"):
            branches = [sub(each) for each in spec]
            if key == "allOf":
                return _every(branches)
            return lambda value: any(branch(value) for branch in branches)
        if key == "not":
            negated = sub(spec)
            return lambda value: not negated(value)
        if key == "if":
            condition, then, otherwise = sub(spec), sub(schema.get("then", True)), sub(schema.get("else", True))
            return lambda value: then(value) if condition(value) else otherwise(value)
        raise UnsupportedKeyword(key)


def compile_schema(schema: Any, resolver: Resolver[Any], format_checker: Any) -> Check:
    """One predicate for ``schema``, references followed through ``resolver``; ``format_checker`` is the
    ``jsonschema`` ``FormatChecker`` of the slow path, so both agree on ``format``. Raises
    :class:`UnsupportedKeyword`."""
    return _Compiler(format_checker).compile(schema, resolver)
