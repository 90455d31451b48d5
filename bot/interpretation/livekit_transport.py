"""The LiveKit transport: a Pinch session is a LiveKit room we join as one participant.

Session: ``POST /api/beta1/session`` (:class:`~bot.pinch.PinchClient`) hands out the
room's URL and a JWT whose ``exp`` the link watches (``expires_in``).

Connection: join with :func:`~bot.interpretation.livekit_room.connect_room` (which
never abandons ``Room.connect`` halfway), publish a microphone track at the link's
publish rate, subscribe to the interpreter's translated audio (identity
``translation-agent``, track ``translated-audio`` preferred, any audio track after a
grace time) and read its data packets as transcripts. The session is interpreted
once the interpreter's audio is there *and* it has subscribed to our microphone.
It ends when the room disconnects or the interpreter leaves.

Rest: a room joined costs CPU while nobody speaks: WebRTC decodes the interpreter's
silence and hands it over 50 times a second, and encodes and sends our microphone's
silence (its audio source fills every 10 ms without a capture). After
``LinkConfig.rest_after_s`` with no speech sent and nothing audible heard, the link
rests: it stops receiving the translated track (unsubscribed, its stream closed) and
unpublishes its microphone. The next frame to send wakes it: the microphone is
published again and the frame waits until the interpreter has subscribed to it (so
nothing of the utterance is lost before Pinch listens), and the translated track is
subscribed again. A translated transcript heard while resting re-subscribes the
translated track too. The session stays ACTIVE throughout.

Text only: the LiveKit API has no such option, so the translated track is still
awaited (it says the interpreter is there) but never played: no ``AudioStream`` is
opened for it and no WebRTC audio is decoded for the mixer.

Every room event handler is tiny (the SDK runs them one at a time and refuses
coroutines): anything longer is a task in the session's scope.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final

import numpy as np
from livekit import rtc

from bot.audio.frames import CHANNELS, FRAME_MS, SAMPLE_RATE
from bot.interpretation.livekit_room import connect_room, leave_room
from bot.interpretation.transport import (
    SessionScope,
    SessionSink,
    TransportFailure,
    describe_failure,
)
from bot.pinch import PinchClient, PinchSession
from bot.pinch.options import SessionOptions
from bot.pinch.transcripts import LIVEKIT_FIELDS
from bot.secrets import Secret

if TYPE_CHECKING:
    from bot.interpretation.link_config import LinkConfig

log = logging.getLogger(__name__)

AGENT_IDENTITY = "translation-agent"
TRANSLATED_TRACK_NAME = "translated-audio"
PLAYBACK_RATE = SAMPLE_RATE
PLAYBACK_CHANNELS = CHANNELS

REST_CHECK_S: Final = 0.5
"""How often a link looks whether it has been quiet long enough to rest."""
AUDIBLE_PEAK: Final = 64
"""A translated frame whose peak is above this (−54 dBFS) counts as heard speech
(decoded silence is not always exactly zero)."""
AUDIBLE_CHECK_EVERY: Final = 10
"""Frames between two looks at the translated audio's level: the rest clock needs
seconds, not 20 ms, of resolution, and the look costs numpy calls per frame."""

SessionFactory = Callable[[SessionOptions], Awaitable[PinchSession]]
RoomFactory = Callable[[], rtc.Room]


class LiveKitCredentials:
    """A :class:`~bot.pinch.PinchSession` seen through the transport seam."""

    def __init__(self, session: PinchSession) -> None:
        self.session = session

    @property
    def label(self) -> str:
        return self.session.room_name

    @property
    def secret(self) -> Secret:
        return self.session.token

    def expires_in(self) -> float | None:
        return self.session.seconds_left()

    def describe(self) -> str:
        return f"room {self.session.room_name}"


class LiveKitTransport:
    """Pinch's LiveKit API (PROTOCOLS.md §1). ``aclose`` closes nothing it was given."""

    name = "livekit"
    trailing_silence_ms = 0.0
    """The router already sends the pause the LiveKit interpreter needs (its hangover)."""
    transcript_fields = LIVEKIT_FIELDS

    def __init__(self, pinch: PinchClient | SessionFactory, *,
                 room_factory: RoomFactory = rtc.Room) -> None:
        if isinstance(pinch, PinchClient):
            client = pinch

            async def create(options: SessionOptions) -> PinchSession:
                return await client.create_session(options.source_language,
                                                   options.target_language, options.voice_type)

            self._create: SessionFactory = create
        else:
            self._create = pinch
        self._room_factory = room_factory

    def check(self, config: LinkConfig) -> None:
        """Both publish rates (16 and 48 kHz) are carried."""

    async def create(self, options: SessionOptions) -> LiveKitCredentials:
        return LiveKitCredentials(await self._create(options))

    def connection(self, credentials: LiveKitCredentials, options: SessionOptions,
                   scope: SessionScope, sink: SessionSink,
                   config: LinkConfig) -> LiveKitConnection:
        return LiveKitConnection(credentials.session, options, scope, sink, config,
                                 self._room_factory())

    async def aclose(self) -> None:
        """Nothing to close: the Pinch client belongs to whoever made it."""


class LiveKitConnection:
    """One room joined for one session (see the module docstring)."""

    def __init__(self, session: PinchSession, options: SessionOptions, scope: SessionScope,
                 sink: SessionSink, config: LinkConfig, room: rtc.Room) -> None:
        self._session = session
        self._options = options
        self._scope = scope
        self._sink = sink
        self._config = config
        self._room = room
        self._source: rtc.AudioSource | None = None
        self._samples = config.publish_rate * config.capture_ms // 1000
        self.interpreted = asyncio.Event()
        self._hearing_us = False
        self._playing = False
        self._playing_track: str | None = None
        self._player: asyncio.Task[None] | None = None
        self._translated: rtc.RemoteTrackPublication | None = None
        self._translated_on = options.audio_output
        """We want the translated track (auto-subscribed at join; off while resting, and
        always off for a text-only link, whose rest then has nothing to come back for)."""
        self._track: rtc.LocalAudioTrack | None = None
        self._mic_heard = asyncio.Event()
        """The interpreter subscribed to our microphone (cleared while resting)."""
        self._last_active = time.monotonic()
        self._resting = False
        self._rest_lock = asyncio.Lock()
        self.rests = 0
        """Times the link rested (see the module docstring)."""

    @property
    def resting(self) -> bool:
        return self._resting

    @property
    def room_name(self) -> str:
        return self._session.room_name

    def missing(self) -> str:
        if not self._playing:
            return "the interpreter did not join"
        return "the interpreter did not subscribe to our audio"

    async def open(self) -> None:
        room, scope = self._room, self._scope
        room.on("disconnected", lambda reason: scope.end(f"livekit disconnected ({reason})"))
        room.on("data_received", self._on_data)
        room.on("track_subscribed", self._on_track)
        room.on("local_track_subscribed", self._on_local_subscribed)
        room.on("participant_disconnected",
                lambda p: scope.end("interpreter left") if p.identity == AGENT_IDENTITY else None)
        config = self._config
        try:
            await connect_room(room, self._session.url, self._session.token.reveal(),
                               timeout=config.connect_timeout_s)
            await self._publish_microphone()
        except TimeoutError as exc:
            raise TransportFailure("livekit: timed out") from exc
        except rtc.ConnectError as exc:
            raise TransportFailure("livekit: could not connect") from exc
        except Exception as exc:
            raise TransportFailure(f"livekit: {describe_failure(exc)}") from exc
        self._last_active = time.monotonic()
        if config.rest_after_s > 0:
            scope.spawn(self._rest_when_quiet(), "rest")

    async def send(self, frame: bytes) -> None:
        rate = self._config.publish_rate
        self._last_active = time.monotonic()
        if self._resting:
            await self._wake()
        assert self._source is not None
        try:
            # capture_frame waits until the frame fits LiveKit's queue: real-time pace.
            await self._source.capture_frame(rtc.AudioFrame(frame, rate, 1, self._samples))
        except Exception as exc:
            raise TransportFailure(f"livekit: {describe_failure(exc)}") from exc

    async def update(self, options: SessionOptions) -> bool:
        """The LiveKit API cannot change a session's languages or voice: a new one it is."""
        return False

    async def aclose(self) -> None:
        await leave_room(self._room)

    # -- rest ------------------------------------------------------------------------

    async def _publish_microphone(self) -> None:
        if self._source is None:
            config = self._config
            self._source = rtc.AudioSource(config.publish_rate, 1,
                                           queue_size_ms=max(100, 2 * config.capture_ms))
        track = rtc.LocalAudioTrack.create_audio_track("microphone", self._source)
        async with asyncio.timeout(self._config.connect_timeout_s):
            await self._room.local_participant.publish_track(
                track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE))
        self._track = track

    async def _rest_when_quiet(self) -> None:
        while True:
            await asyncio.sleep(REST_CHECK_S)
            # Resting, the translated track may have come back for a transcript: it goes
            # again once that has been quiet as long.
            if (self.interpreted.is_set() and self._quiet()
                    and (not self._resting or self._translated_on)):
                await self._rest()

    def _quiet(self) -> bool:
        return time.monotonic() - self._last_active >= self._config.rest_after_s

    async def _rest(self) -> None:
        async with self._rest_lock:
            if not self._quiet():
                return
            self._stop_translated()
            if self._resting:
                return
            self._resting = True
            self.rests += 1
            log.debug("link %s rests (quiet for %.0f s)", self._scope.link_name,
                      self._config.rest_after_s)
            track, self._track = self._track, None
            source, self._source = self._source, None
            self._mic_heard.clear()
            try:
                async with asyncio.timeout(self._config.connect_timeout_s):
                    if track is not None:
                        await self._room.local_participant.unpublish_track(track.sid)
                    if source is not None:
                        # Its capture thread keeps feeding silence to nobody otherwise.
                        source.clear_queue()
                        await source.aclose()
            except TimeoutError as exc:
                raise TransportFailure("livekit: unpublishing timed out") from exc

    async def _wake(self) -> None:
        async with self._rest_lock:
            if not self._resting:
                return
            started = time.monotonic()
            self._start_translated()
            try:
                await self._publish_microphone()
                # Audio sent before the interpreter listens again would be lost.
                async with asyncio.timeout(self._config.interpreter_join_timeout_s):
                    await self._mic_heard.wait()
            except TimeoutError as exc:
                raise TransportFailure(
                    "livekit: the interpreter did not listen again after a rest") from exc
            self._resting = False
            self._last_active = time.monotonic()
            log.debug("link %s woke in %.0f ms", self._scope.link_name,
                      (self._last_active - started) * 1000)

    def _stop_translated(self) -> None:
        publication, player = self._translated, self._player
        self._player = None
        self._playing_track = None
        if publication is not None and self._translated_on:  # never on for text only
            self._translated_on = False
            publication.set_subscribed(False)
        if player is not None:
            player.cancel()  # its stream would wait for frames that no longer come

    def _start_translated(self) -> None:
        publication = self._translated
        if publication is not None and self._options.audio_output and not self._translated_on:
            self._translated_on = True
            publication.set_subscribed(True)

    # -- room events: tiny, they run one at a time on the SDK's dispatcher ------------

    def _on_local_subscribed(self, _track: rtc.Track) -> None:
        self._hearing_us = True
        self._mic_heard.set()
        self._update()

    def _update(self) -> None:
        if self._hearing_us and self._playing:
            self.interpreted.set()

    def _on_track(self, track: rtc.Track, publication: rtc.RemoteTrackPublication,
                  participant: rtc.RemoteParticipant) -> None:
        if track.kind != rtc.TrackKind.KIND_AUDIO:
            return
        preferred = (participant.identity == AGENT_IDENTITY
                     and publication.name == TRANSLATED_TRACK_NAME)
        delay = 0.0 if preferred else self._config.agent_track_grace_s
        self._scope.spawn(self._play_track(track, publication, delay), "playback",
                          may_return=True)

    def _on_data(self, packet: rtc.DataPacket) -> None:
        if packet.participant is not None and packet.participant.identity != AGENT_IDENTITY:
            return
        event = self._sink.parser.parse(packet.data)
        if event is not None:
            self._last_active = time.monotonic()
            if self._resting:
                self._start_translated()  # its speech may follow
            self._sink.transcript(event)

    async def _play_track(self, track: rtc.Track, publication: rtc.RemoteTrackPublication,
                          delay: float) -> None:
        # A non-preferred track plays only if nothing better shows up within the grace time.
        if delay:
            await asyncio.sleep(delay)
        if self._playing_track is not None:
            return
        self._playing = True
        self._translated = publication
        self._update()
        if not self._options.audio_output:
            # Text only: the interpreter is there; its speech is not wanted, nor decoded.
            publication.set_subscribed(False)
            return
        self._playing_track = track.sid
        self._player = asyncio.current_task()
        capacity = max(1, self._config.playback_queue_ms // FRAME_MS)
        stream = rtc.AudioStream(track, sample_rate=PLAYBACK_RATE, num_channels=PLAYBACK_CHANNELS,
                                 frame_size_ms=FRAME_MS, capacity=capacity)
        frames = 0
        try:
            async for event in stream:
                pcm = bytes(event.frame.data)
                frames += 1
                if (frames % AUDIBLE_CHECK_EVERY == 0
                        and np.abs(np.frombuffer(pcm, np.int16)).max() > AUDIBLE_PEAK):
                    self._last_active = time.monotonic()
                self._sink.audio(pcm)
        finally:
            if self._player is asyncio.current_task():
                self._player = None
                self._playing_track = None
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5):
                    await stream.aclose()
