"""Per-SSRC playout buffer: a pure state machine from arriving packets to 20 ms slots.

Packets arrive on the network's schedule (lost, duplicated, reordered); the
decoder needs one instruction per 20 ms slot in order. The buffer turns the first
into the second and decides, for every slot, what fills it:

``PACKET``       the packet for this slot arrived;
``FEC``          it was lost but the next packet is here: decode its in-band FEC;
``CONCEAL``      lost, no FEC: Opus packet-loss concealment (short gaps only);
``GAP_SILENCE``  lost beyond ``max_conceal`` consecutive slots: silence;
``DTX_SILENCE``  no packet was *sent* (the timestamp jumped with contiguous
                 sequence numbers: the client paused after its silence frames).

States: *idle* (no talkspurt) → *speaking* on the first packet, back to idle after
``idle_timeout`` without packets (or a DTX pause longer than ``max_silence_fill``),
each edge reported as a :class:`SpeechEdge`. While speaking, the slot at the head
waits for its packet until ``depth`` later packets are buffered or the oldest
buffered packet has waited ``max_wait`` seconds; then it is given up (FEC/conceal).
With packets in order nothing waits: a packet is played the moment it arrives.

Sequence numbers are 16-bit and wrap; they are unwrapped against the highest seen
so far. A packet far behind what was played is not "late" but a sender that
restarted its stream on the same SSRC (a client reload, or a new talkspurt from a
fresh RTP session): after a talkspurt ended anything more than ``depth`` behind,
and at any time anything more than ``restart_behind`` behind, starts afresh.
RTP timestamps are compared modulo 2³². No clocks are read here: every
method takes ``now`` (monotonic seconds), so tests drive time explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Final

from bot.audio.frames import FRAME_SAMPLES as SAMPLES_PER_FRAME
from bot.voice.rtp import DropReason

_SEQ_MOD: Final = 1 << 16
_TS_MOD: Final = 1 << 32


class PlayoutKind(Enum):
    """What fills one 20 ms slot."""

    PACKET = "packet"
    FEC = "fec"
    CONCEAL = "conceal"
    GAP_SILENCE = "gap_silence"
    DTX_SILENCE = "dtx_silence"


@dataclass(frozen=True, slots=True)
class Playout:
    """One 20 ms slot, in playout order."""

    kind: PlayoutKind
    timestamp: int
    """RTP timestamp of the slot (mod 2³²)."""
    payload: bytes | None
    """The Opus frame for ``PACKET``; the *next* packet's frame for ``FEC``; else None."""
    received_at: float
    """When the packet arrived (``PACKET``), or when the slot was decided."""


@dataclass(frozen=True, slots=True)
class SpeechEdge:
    """A talkspurt started (``speaking``) or ended."""

    speaking: bool
    at: float


Output = Playout | SpeechEdge


def _signed_ts(delta: int) -> int:
    delta %= _TS_MOD
    return delta - _TS_MOD if delta >= _TS_MOD // 2 else delta


class JitterBuffer:
    """Reorders one SSRC's packets and fills every 20 ms slot (see module docstring)."""

    def __init__(
        self,
        *,
        depth: int = 3,
        max_wait: float = 0.06,
        max_conceal: int = 5,
        max_silence_fill: int = 25,
        max_gap: int = 50,
        idle_timeout: float = 0.2,
        restart_behind: int = 500,
    ) -> None:
        """``depth``/``max_wait`` bound the added latency when a packet is missing
        (3 packets = 60 ms); ``max_conceal`` slots of concealment at most in a row;
        DTX pauses up to ``max_silence_fill`` slots are filled with silence, longer
        ones end the talkspurt; a loss longer than ``max_gap`` slots restarts the
        stream rather than filling it."""
        if depth < 1:
            raise ValueError("depth is at least one packet")
        self.depth = depth
        self.max_wait = max_wait
        self.max_conceal = max_conceal
        self.max_silence_fill = max_silence_fill
        self.max_gap = max_gap
        self.idle_timeout = idle_timeout
        self.restart_behind = restart_behind
        self.reset()

    def reset(self) -> None:
        """Forget everything (decoder reset, reconnect, member left)."""
        self._pending: dict[int, tuple[int, bytes, float]] = {}
        self._next: int | None = None
        self._next_ts = 0
        self._highest: int | None = None
        self._last_played: int | None = None
        self._speaking = False
        self._last_arrival = 0.0
        self._lost_run = 0

    @property
    def speaking(self) -> bool:
        return self._speaking

    @property
    def buffered(self) -> int:
        return len(self._pending)

    def push(
        self, sequence: int, timestamp: int, payload: bytes, now: float
    ) -> tuple[list[Output], DropReason | None]:
        """Accept a packet; returns the slots it releases and why it was dropped, if so."""
        ext = self._unwrap(sequence)
        out: list[Output] = []
        if self._last_played is not None and ext <= self._last_played:
            behind = self._last_played - ext
            if behind <= self.restart_behind and (self._speaking or behind <= self.depth):
                return [], DropReason.LATE
            # The sender restarted its sequence: a new stream, not a late packet.
            if self._speaking:
                out += self._end_talkspurt(now)
            self.reset()
            ext = sequence
        if self._next is not None and ext < self._next:
            return [], DropReason.LATE
        if ext in self._pending:
            return [], DropReason.DUPLICATE
        if self._next is not None and ext - self._next > self.max_gap + self.depth:
            # Far ahead: the stream restarted or a long outage; play out what we have.
            out += self._drain(now, force=True)
            self._next = None
        if self._next is None:
            self._next = ext
            self._next_ts = timestamp
        if self._highest is None or ext > self._highest:
            self._highest = ext
        self._pending[ext] = (timestamp, payload, now)
        self._last_arrival = now
        if not self._speaking:
            self._speaking = True
            out.append(SpeechEdge(True, now))
        out += self._drain(now, force=False)
        return out, None

    def tick(self, now: float) -> list[Output]:
        """Let time pass: give up overdue gaps, end the talkspurt after silence."""
        if not self._speaking:
            return []
        out = self._drain(now, force=False)
        if now - self._last_arrival >= self.idle_timeout:
            out += self._end_talkspurt(now)
        return out

    def flush(self, now: float) -> list[Output]:
        """Play out everything buffered and end the talkspurt (stream closing)."""
        if not self._speaking:
            return []
        return self._end_talkspurt(now)

    def _end_talkspurt(self, now: float) -> list[Output]:
        out = self._drain(now, force=True)
        self._speaking = False
        self._next = None
        self._lost_run = 0
        out.append(SpeechEdge(False, now))
        return out

    def _unwrap(self, sequence: int) -> int:
        ref = self._highest
        if ref is None:
            return sequence
        delta = (sequence - ref + _SEQ_MOD // 2) % _SEQ_MOD - _SEQ_MOD // 2
        return ref + delta

    def _drain(self, now: float, *, force: bool) -> list[Output]:
        out: list[Output] = []
        pending = self._pending
        while pending and self._next is not None:
            entry = pending.pop(self._next, None)
            if entry is not None:
                self._play(entry, out)
                continue
            lowest = min(pending)
            if lowest - self._next > self.max_gap:
                # Too long a hole to fill: restart the timeline at the lowest packet.
                self._next = lowest
                self._next_ts = pending[lowest][0]
                self._lost_run = 0
                continue
            overdue = (
                force
                or (self._highest is not None and self._highest - self._next >= self.depth)
                or now - min(at for _, _, at in pending.values()) >= self.max_wait
            )
            if not overdue:
                break
            self._give_up_slot(now, out)
        return out

    def _play(self, entry: tuple[int, bytes, float], out: list[Output]) -> None:
        timestamp, payload, at = entry
        ahead = _signed_ts(timestamp - self._next_ts) // SAMPLES_PER_FRAME
        if ahead > self.max_silence_fill:
            # A long DTX pause inside what looked like one talkspurt: end it, start anew.
            out.append(SpeechEdge(False, at))
            out.append(SpeechEdge(True, at))
        elif ahead > 0:
            for k in range(ahead):
                slot_ts = (self._next_ts + k * SAMPLES_PER_FRAME) % _TS_MOD
                out.append(Playout(PlayoutKind.DTX_SILENCE, slot_ts, None, at))
        out.append(Playout(PlayoutKind.PACKET, timestamp, payload, at))
        assert self._next is not None
        self._last_played = self._next
        self._next += 1
        self._next_ts = (timestamp + SAMPLES_PER_FRAME) % _TS_MOD
        self._lost_run = 0

    def _give_up_slot(self, now: float, out: list[Output]) -> None:
        assert self._next is not None
        slot_ts = self._next_ts
        following = self._pending.get(self._next + 1)
        if self._lost_run >= self.max_conceal:
            out.append(Playout(PlayoutKind.GAP_SILENCE, slot_ts, None, now))
        elif following is not None and _signed_ts(following[0] - slot_ts) == SAMPLES_PER_FRAME:
            out.append(Playout(PlayoutKind.FEC, slot_ts, following[1], now))
        else:
            out.append(Playout(PlayoutKind.CONCEAL, slot_ts, None, now))
        self._lost_run += 1
        self._last_played = self._next
        self._next += 1
        self._next_ts = (slot_ts + SAMPLES_PER_FRAME) % _TS_MOD
