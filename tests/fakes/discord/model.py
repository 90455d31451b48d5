"""The fake Discord's world: guilds, channels, members, messages, and what happened.

Plain dataclasses mutated only by the REST handlers, the gateway and the test's
scripting helpers (all on the event loop). Everything the bot does is recorded here
so tests assert on state rather than on timing.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from enum import IntEnum, IntFlag
from typing import Any

#: Discord epoch (2015-01-01) in ms; snowflakes made here look like real ones.
_DISCORD_EPOCH_MS = 1_420_070_400_000


class SnowflakeFactory:
    """Monotonic, unique snowflakes with a realistic timestamp part."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def __call__(self) -> int:
        ms = int(time.time() * 1000) - _DISCORD_EPOCH_MS
        return (ms << 22) | (next(self._counter) & 0x3FFFFF)


class ChannelType(IntEnum):
    TEXT = 0
    VOICE = 2
    CATEGORY = 4
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12


class Permission(IntFlag):
    """The permission bits the fake checks (values from the Discord API)."""

    CREATE_INSTANT_INVITE = 1 << 0
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    USE_VAD = 1 << 25
    MANAGE_WEBHOOKS = 1 << 29
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    SEND_MESSAGES_IN_THREADS = 1 << 38


ALL_PERMISSIONS = (1 << 51) - 1

#: What @everyone may do in the default guild (roughly Discord's defaults).
DEFAULT_EVERYONE = (
    Permission.CREATE_INSTANT_INVITE | Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES
    | Permission.EMBED_LINKS | Permission.ATTACH_FILES | Permission.READ_MESSAGE_HISTORY
    | Permission.CONNECT | Permission.SPEAK | Permission.USE_VAD
    | Permission.CREATE_PUBLIC_THREADS | Permission.SEND_MESSAGES_IN_THREADS
)


@dataclass
class User:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None
    avatar: str | None = None


@dataclass
class Role:
    id: int
    name: str
    permissions: int
    position: int = 0
    color: int = 0


@dataclass
class Member:
    user: User
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = "2024-01-01T00:00:00+00:00"

    @property
    def id(self) -> int:
        return self.user.id


@dataclass
class Overwrite:
    """A permission overwrite; ``type`` 0 = role, 1 = member."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0


@dataclass
class Channel:
    id: int
    guild_id: int
    type: ChannelType
    name: str
    position: int = 0
    parent_id: int | None = None
    overwrites: list[Overwrite] = field(default_factory=list)
    #: Threads only.
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    auto_archive_duration: int = 1440
    #: Set for threads started from a message.
    starter_message_id: int | None = None
    bitrate: int = 64000
    user_limit: int = 0
    topic: str | None = None
    last_message_id: int | None = None

    @property
    def is_thread(self) -> bool:
        return self.type in (ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD)


@dataclass
class VoiceState:
    user_id: int
    channel_id: int | None
    session_id: str
    self_mute: bool = False
    self_deaf: bool = False


@dataclass
class Message:
    id: int
    channel_id: int
    author: User
    content: str
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    allowed_mentions: dict[str, Any] | None = None
    flags: int = 0
    tts: bool = False
    webhook_id: int | None = None
    #: Webhook executions: the display name/avatar the sender asked for.
    username: str | None = None
    avatar_url: str | None = None
    interaction_id: int | None = None
    #: Attachment metadata as sent (``{"id": ..., "filename": ...}``), on create or edit.
    attachments: list[dict[str, Any]] = field(default_factory=list)
    #: The uploaded files, by filename.
    files: dict[str, bytes] = field(default_factory=dict)
    edits: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False
    created_at: float = field(default_factory=time.monotonic)


@dataclass
class Webhook:
    id: int
    token: str
    channel_id: int
    guild_id: int
    name: str
    creator_id: int


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    voice_states: dict[int, VoiceState] = field(default_factory=dict)

    @property
    def everyone(self) -> Role:
        return self.roles[self.id]


@dataclass
class RestCall:
    """One REST request the bot made, as the fake saw it."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    at: float


#: Discord's deadline for the first answer to an interaction (a response or a defer):
#: a later callback gets 404 Unknown interaction (10062) and the user "The application
#: did not respond".
INTERACTION_DEADLINE_S = 3.0


@dataclass
class InteractionRecord:
    """An interaction the fake sent and everything the bot answered to it."""

    id: int
    token: str
    type: int
    name: str
    user_id: int
    channel_id: int
    options: dict[str, Any]
    #: Bodies of ``POST /interactions/{id}/{token}/callback``, in order.
    responses: list[dict[str, Any]] = field(default_factory=list)
    #: The original response message, once there is one (type 4/5 callbacks).
    original: Message | None = None
    followups: list[Message] = field(default_factory=list)
    #: When the fake sent it, and when its first response was accepted (monotonic s).
    created_at: float = field(default_factory=time.monotonic)
    answered_at: float | None = None
    #: Initial responses refused because they came after :data:`INTERACTION_DEADLINE_S`.
    refused_late: int = 0

    @property
    def response_type(self) -> int | None:
        return self.responses[0]["type"] if self.responses else None

    @property
    def ephemeral(self) -> bool:
        if not self.responses:
            return False
        data = self.responses[0].get("data") or {}
        return bool(int(data.get("flags") or 0) & 64)

    @property
    def choices(self) -> list[dict[str, Any]]:
        """Autocomplete answers (type 8 callback)."""
        for body in self.responses:
            if body.get("type") == 8:
                return list((body.get("data") or {}).get("choices", []))
        return []

    @property
    def texts(self) -> list[str]:
        """Everything the user would read: original content then followups."""
        out = [] if self.original is None or self.original.deleted else [self.original.content]
        out.extend(m.content for m in self.followups if not m.deleted)
        return out


def compute_permissions(guild: Guild, member: Member, channel: Channel | None) -> int:
    """Discord's permission algorithm: base from roles, then channel overwrites."""
    if member.id == guild.owner_id:
        return ALL_PERMISSIONS
    perms = guild.everyone.permissions
    for role_id in member.roles:
        role = guild.roles.get(role_id)
        if role is not None:
            perms |= role.permissions
    if perms & Permission.ADMINISTRATOR:
        return ALL_PERMISSIONS
    if channel is None:
        return perms
    if channel.is_thread and channel.parent_id is not None:
        channel = guild.channels.get(channel.parent_id, channel)
    by_id = {(o.type, o.id): o for o in channel.overwrites}
    everyone = by_id.get((0, guild.id))
    if everyone is not None:
        perms = (perms & ~everyone.deny) | everyone.allow
    allow = deny = 0
    for role_id in member.roles:
        ow = by_id.get((0, role_id))
        if ow is not None:
            allow |= ow.allow
            deny |= ow.deny
    perms = (perms & ~deny) | allow
    own = by_id.get((1, member.id))
    if own is not None:
        perms = (perms & ~own.deny) | own.allow
    return perms
