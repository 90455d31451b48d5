"""Building INTERACTION_CREATE payloads from the commands the bot registered.

``build_interaction`` resolves ``"interpret start"`` against the synced command
tree (subcommand groups and subcommands), converts keyword options to the wire
types the command declared, and adds the ``resolved`` block for users, channels and
roles. Pure: the caller assigns ids and dispatches.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.discord import payloads
from tests.fakes.discord.model import (
    ALL_PERMISSIONS,
    Channel,
    Guild,
    Member,
    Role,
    compute_permissions,
)

APPLICATION_COMMAND = 2
AUTOCOMPLETE = 4

_SUB_COMMAND, _SUB_GROUP = 1, 2
_STRING, _INTEGER, _BOOLEAN, _USER, _CHANNEL, _ROLE, _MENTIONABLE, _NUMBER = 3, 4, 5, 6, 7, 8, 9, 10


class CommandNotFound(LookupError):
    """The test invoked a command or option the bot never registered."""


def _find(options: list[dict[str, Any]], name: str, types: tuple[int, ...]) -> dict[str, Any]:
    for opt in options:
        if opt.get("name") == name and int(opt.get("type", 0)) in types:
            return opt
    raise CommandNotFound(name)


def _convert(
    decl: dict[str, Any], value: Any, guild: Guild, resolved: dict[str, dict[str, Any]],
    *, raw: bool,
) -> Any:
    otype = int(decl["type"])
    if otype in (_USER, _CHANNEL, _ROLE, _MENTIONABLE):
        obj_id = value.id if hasattr(value, "id") else int(value)
        if isinstance(value, Member) or obj_id in guild.members:
            m = guild.members[obj_id]
            resolved.setdefault("users", {})[str(obj_id)] = payloads.user(m.user)
            member = payloads.member(m, with_user=False)
            member["permissions"] = str(compute_permissions(guild, m, None))
            resolved.setdefault("members", {})[str(obj_id)] = member
        elif isinstance(value, Channel) or obj_id in guild.channels:
            c = guild.channels[obj_id]
            resolved.setdefault("channels", {})[str(obj_id)] = {
                "id": str(c.id), "name": c.name, "type": int(c.type),
                "permissions": str(ALL_PERMISSIONS),
                "parent_id": None if c.parent_id is None else str(c.parent_id),
            }
        elif isinstance(value, Role) or obj_id in guild.roles:
            resolved.setdefault("roles", {})[str(obj_id)] = payloads.role(guild.roles[obj_id])
        return str(obj_id)
    if raw:
        return value if isinstance(value, str) else str(value)
    if otype == _INTEGER:
        return int(value)
    if otype == _NUMBER:
        return float(value)
    if otype == _BOOLEAN:
        return bool(value)
    return str(value)


def build_interaction(
    *,
    interaction_id: int,
    token: str,
    application_id: int,
    commands: list[dict[str, Any]],
    name: str,
    guild: Guild,
    channel: Channel,
    member: Member,
    bot_member: Member,
    options: dict[str, Any],
    focused: str | None = None,
) -> dict[str, Any]:
    """The INTERACTION_CREATE ``d`` for ``/name`` (``focused`` → autocomplete)."""
    parts = name.split()
    command = next((c for c in commands if c.get("name") == parts[0]
                    and int(c.get("type", 1)) == 1), None)
    if command is None:
        raise CommandNotFound(parts[0])
    resolved: dict[str, dict[str, Any]] = {}
    leaf_decl = command
    chain: list[dict[str, Any]] = []
    for part in parts[1:]:
        leaf_decl = _find(leaf_decl.get("options") or [], part, (_SUB_COMMAND, _SUB_GROUP))
        chain.append(leaf_decl)
    leaf_options = []
    for key, value in options.items():
        decl = _find(leaf_decl.get("options") or [], key,
                     (_STRING, _INTEGER, _BOOLEAN, _USER, _CHANNEL, _ROLE, _MENTIONABLE, _NUMBER))
        opt: dict[str, Any] = {"name": key, "type": int(decl["type"]),
                               "value": _convert(decl, value, guild, resolved,
                                                 raw=focused is not None)}
        if key == focused:
            opt["focused"] = True
        leaf_options.append(opt)
    if focused is not None and focused not in options:
        decl = _find(leaf_decl.get("options") or [], focused, (_STRING, _INTEGER, _NUMBER))
        leaf_options.append({"name": focused, "type": int(decl["type"]), "value": "",
                             "focused": True})
    nested: list[dict[str, Any]] = leaf_options
    for decl in reversed(chain):
        nested = [{"name": decl["name"], "type": int(decl["type"]), "options": nested}]
    data: dict[str, Any] = {"id": command["id"], "name": command["name"], "type": 1,
                            "options": nested}
    if resolved:
        data["resolved"] = resolved
    if "guild_id" in command:
        data["guild_id"] = command["guild_id"]
    invoker = payloads.member(member)
    invoker["permissions"] = str(compute_permissions(guild, member, channel))
    return {
        "id": str(interaction_id),
        "application_id": str(application_id),
        "type": AUTOCOMPLETE if focused is not None else APPLICATION_COMMAND,
        "token": token,
        "version": 1,
        "guild_id": str(guild.id),
        "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
        "channel_id": str(channel.id),
        "channel": payloads.channel(channel),
        "member": invoker,
        "data": data,
        "app_permissions": str(compute_permissions(guild, bot_member, channel)),
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(guild.id)},
        "context": 0,
        "attachment_size_limit": 8 * 1024 * 1024,
    }
