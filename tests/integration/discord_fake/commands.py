"""Test-only application commands (never in cogs/): enough surface to exercise the fake."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.app import InterpretBot

LANGUAGES = ("en-US", "es-ES", "fr-FR", "de-DE")


def register_test_commands(bot: InterpretBot) -> None:
    """``/echo say``, ``/echo slow`` (deferred), ``/thread open`` on the bot's tree."""
    echo = app_commands.Group(name="echo", description="Echo things back")

    @echo.command(name="say", description="Say something")
    async def say(interaction: discord.Interaction, text: str, times: int = 1,
                  who: discord.Member | None = None) -> None:
        suffix = f" for {who.display_name}" if who is not None else ""
        await interaction.response.send_message(" ".join([text] * times) + suffix,
                                                ephemeral=True)

    @echo.command(name="slow", description="Defer, then follow up")
    async def slow(interaction: discord.Interaction, text: str) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.edit_original_response(content=f"slow {text}")
        await interaction.followup.send(f"and again {text}")

    @echo.command(name="lang", description="Pick a language")
    async def lang(interaction: discord.Interaction, target: str) -> None:
        await interaction.response.send_message(f"target {target}")

    @lang.autocomplete("target")
    async def lang_autocomplete(interaction: discord.Interaction,
                                current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=code, value=code) for code in LANGUAGES
                if code.lower().startswith(current.lower())]

    thread = app_commands.Group(name="thread", description="Threads")

    @thread.command(name="open", description="Open a thread and post into it")
    async def open_thread(interaction: discord.Interaction, name: str) -> None:
        assert isinstance(interaction.channel, discord.TextChannel)
        created = await interaction.channel.create_thread(
            name=name, type=discord.ChannelType.public_thread)
        await created.send(f"Transcript for {interaction.user.mention}",
                           allowed_mentions=discord.AllowedMentions.none())
        await interaction.response.send_message(f"opened {created.mention}")

    bot.tree.add_command(echo)
    bot.tree.add_command(thread)
