"""One voice channel's interpretation run: the owner of everything it starts.

A :class:`ChannelInterpretation` joins the voice channel with the receiving voice
client, plays one :class:`~bot.voice.playback.PlaybackMixer` into it, routes
members' frames through a :class:`~bot.interpretation.router.SpeakerRouter` into
:class:`~bot.interpretation.link.InterpreterLink`\\ s, and emits
:class:`AttributedTranscript`\\ s and :class:`RunStatus` changes to its owner.

``start`` brings the parts up in order; ``stop`` takes them down in reverse
(receive pump, router and links, playback, voice connection) and is safe to
call twice or from a failed ``start``. Nothing it started outlives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from bot.interpretation.link import InterpreterLink, LinkConfig, LinkState, LinkStatus
from bot.interpretation.router import MIXED_LINK, RouterConfig, RoutingMode, SpeakerRouter
from bot.languages import normalize_language
from bot.pinch import VOICE_TYPES, PinchClient, PinchSession, TranscriptEvent
from bot.voice.client import ReceivingVoiceClient
from bot.voice.events import PcmFrame
from bot.voice.playback import PlaybackInput, PlaybackMixer, PlaybackStats

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MemberPreference:
    """What one member chose; ``None`` fields fall back to the channel's settings."""

    opted_out: bool = False
    source_language: str | None = None
    voice_type: str | None = None


class PreferenceLookup(Protocol):
    def __call__(self, member_id: int) -> MemberPreference: ...


def no_preferences(member_id: int) -> MemberPreference:
    return MemberPreference()


@dataclass(frozen=True, slots=True)
class RunConfig:
    """A run's settings, validated and normalised on construction: language codes
    become the canonical ``ll-RR`` of :mod:`bot.languages` (``UnknownLanguage``, a
    ``ValueError``, otherwise), the voice is lower-cased and checked."""

    target_language: str
    source_language: str = "en-US"
    """The hint sent to Pinch when a member has not set their own language."""
    voice_type: str = "clone"
    router: RouterConfig = field(default_factory=RouterConfig)
    link: LinkConfig = field(default_factory=LinkConfig)
    connect_timeout_s: float = 20.0
    duck_db: float | None = -9.0
    play_audio: bool = True
    """False: transcripts only, the translated speech is not played into the channel."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "target_language", normalize_language(self.target_language))
        object.__setattr__(self, "source_language", normalize_language(self.source_language))
        voice = str(self.voice_type).strip().lower()
        if voice not in VOICE_TYPES:
            raise ValueError(f"voice_type must be one of {', '.join(VOICE_TYPES)}")
        object.__setattr__(self, "voice_type", voice)
        if self.connect_timeout_s <= 0:
            raise ValueError("connect_timeout_s must be positive")
        if self.duck_db is not None and self.duck_db > 0:
            raise ValueError("duck_db must be zero or negative (an attenuation)")


@dataclass(frozen=True, slots=True)
class AttributedTranscript:
    """A transcript event with the member it belongs to (``None`` if unknown)."""

    channel_id: int
    member_id: int | None
    event: TranscriptEvent
    link: str


class RunState(enum.Enum):
    STARTING = "starting"
    RUNNING = "running"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class RunStatus:
    channel_id: int
    state: RunState
    reason: str = ""
    link: LinkStatus | None = None
    at: float = field(default_factory=time.monotonic)
    error: BaseException | None = None
    """The exception behind a failure (a ``PinchError`` says whether retrying helps)."""


def _discard_audio(pcm: bytes) -> None:
    """Translated speech of a run with ``play_audio`` off."""


class _PlaybackLink:
    """A router link: one InterpreterLink plus the playback input it feeds."""

    def __init__(self, link: InterpreterLink, playback: PlaybackInput) -> None:
        self.link = link
        self.playback = playback

    def push_frame(self, pcm_48k_stereo: bytes) -> None:
        self.link.push_frame(pcm_48k_stereo)

    def end_of_speech(self, pad_ms: float = 0.0) -> None:
        self.link.end_of_speech(pad_ms)

    async def start(self) -> None:
        await self.link.start()

    async def aclose(self) -> None:
        try:
            await self.link.aclose()
        finally:
            self.playback.close()


class ChannelInterpretation:
    def __init__(
        self,
        channel_id: int,
        config: RunConfig,
        pinch: PinchClient,
        *,
        on_transcript: Callable[[AttributedTranscript], None],
        on_status: Callable[[RunStatus], None] | None = None,
        preferences: PreferenceLookup = no_preferences,
        own_user_id: int | None = None,
    ) -> None:
        self.channel_id = channel_id
        self.config = config
        self.state = RunState.STARTING
        self.stop_reason = ""
        self._pinch = pinch
        self._on_transcript = on_transcript
        self._on_status = on_status
        self._preferences = preferences
        self._own_user_id = own_user_id
        self._voice: ReceivingVoiceClient | None = None
        self._mixer: PlaybackMixer | None = None
        self._router: SpeakerRouter | None = None
        self._pump: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = asyncio.Lock()
        self.started_at: float | None = None
        """``time.monotonic()`` when the run started receiving."""

    @property
    def router(self) -> SpeakerRouter | None:
        return self._router

    def interpreter_links(self) -> dict[int, InterpreterLink]:
        """Router key (member id, or 0 for the mix) → its link, for status snapshots."""
        if self._router is None:
            return {}
        return {key: link.link for key, link in self._router.links.items()
                if isinstance(link, _PlaybackLink)}

    def playback_stats(self) -> PlaybackStats | None:
        return self._mixer.stats() if self._mixer is not None else None

    def refresh_member(self, member_id: int) -> None:
        """The member's preferences changed: close their live session, if any, so
        their next speech opens one with the new settings (an opted-out member's
        audio is dropped from the next frame on: the lookup is read per frame)."""
        if self._router is not None:
            self._router.forget(member_id)

    def link_rooms(self) -> dict[int, str | None]:
        """Router key (member id, or 0 for the mix) → the LiveKit room its link is in."""
        if self._router is None:
            return {}
        return {key: link.link.room_name for key, link in self._router.links.items()
                if isinstance(link, _PlaybackLink)}

    # -- lifecycle -----------------------------------------------------------------

    async def start(self, voice: ReceivingVoiceClient) -> None:
        """Run on an already connected receiving voice client (the run owns it now)."""
        self._loop = asyncio.get_running_loop()
        self._voice = voice
        try:
            self._mixer = PlaybackMixer(duck_db=self.config.duck_db,
                                        on_idle=self._threadsafe(self._pause_voice),
                                        on_active=self._threadsafe(self._resume_voice))
            voice.play(self._mixer)
            voice.pause()  # the mixer starts idle: do not send silence
            self._router = SpeakerRouter(self.config.router, self._make_link,
                                         is_excluded=self._is_excluded,
                                         on_link_failed=self._link_failed)
            await self._router.start()
            self._pump = asyncio.create_task(self._pump_frames(voice),
                                             name=f"run:{self.channel_id}:pump")
        except BaseException:
            await self.stop("start failed")
            raise
        self.started_at = time.monotonic()
        self._set_state(RunState.RUNNING, "started")

    async def stop(self, reason: str) -> None:
        """Tear everything down in reverse order. Idempotent."""
        async with self._stopping:
            if self.state is RunState.STOPPED:
                return
            self.stop_reason = reason
            if self._pump is not None:
                self._pump.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._pump
            if self._router is not None:
                await self._router.aclose()
            if self._mixer is not None:
                self._mixer.close()
            if self._voice is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._voice.disconnect(force=True), 10)
            self._set_state(RunState.STOPPED, reason)

    def member_left(self, member_id: int) -> None:
        if self._router is not None:
            self._router.forget(member_id)

    # -- wiring --------------------------------------------------------------------

    async def _pump_frames(self, voice: ReceivingVoiceClient) -> None:
        assert self._router is not None
        router = self._router
        async for item in voice.receiver:
            if isinstance(item, PcmFrame):
                router.on_frame(item.member_id, item.pcm)
            elif not item.speaking:
                router.on_speech_end(item.member_id)

    def _is_excluded(self, member_id: int) -> bool:
        if member_id == self._own_user_id:
            return True
        if self._voice is not None and self._voice.receiver.is_bot(member_id):
            return True
        return self._preferences(member_id).opted_out

    def _make_link(self, key: int) -> _PlaybackLink:
        assert self._mixer is not None
        pref = self._preferences(key) if key != MIXED_LINK else MemberPreference()
        source = pref.source_language or self.config.source_language
        voice_type = pref.voice_type or self.config.voice_type
        if self.config.router.mode is RoutingMode.MIXED and voice_type == "clone":
            # Cloning a mixture of voices is meaningless.
            voice_type = "female"
        name = "mixed" if key == MIXED_LINK else f"member-{key}"
        target = self.config.target_language

        async def open_session() -> PinchSession:
            return await self._pinch.create_session(source, target, voice_type)

        playback = self._mixer.open_input(f"{name}-{time.monotonic_ns()}")
        link = InterpreterLink(
            name,
            open_session,
            on_transcript=lambda event: self._transcript(key, name, event),
            on_audio=playback.push if self.config.play_audio else _discard_audio,
            on_status=self._link_status,
            config=self.config.link,
        )
        return _PlaybackLink(link, playback)

    def _transcript(self, key: int, link_name: str, event: TranscriptEvent) -> None:
        assert self._router is not None
        member = self._router.speaker_of(key, event.timestamp) if event.is_final else (
            key if key != MIXED_LINK else None)
        try:
            self._on_transcript(AttributedTranscript(self.channel_id, member, event, link_name))
        except Exception:
            log.exception("transcript outlet failed")

    def _link_status(self, status: LinkStatus) -> None:
        if self._stopping.locked():
            return  # links closing because the run stops are not news
        if status.state in (LinkState.RECONNECTING, LinkState.ACTIVE, LinkState.CLOSED):
            self._emit(RunStatus(self.channel_id, self.state, status.reason, link=status))

    def _link_failed(self, key: int, exc: BaseException) -> None:
        reason = getattr(exc, "user_message", None) or type(exc).__name__
        self._emit(RunStatus(self.channel_id, self.state, f"link failed: {reason}", error=exc))

    # -- voice idle/active (called from the player thread) --------------------------

    def _threadsafe(self, fn: Callable[[], None]) -> Callable[[], None]:
        def call() -> None:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.call_soon_threadsafe(fn)
        return call

    def _pause_voice(self) -> None:
        if self._voice is not None and self.state is not RunState.STOPPED:
            self._voice.pause()

    def _resume_voice(self) -> None:
        if self._voice is not None and self.state is not RunState.STOPPED:
            self._voice.resume()

    # -- status --------------------------------------------------------------------

    def _set_state(self, state: RunState, reason: str) -> None:
        self.state = state
        self._emit(RunStatus(self.channel_id, state, reason))

    def _emit(self, status: RunStatus) -> None:
        if self._on_status is None:
            return
        try:
            self._on_status(status)
        except Exception:
            log.exception("status callback failed")
