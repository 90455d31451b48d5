"""What the receive layer hands to the rest of the bot, and what it counts.

Consumers read :class:`PcmFrame` and :class:`SpeakingEvent` items from
``VoiceReceiver`` (``async for item in receiver``). PCM is 48 kHz stereo s16le,
exactly 20 ms (3840 bytes) per frame, in playout order per member.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

from bot.voice.rtp import DropReason


@dataclass(frozen=True, slots=True)
class PcmFrame:
    """20 ms of one member's voice."""

    member_id: int
    pcm: bytes
    """48 kHz stereo s16le, 3840 bytes."""
    rtp_timestamp: int
    received_at: float
    """``time.monotonic()`` when the packet arrived (or the slot was decided, if lost)."""
    concealed: bool
    """True when the audio is invented (PLC, FEC, or silence for lost packets)."""


@dataclass(frozen=True, slots=True)
class SpeakingEvent:
    """A member started or stopped sending voice (derived from the audio itself)."""

    member_id: int
    speaking: bool
    at: float


ReceiveEvent = PcmFrame | SpeakingEvent


class ReceiveStats:
    """Counters of the receive path. Safe to write and read from any thread.

    Writers: the socket thread (``packets_admitted``, parse and transport drops),
    the decoding thread (the ``frames_*`` counters, ``ssrcs_by_trial``, decode
    drops) and the event loop (output-queue drops). Each plain counter has exactly
    one writer; ``drops`` has three, so :meth:`drop` takes the lock, and
    :meth:`snapshot` takes it too so it never sees the mapping change under it.
    """

    def __init__(self) -> None:
        self.drops: Counter[DropReason] = Counter()
        self.packets_admitted = 0
        self.frames_decoded = 0
        self.frames_concealed = 0
        self.frames_fec = 0
        self.frames_silence = 0
        self.ssrcs_by_trial = 0
        self._lock = threading.Lock()

    def drop(self, reason: DropReason) -> None:
        with self._lock:
            self.drops[reason] += 1

    def drop_counts(self) -> dict[DropReason, int]:
        """A consistent copy of the drops by reason."""
        with self._lock:
            return dict(self.drops)

    def snapshot(self) -> dict[str, int]:
        """All counters as one flat mapping (``drop.<reason>`` for drops)."""
        with self._lock:
            flat = {f"drop.{reason.value}": count for reason, count in self.drops.items()}
            flat.update(
                packets_admitted=self.packets_admitted,
                frames_decoded=self.frames_decoded,
                frames_concealed=self.frames_concealed,
                frames_fec=self.frames_fec,
                frames_silence=self.frames_silence,
                ssrcs_by_trial=self.ssrcs_by_trial,
            )
            return flat
