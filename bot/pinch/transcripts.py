"""Transcript data packets from the interpreter, bytes → :class:`TranscriptEvent`.

The room's data channel carries JSON objects typed ``original_transcript`` or
``translated_transcript`` (PROTOCOLS.md §1). :class:`TranscriptParser` is the
only place they are decoded: it tolerates the trailing commas of the API
reference's own examples and ignores unknown types and extra fields, rejects
everything else, and never raises. Each reject is counted by reason in
``rejected`` and logged once per reason, naming the field but never the
payload (which may carry what people said).
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_MESSAGE_BYTES: Final = 8 * 1024  # a long sentence is < 1 KB; more is not a transcript

TranscriptKind = Literal["original", "translated"]
_KINDS: Final[dict[str, TranscriptKind]] = {
    "original_transcript": "original",
    "translated_transcript": "translated",
}

# Reasons counted in TranscriptParser.rejected.
OVERSIZED: Final = "oversized"
NOT_BYTES: Final = "not_bytes"
NOT_UTF8: Final = "not_utf8"
NOT_JSON: Final = "not_json"
NOT_OBJECT: Final = "not_object"
MISSING_FIELD: Final = "missing_field"
WRONG_TYPE: Final = "wrong_type"
OUT_OF_RANGE: Final = "out_of_range"
INTERNAL: Final = "internal_error"
# Reason counted in TranscriptParser.ignored.
UNKNOWN_TYPE: Final = "unknown_type"


@dataclass(frozen=True, slots=True)
class TranscriptEvent:
    """One transcript message from the interpreter."""

    kind: TranscriptKind
    text: str
    is_final: bool
    language_detected: str | None
    timestamp: float  # unix seconds, end of the utterance
    confidence: float | None


class _Reject(Exception):
    def __init__(self, reason: str, field: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


class TranscriptParser:
    """Stateful only in its counters; one per room link."""

    def __init__(self, max_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.rejected: Counter[str] = Counter()
        self.ignored: Counter[str] = Counter()
        self.accepted = 0
        self._logged: set[str] = set()

    def parse(self, data: bytes) -> TranscriptEvent | None:
        """The event in ``data``, or ``None`` if it is ignored or rejected. Never raises."""
        try:
            event = self._parse(data)
        except _Reject as reject:
            self._count_reject(reject.reason, reject.field)
            return None
        except Exception:  # the last net: a bug here must not kill the room link
            self._count_reject(INTERNAL, "")
            return None
        if event is not None:
            self.accepted += 1
        return event

    def _parse(self, data: bytes) -> TranscriptEvent | None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise _Reject(NOT_BYTES)
        raw = bytes(data)
        if len(raw) > self.max_bytes:
            raise _Reject(OVERSIZED)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _Reject(NOT_UTF8) from None
        obj = _loads_tolerant(text)
        if not isinstance(obj, dict):
            raise _Reject(NOT_OBJECT)
        kind_name = obj.get("type")
        if kind_name is None:
            raise _Reject(MISSING_FIELD, "type")
        if not isinstance(kind_name, str):
            raise _Reject(WRONG_TYPE, "type")
        kind = _KINDS.get(kind_name)
        if kind is None:
            self.ignored[UNKNOWN_TYPE] += 1
            return None
        return TranscriptEvent(
            kind=kind,
            text=_required(obj, "text", str),
            is_final=_required(obj, "is_final", bool),
            language_detected=_language(obj),
            timestamp=_timestamp(obj),
            confidence=_confidence(obj),
        )

    def _count_reject(self, reason: str, field: str) -> None:
        self.rejected[reason] += 1
        if reason not in self._logged:
            self._logged.add(reason)
            where = f" (field {field!r})" if field else ""
            log.warning(
                "dropping transcript message: %s%s; further drops for this reason are "
                "only counted",
                reason, where,
            )


def _loads_tolerant(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_no_constants)
    except _Reject:
        raise
    except (ValueError, RecursionError):
        pass
    repaired = strip_trailing_commas(text)
    if repaired == text:
        raise _Reject(NOT_JSON)
    try:
        return json.loads(repaired, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        raise _Reject(NOT_JSON) from None


def _no_constants(name: str) -> Any:
    # NaN / Infinity are not JSON; accepting them would smuggle a float('nan') timestamp.
    raise _Reject(NOT_JSON)


def strip_trailing_commas(text: str) -> str:
    """``text`` without commas that directly precede ``}`` or ``]`` outside strings."""
    out: list[str] = []
    in_string = False
    escaped = False
    pending_comma = -1  # index in ``out`` of a comma that may turn out to be trailing
    last = ""  # last significant character outside strings
    for ch in text:
        if in_string:
            out.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch in "}]" and pending_comma >= 0:
            del out[pending_comma]
            pending_comma = -1
        elif not ch.isspace():
            pending_comma = -1
        # Only a comma after a value can be trailing: "{,}" and "[1,,]" stay broken.
        if ch == "," and last not in ("", "{", "[", ",", ":"):
            pending_comma = len(out)
        elif ch == '"':
            in_string = True
        if not ch.isspace():
            last = ch
        out.append(ch)
    return "".join(out)


def _required(obj: dict[str, Any], name: str, kind: type[T]) -> T:
    if name not in obj:
        raise _Reject(MISSING_FIELD, name)
    value = obj[name]
    # bool is an int subclass: an exact check keeps 1 from passing as True and back.
    if type(value) is not kind:
        raise _Reject(WRONG_TYPE, name)
    return value


def _timestamp(obj: dict[str, Any]) -> float:
    if "timestamp" not in obj:
        raise _Reject(MISSING_FIELD, "timestamp")
    value = obj["timestamp"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Reject(WRONG_TYPE, "timestamp")
    try:
        seconds = float(value)
    except OverflowError:
        raise _Reject(OUT_OF_RANGE, "timestamp") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise _Reject(OUT_OF_RANGE, "timestamp")
    return seconds


def _language(obj: dict[str, Any]) -> str | None:
    value = obj.get("language_detected")
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Reject(WRONG_TYPE, "language_detected")
    return value.strip() or None


def _confidence(obj: dict[str, Any]) -> float | None:
    value = obj.get("confidence")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Reject(WRONG_TYPE, "confidence")
    confidence = float(value)
    if not 0.0 <= confidence <= 1.0:
        raise _Reject(OUT_OF_RANGE, "confidence")
    return confidence
