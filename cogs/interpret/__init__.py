"""The ``/interpret`` extension: commands (``commands``), posted messages (``events``),
option parsing (``options``) and texts (``formatting``). Thin: the decisions are in
:mod:`bot.service`; the services come ready from the bot."""

from __future__ import annotations

from typing import Any

from cogs.interpret.commands import InterpretCommands
from cogs.interpret.events import InterpretEvents


async def setup(bot: Any) -> None:
    services = bot.services  # created in setup_hook before any extension loads
    await bot.add_cog(InterpretCommands(bot, services))
    await bot.add_cog(InterpretEvents(bot))
