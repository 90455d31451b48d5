"""The discord.py internals the receive layer relies on, checked in one place.

discord.py has no receive API; we depend on attributes that are not part of its
documented surface. :func:`missing_internals` lists any that disappeared so an
upgrade fails loudly (a unit test asserts the list is empty) instead of silently
receiving nothing.
"""

from __future__ import annotations

import inspect

import discord
import discord.opus
from discord.gateway import DiscordVoiceWebSocket
from discord.voice_state import ConnectionFlowState, VoiceConnectionState

from bot.voice.ops import VoiceOp

_CONNECTION_ATTRIBUTES = ("secret_key", "mode", "dave_session", "dave_protocol_version",
                          "_expecting_disconnect")


def missing_internals() -> list[str]:
    """Names of the discord.py internals we use that no longer look as expected."""
    missing: list[str] = []
    if not callable(getattr(discord.VoiceClient, "create_connection_state", None)):
        missing.append("VoiceClient.create_connection_state")
    if "hook" not in inspect.signature(VoiceConnectionState.__init__).parameters:
        missing.append("VoiceConnectionState(hook=...)")
    for name in ("add_socket_listener", "remove_socket_listener"):
        if not callable(getattr(VoiceConnectionState, name, None)):
            missing.append(f"VoiceConnectionState.{name}")
    if not (isinstance(getattr(VoiceConnectionState, "state", None), property)
            and hasattr(ConnectionFlowState, "disconnected")):
        missing.append("VoiceConnectionState.state (ConnectionFlowState.disconnected)")
    init_source = inspect.getsource(VoiceConnectionState.__init__)
    for attribute in _CONNECTION_ATTRIBUTES:
        if f"self.{attribute}" not in init_source:
            missing.append(f"VoiceConnectionState.{attribute}")
    if "self._hook(self, msg)" not in inspect.getsource(DiscordVoiceWebSocket.received_message):
        missing.append("DiscordVoiceWebSocket.received_message calls hook(ws, msg)")
    for op in VoiceOp:
        if getattr(DiscordVoiceWebSocket, op.name, None) != op.value:
            missing.append(f"DiscordVoiceWebSocket.{op.name} == {op.value}")
    for name in ("_lib", "c_int16_ptr", "OpusError", "Decoder", "_load_default", "is_loaded"):
        if not hasattr(discord.opus, name):
            missing.append(f"discord.opus.{name}")
    if "self._state" not in inspect.getsource(discord.opus.Decoder.__init__):
        missing.append("discord.opus.Decoder._state")
    return missing
