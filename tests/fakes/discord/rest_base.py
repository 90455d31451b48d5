"""Shared ground of the fake's REST resources: the request, and the helpers every
handler needs (lookups that raise the API's 404s, permission checks, creating and
announcing messages).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.discord import payloads
from tests.fakes.discord.model import Channel as ChannelModel
from tests.fakes.discord.model import Guild, Message, Permission, compute_permissions
from tests.fakes.discord.validation import (
    missing_access,
    missing_permissions,
    unknown,
    validate_message,
)
from tests.fakes.discord.world import World

EPHEMERAL = 64
LOADING = 128

#: Path pattern pieces: a snowflake, a token.
S = r"(\d+)"
T = r"([^/]+)"

#: ``dispatch(event_name, data)``: send a gateway DISPATCH to connected bots.
Dispatch = Callable[[str, dict[str, Any]], Awaitable[None]]
#: A handler gets the request and the path's groups; returns (status, JSON body).
Handler = Callable[..., Awaitable[tuple[int, Any]]]
#: (method, path regex without ``^$``, handler, needs the bot token)
Route = tuple[str, str, Handler, bool]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    #: Uploaded files by multipart part name (``files[0]``, ...).
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def json(self) -> dict[str, Any]:
        """The body when it is a JSON object, else empty."""
        return self.body if isinstance(self.body, dict) else {}

    @property
    def attachments(self) -> int:
        return len(self.files)


class RestResource:
    """A group of routes over the shared :class:`World`."""

    def __init__(self, world: World, dispatch: Dispatch) -> None:
        self.world = world
        self._dispatch = dispatch

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def _channel(self, channel_id: str) -> tuple[Guild, ChannelModel]:
        try:
            return self.world.find_channel(int(channel_id))
        except KeyError:
            raise unknown("channel") from None

    def _guild(self, guild_id: str) -> Guild:
        guild = self.world.guilds.get(int(guild_id))
        if guild is None:
            raise unknown("guild")
        return guild

    def _message_in(self, channel_id: str,
                    message_id: str) -> tuple[Guild, ChannelModel, Message]:
        guild, channel = self._channel(channel_id)
        msg = self.world.messages.get(int(message_id))
        if msg is None or msg.deleted or msg.channel_id != channel.id:
            raise unknown("message")
        return guild, channel, msg

    def _require(self, guild: Guild, channel: ChannelModel | None, *needed: Permission) -> None:
        perms = compute_permissions(guild, guild.members[self.world.bot_user.id], channel)
        if channel is not None and not perms & Permission.VIEW_CHANNEL:
            raise missing_access()
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
            attachments=list(body.get("attachments") or []),
            **extra,
        )
        self.world.messages[msg.id] = msg
        return msg

    @staticmethod
    def _keep_files(msg: Message, req: Request) -> None:
        """The uploaded files ``msg``'s attachments name, by filename (tests read them)."""
        for meta in msg.attachments:
            data = req.files.get(f"files[{meta.get('id')}]")
            if data is not None:
                msg.files[str(meta.get("filename"))] = data

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
        """An edit whose body passed its route's schema (the caller checks it)."""
        validate_message(body, editing=True)
        msg.edits.append(body)
        if "content" in body:
            msg.content = body["content"] or ""
        if "embeds" in body:
            msg.embeds = list(body["embeds"] or [])
        if "components" in body:
            msg.components = list(body["components"] or [])
        if "attachments" in body:
            msg.attachments = list(body["attachments"] or [])
        if "allowed_mentions" in body:
            msg.allowed_mentions = body["allowed_mentions"]
        if "flags" in body and body["flags"] is not None:
            msg.flags = int(body["flags"]) | (msg.flags & EPHEMERAL)
        msg.flags &= ~LOADING

