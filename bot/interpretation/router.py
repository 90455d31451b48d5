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
time), frames beyond the link cap (``link_cap``), frames of a member whose link
failed to start, while the retry waits (``link_backoff``) or, for failures that
retrying cannot fix, until :meth:`SpeakerRouter.reopen` (``link_failed``), and a
replay that found no link (``replay``).

A link that fails to start is closed at once (with its playback input) and the
member's next link waits a jittered, capped backoff; the owner hears of it through
``on_event`` once per failure episode (:class:`LinkFailed`), and once per run
when the link cap first leaves someone out (:class:`LinkCapReached`).

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
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.audio.frames import FRAME_MS, SILENCE_FRAME, pcm_to_samples, samples_to_pcm
from bot.audio.levels import dbfs
from bot.audio.mix import mix
from bot.interpretation.attribution import SpeakingTimeline
from bot.interpretation.replay import Replay
from bot.tasks import cancel_and_wait

log = logging.getLogger(__name__)

FRAME_S = FRAME_MS / 1000
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
    retry_base_s: float = 1.0
    """Backoff before a member's next link after one failed to start (doubling)."""
    retry_max_s: float = 30.0

    def retry_delay(self, failures: int, rand: Callable[[], float] = random.random) -> float:
        """Jittered, capped delay after ``failures`` consecutive failed starts (>= 1)."""
        delay = min(self.retry_max_s, self.retry_base_s * 2.0 ** max(0, failures - 1))
        return delay * (0.5 + 0.5 * rand())

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


@dataclass(frozen=True, slots=True)
class LinkFailed:
    """A member's link failed to start (or failed for good); first of its episode or not."""

    key: int
    error: BaseException
    retry_in: float | None
    """Seconds until the next link may open; ``None``: not until :meth:`SpeakerRouter.reopen`."""
    first_in_episode: bool


@dataclass(frozen=True, slots=True)
class LinkCapReached:
    """The cap of concurrent links left ``key`` out (reported once per router)."""

    key: int
    cap: int


RouterEvent = LinkFailed | LinkCapReached


@dataclass(slots=True)
class _Failures:
    """A member's failure episode: consecutive failed starts since their last good link."""

    count: int = 0
    retry_at: float = 0.0
    blocked: bool = False


@dataclass(slots=True)
class _Speaker:
    """Gate state of one member: frames of quiet forwarded since the last voice."""

    quiet_frames: int | None = None  # None: gate closed (not speaking)


class Link(Protocol):
    """What the router needs of a link (an :class:`InterpreterLink` in production)."""

    def push_frame(self, pcm_48k_stereo: bytes) -> None: ...
    def end_of_speech(self, pad_ms: float = 0.0) -> None: ...
    async def start(self) -> None: ...
    async def drain(self, timeout: float) -> None: ...  # noqa: ASYNC109
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
        on_event: Callable[[RouterEvent], None] | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.timeline = SpeakingTimeline()
        self.dropped: collections.Counter[str] = collections.Counter()
        self.forwarded_frames = 0
        self._make_link = make_link
        self._is_excluded = is_excluded
        self._on_event = on_event
        self._clock = clock
        self._monotonic = monotonic
        self._failures: dict[int, _Failures] = {}
        self._cap_reported = False
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
        await cancel_and_wait([*self._tasks, *self._starting.values()], timeout=15)
        links, self._links = list(self._links.values()), {}
        await asyncio.gather(*(link.aclose() for link in links), return_exceptions=True)

    async def drain(self, timeout: float) -> None:  # noqa: ASYNC109
        """Before closing: let every link finish interpreting what was already said."""
        await asyncio.gather(*(link.drain(timeout) for link in self._links.values()),
                             return_exceptions=True)

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

    def reopen(self, member_id: int, replay: Replay | None = None) -> None:
        """The member's settings changed: close their link and forget its failures;
        their next speech opens a link with the new settings.

        With a ``replay`` (what the closed link heard, see :mod:`~bot.interpretation.replay`)
        the new link opens at once and hears it first; what the member says next follows.
        """
        self._failures.pop(member_id, None)
        if self.config.mode is not RoutingMode.PER_SPEAKER:
            return
        self._close_link(member_id)
        if replay is None or not replay.frames or self._closed:
            return
        link = self._link_for(member_id)
        if link is None:
            self.dropped["replay"] += len(replay.frames)
            return
        self._last_speech[member_id] = self._clock()
        for frame in replay.frames:
            link.push_frame(frame)
        self.forwarded_frames += len(replay.frames)
        if replay.ended:
            link.end_of_speech()

    def link_failed(self, key: int, error: BaseException) -> None:
        """A started link failed for good (e.g. its token was revoked): close it and
        block the member until :meth:`reopen`."""
        if self._closed:
            return
        self._close_link(key)
        self._record_failure(key, error, retryable=False)

    def failure_of(self, key: int) -> tuple[int, bool] | None:
        """(consecutive failed starts, blocked) of a member in a failure episode."""
        failures = self._failures.get(key)
        return None if failures is None else (failures.count, failures.blocked)

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
        failures = self._failures.get(key)
        if failures is not None:
            if failures.blocked:
                self.dropped["link_failed"] += 1
                return None
            if self._monotonic() < failures.retry_at:
                self.dropped["link_backoff"] += 1
                return None
        if len(self._links) >= self.config.max_links:
            self.dropped["link_cap"] += 1
            if not self._cap_reported:
                self._cap_reported = True
                log.warning("link cap of %d reached; member %d not interpreted",
                            self.config.max_links, key)
                self._emit(LinkCapReached(key, self.config.max_links))
            return None
        link = self._links[key] = self._make_link(key)
        self._starting[key] = asyncio.create_task(self._start_link(key, link),
                                                  name=f"router:start:{key}")
        return link

    async def _start_link(self, key: int, link: Link) -> None:
        try:
            await link.start()
        except Exception as exc:
            if self._links.get(key) is link:
                del self._links[key]
            await link.aclose()  # its playback input and tasks go with it
            self._record_failure(key, exc, retryable=getattr(exc, "retryable", True))
        else:
            self._failures.pop(key, None)
        finally:
            if self._starting.get(key) is asyncio.current_task():
                del self._starting[key]

    def _record_failure(self, key: int, error: BaseException, *, retryable: bool) -> None:
        failures = self._failures.get(key)
        first = failures is None
        if failures is None:
            failures = self._failures[key] = _Failures()
        failures.count += 1
        retry_in: float | None = None
        if retryable:
            retry_in = self.config.retry_delay(failures.count)
            failures.retry_at = self._monotonic() + retry_in
        else:
            failures.blocked = True
        next_step = f"retry in {retry_in:.1f} s" if retry_in is not None else "no retry"
        log.warning("link for %d failed (attempt %d, %s): %s", key, failures.count,
                    next_step, error)
        self._emit(LinkFailed(key, error, retry_in, first))

    def _emit(self, event: RouterEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:
            log.exception("router event handler failed")

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
                mixed = SILENCE_FRAME
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

