"""Parsing of the /interpret options: language codes with autocomplete, fixed choices.

A language option is normalised by :func:`bot.languages.normalize_language` while
discord.py converts it, before the command body runs, so an unknown code never
gets as far as joining a channel; the error (with close matches) travels to the
tree's error funnel. Its autocomplete offers the supported table, fuzzy on code
and name. A caption option also takes ``off``; a list of languages
(``caption_languages``) is checked code by code the same way.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.languages import normalize_language, suggest
from bot.store.config import MAX_CAPTION_LIST, caption_language_list
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

CAPTIONS_OFF = "off"
"""What a caption option says for "no captions"."""


class CaptionsOption(LanguageOption):
    """A supported language code, or ``off``."""

    async def transform(self, interaction: discord.Interaction[Any], value: Any, /) -> str:
        if str(value).strip().casefold() in (CAPTIONS_OFF, "none"):
            return CAPTIONS_OFF
        return await super().transform(interaction, value)

    async def autocomplete(self, interaction: discord.Interaction[Any],  # type: ignore[override]
                           value: str, /) -> list[app_commands.Choice[str]]:
        off = app_commands.Choice(name="off — no captions of my own", value=CAPTIONS_OFF)
        choices = await super().autocomplete(interaction, value)
        return ([off] if CAPTIONS_OFF.startswith(str(value).strip().casefold()) else []) + \
            choices[: MAX_CHOICES - 1]


Captions = app_commands.Transform[str, CaptionsOption]


class LanguageListOption(app_commands.Transformer[Any]):
    """Comma-separated supported codes (``fr, de``) → ``"fr-FR,de-DE"``."""

    async def transform(self, interaction: discord.Interaction[Any], value: Any, /) -> str:
        languages = caption_language_list(str(value))
        if not languages:
            raise ValueError("Name at least one language, e.g. `fr-FR, de-DE`.")
        if len(languages) > MAX_CAPTION_LIST:
            raise ValueError(f"Name at most {MAX_CAPTION_LIST} languages.")
        return ",".join(languages)


LanguageList = app_commands.Transform[str, LanguageListOption]

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
