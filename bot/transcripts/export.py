"""A run's stored segments as a file: plain text, SubRip (``.srt``) or WebVTT (``.vtt``).

Pure: segments in, bytes out (UTF-8). Times are relative to the start of the run
(or to the first segment when the run's start is not known), in milliseconds;
a segment that seems to start before the run starts at 0. Subtitles are written
with pysubs2; each cue reads ``Name: original`` with the translation on the next
line. Cue text is flattened to one line per part (a blank line would end the
cue), ``-->`` cannot appear in it, and WebVTT's ``& < >`` are written as entities
as its specification requires.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Final, Literal, get_args

import pysubs2

from bot.store.segments import StoredSegment

ExportFormat = Literal["txt", "srt", "vtt"]
FORMATS: Final[tuple[str, ...]] = get_args(ExportFormat)


class UnknownFormat(ValueError):
    def __init__(self, fmt: str) -> None:
        super().__init__(f"unknown transcript format {fmt!r}: choose one of {', '.join(FORMATS)}")


def export_transcript(segments: Sequence[StoredSegment], fmt: str, *,
                      name_of: Callable[[int | None], str],
                      run_started_at: datetime | None = None) -> bytes:
    if fmt not in FORMATS:
        raise UnknownFormat(fmt)
    ordered = sorted(segments, key=lambda s: (s.started_at, s.ended_at))
    origin = run_started_at
    if origin is None and ordered:
        origin = ordered[0].started_at
    if fmt == "txt":
        return _text(ordered, name_of, origin).encode()
    subs = pysubs2.SSAFile()
    for seg in ordered:
        start, end = _span_ms(seg, origin)
        event = pysubs2.SSAEvent(start=start, end=end)
        event.plaintext = "\n".join(_cue_lines(seg, name_of, vtt=fmt == "vtt"))
        subs.append(event)
    # keep_ssa_tags: the text is ours verbatim; braces must not be read as SSA tags.
    return subs.to_string(fmt, keep_ssa_tags=True).encode()


def relative_ms(at: datetime, origin: datetime | None) -> int:
    if origin is None:
        return 0
    return max(0, round((at - origin).total_seconds() * 1000))


def _span_ms(seg: StoredSegment, origin: datetime | None) -> tuple[int, int]:
    start = relative_ms(seg.started_at, origin)
    return start, max(start, relative_ms(seg.ended_at, origin))


def _flat(text: str) -> str:
    return " ".join(text.split()).replace("-->", "→")


def _cue_lines(seg: StoredSegment, name_of: Callable[[int | None], str], *,
               vtt: bool) -> list[str]:
    def clean(text: str) -> str:
        text = _flat(text)
        if vtt:
            text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return text

    name = clean(name_of(seg.member_id))
    lines = [f"{name}: {clean(seg.original)}" if seg.original else f"{name}:"]
    if seg.translation:
        lines.append(clean(seg.translation))
    return lines


def _clock(ms: int) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _text(segments: Sequence[StoredSegment], name_of: Callable[[int | None], str],
          origin: datetime | None) -> str:
    out: list[str] = []
    if origin is not None:
        out.append(f"Transcript of the run started {origin.isoformat(timespec='seconds')}")
        out.append("")
    for seg in segments:
        start, end = _span_ms(seg, origin)
        out.append(f"[{_clock(start)} - {_clock(end)}] {_flat(name_of(seg.member_id))} "
                   f"({seg.source_language} → {seg.target_language})")
        if seg.original:
            out.append(f"    {_flat(seg.original)}")
        if seg.translation:
            out.append(f"    ↳ {_flat(seg.translation)}")
    return "\n".join(out) + "\n"
