"""One voice channel's interpretation run: the owner of everything it starts.

A :class:`ChannelInterpretation` joins the voice channel with the receiving voice
client, plays one :class:`~bot.voice.playback.PlaybackMixer` into it, routes
members' frames through a :class:`~bot.interpretation.router.SpeakerRouter` into
:class:`~bot.interpretation.link.InterpreterLink`\\ s, and emits
:class:`AttributedTranscript`\\ s and :class:`RunStatus` changes to its owner.

``start`` brings the parts up in order; ``stop`` takes them down in reverse
(receive pump, router and links, playback, voice connection) and is safe to
call twice, from a failed ``start`` or concurrently with one. Nothing it started
outlives it.

A run never dies silently: if the receive pump raises, or the receiver ends
without the bot having been disconnected through a voice-state event, the run
asks its owner to stop it (``on_fatal``) with the reason.

Pinch is reached through one :class:`~bot.interpretation.transport.Transport`
(``PINCH_TRANSPORT``: LiveKit rooms or WebSockets), named in :attr:`transport_name`
and in the RUNNING status. ``RunConfig.play_audio`` off makes a text-only run
(transcripts, no translated speech in the channel); ``RunConfig.context`` goes with
WebSocket sessions. A member's new language or voice is applied in place when the
transport can (:meth:`ChannelInterpretation.apply_member_settings`).

Statuses: every :class:`RunStatus` names its reason; those carrying a ``notice``
are meant for the channel (a failure retrying cannot fix and what to do about
it, the link cap leaving someone out), each notice text at most once per run.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from bot.interpretation.link import (
    InterpreterLink,
    LinkConfig,
    LinkState,
    LinkStatus,
    describe_failure,
)
from bot.interpretation.livekit_transport import LiveKitTransport
from bot.interpretation.router import (
    MIXED_LINK,
    LinkCapReached,
    RouterConfig,
    RouterEvent,
    RoutingMode,
    SpeakerRouter,
)
from bot.interpretation.transport import Transport
from bot.pinch import (
    AuthenticationError,
    InvalidLanguageError,
    NoCreditsError,
    NotEntitledError,
    PinchClient,
    PinchError,
    TranscriptEvent,
)
from bot.pinch.options import SessionOptions, clean_context
from bot.tasks import cancel_and_wait
from bot.voice.client import ReceivingVoiceClient
from bot.voice.events import PcmFrame
from bot.voice.playback import PlaybackInput, PlaybackMixer

log = logging.getLogger(__name__)

_UTTERANCES_REMEMBERED = 256


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
    target_language: str
    source_language: str = "en-US"
    """The hint sent to Pinch when a member has not set their own language."""
    voice_type: str = "clone"
    router: RouterConfig = field(default_factory=RouterConfig)
    link: LinkConfig = field(default_factory=LinkConfig)
    duck_db: float | None = -9.0
    play_audio: bool = True
    """False: text only — transcripts, no translated speech in the channel (the WebSocket
    transport asks Pinch for none; on LiveKit the translated track is not played)."""
    context: str | None = field(default=None, repr=False)
    """Names and jargon of this server/channel, sent with WebSocket sessions (the LiveKit
    API has no such field). Never logged; at most ``MAX_CONTEXT_CHARS`` characters
    (``ContextTooLong``, a ``ValueError``, otherwise)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "context", clean_context(self.context))


@dataclass(frozen=True, slots=True)
class AttributedTranscript:
    """A transcript event with the member it belongs to (``None`` if unknown)."""

    channel_id: int
    member_id: int | None
    event: TranscriptEvent
    link: str
    utterance: int = 0
    """Order of the utterance within its link; an original and its translation share it."""


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
    member_id: int | None = None
    """The member concerned, when the status is about one member's link."""
    notice: str | None = None
    """One sentence for the channel (what happened and what to do), or ``None``."""


def _discard_audio(pcm: bytes) -> None:
    """Translated speech of a text-only run (only LiveKit sends it anyway)."""


MemberSettingsOutcome = Literal["updated", "reopened", "no_link"]
"""What :meth:`ChannelInterpretation.apply_member_settings` did."""


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
        pinch: PinchClient | Transport[Any],
        *,
        on_transcript: Callable[[AttributedTranscript], None],
        on_status: Callable[[RunStatus], None] | None = None,
        preferences: PreferenceLookup = no_preferences,
        own_user_id: int | None = None,
        on_fatal: Callable[[str], None] | None = None,
    ) -> None:
        self.channel_id = channel_id
        self.config = config
        self.state = RunState.STARTING
        self.stop_reason = ""
        # A bare PinchClient (what callers passed before there were two transports) means
        # the LiveKit API.
        self._transport: Transport[Any] = (
            LiveKitTransport(pinch) if isinstance(pinch, PinchClient) else pinch)
        # Refused here, not when a member first speaks (inside the receive pump).
        self._transport.check(config.link)
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
        self._on_fatal = on_fatal
        self._self_stop: asyncio.Task[None] | None = None
        self._settings_tasks: set[asyncio.Task[MemberSettingsOutcome]] = set()
        self._notices: set[str] = set()
        # (link name, utterance) → member, decided once from the original's end time.
        self._utterance_speakers: collections.OrderedDict[tuple[str, int], int | None] = (
            collections.OrderedDict())

    @property
    def router(self) -> SpeakerRouter | None:
        return self._router

    @property
    def transport_name(self) -> str:
        """How this run reaches Pinch: ``livekit`` or ``websocket`` (``PINCH_TRANSPORT``)."""
        return self._transport.name

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
                                         on_event=self._router_event)
            await self._router.start()
            self._pump = asyncio.create_task(self._pump_frames(voice),
                                             name=f"run:{self.channel_id}:pump")
            self._pump.add_done_callback(self._pump_ended)
        except BaseException:
            await self.stop("start failed")
            raise
        if self.state is RunState.STARTING:
            self._set_state(RunState.RUNNING, f"started ({self._transport.name} transport)")

    async def stop(self, reason: str) -> None:
        """Tear everything down in reverse order. Idempotent."""
        async with self._stopping:
            if self.state is RunState.STOPPED:
                return
            self.stop_reason = reason
            try:
                if self._pump is not None:
                    await cancel_and_wait([self._pump])
                await cancel_and_wait(list(self._settings_tasks))
                if self._router is not None:
                    await self._router.aclose()
                if self._mixer is not None:
                    self._mixer.close()
                if self._voice is not None:
                    try:
                        async with asyncio.timeout(10):
                            await self._voice.disconnect(force=True)
                    except Exception as exc:
                        log.warning("channel %d: leaving voice failed: %r", self.channel_id, exc)
            finally:
                self._set_state(RunState.STOPPED, reason)

    def reopen_member(self, member_id: int) -> None:
        """The member's settings changed: their live session is re-opened with the new
        ones on their next speech (and a failure that blocked them is forgotten)."""
        if self._router is not None:
            self._router.reopen(member_id)

    async def apply_member_settings(self, member_id: int) -> MemberSettingsOutcome:
        """The member changed their language or voice (or opted out): on a transport that
        can (WebSocket) their live session takes the new language/voice in place
        (``update_metadata``, no reconnect: ``"updated"``); otherwise their link is closed
        and re-opened with them on their next speech, like :meth:`reopen_member`
        (``"reopened"``). ``"no_link"``: nothing was live; their next link opens with the
        new settings anyway (and a failure that blocked them is forgotten)."""
        router = self._router
        if router is None or self.state is RunState.STOPPED:
            return "no_link"
        entry = router.links.get(member_id)
        if not isinstance(entry, _PlaybackLink):
            router.reopen(member_id)
            return "no_link"
        if not self._preferences(member_id).opted_out and \
                await entry.link.update_options(self._session_options(member_id)):
            log.info("channel %d: member %d's new settings applied in place",
                     self.channel_id, member_id)
            return "updated"
        router.reopen(member_id)
        return "reopened"

    def member_settings_changed(self, member_id: int) -> None:
        """:meth:`apply_member_settings` for a caller that cannot await (it runs as a
        task the run owns and cancels on stop)."""
        if self.state is RunState.STOPPED:
            return
        task = asyncio.get_running_loop().create_task(
            self.apply_member_settings(member_id), name=f"run:{self.channel_id}:settings")
        self._settings_tasks.add(task)
        task.add_done_callback(self._settings_tasks.discard)

    def member_left(self, member_id: int) -> None:
        if self._router is not None:
            self._router.forget(member_id)

    # -- wiring --------------------------------------------------------------------

    def _pump_ended(self, pump: asyncio.Task[None]) -> None:
        if pump.cancelled() or self._stopping.locked() or self.state is RunState.STOPPED:
            return
        exc = pump.exception()
        if exc is not None:
            log.error("channel %d: voice receive failed", self.channel_id, exc_info=exc)
            self._fatal(f"voice receive failed ({type(exc).__name__})")
        else:
            self._fatal("the voice connection ended")

    def _fatal(self, reason: str) -> None:
        """Something the run cannot live without is gone: have it stopped, never silently."""
        if self._on_fatal is not None:
            self._on_fatal(reason)
        elif self._self_stop is None:
            self._self_stop = asyncio.get_running_loop().create_task(
                self.stop(reason), name=f"run:{self.channel_id}:self-stop")

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

    def _session_options(self, key: int) -> SessionOptions:
        pref = self._preferences(key) if key != MIXED_LINK else MemberPreference()
        voice_type = pref.voice_type or self.config.voice_type
        if self.config.router.mode is RoutingMode.MIXED and voice_type == "clone":
            # Cloning a mixture of voices is meaningless.
            voice_type = "female"
        return SessionOptions(
            source_language=pref.source_language or self.config.source_language,
            target_language=self.config.target_language,
            voice_type=voice_type,
            audio_output=self.config.play_audio,
            context=self.config.context,
        )

    def _make_link(self, key: int) -> _PlaybackLink:
        assert self._mixer is not None
        name = "mixed" if key == MIXED_LINK else f"member-{key}"
        playback = self._mixer.open_input(f"{name}-{time.monotonic_ns()}")
        link = InterpreterLink(
            name,
            self._transport,
            self._session_options(key),
            on_transcript=lambda event, utterance: self._transcript(key, name, event, utterance),
            on_audio=playback.push if self.config.play_audio else _discard_audio,
            on_status=lambda status: self._link_status(key, status),
            config=self.config.link,
        )
        return _PlaybackLink(link, playback)

    def _transcript(self, key: int, link_name: str, event: TranscriptEvent,
                    utterance: int) -> None:
        assert self._router is not None
        member = self._speaker_of(key, link_name, event, utterance)
        try:
            self._on_transcript(AttributedTranscript(self.channel_id, member, event, link_name,
                                                     utterance))
        except Exception:
            log.exception("transcript outlet failed")

    def _speaker_of(self, key: int, link_name: str, event: TranscriptEvent,
                    utterance: int) -> int | None:
        """Decided once per utterance, from its final original; its translation follows."""
        assert self._router is not None
        if key != MIXED_LINK:
            return key
        if not event.is_final:
            return None
        known = (link_name, utterance)
        if known in self._utterance_speakers:
            return self._utterance_speakers[known]
        member = self._router.speaker_of(key, event.timestamp)
        self._utterance_speakers[known] = member
        while len(self._utterance_speakers) > _UTTERANCES_REMEMBERED:
            self._utterance_speakers.popitem(last=False)
        return member

    def _link_status(self, key: int, status: LinkStatus) -> None:
        if self._stopping.locked() or self.state is RunState.STOPPED:
            return  # links closing because the run stops are not news
        if status.state is LinkState.FAILED:
            # Reported once, as the member's failure episode, by the router event.
            if self._router is not None and status.error is not None:
                self._router.link_failed(key, status.error)
            return
        if status.state in (LinkState.RECONNECTING, LinkState.ACTIVE, LinkState.CLOSED):
            self._emit(RunStatus(self.channel_id, self.state, status.reason, link=status,
                                 member_id=None if key == MIXED_LINK else key))

    def _router_event(self, event: RouterEvent) -> None:
        member = None if event.key == MIXED_LINK else event.key
        if isinstance(event, LinkCapReached):
            self._emit(RunStatus(
                self.channel_id, self.state, f"link cap of {event.cap} reached",
                member_id=member,
                notice=(f"Only {event.cap} members can be interpreted at once in this "
                        f"channel; <@{event.key}> is not being interpreted. A manager can "
                        "raise the limit with /interpret config.")))
            return
        if not event.first_in_episode:
            return  # one status per failure episode, not one per attempt
        reason = describe_failure(event.error)
        notice = failure_notice(event.error) if event.retry_in is None else None
        self._emit(RunStatus(self.channel_id, self.state, f"link failed: {reason}",
                             member_id=member, notice=notice))

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
        notice = status.notice
        if notice is not None:
            if notice in self._notices:
                status = dataclasses.replace(status, notice=None)
            else:
                self._notices.add(notice)
        if self._on_status is None:
            return
        try:
            self._on_status(status)
        except Exception:
            log.exception("status callback failed")


def failure_notice(error: BaseException) -> str:
    """The channel's one sentence for a failure that retrying cannot fix: what and what to do."""
    if isinstance(error, AuthenticationError):
        return ("Interpretation stopped for now: the translation service refused the bot's "
                "token. The bot's operator must update PINCH_API_TOKEN.")
    if isinstance(error, NotEntitledError):
        return ("Interpretation stopped for now: the translation service account is not "
                "entitled to real-time translation. The bot's operator must check the Pinch "
                "plan, or set PINCH_TRANSPORT to the API the account offers.")
    if isinstance(error, NoCreditsError):
        return ("Interpretation stopped for now: the translation service account has no "
                "credits left. The bot's operator must top it up.")
    if isinstance(error, InvalidLanguageError):
        return ("The translation service does not support this language pair. Choose "
                "another with /interpret me language or /interpret config.")
    if isinstance(error, PinchError):
        return (f"{error.user_message} Change the settings with /interpret config, or ask "
                "the bot's operator.")
    return f"Interpretation failed: {describe_failure(error)}."
