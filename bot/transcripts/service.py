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

What is lost is counted: per run (:meth:`TranscriptService.losses`, for the run's
summary) and for the process (:meth:`TranscriptService.totals`, for the metrics):
segments not stored, posts undeliverable, and transcripts that reached no writer
(:attr:`TranscriptService.unrouted`). Segments wait for the database across every
run of the process in one bounded :class:`~bot.transcripts.storing.StoreBacklog`;
a run that ends during an outage leaves its store worker to the service, which
stores them when the database is back and stops it at shutdown.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import discord

from bot.interpretation.events import AttributedTranscript, RunState, RunStatus
from bot.observability.logs import new_run_id
from bot.transcripts.poster import Poster
from bot.transcripts.records import SegmentSink
from bot.transcripts.speakers import SpeakerDirectory
from bot.transcripts.storing import DEFAULT_BACKLOG, SegmentStorer, StoreBacklog
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


@dataclass(frozen=True, slots=True)
class RunLosses:
    """What one run's transcript lost so far, and what still waits for the database."""

    segments_not_stored: int = 0
    segments_waiting: int = 0
    posts_undeliverable: int = 0


@dataclass(frozen=True, slots=True)
class TranscriptTotals:
    """The process's totals since it started (every run's), for the metrics."""

    segments_dropped: int
    """Not kept: the backlog of segments waiting for the database was full."""
    segments_refused: int
    segments_abandoned: int
    """Still waiting for the database when the bot stopped."""
    segments_waiting: int
    posts_undeliverable: int
    unrouted: int


@dataclass(eq=False)
class _RunWriters:
    """One run's writers: its own thread's, and one per caption language."""

    run: TranscriptRun
    primary: TranscriptWriter
    captions: dict[str, TranscriptWriter] = field(default_factory=dict)
    starting: set[asyncio.Task[None]] = field(default_factory=set)
    """Caption writers creating their thread."""
    numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    """Segment numbers, shared by the run's writers (unique per run in the store)."""

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
        store_backlog: int = DEFAULT_BACKLOG,
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
        self._flushing: dict[str, _RunWriters] = {}  # run id → its writers, flushing
        self._closed = False
        self.backlog = StoreBacklog(store_backlog)
        """Segments waiting for the database, every run's together (bounded)."""
        self._storing: set[SegmentStorer] = set()  # of closed runs, during an outage
        self._undeliverable_before = 0  # posts undeliverable of writers gone
        self.unrouted = 0
        """Transcripts of a run whose transcript was closed already (lost)."""

    # -- runs ----------------------------------------------------------------------------

    async def open_run(self, run: TranscriptRun) -> TranscriptWriter:
        """Start writing the transcript of ``run`` (its thread is created right away)."""
        if self._closed:
            raise TranscriptsClosed("the transcript service is closed")
        if run.run_id in self._writers or run.run_id in self._finishing:
            raise ValueError(f"run {run.run_id} already has a transcript")
        numbers = itertools.count(1)
        writer = self._writer(run, None, numbers)
        self._writers[run.run_id] = _RunWriters(run, writer, numbers=numbers)
        self._run_starts[run.run_id] = run.started_at
        while len(self._run_starts) > _RUNS_REMEMBERED:
            self._run_starts.popitem(last=False)
        await writer.start()
        return writer

    def _writer(self, run: TranscriptRun, caption: str | None,
                numbers: Iterator[int]) -> TranscriptWriter:
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
            backlog=self.backlog,
            observer=self._observer,
            config=_with_captions(self.config, run.live_captions),
            clock=self._clock,
            segment_numbers=numbers.__next__,
        )

    def _caption_writer(self, entry: _RunWriters, language: str) -> TranscriptWriter:
        """The run's writer for ``language``, opened (its thread created in the
        background: transcripts wait in it meanwhile) on its first transcript."""
        writer = entry.captions.get(language)
        if writer is None:
            writer = entry.captions[language] = self._writer(entry.run, language,
                                                             entry.numbers)
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
            self._flushing[run_id] = entry
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
            if writer.storer is not None and not writer.storer.done:
                # The database is away: the run's segments wait for it here.
                self._storing = {s for s in self._storing if not s.done}
                self._storing.add(writer.storer)

    def _finished(self, run_id: str, task: asyncio.Task[None]) -> None:
        if self._finishing.get(run_id) is task:
            del self._finishing[run_id]
            entry = self._flushing.pop(run_id)
            self._undeliverable_before += sum(w.counters.undeliverable for w in entry.all())

    async def aclose(self) -> None:
        """Flush every writer (the bot's shutdown: before it leaves Discord), then stop
        the store workers of closed runs (what still waits for the database is lost)."""
        self._closed = True
        await asyncio.gather(*(self.finish(c) for c in list(self._writers)))
        await asyncio.gather(*list(self._finishing.values()), return_exceptions=True)
        storing, self._storing = self._storing, set()
        await asyncio.gather(*(s.aclose(self.config.flush_timeout_s) for s in storing))

    # -- engine events -------------------------------------------------------------------

    def on_transcript(self, transcript: AttributedTranscript) -> None:
        entry = self._writers.get(transcript.run_id)
        if entry is None:
            if transcript.run_id in self._run_starts:  # not a run without a transcript
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

    def losses(self, run_id: str) -> RunLosses:
        """What the run's transcript lost so far (nothing for a run without one)."""
        entry = self._writers.get(run_id) or self._flushing.get(run_id)
        if entry is None:
            return RunLosses()
        writers = entry.all()
        storers = [w.storer for w in writers if w.storer is not None]
        return RunLosses(
            segments_not_stored=sum(s.counters.not_stored for s in storers),
            # Waiting only counts while the database is away (else it is a moment's).
            segments_waiting=sum(s.waiting for s in storers if s.outage),
            posts_undeliverable=sum(w.counters.undeliverable for w in writers))

    def totals(self) -> TranscriptTotals:
        """What every run of this process lost so far (counters: they never go down)."""
        live = [w for entry in [*self._writers.values(), *self._flushing.values()]
                for w in entry.all()]
        store = self.backlog.totals
        return TranscriptTotals(
            segments_dropped=store.dropped, segments_refused=store.refused,
            segments_abandoned=store.abandoned, segments_waiting=self.backlog.waiting,
            posts_undeliverable=self._undeliverable_before
            + sum(w.counters.undeliverable for w in live),
            unrouted=self.unrouted)

    def storing_outage(self, run_id: str) -> str | None:
        """Why the run's segments cannot be stored right now (``None``: they can)."""
        entry = self._writers.get(run_id)
        writers = entry.all() if entry is not None else []
        return next((w.storer.outage for w in writers if w.storer and w.storer.outage), None)

    @staticmethod
    def _key(run: TranscriptRun, caption: str | None = None) -> ThreadKey:
        return ThreadKey(run.guild_id, run.voice_channel.id, run.transcript_channel.id,
                         run.source_language, caption or run.target_language, run.pair,
                         caption=caption is not None)


def _with_captions(config: WriterConfig, live_captions: bool) -> WriterConfig:
    return config if config.live_captions == live_captions else replace(
        config, live_captions=live_captions)
