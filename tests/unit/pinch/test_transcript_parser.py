"""Transcript data packets: tolerant of the reference's quirks, strict about garbage."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.pinch import MAX_MESSAGE_BYTES, TranscriptEvent, TranscriptParser
from bot.pinch.transcripts import strip_trailing_commas

# Copied byte for byte from the API reference, trailing commas included.
REFERENCE_ORIGINAL = b"""{
"type": "original_transcript",
"text": "Hello, how are you?",
"timestamp": 1770933604.048,
"is_final": true,
"language_detected": "en-US",
}"""
REFERENCE_TRANSLATED = """{
"type": "translated_transcript",
"text": "Hola, ¿cómo estás?",
"timestamp": 1770933604.945,
"is_final": true,
"language_detected": "en-US",
}""".encode()


def _msg(**fields: Any) -> bytes:
    body: dict[str, Any] = {
        "type": "original_transcript",
        "text": "hello",
        "timestamp": 1770933604.048,
        "is_final": False,
        "language_detected": "en-US",
    }
    body.update(fields)
    return json.dumps({k: v for k, v in body.items() if v is not ...}).encode()


def test_reference_original_example_with_trailing_comma_parses() -> None:
    assert TranscriptParser().parse(REFERENCE_ORIGINAL) == TranscriptEvent(
        kind="original", text="Hello, how are you?", is_final=True,
        language_detected="en-US", timestamp=1770933604.048, confidence=None,
    )


def test_reference_translated_example_parses() -> None:
    event = TranscriptParser().parse(REFERENCE_TRANSLATED)
    assert event is not None
    assert (event.kind, event.text, event.is_final) == ("translated", "Hola, ¿cómo estás?", True)


def test_interim_original_is_not_final() -> None:
    event = TranscriptParser().parse(_msg(is_final=False))
    assert event is not None
    assert event.is_final is False


def test_confidence_is_read_when_present() -> None:
    event = TranscriptParser().parse(_msg(confidence=0.87))
    assert event is not None
    assert event.confidence == 0.87


@pytest.mark.parametrize("language", [..., None, ""])
def test_language_detected_may_be_absent_null_or_empty(language: Any) -> None:
    event = TranscriptParser().parse(_msg(language_detected=language))
    assert event is not None
    assert event.language_detected is None


def test_integer_timestamp_is_accepted_as_float() -> None:
    event = TranscriptParser().parse(_msg(timestamp=1770933604))
    assert event is not None
    assert event.timestamp == 1770933604.0


def test_extra_fields_are_ignored() -> None:
    parser = TranscriptParser()
    event = parser.parse(_msg(speaker="alice", segment={"id": 3}, words=[1, 2]))
    assert event is not None
    assert event.text == "hello"
    assert not parser.rejected


def test_unknown_type_is_ignored_and_counted_apart_from_rejects() -> None:
    parser = TranscriptParser()
    assert parser.parse(_msg(type="speaker_changed")) is None
    assert parser.ignored["unknown_type"] == 1
    assert not parser.rejected


def test_nested_trailing_commas_are_tolerated() -> None:
    data = b'{"type": "original_transcript", "text": "a", "timestamp": 1, "is_final": true,' \
           b' "extra": [1, 2, ], }'
    assert TranscriptParser().parse(data) is not None


def test_commas_inside_strings_are_text_not_syntax() -> None:
    event = TranscriptParser().parse(_msg(text='odd, } ], "quoted", \\ ,}'))
    assert event is not None
    assert event.text == 'odd, } ], "quoted", \\ ,}'


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("type", 7),
        ("text", 42),
        ("text", None),
        ("text", ["hello"]),
        ("is_final", "true"),
        ("is_final", 1),
        ("timestamp", "1770933604"),
        ("timestamp", True),
        ("timestamp", None),
        ("language_detected", 5),
        ("confidence", "high"),
        ("confidence", True),
    ],
)
def test_wrong_field_types_are_rejected(field: str, value: Any) -> None:
    parser = TranscriptParser()
    assert parser.parse(_msg(**{field: value})) is None
    assert parser.rejected == {"wrong_type": 1}


@pytest.mark.parametrize("field", ["type", "text", "is_final", "timestamp"])
def test_missing_required_field_is_rejected(field: str) -> None:
    parser = TranscriptParser()
    assert parser.parse(_msg(**{field: ...})) is None
    assert parser.rejected == {"missing_field": 1}


@pytest.mark.parametrize(
    ("field", "value"), [("confidence", 1.5), ("confidence", -0.1), ("timestamp", -1),
                         ("timestamp", 10**400)]
)
def test_out_of_range_numbers_are_rejected(field: str, value: Any) -> None:
    parser = TranscriptParser()
    assert parser.parse(_msg(**{field: value})) is None
    assert parser.rejected == {"out_of_range": 1}


@pytest.mark.parametrize(
    "data", [b"\xff\xfe{}", b'{"type": "original_transcript", "text": "caf\xe9"}', b"\xc3"]
)
def test_non_utf8_is_rejected(data: bytes) -> None:
    parser = TranscriptParser()
    assert parser.parse(data) is None
    assert parser.rejected == {"not_utf8": 1}


def test_message_over_the_size_bound_is_rejected_unread() -> None:
    parser = TranscriptParser()
    padding = MAX_MESSAGE_BYTES  # the padded message is certainly over the bound
    assert parser.parse(_msg(text="x" * padding)) is None
    assert parser.rejected == {"oversized": 1}


def test_message_at_the_size_bound_is_accepted() -> None:
    parser = TranscriptParser(max_bytes=200)
    data = _msg(text="")
    data = _msg(text="x" * (200 - len(data)))
    assert len(data) == 200
    assert parser.parse(data) is not None


@pytest.mark.parametrize(
    "data", [b"[1, 2]", b'"original_transcript"', b"42", b"null", b"true", b"[]"]
)
def test_non_object_json_is_rejected(data: bytes) -> None:
    parser = TranscriptParser()
    assert parser.parse(data) is None
    assert parser.rejected == {"not_object": 1}


@pytest.mark.parametrize(
    "data",
    [b"", b"   ", b"not json", b'{"type": ', b"{,}", b"[,]", b'{"a": 1,, }',
     b'{"type": "original_transcript", "timestamp": NaN}', b"Infinity", b"[" * 5000],
)
def test_text_that_is_not_json_is_rejected(data: bytes) -> None:
    parser = TranscriptParser()
    assert parser.parse(data) is None
    assert parser.rejected == {"not_json": 1}


@pytest.mark.parametrize("data", [bytearray(REFERENCE_ORIGINAL), memoryview(REFERENCE_ORIGINAL)])
def test_bytes_like_input_is_accepted(data: bytes) -> None:
    assert TranscriptParser().parse(data) is not None


@pytest.mark.parametrize("data", ["a str", None, 12, {"type": "original_transcript"}])
def test_input_that_is_not_bytes_is_rejected(data: Any) -> None:
    parser = TranscriptParser()
    assert parser.parse(data) is None
    assert parser.rejected == {"not_bytes": 1}


def test_each_reject_reason_is_logged_once_without_the_payload(
    caplog: pytest.LogCaptureFixture,
) -> None:
    parser = TranscriptParser()
    secret_text = "my password is hunter2"
    with caplog.at_level(logging.WARNING, logger="bot.pinch.transcripts"):
        for _ in range(3):
            parser.parse(_msg(text=secret_text, is_final="yes"))
        parser.parse(b"\xff" + secret_text.encode())
    assert parser.rejected == {"wrong_type": 3, "not_utf8": 1}
    assert len(caplog.records) == 2
    assert "is_final" in caplog.records[0].getMessage()
    assert secret_text not in caplog.text
    assert "hunter2" not in caplog.text


def test_accepted_messages_are_counted() -> None:
    parser = TranscriptParser()
    parser.parse(REFERENCE_ORIGINAL)
    parser.parse(b"junk")
    assert parser.accepted == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1,}', '{"a": 1}'),
        ('[1, 2 ,\n ]', "[1, 2 \n ]"),
        ('{"a": ",}"}', '{"a": ",}"}'),
        ('{"a": "\\",}",}', '{"a": "\\",}"}'),
        ("{,}", "{,}"),
        ("[1,,]", "[1,,]"),
        ('{"a": [],}', '{"a": []}'),
    ],
)
def test_strip_trailing_commas_only_touches_commas_before_a_closing_bracket(
    text: str, expected: str
) -> None:
    assert strip_trailing_commas(text) == expected


# -- properties ----------------------------------------------------------------------

_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
_json = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
_transcript_like = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["original_transcript", "translated_transcript", "other"])
        | _scalars,
        "text": _json,
        "is_final": _json,
        "timestamp": _json,
        "language_detected": _json,
        "confidence": _json,
    },
)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=2048))
def test_random_bytes_never_raise(data: bytes) -> None:
    result = TranscriptParser().parse(data)
    assert result is None or isinstance(result, TranscriptEvent)


@settings(max_examples=300, deadline=None)
@given(value=_json | _transcript_like, trailing=st.booleans())
def test_random_json_never_raises_and_events_are_well_typed(value: Any, trailing: bool) -> None:
    text = json.dumps(value)
    if trailing and text.endswith("}") and len(text) > 2:
        text = text[:-1] + ",}"
    parser = TranscriptParser()
    event = parser.parse(text.encode())
    if event is not None:
        assert event.kind in ("original", "translated")
        assert isinstance(event.text, str)
        assert isinstance(event.is_final, bool)
        assert isinstance(event.timestamp, float)
    else:
        assert sum(parser.rejected.values()) + sum(parser.ignored.values()) == 1
