"""REST resources of the application: the bot user, application info, command sync."""

from __future__ import annotations

from typing import Any

from tests.fakes.discord import api_schemas, payloads
from tests.fakes.discord.rest_base import (
    Request,
    RestResource,
    Route,
    S,
)
from tests.fakes.discord.validation import (
    check_body,
    missing_access,
    unknown,
    validate_commands,
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
        return 200, payloads.application(self.world.application, self.world.bot_user,
                                         len(self.world.guilds))

    async def get_gateway_bot(self, req: Request) -> tuple[int, Any]:
        return 200, {"url": "wss://gateway.discord.gg", "shards": self.world.recommended_shards,
                     "session_start_limit": {"total": 1000, "remaining": 999,
                                             "reset_after": 0, "max_concurrency": 1}}

    def _store_commands(self, app_id: str, guild_id: int | None,
                        body: Any) -> list[dict[str, Any]]:
        if int(app_id) != self.world.application.id:
            raise missing_access()
        check_body(api_schemas.COMMANDS_OVERWRITE, body)
        commands: list[dict[str, Any]] = body or []
        validate_commands(commands)
        stored = []
        previous = {(c["type"], c["name"]): c for c in self.world.commands.get(guild_id, [])}
        for cmd in commands:
            ctype = int(cmd.get("type") or 1)
            old = previous.get((ctype, cmd["name"]))
            stored.append(payloads.application_command(
                cmd, command_id=old["id"] if old else str(self.world.new_id()),
                application_id=self.world.application.id, version=self.world.new_id(),
                guild_id=guild_id))
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

