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

Leaving when discord.py already left: when discord.py ends a connection itself (we
were kicked, a join timed out) it asks Discord to leave and forgets this client at
once, so the confirmation that comes back is routed to nobody. discord.py's own
:meth:`disconnect` would ask to leave again and wait its whole connect timeout for a
confirmation it can no longer see (a kicked bot's run then ended 10-15 s late). Yet
that wait is what keeps a late confirmation off the next join in the guild (discord.py
would take it for a kick and drop the join; ``channel.connect`` rejoins right after a
timed-out join otherwise). So :meth:`cleanup` watches for the confirmation
(``voice_state_update`` for us, out of voice before and after) and :meth:`disconnect`
waits for that instead, within ``LEAVE_CONFIRM_TIMEOUT_S``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
from discord.voice_state import ConnectionFlowState, VoiceConnectionState

from bot.voice.dave_decrypt import DaveSessionLike
from bot.voice.ops import VoiceOp
from bot.voice.receiver import VoiceReceiver

_log = logging.getLogger(__name__)

#: How long a leave discord.py asked for itself is waited for (its confirmation).
LEAVE_CONFIRM_TIMEOUT_S = 5.0


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
        self._leaving: asyncio.Task[None] | None = None
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
            if self._connection.state is not ConnectionFlowState.disconnected:
                await super().disconnect(force=force)
            elif self._leaving is not None:  # discord.py left by itself (module docstring)
                await asyncio.shield(self._leaving)
        finally:
            self._stop_receiving()
            if self._closing is not None:
                await self._closing

    def cleanup(self) -> None:
        super().cleanup()
        self._stop_receiving()
        # discord.py calls this right after asking to leave; a confirmation it waited
        # for has already cleared the flag.
        if self._connection._expecting_disconnect and self._leaving is None:
            self._leaving = self.loop.create_task(self._leave_confirmed(),
                                                  name="voice-leave-confirmation")

    async def _leave_confirmed(self) -> None:
        me, guild_id = self.client.user, self.guild.id

        def confirms(member: discord.Member, before: discord.VoiceState,
                     after: discord.VoiceState) -> bool:
            return (me is not None and member.id == me.id and member.guild.id == guild_id
                    and before.channel is None and after.channel is None)

        try:
            await self.client.wait_for("voice_state_update", check=confirms,
                                       timeout=LEAVE_CONFIRM_TIMEOUT_S)
        except TimeoutError:
            _log.debug("voice: no confirmation of leaving guild %d within %.0f s",
                       guild_id, LEAVE_CONFIRM_TIMEOUT_S)

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
