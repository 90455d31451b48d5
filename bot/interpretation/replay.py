"""What a member said to a session that turned out to be the wrong one, kept to say again.

In pair mode a member without a language preference starts as first → second
until the interpreter has told us what they speak; if it is the other language,
their session is re-opened reversed. Their first words went to the wrong
session, so the run keeps what it forwarded to it (:class:`SpeechRecording`,
fed with exactly what the router gave the link) and hands it to the new
session (:class:`Replay`), where it is interpreted in the right direction.

The end of an utterance is recorded as the pause the link would have sent
(silent frames), because a replay is pushed all at once and the link's uplink
queue measures pauses in real time: without them, replayed utterances would run
into each other and Pinch would hear one.

Bounded: the latest ``max_ms`` are kept, older frames are dropped and counted.
Pure; the event loop is the only caller.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass

from bot.audio.frames import FRAME_MS, SILENCE_FRAME


@dataclass(frozen=True, slots=True)
class Replay:
    """Frames (20 ms, 48 kHz stereo s16le) to push into a new link, in order."""

    frames: tuple[bytes, ...]
    ended: bool
    """Whether the last utterance had ended (then the new link is told so)."""
    dropped: int
    """Older frames that did not fit."""

    @property
    def duration_ms(self) -> float:
        return len(self.frames) * FRAME_MS


class SpeechRecording:
    def __init__(self, max_ms: int) -> None:
        self._frames: collections.deque[bytes] = collections.deque(
            maxlen=max(0, max_ms // FRAME_MS))
        self._ended = False
        self.dropped = 0

    def frame(self, pcm_48k_stereo: bytes) -> None:
        self._append(pcm_48k_stereo)
        self._ended = False

    def end(self, pad_ms: float) -> None:
        for _ in range(max(0, round(pad_ms / FRAME_MS))):
            self._append(SILENCE_FRAME)
        self._ended = True

    def take(self) -> Replay:
        """Everything kept, and forget it."""
        replay = Replay(tuple(self._frames), self._ended, self.dropped)
        self._frames.clear()
        return replay

    def _append(self, frame: bytes) -> None:
        if self._frames.maxlen == 0:
            self.dropped += 1
            return
        if len(self._frames) == self._frames.maxlen:
            self.dropped += 1
        self._frames.append(frame)
