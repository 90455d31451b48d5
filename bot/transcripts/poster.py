"""Posting into the thread as the speaker (a webhook) or as the bot, never pinging.

When the bot may manage webhooks in the transcript channel, :class:`Poster` keeps
one webhook there (named :data:`WEBHOOK_NAME`, found again on the next run rather
than created each time) and posts through it into the thread (``thread=``) under
the speaker's display name and avatar. Otherwise, or for a post with several or
unknown speakers, it posts as the bot and the caller puts names in bold.

Every send and edit carries ``allowed_mentions`` none and suppresses link
previews: transcripts are what people said, not commands to Discord.

Failures that only change *how* to post raise :class:`PostAgain` after adjusting
(webhook deleted → found or created again next time; webhooks refused → as the
bot from now on; a display name Discord refuses as a webhook name → that name
posts as the bot). The caller renders again and retries; everything else is
Discord's exception, for the writer's retry policy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

import discord

from bot.transcripts.render import Speaker, webhook_username

log = logging.getLogger(__name__)

WEBHOOK_NAME: Final = "Interpreter"
NO_MENTIONS: Final = discord.AllowedMentions.none()
UNKNOWN_WEBHOOK: Final = 10015
INVALID_FORM_BODY: Final = 50035


class PostAgain(Exception):
    """The way of posting changed: render again and retry at once."""


@dataclass(frozen=True, slots=True)
class Sent:
    """A message we posted: where, and whether through the webhook."""

    message_id: int
    thread_id: int
    via_webhook: bool


class Poster:
    def __init__(self, parent: discord.TextChannel, *, use_webhooks: bool = True) -> None:
        self.parent = parent
        self._webhooks_allowed = use_webhooks
        self._webhook: discord.Webhook | None = None
        self._refused_names: set[str] = set()

    def webhook_name_for(self, speaker: Speaker | None) -> str | None:
        """The webhook username to post ``speaker``'s words under, or ``None`` (as the bot)."""
        if speaker is None or speaker.member_id is None or not self._may_use_webhooks():
            return None
        name = webhook_username(speaker.display_name)
        return None if name is None or name in self._refused_names else name

    async def send(self, thread: discord.Thread, content: str,
                   speaker: Speaker | None) -> Sent:
        """Post ``content``: as ``speaker`` through the webhook when possible, else as the bot."""
        name = self.webhook_name_for(speaker)
        if name is None:
            message = await thread.send(content, allowed_mentions=NO_MENTIONS,
                                        suppress_embeds=True)
            return Sent(message.id, thread.id, False)
        assert speaker is not None
        webhook = await self._get_webhook()
        try:
            posted = await webhook.send(content, username=name, avatar_url=speaker.avatar_url,
                                        thread=thread, wait=True, allowed_mentions=NO_MENTIONS,
                                        suppress_embeds=True)
        except discord.HTTPException as exc:
            self._webhook_failed(exc, name)
            raise
        return Sent(posted.id, thread.id, True)

    async def edit(self, thread: discord.Thread, sent: Sent, content: str) -> None:
        if sent.via_webhook:
            webhook = await self._get_webhook()
            try:
                await webhook.edit_message(sent.message_id, content=content, thread=thread,
                                           allowed_mentions=NO_MENTIONS)
            except discord.HTTPException as exc:
                self._webhook_failed(exc, None)
                raise
        else:
            await thread.get_partial_message(sent.message_id).edit(
                content=content, allowed_mentions=NO_MENTIONS)

    async def delete(self, thread: discord.Thread, sent: Sent) -> None:
        if sent.via_webhook:
            webhook = await self._get_webhook()
            await webhook.delete_message(sent.message_id, thread=thread)
        else:
            await thread.get_partial_message(sent.message_id).delete()

    # -- the webhook ------------------------------------------------------------------

    def _may_use_webhooks(self) -> bool:
        if not self._webhooks_allowed:
            return False
        me = self.parent.guild.me
        return me is not None and self.parent.permissions_for(me).manage_webhooks

    async def _get_webhook(self) -> discord.Webhook:
        if self._webhook is not None:
            return self._webhook
        try:
            me = self.parent.guild.me
            for hook in await self.parent.webhooks():
                if (hook.name == WEBHOOK_NAME and hook.token is not None
                        and hook.user is not None and hook.user.id == me.id):
                    self._webhook = hook
                    return hook
            self._webhook = await self.parent.create_webhook(
                name=WEBHOOK_NAME, reason="interpretation transcripts as the speaker")
            return self._webhook
        except discord.Forbidden:
            log.info("no webhook in #%s (not allowed); posting transcripts as the bot",
                     self.parent.name)
            self._webhooks_allowed = False
            raise PostAgain from None

    def _webhook_failed(self, exc: discord.HTTPException, name: str | None) -> None:
        if isinstance(exc, discord.NotFound) and exc.code == UNKNOWN_WEBHOOK:
            log.info("the transcript webhook was deleted; making another")
            self._webhook = None
            raise PostAgain from exc
        if isinstance(exc, discord.Forbidden):
            self._webhooks_allowed = False
            raise PostAgain from exc
        if name is not None and exc.code == INVALID_FORM_BODY and "username" in str(exc.text):
            self._refused_names.add(name)
            raise PostAgain from exc
