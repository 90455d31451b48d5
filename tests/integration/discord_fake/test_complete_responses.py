"""The fake's answers carry every field Discord's document marks required.

``REQUIRED`` is the document's list of required fields for each object the routes the
bot uses return (``UserResponse``, ``MessageResponse``, ...), and which of their
fields hold other objects. Each test asks the fake as the bot would and walks the
answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.fakes.discord import FakeDiscord
from tests.integration.discord_fake.rest_client import (
    NO_MENTIONS,
    Places,
    RestClient,
    place,
    rest_client,
    route,
)

#: Object -> (its required fields, {field: the object it holds, or [object] for a list}).
REQUIRED: dict[str, tuple[frozenset[str], dict[str, Any]]] = {
    "UserResponse": (frozenset({"id", "username", "avatar", "discriminator", "public_flags",
                                "flags", "global_name", "primary_guild"}), {}),
    "UserPIIResponse": (frozenset({"id", "username", "avatar", "discriminator",
                                   "public_flags", "flags", "global_name", "mfa_enabled",
                                   "locale"}), {}),
    "PrivateApplicationResponse": (frozenset({
        "id", "name", "icon", "description", "type", "verify_key", "flags", "flags_new",
        "redirect_uris", "interactions_endpoint_url", "role_connections_verification_url",
        "owner", "approximate_guild_count", "approximate_user_install_count",
        "approximate_user_authorization_count", "explicit_content_filter", "team",
        "eligible_oauth2_scopes"}), {"owner": "UserResponse", "bot": "UserResponse"}),
    "GatewayBotResponse": (frozenset({"url", "session_start_limit", "shards"}),
                           {"session_start_limit": "GatewayBotSessionStartLimitResponse"}),
    "GatewayBotSessionStartLimitResponse": (
        frozenset({"max_concurrency", "remaining", "reset_after", "total"}), {}),
    "ApplicationCommandResponse": (frozenset({
        "id", "application_id", "version", "default_member_permissions", "type", "name",
        "description"}), {"options": ["ApplicationCommandOptionResponse"]}),
    "ApplicationCommandOptionResponse": (frozenset({"type", "name", "description"}),
                                         {"options": ["ApplicationCommandOptionResponse"]}),
    "GuildChannelResponse": (frozenset({"id", "type", "flags", "guild_id", "name",
                                        "position"}),
                             {"permission_overwrites": ["ChannelPermissionOverwriteResponse"]}),
    "ChannelPermissionOverwriteResponse": (frozenset({"id", "type", "allow", "deny"}), {}),
    "ThreadResponse": (frozenset({"id", "type", "flags", "guild_id", "name", "owner_id",
                                  "thread_metadata", "message_count", "member_count",
                                  "total_message_sent"}),
                       {"thread_metadata": "ThreadMetadataResponse"}),
    "ThreadMetadataResponse": (frozenset({"archived", "archive_timestamp",
                                          "auto_archive_duration", "locked"}), {}),
    "MessageResponse": (frozenset({
        "type", "content", "mentions", "mention_roles", "attachments", "embeds",
        "timestamp", "edited_timestamp", "flags", "components", "id", "channel_id", "author",
        "pinned", "mention_everyone", "tts"}),
        {"author": "UserResponse", "mentions": ["UserResponse"],
         "embeds": ["MessageEmbedResponse"], "attachments": ["MessageAttachmentResponse"]}),
    "MessageEmbedResponse": (frozenset({"type"}), {"fields": ["MessageEmbedFieldResponse"],
                                                   "footer": "MessageEmbedFooterResponse"}),
    "MessageEmbedFieldResponse": (frozenset({"name", "value", "inline"}), {}),
    "MessageEmbedFooterResponse": (frozenset({"text"}), {}),
    "MessageAttachmentResponse": (frozenset({"id", "filename", "size", "url", "proxy_url"}),
                                  {}),
    "GuildIncomingWebhookResponse": (frozenset({"application_id", "avatar", "channel_id",
                                                "id", "name", "type"}),
                                     {"user": "UserResponse"}),
    "InteractionCallbackResponse": (frozenset({"interaction"}),
                                    {"interaction": "InteractionResponse",
                                     "resource": "CreateMessageInteractionCallbackResponse"}),
    "InteractionResponse": (frozenset({"id", "type"}), {}),
    "CreateMessageInteractionCallbackResponse": (frozenset({"type", "message"}),
                                                 {"message": "MessageResponse"}),
    "GuildWithCountsResponse": (frozenset({
        "id", "name", "icon", "description", "home_header", "splash", "discovery_splash",
        "features", "banner", "owner_id", "application_id", "region", "afk_channel_id",
        "afk_timeout", "system_channel_id", "system_channel_flags", "widget_enabled",
        "widget_channel_id", "verification_level", "roles", "default_message_notifications",
        "mfa_level", "explicit_content_filter", "max_presences", "max_members",
        "max_stage_video_channel_users", "max_video_channel_users", "vanity_url_code",
        "premium_tier", "premium_subscription_count", "preferred_locale", "rules_channel_id",
        "safety_alerts_channel_id", "public_updates_channel_id",
        "premium_progress_bar_enabled", "nsfw", "nsfw_level", "emojis", "stickers",
        "incidents_data"}), {"roles": ["GuildRoleResponse"]}),
    "GuildRoleResponse": (frozenset({"id", "name", "permissions", "position", "color",
                                     "colors", "hoist", "managed", "mentionable", "icon",
                                     "unicode_emoji", "flags"}),
                          {"colors": "GuildRoleColorsResponse"}),
    "GuildRoleColorsResponse": (frozenset({"primary_color", "secondary_color",
                                           "tertiary_color"}), {}),
    "GuildMemberResponse": (frozenset({"avatar", "banner", "communication_disabled_until",
                                       "flags", "joined_at", "nick", "pending",
                                       "premium_since", "roles", "user", "mute", "deaf"}),
                            {"user": "UserResponse"}),
}


def missing(value: Any, kind: str, where: str = "") -> list[str]:
    """Every required field absent from ``value`` (a ``kind``) and what it holds."""
    fields, holds = REQUIRED[kind]
    if not isinstance(value, dict):
        return [f"{where or kind}: not an object"]
    out = [f"{where}.{name}".lstrip(".") + f" ({kind})" for name in sorted(fields - set(value))]
    for name, inner in holds.items():
        held = value.get(name)
        if held is None:
            continue
        if isinstance(inner, list):
            for i, item in enumerate(held):
                out += missing(item, inner[0], f"{where}.{name}.{i}")
        else:
            out += missing(held, inner, f"{where}.{name}")
    return out


@pytest.fixture
async def api(fake_discord: FakeDiscord) -> AsyncIterator[RestClient]:
    async with rest_client(fake_discord) as client:
        yield client


@pytest.fixture
async def places(fake_discord: FakeDiscord, api: RestClient) -> Places:
    return await place(fake_discord, api)


async def answer_of(api: RestClient, method: str, path: str, body: Any = None,
                    **kwargs: Any) -> Any:
    answer = await api.call(method, path, body, **kwargs)
    assert answer.status in (200, 201), answer
    return answer.body


async def test_the_bot_user_and_application_are_complete(api: RestClient) -> None:
    assert missing(await answer_of(api, "GET", "/users/@me"), "UserPIIResponse") == []
    app = await answer_of(api, "GET", "/oauth2/applications/@me")
    assert missing(app, "PrivateApplicationResponse") == []
    assert missing(await answer_of(api, "GET", "/gateway/bot"), "GatewayBotResponse") == []


async def test_synced_commands_are_complete_and_say_where_they_are_installed(
    api: RestClient, places: Places
) -> None:
    r = route("commands overwrite")
    body = [{k: v for k, v in r.body[0].items() if k not in ("integration_types", "contexts")}]
    for path in (r.path(places), f"/applications/{places.application}/guilds/{places.guild}"
                                 "/commands"):
        for command in await answer_of(api, "PUT", path, body):
            assert missing(command, "ApplicationCommandResponse") == []
            assert command["integration_types"] == [0]


async def test_channels_and_threads_are_complete(api: RestClient, places: Places) -> None:
    channel = await answer_of(api, "GET", f"/channels/{places.channel}")
    assert missing(channel, "GuildChannelResponse") == []
    for listed in await answer_of(api, "GET", f"/guilds/{places.guild}/channels"):
        assert missing(listed, "GuildChannelResponse") == []
    thread_route = route("thread create")
    created = await answer_of(api, "POST", thread_route.path(places), thread_route.body)
    assert missing(created, "ThreadResponse") == []
    edited = await answer_of(api, "PATCH", f"/channels/{places.thread}", {"archived": True})
    assert missing(edited, "ThreadResponse") == []
    assert missing(await answer_of(api, "GET", f"/channels/{places.thread}"),
                   "ThreadResponse") == []


async def test_messages_are_complete_with_their_embeds_and_files(
    api: RestClient, places: Places
) -> None:
    r = route("message create")
    body = {**r.body, "attachments": [{"id": 0, "filename": "transcript.txt"}]}
    posted = await answer_of(api, "POST", r.path(places), body,
                             files={"transcript.txt": b"hello"})
    assert missing(posted, "MessageResponse") == []
    assert posted["attachments"][0]["size"] == 5
    fetched = await answer_of(api, "GET", f"/channels/{places.channel}/messages/{posted['id']}")
    assert missing(fetched, "MessageResponse") == []
    edit = route("message edit")
    assert missing(await answer_of(api, "PATCH", edit.path(places), edit.body),
                   "MessageResponse") == []


async def test_webhooks_and_their_messages_are_complete(api: RestClient, places: Places) -> None:
    hook = route("webhook create")
    assert missing(await answer_of(api, "POST", hook.path(places), hook.body),
                   "GuildIncomingWebhookResponse") == []
    for listed in await answer_of(api, "GET", f"/channels/{places.channel}/webhooks"):
        assert missing(listed, "GuildIncomingWebhookResponse") == []
    for name in ("webhook execute", "webhook message edit"):
        r = route(name)
        sent = await answer_of(api, r.method, r.path(places), r.body, query=r.query)
        assert missing(sent, "MessageResponse") == []


async def test_an_interaction_answer_with_response_is_complete(
    api: RestClient, places: Places
) -> None:
    record = places.new_interaction()
    answer = await answer_of(
        api, "POST", f"/interactions/{record.id}/{record.token}/callback",
        {"type": 4, "data": {"content": "Started.", "allowed_mentions": NO_MENTIONS}},
        query={"with_response": "true"})
    assert missing(answer, "InteractionCallbackResponse") == []


async def test_the_guild_its_roles_and_members_are_complete(
    fake_discord: FakeDiscord, api: RestClient, places: Places
) -> None:
    guild = await answer_of(api, "GET", f"/guilds/{places.guild}")
    assert missing(guild, "GuildWithCountsResponse") == []
    for role in await answer_of(api, "GET", f"/guilds/{places.guild}/roles"):
        assert missing(role, "GuildRoleResponse") == []
    member = await answer_of(api, "GET",
                             f"/guilds/{places.guild}/members/{fake_discord.member('alice').id}")
    assert missing(member, "GuildMemberResponse") == []
