"""REST resources of a guild: channels, messages, threads, channel webhooks, and the
guild/member/role lookups. Permission checks use the bot's computed permissions;
every body is checked against its route's schema (``api_schemas``) before use."""

from __future__ import annotations

import secrets
from typing import Any

from tests.fakes.discord import api_schemas, payloads
from tests.fakes.discord.model import Channel as ChannelModel
from tests.fakes.discord.model import (
    ChannelType,
    Permission,
    Webhook,
)
from tests.fakes.discord.rest_base import (
    EPHEMERAL,
    Request,
    RestResource,
    Route,
    S,
)
from tests.fakes.discord.thread_admin import check_thread_open
from tests.fakes.discord.validation import (
    ApiError,
    check_body,
    form_error,
    unknown,
    validate_message,
    validate_webhook_name,
)


class GuildRoutes(RestResource):
    def routes(self) -> list[Route]:
        return [
            ("GET", f"/channels/{S}", self.get_channel, True),
            ("PATCH", f"/channels/{S}", self.edit_channel, True),
            ("DELETE", f"/channels/{S}", self.delete_channel, True),
            ("POST", f"/channels/{S}/messages", self.create_message, True),
            ("GET", f"/channels/{S}/messages/{S}", self.get_message, True),
            ("PATCH", f"/channels/{S}/messages/{S}", self.edit_message, True),
            ("DELETE", f"/channels/{S}/messages/{S}", self.delete_message, True),
            ("POST", f"/channels/{S}/threads", self.create_thread, True),
            ("POST", f"/channels/{S}/messages/{S}/threads", self.create_thread_from_message,
             True),
            ("PUT", f"/channels/{S}/thread-members/@me", self.join_thread, True),
            ("POST", f"/channels/{S}/webhooks", self.create_webhook, True),
            ("GET", f"/channels/{S}/webhooks", self.channel_webhooks, True),
            ("GET", f"/guilds/{S}", self.get_guild, True),
            ("GET", f"/guilds/{S}/channels", self.guild_channels, True),
            ("GET", f"/guilds/{S}/roles", self.guild_roles, True),
            ("GET", f"/guilds/{S}/members/{S}", self.get_member, True),
        ]

    async def get_channel(self, req: Request, channel_id: str) -> tuple[int, Any]:
        guild, channel = self._channel(channel_id)
        self._require(guild, channel)
        return 200, payloads.channel(channel)

    async def edit_channel(self, req: Request, channel_id: str) -> tuple[int, Any]:
        guild, channel = self._channel(channel_id)
        if channel.is_thread:
            if channel.owner_id != self.world.bot_user.id:
                self._require(guild, channel, Permission.MANAGE_THREADS)
        else:
            self._require(guild, channel, Permission.MANAGE_CHANNELS)
        check_body(api_schemas.THREAD_UPDATE if channel.is_thread else api_schemas.CHANNEL_UPDATE,
                   req.body)
        body = req.json
        if body.get("name"):
            channel.name = body["name"]
        if channel.is_thread:
            if body.get("archived") is not None:
                channel.archived = body["archived"]
            if body.get("locked") is not None:
                channel.locked = body["locked"]
            if body.get("auto_archive_duration") is not None:
                channel.auto_archive_duration = int(body["auto_archive_duration"])
        elif "topic" in body:
            channel.topic = body["topic"]
        data = payloads.channel(channel)
        await self._dispatch("THREAD_UPDATE" if channel.is_thread else "CHANNEL_UPDATE", data)
        return 200, data

    async def delete_channel(self, req: Request, channel_id: str) -> tuple[int, Any]:
        guild, channel = self._channel(channel_id)
        self._require(guild, channel, Permission.MANAGE_THREADS if channel.is_thread
                      else Permission.MANAGE_CHANNELS)
        data = payloads.channel(channel)
        del guild.channels[channel.id]
        for msg in self.world.messages.values():
            if msg.channel_id == channel.id:
                msg.deleted = True
        if channel.is_thread:
            await self._dispatch("THREAD_DELETE", {
                "id": str(channel.id), "guild_id": str(guild.id),
                "parent_id": str(channel.parent_id), "type": int(channel.type)})
        else:
            await self._dispatch("CHANNEL_DELETE", data)
        return 200, data

    async def create_message(self, req: Request, channel_id: str) -> tuple[int, Any]:
        guild, channel = self._channel(channel_id)
        if channel.type == ChannelType.CATEGORY:
            raise ApiError(400, 50008, "Cannot send messages in a non-text channel")
        needed = (Permission.SEND_MESSAGES_IN_THREADS if channel.is_thread
                  else Permission.SEND_MESSAGES)
        self._require(guild, channel, needed)
        check_body(api_schemas.MESSAGE_CREATE, req.body)
        body = req.json
        validate_message(body, attachments=req.attachments)
        check_thread_open(channel)
        if channel.is_thread:
            channel.archived = False
        msg = self._new_message(channel.id, body)
        msg.flags &= ~EPHEMERAL
        self._keep_files(msg, req)
        await self._announce(msg)
        return 200, self._message_json(msg)

    async def get_message(self, req: Request, channel_id: str, message_id: str) -> tuple[int, Any]:
        guild, channel, msg = self._message_in(channel_id, message_id)
        self._require(guild, channel, Permission.READ_MESSAGE_HISTORY)
        return 200, self._message_json(msg)

    async def edit_message(self, req: Request, channel_id: str,
                           message_id: str) -> tuple[int, Any]:
        _, channel, msg = self._message_in(channel_id, message_id)
        if msg.author.id != self.world.bot_user.id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        check_thread_open(channel)
        check_body(api_schemas.MESSAGE_EDIT, req.body)
        self._apply_edit(msg, req.json)
        data = self._message_json(msg)
        await self._dispatch("MESSAGE_UPDATE", data)
        return 200, data

    async def delete_message(self, req: Request, channel_id: str,
                             message_id: str) -> tuple[int, Any]:
        guild, channel, msg = self._message_in(channel_id, message_id)
        if msg.author.id != self.world.bot_user.id:
            self._require(guild, channel, Permission.MANAGE_MESSAGES)
        msg.deleted = True
        await self._dispatch("MESSAGE_DELETE", {"id": str(msg.id), "channel_id": str(channel.id),
                                                "guild_id": str(guild.id)})
        return 204, None

    async def _new_thread(self, guild: Any, parent: ChannelModel, body: dict[str, Any],
                          *, thread_id: int | None = None,
                          starter: int | None = None) -> tuple[int, Any]:
        if parent.type != ChannelType.TEXT:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        kind = int(body.get("type") or ChannelType.PUBLIC_THREAD)
        if kind not in (ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD):
            # Announcement threads (10) live in announcement channels only.
            raise form_error("type", "BASE_TYPE_CHOICES", "Value must be one of {11, 12}.")
        ttype = ChannelType(kind)
        needed = (Permission.CREATE_PRIVATE_THREADS if ttype == ChannelType.PRIVATE_THREAD
                  else Permission.CREATE_PUBLIC_THREADS)
        self._require(guild, parent, needed)
        thread = ChannelModel(
            id=thread_id or self.world.new_id(),
            guild_id=guild.id,
            type=ttype,
            name=body["name"],
            parent_id=parent.id,
            owner_id=self.world.bot_user.id,
            auto_archive_duration=int(body.get("auto_archive_duration") or 4320),
            starter_message_id=starter,
        )
        guild.channels[thread.id] = thread
        data = payloads.channel(thread)
        await self._dispatch("THREAD_CREATE", {**data, "newly_created": True})
        return 201, data

    async def create_thread(self, req: Request, channel_id: str) -> tuple[int, Any]:
        guild, parent = self._channel(channel_id)
        check_body(api_schemas.THREAD_CREATE, req.body)
        return await self._new_thread(guild, parent, req.json)

    async def create_thread_from_message(self, req: Request, channel_id: str,
                                         message_id: str) -> tuple[int, Any]:
        guild, parent, msg = self._message_in(channel_id, message_id)
        if any(c.starter_message_id == msg.id for c in guild.channels.values()):
            raise ApiError(400, 160004, "A thread has already been created for this message")
        check_body(api_schemas.THREAD_FROM_MESSAGE, req.body)
        body = dict(req.json)
        body["type"] = ChannelType.PUBLIC_THREAD
        # Discord gives a thread started from a message the message's id.
        return await self._new_thread(guild, parent, body, thread_id=msg.id, starter=msg.id)

    async def join_thread(self, req: Request, channel_id: str) -> tuple[int, Any]:
        self._channel(channel_id)
        return 204, None

    async def create_webhook(self, req: Request, channel_id: str) -> tuple[int, Any]:
        guild, channel = self._channel(channel_id)
        if channel.type != ChannelType.TEXT:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        self._require(guild, channel, Permission.MANAGE_WEBHOOKS)
        check_body(api_schemas.WEBHOOK_CREATE, req.body)
        body = req.json
        validate_webhook_name(body["name"], field="name")
        hook = Webhook(id=self.world.new_id(), token=secrets.token_urlsafe(32),
                       channel_id=channel.id, guild_id=guild.id,
                       name=body["name"], creator_id=self.world.bot_user.id)
        self.world.webhooks[hook.id] = hook
        return 200, payloads.webhook(hook, self.world.bot_user, self.world.application.id)

    async def channel_webhooks(self, req: Request, channel_id: str) -> tuple[int, Any]:
        guild, channel = self._channel(channel_id)
        self._require(guild, channel, Permission.MANAGE_WEBHOOKS)
        return 200, [payloads.webhook(h, self.world.bot_user, self.world.application.id)
                     for h in self.world.webhooks.values() if h.channel_id == channel.id]

    # -- guilds -----------------------------------------------------------

    async def get_guild(self, req: Request, guild_id: str) -> tuple[int, Any]:
        return 200, payloads.guild_with_counts(self._guild(guild_id))

    async def guild_channels(self, req: Request, guild_id: str) -> tuple[int, Any]:
        guild = self._guild(guild_id)
        return 200, [payloads.channel(c) for c in guild.channels.values() if not c.is_thread]

    async def guild_roles(self, req: Request, guild_id: str) -> tuple[int, Any]:
        return 200, [payloads.role(r) for r in self._guild(guild_id).roles.values()]

    async def get_member(self, req: Request, guild_id: str, user_id: str) -> tuple[int, Any]:
        guild = self._guild(guild_id)
        member = guild.members.get(int(user_id))
        if member is None:
            raise unknown("member")
        return 200, payloads.member(member)

