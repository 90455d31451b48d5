"""What ``/interpret transcript`` and ``/interpret me forget`` do, for the command cog to call.

The cog stays thin: it parses the options, calls one of these, and answers with
the file or the sentence returned; :class:`TranscriptCommandError` carries the
one sentence a user sees when there is nothing to give.

- :func:`transcript_file`: the current run of the guild (or ``run_id``, or the
  last stored run) as a ``txt``/``srt``/``vtt`` file, timings from the run start:
  its own thread's segments, or (``language``) the segments translated into one
  language (a caption thread's, or one direction of a pair).
  Whoever asks must be allowed to read the run's voice channel: ``check_reader``
  (the caller's rule) is asked before anything of the run is read or named.
  Speakers missing from the member cache are looked up concurrently (at most
  :data:`NAME_LOOKUPS_AT_ONCE`, each bounded by :data:`NAME_LOOKUP_TIMEOUT_S`); one
  Discord cannot name in time is an "Unknown speaker", as in the thread.
- :func:`forget_member`: deletes the caller's stored segments in this guild
  (nothing of any other member or guild).
"""

from __future__ import annotations

import io
from collections.abc import Callable

import discord

from bot.languages import SUPPORTED
from bot.transcripts.export import FORMATS, export_transcript
from bot.transcripts.records import MemberSegmentEraser, SegmentSource
from bot.transcripts.service import TranscriptService
from bot.transcripts.speakers import SpeakerDirectory

#: Member lookups of one export in flight at once (Discord's REST, no members intent).
NAME_LOOKUPS_AT_ONCE = 8
#: One lookup's bound: the export waits for names, the person for the export.
NAME_LOOKUP_TIMEOUT_S = 5.0


class TranscriptCommandError(Exception):
    """A user-facing refusal: ``str(exc)`` is one sentence for an ephemeral reply."""


async def transcript_file(store: SegmentSource, service: TranscriptService,
                          guild: discord.Guild, fmt: str = "txt",
                          run_id: str | None = None, *,
                          check_reader: Callable[[int], None],
                          language: str | None = None) -> discord.File:
    """The run as a file; ``check_reader(voice_channel_id)`` raises when the person
    asking may not read what was said in that voice channel. ``language``: only what
    was translated into it (the run's own thread's otherwise)."""
    if fmt not in FORMATS:
        raise TranscriptCommandError(f"Choose a format among {', '.join(FORMATS)}.")
    current = service.current_run(guild.id)
    if run_id is None and current is not None:
        run_id = current.run_id
    elif run_id is None:
        run_id = await store.last_run_id(guild.id)
    if run_id is None:
        raise TranscriptCommandError("There is no transcript in this server yet.")
    if current is not None and current.run_id == run_id:
        check_reader(current.voice_channel.id)  # before even saying whether it has text
    segments = await store.segments(guild.id, run_id)
    if not segments:
        raise TranscriptCommandError(
            "Nothing was transcribed in that run (or it was deleted after the retention "
            "period).")
    for voice_channel_id in {seg.voice_channel_id for seg in segments}:
        check_reader(voice_channel_id)
    if language is None:
        segments = [seg for seg in segments if seg.caption_language is None]
        if not segments:
            raise TranscriptCommandError("Nothing was transcribed in that run's own thread.")
    else:
        languages = sorted({seg.target_language for seg in segments})
        segments = [seg for seg in segments if seg.target_language == language]
        if not segments:
            shown = ", ".join(f"{SUPPORTED.get(c, c)} ({c})" for c in languages)
            raise TranscriptCommandError(
                f"That run has no transcript in {SUPPORTED.get(language, language)}; it has "
                f"{shown}.")

    names = SpeakerDirectory(guild, timeout_s=NAME_LOOKUP_TIMEOUT_S)
    await names.resolve_all({seg.member_id for seg in segments},
                            at_once=NAME_LOOKUPS_AT_ONCE)

    def name_of(member_id: int | None) -> str:
        return names.cached(member_id).display_name

    data = export_transcript(segments, fmt, name_of=name_of,
                             run_started_at=service.run_started_at(run_id))
    suffix = f"-{language}" if language is not None else ""
    return discord.File(io.BytesIO(data), filename=f"transcript-{run_id[:12]}{suffix}.{fmt}")


async def forget_member(store: MemberSegmentEraser, guild_id: int, member_id: int) -> str:
    deleted = await store.forget_member(guild_id, member_id)
    if deleted == 0:
        return "No stored transcript of yours in this server."
    plural = "segment" if deleted == 1 else "segments"
    return f"Deleted {deleted} stored transcript {plural} of yours in this server."
