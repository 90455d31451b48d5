"""The discord.py internals the receive layer depends on are still there."""

from __future__ import annotations

from bot.voice.internals_guard import missing_internals


def test_discord_py_internals_used_by_the_receive_layer_exist() -> None:
    assert missing_internals() == []
