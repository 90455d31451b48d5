"""The fake refuses what Discord refuses, with Discord's own error shape.

Each case takes a body the bot sends (``rest_client.ROUTES``), changes one thing as
Discord's published document or its documented rules forbid, and expects 400 /
50035 with the ``errors`` tree naming the field (or Discord's own code where it has
one, like 50006 for an empty message). No change to any field makes the fake answer
500.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.fakes.discord import FakeDiscord
from tests.integration.discord_fake.rest_client import (
    ROUTES,
    Answer,
    Places,
    RestClient,
    place,
    rest_client,
    route,
)

Body = Any


@dataclass(frozen=True)
class Refused:
    """One invalid variation and how Discord answers it."""

    route: str
    change: Callable[[Body], Body]
    #: The field Discord names (dotted), and the code of its error.
    field: str
    code: str

    def body(self) -> Body:
        return self.change(copy.deepcopy(route(self.route).body))


def setting(path: str, value: Any) -> Callable[[Body], Body]:
    """A change: the field at dotted ``path`` (list items by index) set to ``value``."""
    def change(body: Body) -> Body:
        *parents, last = path.split(".")
        node = body
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
        return body
    return change


def removing(path: str) -> Callable[[Body], Body]:
    def change(body: Body) -> Body:
        *parents, last = path.split(".")
        node = body
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[last]
        return body
    return change


@pytest.fixture
async def api(fake_discord: FakeDiscord) -> AsyncIterator[RestClient]:
    async with rest_client(fake_discord) as client:
        yield client


@pytest.fixture
async def places(fake_discord: FakeDiscord, api: RestClient) -> Places:
    return await place(fake_discord, api)


async def send(api: RestClient, places: Places, name: str, body: Body) -> Answer:
    r = route(name)
    return await api.call(r.method, r.path(places), body, query=r.query)


def assert_form_error(answer: Answer, field: str, code: str) -> None:
    assert answer.status == 400, answer
    assert answer.body["code"] == 50035, answer
    assert answer.body["message"] == "Invalid Form Body"
    assert code in [e["code"] for e in answer.field_errors(field)], answer.body


def cases(*refused: Refused) -> Any:
    return pytest.mark.parametrize("case", refused, ids=[f"{c.route}: {c.field} {c.code}"
                                                           for c in refused])


async def test_every_body_the_bot_sends_is_accepted(api: RestClient, places: Places) -> None:
    for r in ROUTES:
        answer = await api.call(r.method, r.path(places), r.body, query=r.query)
        assert answer.status in (200, 201, 204), (r.name, answer)


FIELDS_26 = [{"name": f"f{i}", "value": "v"} for i in range(26)]
BIG_EMBEDS = [{"description": "d" * 4000}, {"description": "d" * 2001}]


@cases(
    Refused("message create", setting("content", "x" * 2001), "content", "BASE_TYPE_MAX_LENGTH"),
    Refused("message edit", setting("content", "x" * 2001), "content", "BASE_TYPE_MAX_LENGTH"),
    Refused("webhook execute", setting("content", "x" * 2001), "content",
            "BASE_TYPE_MAX_LENGTH"),
    Refused("message create", setting("embeds.0.title", "t" * 257), "embeds.0.title",
            "BASE_TYPE_MAX_LENGTH"),
    Refused("message create", setting("embeds.0.fields.0.name", "n" * 257),
            "embeds.0.fields.0.name", "BASE_TYPE_MAX_LENGTH"),
    Refused("message create", setting("embeds.0.fields", FIELDS_26), "embeds.0.fields",
            "BASE_TYPE_MAX_LENGTH"),
    Refused("message create", setting("embeds.0.color", "red"), "embeds.0.color",
            "NUMBER_TYPE_COERCE"),
    Refused("message create", setting("embeds.0.color", 16777216), "embeds.0.color",
            "NUMBER_TYPE_MAX"),
    Refused("message create", setting("embeds", [{"title": "t"}] * 11), "embeds",
            "BASE_TYPE_MAX_LENGTH"),
    Refused("message create", setting("embeds", BIG_EMBEDS), "embeds",
            "MAX_EMBED_SIZE_EXCEEDED"),
    Refused("webhook execute", setting("embeds", BIG_EMBEDS), "embeds",
            "MAX_EMBED_SIZE_EXCEEDED"),
    Refused("message create", setting("embeds.0.url", "not a url"), "embeds.0.url",
            "URL_TYPE_INVALID_URL"),
    Refused("message create", setting("tts", "yes"), "tts", "BOOLEAN_TYPE_CONVERT"),
)
async def test_message_bodies_out_of_discords_limits_are_refused(
    api: RestClient, places: Places, case: Refused
) -> None:
    assert_form_error(await send(api, places, case.route, case.body()), case.field, case.code)


@cases(
    Refused("message create", setting("allowed_mentions.parse", ["users", "channels"]),
            "allowed_mentions.parse.1", "BASE_TYPE_CHOICES"),
    Refused("message create", setting("allowed_mentions",
                                      {"parse": ["users"], "users": ["1"]}),
            "allowed_mentions", "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE"),
    Refused("webhook execute", setting("allowed_mentions",
                                       {"parse": ["roles"], "roles": ["1"]}),
            "allowed_mentions", "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE"),
    Refused("message create", setting("allowed_mentions.users", ["1", "1"]),
            "allowed_mentions.users.1", "SET_TYPE_ALREADY_CONTAINS_VALUE"),
    Refused("message create", setting("allowed_mentions.users", ["me"]),
            "allowed_mentions.users.0", "NUMBER_TYPE_COERCE"),
)
async def test_allowed_mentions_discord_refuses_are_refused(
    api: RestClient, places: Places, case: Refused
) -> None:
    assert_form_error(await send(api, places, case.route, case.body()), case.field, case.code)


@cases(
    Refused("message create", setting("components", [{"type": 99}]), "components.0",
            "UNION_TYPE_CHOICES"),
    Refused("message create", setting("components", [{"components": []}]), "components.0.type",
            "BASE_TYPE_REQUIRED"),
    Refused("message create", setting("components", [{"type": 1, "components": []}]),
            "components.0.components", "BASE_TYPE_BAD_LENGTH"),
    Refused("message create", setting("components", [{"type": 1, "components": [
        {"type": 2, "style": 9, "label": "x", "custom_id": "x"}]}]),
            "components.0.components.0.style", "BASE_TYPE_CHOICES"),
    Refused("webhook message edit", setting("components", [{"type": 4}]), "components.0",
            "UNION_TYPE_CHOICES"),
)
async def test_components_discord_refuses_are_refused(
    api: RestClient, places: Places, case: Refused
) -> None:
    assert_form_error(await send(api, places, case.route, case.body()), case.field, case.code)


@cases(
    Refused("thread create", setting("auto_archive_duration", 1234), "auto_archive_duration",
            "BASE_TYPE_CHOICES"),
    Refused("thread update", setting("auto_archive_duration", 1234), "auto_archive_duration",
            "BASE_TYPE_CHOICES"),
    Refused("thread update", setting("archived", "nope"), "archived", "BOOLEAN_TYPE_CONVERT"),
    Refused("thread update", setting("locked", 1), "locked", "BOOLEAN_TYPE_CONVERT"),
    Refused("thread create", setting("name", "n" * 101), "name", "BASE_TYPE_BAD_LENGTH"),
    Refused("thread create", removing("name"), "name", "BASE_TYPE_REQUIRED"),
    Refused("thread create", setting("type", 10), "type", "BASE_TYPE_CHOICES"),
    Refused("thread create", setting("type", 0), "type", "BASE_TYPE_CHOICES"),
)
async def test_thread_bodies_discord_refuses_are_refused(
    api: RestClient, places: Places, case: Refused
) -> None:
    assert_form_error(await send(api, places, case.route, case.body()), case.field, case.code)


@cases(
    Refused("webhook create", removing("name"), "name", "BASE_TYPE_REQUIRED"),
    Refused("webhook create", setting("name", ""), "name", "BASE_TYPE_BAD_LENGTH"),
    Refused("webhook create", setting("name", "Discord helper"), "name",
            "USERNAME_INVALID_CONTAINS"),
    Refused("webhook create", setting("name", "my clyde"), "name", "USERNAME_INVALID_CONTAINS"),
    Refused("webhook create", setting("name", "everyone"), "name", "USERNAME_INVALID"),
    Refused("webhook execute", setting("username", "everyone"), "username", "USERNAME_INVALID"),
    Refused("webhook execute", setting("username", "Here"), "username", "USERNAME_INVALID"),
    Refused("webhook execute", setting("username", "DISCORD"), "username",
            "USERNAME_INVALID_CONTAINS"),
    Refused("webhook execute", setting("username", "u" * 81), "username",
            "BASE_TYPE_BAD_LENGTH"),
    Refused("webhook execute", setting("avatar_url", "avatar.png"), "avatar_url",
            "URL_TYPE_INVALID_URL"),
)
async def test_webhook_names_and_bodies_discord_refuses_are_refused(
    api: RestClient, places: Places, case: Refused
) -> None:
    assert_form_error(await send(api, places, case.route, case.body()), case.field, case.code)


async def test_a_thread_id_that_is_not_a_snowflake_is_a_form_error(
    api: RestClient, places: Places
) -> None:
    r = route("webhook execute")
    answer = await api.call(r.method, r.path(places), r.body, query={"thread_id": "general"})
    assert_form_error(answer, "thread_id", "NUMBER_TYPE_COERCE")


OPTIONS_26 = [{"type": 3, "name": f"o{i}", "description": "d"} for i in range(26)]
START = "0.options.0.options"


@cases(
    Refused("commands overwrite", setting("0.description", "d" * 101), "0.description",
            "BASE_TYPE_MAX_LENGTH"),
    Refused("commands overwrite", setting("0.description", ""), "0.description",
            "BASE_TYPE_BAD_LENGTH"),
    Refused("commands overwrite", setting("0.options", OPTIONS_26), "0.options",
            "BASE_TYPE_MAX_LENGTH"),
    Refused("commands overwrite", setting("0.name", "Interpret"), "0.name",
            "APPLICATION_COMMAND_INVALID_NAME"),
    Refused("commands overwrite", setting(f"{START}.0.description", "d" * 101),
            f"{START}.0.description", "BASE_TYPE_BAD_LENGTH"),
    Refused("commands overwrite", setting(f"{START}.1.type", 99), f"{START}.1",
            "UNION_TYPE_CHOICES"),
    Refused("commands overwrite", setting(f"{START}.1.name", "target"), f"{START}.1.name",
            "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS"),
    Refused("commands overwrite", lambda body: [*body, body[0]], "1.name",
            "APPLICATION_COMMANDS_DUPLICATE_NAME"),
    Refused("commands overwrite", setting(START, [
        {"type": 3, "name": "target", "description": "Language"},
        {"type": 7, "name": "channel", "description": "Where", "required": True}]),
            f"{START}.1.required", "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID"),
    Refused("commands overwrite", setting(f"{START}.0.choices", [{"name": "a", "value": "a"}]),
            f"{START}.0.autocomplete", "APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_WITH_CHOICES"),
    Refused("commands overwrite", setting("0.integration_types", [7]), "0.integration_types.0",
            "BASE_TYPE_CHOICES"),
)
async def test_command_bodies_discord_refuses_are_refused(
    api: RestClient, places: Places, case: Refused
) -> None:
    assert_form_error(await send(api, places, case.route, case.body()), case.field, case.code)


CHOICES_26 = [{"name": f"c{i}", "value": f"c{i}"} for i in range(26)]


@cases(
    Refused("autocomplete callback", removing("data"), "data", "BASE_TYPE_REQUIRED"),
    Refused("autocomplete callback", setting("data.choices", CHOICES_26), "data.choices",
            "BASE_TYPE_MAX_LENGTH"),
    Refused("autocomplete callback", setting("data.choices.0.name", ""),
            "data.choices.0.name", "BASE_TYPE_BAD_LENGTH"),
    Refused("interaction callback", setting("type", 3), "", "UNION_TYPE_CHOICES"),
    Refused("interaction callback", setting("type", "x"), "", "UNION_TYPE_CHOICES"),
    Refused("interaction callback", removing("type"), "type", "BASE_TYPE_REQUIRED"),
    Refused("interaction callback", setting("data.content", "x" * 2001), "data.content",
            "BASE_TYPE_MAX_LENGTH"),
    Refused("interaction callback", setting("data.allowed_mentions",
                                            {"parse": ["users"], "users": ["1"]}),
            "data.allowed_mentions", "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE"),
)
async def test_interaction_callbacks_discord_refuses_are_refused(
    api: RestClient, places: Places, case: Refused
) -> None:
    assert_form_error(await send(api, places, case.route, case.body()), case.field, case.code)


async def test_an_empty_message_is_refused_with_discords_own_code(
    api: RestClient, places: Places
) -> None:
    for name in ("message create", "webhook execute"):
        answer = await send(api, places, name, {"content": "", "embeds": []})
        assert (answer.status, answer.body["code"]) == (400, 50006), (name, answer)
        assert answer.body["message"] == "Cannot send an empty message"


FLAGS = {
    "message create": "flags", "message edit": "flags", "webhook execute": "flags",
    "webhook message edit": "flags", "interaction callback": "data.flags",
    "thread update": "flags",
}


@pytest.mark.parametrize("name", sorted(FLAGS))
async def test_flags_that_are_not_a_number_are_a_form_error_not_a_crash(
    api: RestClient, places: Places, name: str
) -> None:
    body = setting(FLAGS[name], "x")(copy.deepcopy(route(name).body))
    assert_form_error(await send(api, places, name, body), FLAGS[name], "NUMBER_TYPE_COERCE")


#: What a client might put anywhere: wrong types, extremes, nesting.
HOSTILE: tuple[Any, ...] = (None, True, -1, 2**70, 1.5, "x", "", "9" * 30, [], [None], {},
                            {"type": "x"}, "\u0000", [[[[]]]])


def variations(body: Body, path: str = "") -> Iterator[tuple[str, Callable[[Body], Body]]]:
    """Every field of ``body`` (nested too) set to each hostile value, and removed."""
    items = body.items() if isinstance(body, dict) else enumerate(body)
    for key, value in list(items):
        here = f"{path}.{key}" if path else str(key)
        for hostile in HOSTILE:
            yield here, setting(here, hostile)
        if isinstance(body, dict):
            yield here, removing(here)
        if isinstance(value, dict | list) and value:
            yield from variations(value, here)


@pytest.mark.parametrize("name", [r.name for r in ROUTES])
async def test_no_variation_of_any_field_makes_the_fake_answer_500(
    api: RestClient, places: Places, name: str
) -> None:
    r = route(name)
    bodies = [change(copy.deepcopy(r.body)) for _, change in variations(r.body)]
    bodies += HOSTILE  # the whole body
    for body in bodies:
        answer = await api.call(r.method, r.path(places), body, query=r.query)
        assert answer.status < 500, (name, json.dumps(body)[:300], answer)
        if answer.status >= 400:
            assert {"code", "message"} <= set(answer.body), answer


@pytest.mark.parametrize("raw", [b"{", b"\xff\xfe", b"[1,", b'{"content": "x"'])
async def test_a_body_that_is_not_json_is_refused_with_discords_code(
    api: RestClient, places: Places, raw: bytes
) -> None:
    answer = await api.call("POST", f"/channels/{places.channel}/messages", raw=raw)
    assert (answer.status, answer.body["code"]) == (400, 50109)
    with_file = await api.call("POST", f"/channels/{places.channel}/messages", raw=raw,
                               files={"transcript.txt": b"x"})
    assert (with_file.status, with_file.body["code"]) == (400, 50109)
