"""Services between the slash commands and the engine/store.

The cogs call these; they hold no Discord UI code (no ``discord.ext``), only the
decisions: what a run starts with, who may do what, when a run ends, what the
members chose. Created by :class:`bot.app.InterpretBot` before any cog loads.
"""
