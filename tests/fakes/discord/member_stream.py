"""One member's speech on its way to the bot, a datagram at a time.

Like a Discord client's stream, it outlives the bot's connections: each datagram
goes to the bot's *current* voice connection in the call, transport-encrypted with
that connection's key (the stream is rekeyed when the bot reconnects) and, while the
bot is not connected, goes nowhere. Each Opus frame is DAVE-encrypted by the
member's client at the moment it leaves, under whichever epoch the client sends
with then, and counted in the :class:`SpeechReport` by whether the bot's session
holds that epoch: the frames the protocol lets the bot decrypt, and the others.
"""

from __future__ import annotations

from collections.abc import Iterator

from tests.fakes.discord.speech import DTX_SILENCE_FRAMES, SpeechReport, new_sender
from tests.fakes.discord.voice import BotConnection, VoiceCall, VoiceServer
from tests.fakes.discord.voice_member import VoiceMember
from tests.support.voice_packets import SILENCE_FRAME, RtpSender


class MemberStream:
    def __init__(self, voice: VoiceServer, call: VoiceCall, member: VoiceMember,
                 report: SpeechReport) -> None:
        self._voice = voice
        self._call = call
        self._member = member
        self.report = report
        self._sender: RtpSender | None = None
        self._conn: BotConnection | None = None

    def datagrams(self, frames: list[bytes]) -> Iterator[tuple[BotConnection | None, bytes]]:
        """(the bot's connection or None, the datagram) per frame, then DTX silence."""
        for i, frame in enumerate(frames):
            conn = self._bot()
            payload = self._dave(frame, conn)
            self._member.frames_sent += 1
            if conn is None:
                self.report.unrouted += 1
            yield conn, self._packet(conn, payload, marker=i == 0)
        for _ in range(DTX_SILENCE_FRAMES):
            conn = self._bot()
            if conn is None:
                self.report.unrouted += 1
            yield conn, self._packet(conn, SILENCE_FRAME)

    def send(self, item: tuple[BotConnection | None, bytes]) -> None:
        conn, datagram = item
        if conn is not None and datagram:
            self._voice.send_to_bot(conn, datagram)

    def _bot(self) -> BotConnection | None:
        conn = self._call.bot
        if conn is None or conn.mode is None or conn.secret_key is None:
            return None
        return conn

    def _packet(self, conn: BotConnection | None, payload: bytes, *,
                marker: bool = False) -> bytes:
        if conn is None:
            return b""
        assert conn.mode is not None
        assert conn.secret_key is not None
        if self._sender is None:
            self._sender = new_sender(self._member.ssrc, conn.mode, conn.secret_key)
        elif conn is not self._conn:
            self._sender.rekey(conn.mode, conn.secret_key)
        self._conn = conn
        return self._sender.packet(payload, marker=marker)

    def _dave(self, frame: bytes, conn: BotConnection | None) -> bytes:
        """The frame as the member's client sends it now, counted (clear without DAVE,
        or while the client has no key)."""
        client, report = self._member.client, self.report
        if client is None:
            return frame  # DAVE is off in this call
        sealed = client.encrypt(self._member.ssrc, frame)
        if sealed is None:
            report.undecryptable += 1
            return frame
        report.dave_encrypted += 1
        report.epochs[client.epoch] += 1
        if conn is not None and conn.holds_epoch(client.epoch):
            report.decryptable += 1
        else:
            report.undecryptable += 1
        return sealed
