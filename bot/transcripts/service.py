"""The bot's transcript service: one :class:`TranscriptWriter` per run and language,
keyed by the run's id.

Owned by the bot (created in ``setup_hook``, closed in ``close`` after the runs
stopped and before the bot leaves Discord). Whoever starts a run (the
``/interpret start`` command) calls :meth:`TranscriptService.open_run` with
where the transcript goes, ideally *before* starting the engine so that no early
transcript is missed; the ``cogs.transcripts`` listener feeds it the engine's
events: :meth:`on_transcript` routes each one to its run's writer (by the run id the
engine stamps on it), :meth:`on_status` flushes and closes the writer when that run
stops. Nothing is keyed by the voice channel, so a second start in the same channel,
or a stopped run's late status, can never touch another run's writer.
:meth:`finish` does the same on demand (the stop command awaits it, so the
posts are in the thread when it answers).

A run's caption languages (transcripts carrying ``caption_language``) each get a
writer and thread of their own (``Voice · Français · 2026-12-07``), opened on the
first transcript of that language and closed with the run's own: the same
guarantees (order, pairing, attribution, escaping, rate limits, live captions,
storing: segments carry their caption language) in every language.

A run that restarts in the same voice channel, transcript channel and
languages within ten minutes posts into the previous thread
(:class:`~bot.transcripts.threads.ThreadRegistry`), caption threads too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import discord

from bot.interpretation.events import AttributedTranscript, RunState, RunStatus
from bot.observability.logs import new_run_id
from bot.transcripts.poster import Poster
from bot.transcripts.records import SegmentSink
from bot.transcripts.speakers import SpeakerDirectory
from bot.transcripts.threads import (
    ThreadKeeper,
    ThreadKey,
    ThreadRegistry,
    caption_thread_name,
    thread_name,
)
from bot.transcripts.writer import PostObserver, RunContext, TranscriptWriter, WriterConfig

log = logging.getLogger(__name__)

_RUNS_REMEMBERED = 256  # run id → start time, for exports of recent runs


class TranscriptsClosed(RuntimeError):
    """The service is closed (the bot is shutting down): no new transcript opens."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class TranscriptRun:
    """Where and how one run's transcript is written."""

    voice_channel: discord.VoiceChannel
    transcript_channel: discord.TextChannel
    source_language: str
    target_language: str
    run_id: str = field(default_factory=new_run_id)
    live_captions: bool = False
    member_sources: Mapping[int, str] = field(default_factory=dict)
    """Members' own spoken language, where it differs from ``source_language``."""
    pair: bool = False
    """Pair mode: ``source_language`` ↔ ``target_language`` (each post shows its direction)."""
    started_at: datetime = field(default_factory=_utc_now)

    @property
    def guild_id(self) -> int:
        return self.voice_channel.guild.id


@dataclass(eq=False)
class _RunWriters:
    """One run's writers: its own thread's, and one per caption language."""

    run: TranscriptRun
    primary: TranscriptWriter
    captions: dict[str, TranscriptWriter] = field(default_factory=dict)
    starting: set[asyncio.Task[None]] = field(default_factory=set)
    """Caption writers creating their thread."""

    def all(self) -> list[TranscriptWriter]:
        return [self.primary, *self.captions.values()]


class TranscriptService:
    def __init__(
        self,
        *,
        sink: SegmentSink | None = None,
        observer: PostObserver | None = None,
        config: WriterConfig | None = None,
        use_webhooks: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config or WriterConfig()
        self.use_webhooks = use_webhooks
        self.sink = sink
        """Where finished utterances are stored (``None``: not stored)."""
        self._observer = observer
        self._clock = clock
        self._threads = ThreadRegistry()
        self._writers: dict[str, _RunWriters] = {}
        self._run_starts: OrderedDict[str, datetime] = OrderedDict()
        self._finishing: dict[str, asyncio.Task[None]] = {}  # run id → its flush
        self._closed = False
        self.unrouted = 0
        """Transcripts of runs without an open writer (ignored)."""

    # -- runs ----------------------------------------------------------------------------

    async def open_run(self, run: TranscriptRun) -> TranscriptWriter:
        """Start writing the transcript of ``run`` (its thread is created right away)."""
        if self._closed:
            raise TranscriptsClosed("the transcript service is closed")
        if run.run_id in self._writers or run.run_id in self._finishing:
            raise ValueError(f"run {run.run_id} already has a transcript")
        writer = self._writer(run, None)
        self._writers[run.run_id] = _RunWriters(run, writer)
        self._run_starts[run.run_id] = run.started_at
        while len(self._run_starts) > _RUNS_REMEMBERED:
            self._run_starts.popitem(last=False)
        await writer.start()
        return writer

    def _writer(self, run: TranscriptRun, caption: str | None) -> TranscriptWriter:
        """The writer of ``run``'s own thread, or (``caption``) of one caption language."""
        day = run.started_at.date()
        voice_name = run.voice_channel.name
        if caption is None:
            name = thread_name(voice_name, run.source_language, run.target_language, day,
                               pair=run.pair)
            continued = thread_name(voice_name, run.source_language, run.target_language,
                                    day, continued=True, pair=run.pair)
        else:
            name = caption_thread_name(voice_name, caption, day)
            continued = caption_thread_name(voice_name, caption, day, continued=True)
        keeper = ThreadKeeper(run.transcript_channel, name, continued_name=continued,
                              reuse_id=self._threads.reusable(self._key(run, caption),
                                                              self._clock()))
        return TranscriptWriter(
            RunContext(guild_id=run.guild_id, voice_channel_id=run.voice_channel.id,
                       run_id=run.run_id, source_language=run.source_language,
                       target_language=caption or run.target_language,
                       started_at=run.started_at,
                       member_sources=dict(run.member_sources), caption_language=caption),
            keeper,
            Poster(run.transcript_channel, use_webhooks=self.use_webhooks),
            SpeakerDirectory(run.voice_channel.guild),
            sink=self.sink,
            observer=self._observer,
            config=_with_captions(self.config, run.live_captions),
            clock=self._clock,
        )

    def _caption_writer(self, entry: _RunWriters, language: str) -> TranscriptWriter:
        """The run's writer for ``language``, opened (its thread created in the
        background: transcripts wait in it meanwhile) on its first transcript."""
        writer = entry.captions.get(language)
        if writer is None:
            writer = entry.captions[language] = self._writer(entry.run, language)
            task = asyncio.get_running_loop().create_task(
                writer.start(), name=f"transcripts:open:{entry.run.run_id}:{language}")
            entry.starting.add(task)
            task.add_done_callback(entry.starting.discard)
            log.info("run %s: caption thread for %s opened", entry.run.run_id, language)
        return writer

    async def finish(self, run_id: str) -> None:
        """Flush and close the writer of that run; returns when its posts are in
        the thread (also when another caller started the flush). Nothing if there is none."""
        entry = self._writers.pop(run_id, None)
        if entry is not None:
            # The flush outlives a cancelled caller (an event handler, a command that timed
            # out) and aclose() waits for it, so shutting down never cuts a flush short.
            task = asyncio.create_task(self._finish(entry),
                                       name=f"transcripts:finish:{run_id}")
            self._finishing[run_id] = task
            task.add_done_callback(lambda t: self._finished(run_id, t))
        task_or_none = self._finishing.get(run_id)
        if task_or_none is not None:
            await asyncio.shield(task_or_none)

    async def _finish(self, entry: _RunWriters) -> None:
        # A thread being created is waited for (bounded by the writer's start timeout).
        await asyncio.gather(*list(entry.starting), return_exceptions=True)
        languages: list[str | None] = [None, *entry.captions]
        await asyncio.gather(*(writer.aclose() for writer in entry.all()),
                             return_exceptions=True)
        for language, writer in zip(languages, entry.all(), strict=True):
            thread = writer.keeper.thread
            if thread is not None:
                self._threads.remember(self._key(entry.run, language), thread.id,
                                       self._clock())

    def _finished(self, run_id: str, task: asyncio.Task[None]) -> None:
        if self._finishing.get(run_id) is task:
            del self._finishing[run_id]

    async def aclose(self) -> None:
        """Flush every writer (the bot's shutdown: before it leaves Discord)."""
        self._closed = True
        await asyncio.gather(*(self.finish(c) for c in list(self._writers)))
        await asyncio.gather(*list(self._finishing.values()), return_exceptions=True)

    # -- engine events -------------------------------------------------------------------

    def on_transcript(self, transcript: AttributedTranscript) -> None:
        entry = self._writers.get(transcript.run_id)
        if entry is None:
            self.unrouted += 1
            return
        language = transcript.caption_language
        writer = entry.primary if language is None else self._caption_writer(entry, language)
        writer.push(transcript)

    async def on_status(self, status: RunStatus) -> None:
        if status.state is RunState.STOPPED:
            await self.finish(status.run_id)

    def thread_deleted(self, thread_id: int) -> None:
        for entry in self._writers.values():
            for writer in entry.all():
                writer.thread_deleted(thread_id)

    # -- lookups -------------------------------------------------------------------------

    def writer(self, run_id: str, caption_language: str | None = None
               ) -> TranscriptWriter | None:
        """The run's writer of its own thread, or of one caption language's."""
        entry = self._writers.get(run_id)
        if entry is None:
            return None
        return entry.primary if caption_language is None else entry.captions.get(
            caption_language)

    def open_runs(self) -> frozenset[str]:
        """Ids of the runs with a writer open or still flushing."""
        return frozenset(self._writers) | frozenset(self._finishing)

    def current_run(self, guild_id: int) -> TranscriptRun | None:
        for entry in self._writers.values():
            if entry.run.guild_id == guild_id:
                return entry.run
        return None

    def run_started_at(self, run_id: str) -> datetime | None:
        return self._run_starts.get(run_id)

    @staticmethod
    def _key(run: TranscriptRun, caption: str | None = None) -> ThreadKey:
        return ThreadKey(run.guild_id, run.voice_channel.id, run.transcript_channel.id,
                         run.source_language, caption or run.target_language, run.pair,
                         caption=caption is not None)


def _with_captions(config: WriterConfig, live_captions: bool) -> WriterConfig:
    return config if config.live_captions == live_captions else replace(
        config, live_captions=live_captions)
