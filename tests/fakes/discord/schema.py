"""A checker for request bodies, answering as Discord does: an ``errors`` tree.

Schemas are plain values built from a handful of types that mirror what Discord's
published OpenAPI document says about a body (``api_schemas`` holds the bodies of
the routes the fake serves): :class:`Str`, :class:`Int`, :class:`Num`,
:class:`Bool`, :class:`Snowflake`, :class:`Arr`, :class:`Obj`, :class:`Map` (an
object of free keys), :class:`Tagged` (a union told apart by its ``type`` field) and
:class:`AnyOf`. ``nullable`` is the document's ``"type": [..., "null"]``.

:func:`check` never raises on any JSON a client sends: it returns the tree Discord
puts under ``errors`` in its 400 / 50035 answer (``{}`` when the body is valid), each
leaf ``{"_errors": [{"code", "message"}]}`` under the field's path (list items by
index). Keys a schema does not name are ignored, as Discord ignores them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

Errors = dict[str, Any]

#: Schemes Discord accepts where its document says ``format: uri`` (embeds, avatars).
URL_SCHEMES = frozenset({"http", "https", "attachment"})
_SNOWFLAKE = re.compile(r"^(0|[1-9][0-9]*)$")
_INT = re.compile(r"^-?[0-9]+$")
_MAX_SNOWFLAKE = (1 << 64) - 1


def error(code: str, message: str) -> Errors:
    return {"_errors": [{"code": code, "message": message}]}


def required() -> Errors:
    return error("BASE_TYPE_REQUIRED", "This field is required")


def merge(into: Errors, path: str, errors: Errors) -> None:
    """Put ``errors`` under ``path`` (a dotted path, list indices as numbers)."""
    if not errors:
        return
    node = into
    for part in path.split("."):
        node = node.setdefault(part, {})
    for key, value in errors.items():
        if key == "_errors":
            node.setdefault("_errors", []).extend(value)
        else:
            merge(node, key, value)


class Schema(Protocol):
    nullable: bool

    def errors(self, value: Any) -> Errors:
        """Errors of a non-null ``value`` (``{}`` if valid)."""


def check(schema: Schema, value: Any) -> Errors:
    if value is None:
        return {} if schema.nullable else required()
    return schema.errors(value)


def _length(value: str | list[Any], low: int, high: int | None) -> Errors:
    n = len(value)
    if high is not None and low > 0 and not low <= n <= high:
        return error("BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")
    if high is not None and n > high:
        return error("BASE_TYPE_MAX_LENGTH", f"Must be {high} or fewer in length.")
    if n < low:
        return error("BASE_TYPE_MIN_LENGTH", f"Must be {low} or more in length.")
    return {}


def _choices(value: Any, choices: tuple[Any, ...]) -> Errors:
    if value in choices and type(value) is type(choices[0]):
        return {}
    shown = ", ".join(repr(c) for c in choices)
    return error("BASE_TYPE_CHOICES", f"Value must be one of {{{shown}}}.")


@dataclass(frozen=True)
class Str:
    min_length: int = 0
    max_length: int | None = None
    nullable: bool = False
    choices: tuple[str, ...] = ()
    #: ``uri`` or ``date-time``, the document's ``format``.
    format: str = ""

    def errors(self, value: Any) -> Errors:
        if not isinstance(value, str):
            return error("STRING_TYPE_CONVERT", "Could not interpret value as string.")
        if self.choices:
            return _choices(value, self.choices)
        found = _length(value, self.min_length, self.max_length)
        if found or not value:
            return found
        if self.format == "uri" and not _is_url(value):
            return error("URL_TYPE_INVALID_URL", "Not a well formed URL.")
        if self.format == "date-time" and not _is_datetime(value):
            return error("DATE_TIME_TYPE_PARSE", f'Could not parse {value}. Should be ISO8601.')
        return {}


def _is_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    if parts.scheme not in URL_SCHEMES:
        return False
    return bool(parts.netloc)


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _as_int(value: Any) -> int | None:
    """Discord coerces integer strings; a JSON boolean or float is not an integer."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT.match(value):
        return int(value)
    return None


@dataclass(frozen=True)
class Int:
    minimum: int | None = None
    maximum: int | None = None
    nullable: bool = False
    choices: tuple[int, ...] = ()

    def errors(self, value: Any) -> Errors:
        number = _as_int(value)
        if number is None:
            return error("NUMBER_TYPE_COERCE", f'Value "{_shown(value)}" is not int.')
        if self.choices:
            return _choices(number, self.choices)
        if self.minimum is not None and number < self.minimum:
            return error("NUMBER_TYPE_MIN",
                         f"int value should be greater than or equal to {self.minimum}.")
        if self.maximum is not None and number > self.maximum:
            return error("NUMBER_TYPE_MAX",
                         f"int value should be less than or equal to {self.maximum}.")
        return {}


@dataclass(frozen=True)
class Num:
    minimum: float | None = None
    maximum: float | None = None
    nullable: bool = False

    def errors(self, value: Any) -> Errors:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return error("NUMBER_TYPE_COERCE", f'Value "{_shown(value)}" is not float.')
        if self.minimum is not None and value < self.minimum:
            return error("NUMBER_TYPE_MIN",
                         f"float value should be greater than or equal to {self.minimum}.")
        if self.maximum is not None and value > self.maximum:
            return error("NUMBER_TYPE_MAX",
                         f"float value should be less than or equal to {self.maximum}.")
        return {}


@dataclass(frozen=True)
class Bool:
    nullable: bool = False

    def errors(self, value: Any) -> Errors:
        if isinstance(value, bool):
            return {}
        return error("BOOLEAN_TYPE_CONVERT", f'Value "{_shown(value)}" is not a valid boolean.')


@dataclass(frozen=True)
class Snowflake:
    nullable: bool = False

    def errors(self, value: Any) -> Errors:
        text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        if (isinstance(text, str) and _SNOWFLAKE.match(text)
                and int(text) <= _MAX_SNOWFLAKE):
            return {}
        return error("NUMBER_TYPE_COERCE", f'Value "{_shown(value)}" is not snowflake.')


@dataclass(frozen=True)
class Arr:
    items: Schema
    min_items: int = 0
    max_items: int | None = None
    unique: bool = False
    nullable: bool = False

    def errors(self, value: Any) -> Errors:
        if not isinstance(value, list):
            return error("LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
        found = _length(value, self.min_items, self.max_items)
        if found:
            return found
        out: Errors = {}
        seen: list[Any] = []
        for i, item in enumerate(value):
            merge(out, str(i), check(self.items, item))
            if self.unique:
                if item in seen:
                    merge(out, str(i), error("SET_TYPE_ALREADY_CONTAINS_VALUE",
                                             "The set already contains this value"))
                seen.append(item)
        return out


def _not_an_object() -> Errors:
    return error("DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")


@dataclass(frozen=True)
class Obj:
    fields: Mapping[str, Schema]
    required: frozenset[str] = frozenset()
    nullable: bool = False

    def errors(self, value: Any) -> Errors:
        if not isinstance(value, dict):
            return _not_an_object()
        out: Errors = {}
        for name, schema in self.fields.items():
            if name not in value:
                if name in self.required:
                    merge(out, name, required())
                continue
            merge(out, name, check(schema, value[name]))
        return out


@dataclass(frozen=True)
class Map:
    """An object of free keys (localizations): ``additionalProperties`` and its bound."""

    values: Schema
    max_properties: int | None = None
    nullable: bool = False

    def errors(self, value: Any) -> Errors:
        if not isinstance(value, dict):
            return _not_an_object()
        if self.max_properties is not None and len(value) > self.max_properties:
            return error("BASE_TYPE_MAX_LENGTH",
                         f"Must be {self.max_properties} or fewer in length.")
        out: Errors = {}
        for key, item in value.items():
            merge(out, str(key), check(self.values, item))
        return out


@dataclass(frozen=True)
class Tagged:
    """One of several objects, told apart by their ``type`` (components, callbacks)."""

    variants: Mapping[int | str, Schema]
    nullable: bool = False
    tag: str = "type"

    def errors(self, value: Any) -> Errors:
        if not isinstance(value, dict):
            return _not_an_object()
        if value.get(self.tag) is None:
            return {self.tag: required()}
        raw = value[self.tag]
        variant = self.variants.get(raw) if isinstance(raw, str) else None
        tag = _as_int(raw)
        if variant is None and tag is not None:
            variant = self.variants.get(tag)
        if variant is None:
            shown = ", ".join(str(t) for t in self.variants)
            return error("UNION_TYPE_CHOICES",
                         f'Value of field "{self.tag}" must be one of ({shown}).')
        return variant.errors(value)


@dataclass(frozen=True)
class AnyOf:
    """Valid if any variant is; otherwise the first variant's errors."""

    variants: tuple[Schema, ...]
    nullable: bool = False

    def errors(self, value: Any) -> Errors:
        first: Errors = {}
        for i, variant in enumerate(self.variants):
            found = check(variant, value)
            if not found:
                return {}
            if i == 0:
                first = found
        return first


@dataclass(frozen=True)
class Nullable:
    """``schema`` that also accepts null (the document's ``oneOf: [null, X]``)."""

    schema: Schema
    nullable: bool = field(default=True, init=False)

    def errors(self, value: Any) -> Errors:
        return self.schema.errors(value)


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text[:50]
