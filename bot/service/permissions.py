"""Who may run the interpretation, who may read it, and what the bot needs to do it.

``start``, ``stop`` and ``config`` need Manage Channels (in the voice channel,
or server-wide for server settings) or the configured manager role; ``me`` is
for everyone. Being a manager never reaches past a member's own channel access:
they act only on a voice channel they can see and connect to themselves, and
point transcripts only where they can send messages themselves.

What was said in a voice channel is for those who can see that channel now:
``status`` and ``transcript`` (of the current run or any stored one) check View
Channel on the run's voice channel at the time of asking. When that channel no
longer exists, nobody can be asked about it, so only members with the server-wide
Manage Channels permission (who could have seen any channel) may export its runs.

Before joining, the bot checks its own permissions in the voice channel and in
the channel it will write to, and names whatever is missing.
"""

from __future__ import annotations

from collections.abc import Iterable

import discord

from bot.service.errors import BotLacksPermissions, NotAllowed

#: Permission flag → the name Discord's UI shows.
_NAMES = {
    "view_channel": "View Channel",
    "connect": "Connect",
    "speak": "Speak",
    "send_messages": "Send Messages",
    "create_public_threads": "Create Public Threads",
    "send_messages_in_threads": "Send Messages in Threads",
}


def missing(permissions: discord.Permissions, needed: Iterable[str]) -> list[str]:
    """Display names of the ``needed`` flags ``permissions`` lacks, in order."""
    return [_NAMES[flag] for flag in needed if not getattr(permissions, flag)]


def voice_needs(*, play_audio: bool) -> tuple[str, ...]:
    """Join, hear, speak (when playing audio) and post the consent notice in its chat."""
    return ("view_channel", "connect", *(("speak",) if play_audio else ()), "send_messages")


def text_needs(*, post_transcripts: bool) -> tuple[str, ...]:
    """Write the status and summary, and (with transcripts) open and post in a thread."""
    threads = ("create_public_threads", "send_messages_in_threads") if post_transcripts else ()
    return ("view_channel", "send_messages", *threads)


def check_bot_can(channel: discord.abc.GuildChannel | discord.Thread,
                  needed: Iterable[str]) -> None:
    """Raise :class:`BotLacksPermissions` naming what the bot lacks in ``channel``."""
    lacking = missing(channel.permissions_for(channel.guild.me), needed)
    if lacking:
        raise BotLacksPermissions(channel.mention, lacking)


def is_manager(member: discord.Member, channel: discord.abc.GuildChannel | None,
               manager_role_id: int | None) -> bool:
    """Manage Channels (in ``channel``, or server-wide when ``None``) or the manager role."""
    if manager_role_id is not None and any(role.id == manager_role_id for role in member.roles):
        return True
    permissions = (channel.permissions_for(member) if channel is not None
                   else member.guild_permissions)
    return permissions.manage_channels


def require_manager(member: discord.Member, channel: discord.abc.GuildChannel | None,
                    manager_role_id: int | None) -> None:
    if not is_manager(member, channel, manager_role_id):
        where = "server" if channel is None else "channel"
        role = " or the interpretation manager role" if manager_role_id is not None else ""
        raise NotAllowed(f"You need the Manage Channels permission{role} in this {where} "
                         "to do that.")


def require_voice_access(member: discord.Member, channel: discord.abc.GuildChannel) -> None:
    """A manager acts only on a voice channel they can see and connect to themselves."""
    permissions = channel.permissions_for(member)
    if not permissions.view_channel:
        raise NotAllowed(f"You cannot see {channel.mention}, so you cannot manage its "
                         "interpretation.")
    if not permissions.connect:
        raise NotAllowed(f"You cannot connect to {channel.mention}, so you cannot manage its "
                         "interpretation.")


def require_can_post(member: discord.Member, channel: discord.abc.GuildChannel) -> None:
    """Transcripts go only where the member who points them there may write."""
    permissions = channel.permissions_for(member)
    if not (permissions.view_channel and permissions.send_messages):
        raise NotAllowed(f"You cannot send messages in {channel.mention}, so you cannot send "
                         "transcripts there.")


def require_reader(member: discord.Member, voice_channel_id: int, *, what: str) -> None:
    """``member`` may see what is said in that voice channel now (``what``: "read its
    transcript", ...); a channel gone since is for server-wide Manage Channels only."""
    channel = member.guild.get_channel(voice_channel_id)
    if channel is None:
        if member.guild_permissions.manage_channels:
            return
        raise NotAllowed("The voice channel of that run no longer exists, so only members "
                         "with the server-wide Manage Channels permission may read it.")
    if not channel.permissions_for(member).view_channel:
        raise NotAllowed(f"You cannot see {channel.mention}, so you cannot {what}.")
