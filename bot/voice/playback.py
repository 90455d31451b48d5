"""The bot's voice: every link's translated audio mixed into one discord.py source.

Flow: each interpreter link receives its translation from LiveKit as 48 kHz stereo
s16le (``rtc.AudioStream(sample_rate=48000, num_channels=2)`` resamples natively) and
``push``es it into its own ``PlaybackInput`` on the event loop. discord.py's player
thread calls ``PlaybackMixer.read()`` every 20 ms; each call takes one 20 ms frame
from every input, mixes them (optionally ducking, see ``bot.audio.mix.Ducker``) and
returns exactly 3840 bytes, which discord.py encodes once for the whole guild.

Per input, a jitter buffer (``bot.audio.ring.SampleRing``), size stated in ms:
- fill/drain: an input starts playing once its prebuffer is buffered (absorbing
  delivery jitter), or at once if its source has gone quiet; when it runs dry it
  goes back to prebuffering;
- adaptive prebuffer: each input starts at ``prebuffer_ms``, which is all the delay
  a smooth source needs; each underrun raises that input's prebuffer by one frame
  (up to ``max_prebuffer_ms``), and every ``relax_after_ms`` of audio played
  without one lowers it by a frame again, so a jittery source buys its own
  smoothness with delay and a smooth one keeps the least;
- overrun: a push that does not fit drops the OLDEST buffered audio
  (``overrun_dropped_ms``), so latency is bounded by ``buffer_ms``;
- backlog (``backlog_ms``): an input holds at most that much beyond its current
  prebuffer; past it the oldest audio is dropped (``behind_dropped_ms``), so a burst
  of translation delivered late (an event loop that stalled, then caught up) plays
  late by no more than that. ``push`` returns the ms it dropped for either reason;
- underrun: running dry while the source is still talking pads the frame with
  silence and counts an underrun; running dry after the source went quiet is the
  normal end of an utterance and is not counted; a source that sends nothing between
  translations (the WebSocket transport) says so with ``PlaybackInput.pause()``,
  which counts as gone quiet;
- silence trimming (``trim_silence``): audio below ``silence_threshold_dbfs`` for
  longer than ``silence_hangover_ms`` is not buffered (``trimmed_ms``), so pauses
  between translations never accumulate latency and the mixer can go idle.

Threads: ``push`` runs on the producers' thread(s), ``read`` on the player thread;
they share one ``threading.Lock`` held only around ring copies and counters (a few
µs), never while converting, gating or mixing. ``read()`` never waits for audio.

Idle: after ``idle_after_ms`` of reads with nothing to play, ``is_idle()`` turns True
and ``on_idle`` is called once (from the player thread); as soon as an input is ready
to play again (prebuffer filled, or its source went quiet or closed) it turns False
and ``on_active`` is called once (from the pushing thread). Owners use them to
pause/resume the voice client so the bot stops "speaking"; both callbacks must be
quick and thread-safe (e.g. ``loop.call_soon_threadsafe``). A mixer starts idle.

Lifecycle: ``cleanup()`` is what discord.py calls whenever its player stops (and on
garbage collection); it only resets playout so the same mixer can be played again.
``close()`` is the owner's end: inputs are detached and later pushes are ignored.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import discord
import numpy as np

from bot.audio.frames import (
    CHANNELS,
    FRAME_SAMPLES,
    SAMPLE_RATE,
    SILENCE_FRAME,
    Int16Array,
    duration_ms,
    pcm_to_samples,
    samples_per_channel,
    samples_to_pcm,
)
from bot.audio.levels import VoiceGate
from bot.audio.mix import Ducker, FloorPolicy, mix
from bot.audio.ring import SampleRing

__all__ = ["InputStats", "PlaybackInput", "PlaybackMixer", "PlaybackStats"]

log = logging.getLogger(__name__)

_FRAME_LEN = FRAME_SAMPLES * CHANNELS  # interleaved samples per 20 ms frame
_BYTES_PER_STEREO_SAMPLE = 2 * CHANNELS
_SILENT_SAMPLES: Int16Array = np.zeros(_FRAME_LEN, dtype=np.int16)
_SILENT_SAMPLES.flags.writeable = False


@dataclass(frozen=True, slots=True)
class InputStats:
    """Counters of one playback input (durations in ms of 48 kHz stereo audio)."""

    pushed_ms: float
    played_ms: float
    buffered_ms: float
    overrun_dropped_ms: float
    trimmed_ms: float
    ignored_ms: float  # pushed after close
    underruns: int
    prebuffer_ms: float  # the input's current prebuffer (it adapts to underruns)
    behind_dropped_ms: float = 0.0  # dropped past the backlog bound (oldest first)


@dataclass(frozen=True, slots=True)
class PlaybackStats:
    """Counters of the mixer; ``inputs`` covers inputs still attached.

    ``overrun_dropped_ms`` and ``underrun_total`` include detached inputs.
    """

    frames_out: int  # read() calls served
    silent_frames: int  # frames in which no input had audio
    mixed_frames: int  # frames in which two or more inputs had audio
    underruns: int  # frames in which at least one talking input ran dry
    overrun_dropped_ms: float
    inputs: Mapping[str, InputStats]


class _State(enum.Enum):
    BUFFERING = "buffering"
    PLAYING = "playing"


@dataclass(frozen=True, slots=True)
class _Prebuffer:
    """How an input's prebuffer adapts, in interleaved samples and frames."""

    least: int
    most: int
    relax_after_frames: int


class PlaybackInput:
    """One producer's feed into a ``PlaybackMixer`` (made by ``open_input``).

    ``push`` accepts 48 kHz stereo s16le of any length (a trailing partial sample is
    kept for the next push). Push from one thread at a time (the event loop).
    """

    def __init__(self, mixer: PlaybackMixer, name: str, capacity: int, gate: VoiceGate | None,
                 prebuffer: _Prebuffer):
        self.name = name
        self._mixer = mixer
        self._gate = gate
        self._carry = b""
        # Guarded by the mixer's lock:
        self._ring = SampleRing(capacity)
        self._state = _State.BUFFERING
        self._talking = False
        self._closed = False
        self._pushed = 0
        self._played = 0
        self._dropped = 0
        self._behind = 0
        self._trimmed = 0
        self._ignored = 0
        self._underruns = 0
        self._policy = prebuffer
        self._prebuffer = prebuffer.least
        self._frames_since_underrun = 0

    @property
    def closed(self) -> bool:
        return self._closed

    def push(self, pcm: bytes | bytearray | memoryview) -> float:
        """Queue translated audio; never blocks beyond the mixer's short lock. Returns
        the ms of older audio dropped to make room (past the backlog bound or the buffer)."""
        data = bytes(pcm)
        if self._carry:
            data = self._carry + data
        cut = len(data) - len(data) % _BYTES_PER_STEREO_SAMPLE
        self._carry = data[cut:]
        if not cut:
            return 0.0
        samples = pcm_to_samples(data[:cut] if cut < len(data) else data)
        audible = self._gate.update(samples) if self._gate is not None else True
        dropped = self._mixer._accept(self, samples, audible)
        return duration_ms(dropped, SAMPLE_RATE, CHANNELS) if dropped else 0.0

    def pause(self) -> None:
        """The source stopped for now (a translation's end on a transport that sends
        nothing between translations): what is buffered plays out at once, and running
        dry afterwards is the end of speech, not an underrun. The next audible push
        resumes it."""
        self._mixer._pause_input(self)

    def close(self, *, drain: bool = True) -> None:
        """Stop accepting audio; with ``drain`` what is buffered still plays first."""
        self._mixer._close_input(self, drain)

    def stats(self) -> InputStats:
        with self._mixer._lock:
            return self._stats_locked()

    def _stats_locked(self) -> InputStats:
        def ms(n: int) -> float:
            return duration_ms(n, SAMPLE_RATE, CHANNELS)

        return InputStats(
            pushed_ms=ms(self._pushed),
            played_ms=ms(self._played),
            buffered_ms=ms(len(self._ring)),
            overrun_dropped_ms=ms(self._dropped),
            trimmed_ms=ms(self._trimmed),
            ignored_ms=ms(self._ignored),
            underruns=self._underruns,
            prebuffer_ms=ms(self._prebuffer),
            behind_dropped_ms=ms(self._behind),
        )

    def _ready_locked(self) -> bool:
        """Whether a buffering input may start: prebuffer reached, or no more coming."""
        held = len(self._ring)
        return held > 0 and (held >= self._prebuffer or not self._talking or self._closed)

    def _pull_locked(self, out: Int16Array) -> tuple[int, bool]:
        """Fill ``out`` with the next frame; return (samples taken, underrun?)."""
        if self._state is _State.BUFFERING:
            if not self._ready_locked():
                return 0, False
            self._state = _State.PLAYING
        n = self._ring.read_into(out)
        self._played += n
        if n == out.size:
            self._played_cleanly()
            return n, False
        out[n:] = 0
        self._state = _State.BUFFERING
        starved = self._talking and not self._closed
        if starved:
            self._underruns += 1
            self._prebuffer = min(self._prebuffer + _FRAME_LEN, self._policy.most)
            self._frames_since_underrun = 0
        return n, starved

    def _played_cleanly(self) -> None:
        self._frames_since_underrun += 1
        if self._frames_since_underrun >= self._policy.relax_after_frames:
            self._frames_since_underrun = 0
            self._prebuffer = max(self._prebuffer - _FRAME_LEN, self._policy.least)


class PlaybackMixer(discord.AudioSource):
    """A ``discord.AudioSource`` mixing every ``PlaybackInput`` into 20 ms frames.

    See the module docstring for buffering, threading and idle semantics.
    """

    def __init__(
        self,
        *,
        buffer_ms: float = 2000.0,
        prebuffer_ms: float = 20.0,
        max_prebuffer_ms: float = 120.0,
        relax_after_ms: float = 5000.0,
        backlog_ms: float | None = None,
        idle_after_ms: float = 300.0,
        duck_db: float | None = None,
        duck_keep: FloorPolicy = "first",
        trim_silence: bool = True,
        silence_threshold_dbfs: float = -55.0,
        silence_hangover_ms: float = 400.0,
        on_idle: Callable[[], None] | None = None,
        on_active: Callable[[], None] | None = None,
    ) -> None:
        if buffer_ms < 2 * 20 or not 0 <= prebuffer_ms <= max_prebuffer_ms < buffer_ms:
            raise ValueError("need buffer_ms >= 40 and "
                             "0 <= prebuffer_ms <= max_prebuffer_ms < buffer_ms")
        if relax_after_ms <= 0:
            raise ValueError("need relax_after_ms > 0")
        if backlog_ms is not None and (backlog_ms < 20
                                       or backlog_ms + max_prebuffer_ms > buffer_ms):
            raise ValueError("need backlog_ms >= 20 and backlog_ms + max_prebuffer_ms "
                             "<= buffer_ms")
        self._lock = threading.Lock()
        self._capacity = samples_per_channel(buffer_ms, SAMPLE_RATE) * CHANNELS
        self._prebuffer = _Prebuffer(
            least=samples_per_channel(prebuffer_ms, SAMPLE_RATE) * CHANNELS,
            most=samples_per_channel(max_prebuffer_ms, SAMPLE_RATE) * CHANNELS,
            relax_after_frames=max(1, round(relax_after_ms / 20)),
        )
        self._backlog = (None if backlog_ms is None
                         else samples_per_channel(backlog_ms, SAMPLE_RATE) * CHANNELS)
        self._idle_after_frames = max(1, round(idle_after_ms / 20))
        self._trim = trim_silence
        self._silence_threshold = silence_threshold_dbfs
        self._silence_hangover = silence_hangover_ms
        self._on_idle = on_idle
        self._on_active = on_active
        self._ducker: Ducker[str] | None = (
            Ducker(duck_db=duck_db, keep=duck_keep, sample_rate=SAMPLE_RATE, channels=CHANNELS)
            if duck_db is not None
            else None
        )
        # Guarded by _lock:
        self._inputs: dict[str, PlaybackInput] = {}
        self._scratch: dict[str, Int16Array] = {}
        self._closed = False
        self._idle = True
        self._quiet_frames = 0
        self._frames_out = 0
        self._silent = 0
        self._mixed = 0
        self._underruns = 0
        self._detached_dropped = 0

    # -- owner side ---------------------------------------------------------------

    def open_input(self, name: str) -> PlaybackInput:
        """Attach a new producer; ``ValueError`` if ``name`` is attached or closed."""
        gate = (
            VoiceGate(
                threshold_dbfs=self._silence_threshold,
                hangover_ms=self._silence_hangover,
                sample_rate=SAMPLE_RATE,
                channels=CHANNELS,
            )
            if self._trim
            else None
        )
        inp = PlaybackInput(self, name, self._capacity, gate, self._prebuffer)
        with self._lock:
            if self._closed:
                raise ValueError("the mixer is closed")
            if name in self._inputs:
                raise ValueError(f"input {name!r} is already open")
            self._inputs[name] = inp
            self._scratch[name] = np.zeros(_FRAME_LEN, dtype=np.int16)
        return inp

    def is_idle(self) -> bool:
        """True when nothing has been played for ``idle_after_ms`` (or ever)."""
        with self._lock:
            return self._idle

    def stats(self) -> PlaybackStats:
        with self._lock:
            inputs = {name: inp._stats_locked() for name, inp in self._inputs.items()}
            return PlaybackStats(
                frames_out=self._frames_out,
                silent_frames=self._silent,
                mixed_frames=self._mixed,
                underruns=self._underruns,
                overrun_dropped_ms=duration_ms(
                    self._detached_dropped + sum(i._dropped for i in self._inputs.values()),
                    SAMPLE_RATE,
                    CHANNELS,
                ),
                inputs=inputs,
            )

    def close(self) -> None:
        """Detach every input; later pushes are ignored. Idempotent."""
        with self._lock:
            self._closed = True
            for inp in list(self._inputs.values()):
                inp._closed = True
                self._detach_locked(inp)

    # -- discord.AudioSource --------------------------------------------------------

    def is_opus(self) -> bool:
        return False

    def read(self) -> bytes:
        """One 20 ms frame of 48 kHz stereo s16le (3840 bytes); silence if nothing."""
        contributions: list[tuple[str, Int16Array]] = []
        went_idle = False
        with self._lock:
            starved_any = False
            for name, inp in list(self._inputs.items()):
                out = self._scratch[name]
                taken, starved = inp._pull_locked(out)
                starved_any |= starved
                if taken:
                    contributions.append((name, out))
                if inp._closed and len(inp._ring) == 0:
                    self._detach_locked(inp)
            attached = list(self._inputs)
            self._frames_out += 1
            self._underruns += starved_any
            if contributions:
                self._quiet_frames = 0
                self._mixed += len(contributions) >= 2
            else:
                self._silent += 1
                self._quiet_frames += 1
                if not self._idle and self._quiet_frames >= self._idle_after_frames:
                    self._idle = went_idle = True
            # Scratch frames are only rewritten by the next read() on this same
            # thread, so mixing them outside the lock is safe.
        if went_idle:
            self._notify(self._on_idle, "on_idle")
        if not contributions:
            return SILENCE_FRAME
        if self._ducker is not None:
            # Every attached input is shown to the ducker (silent if it had nothing),
            # so a brief starvation does not reset its gain ramp.
            frames = dict.fromkeys(attached, _SILENT_SAMPLES)
            frames.update(contributions)
            return samples_to_pcm(self._ducker.mix(frames))
        if len(contributions) == 1:
            return samples_to_pcm(contributions[0][1])
        return samples_to_pcm(mix([frame for _, frame in contributions]))

    def cleanup(self) -> None:
        """Called by discord.py when its player stops: reset playout, keep inputs."""
        lock = getattr(self, "_lock", None)
        if lock is None:  # __del__ of a half-built instance
            return
        with lock:
            for inp in self._inputs.values():
                inp._state = _State.BUFFERING
            self._idle = True
            self._quiet_frames = 0

    # -- internals --------------------------------------------------------------------

    def _accept(self, inp: PlaybackInput, samples: Int16Array, audible: bool) -> int:
        """Buffer a push; return the samples of older audio dropped to make room."""
        woke = False
        dropped = 0
        with self._lock:
            n = int(samples.size)
            if inp._closed:
                inp._ignored += n
                return 0
            inp._pushed += n
            inp._talking = audible
            if audible:
                overrun = inp._ring.write(samples)
                inp._dropped += overrun
                behind = 0
                if self._backlog is not None:
                    behind = inp._ring.discard(len(inp._ring) - inp._prebuffer - self._backlog)
                    inp._behind += behind
                dropped = overrun + behind
            else:
                inp._trimmed += n
            woke = self._wake_locked(inp)
        if woke:
            self._notify(self._on_active, "on_active")
        return dropped

    def _pause_input(self, inp: PlaybackInput) -> None:
        with self._lock:
            if inp._closed:
                return
            inp._talking = False
            woke = self._wake_locked(inp)
        if woke:
            self._notify(self._on_active, "on_active")

    def _close_input(self, inp: PlaybackInput, drain: bool) -> None:
        with self._lock:
            inp._closed = True
            if not drain or len(inp._ring) == 0:
                self._detach_locked(inp)
                return
            woke = self._wake_locked(inp)
        if woke:
            self._notify(self._on_active, "on_active")

    def _wake_locked(self, inp: PlaybackInput) -> bool:
        # Wake only once there is something to play, so a resumed player's first
        # read() already has audio instead of prebuffering silence.
        if not self._idle or not inp._ready_locked():
            return False
        self._idle = False
        self._quiet_frames = 0
        return True

    def _detach_locked(self, inp: PlaybackInput) -> None:
        if self._inputs.get(inp.name) is inp:
            del self._inputs[inp.name]
            del self._scratch[inp.name]
            self._detached_dropped += inp._dropped

    @staticmethod
    def _notify(callback: Callable[[], None] | None, what: str) -> None:
        if callback is None:
            return
        try:
            callback()
        except Exception:
            # The player thread must survive a faulty owner callback.
            log.exception("playback %s callback failed", what)
