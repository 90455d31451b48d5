"""The Discord voice gateway op codes the receive layer reads (one definition).

discord.py handles these ops itself; we read them again through its websocket hook
to learn keys and who speaks on which SSRC. :mod:`bot.voice.internals_guard`
checks that discord.py still numbers them the same way.
"""

from __future__ import annotations

import enum


class VoiceOp(enum.IntEnum):
    SESSION_DESCRIPTION = 4
    SPEAKING = 5
    CLIENTS_CONNECT = 11
    CLIENT_CONNECT = 12
    CLIENT_DISCONNECT = 13
