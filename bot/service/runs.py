"""Interpretation runs as a server sees them: one :class:`Run` per run, from the
moment its start is accepted to its summary.

:class:`RunService` is what the commands call to start and stop a run. A run is
registered (phase ``STARTING``) before anything is awaited, so a second start in
the same guild sees it at once and is refused; it keeps its place through
``STOPPING`` until the engine has left voice, so a start while the last run still
disconnects is refused with a plain sentence too. Its id is minted once, here,
and is the one every log line of the run, its stored segments, its export's file
name and its summary carry.

Starting, in this order, so that nobody's audio leaves the bot before they were
told (``announce``: the consent notice) and no early utterance is missed (the
transcript writer is open before the engine starts):

1. resolve the settings (command option > channel > server > default) into the
   engine's :class:`~bot.interpretation.run.RunConfig`;
2. open the run's transcript writer (keyed by the run id, never by the channel);
3. ``announce`` (the cog posts the consent notice; a failure ends the start);
4. join and run (:class:`~bot.interpretation.manager.SessionManager`).

A stop that arrives while the run is starting is honoured: before the join it
ends the start, during the join the manager stops the run once the join returns.

Then the service watches the run:

- a watchdog task (one per run, ticking every ``tick_s``) stops it when no
  human has been in the voice channel for ``idle_leave_s``, or when it reaches
  ``max_run_minutes``;
- engine statuses (each naming its run) update the run's last error; the ones
  carrying a notice go to ``on_failure`` for the channel;
- transcripts are counted (speakers, segments, detected languages, segments per
  thread language) so that when the run ends, for whatever reason, ``on_ended`` gets
  a :class:`RunSummary`;
- caption languages (:mod:`bot.service.captions`) follow who is in the voice channel:
  at every watchdog tick (and at once when a member changes theirs) the members
  present and their caption language, with the channel's configured list, decide the
  languages served, with a grace period on the run's clock before one closes; the
  engine is told the new set. A member asking for a language that would pass the cap,
  or asking where captions are off, gets one sentence (:meth:`check_caption_request`).

Every refusal of the engine (:mod:`bot.interpretation.errors`), a start during
shutdown and discord.py's "already connected" become one :class:`UserError`
sentence here, never a bug report. Engine callbacks arrive on the event loop and
are handled synchronously; the outlets (``on_failure``, ``on_ended``) must not
block. Every watchdog is cancelled and awaited by ``aclose``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

import discord

from bot.interpretation.errors import (
    AlreadyRunning,
    NotAccepting,
    RunRefused,
    StartCancelled,
    VoiceUnavailable,
)
from bot.interpretation.events import (
    AttributedTranscript,
    PreferenceLookup,
    RunState,
    RunStatus,
)
from bot.interpretation.link import LinkState
from bot.interpretation.manager import SessionManager
from bot.interpretation.pair_mode import PairConfig, PairModeError
from bot.interpretation.router import RouterConfig, RoutingMode
from bot.interpretation.run import ChannelInterpretation, RunConfig
from bot.interpretation.snapshot import RunSnapshot, snapshot
from bot.observability import logs
from bot.service.captions import DEFAULT_GRACE_S, CaptionLanguages, CaptionPolicy
from bot.service.errors import UserError
from bot.service.preferences import MemberPreferences
from bot.store import ConfigLayer, Effective, Store, resolve
from bot.store.config import caption_language_list
from bot.transcripts import TranscriptRun, TranscriptService
from bot.transcripts.service import TranscriptsClosed

log = logging.getLogger(__name__)

T = TypeVar("T")

SHUTTING_DOWN = "The bot is restarting; try again in a minute."
CAPTIONS_OFF = ("Captions in other languages are turned off here (a manager set "
                "`max_caption_languages` to 0).")
NO_TRANSCRIPTS = ("This channel's interpretation posts no transcripts, so it shows no "
                  "captions.")


@dataclass(frozen=True, slots=True)
class RunSummary:
    run_id: str
    guild_id: int
    voice_channel_id: int
    report_channel_id: int
    duration_s: float
    speakers: int
    segments: int
    languages: tuple[str, ...]
    """The configured source and target, then any other language Pinch detected."""
    reason: str
    segments_not_stored: int = 0
    segments_waiting: int = 0
    """Not stored yet: the database is unavailable (they are stored when it is back)."""
    posts_undeliverable: int = 0
    segments_by_language: tuple[tuple[str, int], ...] = ()
    """Segments per language translated into: the run's own thread's languages, then
    each caption thread's, by code."""


@dataclass(frozen=True, slots=True)
class FailureNotice:
    """Something the channel must know (an error that needs a person, the speaker cap)."""

    guild_id: int
    report_channel_id: int
    message: str


class RunPhase(enum.Enum):
    STARTING = "starting"
    """Accepted: the transcript opens, the notice is posted, the bot joins."""
    RUNNING = "running"
    STOPPING = "stopping"
    """Asked to stop; still registered until the engine has left voice."""


@dataclass(eq=False)
class Run:
    """One interpretation run, from the accepted start to its summary."""

    run_id: str
    guild_id: int
    voice_channel: discord.VoiceChannel
    report_channel_id: int
    """Where ``start`` was run: failures and the summary are posted there."""
    transcript_channel_id: int | None
    """Where the transcript thread is (``None`` with ``post_transcripts`` off)."""
    effective: Effective
    config: RunConfig
    started_at: datetime
    started_mono: float
    phase: RunPhase = RunPhase.STARTING
    engine: ChannelInterpretation | None = None
    stop_reason: str | None = None
    """A stop asked while the run was starting (the start then ends with it)."""
    settled: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once the start has succeeded or failed."""
    speakers: set[int] = field(default_factory=set)
    segments: int = 0
    languages: dict[str, None] = field(default_factory=dict)
    last_error: str | None = None
    watchdog: asyncio.Task[None] | None = None
    captions: CaptionLanguages | None = None
    """The caption languages served (``None`` until the start resolved them)."""
    preferences: PreferenceLookup | None = None
    """The guild's members' choices, held for the run's life."""
    segments_by_language: collections.Counter[str] = field(
        default_factory=collections.Counter)

    @property
    def post_transcripts(self) -> bool:
        return self.transcript_channel_id is not None


Announce = Callable[[Run], Awaitable[None]]
"""Tells the voice channel the run is on (the consent notice); raises to end the start."""


class RunService:
    def __init__(
        self,
        manager: SessionManager,
        store: Store,
        preferences: MemberPreferences,
        transcripts: TranscriptService,
        *,
        on_ended: Callable[[RunSummary], None],
        on_failure: Callable[[FailureNotice], None],
        clock: Callable[[], float] = time.monotonic,
        tick_s: float = 1.0,
        caption_grace_s: float = DEFAULT_GRACE_S,
    ) -> None:
        self._manager = manager
        self._store = store
        self._preferences = preferences
        self._transcripts = transcripts
        self._on_ended = on_ended
        self._on_failure = on_failure
        self._clock = clock
        self._tick_s = tick_s
        self._caption_grace_s = caption_grace_s
        self._runs: dict[int, Run] = {}
        """guild → its run, in any phase (Discord allows one voice connection per guild)."""
        self._by_id: dict[str, Run] = {}
        self._refusal: str | None = None

    # -- queries -------------------------------------------------------------------

    async def effective(self, guild_id: int, channel_id: int | None,
                        options: ConfigLayer | None = None) -> Effective:
        """The settings a run in ``channel_id`` would use (server only when ``None``)."""
        server = await self._store.server_config(guild_id)
        channel = (await self._store.channel_config(guild_id, channel_id)
                   if channel_id is not None else ConfigLayer())
        return resolve(server, channel, options)

    def active(self, guild_id: int) -> Run | None:
        """The guild's run in any phase (starting, running or stopping)."""
        return self._runs.get(guild_id)

    def get(self, run_id: str) -> Run | None:
        return self._by_id.get(run_id)

    def snapshot(self, guild_id: int) -> RunSnapshot | None:
        run = self._manager.get(guild_id)
        return None if run is None else snapshot(run, now=self._clock())

    def running_s(self, run: Run) -> float:
        return max(0.0, self._clock() - run.started_mono)

    # -- start / stop --------------------------------------------------------------

    def check_not_running(self, guild_id: int) -> None:
        """Refuse a start while the guild has a run in any phase, or while shutting down."""
        if self._refusal is not None:
            raise UserError(self._refusal)
        current = self._runs.get(guild_id)
        if current is None:
            return
        where = current.voice_channel.mention
        if current.phase is RunPhase.STARTING:
            raise UserError(f"I am already starting in {where}; wait for it, or stop it with "
                            "`/interpret stop`.")
        if current.phase is RunPhase.STOPPING:
            raise UserError(f"I am still leaving {where}; try again in a moment.")
        raise UserError(f"I am already interpreting {where}. "
                        "Stop it with `/interpret stop` first.")

    def run_config(self, effective: Effective) -> RunConfig:
        """The engine's config for ``effective``; a missing target is the user's to fix."""
        if effective["target_language"] is None:
            raise UserError("No target language: give `target`, or set one with "
                            "`/interpret config target:`.")
        pair = effective["mode"] == "pair"  # source ↔ target, per-speaker routing
        try:
            return RunConfig(
                target_language=effective["target_language"],
                source_language=effective["source_language"],
                voice_type=effective["voice"],
                play_audio=bool(effective["play_audio"]),
                context=effective["context"],
                router=RouterConfig(mode=RoutingMode.PER_SPEAKER if pair
                                    else RoutingMode(effective["mode"]),
                                    max_links=int(effective["max_speakers"])),
                pair=PairConfig() if pair else None,
                max_caption_languages=int(effective["max_caption_languages"]),
            )
        except PairModeError as exc:
            raise UserError(str(exc)) from None

    async def start(self, channel: discord.VoiceChannel, effective: Effective, *,
                    report_channel_id: int,
                    transcript_channel: discord.TextChannel | None,
                    own_user_id: int | None,
                    announce: Announce | None = None) -> Run:
        """Accept the run, open its transcript, announce it, then join and run.

        Raises :class:`UserError` for every expected refusal; whatever it opened is
        closed again when it fails.
        """
        guild_id = channel.guild.id
        config = self.run_config(effective)
        if effective["post_transcripts"] and transcript_channel is None:
            raise UserError("Transcripts need a text channel: run `start` in one, or set "
                            "`/interpret config transcript_channel:`.")
        self.check_not_running(guild_id)
        # Claimed before the first await: a second start sees this one at once.
        run = Run(
            run_id=logs.new_run_id(), guild_id=guild_id, voice_channel=channel,
            report_channel_id=report_channel_id,
            transcript_channel_id=(transcript_channel.id if transcript_channel is not None
                                   and effective["post_transcripts"] else None),
            effective=effective, config=config, started_at=datetime.now(UTC),
            started_mono=self._clock(),
        )
        run.languages[config.source_language] = None
        run.languages[config.target_language] = None
        run.captions = CaptionLanguages(self._caption_policy(run))
        self._runs[guild_id] = run
        self._by_id[run.run_id] = run
        with logs.bind(guild_id=guild_id, channel_id=channel.id, run_id=run.run_id):
            try:
                engine = await self._bring_up(run, transcript_channel, own_user_id, announce)
            except BaseException as exc:
                self._forget(run)
                await self._transcripts.finish(run.run_id)
                if isinstance(exc, (RunRefused, TimeoutError, discord.ClientException,
                                    TranscriptsClosed)):
                    raise refusal(exc, channel) from None
                raise
            finally:
                run.settled.set()
            run.engine = engine
            run.phase = RunPhase.RUNNING
            run.started_mono = self._clock()
            if engine.state is RunState.STOPPED:  # ended before we were watching
                self._finish(run, engine.stop_reason)
                return run
            run.watchdog = asyncio.create_task(self._watch(run),
                                               name=f"runs:{guild_id}:watchdog")
            log.info("run %s started in channel %d (guild %d)", run.run_id, channel.id,
                     guild_id)
        return run

    async def _bring_up(self, run: Run, transcript_channel: discord.TextChannel | None,
                        own_user_id: int | None,
                        announce: Announce | None) -> ChannelInterpretation:
        channel, config = run.voice_channel, run.config
        await self._preferences.load(run.guild_id)
        # Held from here on: the guild's view stays loaded for as long as the run lives.
        preferences = run.preferences = self._preferences.lookup(run.guild_id)
        if run.post_transcripts:
            assert transcript_channel is not None
            try:
                await self._transcripts.open_run(TranscriptRun(
                    voice_channel=channel, transcript_channel=transcript_channel,
                    source_language=config.source_language,
                    target_language=config.target_language, run_id=run.run_id,
                    live_captions=bool(run.effective["live_captions"]),
                    member_sources=self._preferences.sources(run.guild_id),
                    pair=config.pair is not None, started_at=run.started_at))
            except discord.HTTPException as exc:
                why = exc.text or exc.status
                raise UserError(f"I could not open the transcript thread in "
                                f"{transcript_channel.mention} ({why}).") from None
        self._raise_if_cancelled(run)
        if announce is not None:
            await announce(run)  # nobody's audio leaves the bot before this is posted
        self._raise_if_cancelled(run)
        # The caption languages of the members already there, from the first word on.
        self._update_captions(run)
        assert run.captions is not None
        config = run.config = dataclasses.replace(config, caption_languages=run.captions.served)
        return await self._manager.start(channel, config, own_user_id,
                                         preferences=preferences, run_id=run.run_id)

    def _raise_if_cancelled(self, run: Run) -> None:
        if run.stop_reason is not None:
            raise StartCancelled(run.stop_reason)
        if self._refusal is not None:
            raise NotAccepting(self._refusal)

    async def stop(self, guild_id: int, reason: str) -> bool:
        """Stop the guild's run (or end its start); returns once its transcript posts are
        in the thread. ``False`` if there is none."""
        run = self._runs.get(guild_id)
        if run is None:
            return False
        if run.phase is RunPhase.STARTING:
            run.stop_reason = run.stop_reason or reason
            await self._manager.stop(guild_id, reason)  # a join under way ends once back
            await run.settled.wait()
            if self._runs.get(guild_id) is not run:
                return True
        if run.phase is RunPhase.RUNNING:
            run.phase = RunPhase.STOPPING
        await self._manager.stop(guild_id, reason)
        await self._transcripts.finish(run.run_id)
        return True

    async def refuse_new_runs(self, reason: str = SHUTTING_DOWN) -> None:
        """From now on every start is refused with ``reason``; waits for starts under way
        (each ends refused, or runs and is stopped with the others)."""
        self._refusal = reason
        starting = [run.settled.wait() for run in self._runs.values()
                    if run.phase is RunPhase.STARTING]
        await asyncio.gather(*starting)
        await self._manager.refuse_new_runs(reason)

    def refresh_member(self, guild_id: int, member_id: int) -> None:
        """A member changed their preferences: their live session takes them (in place
        on the WebSocket transport, by re-opening on LiveKit)."""
        run = self._manager.get(guild_id)
        if run is not None:
            # An opted-out member's audio is dropped from the next frame on (the run
            # reads the preference view per frame); this closes their open session.
            run.member_settings_changed(member_id)

    # -- captions ------------------------------------------------------------------

    async def check_caption_request(self, guild_id: int, channel_id: int | None,
                                    language: str) -> None:
        """Refuse (one sentence) a member's caption language where captions are off, or
        one that would pass the cap of the run in ``channel_id`` (where they are)."""
        effective = await self.effective(guild_id, channel_id)
        if not int(effective["max_caption_languages"]):
            raise UserError(CAPTIONS_OFF)
        run = self._runs.get(guild_id)
        if run is None or run.captions is None or run.voice_channel.id != channel_id:
            return
        if not run.post_transcripts:
            raise UserError(NO_TRANSCRIPTS)
        if not run.captions.admits(language):
            raise UserError(run.captions.refusal(language))

    def captions_changed(self, guild_id: int) -> None:
        """A member changed their caption language: the guild's run follows at once."""
        run = self._runs.get(guild_id)
        if run is not None and run.phase is RunPhase.RUNNING:
            self._update_captions(run)

    def _caption_policy(self, run: Run) -> CaptionPolicy:
        config = run.config
        own = ((config.source_language, config.target_language) if config.pair is not None
               else (config.target_language,))
        # Nothing to show them in without a thread: no session is paid for.
        cap = config.max_caption_languages if run.post_transcripts else 0
        return CaptionPolicy(own=own, configured=caption_language_list(
            run.effective["caption_languages"]), max_languages=cap,
            grace_s=self._caption_grace_s)

    def _update_captions(self, run: Run) -> None:
        """Members present → the caption languages served; the engine follows."""
        captions, lookup = run.captions, run.preferences
        if captions is None or lookup is None:
            return
        wants = {m.id: lookup(m.id).caption_language for m in run.voice_channel.members
                 if not m.bot}
        change = captions.update(wants, self._clock())
        if change and run.engine is not None:
            log.info("run %s: caption languages %s (opened %s, closed %s)", run.run_id,
                     ", ".join(captions.served) or "none", ", ".join(change.opened) or "-",
                     ", ".join(change.closed) or "-")
            run.engine.set_caption_languages(captions.served)
        for language in change.refused:
            self._emit(self._on_failure, FailureNotice(run.guild_id, run.report_channel_id,
                                                       captions.refusal(language)))

    async def aclose(self) -> None:
        if self._refusal is None:
            self._refusal = SHUTTING_DOWN
        watchdogs = [r.watchdog for r in self._runs.values() if r.watchdog is not None]
        for task in watchdogs:
            task.cancel()
        await asyncio.gather(*watchdogs, return_exceptions=True)

    # -- engine events -------------------------------------------------------------

    def on_transcript(self, transcript: AttributedTranscript) -> None:
        run = self._by_id.get(transcript.run_id)
        event = transcript.event
        if run is None or not event.is_final or event.kind != "original":
            return
        into = transcript.caption_language or (
            transcript.direction.target if transcript.direction is not None
            else run.config.target_language)
        run.segments_by_language[into] += 1
        if transcript.caption_language is not None:
            return  # the same utterance, in another thread
        run.segments += 1
        if transcript.member_id is not None:
            run.speakers.add(transcript.member_id)
        if event.language_detected:
            run.languages.setdefault(event.language_detected, None)

    def on_status(self, status: RunStatus) -> None:
        run = self._by_id.get(status.run_id)
        if run is None:
            return
        if status.state is RunState.STOPPED:
            if run.phase is not RunPhase.STARTING:  # a failed start ends in start()
                self._finish(run, status.reason)
            return
        if status.reason.startswith("link failed") or (
                status.link is not None and status.link.state is LinkState.RECONNECTING):
            run.last_error = status.reason
        if status.notice is None:
            return
        # The engine words the notice and sends each text once per run.
        self._emit(self._on_failure, FailureNotice(run.guild_id, run.report_channel_id,
                                                   status.notice))

    # -- internals -----------------------------------------------------------------

    def _forget(self, run: Run) -> None:
        if self._runs.get(run.guild_id) is run:
            del self._runs[run.guild_id]
        self._by_id.pop(run.run_id, None)

    def _finish(self, run: Run, reason: str) -> None:
        self._forget(run)
        if run.watchdog is not None and run.watchdog is not asyncio.current_task():
            run.watchdog.cancel()
        lost = self._transcripts.losses(run.run_id)
        summary = RunSummary(
            run_id=run.run_id, guild_id=run.guild_id,
            voice_channel_id=run.voice_channel.id,
            report_channel_id=run.report_channel_id,
            duration_s=self.running_s(run), speakers=len(run.speakers),
            segments=run.segments, languages=tuple(run.languages), reason=reason,
            segments_not_stored=lost.segments_not_stored,
            segments_waiting=lost.segments_waiting,
            posts_undeliverable=lost.posts_undeliverable,
            segments_by_language=_by_language(run))
        log.info("run %s ended (%s): %d segments from %d speakers in %.0f s", run.run_id,
                 reason, summary.segments, summary.speakers, summary.duration_s)
        self._emit(self._on_ended, summary)

    async def _watch(self, run: Run) -> None:
        idle_s = float(run.effective["idle_leave_s"])
        cap_minutes = int(run.effective["max_run_minutes"])
        alone_since: float | None = None
        while True:
            await asyncio.sleep(self._tick_s)
            self._update_captions(run)
            now = self._clock()
            reason = None
            if cap_minutes and now - run.started_mono >= cap_minutes * 60:
                reason = f"the {cap_minutes}-minute limit for a run was reached"
            elif any(not m.bot for m in run.voice_channel.members):
                alone_since = None
            elif alone_since is None:
                alone_since = now
            elif now - alone_since >= idle_s:
                reason = f"nobody was left in the voice channel for {idle_s:.0f} s"
            if reason is not None:
                run.phase = RunPhase.STOPPING
                with contextlib.suppress(asyncio.CancelledError):
                    await self._manager.stop(run.guild_id, reason)
                return

    @staticmethod
    def _emit(outlet: Callable[[T], None], item: T) -> None:
        try:
            outlet(item)
        except Exception:
            log.exception("run event outlet failed")


def _by_language(run: Run) -> tuple[tuple[str, int], ...]:
    """Segments per language: the run's own thread's languages, then the captions'."""
    own = [code for code in (run.config.target_language, run.config.source_language)
           if code in run.segments_by_language]
    rest = sorted(code for code in run.segments_by_language if code not in own)
    return tuple((code, run.segments_by_language[code]) for code in (*own, *rest))


def refusal(exc: BaseException, channel: discord.VoiceChannel) -> UserError:
    """The one sentence for an expected end of a start (never a bug report)."""
    if isinstance(exc, AlreadyRunning):
        return UserError(f"I am {exc}. Stop it with `/interpret stop` first.")
    if isinstance(exc, StartCancelled):
        return UserError(f"The start was cancelled: {exc}.")
    if isinstance(exc, (NotAccepting, TranscriptsClosed)):
        return UserError(SHUTTING_DOWN)
    if isinstance(exc, VoiceUnavailable):
        return UserError("Voice is unavailable in this version of the bot; its operator "
                         "must update it (the log says why).")
    if isinstance(exc, discord.ClientException):
        # discord.py still holds the last run's voice connection while it disconnects.
        return UserError("I am still connected to voice in this server; try again in a "
                         "moment.")
    return UserError(f"I could not join {channel.mention} in time. Please try again.")
