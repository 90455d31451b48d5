"""What ``/interpret transcript`` and ``/interpret me forget`` do, for the command cog to call.

The cog stays thin: it parses the options, calls one of these, and answers with
the file or the sentence returned; :class:`TranscriptCommandError` carries the
one sentence a user sees when there is nothing to give.

- :func:`transcript_file`: the current run of the guild (or ``run_id``, or the
  last stored run) as a ``txt``/``srt``/``vtt`` file, timings from the run start.
- :func:`forget_member`: deletes the caller's stored segments in this guild
  (nothing of any other member or guild).
"""

from __future__ import annotations

import io

import discord

from bot.transcripts.export import FORMATS, export_transcript
from bot.transcripts.records import MemberSegmentEraser, SegmentSource
from bot.transcripts.service import TranscriptService
from bot.transcripts.speakers import SpeakerDirectory


class TranscriptCommandError(Exception):
    """A user-facing refusal: ``str(exc)`` is one sentence for an ephemeral reply."""


async def transcript_file(store: SegmentSource, service: TranscriptService,
                          guild: discord.Guild, fmt: str = "txt",
                          run_id: str | None = None) -> discord.File:
    if fmt not in FORMATS:
        raise TranscriptCommandError(f"Choose a format among {', '.join(FORMATS)}.")
    current = service.current_run(guild.id)
    if run_id is None:
        run_id = current.run_id if current is not None else await store.last_run_id(guild.id)
    if run_id is None:
        raise TranscriptCommandError("There is no transcript in this server yet.")
    segments = await store.segments(guild.id, run_id)
    if not segments:
        raise TranscriptCommandError(
            "Nothing was transcribed in that run (or it was deleted after the retention "
            "period).")

    names = SpeakerDirectory(guild)
    for member_id in {seg.member_id for seg in segments}:
        await names.resolve(member_id)

    def name_of(member_id: int | None) -> str:
        return names.cached(member_id).display_name

    data = export_transcript(segments, fmt, name_of=name_of,
                             run_started_at=service.run_started_at(run_id))
    return discord.File(io.BytesIO(data), filename=f"transcript-{run_id[:12]}.{fmt}")


async def forget_member(store: MemberSegmentEraser, guild_id: int, member_id: int) -> str:
    deleted = await store.forget_member(guild_id, member_id)
    if deleted == 0:
        return "No stored transcript of yours in this server."
    plural = "segment" if deleted == 1 else "segments"
    return f"Deleted {deleted} stored transcript {plural} of yours in this server."
