"""Exports: subtitles parse back with pysubs2, times relative to the run start, text kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pysubs2
import pytest

from bot.store import StoredSegment
from bot.transcripts.export import UnknownFormat, export_transcript

START = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
NAMES = {1: "Alice", 2: "Bob"}


def seg(member: int | None, start_s: float, end_s: float, original: str,
        translation: str | None) -> StoredSegment:
    return StoredSegment(1, 2, "run", member, "en-US", "es-ES",
                             START + timedelta(seconds=start_s), START + timedelta(seconds=end_s),
                             original, translation)


SEGMENTS = [seg(1, 1.234, 2.5, "Hello there", "Hola"), seg(2, 3.0, 4.75, "Fine", None),
            seg(None, 3661.001, 3662.0, "{\\b1}braces{/b} & <i>tags</i> --> arrow", "x")]


def export(fmt: str) -> str:
    return export_transcript(SEGMENTS, fmt, name_of=lambda m: NAMES.get(m or 0, "Unknown"),
                             run_started_at=START).decode()


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_subtitles_parse_back_with_millisecond_timings(fmt: str) -> None:
    subs = pysubs2.SSAFile.from_string(export(fmt), format_=fmt)
    assert [(e.start, e.end) for e in subs] == [(1234, 2500), (3000, 4750),
                                               (3661001, 3662000)]
    assert [e.plaintext for e in subs][:2] == ["Alice: Hello there\nHola", "Bob: Fine"]


def test_srt_keeps_braces_and_never_writes_a_timing_arrow_in_text() -> None:
    text = export("srt")
    assert "Unknown: {\\b1}braces{/b} & <i>tags</i> → arrow" in text
    assert text.count("-->") == 3


def test_vtt_escapes_what_its_specification_reserves() -> None:
    text = export("vtt")
    assert text.startswith("WEBVTT")
    assert "&amp; &lt;i&gt;tags&lt;/i&gt; → arrow" in text


def test_times_are_relative_to_the_first_segment_without_a_run_start() -> None:
    data = export_transcript(SEGMENTS[:2], "srt", name_of=lambda m: "x").decode()
    subs = pysubs2.SSAFile.from_string(data, format_="srt")
    assert [(e.start, e.end) for e in subs] == [(0, 1266), (1766, 3516)]


def test_plain_text_lists_times_speakers_languages_and_both_texts() -> None:
    lines = export("txt").splitlines()
    assert lines[0] == "Transcript of the run started 2025-06-01T12:00:00+00:00"
    assert lines[2:6] == ["[00:00:01.234 - 00:00:02.500] Alice (en-US → es-ES)",
                          "    Hello there", "    ↳ Hola",
                          "[00:00:03.000 - 00:00:04.750] Bob (en-US → es-ES)"]


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(UnknownFormat, match="txt, srt, vtt"):
        export_transcript(SEGMENTS, "docx", name_of=str)
