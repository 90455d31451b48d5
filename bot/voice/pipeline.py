"""The receive path as plain synchronous steps, with no threads or queues of its own.

``datagram → admit() → EncodedPacket → process() → PcmFrame / SpeakingEvent``

- :meth:`ReceivePipeline.admit` is the cheap half run on discord.py's socket
  reader thread: filter, parse, transport-decrypt, strip extension body and padding.
- :meth:`ReceivePipeline.process` is the rest, run by one decoding thread: SSRC →
  member, DAVE decryption, jitter buffer, Opus decoding; :meth:`tick` lets time
  pass (overdue gaps, ends of speech, expiry of unattributed audio).

Control changes (op 4 key, ops 5/11/12/13, reconnect) go through the methods of
the same names; ``VoiceReceiver`` calls them on the decoding thread, except
:meth:`set_transport`, which swaps one immutable cipher that the socket thread reads.
Nothing raises for bad input: each drop is counted in :class:`ReceiveStats`.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, NamedTuple

import davey

from bot.voice.dave_decrypt import DaveSessionLike, dave_decrypt
from bot.voice.decoder import FRAME_BYTES, SILENCE_PCM, OpusDecodeError, StreamDecoder
from bot.voice.events import PcmFrame, ReceiveEvent, ReceiveStats, SpeakingEvent
from bot.voice.jitter_buffer import JitterBuffer, Output, Playout, PlayoutKind, SpeechEdge
from bot.voice.rtp import SILENCE_FRAME, DropReason, parse_header, strip_payload
from bot.voice.ssrc_map import SsrcMap
from bot.voice.transport_crypto import TransportCipher, UnsupportedModeError

_log = logging.getLogger(__name__)
_AUDIO: Final = davey.MediaType.audio

UNATTRIBUTED_HOLD: Final = 1.0
"""Seconds audio from an SSRC without a member is held waiting for op 5 (50 frames)."""
MAX_UNATTRIBUTED_SSRCS: Final = 16
MAX_UNATTRIBUTED_PACKETS: Final = 50
STREAM_PRUNE_AFTER: Final = 60.0
"""Seconds of silence after which an SSRC's decoder and buffer are freed."""


class EncodedPacket(NamedTuple):
    """A transport-decrypted packet: what crosses from the socket thread."""

    ssrc: int
    sequence: int
    timestamp: int
    payload: bytes
    """The (possibly DAVE-encrypted) Opus frame, extension body and padding removed."""
    received_at: float


DaveSource = Callable[[], DaveSessionLike | None]
"""Returns the connection's DAVE session, or None when DAVE is off (protocol 0)."""


@dataclass(slots=True)
class _Stream:
    member_id: int
    jitter: JitterBuffer
    decoder: StreamDecoder
    last_seen: float


@dataclass(slots=True)
class _Unattributed:
    first_seen: float
    packets: deque[EncodedPacket] = field(
        default_factory=lambda: deque(maxlen=MAX_UNATTRIBUTED_PACKETS)
    )


class ReceivePipeline:
    """Per-connection receive state: one cipher, SSRC map, and a stream per SSRC."""

    def __init__(
        self,
        *,
        dave: DaveSource,
        self_user_id: int | None = None,
        stats: ReceiveStats | None = None,
        jitter_factory: Callable[[], JitterBuffer] = JitterBuffer,
    ) -> None:
        self._dave = dave
        self._self_user_id = self_user_id
        self.stats = stats or ReceiveStats()
        self.ssrcs = SsrcMap()
        self._jitter_factory = jitter_factory
        self._cipher: TransportCipher | None = None
        self._streams: dict[int, _Stream] = {}
        self._unattributed: dict[int, _Unattributed] = {}

    # -- socket thread -------------------------------------------------------------

    def set_transport(self, mode: str, secret_key: bytes | list[int]) -> None:
        """Install the key and mode of the latest op 4 (any thread)."""
        try:
            self._cipher = TransportCipher(mode, secret_key)
        except (UnsupportedModeError, ValueError, TypeError):
            _log.error("cannot decrypt voice transport mode %r; receive disabled", mode)
            self._cipher = None

    def admit(self, datagram: bytes, now: float) -> EncodedPacket | None:
        """Filter, parse and transport-decrypt one datagram; None when dropped."""
        header = parse_header(datagram)
        if isinstance(header, DropReason):
            self.stats.drop(header)
            return None
        cipher = self._cipher
        if cipher is None:
            self.stats.drop(DropReason.NO_KEY)
            return None
        plaintext = cipher.decrypt(datagram, header.clear_length)
        if plaintext is None:
            self.stats.drop(DropReason.TRANSPORT_AUTH)
            return None
        payload = strip_payload(header, plaintext)
        if isinstance(payload, DropReason):
            self.stats.drop(payload)
            return None
        self.stats.packets_admitted += 1
        return EncodedPacket(header.ssrc, header.sequence, header.timestamp, payload, now)

    # -- decoding thread -----------------------------------------------------------

    def process(self, packet: EncodedPacket) -> list[ReceiveEvent]:
        """DAVE-decrypt, buffer and decode one packet; returns what became playable."""
        stream = self._streams.get(packet.ssrc)
        member = self.ssrcs.user_for(packet.ssrc)
        if stream is not None and member is not None and stream.member_id != member:
            # The SSRC changed hands (op 5 after a trial attribution, or reuse).
            self._drop_stream(packet.ssrc)
            stream = None
        if stream is None:
            if member is None:
                return self._hold_or_attribute(packet)
            stream = self._open_stream(packet.ssrc, member, packet.received_at)
        frame = self._dave_decrypt(stream.member_id, packet.payload)
        if frame is None:
            return []
        return self._buffer_and_decode(stream, packet, frame)

    def tick(self, now: float) -> list[ReceiveEvent]:
        """Let time pass for every stream; expire unattributed audio and idle streams."""
        events: list[ReceiveEvent] = []
        for ssrc, stream in list(self._streams.items()):
            events += self._render(stream, stream.jitter.tick(now))
            if not stream.jitter.speaking and now - stream.last_seen > STREAM_PRUNE_AFTER:
                del self._streams[ssrc]
        for ssrc, held in list(self._unattributed.items()):
            if now - held.first_seen > UNATTRIBUTED_HOLD:
                for _ in held.packets:
                    self.stats.drop(DropReason.UNKNOWN_SSRC)
                del self._unattributed[ssrc]
        return events

    def bind(self, ssrc: int, member_id: int) -> list[ReceiveEvent]:
        """op 5 / op 12: ``ssrc`` is ``member_id``'s; replays audio held for it."""
        self.ssrcs.bind(ssrc, member_id)
        held = self._unattributed.pop(ssrc, None)
        events: list[ReceiveEvent] = []
        if held is not None:
            for packet in held.packets:
                events += self.process(packet)
        return events

    def clients_connected(self, member_ids: list[int]) -> None:
        """op 11."""
        self.ssrcs.connected(member_ids)

    def client_disconnected(self, member_id: int, now: float) -> list[ReceiveEvent]:
        """op 13: end the member's speech and free their decoders."""
        events: list[ReceiveEvent] = []
        for ssrc in self.ssrcs.disconnected(member_id):
            stream = self._streams.pop(ssrc, None)
            if stream is not None and stream.jitter.speaking:
                events.append(SpeakingEvent(member_id, False, now))
        return events

    def reset(self, now: float) -> list[ReceiveEvent]:
        """Reconnect: every stream ends and every decoder starts afresh."""
        events: list[ReceiveEvent] = [
            SpeakingEvent(stream.member_id, False, now)
            for stream in self._streams.values()
            if stream.jitter.speaking
        ]
        self._streams.clear()
        self._unattributed.clear()
        return events

    def close(self, now: float) -> list[ReceiveEvent]:
        """Play out what is buffered and end every talkspurt."""
        events: list[ReceiveEvent] = []
        for stream in self._streams.values():
            events += self._render(stream, stream.jitter.flush(now))
        self._streams.clear()
        return events

    # -- internals -----------------------------------------------------------------

    def _open_stream(self, ssrc: int, member_id: int, now: float) -> _Stream:
        stream = _Stream(member_id, self._jitter_factory(), StreamDecoder(), now)
        self._streams[ssrc] = stream
        return stream

    def _drop_stream(self, ssrc: int) -> None:
        self._streams.pop(ssrc, None)

    def _dave_decrypt(self, member_id: int, payload: bytes) -> bytes | None:
        session = self._dave()
        if session is None:
            return payload
        result = dave_decrypt(session, member_id, payload)
        if isinstance(result, DropReason):
            self.stats.drop(result)
            return None
        return result

    def _hold_or_attribute(self, packet: EncodedPacket) -> list[ReceiveEvent]:
        """Audio before op 5: try the group's members, else hold it briefly."""
        session = self._dave()
        if session is not None and packet.payload != SILENCE_FRAME:
            member, frame = self._trial_decrypt(session, packet.payload)
            if member is not None and frame is not None:
                self.ssrcs.bind(packet.ssrc, member, confirmed=False)
                self.stats.ssrcs_by_trial += 1
                held = self._unattributed.pop(packet.ssrc, None)
                stream = self._open_stream(packet.ssrc, member, packet.received_at)
                events: list[ReceiveEvent] = []
                if held is not None:
                    for earlier in held.packets:
                        earlier_frame = self._dave_decrypt(member, earlier.payload)
                        if earlier_frame is not None:
                            events += self._buffer_and_decode(stream, earlier, earlier_frame)
                return events + self._buffer_and_decode(stream, packet, frame)
        held = self._unattributed.get(packet.ssrc)
        if held is None:
            if len(self._unattributed) >= MAX_UNATTRIBUTED_SSRCS:
                self.stats.drop(DropReason.UNKNOWN_SSRC)
                return []
            held = self._unattributed[packet.ssrc] = _Unattributed(packet.received_at)
        if len(held.packets) == held.packets.maxlen:
            self.stats.drop(DropReason.UNKNOWN_SSRC)
        held.packets.append(packet)
        return []

    def _trial_decrypt(
        self, session: DaveSessionLike, payload: bytes
    ) -> tuple[int | None, bytes | None]:
        # AEAD makes a hit unambiguous; a miss leaves the member's cryptor untouched.
        try:
            candidates = [int(user) for user in session.get_user_ids()]
        except Exception:
            return None, None
        taken = self.ssrcs.bound_users()
        for member in candidates:
            if member == self._self_user_id or member in taken:
                continue
            try:
                return member, session.decrypt(member, _AUDIO, payload)
            except Exception:
                continue
        return None, None

    def _buffer_and_decode(
        self, stream: _Stream, packet: EncodedPacket, frame: bytes
    ) -> list[ReceiveEvent]:
        stream.last_seen = packet.received_at
        outputs, dropped = stream.jitter.push(
            packet.sequence, packet.timestamp, frame, packet.received_at
        )
        if dropped is not None:
            self.stats.drop(dropped)
        return self._render(stream, outputs)

    def _render(self, stream: _Stream, outputs: list[Output]) -> list[ReceiveEvent]:
        events: list[ReceiveEvent] = []
        for output in outputs:
            if isinstance(output, SpeechEdge):
                events.append(SpeakingEvent(stream.member_id, output.speaking, output.at))
            else:
                events += self._decode(stream, output)
        return events

    def _decode(self, stream: _Stream, slot: Playout) -> list[PcmFrame]:
        kind = slot.kind
        stats = self.stats
        try:
            if kind is PlayoutKind.PACKET:
                assert slot.payload is not None
                pcm = stream.decoder.decode(slot.payload)
                stats.frames_decoded += 1
            elif kind is PlayoutKind.FEC:
                assert slot.payload is not None
                pcm = stream.decoder.decode_fec(slot.payload)
                stats.frames_fec += 1
            elif kind is PlayoutKind.CONCEAL:
                pcm = stream.decoder.conceal()
                stats.frames_concealed += 1
            else:
                pcm = SILENCE_PCM
                stats.frames_silence += 1
            concealed = kind is not PlayoutKind.PACKET and kind is not PlayoutKind.DTX_SILENCE
        except OpusDecodeError:
            stats.drop(DropReason.OPUS_ERROR)
            pcm, concealed = SILENCE_PCM, True
        member = stream.member_id
        if len(pcm) == FRAME_BYTES:
            return [PcmFrame(member, pcm, slot.timestamp, slot.received_at, concealed)]
        # Longer Opus packets (40/60 ms) are cut into 20 ms frames; a short tail is padded.
        frames: list[PcmFrame] = []
        for index, start in enumerate(range(0, len(pcm), FRAME_BYTES)):
            chunk = pcm[start : start + FRAME_BYTES].ljust(FRAME_BYTES, b"\x00")
            timestamp = (slot.timestamp + 960 * index) % (1 << 32)
            frames.append(PcmFrame(member, chunk, timestamp, slot.received_at, concealed))
        return frames
