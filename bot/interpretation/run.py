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
it, the link cap leaving someone out, a link dropping audio for a while to keep
its delay bounded), each notice text at most once per run.

Pair mode (``RunConfig.pair``, see :mod:`~bot.interpretation.pair_mode`): each
link has its member's direction. While a member's direction is undecided, their
link records what it is given (:mod:`~bot.interpretation.replay`); when their
first final original says they speak another language than the one their
session assumed, that link is *superseded*: its playback is cut, its remaining
transcripts (the deciding one included) are dropped, and the router re-opens
the member's link in the decided direction with the recording replayed into it,
so their first words are interpreted again, the right way round. The decision
goes out as a :class:`RunStatus` with ``pair`` set (and a ``notice`` when the
member speaks neither language of the pair).

Caption languages (``RunConfig.caption_languages``, then
:meth:`ChannelInterpretation.set_caption_languages`, which the run service calls as
members come and go): every speaker's link gets, besides its interpreted session, one
text-only session per caption language (``audio_output`` off: no speech synthesised,
nothing played), fed the same speech. Their transcripts carry the caption language and
go to that language's thread. A speaker never has more than
``1 + max_caption_languages`` sessions; a caption language in the speaker's own
language gets no session for them (their words are the original). A caption session
that fails is retried after the router's backoff without touching the interpreted one.

Utterance numbers are per member and never reused within a run: each new link
of a member (and each new caption session of theirs, per language) counts on from its
own base (:data:`_UTTERANCE_STRIDE`), so the transcript writer can never pair a
translation from one of a member's sessions with an original from an earlier one.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.interpretation.events import (
    AttributedTranscript,
    MemberPreference,
    PreferenceLookup,
    RunState,
    RunStatus,
    no_preferences,
)
from bot.interpretation.link import (
    InterpreterLink,
    LinkConfig,
    LinkState,
    LinkStatus,
    describe_failure,
)
from bot.interpretation.livekit_transport import LiveKitTransport
from bot.interpretation.pair_mode import (
    Direction,
    Outcome,
    PairConfig,
    PairDecision,
    PairDirections,
    check_pair,
)
from bot.interpretation.replay import SpeechRecording
from bot.interpretation.router import (
    MIXED_LINK,
    LinkCapReached,
    RouterConfig,
    RouterEvent,
    RoutingMode,
    SpeakerRouter,
)
from bot.interpretation.transport import Transport
from bot.languages import native_name, normalize_language, primary_language
from bot.pinch import (
    VOICE_TYPES,
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
from bot.voice.playback import PlaybackInput, PlaybackMixer, PlaybackStats

log = logging.getLogger(__name__)

BEHIND_NOTICE = ("Interpretation is running behind: to keep the translation close to "
                 "what is being said, some audio is being skipped. The bot's operator may "
                 "need to give it more CPU or a faster connection to the translation service.")
"""Told once per run when a link has been dropping audio for a while (its bound held)."""

_UTTERANCES_REMEMBERED = 256
_UTTERANCE_STRIDE = 1_000_000
"""Utterance numbers of a member's n-th link start at n × this (no link says a million)."""
MAX_CAPTION_LANGUAGES = 10
"""The most caption languages a run may be configured with (each a session per speaker)."""


@dataclass(frozen=True, slots=True)
class RunConfig:
    """A run's settings, validated and normalised on construction: language codes
    become the canonical ``ll-RR`` of :mod:`bot.languages` (``UnknownLanguage``, a
    ``ValueError``, otherwise), the voice is lower-cased and checked (``clone`` in
    mixed mode becomes ``female``: one session hears a mixture of voices)."""

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
    drain_timeout_s: float = 4.0
    """On stop, how long links may take to interpret what was already said."""
    pair: PairConfig | None = None
    """Pair mode: ``source_language`` ↔ ``target_language``, each member interpreted
    into the other one (per-speaker routing only; see :mod:`~bot.interpretation.pair_mode`).
    With mixed routing, construction raises
    :class:`~bot.interpretation.pair_mode.PairModeError` (its message is for the user)."""
    caption_languages: tuple[str, ...] = ()
    """Caption languages served from the start (a text-only session per speaker each)."""
    max_caption_languages: int = 3
    """Caption languages served at most at once: a speaker never has more than
    ``1 + max_caption_languages`` sessions (0 to :data:`MAX_CAPTION_LANGUAGES`)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "context", clean_context(self.context))
        object.__setattr__(self, "target_language", normalize_language(self.target_language))
        object.__setattr__(self, "source_language", normalize_language(self.source_language))
        voice = str(self.voice_type).strip().lower()
        if voice not in VOICE_TYPES:
            raise ValueError(f"voice_type must be one of {', '.join(VOICE_TYPES)}")
        if voice == "clone" and self.router.mode is RoutingMode.MIXED:
            voice = "female"  # cloning a mixture of voices is meaningless
        object.__setattr__(self, "voice_type", voice)
        if self.duck_db is not None and self.duck_db > 0:
            raise ValueError("duck_db must be zero or negative (an attenuation)")
        if self.pair is not None:
            check_pair(self.source_language, self.target_language,
                       mixed=self.router.mode is RoutingMode.MIXED)
            if self.pair.replay_ms > self.link.uplink_queue_ms:
                raise ValueError("pair.replay_ms must fit the link's uplink queue")
        if not 0 <= self.max_caption_languages <= MAX_CAPTION_LANGUAGES:
            raise ValueError(f"max_caption_languages must be between 0 and "
                             f"{MAX_CAPTION_LANGUAGES}")
        captions = tuple(dict.fromkeys(normalize_language(c) for c in self.caption_languages))
        if len(captions) > self.max_caption_languages:
            raise ValueError("more caption languages than max_caption_languages")
        object.__setattr__(self, "caption_languages", captions)


def _discard_audio(pcm: bytes) -> None:
    """Translated speech of a run with ``play_audio`` off (only LiveKit sends it anyway)."""


MemberSettingsOutcome = Literal["updated", "reopened", "no_link"]
"""What :meth:`ChannelInterpretation.apply_member_settings` did."""


def _no_caption(caption: _CaptionLink) -> None:
    """Until the run wires a link: nothing to start."""


def _nothing() -> None:
    """Until the run wires a link: nothing to open."""


class _CaptionLink:
    """A text-only session of one member's speech into one caption language."""

    def __init__(self, language: str, number_base: int) -> None:
        self.language = language
        self.number_base = number_base
        self.link: InterpreterLink  # set by the run right after construction


class _PlaybackLink:
    """A router link: one InterpreterLink plus the playback input it feeds, its
    direction, (pair mode, while undecided) a recording of what it was given, and the
    member's text-only caption sessions, which hear the same speech."""

    def __init__(self, key: int, playback: PlaybackInput, direction: Direction,
                 number_base: int, recording: SpeechRecording | None) -> None:
        self.key = key
        self.playback = playback
        self.direction = direction
        self.number_base = number_base
        self.recording = recording
        self.superseded = False
        """Pair mode: replaced by a link in the right direction; nothing more from it."""
        self.link: InterpreterLink  # set by the run right after construction
        self.captions: dict[str, _CaptionLink] = {}
        """Caption language → its session (opened, or opening)."""
        self.caption_failures: dict[str, tuple[int, float | None]] = {}
        """Caption language → (failed starts, monotonic time a retry is due; ``None``:
        not until the caption languages change)."""
        self.retry_due: float | None = None
        """The earliest caption retry due (checked as frames come in)."""
        self.started = False
        self.closed = False
        self.tasks: set[asyncio.Task[None]] = set()
        """Caption sessions starting or closing."""
        self.start_caption: Callable[[_CaptionLink], None] = _no_caption
        self.resync: Callable[[], None] = _nothing
        """Set by the run: start a caption session; open the captions now due."""

    def push_frame(self, pcm_48k_stereo: bytes) -> None:
        if self.recording is not None:
            self.recording.frame(pcm_48k_stereo)
        self.link.push_frame(pcm_48k_stereo)
        for caption in self.captions.values():
            caption.link.push_frame(pcm_48k_stereo)
        if self.retry_due is not None and time.monotonic() >= self.retry_due:
            self.retry_due = None
            self.resync()

    def end_of_speech(self, pad_ms: float = 0.0) -> None:
        if self.recording is not None:
            self.recording.end(pad_ms)
        self.link.end_of_speech(pad_ms)
        for caption in self.captions.values():
            caption.link.end_of_speech(pad_ms)

    def spawn(self, work: Any, name: str) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(work, name=name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def start(self) -> None:
        self.started = True
        for caption in self.captions.values():
            self.start_caption(caption)  # in the background: never fails the link
        await self.link.start()

    async def drain(self, timeout: float) -> None:  # noqa: ASYNC109
        await asyncio.gather(self.link.drain(timeout),
                             *(c.link.drain(timeout) for c in self.captions.values()),
                             return_exceptions=True)

    async def aclose(self) -> None:
        self.closed = True
        captions, self.captions = list(self.captions.values()), {}
        try:
            # Closing ones finish their close; starting ones are closed with the others.
            await asyncio.gather(*list(self.tasks), *(c.link.aclose() for c in captions),
                                 return_exceptions=True)
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
        run_id: str = "",
    ) -> None:
        self.channel_id = channel_id
        self.run_id = run_id
        """Stamped on every transcript and status, so nothing keyed by the channel
        can mix this run's events with another run's in the same channel."""
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
        self.started_at: float | None = None
        """``time.monotonic()`` when the run started receiving."""
        self._on_fatal = on_fatal
        self._self_stop: asyncio.Task[None] | None = None
        self._settings_tasks: set[asyncio.Task[MemberSettingsOutcome]] = set()
        self._notices: set[str] = set()
        self._pair = (PairDirections(config.source_language, config.target_language)
                      if config.pair is not None else None)
        self._links_made: collections.Counter[int] = collections.Counter()
        self._captions_made: collections.Counter[tuple[int, str]] = collections.Counter()
        self._caption_languages = config.caption_languages
        self.superseded_events = 0
        """Pair mode: transcripts dropped from links replaced by a reversed one."""
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

    def interpreter_links(self) -> dict[int, InterpreterLink]:
        """Router key (member id, or 0 for the mix) → its link, for status snapshots."""
        if self._router is None:
            return {}
        return {key: link.link for key, link in self._router.links.items()
                if isinstance(link, _PlaybackLink)}

    def caption_links(self) -> dict[int, dict[str, InterpreterLink]]:
        """Router key → caption language → its text-only session (open or opening)."""
        if self._router is None:
            return {}
        return {key: {lang: c.link for lang, c in link.captions.items()}
                for key, link in self._router.links.items() if isinstance(link, _PlaybackLink)}

    @property
    def caption_languages(self) -> tuple[str, ...]:
        """The caption languages served now (each a text-only session per speaker)."""
        return self._caption_languages

    def set_caption_languages(self, languages: Iterable[str]) -> None:
        """Serve these caption languages from now on: every live speaker's sessions into
        a language no longer served are drained and closed, new ones are opened (and
        every speaker's next link has them). At most ``max_caption_languages`` are
        taken, in the order given."""
        wanted = tuple(dict.fromkeys(normalize_language(c) for c in languages))
        cap = self.config.max_caption_languages
        if len(wanted) > cap:
            log.warning("channel %d: %d caption languages asked, %d served (the cap)",
                        self.channel_id, len(wanted), cap)
            wanted = wanted[:cap]
        if wanted == self._caption_languages:
            return
        self._caption_languages = wanted
        log.info("channel %d: caption languages now %s", self.channel_id,
                 ", ".join(wanted) or "none")
        if self._router is None or self.state is RunState.STOPPED:
            return
        for entry in self._router.links.values():
            if isinstance(entry, _PlaybackLink):
                entry.caption_failures.clear()  # a new set of languages: try again
                self._sync_captions(entry)

    def playback_stats(self) -> PlaybackStats | None:
        """The playback mixer's counters and open inputs (one per live link)."""
        return self._mixer.stats() if self._mixer is not None else None
    def pair_decisions(self) -> Mapping[int, PairDecision]:
        """Pair mode: members whose direction was detected (kept for the run), else empty."""
        return self._pair.decisions if self._pair is not None else {}

    def direction_of(self, member_id: int) -> Direction | None:
        """Pair mode: the direction of the member's next session (``None`` otherwise)."""
        if self._pair is None:
            return None
        return self._pair.direction_for(member_id,
                                        self._preferences(member_id).source_language)

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
                                        backlog_ms=self.config.link.live_backlog_ms,
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
        self.started_at = time.monotonic()
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
                    # Nothing new comes in; what was said before the stop is still told.
                    await self._router.drain(self.config.drain_timeout_s)
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
        new settings anyway (and a failure that blocked them is forgotten). In pair mode
        a new language may turn the member's direction round: always re-opened there."""
        router = self._router
        if router is None or self.state is RunState.STOPPED:
            return "no_link"
        entry = router.links.get(member_id)
        if not isinstance(entry, _PlaybackLink):
            router.reopen(member_id)
            return "no_link"
        pref = self._preferences(member_id)
        if self._pair is None and not pref.opted_out:
            direction = Direction(pref.source_language or self.config.source_language,
                                  self.config.target_language)
            options = self._session_options(pref, direction)
            if await entry.link.update_options(options) and all([
                    await c.link.update_options(dataclasses.replace(
                        options, target_language=c.language, audio_output=False))
                    for c in list(entry.captions.values())]):
                entry.direction = direction
                self._sync_captions(entry)  # their language may now be a caption's
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

    def _session_options(self, pref: MemberPreference, direction: Direction) -> SessionOptions:
        voice_type = pref.voice_type or self.config.voice_type
        if self.config.router.mode is RoutingMode.MIXED and voice_type == "clone":
            # Cloning a mixture of voices is meaningless.
            voice_type = "female"
        return SessionOptions(
            source_language=direction.source,
            target_language=direction.target,
            voice_type=voice_type,
            audio_output=self.config.play_audio,
            context=self.config.context,
        )

    def _make_link(self, key: int) -> _PlaybackLink:
        assert self._mixer is not None
        pref = self._preferences(key) if key != MIXED_LINK else MemberPreference()
        direction, recording = self._direction_for(key, pref)
        name = "mixed" if key == MIXED_LINK else f"member-{key}"
        playback = self._mixer.open_input(f"{name}-{time.monotonic_ns()}")
        made = self._links_made[key]
        self._links_made[key] += 1
        wrapper = _PlaybackLink(key, playback, direction, made * _UTTERANCE_STRIDE, recording)
        wrapper.link = InterpreterLink(
            name,
            self._transport,
            self._session_options(pref, direction),
            on_transcript=lambda event, utterance: self._transcript(wrapper, name, event,
                                                                    utterance),
            on_audio=playback.push if self.config.play_audio else _discard_audio,
            on_audio_paused=playback.pause if self.config.play_audio else None,
            on_status=lambda status: self._link_status(key, status),
            config=self.config.link,
            on_behind=lambda: self._link_behind(key),
        )
        wrapper.start_caption = lambda caption: self._start_caption(wrapper, caption)
        wrapper.resync = lambda: self._sync_captions(wrapper)
        self._sync_captions(wrapper)
        return wrapper

    # -- caption sessions ----------------------------------------------------------

    def _caption_targets(self, entry: _PlaybackLink) -> list[str]:
        """The caption languages ``entry``'s member gets a session for: not the language
        their link interprets into, nor their own (their words are the original)."""
        spoken = primary_language(entry.direction.source)
        return [lang for lang in self._caption_languages
                if lang != entry.direction.target and primary_language(lang) != spoken]

    def _sync_captions(self, entry: _PlaybackLink) -> None:
        """Open and close ``entry``'s caption sessions to match the languages served."""
        if entry.closed or entry.superseded or self._stopping.locked() or \
                self.state is RunState.STOPPED:
            return
        wanted = self._caption_targets(entry)
        for language in [lang for lang in entry.captions if lang not in wanted]:
            caption = entry.captions.pop(language)
            # What was said is still captioned, then the session ends.
            entry.spawn(self._close_caption(caption), f"run:{self.channel_id}:caption-close")
        now = time.monotonic()
        for language in wanted:
            if language in entry.captions:
                continue
            failures = entry.caption_failures.get(language)
            if failures is not None:
                retry_at = failures[1]
                if retry_at is None:
                    continue
                if now < retry_at:
                    entry.retry_due = min(entry.retry_due or retry_at, retry_at)
                    continue
            caption = self._make_caption(entry, language)
            entry.captions[language] = caption
            if entry.started:
                self._start_caption(entry, caption)

    def _make_caption(self, entry: _PlaybackLink, language: str) -> _CaptionLink:
        key = entry.key
        made = self._captions_made[(key, language)]
        self._captions_made[(key, language)] += 1
        caption = _CaptionLink(language, made * _UTTERANCE_STRIDE)
        base = "mixed" if key == MIXED_LINK else f"member-{key}"
        name = f"{base}-{language}"
        options = dataclasses.replace(
            self._session_options(self._preferences(key) if key != MIXED_LINK
                                  else MemberPreference(), entry.direction),
            target_language=language, audio_output=False)
        caption.link = InterpreterLink(
            name, self._transport, options,
            on_transcript=lambda event, utterance: self._caption_transcript(
                entry, caption, name, event, utterance),
            on_audio=_discard_audio,
            on_status=lambda status: self._caption_status(entry, caption, status),
            config=self.config.link,
        )
        return caption

    def _start_caption(self, entry: _PlaybackLink, caption: _CaptionLink) -> None:
        entry.spawn(self._run_caption_start(entry, caption),
                    f"run:{self.channel_id}:caption-start")

    async def _run_caption_start(self, entry: _PlaybackLink, caption: _CaptionLink) -> None:
        try:
            await caption.link.start()
        except Exception as exc:
            self._caption_failed(entry, caption, exc, retryable=getattr(exc, "retryable", True))
        else:
            entry.caption_failures.pop(caption.language, None)

    async def _close_caption(self, caption: _CaptionLink) -> None:
        try:
            await caption.link.drain(self.config.drain_timeout_s)
        finally:
            await caption.link.aclose()

    def _caption_failed(self, entry: _PlaybackLink, caption: _CaptionLink,
                        error: BaseException, *, retryable: bool) -> None:
        """A caption session failed to start (or for good): the member's interpreted
        session goes on; this language is retried after the router's backoff, or (a
        failure retrying cannot fix) not until the caption languages change."""
        language = caption.language
        if entry.captions.get(language) is caption:
            del entry.captions[language]
            entry.spawn(caption.link.aclose(), f"run:{self.channel_id}:caption-close")
        if entry.closed or self._stopping.locked() or self.state is RunState.STOPPED:
            return
        count = entry.caption_failures.get(language, (0, None))[0] + 1
        retry_at: float | None = None
        if retryable:
            retry_at = time.monotonic() + self.config.router.retry_delay(count)
            entry.retry_due = min(entry.retry_due or retry_at, retry_at)
        entry.caption_failures[language] = (count, retry_at)
        reason = describe_failure(error)
        log.warning("channel %d: caption session %s failed (attempt %d, %s): %s",
                    self.channel_id, caption.link.name, count,
                    "retried" if retryable else "no retry", reason)
        if count == 1:
            member = None if entry.key == MIXED_LINK else entry.key
            why = error.user_message if isinstance(error, PinchError) else reason
            notice = None if retryable else (
                f"Captions in {native_name(language)} ({language}) could not be opened: "
                f"{why.rstrip('.')}.")
            self._emit(RunStatus(self.channel_id, self.state,
                                 f"caption {language} failed: {reason}", member_id=member,
                                 notice=notice))

    def _caption_status(self, entry: _PlaybackLink, caption: _CaptionLink,
                        status: LinkStatus) -> None:
        if self._stopping.locked() or self.state is RunState.STOPPED:
            return
        if status.state is LinkState.FAILED and status.error is not None:
            self._caption_failed(entry, caption, status.error, retryable=False)
            return
        if status.state in (LinkState.RECONNECTING, LinkState.ACTIVE):
            self._emit(RunStatus(self.channel_id, self.state, status.reason, link=status,
                                 member_id=None if entry.key == MIXED_LINK else entry.key))

    def _caption_transcript(self, entry: _PlaybackLink, caption: _CaptionLink,
                            link_name: str, event: TranscriptEvent, utterance: int) -> None:
        if entry.superseded:
            self.superseded_events += 1
            return
        number = caption.number_base + utterance
        member = self._speaker_of(entry.key, link_name, event, number)
        direction = (Direction(entry.direction.source, caption.language)
                     if self._pair is not None else None)
        try:
            self._on_transcript(AttributedTranscript(
                self.channel_id, member, event, link_name, number, direction, self.run_id,
                caption_language=caption.language))
        except Exception:
            log.exception("transcript outlet failed")

    def _direction_for(self, key: int,
                       pref: MemberPreference) -> tuple[Direction, SpeechRecording | None]:
        """The member's direction now, and a recording if detection may still change it."""
        if self._pair is None or key == MIXED_LINK:
            return Direction(pref.source_language or self.config.source_language,
                             self.config.target_language), None
        preferred = pref.source_language
        direction = self._pair.direction_for(key, preferred)
        if preferred and self._pair.outcome_of(preferred) is Outcome.OTHER:
            notice = self._pair.other_language_notice(key, preferred)
            if notice not in self._notices:  # said once, not at every link of theirs
                self._emit(RunStatus(self.channel_id, self.state,
                                     f"pair: member {key} speaks {preferred}: {direction}",
                                     member_id=key, notice=notice))
        assert self.config.pair is not None
        recording = (SpeechRecording(self.config.pair.replay_ms)
                     if self._pair.undecided(key, preferred) else None)
        return direction, recording

    def _transcript(self, link: _PlaybackLink, link_name: str, event: TranscriptEvent,
                    utterance: int) -> None:
        assert self._router is not None
        if link.recording is not None and event.kind == "original" and event.is_final:
            self._detect(link, event)
        if link.superseded:
            self.superseded_events += 1
            return
        number = link.number_base + utterance
        member = self._speaker_of(link.key, link_name, event, number)
        direction = link.direction if self._pair is not None else None
        try:
            self._on_transcript(AttributedTranscript(self.channel_id, member, event, link_name,
                                                     number, direction, self.run_id))
        except Exception:
            log.exception("transcript outlet failed")

    def _detect(self, link: _PlaybackLink, event: TranscriptEvent) -> None:
        """Pair mode: a final original of an undecided member may decide their direction."""
        assert self._pair is not None
        assert self._router is not None
        key = link.key
        if self._router.links.get(key) is not link or self._stopping.locked():
            return  # a link on its way out decides nothing
        if self._preferences(key).source_language:
            link.recording = None  # they set a language meanwhile: it wins, not detection
            return
        decision = self._pair.observe(key, event.language_detected)
        if decision is None:
            return
        assert link.recording is not None
        replay = link.recording.take()
        link.recording = None
        if decision.direction != link.direction:
            link.superseded = True
            link.playback.close(drain=False)  # its translation is into the wrong language
            self._router.reopen(key, replay)
            log.info("pair: member %d speaks %s: re-opened %s (%.1f s replayed, %d frames "
                     "too old)", key, decision.detected, decision.direction,
                     replay.duration_ms / 1000, replay.dropped)
        notice = (self._pair.other_language_notice(key, decision.detected)
                  if decision.outcome is Outcome.OTHER else None)
        self._emit(RunStatus(
            self.channel_id, self.state,
            f"pair: member {key} speaks {decision.detected}: {decision.direction}",
            member_id=key, notice=notice, pair=decision))

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

    def _link_behind(self, key: int) -> None:
        """A link has been dropping audio for a while to keep its delay bounded."""
        if self._stopping.locked() or self.state is RunState.STOPPED:
            return
        self._emit(RunStatus(self.channel_id, self.state, "behind: dropping audio",
                             member_id=None if key == MIXED_LINK else key,
                             notice=BEHIND_NOTICE))

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
        if status.run_id != self.run_id:
            status = dataclasses.replace(status, run_id=self.run_id)
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
