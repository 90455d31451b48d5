"""Parsing of the /interpret options: language codes with autocomplete, fixed choices.

A language option is normalised by :func:`bot.languages.normalize_language` while
discord.py converts it, before the command body runs, so an unknown code never
gets as far as joining a channel; the error (with close matches) travels to the
tree's error funnel. Its autocomplete offers the supported table, fuzzy on code
and name.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.languages import normalize_language, suggest
from cogs.interpret.formatting import SETTING_LABELS

MAX_CHOICES = 25


class LanguageOption(app_commands.Transformer[Any]):
    """A supported language code (``es`` → ``es-ES``), autocompleted from the table."""

    async def transform(self, interaction: discord.Interaction[Any], value: Any, /) -> str:
        return normalize_language(str(value))

    async def autocomplete(self, interaction: discord.Interaction[Any],  # type: ignore[override]
                           value: str, /) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=f"{code} — {name}", value=code)
                for code, name in suggest(str(value), limit=MAX_CHOICES)]


Language = app_commands.Transform[str, LanguageOption]

VOICE_CHOICES = [
    app_commands.Choice(name="clone (each speaker's own voice)", value="clone"),
    app_commands.Choice(name="female", value="female"),
    app_commands.Choice(name="male", value="male"),
]
MODE_CHOICES = [
    app_commands.Choice(name="per-speaker (one session per member, clear attribution)",
                        value="per-speaker"),
    app_commands.Choice(name="mixed (one session for the whole channel, cheaper)",
                        value="mixed"),
    app_commands.Choice(name="pair (source ↔ target: each member into the other language)",
                        value="pair"),
]
SCOPE_CHOICES = [
    app_commands.Choice(name="this voice channel", value="channel"),
    app_commands.Choice(name="the whole server", value="server"),
]
#: ``/interpret config clear:``: every setting of a scope, by its option name.
CLEAR_CHOICES = [app_commands.Choice(name=label, value=label)
                 for label in SETTING_LABELS.values()]
FORMAT_CHOICES = [
    app_commands.Choice(name="text (txt)", value="txt"),
    app_commands.Choice(name="SubRip subtitles (srt)", value="srt"),
    app_commands.Choice(name="WebVTT subtitles (vtt)", value="vtt"),
]
