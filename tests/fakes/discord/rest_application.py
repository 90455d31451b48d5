"""REST resources of the application: the bot user, application info, command sync."""

from __future__ import annotations

from typing import Any

from tests.fakes.discord import payloads
from tests.fakes.discord.rest_base import (
    Request,
    RestResource,
    Route,
    S,
)
from tests.fakes.discord.validation import (
    form_error,
    missing_access,
    unknown,
)


class ApplicationRoutes(RestResource):
    def routes(self) -> list[Route]:
        return [
            ("GET", "/users/@me", self.get_me, True),
            ("GET", "/oauth2/applications/@me", self.get_application, True),
            ("GET", "/gateway/bot", self.get_gateway_bot, True),
            ("PUT", f"/applications/{S}/commands", self.put_commands, True),
            ("GET", f"/applications/{S}/commands", self.get_commands, True),
            ("PUT", f"/applications/{S}/guilds/{S}/commands", self.put_guild_commands, True),
            ("GET", f"/applications/{S}/guilds/{S}/commands", self.get_guild_commands, True),
        ]

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
        return 200, {"url": "wss://gateway.discord.gg", "shards": self.world.recommended_shards,
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

