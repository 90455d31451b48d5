"""The WebSocket API's wire, as the bot writes and reads it (facts and assumptions alike)."""

from __future__ import annotations

import json

import pytest

from bot.pinch import InvalidLanguageError, TranscriptParser
from bot.pinch.options import SessionOptions
from bot.pinch.ws_protocol import (
    TRANSCRIPT_FIELDS,
    ErrorFrame,
    Other,
    Ready,
    Rejected,
    classify,
    describe_close,
    error_for_frame,
    session_query,
    update_metadata,
    valid_expires_in,
)


def _parser(now: float = 1_770_000_000.0) -> TranscriptParser:
    return TranscriptParser(fields=TRANSCRIPT_FIELDS, clock=lambda: now)


def test_the_query_carries_every_option_with_booleans_as_words() -> None:
    options = SessionOptions("en-US", "de-DE", "female", audio_output=False, context="Tux")
    assert session_query(options) == {
        "sourceLanguage": "en-US", "targetLanguage": "de-DE", "voiceType": "female",
        "audioOutputEnabled": "false", "finalizeMode": "sentence", "context": "Tux"}


def test_a_clone_voice_and_an_empty_context_are_left_out() -> None:
    query = session_query(SessionOptions("en-US", "de-DE", "clone", context="   "))
    assert "voiceType" not in query
    assert "context" not in query
    assert query["audioOutputEnabled"] == "true"


def test_update_metadata_names_its_fields_like_the_query() -> None:
    frame = json.loads(update_metadata(SessionOptions("fr-FR", "es-ES", "male")))
    assert frame == {"type": "update_metadata", "sourceLanguage": "fr-FR",
                     "targetLanguage": "es-ES", "voiceType": "male"}


def test_ready_is_recognised() -> None:
    assert classify('{"type": "ready"}', _parser()) == Ready()


def test_a_transcript_without_timestamp_is_stamped_on_arrival_and_keeps_its_correlation() -> None:
    frame = json.dumps({"type": "original_transcript", "text": "hola", "is_final": True,
                        "correlation_id": "seg-7", "language_detected": "es-ES"})
    event = classify(frame, _parser(now=123.5))
    assert not isinstance(event, Ready | ErrorFrame | Other | Rejected)
    assert (event.kind, event.text, event.is_final) == ("original", "hola", True)
    assert event.timestamp == 123.5
    assert event.correlation_id == "seg-7"
    assert event.language_detected == "es-ES"


def test_a_numeric_correlation_id_is_read_as_text() -> None:
    frame = json.dumps({"type": "translated_transcript", "text": "hi", "is_final": True,
                        "correlation_id": 42, "timestamp": 10.0})
    event = classify(frame, _parser())
    assert getattr(event, "correlation_id", None) == "42"
    assert getattr(event, "timestamp", None) == 10.0


@pytest.mark.parametrize(("frame", "expected"), [
    ('{"type": "segment_started"}', Other("segment_started")),
    ('{"kind": "x"}', Other("?")),
    ("not json", Rejected("not_json")),
    ("[1, 2]", Rejected("not_object")),
    ('{"type": "ready", "x": NaN}', Rejected("not_json")),
    ('{"type": "original_transcript", "text": 1, "is_final": true}', Rejected("transcript")),
    ("{" + " " * (9 * 1024) + "}", Rejected("oversized")),
])
def test_other_frames_are_told_apart_and_never_raise(frame: str, expected: object) -> None:
    assert classify(frame, _parser()) == expected


@pytest.mark.parametrize("frame", [
    {"type": "error", "code": "unsupported_language", "message": "no TTS for xx"},
    {"type": "error", "error": {"code": "x", "message": "targetLanguage xx is not supported "
                                                        "for speech output"}},
])
def test_an_unsupported_speech_language_error_fails_the_session_for_good(
    frame: dict[str, object],
) -> None:
    parsed = classify(json.dumps(frame), _parser())
    assert isinstance(parsed, ErrorFrame)
    error = error_for_frame(parsed)
    assert isinstance(error, InvalidLanguageError)
    assert not error.retryable


def test_other_error_frames_are_only_reported() -> None:
    parsed = classify('{"type": "error", "error": "slow down"}', _parser())
    assert parsed == ErrorFrame("", "slow down")
    assert error_for_frame(parsed) is None


@pytest.mark.parametrize(("code", "reason"), [
    (4503, "session ended by the server (4503)"),
    (4401, "session token expired (4401)"),
    (1000, "websocket closed by the server"),
    (None, "websocket connection lost"),
    (1011, "websocket closed (code 1011)"),
])
def test_close_codes_become_status_reasons(code: int | None, reason: str) -> None:
    assert describe_close(code) == reason


@pytest.mark.parametrize(("value", "seconds"), [
    (60, 60.0), (0.5, 0.5), (0, None), (-1, None), (True, None), ("60", None),
    (float("inf"), None), (86_400, None),
])
def test_expires_in_must_be_a_sensible_number_of_seconds(value: object,
                                                          seconds: float | None) -> None:
    assert valid_expires_in(value) == seconds
