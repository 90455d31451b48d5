"""The REST half of the fake: ``https://discord.com/api/v10/...`` routes.

Each request is authenticated (bot routes), matched against a small regex table,
recorded as a :class:`RestCall`, optionally rate limited (429 with ``retry_after``
and the headers discord.py reads), validated like the real API and applied to the
:class:`World`. Side effects the bot would see on the gateway (MESSAGE_CREATE,
THREAD_CREATE, ...) go through the ``dispatch`` callback.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from tests.fakes.discord import payloads
from tests.fakes.discord.model import Channel as ChannelModel
from tests.fakes.discord.model import (
    ChannelType,
    InteractionRecord,
    Message,
    Permission,
    RestCall,
    Webhook,
    compute_permissions,
)
from tests.fakes.discord.validation import (
    ApiError,
    form_error,
    missing_permissions,
    unauthorized,
    unknown,
    validate_allowed_mentions,
    validate_choices,
    validate_message,
    validate_thread_name,
    validate_webhook_username,
)
from tests.fakes.discord.world import World

API_PREFIX = "/api/v10"
EPHEMERAL = 64
LOADING = 128

#: ``dispatch(event_name, data)``: send a gateway DISPATCH to connected bots.
Dispatch = Callable[[str, dict[str, Any]], Awaitable[None]]


@dataclass
class RateLimitRule:
    """Answer the next ``times`` matching requests with 429."""

    method: str
    path: re.Pattern[str]
    times: int
    retry_after: float
    is_global: bool = False
    hits: int = 0


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    attachments: int
    headers: dict[str, str]


Handler = Callable[..., Awaitable[tuple[int, Any]]]


class RestApi:
    def __init__(self, world: World, dispatch: Dispatch) -> None:
        self.world = world
        self._dispatch = dispatch
        self._rate_limits: list[RateLimitRule] = []
        self.rate_limited = 0
        s = r"(\d+)"
        t = r"([^/]+)"
        self._routes: list[tuple[str, re.Pattern[str], Handler, bool]] = []
        table: list[tuple[str, str, Handler, bool]] = [
            ("GET", "/users/@me", self.get_me, True),
            ("GET", "/oauth2/applications/@me", self.get_application, True),
            ("GET", "/gateway/bot", self.get_gateway_bot, True),
            ("PUT", f"/applications/{s}/commands", self.put_commands, True),
            ("GET", f"/applications/{s}/commands", self.get_commands, True),
            ("PUT", f"/applications/{s}/guilds/{s}/commands", self.put_guild_commands, True),
            ("GET", f"/applications/{s}/guilds/{s}/commands", self.get_guild_commands, True),
            ("POST", f"/interactions/{s}/{t}/callback", self.interaction_callback, False),
            ("GET", f"/webhooks/{s}/{t}/messages/{t}", self.get_webhook_message, False),
            ("PATCH", f"/webhooks/{s}/{t}/messages/{t}", self.edit_webhook_message, False),
            ("DELETE", f"/webhooks/{s}/{t}/messages/{t}", self.delete_webhook_message, False),
            ("POST", f"/webhooks/{s}/{t}", self.execute_webhook, False),
            ("GET", f"/channels/{s}", self.get_channel, True),
            ("PATCH", f"/channels/{s}", self.edit_channel, True),
            ("POST", f"/channels/{s}/messages", self.create_message, True),
            ("GET", f"/channels/{s}/messages/{s}", self.get_message, True),
            ("PATCH", f"/channels/{s}/messages/{s}", self.edit_message, True),
            ("DELETE", f"/channels/{s}/messages/{s}", self.delete_message, True),
            ("POST", f"/channels/{s}/threads", self.create_thread, True),
            ("POST", f"/channels/{s}/messages/{s}/threads", self.create_thread_from_message, True),
            ("PUT", f"/channels/{s}/thread-members/@me", self.join_thread, True),
            ("POST", f"/channels/{s}/webhooks", self.create_webhook, True),
            ("GET", f"/channels/{s}/webhooks", self.channel_webhooks, True),
            ("GET", f"/guilds/{s}", self.get_guild, True),
            ("GET", f"/guilds/{s}/channels", self.guild_channels, True),
            ("GET", f"/guilds/{s}/roles", self.guild_roles, True),
            ("GET", f"/guilds/{s}/members/{s}", self.get_member, True),
        ]
        for method, pattern, handler, auth in table:
            self._routes.append((method, re.compile(f"^{pattern}$"), handler, auth))

    # -- knobs ------------------------------------------------------------

    def rate_limit(self, method: str, path_regex: str, *, times: int = 1,
                   retry_after: float = 0.05, is_global: bool = False) -> RateLimitRule:
        """Make the next ``times`` requests matching ``path_regex`` (API path
        without the ``/api/v10`` prefix) answer 429."""
        rule = RateLimitRule(method.upper(), re.compile(path_regex), times, retry_after,
                             is_global)
        self._rate_limits.append(rule)
        return rule

    # -- plumbing ---------------------------------------------------------

    def install(self, app: web.Application) -> None:
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._handle)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        req = Request(
            method=request.method,
            path=path,
            query=dict(request.query),
            body=None,
            attachments=0,
            headers=dict(request.headers),
        )
        status: int
        body: Any
        headers: dict[str, str] = {}
        try:
            req.body, req.attachments = await _read_body(request)
            status, body = await self._route(req)
        except ApiError as err:
            status, body = err.status, err.body()
        except _RateLimited as rl:
            status, body, headers = 429, rl.body(), rl.headers()
        self.world.rest_calls.append(
            RestCall(req.method, path, req.query, req.body, status, time.monotonic()))
        if status == 204 or body is None:
            return web.Response(status=204 if status < 300 else status, headers=headers)
        return web.Response(status=status, body=json.dumps(body).encode(),
                            content_type="application/json", headers=headers)

    async def _route(self, req: Request) -> tuple[int, Any]:
        for method, pattern, handler, auth in self._routes:
            match = pattern.match(req.path)
            if match is None or method != req.method:
                continue
            if auth and req.headers.get("Authorization") != f"Bot {self.world.bot_token}":
                raise unauthorized()
            self._check_rate_limit(req)
            return await handler(req, *match.groups())
        raise ApiError(404, 0, "404: Not Found")

    def _check_rate_limit(self, req: Request) -> None:
        for rule in self._rate_limits:
            if rule.method == req.method and rule.path.search(req.path) and rule.hits < rule.times:
                rule.hits += 1
                self.rate_limited += 1
                raise _RateLimited(rule)

    # -- helpers ----------------------------------------------------------

    def _channel(self, channel_id: str) -> tuple[Any, ChannelModel]:
        try:
            return self.world.find_channel(int(channel_id))
        except KeyError:
            raise unknown("channel") from None

    def _bot_perms(self, guild: Any, channel: ChannelModel | None) -> int:
        return compute_permissions(guild, guild.members[self.world.bot_user.id], channel)

    def _require(self, guild: Any, channel: ChannelModel | None, *needed: Permission) -> None:
        perms = self._bot_perms(guild, channel)
        if not perms & Permission.VIEW_CHANNEL and channel is not None:
            raise ApiError(403, 50001, "Missing Access")
        for p in needed:
            if not perms & p:
                raise missing_permissions()

    def _new_message(self, channel_id: int, body: dict[str, Any], **extra: Any) -> Message:
        msg = Message(
            id=self.world.new_id(),
            channel_id=channel_id,
            author=extra.pop("author", self.world.bot_user),
            content=body.get("content") or "",
            embeds=list(body.get("embeds") or []),
            components=list(body.get("components") or []),
            allowed_mentions=body.get("allowed_mentions"),
            flags=int(body.get("flags") or 0),
            tts=bool(body.get("tts")),
            **extra,
        )
        self.world.messages[msg.id] = msg
        return msg

    def _message_json(self, msg: Message) -> dict[str, Any]:
        try:
            guild, _ = self.world.find_channel(msg.channel_id)
        except KeyError:
            guild = None
        return payloads.message(msg, guild)

    async def _announce(self, msg: Message) -> None:
        if msg.flags & EPHEMERAL:
            return
        try:
            guild, channel = self.world.find_channel(msg.channel_id)
        except KeyError:
            return
        channel.last_message_id = msg.id
        await self._dispatch("MESSAGE_CREATE", payloads.message(msg, guild))

    def _apply_edit(self, msg: Message, body: dict[str, Any]) -> None:
        validate_message(body, editing=True)
        validate_allowed_mentions(body)
        msg.edits.append(body)
        if "content" in body:
            msg.content = body["content"] or ""
        if "embeds" in body:
            msg.embeds = list(body["embeds"] or [])
        if "components" in body:
            msg.components = list(body["components"] or [])
        if "allowed_mentions" in body:
            msg.allowed_mentions = body["allowed_mentions"]
        if "flags" in body and body["flags"] is not None:
            msg.flags = int(body["flags"]) | (msg.flags & EPHEMERAL)
        msg.flags &= ~LOADING

    # -- application ------------------------------------------------------

    async def get_me(self, req: Request) -> tuple[int, Any]:
        me = payloads.user(self.world.bot_user)
        me.update(verified=True, mfa_enabled=False, flags=0, locale="en-US", email=None)
        return 200, me

    async def get_application(self, req: Request) -> tuple[int, Any]:
        app = self.world.application
        return 200, {
            "id": str(app.id), "name": app.name, "icon": None, "description": "",
            "rpc_origins": [], "bot_public": True, "bot_require_code_grant": False,
            "owner": payloads.user(app.owner), "team": None, "verify_key": "00" * 32,
            "flags": 0, "bot": payloads.user(self.world.bot_user), "summary": "",
            "interactions_endpoint_url": None, "tags": [],
        }

    async def get_gateway_bot(self, req: Request) -> tuple[int, Any]:
        return 200, {"url": "wss://gateway.discord.gg", "shards": 1,
                     "session_start_limit": {"total": 1000, "remaining": 999,
                                             "reset_after": 0, "max_concurrency": 1}}

    def _store_commands(self, app_id: str, guild_id: int | None,
                        body: Any) -> list[dict[str, Any]]:
        if int(app_id) != self.world.application.id:
            raise missing_access()
        if not isinstance(body, list):
            raise form_error("_", "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
        names: set[tuple[int, str]] = set()
        stored = []
        previous = {(c["type"], c["name"]): c for c in self.world.commands.get(guild_id, [])}
        for i, cmd in enumerate(body):
            name = cmd.get("name")
            ctype = int(cmd.get("type", 1))
            if not isinstance(name, str) or not 1 <= len(name) <= 32:
                raise form_error(f"{i}.name", "BASE_TYPE_BAD_LENGTH",
                                 "Must be between 1 and 32 in length.")
            if ctype == 1 and (name != name.lower() or " " in name):
                raise form_error(f"{i}.name", "APPLICATION_COMMAND_INVALID_NAME",
                                 "Command name is invalid")
            if (ctype, name) in names:
                raise form_error(f"{i}.name", "APPLICATION_COMMANDS_DUPLICATE_NAME",
                                 "Application command names must be unique")
            names.add((ctype, name))
            old = previous.get((ctype, name))
            out = dict(cmd)
            out.update(
                id=old["id"] if old else str(self.world.new_id()),
                application_id=str(self.world.application.id),
                version=str(self.world.new_id()),
                type=ctype,
                options=cmd.get("options") or [],
                default_member_permissions=cmd.get("default_member_permissions"),
                nsfw=bool(cmd.get("nsfw", False)),
                description=cmd.get("description", ""),
            )
            if guild_id is not None:
                out["guild_id"] = str(guild_id)
            stored.append(out)
        self.world.commands[guild_id] = stored
        return stored

    async def put_commands(self, req: Request, app_id: str) -> tuple[int, Any]:
        return 200, self._store_commands(app_id, None, req.body)

    async def get_commands(self, req: Request, app_id: str) -> tuple[int, Any]:
        return 200, self.world.commands.get(None, [])

    async def put_guild_commands(self, req: Request, app_id: str,
                                 guild_id: str) -> tuple[int, Any]:
        if int(guild_id) not in self.world.guilds:
            raise unknown("guild")
        return 200, self._store_commands(app_id, int(guild_id), req.body)

    async def get_guild_commands(self, req: Request, app_id: str,
                                 guild_id: str) -> tuple[int, Any]:
        return 200, self.world.commands.get(int(guild_id), [])

    # -- interactions -----------------------------------------------------

    def _interaction_by_token(self, app_id: str, token: str) -> InteractionRecord:
        if int(app_id) != self.world.application.id:
            raise unknown("webhook")
        for rec in self.world.interactions.values():
            if rec.token == token:
                return rec
        raise unknown("webhook")

    async def interaction_callback(self, req: Request, interaction_id: str,
                                   token: str) -> tuple[int, Any]:
        rec = self.world.interactions.get(int(interaction_id))
        if rec is None or rec.token != token:
            raise unknown("interaction")
        body = req.body if isinstance(req.body, dict) else {}
        rtype = int(body.get("type", 0))
        if rec.responses:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        data = body.get("data") or {}
        message: Message | None = None
        if rtype == 4:
            validate_message(data, attachments=req.attachments)
            validate_allowed_mentions(data)
            message = self._new_message(rec.channel_id, data, interaction_id=rec.id)
        elif rtype == 5:
            flags = (int(data.get("flags") or 0) & EPHEMERAL) | LOADING
            message = self._new_message(rec.channel_id, {"flags": flags},
                                        interaction_id=rec.id)
        elif rtype == 8:
            validate_choices(list(data.get("choices") or []))
        elif rtype == 7:
            validate_message(data, editing=True)
        elif rtype not in (6, 9):
            raise form_error("type", "BASE_TYPE_CHOICES",
                             "Value must be one of (1, 4, 5, 6, 7, 8, 9).")
        rec.responses.append(body)
        if message is not None:
            rec.original = message
            if rtype == 4:
                await self._announce(message)
        if "with_response" not in req.query or req.query["with_response"] in ("0", "false"):
            return 204, None
        out: dict[str, Any] = {
            "interaction": {
                "id": str(rec.id),
                "type": rec.type,
                "response_message_id": None if message is None else str(message.id),
                "response_message_loading": rtype == 5,
                "response_message_ephemeral": bool(message and message.flags & EPHEMERAL),
            },
        }
        if message is not None:
            out["resource"] = {"type": rtype, "message": self._message_json(message)}
        else:
            out["resource"] = {"type": rtype}
        return 200, out

    def _webhook_target(self, webhook_id: str, token: str) -> InteractionRecord | Webhook:
        if int(webhook_id) == self.world.application.id:
            return self._interaction_by_token(webhook_id, token)
        hook = self.world.webhooks.get(int(webhook_id))
        if hook is None or hook.token != token:
            raise unknown("webhook")
        return hook

    def _webhook_message(self, target: InteractionRecord | Webhook,
                         message_id: str) -> Message:
        if isinstance(target, InteractionRecord):
            if message_id == "@original":
                if target.original is None or target.original.deleted:
                    raise unknown("message")
                return target.original
            for m in target.followups:
                if str(m.id) == message_id and not m.deleted:
                    return m
            raise unknown("message")
        msg = self.world.messages.get(int(message_id)) if message_id.isdigit() else None
        if msg is None or msg.webhook_id != target.id or msg.deleted:
            raise unknown("message")
        return msg

    async def execute_webhook(self, req: Request, webhook_id: str, token: str) -> tuple[int, Any]:
        target = self._webhook_target(webhook_id, token)
        body = req.body if isinstance(req.body, dict) else {}
        validate_message(body, attachments=req.attachments)
        validate_allowed_mentions(body)
        wait = req.query.get("wait", "false").lower() in ("1", "true")
        if isinstance(target, InteractionRecord):
            if not target.responses:
                raise unknown("webhook")
            msg = self._new_message(target.channel_id, body, interaction_id=target.id)
            target.followups.append(msg)
            await self._announce(msg)
            return (200, self._message_json(msg)) if wait else (204, None)
        validate_webhook_username(body.get("username"))
        channel_id = target.channel_id
        if "thread_id" in req.query:
            _, thread = self._channel(req.query["thread_id"])
            if not thread.is_thread or thread.parent_id != target.channel_id:
                raise ApiError(400, 220001, "Webhooks can only be used with threads in the "
                                            "webhook's channel")
            channel_id = thread.id
            thread.archived = False
        hook_user = self.world.users.get(target.creator_id, self.world.bot_user)
        author = type(hook_user)(id=target.id, username=body.get("username") or target.name,
                                 bot=True)
        msg = self._new_message(channel_id, body, author=author, webhook_id=target.id,
                                username=body.get("username"),
                                avatar_url=body.get("avatar_url"))
        msg.flags &= ~EPHEMERAL
        await self._announce(msg)
        return (200, self._message_json(msg)) if wait else (204, None)

    async def get_webhook_message(self, req: Request, webhook_id: str, token: str,
                                  message_id: str) -> tuple[int, Any]:
        msg = self._webhook_message(self._webhook_target(webhook_id, token), message_id)
        return 200, self._message_json(msg)

    async def edit_webhook_message(self, req: Request, webhook_id: str, token: str,
                                   message_id: str) -> tuple[int, Any]:
        msg = self._webhook_message(self._webhook_target(webhook_id, token), message_id)
        self._apply_edit(msg, req.body if isinstance(req.body, dict) else {})
        return 200, self._message_json(msg)

    async def delete_webhook_message(self, req: Request, webhook_id: str, token: str,
                                     message_id: str) -> tuple[int, Any]:
        msg = self._webhook_message(self._webhook_target(webhook_id, token), message_id)
        msg.deleted = True
        return 204, None

    # -- channels, messages, threads ---------------------------------------

    async def get_channel(self, req: Request, channel_id: str) -> tuple[int, Any]:
        guild, channel = self._channel(channel_id)
        self._require(guild, channel)
        return 200, payloads.channel(channel)

    async def edit_channel(self, req: Request, channel_id: str) -> tuple[int, Any]:
        guild, channel = self._channel(channel_id)
        body = req.body if isinstance(req.body, dict) else {}
        if channel.is_thread:
            if channel.owner_id != self.world.bot_user.id:
                self._require(guild, channel, Permission.MANAGE_THREADS)
        else:
            self._require(guild, channel, Permission.MANAGE_CHANNELS)
        if "name" in body:
            validate_thread_name(body["name"])
            channel.name = body["name"]
        if "archived" in body:
            channel.archived = bool(body["archived"])
        if "topic" in body:
            channel.topic = body["topic"]
        data = payloads.channel(channel)
        await self._dispatch("THREAD_UPDATE" if channel.is_thread else "CHANNEL_UPDATE", data)
        return 200, data

    async def create_message(self, req: Request, channel_id: str) -> tuple[int, Any]:
        guild, channel = self._channel(channel_id)
        if channel.type == ChannelType.CATEGORY:
            raise ApiError(400, 50008, "Cannot send messages in a non-text channel")
        needed = (Permission.SEND_MESSAGES_IN_THREADS if channel.is_thread
                  else Permission.SEND_MESSAGES)
        self._require(guild, channel, needed)
        body = req.body if isinstance(req.body, dict) else {}
        validate_message(body, attachments=req.attachments)
        validate_allowed_mentions(body)
        if channel.is_thread:
            channel.archived = False
        msg = self._new_message(channel.id, body)
        msg.flags &= ~EPHEMERAL
        await self._announce(msg)
        return 200, self._message_json(msg)

    def _message_in(self, channel_id: str, message_id: str) -> tuple[Any, ChannelModel, Message]:
        guild, channel = self._channel(channel_id)
        msg = self.world.messages.get(int(message_id))
        if msg is None or msg.deleted or msg.channel_id != channel.id:
            raise unknown("message")
        return guild, channel, msg

    async def get_message(self, req: Request, channel_id: str, message_id: str) -> tuple[int, Any]:
        guild, channel, msg = self._message_in(channel_id, message_id)
        self._require(guild, channel, Permission.READ_MESSAGE_HISTORY)
        return 200, self._message_json(msg)

    async def edit_message(self, req: Request, channel_id: str,
                           message_id: str) -> tuple[int, Any]:
        _, _, msg = self._message_in(channel_id, message_id)
        if msg.author.id != self.world.bot_user.id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        self._apply_edit(msg, req.body if isinstance(req.body, dict) else {})
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
        validate_thread_name(body.get("name"))
        ttype = ChannelType(int(body.get("type") or ChannelType.PUBLIC_THREAD))
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
        return await self._new_thread(guild, parent, req.body if isinstance(req.body, dict) else {})

    async def create_thread_from_message(self, req: Request, channel_id: str,
                                         message_id: str) -> tuple[int, Any]:
        guild, parent, msg = self._message_in(channel_id, message_id)
        if any(c.starter_message_id == msg.id for c in guild.channels.values()):
            raise ApiError(400, 160004, "A thread has already been created for this message")
        body = dict(req.body) if isinstance(req.body, dict) else {}
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
        body = req.body if isinstance(req.body, dict) else {}
        validate_webhook_username(body.get("name"), field="name")
        hook = Webhook(id=self.world.new_id(), token=secrets.token_urlsafe(32),
                       channel_id=channel.id, guild_id=guild.id,
                       name=body.get("name") or "Webhook", creator_id=self.world.bot_user.id)
        self.world.webhooks[hook.id] = hook
        return 200, payloads.webhook(hook, self.world.bot_user, self.world.application.id)

    async def channel_webhooks(self, req: Request, channel_id: str) -> tuple[int, Any]:
        guild, channel = self._channel(channel_id)
        self._require(guild, channel, Permission.MANAGE_WEBHOOKS)
        return 200, [payloads.webhook(h, self.world.bot_user, self.world.application.id)
                     for h in self.world.webhooks.values() if h.channel_id == channel.id]

    # -- guilds -----------------------------------------------------------

    def _guild(self, guild_id: str) -> Any:
        guild = self.world.guilds.get(int(guild_id))
        if guild is None:
            raise unknown("guild")
        return guild

    async def get_guild(self, req: Request, guild_id: str) -> tuple[int, Any]:
        data = payloads.guild_create(self._guild(guild_id), include_voice_states=False)
        for key in ("members", "channels", "threads", "voice_states", "presences"):
            data.pop(key)
        return 200, data

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


def missing_access() -> ApiError:
    return ApiError(403, 50001, "Missing Access")


class _RateLimited(Exception):
    def __init__(self, rule: RateLimitRule) -> None:
        super().__init__("rate limited")
        self.rule = rule

    def body(self) -> dict[str, Any]:
        return {"message": "You are being rate limited.", "retry_after": self.rule.retry_after,
                "global": self.rule.is_global, "code": 0}

    def headers(self) -> dict[str, str]:
        after = f"{self.rule.retry_after:.3f}"
        out = {
            "Retry-After": str(max(1, round(self.rule.retry_after))),
            "X-RateLimit-Scope": "global" if self.rule.is_global else "user",
            # discord.py treats a 429 without Via as a Cloudflare ban.
            "Via": "1.1 google",
        }
        if self.rule.is_global:
            out["X-RateLimit-Global"] = "true"
        else:
            out.update({
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + self.rule.retry_after:.3f}",
                "X-RateLimit-Reset-After": after,
                "X-RateLimit-Bucket": f"fake-{abs(hash(self.rule.path.pattern)) % 10**8:08d}",
            })
        return out


async def _read_body(request: web.Request) -> tuple[Any, int]:
    """JSON body, or multipart's ``payload_json`` plus the number of files."""
    if not request.can_read_body:
        return None, 0
    ctype = request.content_type
    if ctype == "multipart/form-data":
        body: Any = None
        files = 0
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "payload_json":
                body = json.loads(await part.text())
            else:
                await part.read()
                files += 1
        return body, files
    raw = await request.read()
    if not raw:
        return None, 0
    try:
        return json.loads(raw), 0
    except ValueError:
        raise ApiError(400, 50109, "The request body contains invalid JSON.") from None
