"""``ReceivingVoiceClient``: discord.py's VoiceClient plus the receive layer.

discord.py 2.7.1 only sends audio. This subclass adds receiving through two
documented-but-internal seams (see :mod:`bot.voice.internals_guard`):

- ``create_connection_state()`` is overridden to pass a voice-websocket *hook*,
  called after discord.py handled each JSON voice op. It feeds op 4 (key and mode,
  re-read on every op 4 since a reconnect brings a new key; decoders reset) and
  ops 5/11/12/13 (SSRC ↔ member) to the receiver. It must never raise: an
  exception would kill discord.py's websocket poller.
- ``connection_state.add_socket_listener`` registers :meth:`VoiceReceiver.feed`
  on discord.py's UDP reader thread once connected.

Lifecycle: the receiver starts in :meth:`connect` and is closed in
:meth:`disconnect`, or in :meth:`cleanup` when discord.py ends the connection
itself (kicked, channel deleted). Use with ``channel.connect(cls=ReceivingVoiceClient)``
and read ``voice_client.receiver``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
from discord.voice_state import VoiceConnectionState

from bot.voice.dave_decrypt import DaveSessionLike
from bot.voice.ops import VoiceOp
from bot.voice.receiver import VoiceReceiver

_log = logging.getLogger(__name__)


class ReceivingVoiceClient(discord.VoiceClient):
    """A VoiceClient whose members' voices come out of ``self.receiver``."""

    def __init__(self, client: discord.Client, channel: discord.abc.Connectable) -> None:
        # super().__init__ calls create_connection_state(), which needs the hook ready.
        self.receiver = VoiceReceiver(
            dave=self._dave_session,
            self_user_id=client.user.id if client.user else None,
            is_bot=self._lookup_is_bot,
        )
        self._listening = False
        self._closing: asyncio.Task[None] | None = None
        super().__init__(client, channel)

    def create_connection_state(self) -> VoiceConnectionState:
        return VoiceConnectionState(self, hook=self._on_voice_ws_message)

    async def connect(
        self,
        *,
        reconnect: bool,
        timeout: float,  # noqa: ASYNC109 (discord.py's signature)
        self_deaf: bool = False,
        self_mute: bool = False,
    ) -> None:
        await self.receiver.start()
        await super().connect(
            reconnect=reconnect, timeout=timeout, self_deaf=self_deaf, self_mute=self_mute
        )
        # Only once the socket exists: an idle reader thread with a listener spins on select().
        self._connection.add_socket_listener(self.receiver.feed)
        self._listening = True

    async def disconnect(self, *, force: bool = False) -> None:
        try:
            await super().disconnect(force=force)
        finally:
            self._stop_receiving()
            if self._closing is not None:
                await self._closing

    def cleanup(self) -> None:
        super().cleanup()
        self._stop_receiving()

    def _stop_receiving(self) -> None:
        if self._listening:
            self._connection.remove_socket_listener(self.receiver.feed)
            self._listening = False
        if self._closing is None:
            self._closing = self.loop.create_task(
                self.receiver.aclose(), name="voice-receiver-close"
            )

    # -- hooks called by discord.py -----------------------------------------------

    def _dave_session(self) -> DaveSessionLike | None:
        state = self._connection
        if not state.dave_protocol_version:
            return None
        session: DaveSessionLike | None = state.dave_session
        return session

    def _lookup_is_bot(self, member_id: int) -> bool | None:
        member = self.guild.get_member(member_id)
        if member is not None:
            return bool(member.bot)
        user = self.client.get_user(member_id)
        return None if user is None else bool(user.bot)

    async def _on_voice_ws_message(self, _ws: Any, msg: dict[str, Any]) -> None:
        try:
            self._handle_voice_op(msg)
        except Exception:
            # Malformed op or a bug of ours: log it, never break discord.py's poller.
            _log.exception("voice receive: could not handle voice op %r", msg.get("op"))

    def _handle_voice_op(self, msg: dict[str, Any]) -> None:
        op = msg.get("op")
        data = msg.get("d") or {}
        receiver = self.receiver
        if op == VoiceOp.SESSION_DESCRIPTION:
            state = self._connection
            receiver.set_transport(state.mode, state.secret_key)
            receiver.reset_streams()
        elif op == VoiceOp.SPEAKING:
            receiver.bind(int(data["ssrc"]), int(data["user_id"]))
        elif op == VoiceOp.CLIENTS_CONNECT:
            receiver.clients_connected([int(user) for user in data["user_ids"]])
        elif op == VoiceOp.CLIENT_CONNECT:
            user_id = int(data["user_id"])
            audio_ssrc = int(data.get("audio_ssrc") or 0)
            if audio_ssrc:
                receiver.bind(audio_ssrc, user_id)
            else:
                receiver.clients_connected([user_id])
        elif op == VoiceOp.CLIENT_DISCONNECT:
            receiver.client_disconnected(int(data["user_id"]))
