"""Speaker routing: decides which member audio goes to which interpreter link.

Input: 20 ms 48 kHz stereo frames per member from the receive layer, on the
event loop. Output: frames pushed into :class:`~bot.interpretation.link.InterpreterLink`\\ s.

- ``per-speaker``: one link per member, opened on first speech, closed after
  ``idle_timeout_s`` without speech, at most ``max_links`` at once. Transcripts
  belong to the link's member.
- ``mixed``: one link; a 20 ms clock mixes the members' latest frames
  sample-aligned (summed and clipped, never interleaved) and forwards the mix;
  transcripts are attributed from the :class:`SpeakingTimeline`.

Never forwarded, and counted by reason: excluded members (bots, the bot itself,
opted-out members), silence past the gate's hangover (Pinch bills for audio
time), frames beyond the link cap.

The end of an utterance is always sent in-band: Pinch's segmenter ends a segment
after ~500 ms of pause *in the audio*, and a Discord client simply stops sending
(DTX) when its member stops talking. So when the receive layer reports the end
of speech, the router asks the link to pad with silence up to the hangover (sent
only while nothing else waits); in mixed mode the clock keeps forwarding silence
for the hangover after the last voice.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.audio.frames import pcm_to_samples, samples_to_pcm
from bot.audio.levels import dbfs
from bot.audio.mix import mix
from bot.interpretation.attribution import SpeakingTimeline

log = logging.getLogger(__name__)

FRAME_S = 0.02
MIXED_LINK = 0
"""Key of the single link in mixed mode (no Discord member has id 0)."""


class RoutingMode(enum.Enum):
    PER_SPEAKER = "per-speaker"
    MIXED = "mixed"


@dataclass(frozen=True, slots=True)
class RouterConfig:
    mode: RoutingMode = RoutingMode.PER_SPEAKER
    max_links: int = 8
    """Per channel: each link is a billed Pinch session and ~0.3 ms CPU per frame."""
    idle_timeout_s: float = 60.0
    gate_threshold_dbfs: float = -45.0
    hangover_ms: float = 700.0
    """Longer than Pinch's ~500 ms end-of-segment pause, so the pause is sent in-band."""
    mixed_queue_frames: int = 5
    """Frames kept per member between mixer ticks (100 ms); older are dropped."""

    def __post_init__(self) -> None:
        # Accept the mode's value ("mixed") as stored in settings; refuse nonsense early.
        if not isinstance(self.mode, RoutingMode):
            try:
                object.__setattr__(self, "mode", RoutingMode(str(self.mode).strip().lower()))
            except ValueError:
                modes = ", ".join(m.value for m in RoutingMode)
                raise ValueError(f"mode must be one of {modes}") from None
        if self.max_links < 1:
            raise ValueError("max_links must be at least 1")
        if self.idle_timeout_s <= 0:
            raise ValueError("idle_timeout_s must be positive")
        if self.hangover_ms < 0:
            raise ValueError("hangover_ms must not be negative")
        if self.mixed_queue_frames < 1:
            raise ValueError("mixed_queue_frames must be at least 1")

    @property
    def hangover_frames(self) -> int:
        return round(self.hangover_ms / (FRAME_S * 1000))


SILENT_FRAME = bytes(3840)


@dataclass(slots=True)
class _Speaker:
    """Gate state of one member: frames of quiet forwarded since the last voice."""

    quiet_frames: int | None = None  # None: gate closed (not speaking)


class Link(Protocol):
    """What the router needs of a link (an :class:`InterpreterLink` in production)."""

    def push_frame(self, pcm_48k_stereo: bytes) -> None: ...
    def end_of_speech(self, pad_ms: float = 0.0) -> None: ...
    async def start(self) -> None: ...
    async def aclose(self) -> None: ...


LinkFactory = Callable[[int], Link]
"""Makes the link for a member id (or :data:`MIXED_LINK`)."""


class SpeakerRouter:
    def __init__(
        self,
        config: RouterConfig,
        make_link: LinkFactory,
        *,
        is_excluded: Callable[[int], bool],
        on_link_failed: Callable[[int, BaseException], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.timeline = SpeakingTimeline()
        self.dropped: collections.Counter[str] = collections.Counter()
        self.forwarded_frames = 0
        self._make_link = make_link
        self._is_excluded = is_excluded
        self._on_link_failed = on_link_failed
        self._clock = clock
        self._links: dict[int, Link] = {}
        self._last_speech: dict[int, float] = {}
        self._speakers: dict[int, _Speaker] = {}
        self._mix_quiet_frames: int | None = None
        self._starting: dict[int, asyncio.Task[None]] = {}
        self._pending_mix: dict[int, collections.deque[bytes]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._reap_idle(), name="router:reaper"))
        if self.config.mode is RoutingMode.MIXED:
            self._tasks.append(asyncio.create_task(self._mix_clock(), name="router:mixer"))

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        for task in [*self._tasks, *self._starting.values()]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._starting.values(), return_exceptions=True)
        links, self._links = list(self._links.values()), {}
        await asyncio.gather(*(link.aclose() for link in links), return_exceptions=True)

    @property
    def links(self) -> dict[int, Link]:
        return dict(self._links)

    # -- input ---------------------------------------------------------------------

    def on_frame(self, member_id: int, pcm_48k_stereo: bytes) -> None:
        """One member's 20 ms frame. Cheap; called on the event loop per frame."""
        if self._closed:
            return
        if self._is_excluded(member_id):
            self.dropped["excluded"] += 1
            return
        speaker = self._speakers.setdefault(member_id, _Speaker())
        if dbfs(pcm_to_samples(pcm_48k_stereo)) >= self.config.gate_threshold_dbfs:
            speaker.quiet_frames = 0
        elif speaker.quiet_frames is None:
            self.dropped["silence"] += 1
            return
        elif speaker.quiet_frames >= self.config.hangover_frames:
            self.dropped["silence"] += 1
            self._end_speech(member_id, speaker, pad=False)
            return
        else:
            speaker.quiet_frames += 1
        now = self._clock()
        self._last_speech[member_id] = now
        self.timeline.speech(member_id, now, FRAME_S)
        if self.config.mode is RoutingMode.MIXED:
            queue = self._pending_mix.setdefault(
                member_id, collections.deque(maxlen=self.config.mixed_queue_frames))
            if len(queue) == queue.maxlen:
                self.dropped["mix_overrun"] += 1
            queue.append(pcm_48k_stereo)
            return
        link = self._link_for(member_id)
        if link is None:
            self.dropped["link_cap"] += 1
            return
        link.push_frame(pcm_48k_stereo)
        self.forwarded_frames += 1

    def on_speech_end(self, member_id: int) -> None:
        """The receive layer says the member stopped sending (DTX or gone quiet)."""
        speaker = self._speakers.get(member_id)
        if speaker is not None and speaker.quiet_frames is not None:
            self._end_speech(member_id, speaker, pad=True)

    def _end_speech(self, member_id: int, speaker: _Speaker, *, pad: bool) -> None:
        quiet = speaker.quiet_frames or 0
        speaker.quiet_frames = None
        self.timeline.silence(member_id)
        if self.config.mode is RoutingMode.MIXED:
            return  # the mix clock sends the pause and flushes
        link = self._links.get(member_id)
        if link is None:
            return
        missing = self.config.hangover_frames - quiet if pad else 0
        link.end_of_speech(pad_ms=max(0, missing) * FRAME_S * 1000)

    def forget(self, member_id: int) -> None:
        """The member left the channel: close their link now rather than on idle."""
        self._speakers.pop(member_id, None)
        self._pending_mix.pop(member_id, None)
        self.timeline.silence(member_id)
        if self.config.mode is RoutingMode.PER_SPEAKER:
            self._close_link(member_id)

    def speaker_of(self, link_key: int, utterance_end: float) -> int | None:
        """The member a transcript from link ``link_key`` belongs to."""
        if self.config.mode is RoutingMode.PER_SPEAKER:
            return link_key
        return self.timeline.speaker_for(utterance_end)

    # -- links ---------------------------------------------------------------------

    def _link_for(self, key: int) -> Link | None:
        link = self._links.get(key)
        if link is not None:
            return link
        if len(self._links) >= self.config.max_links:
            if self.dropped["link_cap"] == 0:
                log.warning("link cap of %d reached; member %d not interpreted",
                            self.config.max_links, key)
            return None
        link = self._links[key] = self._make_link(key)
        self._starting[key] = asyncio.create_task(self._start_link(key, link),
                                                  name=f"router:start:{key}")
        return link

    async def _start_link(self, key: int, link: Link) -> None:
        try:
            await link.start()
        except Exception as exc:
            log.warning("link for %d failed to start: %s", key, exc)
            if self._links.get(key) is link:
                del self._links[key]
            if self._on_link_failed is not None:
                self._on_link_failed(key, exc)
        finally:
            self._starting.pop(key, None)

    def _close_link(self, key: int) -> None:
        link = self._links.pop(key, None)
        self._last_speech.pop(key, None)
        starting = self._starting.pop(key, None)
        if starting is not None:
            starting.cancel()
        if link is not None:
            self._tasks.append(asyncio.create_task(link.aclose(), name=f"router:close:{key}"))

    async def _reap_idle(self) -> None:
        while True:
            await asyncio.sleep(min(5.0, self.config.idle_timeout_s / 4))
            now = self._clock()
            for key in list(self._links):
                last = self._last_speech.get(key, now)
                if self.config.mode is RoutingMode.MIXED:
                    last = max(self._last_speech.values(), default=now)
                if now - last > self.config.idle_timeout_s:
                    log.info("closing idle link %d", key)
                    self._close_link(key)
            self._tasks = [t for t in self._tasks if not t.done()]

    async def _mix_clock(self) -> None:
        loop = asyncio.get_running_loop()
        next_tick = loop.time()
        while True:
            next_tick += FRAME_S
            await asyncio.sleep(max(0.0, next_tick - loop.time()))
            if loop.time() - next_tick > 0.2:  # suspended: do not burst to catch up
                next_tick = loop.time()
            frames = [queue.popleft() for queue in self._pending_mix.values() if queue]
            if frames:
                self._mix_quiet_frames = 0
                mixed = frames[0] if len(frames) == 1 else samples_to_pcm(
                    mix([pcm_to_samples(f) for f in frames]))
            elif self._mix_quiet_frames is None:
                continue
            elif self._mix_quiet_frames < self.config.hangover_frames:
                # Nobody sends: keep the pause in-band until the segmenter sees it.
                self._mix_quiet_frames += 1
                mixed = SILENT_FRAME
            else:
                self._mix_quiet_frames = None
                link = self._links.get(MIXED_LINK)
                if link is not None:
                    link.end_of_speech()
                continue
            link = self._link_for(MIXED_LINK)
            if link is None:
                continue
            link.push_frame(mixed)
            self.forwarded_frames += 1

