"""Interpretation runs as a server sees them: settings, limits, failures, summaries.

:class:`RunService` is what the commands call to start and stop a run. It
resolves the run's settings (command option > channel > server > default),
builds the engine's :class:`~bot.interpretation.run.RunConfig`, opens the run's
transcript (:class:`~bot.transcripts.TranscriptService`, before the engine starts
so no early utterance is missed, under the run id the segments are stored with),
hands the run its guild's in-memory preference view, and then watches the run:

- a watchdog task (one per run, ticking every ``tick_s``) stops it when no
  human has been in the voice channel for ``idle_leave_s``, or when it reaches
  ``max_run_minutes``;
- engine statuses update the run's last error; the ones carrying a notice (an
  error retrying cannot fix, a member left out by the speaker cap; the engine
  sends each text once per run) go to ``on_failure`` for the channel;
- transcripts are counted (speakers, segments, detected languages) so that when
  the run ends, for whatever reason, ``on_ended`` gets a :class:`RunSummary`.

Engine callbacks arrive on the event loop and are handled synchronously; the
outlets (``on_failure``, ``on_ended``) must not block (the bot turns them into
discord.py events). Every watchdog is cancelled and awaited by ``aclose``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

import discord

from bot.interpretation.link import LinkState
from bot.interpretation.manager import (
    AlreadyRunning,
    SessionManager,
    StartCancelled,
    VoiceUnavailable,
)
from bot.interpretation.pair_mode import PairConfig, PairModeError
from bot.interpretation.router import RouterConfig, RoutingMode
from bot.interpretation.run import AttributedTranscript, RunConfig, RunState, RunStatus
from bot.interpretation.snapshot import RunSnapshot, snapshot
from bot.service.errors import UserError
from bot.service.preferences import MemberPreferences
from bot.store import ConfigLayer, Effective, Store, resolve
from bot.transcripts import TranscriptRun, TranscriptService

log = logging.getLogger(__name__)

T = TypeVar("T")


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


@dataclass(frozen=True, slots=True)
class FailureNotice:
    """Something the channel must know (an error that needs a person, the speaker cap)."""

    guild_id: int
    report_channel_id: int
    message: str


@dataclass(eq=False)
class ActiveRun:
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
    speakers: set[int] = field(default_factory=set)
    segments: int = 0
    languages: dict[str, None] = field(default_factory=dict)
    last_error: str | None = None
    watchdog: asyncio.Task[None] | None = None

    @property
    def post_transcripts(self) -> bool:
        return self.transcript_channel_id is not None


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
    ) -> None:
        self._manager = manager
        self._store = store
        self._preferences = preferences
        self._transcripts = transcripts
        self._on_ended = on_ended
        self._on_failure = on_failure
        self._clock = clock
        self._tick_s = tick_s
        self._active: dict[int, ActiveRun] = {}
        self._by_channel: dict[int, ActiveRun] = {}

    # -- queries -------------------------------------------------------------------

    async def effective(self, guild_id: int, channel_id: int | None,
                        options: ConfigLayer | None = None) -> Effective:
        """The settings a run in ``channel_id`` would use (server only when ``None``)."""
        server = await self._store.server_config(guild_id)
        channel = (await self._store.channel_config(guild_id, channel_id)
                   if channel_id is not None else ConfigLayer())
        return resolve(server, channel, options)

    def active(self, guild_id: int) -> ActiveRun | None:
        return self._active.get(guild_id)

    def for_channel(self, voice_channel_id: int) -> ActiveRun | None:
        """The run interpreting this voice channel (transcripts carry the channel id):
        its ``run_id``, ``guild_id``, ``transcript_channel_id`` and ``post_transcripts``
        are what the transcript writer needs."""
        return self._by_channel.get(voice_channel_id)

    def snapshot(self, guild_id: int) -> RunSnapshot | None:
        run = self._manager.get(guild_id)
        return None if run is None else snapshot(run, now=self._clock())

    def running_s(self, active: ActiveRun) -> float:
        return max(0.0, self._clock() - active.started_mono)

    # -- start / stop --------------------------------------------------------------

    def check_not_running(self, guild_id: int) -> None:
        current = self._manager.get(guild_id)
        if current is not None:
            raise UserError(f"I am already interpreting <#{current.channel_id}>. "
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
            )
        except PairModeError as exc:
            raise UserError(str(exc)) from None

    async def start(self, channel: discord.VoiceChannel, effective: Effective, *,
                    report_channel_id: int,
                    transcript_channel: discord.TextChannel | None,
                    own_user_id: int | None) -> ActiveRun:
        """Open the transcript (when ``post_transcripts``), then join and run.

        The transcript's writer is open before the engine starts, so no early
        utterance is missed; a failed start closes it again.
        """
        guild_id = channel.guild.id
        config = self.run_config(effective)
        self.check_not_running(guild_id)
        await self._preferences.load(guild_id)
        run_id = uuid.uuid4().hex
        if effective["post_transcripts"]:
            if transcript_channel is None:
                raise UserError("Transcripts need a text channel: run `start` in one, or set "
                                "`/interpret config transcript_channel:`.")
            try:
                await self._transcripts.open_run(TranscriptRun(
                    voice_channel=channel, transcript_channel=transcript_channel,
                    source_language=config.source_language,
                    target_language=config.target_language, run_id=run_id,
                    live_captions=bool(effective["live_captions"]),
                    member_sources=self._preferences.sources(guild_id)))
            except discord.HTTPException as exc:
                why = exc.text or exc.status
                raise UserError(f"I could not open the transcript thread in "
                                f"{transcript_channel.mention} ({why}).") from None
        try:
            run = await self._manager.start(channel, config, own_user_id,
                                            preferences=self._preferences.lookup(guild_id))
        except (AlreadyRunning, StartCancelled, VoiceUnavailable, TimeoutError) as exc:
            await self._transcripts.finish(channel.id)
            raise _user_error(exc, channel) from None
        except BaseException:
            await self._transcripts.finish(channel.id)
            raise
        transcript_id = transcript_channel.id if transcript_channel is not None else None
        active = ActiveRun(
            run_id=run_id, guild_id=guild_id, voice_channel=channel,
            report_channel_id=report_channel_id,
            transcript_channel_id=transcript_id if effective["post_transcripts"] else None,
            effective=effective, config=config, started_at=datetime.now(UTC),
            started_mono=self._clock(),
        )
        active.languages[config.source_language] = None
        active.languages[config.target_language] = None
        self._active[guild_id] = active
        self._by_channel[run.channel_id] = active
        if run.state is RunState.STOPPED:  # ended while we were not yet watching
            self._finish(active, run.stop_reason)
            return active
        active.watchdog = asyncio.create_task(self._watch(active),
                                              name=f"runs:{guild_id}:watchdog")
        log.info("run %s started in channel %d (guild %d)", active.run_id, channel.id, guild_id)
        return active

    async def stop(self, guild_id: int, reason: str) -> bool:
        """Stop the guild's run; returns once its transcript posts are in the thread."""
        run = self._manager.get(guild_id)
        stopped = await self._manager.stop(guild_id, reason)
        if run is not None:
            await self._transcripts.finish(run.channel_id)
        return stopped

    def refresh_member(self, guild_id: int, member_id: int) -> None:
        """A member changed their preferences: their live session takes them (in place
        on the WebSocket transport, by re-opening on LiveKit)."""
        run = self._manager.get(guild_id)
        if run is not None:
            # An opted-out member's audio is dropped from the next frame on (the run
            # reads the preference view per frame); this closes their open session.
            run.member_settings_changed(member_id)

    async def aclose(self) -> None:
        watchdogs = [a.watchdog for a in self._active.values() if a.watchdog is not None]
        for task in watchdogs:
            task.cancel()
        await asyncio.gather(*watchdogs, return_exceptions=True)

    # -- engine events -------------------------------------------------------------

    def on_transcript(self, transcript: AttributedTranscript) -> None:
        active = self._by_channel.get(transcript.channel_id)
        event = transcript.event
        if active is None or not event.is_final or event.kind != "original":
            return
        active.segments += 1
        if transcript.member_id is not None:
            active.speakers.add(transcript.member_id)
        if event.language_detected:
            active.languages.setdefault(event.language_detected, None)

    def on_status(self, status: RunStatus) -> None:
        active = self._by_channel.get(status.channel_id)
        if active is None:
            return
        if status.state is RunState.STOPPED:
            self._finish(active, status.reason)
            return
        if status.reason.startswith("link failed") or (
                status.link is not None and status.link.state is LinkState.RECONNECTING):
            active.last_error = status.reason
        if status.notice is None:
            return
        # The engine words the notice and sends each text once per run.
        self._emit(self._on_failure, FailureNotice(active.guild_id, active.report_channel_id,
                                                   status.notice))

    # -- internals -----------------------------------------------------------------

    def _finish(self, active: ActiveRun, reason: str) -> None:
        if self._active.get(active.guild_id) is active:
            del self._active[active.guild_id]
        self._by_channel.pop(active.voice_channel.id, None)
        if active.watchdog is not None and active.watchdog is not asyncio.current_task():
            active.watchdog.cancel()
        summary = RunSummary(
            run_id=active.run_id, guild_id=active.guild_id,
            voice_channel_id=active.voice_channel.id,
            report_channel_id=active.report_channel_id,
            duration_s=self.running_s(active), speakers=len(active.speakers),
            segments=active.segments, languages=tuple(active.languages), reason=reason)
        log.info("run %s ended (%s): %d segments from %d speakers in %.0f s", active.run_id,
                 reason, summary.segments, summary.speakers, summary.duration_s)
        self._emit(self._on_ended, summary)

    async def _watch(self, active: ActiveRun) -> None:
        idle_s = float(active.effective["idle_leave_s"])
        cap_minutes = int(active.effective["max_run_minutes"])
        alone_since: float | None = None
        while True:
            await asyncio.sleep(self._tick_s)
            now = self._clock()
            reason = None
            if cap_minutes and now - active.started_mono >= cap_minutes * 60:
                reason = f"the {cap_minutes}-minute limit for a run was reached"
            elif any(not m.bot for m in active.voice_channel.members):
                alone_since = None
            elif alone_since is None:
                alone_since = now
            elif now - alone_since >= idle_s:
                reason = f"nobody was left in the voice channel for {idle_s:.0f} s"
            if reason is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await self._manager.stop(active.guild_id, reason)
                return

    @staticmethod
    def _emit(outlet: Callable[[T], None], item: T) -> None:
        try:
            outlet(item)
        except Exception:
            log.exception("run event outlet failed")


def _user_error(exc: BaseException, channel: discord.VoiceChannel) -> UserError:
    if isinstance(exc, AlreadyRunning):
        return UserError(f"I am {exc}. Stop it with `/interpret stop` first.")
    if isinstance(exc, StartCancelled):
        return UserError(f"The start was cancelled: {exc}.")
    if isinstance(exc, VoiceUnavailable):
        return UserError("Voice is unavailable in this version of the bot; its operator "
                         "must update it (the log says why).")
    return UserError(f"I could not join {channel.mention} in time. Please try again.")
