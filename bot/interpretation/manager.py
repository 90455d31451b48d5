"""Guild → running interpretation: the bot's single entry point to the engine.

Discord allows one voice connection per guild, so at most one
:class:`~bot.interpretation.run.ChannelInterpretation` runs per guild. The
manager starts and stops runs, turns Discord's voice and channel events into
run decisions (the bot was disconnected, moved or its channel deleted → the run
ends with that reason; a member left → their link closes), and stops every run
when the bot shuts down. Cogs talk to this class only.

Concurrency: each guild has its own lock, so a slow voice join in one guild never
holds up starts elsewhere. A stop that arrives while its guild's run is starting
(a command, or the bot kicked from voice) is honoured: the start finishes its
join, then the run is stopped at once and ``start`` raises :class:`StartCancelled`.
The voice join's timeout is discord.py's own (``connect_voice`` passes it), never
a cancellation from outside, which would leave a half-made voice client behind.
Every stop runs as a task the manager owns and awaits on :meth:`aclose`, which
is bounded and never raises, so the bot's shutdown always goes on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.interpretation.errors import (
    AlreadyRunning,
    NotAccepting,
    StartCancelled,
    VoiceUnavailable,
)
from bot.interpretation.events import (
    AttributedTranscript,
    PreferenceLookup,
    RunStatus,
    no_preferences,
)
from bot.interpretation.run import ChannelInterpretation, RunConfig
from bot.interpretation.transport import Transport
from bot.observability import logs
from bot.pinch import PinchClient
from bot.voice.client import ReceivingVoiceClient

log = logging.getLogger(__name__)

VoiceConnector = Callable[[discord.VoiceChannel], Awaitable[ReceivingVoiceClient]]


CLOSE_TIMEOUT_S = 30.0
"""How long :meth:`SessionManager.aclose` waits for runs to stop."""


class SessionManager:
    def __init__(
        self,
        pinch: PinchClient | Transport[Any],
        connect_voice: VoiceConnector,
        *,
        on_transcript: Callable[[AttributedTranscript], None],
        on_status: Callable[[RunStatus], None] | None = None,
        preferences: PreferenceLookup = no_preferences,
        voice_unavailable: str | None = None,
    ) -> None:
        self._pinch = pinch
        self._connect_voice = connect_voice
        self._on_transcript = on_transcript
        self._on_status = on_status
        self._preferences = preferences
        self._runs: dict[int, ChannelInterpretation] = {}
        self._starting: dict[int, ChannelInterpretation] = {}
        self._no_starts = asyncio.Event()
        self._no_starts.set()
        self._cancelled_starts: dict[int, str] = {}
        self._stops: set[asyncio.Task[None]] = set()
        self._voice_unavailable = voice_unavailable
        self._closed = False
        self._refusal: str | None = None

    @property
    def transport_name(self) -> str:
        """``livekit`` or ``websocket``: how this bot's runs reach Pinch."""
        pinch = self._pinch
        return "livekit" if isinstance(pinch, PinchClient) else pinch.name

    def get(self, guild_id: int) -> ChannelInterpretation | None:
        return self._runs.get(guild_id)

    @property
    def runs(self) -> dict[int, ChannelInterpretation]:
        return dict(self._runs)

    def starting(self, guild_id: int) -> bool:
        return guild_id in self._starting

    async def refuse_new_runs(self, reason: str) -> None:
        """From now on ``start`` raises :class:`NotAccepting`; waits for starts under way."""
        self._refusal = reason
        await self._no_starts.wait()

    async def start(self, channel: discord.VoiceChannel, config: RunConfig,
                    own_user_id: int | None = None, *,
                    preferences: PreferenceLookup | None = None,
                    run_id: str | None = None) -> ChannelInterpretation:
        """Join ``channel`` and run; raises :class:`AlreadyRunning`, :class:`NotAccepting`,
        :class:`StartCancelled`, :class:`VoiceUnavailable` or the join's error.
        ``preferences`` (the guild's in-memory view of its members' choices) overrides
        the manager-wide lookup for this run; ``run_id`` is the id the run service
        minted (one is made here for callers without one)."""
        run_id = run_id or logs.new_run_id()
        # Every task the run starts inherits these ids, so all its log lines carry them.
        with logs.bind(guild_id=channel.guild.id, channel_id=channel.id, run_id=run_id):
            return await self._start(channel, config, own_user_id, preferences, run_id)

    async def _start(self, channel: discord.VoiceChannel, config: RunConfig,
                     own_user_id: int | None, preferences: PreferenceLookup | None,
                     run_id: str) -> ChannelInterpretation:
        if self._refusal is not None:
            raise NotAccepting(self._refusal)
        if self._voice_unavailable is not None:
            raise VoiceUnavailable(self._voice_unavailable)
        if self._closed:
            raise StartCancelled("the bot is shutting down")
        guild_id = channel.guild.id
        # Check and claim with no await between them: a second start sees the first at
        # once (no per-guild lock to keep for every guild ever served).
        current = self._runs.get(guild_id) or self._starting.get(guild_id)
        if current is not None:
            raise AlreadyRunning(f"already interpreting <#{current.channel_id}>")
        run = ChannelInterpretation(
            channel.id, config, self._pinch,
            on_transcript=self._on_transcript, on_status=self._status,
            preferences=preferences or self._preferences, own_user_id=own_user_id,
            on_fatal=lambda reason: self._stop_soon(guild_id, run, reason),
            run_id=run_id,
        )
        self._starting[guild_id] = run
        self._no_starts.clear()
        self._cancelled_starts.pop(guild_id, None)
        try:
            voice = await self._connect_voice(channel)
            await run.start(voice)
        except BaseException:
            self._cancelled_starts.pop(guild_id, None)
            raise
        finally:
            del self._starting[guild_id]
            if not self._starting:
                self._no_starts.set()
        cancelled = self._cancelled_starts.pop(guild_id, None)
        if cancelled is None and self._closed:
            cancelled = "the bot is shutting down"
        if cancelled is not None:
            await self._stop_run(guild_id, run, cancelled)
            raise StartCancelled(cancelled)
        self._runs[guild_id] = run
        return run

    async def stop(self, guild_id: int, reason: str) -> bool:
        """Stop the guild's run (or the one starting); ``False`` if there is none."""
        if guild_id in self._starting:
            self._cancelled_starts[guild_id] = reason
            return True
        run = self._runs.pop(guild_id, None)
        if run is None:
            return False
        await self._stop_run(guild_id, run, reason)
        return True

    async def _stop_run(self, guild_id: int, run: ChannelInterpretation, reason: str) -> None:
        # A stop outlives a cancelled caller (a Discord event handler, say) and is
        # awaited by aclose, so shutting down never races a stop in progress.
        stopping = asyncio.create_task(run.stop(reason), name=f"manager:stop:{guild_id}")
        self._stops.add(stopping)
        stopping.add_done_callback(self._stops.discard)
        await asyncio.shield(stopping)

    def _stop_soon(self, guild_id: int, run: ChannelInterpretation, reason: str) -> None:
        """A run failed by itself: stop it (as an owned task) and forget it."""
        if self._runs.get(guild_id) is run:
            del self._runs[guild_id]
        elif guild_id in self._starting:
            self._cancelled_starts[guild_id] = reason
            return
        log.warning("channel %d: run ends by itself: %s", run.channel_id, reason)
        stopping = asyncio.create_task(run.stop(reason), name=f"manager:stop:{guild_id}")
        self._stops.add(stopping)
        stopping.add_done_callback(self._stops.discard)

    async def aclose(self) -> None:
        """Stop every run and wait (bounded) for stops under way. Never raises."""
        self._closed = True
        for guild_id in list(self._starting):
            self._cancelled_starts[guild_id] = "the bot is shutting down"
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await asyncio.gather(
                    *(self.stop(g, "bot shutting down") for g in list(self._runs)),
                    return_exceptions=True)
                while self._stops or self._starting:
                    await self._no_starts.wait()
                    await asyncio.gather(*list(self._stops), return_exceptions=True)
        except TimeoutError:
            log.error("runs still stopping after %.0f s; shutting down anyway", CLOSE_TIMEOUT_S)

    # -- Discord events ----------------------------------------------------------------

    async def on_voice_state_update(self, member: discord.Member, before: discord.VoiceState,
                                    after: discord.VoiceState) -> None:
        guild_id = member.guild.id
        if guild_id in self._starting and member.id == member.guild.me.id and \
                after.channel is None and before.channel is not None:
            self._cancelled_starts[guild_id] = "the bot was disconnected from voice"
            return
        run = self._runs.get(guild_id)
        if run is None:
            return
        if member.id == member.guild.me.id:
            if after.channel is None:
                await self.stop(member.guild.id, "the bot was disconnected from voice")
            elif after.channel.id != run.channel_id:
                await self.stop(member.guild.id, "the bot was moved to another channel")
            return
        left = before.channel is not None and before.channel.id == run.channel_id
        if left and (after.channel is None or after.channel.id != run.channel_id):
            run.member_left(member.id)

    async def on_channel_deleted(self, channel: discord.abc.GuildChannel) -> None:
        run = self._runs.get(channel.guild.id)
        if run is not None and run.channel_id == channel.id:
            await self.stop(channel.guild.id, "the voice channel was deleted")

    def _status(self, status: RunStatus) -> None:
        log.info("channel %d: %s %s", status.channel_id, status.state.value, status.reason)
        if self._on_status is not None:
            self._on_status(status)
