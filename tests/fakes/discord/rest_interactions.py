"""REST resources of interactions: callbacks, followups, the original response, and
webhook execution (interaction webhooks and channel webhooks share the routes).

Two of Discord's rules for the answer are enforced: the first response (or defer)
must come within :data:`~tests.fakes.discord.model.INTERACTION_DEADLINE_S` of the
interaction, else 404 Unknown interaction (10062); and a followup sent while the
deferred placeholder is still loading takes the placeholder's place, keeping its
visibility (a public followup after an ephemeral defer stays ephemeral).
"""

from __future__ import annotations

import time
from typing import Any

from tests.fakes.discord import api_schemas
from tests.fakes.discord.model import (
    INTERACTION_DEADLINE_S,
    InteractionRecord,
    Message,
    Webhook,
)
from tests.fakes.discord.rest_base import (
    EPHEMERAL,
    LOADING,
    Request,
    RestResource,
    Route,
    S,
    T,
)
from tests.fakes.discord.thread_admin import check_thread_open
from tests.fakes.discord.validation import (
    ApiError,
    check_body,
    snowflake_query,
    unknown,
    validate_message,
    validate_webhook_name,
)


class InteractionRoutes(RestResource):
    def routes(self) -> list[Route]:
        return [
            ("POST", f"/interactions/{S}/{T}/callback", self.interaction_callback, False),
            ("GET", f"/webhooks/{S}/{T}/messages/{T}", self.get_webhook_message, False),
            ("PATCH", f"/webhooks/{S}/{T}/messages/{T}", self.edit_webhook_message, False),
            ("DELETE", f"/webhooks/{S}/{T}/messages/{T}", self.delete_webhook_message, False),
            ("POST", f"/webhooks/{S}/{T}", self.execute_webhook, False),
        ]

    def _interaction_by_token(self, app_id: str, token: str) -> InteractionRecord:
        if int(app_id) != self.world.application.id:
            raise unknown("webhook")
        for rec in self.world.interactions.values():
            if rec.token == token:
                return rec
        raise unknown("webhook")

    async def interaction_callback(self, req: Request, interaction_id: str,
                                   token: str) -> tuple[int, Any]:
        rec = self.world.interactions.get(int(interaction_id))
        if rec is None or rec.token != token:
            raise unknown("interaction")
        check_body(api_schemas.INTERACTION_CALLBACK, req.body)
        body = req.json
        rtype = int(body["type"])
        if rec.responses:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        if time.monotonic() - rec.created_at > INTERACTION_DEADLINE_S:
            rec.refused_late += 1
            raise unknown("interaction")
        data = body.get("data") or {}
        message: Message | None = None
        if rtype == 4:
            validate_message(data, attachments=req.attachments, prefix="data.")
            message = self._new_message(rec.channel_id, data, interaction_id=rec.id)
            self._keep_files(message, req)
        elif rtype == 5:
            flags = (int(data.get("flags") or 0) & EPHEMERAL) | LOADING
            message = self._new_message(rec.channel_id, {"flags": flags},
                                        interaction_id=rec.id)
        elif rtype == 7:
            validate_message(data, editing=True, prefix="data.")
        rec.responses.append(body)
        rec.answered_at = time.monotonic()
        if message is not None:
            rec.original = message
            if rtype == 4:
                await self._announce(message)
        if "with_response" not in req.query or req.query["with_response"] in ("0", "false"):
            return 204, None
        out: dict[str, Any] = {
            "interaction": {
                "id": str(rec.id),
                "type": rec.type,
                "response_message_id": None if message is None else str(message.id),
                "response_message_loading": rtype == 5,
                "response_message_ephemeral": bool(message and message.flags & EPHEMERAL),
            },
        }
        if message is not None:
            out["resource"] = {"type": rtype, "message": self._message_json(message)}
        else:
            out["resource"] = {"type": rtype}
        return 200, out

    def _webhook_target(self, webhook_id: str, token: str) -> InteractionRecord | Webhook:
        if int(webhook_id) == self.world.application.id:
            return self._interaction_by_token(webhook_id, token)
        hook = self.world.webhooks.get(int(webhook_id))
        if hook is None or hook.token != token:
            raise unknown("webhook")
        return hook

    def _webhook_message(self, target: InteractionRecord | Webhook,
                         message_id: str) -> Message:
        if isinstance(target, InteractionRecord):
            if message_id == "@original":
                if target.original is None or target.original.deleted:
                    raise unknown("message")
                return target.original
            for m in target.followups:
                if str(m.id) == message_id and not m.deleted:
                    return m
            raise unknown("message")
        msg = self.world.messages.get(int(message_id)) if message_id.isdigit() else None
        if msg is None or msg.webhook_id != target.id or msg.deleted:
            raise unknown("message")
        return msg

    async def execute_webhook(self, req: Request, webhook_id: str, token: str) -> tuple[int, Any]:
        target = self._webhook_target(webhook_id, token)
        check_body(api_schemas.WEBHOOK_EXECUTE, req.body)
        body = req.json
        validate_message(body, attachments=req.attachments)
        thread_id = snowflake_query(req.query, "thread_id")
        wait = req.query.get("wait", "false").lower() in ("1", "true")
        if isinstance(target, InteractionRecord):
            if not target.responses:
                raise unknown("webhook")
            loading = target.original
            if loading is not None and not loading.deleted and loading.flags & LOADING:
                # The deferred placeholder becomes this message, with its visibility.
                self._apply_edit(loading, {k: v for k, v in body.items() if k != "flags"})
                self._keep_files(loading, req)
                return (200, self._message_json(loading)) if wait else (204, None)
            msg = self._new_message(target.channel_id, body, interaction_id=target.id)
            self._keep_files(msg, req)
            target.followups.append(msg)
            await self._announce(msg)
            return (200, self._message_json(msg)) if wait else (204, None)
        validate_webhook_name(body.get("username"))
        channel_id = target.channel_id
        if thread_id is not None:
            _, thread = self._channel(str(thread_id))
            if not thread.is_thread or thread.parent_id != target.channel_id:
                raise ApiError(400, 220001, "Webhooks can only be used with threads in the "
                                            "webhook's channel")
            channel_id = thread.id
            check_thread_open(thread)
            thread.archived = False
        hook_user = self.world.users.get(target.creator_id, self.world.bot_user)
        author = type(hook_user)(id=target.id, username=body.get("username") or target.name,
                                 bot=True)
        msg = self._new_message(channel_id, body, author=author, webhook_id=target.id,
                                username=body.get("username"),
                                avatar_url=body.get("avatar_url"))
        msg.flags &= ~EPHEMERAL
        await self._announce(msg)
        return (200, self._message_json(msg)) if wait else (204, None)

    async def get_webhook_message(self, req: Request, webhook_id: str, token: str,
                                  message_id: str) -> tuple[int, Any]:
        msg = self._webhook_message(self._webhook_target(webhook_id, token), message_id)
        return 200, self._message_json(msg)

    async def edit_webhook_message(self, req: Request, webhook_id: str, token: str,
                                   message_id: str) -> tuple[int, Any]:
        target = self._webhook_target(webhook_id, token)
        thread_id = snowflake_query(req.query, "thread_id")
        if thread_id is not None:
            _, thread = self._channel(str(thread_id))  # 404 once the thread is gone
            check_thread_open(thread)
        msg = self._webhook_message(target, message_id)
        check_body(api_schemas.WEBHOOK_MESSAGE_EDIT, req.body)
        self._apply_edit(msg, req.json)
        self._keep_files(msg, req)
        return 200, self._message_json(msg)

    async def delete_webhook_message(self, req: Request, webhook_id: str, token: str,
                                     message_id: str) -> tuple[int, Any]:
        target = self._webhook_target(webhook_id, token)
        thread_id = snowflake_query(req.query, "thread_id")
        if thread_id is not None:
            self._channel(str(thread_id))  # 404 once the thread is gone
        msg = self._webhook_message(target, message_id)
        msg.deleted = True
        return 204, None

