"""The one error funnel of every slash command.

Errors travel command → group → cog → here. Two kinds come out:

- user errors (:class:`~bot.service.errors.UserError`, failed checks, options
  that do not convert — an unknown language, a text channel where a voice
  channel is needed) and an unavailable database
  (:class:`~bot.store.errors.StoreUnavailable`: try again later): one sentence,
  ephemeral, nothing logged above debug;
- anything else is a bug: logged with the command, user, guild, options and
  traceback under a short error id, and the user sees that id. A private
  option (the session ``context``) is logged as its length only
  (:func:`bot.log_privacy.shown_options`).

The answer goes wherever the interaction allows: the first response, the
deferred placeholder ("thinking..."), or an ephemeral followup; an interaction
that expired meanwhile is only logged.

The tree also knows which commands are under way (:meth:`InterpretTree.wait_idle`):
a graceful shutdown lets them answer before it closes the HTTP session, so a
command fired together with SIGTERM gets its sentence, not "the application did
not respond" and a "Session is closed" traceback.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import weakref
from typing import Any

import aiohttp
import discord
from discord import app_commands

from bot.log_privacy import shown_options
from bot.service.errors import UserError
from bot.service.outage import UNAVAILABLE
from bot.store.errors import StoreUnavailable

log = logging.getLogger(__name__)


def user_message(error: BaseException) -> str | None:
    """The sentence to show for an error the user can fix, ``None`` for a bug."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, UserError):
        return str(error)
    if isinstance(error, StoreUnavailable):
        return UNAVAILABLE
    if isinstance(error, app_commands.NoPrivateMessage):
        return "Use this command in a server."
    if isinstance(error, app_commands.TransformerError):
        cause = error.__cause__
        if isinstance(cause, (UserError, ValueError)) and str(cause):
            return str(cause)
        if error.type is discord.AppCommandOptionType.channel:
            kinds = set(getattr(error.transformer, "channel_types", ()))
            if kinds and kinds <= {discord.ChannelType.voice, discord.ChannelType.stage_voice}:
                return f"{_shown(error.value)} is not a voice channel."
            if kinds and kinds <= {discord.ChannelType.text, discord.ChannelType.news}:
                return f"{_shown(error.value)} is not a text channel."
            return f"{_shown(error.value)} is not the right kind of channel for that option."
        return f"{_shown(error.value)} is not a valid value for that option."
    if isinstance(error, app_commands.CheckFailure):
        return str(error) or "You cannot use this command here."
    return None


def _shown(value: Any) -> str:
    mention = getattr(value, "mention", None)
    return str(mention) if mention else f"`{str(value)[:50]}`"


class InterpretTree(app_commands.CommandTree[Any]):
    def __init__(self, client: discord.Client, **options: Any) -> None:
        super().__init__(client, **options)
        self._under_way: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        # discord.py runs every command in a task of its own and calls this first in it.
        task = asyncio.current_task()
        if task is not None:
            self._under_way.add(task)
        return True

    async def wait_idle(self) -> None:
        """Return once every command under way has finished (and answered)."""
        current = asyncio.current_task()
        under_way = [t for t in self._under_way if t is not current and not t.done()]
        if under_way:
            await asyncio.wait(under_way)

    async def on_error(self, interaction: discord.Interaction[Any],
                       error: app_commands.AppCommandError, /) -> None:
        message = user_message(error)
        command = interaction.command.qualified_name if interaction.command else "?"
        if message is None:
            error_id = secrets.token_hex(4)
            original = getattr(error, "original", error)
            log.error("command /%s failed [error %s] user=%s guild=%s options=%s", command,
                      error_id, interaction.user.id, interaction.guild_id,
                      _options(interaction), exc_info=original)
            message = (f"Something went wrong on my side (error id `{error_id}`). "
                       "Please try again; if it keeps happening, tell the bot's owner the id.")
        else:
            log.debug("command /%s refused: %s", command, message)
        await send_ephemeral(interaction, message)


async def send_ephemeral(interaction: discord.Interaction[Any], message: str) -> None:
    """Answer ``interaction`` with ``message`` (ephemeral), however far it got."""
    try:
        if interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
            # Deferred ("thinking..."): the answer replaces the placeholder.
            await interaction.edit_original_response(
                content=message, allowed_mentions=discord.AllowedMentions.none())
        elif interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True,
                                            allowed_mentions=discord.AllowedMentions.none())
        else:
            await interaction.response.send_message(
                message, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())
    except discord.NotFound:
        log.info("interaction %s expired before its error could be shown", interaction.id)
    except discord.HTTPException as exc:
        log.warning("could not show an error to the user: %s", exc)
    except (RuntimeError, aiohttp.ClientError) as exc:
        # A command that reached the bot while it was closing: its HTTP session is gone.
        if not interaction.client.is_closed():
            raise
        log.info("interaction %s came in as the bot closed; not answered (%s)",
                 interaction.id, exc)


def _options(interaction: discord.Interaction[Any]) -> dict[str, Any]:
    data: Any = interaction.data or {}

    def leaves(options: list[dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for option in options:
            if "options" in option:
                out.update(leaves(option["options"]))
            elif "value" in option:
                out[option["name"]] = option["value"]
        return out

    return shown_options(leaves(list(data.get("options", []))))
