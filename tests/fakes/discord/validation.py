"""The REST API's input rules the bot can get wrong, with Discord's real error codes.

Pure functions that raise :class:`ApiError`; the REST layer renders it as the JSON
error body discord.py turns into ``HTTPException``/``Forbidden``/``NotFound``.
"""

from __future__ import annotations

from typing import Any

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
MAX_EMBED_DESCRIPTION = 4096
MAX_AUTOCOMPLETE_CHOICES = 25


class ApiError(Exception):
    """An API error response: HTTP status, JSON error code, message, field errors."""

    def __init__(self, status: int, code: int, message: str,
                 errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            out["errors"] = self.errors
        return out


def form_error(path: str, code: str, message: str) -> ApiError:
    """400 / 50035 Invalid Form Body with one field error at a dotted ``path``."""
    errors: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(path.split(".")):
        errors = {part: errors}
    return ApiError(400, 50035, "Invalid Form Body", errors)


def unknown(kind: str) -> ApiError:
    codes = {
        "channel": 10003, "guild": 10004, "member": 10007, "message": 10008,
        "webhook": 10015, "user": 10013, "interaction": 10062, "role": 10011,
        "command": 10063,
    }
    return ApiError(404, codes[kind], f"Unknown {kind.title()}")


def missing_permissions() -> ApiError:
    return ApiError(403, 50013, "Missing Permissions")


def missing_access() -> ApiError:
    return ApiError(403, 50001, "Missing Access")


def unauthorized() -> ApiError:
    return ApiError(401, 0, "401: Unauthorized")


def _embed_chars(embed: dict[str, Any]) -> int:
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    for f in embed.get("fields") or []:
        total += len(f.get("name") or "") + len(f.get("value") or "")
    return total


def validate_message(body: dict[str, Any], *, attachments: int = 0,
                     editing: bool = False) -> None:
    """Content/embeds limits and the empty-message rule of message create/edit."""
    content = body.get("content")
    if content is not None and not isinstance(content, str):
        raise form_error("content", "STRING_TYPE_CONVERT", "Could not interpret value as string.")
    if content is not None and len(content) > MAX_CONTENT:
        raise form_error("content", "BASE_TYPE_MAX_LENGTH",
                         f"Must be {MAX_CONTENT} or fewer in length.")
    embeds = body.get("embeds") or []
    if len(embeds) > MAX_EMBEDS:
        raise form_error("embeds", "BASE_TYPE_MAX_LENGTH",
                         f"Must be {MAX_EMBEDS} or fewer in length.")
    for i, embed in enumerate(embeds):
        if len(embed.get("description") or "") > MAX_EMBED_DESCRIPTION:
            raise form_error(f"embeds.{i}.description", "BASE_TYPE_MAX_LENGTH",
                             f"Must be {MAX_EMBED_DESCRIPTION} or fewer in length.")
    if sum(_embed_chars(e) for e in embeds) > MAX_EMBED_TOTAL:
        raise form_error("embeds", "MAX_EMBED_SIZE_EXCEEDED",
                         f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}")
    if editing:
        return
    has_any = bool(content) or bool(embeds) or bool(body.get("components")) \
        or bool(body.get("sticker_ids")) or bool(body.get("poll")) or attachments > 0
    if not has_any:
        raise ApiError(400, 50006, "Cannot send an empty message")


def validate_allowed_mentions(body: dict[str, Any]) -> None:
    am = body.get("allowed_mentions")
    if am is None:
        return
    parse = am.get("parse") or []
    for kind in ("users", "roles"):
        if kind in parse and am.get(kind):
            raise form_error(f"allowed_mentions.{kind}", "BASE_TYPE_BAD_VALUE",
                             f"parse:[\"{kind}\"] and {kind}: [ids...] are mutually exclusive.")


def validate_webhook_username(name: str | None, field: str = "username") -> None:
    if name is None:
        return
    lowered = name.lower()
    if not 1 <= len(name) <= 80:
        raise form_error(field, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 80 in length.")
    for banned in ("discord", "clyde"):
        if banned in lowered:
            raise form_error(field, "USERNAME_INVALID_CONTAINS",
                             f'Username cannot contain "{banned}"')


def validate_thread_name(name: Any) -> None:
    if not isinstance(name, str) or not 1 <= len(name) <= 100:
        raise form_error("name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")


def validate_choices(choices: list[dict[str, Any]]) -> None:
    if len(choices) > MAX_AUTOCOMPLETE_CHOICES:
        raise form_error("data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    for i, c in enumerate(choices):
        if not 1 <= len(str(c.get("name", ""))) <= 100:
            raise form_error(f"data.choices.{i}.name", "BASE_TYPE_BAD_LENGTH",
                             "Must be between 1 and 100 in length.")
