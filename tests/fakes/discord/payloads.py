"""Model objects rendered as Discord API JSON (the shapes discord.py parses).

Pure functions: no state, no I/O. Snowflakes are strings, as on the wire. Each
object carries every field Discord's OpenAPI document marks required for it
(``UserResponse``, ``MessageResponse``, ``ThreadResponse``, ...), with Discord's
defaults where the fake has nothing to say.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from tests.fakes.discord.world import Application


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
        "flags": 0,
        "primary_guild": None,
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
        "banner": None,
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
            total_message_sent=0,
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
        "attachments": [attachment(m, i, meta) for i, meta in enumerate(m.attachments)],
        "embeds": [embed(e) for e in m.embeds],
        "components": [component(c, n) for n, c in enumerate(m.components, start=1)],
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


def attachment(m: Message, index: int, meta: dict[str, Any]) -> dict[str, Any]:
    """``MessageAttachmentResponse`` of an uploaded file (Discord gives it an id and URLs)."""
    filename = str(meta.get("filename") or f"file{index}")
    attachment_id = m.id + index + 1
    path = f"attachments/{m.channel_id}/{attachment_id}/{filename}"
    return {
        "id": str(attachment_id),
        "filename": filename,
        "size": len(m.files.get(filename, b"")),
        "url": f"https://cdn.discordapp.com/{path}",
        "proxy_url": f"https://media.discordapp.net/{path}",
        **({"description": meta["description"]} if meta.get("description") else {}),
    }


def embed(e: dict[str, Any]) -> dict[str, Any]:
    """``MessageEmbedResponse``: what was sent, typed ``rich``, fields ``inline`` or not."""
    out = {k: v for k, v in e.items() if v is not None}
    out["type"] = out.get("type") or "rich"
    if "fields" in out:
        out["fields"] = [{"name": f["name"], "value": f["value"],
                          "inline": bool(f.get("inline"))} for f in out["fields"]]
    return out


def component(c: dict[str, Any], number: int) -> dict[str, Any]:
    """A component as sent, numbered (Discord gives every component an ``id``)."""
    out = dict(c)
    out["id"] = out.get("id") or number
    if isinstance(out.get("components"), list):
        out["components"] = [component(child, number * 100 + i)
                             for i, child in enumerate(out["components"], start=1)]
    return out


def application(app: Application, bot: User, guild_count: int) -> dict[str, Any]:
    """``PrivateApplicationResponse`` (GET /oauth2/applications/@me)."""
    return {
        "id": str(app.id), "name": app.name, "icon": None, "description": "",
        "type": None, "verify_key": "00" * 32, "flags": 0, "flags_new": "0",
        "redirect_uris": [], "interactions_endpoint_url": None,
        "role_connections_verification_url": None, "owner": user(app.owner),
        "approximate_guild_count": guild_count, "approximate_user_install_count": 0,
        "approximate_user_authorization_count": 0, "explicit_content_filter": 0,
        "team": None, "eligible_oauth2_scopes": ["bot", "applications.commands"],
        "rpc_origins": [], "bot_public": True, "bot_require_code_grant": False,
        "bot": user(bot), "summary": "", "tags": [],
    }


def guild_with_counts(g: Guild, application_id: int | None = None) -> dict[str, Any]:
    """``GuildWithCountsResponse`` (GET /guilds/{guild_id})."""
    data = guild_create(g, include_voice_states=False)
    for key in ("members", "channels", "threads", "voice_states", "presences", "joined_at",
                "large", "unavailable", "member_count", "stage_instances",
                "guild_scheduled_events", "soundboard_sounds"):
        data.pop(key)
    data.update(
        home_header=None, application_id=None if application_id is None else str(application_id),
        region="deprecated", widget_enabled=False, widget_channel_id=None, max_presences=None,
        max_members=25_000_000, max_stage_video_channel_users=50, max_video_channel_users=25,
        premium_subscription_count=0, safety_alerts_channel_id=None, nsfw=False,
        incidents_data=None, approximate_member_count=len(g.members),
        approximate_presence_count=0,
    )
    return data


def application_command(cmd: dict[str, Any], *, command_id: str, application_id: int,
                        version: int, guild_id: int | None) -> dict[str, Any]:
    """``ApplicationCommandResponse`` of a command as the bot sent it (already checked)."""
    permissions = cmd.get("default_member_permissions")
    out: dict[str, Any] = {
        "id": command_id,
        "application_id": str(application_id),
        "version": str(version),
        "default_member_permissions": None if permissions is None else str(permissions),
        "type": int(cmd.get("type") or 1),
        "name": cmd["name"],
        "name_localizations": cmd.get("name_localizations"),
        "description": cmd.get("description") or "",
        "description_localizations": cmd.get("description_localizations"),
        "options": [command_option(o) for o in cmd.get("options") or []],
        "dm_permission": cmd.get("dm_permission") is not False,
        "contexts": cmd.get("contexts"),
        # Discord installs a command for guilds unless told otherwise.
        "integration_types": cmd.get("integration_types") or [0],
        "nsfw": bool(cmd.get("nsfw")),
    }
    if guild_id is not None:
        out["guild_id"] = str(guild_id)
    return out


def command_option(option: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in option.items() if v is not None}
    if "options" in out:
        out["options"] = [command_option(o) for o in out["options"]]
    return out
