"""Guild → running interpretation: the bot's single entry point to the engine.

Discord allows one voice connection per guild, so at most one
:class:`~bot.interpretation.run.ChannelInterpretation` runs per guild. The
manager starts and stops runs, turns Discord's voice and channel events into
run decisions (the bot was disconnected, moved or its channel deleted → the run
ends with that reason; a member left → their link closes), and stops every run
when the bot shuts down. Cogs talk to this class only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import discord

from bot.interpretation.run import (
    AttributedTranscript,
    ChannelInterpretation,
    PreferenceLookup,
    RunConfig,
    RunStatus,
    no_preferences,
)
from bot.observability import logs
from bot.pinch import PinchClient
from bot.voice.client import ReceivingVoiceClient

log = logging.getLogger(__name__)

VoiceConnector = Callable[[discord.VoiceChannel], Awaitable[ReceivingVoiceClient]]


class AlreadyRunning(Exception):
    """The guild already has a run; the message names its channel."""


class NotAccepting(Exception):
    """The bot is shutting down: no new runs (the message says so to the user)."""


class SessionManager:
    def __init__(
        self,
        pinch: PinchClient,
        connect_voice: VoiceConnector,
        *,
        on_transcript: Callable[[AttributedTranscript], None],
        on_status: Callable[[RunStatus], None] | None = None,
        preferences: PreferenceLookup = no_preferences,
    ) -> None:
        self._pinch = pinch
        self._connect_voice = connect_voice
        self._on_transcript = on_transcript
        self._on_status = on_status
        self._preferences = preferences
        self._runs: dict[int, ChannelInterpretation] = {}
        self._stops: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()
        self._refusal: str | None = None

    def get(self, guild_id: int) -> ChannelInterpretation | None:
        return self._runs.get(guild_id)

    @property
    def runs(self) -> dict[int, ChannelInterpretation]:
        return dict(self._runs)

    async def refuse_new_runs(self, reason: str) -> None:
        """From now on ``start`` raises :class:`NotAccepting`; waits for a start under way."""
        async with self._lock:
            self._refusal = reason

    async def start(self, channel: discord.VoiceChannel, config: RunConfig,
                    own_user_id: int | None = None) -> ChannelInterpretation:
        # Every task the run starts inherits these ids, so all its log lines carry them.
        with logs.bind(guild_id=channel.guild.id, channel_id=channel.id,
                       run_id=logs.new_run_id()):
            return await self._start(channel, config, own_user_id)

    async def _start(self, channel: discord.VoiceChannel, config: RunConfig,
                     own_user_id: int | None) -> ChannelInterpretation:
        async with self._lock:
            if self._refusal is not None:
                raise NotAccepting(self._refusal)
            current = self._runs.get(channel.guild.id)
            if current is not None:
                raise AlreadyRunning(f"already interpreting <#{current.channel_id}>")
            run = ChannelInterpretation(
                channel.id, config, self._pinch,
                on_transcript=self._on_transcript, on_status=self._status,
                preferences=self._preferences, own_user_id=own_user_id,
            )
            voice = await asyncio.wait_for(self._connect_voice(channel),
                                           config.connect_timeout_s)
            await run.start(voice)
            self._runs[channel.guild.id] = run
            return run

    async def stop(self, guild_id: int, reason: str) -> bool:
        run = self._runs.pop(guild_id, None)
        if run is None:
            return False
        # A stop outlives a cancelled caller (a Discord event handler, say) and is
        # awaited by aclose, so shutting down never races a stop in progress.
        stopping = asyncio.create_task(run.stop(reason), name=f"manager:stop:{guild_id}")
        self._stops.add(stopping)
        stopping.add_done_callback(self._stops.discard)
        await asyncio.shield(stopping)
        return True

    async def aclose(self) -> None:
        """Stop every run and wait for stops already under way."""
        await asyncio.gather(*(self.stop(g, "bot shutting down") for g in list(self._runs)))
        await asyncio.gather(*list(self._stops), return_exceptions=True)

    # -- Discord events ----------------------------------------------------------------

    async def on_voice_state_update(self, member: discord.Member, before: discord.VoiceState,
                                    after: discord.VoiceState) -> None:
        run = self._runs.get(member.guild.id)
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
