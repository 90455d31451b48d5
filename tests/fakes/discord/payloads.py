"""Model objects rendered as Discord API JSON (the shapes discord.py parses).

Pure functions: no state, no I/O. Snowflakes are strings, as on the wire.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.fakes.discord.model import (
    Channel,
    ChannelType,
    Guild,
    Member,
    Message,
    Role,
    User,
    VoiceState,
    Webhook,
)


def iso_now() -> str:
    return datetime.now(UTC).isoformat()


def user(u: User) -> dict[str, Any]:
    return {
        "id": str(u.id),
        "username": u.username,
        "global_name": u.global_name,
        "discriminator": "0",
        "avatar": u.avatar,
        "bot": u.bot,
        "public_flags": 0,
    }


def role(r: Role) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "name": r.name,
        "color": r.color,
        "colors": {"primary_color": r.color, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": r.position,
        "permissions": str(r.permissions),
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def member(m: Member, *, with_user: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "roles": [str(r) for r in m.roles],
        "nick": m.nick,
        "avatar": None,
        "joined_at": m.joined_at,
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
        "communication_disabled_until": None,
    }
    if with_user:
        out["user"] = user(m.user)
    return out


def channel(c: Channel) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(c.id),
        "type": int(c.type),
        "guild_id": str(c.guild_id),
        "name": c.name,
        "position": c.position,
        "parent_id": None if c.parent_id is None else str(c.parent_id),
        "permission_overwrites": [
            {"id": str(o.id), "type": o.type, "allow": str(o.allow), "deny": str(o.deny)}
            for o in c.overwrites
        ],
        "nsfw": False,
        "flags": 0,
        "last_message_id": None if c.last_message_id is None else str(c.last_message_id),
    }
    if c.type == ChannelType.TEXT:
        out.update(topic=c.topic, rate_limit_per_user=0, default_auto_archive_duration=1440)
    elif c.type == ChannelType.VOICE:
        out.update(bitrate=c.bitrate, user_limit=c.user_limit, rtc_region=None,
                   rate_limit_per_user=0)
    elif c.is_thread:
        out.update(
            owner_id=None if c.owner_id is None else str(c.owner_id),
            rate_limit_per_user=0,
            message_count=0,
            member_count=1,
            thread_metadata={
                "archived": c.archived,
                "auto_archive_duration": c.auto_archive_duration,
                "archive_timestamp": iso_now(),
                "locked": c.locked,
                "create_timestamp": iso_now(),
            },
        )
        out.pop("permission_overwrites")
    return out


def voice_state(vs: VoiceState, guild: Guild, *, with_member: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "guild_id": str(guild.id),
        "channel_id": None if vs.channel_id is None else str(vs.channel_id),
        "user_id": str(vs.user_id),
        "session_id": vs.session_id,
        "deaf": False,
        "mute": False,
        "self_deaf": vs.self_deaf,
        "self_mute": vs.self_mute,
        "self_video": False,
        "suppress": False,
        "request_to_speak_timestamp": None,
    }
    if with_member and vs.user_id in guild.members:
        out["member"] = member(guild.members[vs.user_id])
    return out


def guild_create(g: Guild, *, include_voice_states: bool) -> dict[str, Any]:
    """The GUILD_CREATE payload; ``member_count == len(members)`` so no chunking."""
    return {
        "id": str(g.id),
        "name": g.name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "owner_id": str(g.owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [role(r) for r in g.roles.values()],
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "vanity_url_code": None,
        "description": None,
        "banner": None,
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": None,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        "joined_at": iso_now(),
        "large": False,
        "unavailable": False,
        "member_count": len(g.members),
        "members": [member(m) for m in g.members.values()],
        "channels": [channel(c) for c in g.channels.values() if not c.is_thread],
        "threads": [channel(c) for c in g.channels.values() if c.is_thread and not c.archived],
        "voice_states": (
            [voice_state(v, g, with_member=False) for v in g.voice_states.values()
             if v.channel_id is not None]
            if include_voice_states else []
        ),
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


def message(m: Message, guild: Guild | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(m.id),
        "channel_id": str(m.channel_id),
        "author": user(m.author),
        "content": m.content,
        "timestamp": iso_now(),
        "edited_timestamp": iso_now() if m.edits else None,
        "tts": m.tts,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": m.embeds,
        "components": m.components,
        "pinned": False,
        "type": 0,
        "flags": m.flags,
    }
    if guild is not None:
        out["guild_id"] = str(guild.id)
        if m.webhook_id is None and m.author.id in guild.members:
            out["member"] = member(guild.members[m.author.id], with_user=False)
    if m.webhook_id is not None:
        out["webhook_id"] = str(m.webhook_id)
    return out


def webhook(w: Webhook, creator: User, application_id: int | None = None) -> dict[str, Any]:
    return {
        "id": str(w.id),
        "type": 1,
        "guild_id": str(w.guild_id),
        "channel_id": str(w.channel_id),
        "user": user(creator),
        "name": w.name,
        "avatar": None,
        "token": w.token,
        "application_id": None if application_id is None else str(application_id),
    }
