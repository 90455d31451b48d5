"""Transcript messages from the interpreter, bytes → :class:`TranscriptEvent`.

The LiveKit room's data channel carries JSON objects typed ``original_transcript``
or ``translated_transcript`` (PROTOCOLS.md §1); the WebSocket API sends JSON text
frames whose exact field names its reference does not show (§1b). Each API's field
mapping is one :class:`TranscriptFields` value — :data:`LIVEKIT_FIELDS` here, the
WebSocket one in :mod:`bot.pinch.ws_protocol` — and :class:`TranscriptParser` is the
only place either is decoded: it tolerates the trailing commas of the API
reference's own examples and ignores unknown types and extra fields, rejects
everything else, and never raises. Each reject is counted by reason in
``rejected`` and logged once per reason, naming the field but never the
payload (which may carry what people said).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Literal, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_MESSAGE_BYTES: Final = 8 * 1024  # a long sentence is < 1 KB; more is not a transcript

TranscriptKind = Literal["original", "translated"]


@dataclass(frozen=True, slots=True)
class TranscriptFields:
    """Where one API's transcript messages keep what the bot reads."""

    kinds: Mapping[str, TranscriptKind]
    """Value of the ``type`` field → kind; other types are ignored (counted)."""
    type: str = "type"
    text: str = "text"
    is_final: str = "is_final"
    timestamp: str = "timestamp"
    timestamp_required: bool = True
    """False: a message without it is stamped with its arrival time (unix seconds)."""
    language: str = "language_detected"
    confidence: str = "confidence"
    correlation: str | None = None
    """The field pairing an original with its translation, if the API has one."""


LIVEKIT_FIELDS: Final = TranscriptFields(kinds=MappingProxyType({
    "original_transcript": "original",
    "translated_transcript": "translated",
}))
"""The data packets of the LiveKit API, as its reference shows them (PROTOCOLS.md §1)."""

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
    correlation_id: str | None = None
    """Pairs an original with its translation, when the API sends one (WebSocket)."""


class _Reject(Exception):
    def __init__(self, reason: str, field: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


class TranscriptParser:
    """Stateful only in its counters; one per link. ``clock`` stamps messages that
    carry no timestamp when the field mapping allows that."""

    def __init__(self, max_bytes: int = MAX_MESSAGE_BYTES, *,
                 fields: TranscriptFields = LIVEKIT_FIELDS,
                 clock: Callable[[], float] = time.time) -> None:
        self.max_bytes = max_bytes
        self.fields = fields
        self._clock = clock
        self.rejected: Counter[str] = Counter()
        self.ignored: Counter[str] = Counter()
        self.accepted = 0
        self._logged: set[str] = set()

    def parse(self, data: bytes) -> TranscriptEvent | None:
        """The event in ``data``, or ``None`` if it is ignored or rejected. Never raises."""
        return self._guarded(self._parse, data)

    def parse_decoded(self, obj: Any) -> TranscriptEvent | None:
        """Like :meth:`parse`, for a message already decoded from JSON (a WebSocket
        text frame the caller had to look into first). Never raises."""
        return self._guarded(self._from_object, obj)

    def _guarded(self, step: Callable[[Any], TranscriptEvent | None],
                 data: Any) -> TranscriptEvent | None:
        try:
            event = step(data)
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
        return self._from_object(_loads_tolerant(text))

    def _from_object(self, obj: Any) -> TranscriptEvent | None:
        f = self.fields
        if not isinstance(obj, dict):
            raise _Reject(NOT_OBJECT)
        kind_name = obj.get(f.type)
        if kind_name is None:
            raise _Reject(MISSING_FIELD, f.type)
        if not isinstance(kind_name, str):
            raise _Reject(WRONG_TYPE, f.type)
        kind = f.kinds.get(kind_name)
        if kind is None:
            self.ignored[UNKNOWN_TYPE] += 1
            return None
        if f.timestamp_required or f.timestamp in obj:
            timestamp = _timestamp(obj, f.timestamp)
        else:
            timestamp = self._clock()
        return TranscriptEvent(
            kind=kind,
            text=_required(obj, f.text, str),
            is_final=_required(obj, f.is_final, bool),
            language_detected=_language(obj, f.language),
            timestamp=timestamp,
            confidence=_confidence(obj, f.confidence),
            correlation_id=_correlation(obj, f.correlation),
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


def _timestamp(obj: dict[str, Any], name: str) -> float:
    if name not in obj:
        raise _Reject(MISSING_FIELD, name)
    value = obj[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Reject(WRONG_TYPE, name)
    try:
        seconds = float(value)
    except OverflowError:
        raise _Reject(OUT_OF_RANGE, name) from None
    if not math.isfinite(seconds) or seconds < 0:
        raise _Reject(OUT_OF_RANGE, name)
    return seconds


def _language(obj: dict[str, Any], name: str) -> str | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Reject(WRONG_TYPE, name)
    return value.strip() or None


def _confidence(obj: dict[str, Any], name: str) -> float | None:
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Reject(WRONG_TYPE, name)
    confidence = float(value)
    if not 0.0 <= confidence <= 1.0:
        raise _Reject(OUT_OF_RANGE, name)
    return confidence


_MAX_CORRELATION_CHARS: Final = 200


def _correlation(obj: dict[str, Any], name: str | None) -> str | None:
    if name is None:
        return None
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _Reject(WRONG_TYPE, name)
    text = str(value).strip()
    if len(text) > _MAX_CORRELATION_CHARS:
        raise _Reject(OUT_OF_RANGE, name)
    return text or None
