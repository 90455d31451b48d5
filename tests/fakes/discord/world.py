"""The fake's whole state: the application, its bot user, guilds, messages, records.

``World.default()`` builds the guild every end-to-end test starts from: one text
channel, one voice channel, an admin (the owner), two human members and one other
bot. Lookups raise ``KeyError`` for unknown ids; REST handlers turn that into the
API's 404 codes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.discord.model import (
    DEFAULT_EVERYONE,
    Channel,
    ChannelType,
    Guild,
    InteractionRecord,
    Member,
    Message,
    Permission,
    RestCall,
    Role,
    SnowflakeFactory,
    User,
    Webhook,
)


@dataclass
class Application:
    id: int
    name: str
    owner: User


@dataclass
class World:
    bot_token: str
    new_id: SnowflakeFactory
    application: Application
    bot_user: User
    users: dict[int, User] = field(default_factory=dict)
    guilds: dict[int, Guild] = field(default_factory=dict)
    messages: dict[int, Message] = field(default_factory=dict)
    webhooks: dict[int, Webhook] = field(default_factory=dict)
    #: Registered application commands: ``None`` = global, else guild id.
    commands: dict[int | None, list[dict[str, Any]]] = field(default_factory=dict)
    interactions: dict[int, InteractionRecord] = field(default_factory=dict)
    rest_calls: list[RestCall] = field(default_factory=list)
    #: Privileged intents enabled for the application in the developer portal (bits);
    #: all of them by default. Asking for one that is not enabled closes with 4014.
    privileged_intents: int = (1 << 1) | (1 << 8) | (1 << 15)  # members, presences, content
    #: The shard count ``GET /gateway/bot`` recommends (Discord's ``shards``); a test
    #: raises it to see a bot that asks Discord run every shard.
    recommended_shards: int = 1

    @classmethod
    def default(cls, bot_token: str | None = None) -> World:
        new_id = SnowflakeFactory()
        admin = User(new_id(), "admin", global_name="Admin")
        bot_user = User(new_id(), "interpret-bot", bot=True, global_name=None)
        app = Application(id=bot_user.id, name="Interpret Bot", owner=admin)
        world = cls(
            bot_token=bot_token or f"fake.{secrets.token_urlsafe(24)}",
            new_id=new_id,
            application=app,
            bot_user=bot_user,
        )
        world.users[admin.id] = admin
        world.users[bot_user.id] = bot_user

        guild = Guild(id=new_id(), name="Fake Guild", owner_id=admin.id)
        guild.roles[guild.id] = Role(guild.id, "@everyone", int(DEFAULT_EVERYONE))
        admin_role = Role(new_id(), "Admin", int(Permission.ADMINISTRATOR), position=2)
        bot_role = Role(
            new_id(), "Interpret Bot",
            int(Permission.MANAGE_WEBHOOKS | Permission.MANAGE_THREADS
                | Permission.MANAGE_MESSAGES | Permission.SEND_MESSAGES_IN_THREADS),
            position=1,
        )
        guild.roles[admin_role.id] = admin_role
        guild.roles[bot_role.id] = bot_role
        world.guilds[guild.id] = guild

        text = Channel(new_id(), guild.id, ChannelType.TEXT, "general")
        guild.channels[text.id] = text
        voice = Channel(new_id(), guild.id, ChannelType.VOICE, "Voice", position=1)
        guild.channels[voice.id] = voice

        guild.members[admin.id] = Member(admin, roles=[admin_role.id])
        guild.members[bot_user.id] = Member(bot_user, roles=[bot_role.id])
        for name in ("alice", "bob"):
            world.add_member(guild, User(new_id(), name, global_name=name.title()))
        world.add_member(guild, User(new_id(), "musicbot", bot=True))
        return world

    # -- lookups ----------------------------------------------------------

    @property
    def guild(self) -> Guild:
        """The first (default) guild."""
        return next(iter(self.guilds.values()))

    def add_member(self, guild: Guild, user: User, roles: list[int] | None = None) -> Member:
        self.users[user.id] = user
        member = Member(user, roles=list(roles or []))
        guild.members[user.id] = member
        return member

    def find_channel(self, channel_id: int) -> tuple[Guild, Channel]:
        for guild in self.guilds.values():
            if channel_id in guild.channels:
                return guild, guild.channels[channel_id]
        raise KeyError(channel_id)

    def guild_of_user(self, user_id: int) -> Guild:
        for guild in self.guilds.values():
            if user_id in guild.members:
                return guild
        raise KeyError(user_id)

    def member_named(self, name: str, guild: Guild | None = None) -> Member:
        g = guild or self.guild
        for m in g.members.values():
            if name in (m.user.username, m.user.global_name, m.nick):
                return m
        raise KeyError(name)

    def channel_named(self, name: str, guild: Guild | None = None) -> Channel:
        g = guild or self.guild
        for c in g.channels.values():
            if c.name == name:
                return c
        raise KeyError(name)

    def all_commands(self, guild_id: int | None) -> list[dict[str, Any]]:
        """Commands visible in a guild: its own, then global ones."""
        own = self.commands.get(guild_id, []) if guild_id is not None else []
        return [*own, *self.commands.get(None, [])]
