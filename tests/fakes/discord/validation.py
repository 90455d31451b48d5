"""The REST API's input rules, with Discord's real error codes and error shape.

Two layers, as on Discord: a body is first checked against the published schema of
its route (:mod:`api_schemas`, by :func:`check_body`), then against the documented
rules a schema cannot state (the functions below). Everything raises
:class:`ApiError`; the REST layer renders it as the JSON error body discord.py turns
into ``HTTPException``/``Forbidden``/``NotFound``. A form error is 400 / 50035 with
the ``errors`` tree naming the field.
"""

from __future__ import annotations

import re
from typing import Any, Final

from tests.fakes.discord.schema import Errors, Schema, check, error, merge

#: A bot's message content (the document's 4,000 is for users with Nitro).
MAX_CONTENT: Final = 2000
MAX_EMBED_TOTAL: Final = 6000
#: Webhook names may not contain these (any case) ...
WEBHOOK_NAME_BANNED_PARTS: Final = ("discord", "clyde")
#: ... nor be these (any case).
WEBHOOK_NAME_BANNED: Final = ("everyone", "here")
#: A chat input command's (and option's) name: lowercase letters, digits, - and _.
COMMAND_NAME: Final = re.compile(r"^[-_\w]{1,32}$")
CHAT_INPUT = 1
SUBCOMMAND_KINDS: Final = (1, 2)


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


def invalid_form(errors: Errors) -> ApiError:
    return ApiError(400, 50035, "Invalid Form Body", errors)


def form_error(path: str, code: str, message: str) -> ApiError:
    """400 / 50035 Invalid Form Body with one field error at a dotted ``path``."""
    errors: Errors = {}
    merge(errors, path, error(code, message))
    return invalid_form(errors)


def check_body(schema: Schema, body: Any) -> None:
    """The body against its route's schema; an absent body is an empty object."""
    errors = check(schema, {} if body is None and not schema.nullable else body)
    if errors:
        raise invalid_form(errors)


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


def snowflake_query(query: dict[str, str], name: str) -> int | None:
    """A snowflake query parameter (``thread_id``), or None when absent."""
    value = query.get(name)
    if value is None:
        return None
    if not value.isdigit():
        raise form_error(name, "NUMBER_TYPE_COERCE", f'Value "{value[:50]}" is not snowflake.')
    return int(value)


# -- messages ---------------------------------------------------------------------


def embed_chars(embed: dict[str, Any]) -> int:
    """The characters Discord counts toward the 6,000 of a message's embeds."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    for f in embed.get("fields") or []:
        total += len(f.get("name") or "") + len(f.get("value") or "")
    return total


def validate_message(body: dict[str, Any], *, attachments: int = 0, editing: bool = False,
                     prefix: str = "") -> None:
    """The rules of a message beyond its schema (which has been checked): a bot's
    content length, the embeds' total, ``parse`` beside explicit ids, not empty."""
    content = body.get("content")
    if content is not None and len(content) > MAX_CONTENT:
        raise form_error(f"{prefix}content", "BASE_TYPE_MAX_LENGTH",
                         f"Must be {MAX_CONTENT} or fewer in length.")
    embeds = body.get("embeds") or []
    if sum(embed_chars(e) for e in embeds) > MAX_EMBED_TOTAL:
        raise form_error(f"{prefix}embeds", "MAX_EMBED_SIZE_EXCEEDED",
                         f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}")
    validate_allowed_mentions(body, prefix)
    if editing:
        return
    has_any = bool(content) or bool(embeds) or bool(body.get("components")) \
        or bool(body.get("sticker_ids")) or bool(body.get("poll")) or attachments > 0
    if not has_any:
        raise ApiError(400, 50006, "Cannot send an empty message")


def validate_allowed_mentions(body: dict[str, Any], prefix: str = "") -> None:
    am = body.get("allowed_mentions")
    if am is None:
        return
    parse = am.get("parse") or []
    for kind in ("users", "roles"):
        if kind in parse and am.get(kind):
            raise form_error(f"{prefix}allowed_mentions",
                             "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                             f"parse:[\"{kind}\"] and {kind}: [ids...] are mutually exclusive.")


def validate_webhook_name(name: str | None, field: str = "username") -> None:
    """A webhook's name (at creation) or a message's ``username`` (schema checked)."""
    if name is None:
        return
    lowered = name.lower()
    for banned in WEBHOOK_NAME_BANNED_PARTS:
        if banned in lowered:
            raise form_error(field, "USERNAME_INVALID_CONTAINS",
                             f'Username cannot contain "{banned}"')
    if lowered.strip() in WEBHOOK_NAME_BANNED:
        raise form_error(field, "USERNAME_INVALID", f'Username cannot be "{lowered.strip()}"')


# -- application commands ---------------------------------------------------------


def validate_commands(commands: list[dict[str, Any]]) -> None:
    """The documented rules of a command list beyond its schema (which has been checked)."""
    names: set[tuple[int, str]] = set()
    for i, cmd in enumerate(commands):
        kind = int(cmd.get("type") or CHAT_INPUT)
        name = cmd["name"]
        if (kind, name) in names:
            raise form_error(f"{i}.name", "APPLICATION_COMMANDS_DUPLICATE_NAME",
                             "Application command names must be unique")
        names.add((kind, name))
        if kind != CHAT_INPUT:
            continue
        _check_chat_input_name(f"{i}.name", name)
        if not 1 <= len(cmd.get("description") or "") <= 100:
            raise form_error(f"{i}.description", "BASE_TYPE_BAD_LENGTH",
                             "Must be between 1 and 100 in length.")
        _check_options(f"{i}.options", cmd.get("options") or [])


def _check_chat_input_name(path: str, name: str) -> None:
    if name != name.lower() or not COMMAND_NAME.match(name):
        raise form_error(path, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")


def _check_options(path: str, options: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    optional_seen = False
    kinds = {int(o["type"]) in SUBCOMMAND_KINDS for o in options}
    if len(kinds) > 1:
        raise form_error(path, "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                         "Sub-command and sub-command group option types are mutually "
                         "exclusive to all other types")
    for j, option in enumerate(options):
        here = f"{path}.{j}"
        _check_chat_input_name(f"{here}.name", option["name"])
        if option["name"] in seen:
            raise form_error(f"{here}.name", "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                             "Option names must be unique")
        seen.add(option["name"])
        if option.get("required"):
            if optional_seen:
                raise form_error(f"{here}.required",
                                 "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                                 "Required options must be placed before non-required options")
        else:
            optional_seen = True
        if option.get("autocomplete") and option.get("choices"):
            raise form_error(f"{here}.autocomplete",
                             "APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_WITH_CHOICES",
                             "Autocomplete cannot be set with choices")
        if int(option["type"]) in SUBCOMMAND_KINDS:
            _check_options(f"{here}.options", option.get("options") or [])
