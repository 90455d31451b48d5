"""Raw requests to the fake Discord's REST API, as any client could send them.

The fake's own strictness is tested here without discord.py in between (it would
refuse to send most invalid bodies). :class:`RestClient` authenticates as the bot;
:func:`place` makes the objects the routes act on (a thread, a message, a webhook,
an interaction waiting for its answer) and :data:`VALID_BODIES` are bodies the bot
itself sends, each of which the fake accepts.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp

from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.model import InteractionRecord

API = "https://discord.com/api/v10"


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any

    def field_errors(self, path: str) -> list[dict[str, str]]:
        """The ``_errors`` Discord lists for the field at a dotted ``path`` (or [])."""
        node: Any = (self.body or {}).get("errors") or {}
        for part in path.split(".") if path else ():
            if not isinstance(node, dict) or part not in node:
                return []
            node = node[part]
        return list(node.get("_errors") or []) if isinstance(node, dict) else []


class RestClient:
    def __init__(self, session: aiohttp.ClientSession, token: str) -> None:
        self._session = session
        self._token = token

    async def call(self, method: str, path: str, body: Any = None, *,
                   query: dict[str, str] | None = None, raw: bytes | None = None,
                   files: dict[str, bytes] | None = None) -> Answer:
        """``body`` as JSON (or ``raw`` bytes as the JSON body); with ``files``, as
        multipart like discord.py (``payload_json``, or ``raw``, then ``files[n]``)."""
        headers = {"Authorization": f"Bot {self._token}"}
        data: Any = raw if raw is not None else None if body is None else json.dumps(body)
        if files:
            form = aiohttp.FormData()
            text = raw.decode("latin-1") if raw is not None else json.dumps(body)
            form.add_field("payload_json", text, content_type="application/json")
            for i, (filename, content) in enumerate(files.items()):
                form.add_field(f"files[{i}]", content, filename=filename,
                               content_type="application/octet-stream")
            data = form
        elif data is not None:
            headers["Content-Type"] = "application/json"
        async with self._session.request(method, API + path, data=data, params=query,
                                         headers=headers) as response:
            text = await response.text()
            return Answer(response.status, json.loads(text) if text else None)


@asynccontextmanager
async def rest_client(fake: FakeDiscord) -> AsyncIterator[RestClient]:
    async with aiohttp.ClientSession(connector=fake.connector()) as session:
        yield RestClient(session, fake.bot_token)


@dataclass
class Places:
    """Ids the routes need, made through the API itself."""

    application: int
    guild: int
    channel: int
    thread: int
    message: int
    webhook: int
    webhook_token: str
    webhook_message: int
    new_interaction: Callable[[], InteractionRecord]


async def place(fake: FakeDiscord, api: RestClient) -> Places:
    channel = fake.text_channel.id
    message = await api.call("POST", f"/channels/{channel}/messages", {"content": "first"})
    thread = await api.call("POST", f"/channels/{channel}/threads",
                            {"name": "transcript", "type": 11})
    hook = await api.call("POST", f"/channels/{channel}/webhooks", {"name": "Interpreter"})
    posted = await api.call("POST", f"/webhooks/{hook.body['id']}/{hook.body['token']}",
                            {"content": "said"}, query={"wait": "true",
                                                        "thread_id": thread.body["id"]})
    assert {message.status, thread.status, hook.status, posted.status} <= {200, 201}

    def new_interaction() -> InteractionRecord:
        record = InteractionRecord(
            id=fake.world.new_id(), token=secrets.token_urlsafe(32), type=2, name="interpret",
            user_id=fake.admin.id, channel_id=channel, options={})
        fake.world.interactions[record.id] = record
        return record

    return Places(
        application=fake.world.application.id, guild=fake.guild.id, channel=channel,
        thread=int(thread.body["id"]), message=int(message.body["id"]),
        webhook=int(hook.body["id"]), webhook_token=hook.body["token"],
        webhook_message=int(posted.body["id"]), new_interaction=new_interaction)


@dataclass(frozen=True)
class Route:
    """A route the bot sends bodies to, and a body the bot sends it."""

    name: str
    method: str
    path: Callable[[Places], str]
    body: Any
    query: dict[str, str] | None = None


def callback_path(places: Places) -> str:
    """A fresh interaction's callback each time: an interaction is answered once."""
    record = places.new_interaction()
    return f"/interactions/{record.id}/{record.token}/callback"


NO_MENTIONS = {"parse": [], "users": [], "roles": [], "replied_user": False}

#: Each route the bot uses that takes a body, with a body of the bot's kind.
ROUTES: tuple[Route, ...] = (
    Route("message create", "POST", lambda p: f"/channels/{p.channel}/messages", {
        "content": "hello", "allowed_mentions": NO_MENTIONS, "flags": 4, "tts": False,
        "embeds": [{"title": "Summary", "description": "A run", "color": 5814783,
                    "fields": [{"name": "Members", "value": "2", "inline": True}],
                    "footer": {"text": "interpret"}}]}),
    Route("message edit", "PATCH", lambda p: f"/channels/{p.channel}/messages/{p.message}",
          {"content": "edited", "allowed_mentions": NO_MENTIONS, "flags": 4}),
    Route("thread create", "POST", lambda p: f"/channels/{p.channel}/threads",
          {"name": "Interpretation", "type": 11, "auto_archive_duration": 1440}),
    Route("thread update", "PATCH", lambda p: f"/channels/{p.thread}",
          {"archived": False, "locked": False, "auto_archive_duration": 1440}),
    Route("webhook create", "POST", lambda p: f"/channels/{p.channel}/webhooks",
          {"name": "Interpreter", "avatar": None}),
    Route("webhook execute", "POST", lambda p: f"/webhooks/{p.webhook}/{p.webhook_token}", {
        "content": "Hola", "username": "alice", "allowed_mentions": NO_MENTIONS,
        "avatar_url": "https://cdn.discordapp.com/avatars/1/a.png", "flags": 4},
          query={"wait": "true"}),
    Route("webhook message edit", "PATCH",
          lambda p: f"/webhooks/{p.webhook}/{p.webhook_token}/messages/{p.webhook_message}",
          {"content": "Hola!", "allowed_mentions": NO_MENTIONS}),
    Route("commands overwrite", "PUT", lambda p: f"/applications/{p.application}/commands", [{
        "name": "interpret", "description": "Live interpretation", "type": 1,
        "default_member_permissions": None, "dm_permission": False, "nsfw": False,
        "contexts": [0], "integration_types": [0],
        "options": [{"type": 1, "name": "start", "description": "Start interpreting",
                     "options": [{"type": 3, "name": "target", "description": "Language",
                                  "required": True, "autocomplete": True},
                                 {"type": 7, "name": "channel", "description": "Where",
                                  "required": False, "channel_types": [2]}]}]}]),
    Route("interaction callback", "POST", callback_path,
          {"type": 4, "data": {"content": "Started.", "flags": 64,
                               "allowed_mentions": NO_MENTIONS}}),
    Route("autocomplete callback", "POST", callback_path,
          {"type": 8, "data": {"choices": [{"name": "Spanish", "value": "es-ES"}]}}),
)


def route(name: str) -> Route:
    return next(r for r in ROUTES if r.name == name)
