"""One run's transcript writer: engine transcripts in, thread posts and stored segments out.

:meth:`TranscriptWriter.push` takes every :class:`AttributedTranscript` of the run
(synchronously, on the event loop, in the order the engine emitted them). Final
originals and translations are paired and released in order by the
:class:`~bot.transcripts.pairing.Pairer`; released utterances wait in the
:class:`~bot.transcripts.post_queue.PostQueue`; interim originals feed the live
captions when the channel asked for them.

Tasks (both started by :meth:`start`, ended and awaited by :meth:`aclose`):

- the *post worker*: the only thing that talks to the thread. It releases due
  utterances, posts (merging when behind), edits posts when a late translation
  arrives, updates captions when nothing else waits, and retries failures:
  thread deleted or archived → :class:`~bot.transcripts.threads.ThreadKeeper`
  recovers and the same operation goes again; 429/5xx/network → exponential
  backoff, forever (discord.py has already honoured the 429s it saw). Only a
  refusal that retrying cannot change (no thread possible, a 4xx) makes an
  operation undeliverable, counted and logged.
- the *store worker* (:class:`~bot.transcripts.storing.SegmentStorer`, when there
  is a store): finished utterances, numbered in the order they are released
  (``seq``), go to the segment store; while the database is unavailable they wait
  (bounded for the whole process by the service's
  :class:`~bot.transcripts.storing.StoreBacklog`) and are stored when it is back.

:meth:`aclose` is the flush: everything still waiting for a translation is
released as it is, the post queue is drained (bounded by ``flush_timeout_s``),
caption messages are removed and the store worker catches up unless the database
is unavailable (then it goes on in the background: the service keeps it). It is
shielded from its caller's cancellation and safe to call twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import aiohttp
import discord

from bot.interpretation.events import AttributedTranscript
from bot.store.segments import StoredSegment
from bot.transcripts.captions import Caption, CaptionBoard
from bot.transcripts.pairing import Pairer, Utterance
from bot.transcripts.post_queue import AmendOp, Op, PostOp, PostQueue
from bot.transcripts.poster import PostAgain, Poster, Sent
from bot.transcripts.records import SegmentSink
from bot.transcripts.render import Speaker, has_text, render_post
from bot.transcripts.speakers import SpeakerDirectory
from bot.transcripts.storing import SegmentStorer, StoreBacklog
from bot.transcripts.text import MAX_MESSAGE_CHARS, Line, escape, split_lines
from bot.transcripts.threads import ThreadKeeper, ThreadUnavailable

log = logging.getLogger(__name__)

_MAX_RECOVERIES = 5  # thread/webhook recoveries for one operation before backing off
_CAPTION_TAIL = 900  # characters of interim text a caption shows (its end; ≤ 2x escaped)


@dataclass(frozen=True, slots=True)
class WriterConfig:
    translation_wait_s: float = 5.0
    """How long an original waits for its translation before it is posted alone."""
    amend_window_s: float = 120.0
    """How long a post made without its translation is edited when the translation comes."""
    merge_backlog: int = 3
    """Operations waiting (the next one included) before consecutive posts are merged."""
    live_captions: bool = False
    caption_interval_s: float = 1.0
    start_timeout_s: float = 10.0
    """How long opening a run waits for its thread before carrying on without it."""
    request_timeout_s: float = 60.0
    """Per Discord operation, discord.py's own 429 waits included."""
    retry_base_s: float = 0.5
    retry_max_s: float = 30.0
    flush_timeout_s: float = 20.0
    """Bounds the flush on stop/shutdown (keep it inside the deployment's stop grace)."""
    store_timeout_s: float = 15.0
    """Per segment write: longer than the store's own bounds (10 s: connect, statement,
    SQLite's busy wait), so that its reason for failing is the one reported."""
    store_retry_max_s: float = 5.0
    """Longest wait between two tries of the store while the database is unavailable."""


class PostObserver(Protocol):
    """Told about every utterance posted (or given up): the bot's metrics."""

    def transcript_posted(self, latency_s: float | None, *, ok: bool = True) -> None: ...


@dataclass(frozen=True, slots=True)
class RunContext:
    """What the writer knows about its run."""

    guild_id: int
    voice_channel_id: int
    run_id: str
    source_language: str
    target_language: str
    started_at: datetime
    member_sources: Mapping[int, str] = field(default_factory=dict)
    caption_language: str | None = None
    """A caption language's writer (``target_language`` is that language); ``None``:
    the run's own thread."""

    def source_of(self, member_id: int | None) -> str:
        if member_id is None:
            return self.source_language
        return self.member_sources.get(member_id, self.source_language)


@dataclass(slots=True)
class WriterCounters:
    messages_sent: int = 0
    messages_edited: int = 0
    posts: int = 0
    undeliverable: int = 0
    retries: int = 0
    thread_recoveries: int = 0
    empty_utterances: int = 0
    late_events: int = 0
    caption_updates: int = 0
    caption_failures: int = 0


@dataclass(slots=True)
class _Posted:
    """A post in the thread: which utterances, where, how, and what each message says."""

    utterances: list[Utterance]
    thread_id: int
    via_webhook: bool
    contents: list[str] = field(default_factory=list)
    messages: list[Sent] = field(default_factory=list)


class TranscriptWriter:
    def __init__(
        self,
        run: RunContext,
        keeper: ThreadKeeper,
        poster: Poster,
        speakers: SpeakerDirectory,
        *,
        sink: SegmentSink | None = None,
        backlog: StoreBacklog | None = None,
        observer: PostObserver | None = None,
        config: WriterConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        segment_numbers: Callable[[], int] | None = None,
    ) -> None:
        self.run = run
        self._observer = observer
        self.keeper = keeper
        self.config = config or WriterConfig()
        self.counters = WriterCounters()
        self._poster = poster
        self._speakers = speakers
        self._clock = clock
        self._pairer = Pairer(wait_s=self.config.translation_wait_s,
                              amend_window_s=self.config.amend_window_s)
        self._queue = PostQueue(self._fits_one_message, merge_backlog=self.config.merge_backlog)
        self._captions = CaptionBoard(self.config.caption_interval_s)
        self._caption_of: dict[int, Caption] = {}  # utterance seq → caption to remove
        self._stale_captions: list[Caption] = []  # their utterance will not be posted
        self._posted: dict[int, _Posted] = {}  # utterance seq → its post, while amendable
        self._partial: tuple[PostOp, _Posted] | None = None  # a post cut short by a failure
        self._in_flight = 0
        self._first_interim: dict[str, float] = {}
        self._last_end: dict[str, float] = {}
        self.storer = None if sink is None else SegmentStorer(
            sink, name=f"transcripts:{run.voice_channel_id}", backlog=backlog,
            timeout_s=self.config.store_timeout_s,
            retry_base_s=min(self.config.retry_base_s, self.config.store_retry_max_s),
            retry_max_s=self.config.store_retry_max_s)
        # A run's writers (its own thread's and each caption language's) share one
        # numbering, so each segment's (run, seq) is unique in the store.
        self._number_segment = segment_numbers or itertools.count(1).__next__
        self._wake = asyncio.Event()
        self._closing = False
        self._worker: asyncio.Task[None] | None = None
        self._closed: asyncio.Future[None] | None = None
        self._logged: set[str] = set()

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Create (or take back) the thread, then start the workers.

        A thread that cannot be had right now does not fail the run: the post
        worker keeps trying, and posts wait for it.
        """
        if self._worker is not None or self._closing:
            raise RuntimeError("a TranscriptWriter starts once")
        try:
            async with asyncio.timeout(self.config.start_timeout_s):
                await self.keeper.get()
        except ThreadUnavailable as exc:
            self._log_once("no-thread", "no transcript thread: %s", exc, level=logging.WARNING)
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            self._log_once("thread-later", "transcript thread not created yet (%s)",
                           type(exc).__name__)
        name = f"transcripts:{self.run.voice_channel_id}"
        self._worker = asyncio.create_task(self._work(), name=f"{name}:post")
        if self.storer is not None:
            self.storer.start()

    async def aclose(self) -> None:
        """Flush: post everything pending, store every segment, then stop. Idempotent."""
        if self._closed is None:
            self._closed = asyncio.ensure_future(self._close())
        await asyncio.shield(self._closed)

    @property
    def thread(self) -> discord.Thread | None:
        """The thread posts go to now (``None`` until it exists)."""
        return self.keeper.thread

    @property
    def closing(self) -> bool:
        return self._closing

    @property
    def pending(self) -> int:
        """Utterances and operations not yet (or not yet known to be) in the thread."""
        return self._pairer.open_count + len(self._queue) + self._in_flight

    # -- input (sync, on the loop) -----------------------------------------------------

    def push(self, transcript: AttributedTranscript) -> None:
        if self._closing:
            self.counters.late_events += 1
            return
        event = transcript.event
        link = transcript.link
        now = self._clock()
        if not event.is_final:
            if event.kind == "original":
                self._first_interim.setdefault(link, event.timestamp)
                if self.config.live_captions and event.text.strip():
                    self._captions.interim(link, transcript.member_id, event.text)
                    self._wake.set()
            return
        number = transcript.utterance
        if event.kind == "original":
            utterance = self._pairer.original(
                link=link, number=number, member_id=transcript.member_id, text=event.text,
                language=event.language_detected,
                started_at=self._estimate_start(link, event.timestamp, event.text),
                ended_at=event.timestamp, now=now, direction=transcript.direction)
            self._last_end[link] = event.timestamp
            caption = self._captions.finish(link)
            if caption is not None:
                self._caption_of[utterance.seq] = caption
        else:
            utterance, released = self._pairer.translation(
                link=link, number=number, member_id=transcript.member_id, text=event.text,
                ended_at=event.timestamp, now=now, direction=transcript.direction)
            if released:
                self._queue.amend(utterance)
                self._store(utterance)
        self._wake.set()

    def thread_deleted(self, thread_id: int) -> None:
        self.keeper.lost(thread_id)

    # -- the post worker ---------------------------------------------------------------

    async def _work(self) -> None:
        try:
            await self._deliver(None)  # the thread exists from the start of the run
            while True:
                now = self._clock()
                self._release(now)
                op = self._queue.take()
                if op is not None:
                    await self._deliver(op)
                    continue
                if self._stale_captions:
                    await self._remove_stale_captions()
                    continue
                if self._captions.due(now):
                    await self._update_captions(now)
                    continue
                if self._closing:
                    return
                self._wake.clear()
                try:
                    async with asyncio.timeout(self._sleep_for(now)):
                        await self._wake.wait()
                except TimeoutError:
                    pass
        except Exception:
            log.exception("transcript writer for channel %d failed", self.run.voice_channel_id)
            raise

    def _sleep_for(self, now: float) -> float | None:
        deadlines = [d for d in (self._pairer.next_deadline(), self._captions.next_deadline())
                     if d is not None]
        return max(0.0, min(deadlines) - now) if deadlines else None

    def _release(self, now: float) -> None:
        for utterance in self._pairer.due(now):
            self._post_later(utterance)
            if utterance.complete:
                self._store(utterance)
        for utterance in self._pairer.expired(now):
            self._posted.pop(utterance.seq, None)
            self._store(utterance)

    def _post_later(self, utterance: Utterance) -> None:
        if has_text(utterance):
            self._queue.post(utterance)
        else:
            self.counters.empty_utterances += 1
            self._drop_caption_of(utterance)

    async def _deliver(self, op: Op | None) -> None:
        """Carry out ``op`` (``None``: just make sure the thread exists), retrying until
        it is done or Discord refuses it for good."""
        self._in_flight += 1
        try:
            await self._deliver_now(op)
        finally:
            self._in_flight -= 1

    async def _deliver_now(self, op: Op | None) -> None:
        delay = self.config.retry_base_s
        recoveries = 0
        while True:
            try:
                async with asyncio.timeout(self.config.request_timeout_s):
                    if op is None:
                        await self.keeper.get()
                    elif isinstance(op, PostOp):
                        await self._post(op)
                    else:
                        await self._amend(op)
                return
            except PostAgain:
                recoveries += 1
                if recoveries <= _MAX_RECOVERIES:
                    continue
                self._undeliverable(op, "no way of posting is left (webhook and bot refused)")
                return
            except ThreadUnavailable as exc:
                self._undeliverable(op, str(exc))
                return
            except discord.HTTPException as exc:
                if recoveries < _MAX_RECOVERIES and await self._recover(exc):
                    recoveries += 1
                    continue
                if not (exc.status == 429 or exc.status >= 500):
                    self._undeliverable(op, f"HTTP {exc.status} code {exc.code}: {exc.text}")
                    return
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                self._log_once("network", "transcript post failed (%s); retrying",
                               type(exc).__name__)
            self.counters.retries += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.config.retry_max_s)

    async def _recover(self, exc: discord.HTTPException) -> bool:
        recovered = await self.keeper.recover(exc)
        if recovered:
            self.counters.thread_recoveries += 1
        return recovered

    def _undeliverable(self, op: Op | None, why: str) -> None:
        lost = 0 if op is None else len(op.utterances) if isinstance(op, PostOp) else 1
        self.counters.undeliverable += lost
        self._log_once(f"undeliverable:{why}",
                       "transcripts for channel %d cannot be posted: %s",
                       self.run.voice_channel_id, why, level=logging.WARNING)
        if isinstance(op, PostOp):
            self._partial = None
            for u in op.utterances:
                self._drop_caption_of(u)
                self._observe(None, ok=False)

    # -- posting -----------------------------------------------------------------------

    async def _post(self, op: PostOp) -> None:
        speakers = [await self._speakers.resolve(u.member_id) for u in op.utterances]
        single = speakers[0] if len({s.member_id for s in speakers}) == 1 else None
        via_webhook = self._poster.webhook_name_for(single) is not None
        contents = self._render(op.utterances, via_webhook=via_webhook)
        # What was rendered without its translation: a translation that arrives while
        # the messages are on their way is queued as an amend, which needs the post.
        awaiting = [u.seq for u in op.utterances if not u.complete]
        thread = await self.keeper.get()
        posted = _Posted(op.utterances, thread.id, via_webhook)
        if self._partial is not None and self._partial[0] is op:
            earlier = self._partial[1]
            if earlier.thread_id == thread.id and earlier.via_webhook == via_webhook:
                posted = earlier  # resume after the messages that did go out
        self._partial = (op, posted)
        for content in contents[len(posted.messages):]:
            sent = await self._poster.send(thread, content, single if via_webhook else None)
            posted.messages.append(sent)
            posted.contents.append(content)
            self.counters.messages_sent += 1
        self._partial = None
        self.counters.posts += 1
        posted_at = time.time()
        for seq in awaiting:
            self._posted[seq] = posted
        for u in op.utterances:
            self._observe(posted_at - u.ended_at, ok=True)
        await self._remove_captions(thread, op.utterances)

    async def _amend(self, op: AmendOp) -> None:
        posted = self._posted.get(op.utterance.seq)
        if posted is None:
            return  # its post never made it, or it was already made complete
        contents = self._render(posted.utterances, via_webhook=posted.via_webhook)
        shown_complete = [u.seq for u in posted.utterances if u.complete]
        thread = await self.keeper.get()
        speaker = self._speakers.cached(posted.utterances[0].member_id)
        if thread.id != posted.thread_id:
            # The thread that held the post is gone: post it again, whole, here.
            posted.thread_id, posted.messages, posted.contents = thread.id, [], []
        for i, content in enumerate(contents):
            if i < len(posted.messages):
                if posted.contents[i] != content:
                    await self._poster.edit(thread, posted.messages[i], content)
                    posted.contents[i] = content
                    self.counters.messages_edited += 1
            else:
                sent = await self._poster.send(thread, content,
                                               speaker if posted.via_webhook else None)
                posted.messages.append(sent)
                posted.contents.append(content)
                self.counters.messages_sent += 1
        # Only what this edit showed complete: a translation that arrived meanwhile has
        # its own amend queued behind this one.
        for seq in shown_complete:
            self._posted.pop(seq, None)

    def _render(self, utterances: Sequence[Utterance], *, via_webhook: bool) -> list[str]:
        return render_post(utterances, speaker_of=self._speakers.cached,
                           source_of=self.run.source_of, names_inline=not via_webhook)

    def _fits_one_message(self, utterances: Sequence[Utterance]) -> bool:
        return len(self._render(utterances, via_webhook=False)) <= 1

    # -- captions ----------------------------------------------------------------------

    async def _update_captions(self, now: float) -> None:
        for caption in self._captions.due(now):
            speaker = await self._speakers.resolve(caption.member_id)
            text = caption.text
            try:
                async with asyncio.timeout(self.config.request_timeout_s):
                    thread = await self.keeper.get()
                    content = self._caption_content(text, speaker)
                    sent = caption.message
                    if isinstance(sent, Sent) and sent.thread_id == thread.id:
                        await self._poster.edit(thread, sent, content)
                    else:
                        sent = await self._poster.send(thread, content, speaker)
                self.counters.caption_updates += 1
            except discord.HTTPException as exc:
                await self._recover(exc)
                self.counters.caption_failures += 1
            except (PostAgain, ThreadUnavailable, aiohttp.ClientError, OSError, TimeoutError):
                self.counters.caption_failures += 1
            # Shown or not, wait a full interval before trying again (captions are best effort).
            self._captions.shown(caption, text, self._clock(), sent)

    def _caption_content(self, text: str, speaker: Speaker) -> str:
        body = escape(text[-_CAPTION_TAIL:])
        inline = self._poster.webhook_name_for(speaker) is None
        prefix = f"**{escape(speaker.display_name)}**: " if inline else ""
        return split_lines([Line(prefix, body + " …")], MAX_MESSAGE_CHARS)[0]

    async def _remove_captions(self, thread: discord.Thread,
                               utterances: Sequence[Utterance]) -> None:
        for u in utterances:
            caption = self._caption_of.pop(u.seq, None)
            if caption is not None:
                await self._delete_caption(thread, caption)

    def _drop_caption_of(self, utterance: Utterance) -> None:
        caption = self._caption_of.pop(utterance.seq, None)
        if caption is not None:
            self._stale_captions.append(caption)

    async def _remove_stale_captions(self) -> None:
        stale, self._stale_captions = self._stale_captions, []
        thread = self.keeper.thread
        if thread is not None:
            for caption in stale:
                await self._delete_caption(thread, caption)

    async def _delete_caption(self, thread: discord.Thread, caption: Caption) -> None:
        sent = caption.message
        if not isinstance(sent, Sent) or sent.thread_id != thread.id:
            return
        try:
            async with asyncio.timeout(self.config.request_timeout_s):
                await self._poster.delete(thread, sent)
        except (discord.HTTPException, PostAgain, aiohttp.ClientError, OSError, TimeoutError):
            self.counters.caption_failures += 1

    # -- storing -----------------------------------------------------------------------

    def _store(self, utterance: Utterance) -> None:
        if self.storer is None or not has_text(utterance):
            return
        run = self.run
        direction = utterance.direction
        configured = (direction.source if direction is not None
                      else run.source_of(utterance.member_id))
        segment = StoredSegment(
            guild_id=run.guild_id, voice_channel_id=run.voice_channel_id, run_id=run.run_id,
            member_id=utterance.member_id,
            source_language=utterance.original_language or configured,
            target_language=direction.target if direction is not None else run.target_language,
            started_at=datetime.fromtimestamp(utterance.started_at, UTC),
            ended_at=datetime.fromtimestamp(utterance.ended_at, UTC),
            original=utterance.original, translation=utterance.translation,
            seq=self._number_segment(),
            caption_language=run.caption_language)
        self.storer.put(segment)

    # -- closing -----------------------------------------------------------------------

    async def _close(self) -> None:
        self._closing = True
        to_post, given_up = self._pairer.drain()
        for utterance in to_post:
            self._post_later(utterance)
            self._store(utterance)
        for utterance in given_up:
            self._store(utterance)
        self._wake.set()
        worker = self._worker
        if worker is not None:
            try:
                async with asyncio.timeout(self.config.flush_timeout_s):
                    await asyncio.shield(worker)
            except TimeoutError:
                left = len(self._queue)
                log.warning("transcripts for channel %d: %d posts not delivered within %.0f s",
                            self.run.voice_channel_id, left, self.config.flush_timeout_s)
                self.counters.undeliverable += left
            except Exception:
                pass  # logged by the worker
            finally:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await worker
        await self._remove_leftover_captions()
        await self._remove_empty_thread()
        if self.storer is not None:
            await self.storer.settle(self.config.flush_timeout_s)

    async def _remove_leftover_captions(self) -> None:
        thread = self.keeper.thread
        leftovers = [*self._stale_captions, *self._caption_of.values(), *self._captions.drain()]
        self._caption_of.clear()
        self._stale_captions.clear()
        if thread is None:
            return
        for caption in leftovers:
            await self._delete_caption(thread, caption)

    async def _remove_empty_thread(self) -> None:
        """A run that posted nothing (nobody spoke, or the start failed) leaves no thread."""
        if self.counters.messages_sent or self.counters.caption_updates:
            return
        try:
            async with asyncio.timeout(self.config.request_timeout_s):
                await self.keeper.discard_if_created()
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.info("could not remove the empty transcript thread (%s)", type(exc).__name__)

    # -- helpers -----------------------------------------------------------------------

    def _estimate_start(self, link: str, ended_at: float, text: str) -> float:
        """When the utterance began. Pinch reports only its end: the first interim
        transcript of the utterance is the best clue; without one, a duration guessed
        from the word count (about 2.5 words a second), never before the previous end."""
        first = self._first_interim.pop(link, None)
        if first is not None and first <= ended_at:
            return first
        guess = ended_at - min(max(0.4 * len(text.split()), 0.5), 10.0)
        previous = self._last_end.get(link)
        if previous is not None:
            guess = max(guess, previous)
        return min(guess, ended_at)

    def _observe(self, latency_s: float | None, *, ok: bool) -> None:
        if self._observer is None:
            return
        try:
            self._observer.transcript_posted(latency_s, ok=ok)
        except Exception:
            self._log_once("observer", "the post observer failed", level=logging.WARNING,
                           exc_info=True)

    def _log_once(self, key: str, message: str, *args: object, level: int = logging.INFO,
                  exc_info: bool = False) -> None:
        if key in self._logged:
            return
        self._logged.add(key)
        log.log(level, message, *args, exc_info=exc_info)

