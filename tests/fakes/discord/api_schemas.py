"""The request bodies of the routes the fake serves, as Discord's OpenAPI document has them.

Transcribed from Discord's published description of its HTTP API (discord-api-spec,
``specs/openapi.json``, MIT; the version of 2026-07-18): each constant is the document's
schema of the same name (``RichEmbed`` is :data:`RICH_EMBED`), with its types, lengths,
ranges, item counts, enumerations and required fields; the document's ``int32``
without a stated bound is bounded to 32 bits, as the document's ``format`` says. The
bodies of the routes are at the end (``MESSAGE_CREATE``, ...). Rules the document
cannot state (a bot's 2,000-character content, the 6,000-character embed total,
webhook names, ``parse`` beside explicit ids, no empty message) are in
``validation``. Checked with :func:`tests.fakes.discord.schema.check`.
"""

from __future__ import annotations

from tests.fakes.discord.schema import (
    AnyOf,
    Arr,
    Bool,
    Int,
    Map,
    Nullable,
    Num,
    Obj,
    Schema,
    Snowflake,
    Str,
    Tagged,
)

INT32_MAX = 2**31 - 1
SNOWFLAKE_TYPE = Snowflake()
COMPONENT_ID = Int(minimum=0, maximum=INT32_MAX, nullable=True)
COLOR = Int(minimum=0, maximum=16777215, nullable=True)
NAME_LOCALIZATIONS = Map(Str(min_length=1, max_length=32), max_properties=34, nullable=True)
TEXT_LOCALIZATIONS = Map(Str(min_length=1, max_length=100), max_properties=34, nullable=True)
URL = Str(max_length=2048, nullable=True, format="uri")
RATE_LIMIT_PER_USER = Int(minimum=0, maximum=21600, nullable=True)

# -- embeds -------------------------------------------------------------------------

RICH_EMBED_AUTHOR = Obj({
    "name": Str(max_length=256, nullable=True),
    "url": URL,
    "icon_url": URL,
})
#: RichEmbedImage, RichEmbedThumbnail and RichEmbedVideo are the same schema.
RICH_EMBED_IMAGE = Obj({
    "url": URL,
    "width": Int(nullable=True),
    "height": Int(nullable=True),
    "placeholder": Str(max_length=64, nullable=True),
    "placeholder_version": Int(minimum=0, maximum=INT32_MAX, nullable=True),
    "is_animated": Bool(nullable=True),
    "description": Str(max_length=4096, nullable=True),
})
RICH_EMBED_FOOTER = Obj({
    "text": Str(max_length=2048, nullable=True),
    "icon_url": URL,
})
RICH_EMBED_FIELD = Obj({
    "name": Str(max_length=256),
    "value": Str(max_length=1024),
    "inline": Bool(nullable=True),
}, required=frozenset({"name", "value"}))
RICH_EMBED_PROVIDER = Obj({
    "name": Str(max_length=256, nullable=True),
    "url": URL,
})
RICH_EMBED = Obj({
    "type": Str(max_length=152133, nullable=True),
    "url": URL,
    "title": Str(max_length=256, nullable=True),
    "color": COLOR,
    "timestamp": Str(nullable=True, format="date-time"),
    "description": Str(max_length=4096, nullable=True),
    "author": Nullable(RICH_EMBED_AUTHOR),
    "image": Nullable(RICH_EMBED_IMAGE),
    "thumbnail": Nullable(RICH_EMBED_IMAGE),
    "footer": Nullable(RICH_EMBED_FOOTER),
    "fields": Arr(RICH_EMBED_FIELD, max_items=25, nullable=True),
    "provider": Nullable(RICH_EMBED_PROVIDER),
    "video": Nullable(RICH_EMBED_IMAGE),
})
EMBEDS = Arr(RICH_EMBED, max_items=10, nullable=True)

ALLOWED_MENTION_TYPES = Str(choices=("users", "roles", "everyone"))
MESSAGE_ALLOWED_MENTIONS_REQUEST = Obj({
    "parse": Arr(Nullable(ALLOWED_MENTION_TYPES), max_items=1521, unique=True, nullable=True),
    "users": Arr(Nullable(SNOWFLAKE_TYPE), max_items=100, unique=True, nullable=True),
    "roles": Arr(Nullable(SNOWFLAKE_TYPE), max_items=100, unique=True, nullable=True),
    "replied_user": Bool(nullable=True),
})

# -- message components -------------------------------------------------------------

BUTTON_STYLE_TYPES = Int(choices=(1, 2, 3, 4, 5, 6))
CHANNEL_TYPES = Int(choices=(1, 3, 0, 2, 4, 5, 10, 11, 12, 13, 14, 15))
COMPONENT_EMOJI_FOR_REQUEST = Obj({
    "id": Nullable(SNOWFLAKE_TYPE),
    "name": Str(max_length=32),
}, required=frozenset({"name"}))
BUTTON_COMPONENT_FOR_MESSAGE_REQUEST = Obj({
    "type": Int(choices=(2,)),
    "id": COMPONENT_ID,
    "custom_id": Str(min_length=1, max_length=100, nullable=True),
    "style": BUTTON_STYLE_TYPES,
    "label": Str(max_length=80, nullable=True),
    "disabled": Bool(nullable=True),
    "url": Str(max_length=512, nullable=True, format="uri"),
    "sku_id": Nullable(SNOWFLAKE_TYPE),
    "emoji": Nullable(COMPONENT_EMOJI_FOR_REQUEST),
}, required=frozenset({"type", "style"}))


def _default_value(kind: str) -> Obj:
    """ChannelSelectDefaultValue, RoleSelectDefaultValue, UserSelectDefaultValue."""
    return Obj({"type": Str(choices=(kind,)), "id": SNOWFLAKE_TYPE},
               required=frozenset({"type", "id"}))


def _select(kind: int, **own: Schema) -> Obj:
    """A select menu (String/User/Role/Mentionable/ChannelSelectComponentForMessageRequest):
    the fields every kind has, then its own."""
    return Obj({
        "type": Int(choices=(kind,)),
        "id": COMPONENT_ID,
        "custom_id": Str(min_length=1, max_length=100),
        "placeholder": Str(max_length=150, nullable=True),
        "min_values": Int(minimum=0, maximum=25, nullable=True),
        "max_values": Int(minimum=1, maximum=25, nullable=True),
        "disabled": Bool(nullable=True),
        "required": Bool(nullable=True),
        **own,
    }, required=frozenset({"type", "custom_id", *(n for n in own if n == "options")}))


STRING_SELECT_OPTION_FOR_REQUEST = Obj({
    "label": Str(min_length=1, max_length=100),
    "value": Str(min_length=1, max_length=100),
    "description": Str(max_length=100, nullable=True),
    "default": Bool(nullable=True),
    "emoji": Nullable(COMPONENT_EMOJI_FOR_REQUEST),
}, required=frozenset({"label", "value"}))
STRING_SELECT = _select(3, options=Arr(STRING_SELECT_OPTION_FOR_REQUEST, min_items=1,
                                       max_items=25))
USER_SELECT = _select(5, default_values=Arr(_default_value("user"), max_items=25,
                                            nullable=True))
ROLE_SELECT = _select(6, default_values=Arr(_default_value("role"), max_items=25,
                                            nullable=True))
MENTIONABLE_SELECT = _select(7, default_values=Arr(
    Tagged({"role": _default_value("role"), "user": _default_value("user")}),
    max_items=25, nullable=True))
CHANNEL_SELECT = _select(
    8, default_values=Arr(_default_value("channel"), max_items=25, nullable=True),
    channel_types=Arr(CHANNEL_TYPES, unique=True, nullable=True))

ACTION_ROW_COMPONENT_FOR_MESSAGE_REQUEST = Obj({
    "type": Int(choices=(1,)),
    "id": COMPONENT_ID,
    "components": Arr(Tagged({2: BUTTON_COMPONENT_FOR_MESSAGE_REQUEST, 3: STRING_SELECT,
                              5: USER_SELECT, 6: ROLE_SELECT, 7: MENTIONABLE_SELECT,
                              8: CHANNEL_SELECT}), min_items=1, max_items=5),
}, required=frozenset({"type", "components"}))
#: UnfurledMediaRequest and UnfurledMediaRequestWithAttachmentReferenceRequired.
UNFURLED_MEDIA_REQUEST = Obj({
    "url": Str(max_length=2048, format="uri"),
}, required=frozenset({"url"}))
FILE_COMPONENT_FOR_MESSAGE_REQUEST = Obj({
    "type": Int(choices=(13,)),
    "id": COMPONENT_ID,
    "spoiler": Bool(nullable=True),
    "file": UNFURLED_MEDIA_REQUEST,
}, required=frozenset({"type", "file"}))
MEDIA_GALLERY_ITEM_REQUEST = Obj({
    "description": Str(min_length=1, max_length=1024, nullable=True),
    "spoiler": Bool(nullable=True),
    "media": UNFURLED_MEDIA_REQUEST,
}, required=frozenset({"media"}))
MEDIA_GALLERY_COMPONENT_FOR_MESSAGE_REQUEST = Obj({
    "type": Int(choices=(12,)),
    "id": COMPONENT_ID,
    "items": Arr(MEDIA_GALLERY_ITEM_REQUEST, min_items=1, max_items=10),
}, required=frozenset({"type", "items"}))
TEXT_DISPLAY_COMPONENT_FOR_MESSAGE_REQUEST = Obj({
    "type": Int(choices=(10,)),
    "id": COMPONENT_ID,
    "content": Str(min_length=1, max_length=4000),
}, required=frozenset({"type", "content"}))
THUMBNAIL_COMPONENT_FOR_MESSAGE_REQUEST = Obj({
    "type": Int(choices=(11,)),
    "id": COMPONENT_ID,
    "description": Str(min_length=1, max_length=1024, nullable=True),
    "spoiler": Bool(nullable=True),
    "media": UNFURLED_MEDIA_REQUEST,
}, required=frozenset({"type", "media"}))
SECTION_COMPONENT_FOR_MESSAGE_REQUEST = Obj({
    "type": Int(choices=(9,)),
    "id": COMPONENT_ID,
    "components": Arr(TEXT_DISPLAY_COMPONENT_FOR_MESSAGE_REQUEST, min_items=1, max_items=3),
    "accessory": Tagged({2: BUTTON_COMPONENT_FOR_MESSAGE_REQUEST,
                         11: THUMBNAIL_COMPONENT_FOR_MESSAGE_REQUEST}),
}, required=frozenset({"type", "components", "accessory"}))
SEPARATOR_COMPONENT_FOR_MESSAGE_REQUEST = Obj({
    "type": Int(choices=(14,)),
    "id": COMPONENT_ID,
    "spacing": Nullable(Int(choices=(1, 2))),
    "divider": Bool(nullable=True),
}, required=frozenset({"type"}))
CONTAINER_COMPONENT_FOR_MESSAGE_REQUEST = Obj({
    "type": Int(choices=(17,)),
    "id": COMPONENT_ID,
    "accent_color": COLOR,
    "components": Arr(Tagged({
        1: ACTION_ROW_COMPONENT_FOR_MESSAGE_REQUEST, 9: SECTION_COMPONENT_FOR_MESSAGE_REQUEST,
        10: TEXT_DISPLAY_COMPONENT_FOR_MESSAGE_REQUEST,
        12: MEDIA_GALLERY_COMPONENT_FOR_MESSAGE_REQUEST,
        13: FILE_COMPONENT_FOR_MESSAGE_REQUEST, 14: SEPARATOR_COMPONENT_FOR_MESSAGE_REQUEST,
    }), min_items=1, max_items=40),
    "spoiler": Bool(nullable=True),
}, required=frozenset({"type", "components"}))
#: The top-level components of a message (every body that makes or edits one).
MESSAGE_COMPONENTS = Arr(Tagged({
    1: ACTION_ROW_COMPONENT_FOR_MESSAGE_REQUEST, 9: SECTION_COMPONENT_FOR_MESSAGE_REQUEST,
    10: TEXT_DISPLAY_COMPONENT_FOR_MESSAGE_REQUEST,
    12: MEDIA_GALLERY_COMPONENT_FOR_MESSAGE_REQUEST, 13: FILE_COMPONENT_FOR_MESSAGE_REQUEST,
    14: SEPARATOR_COMPONENT_FOR_MESSAGE_REQUEST, 17: CONTAINER_COMPONENT_FOR_MESSAGE_REQUEST,
}), max_items=40, nullable=True)

# -- the rest of a message ------------------------------------------------------------

MESSAGE_ATTACHMENT_REQUEST = Obj({
    "id": SNOWFLAKE_TYPE,
    "filename": Str(min_length=1, max_length=1024, nullable=True),
    "description": Str(max_length=1024, nullable=True),
    "duration_secs": Num(minimum=0, maximum=INT32_MAX, nullable=True),
    "waveform": Str(max_length=400, nullable=True),
    "title": Str(max_length=1024, nullable=True),
    "is_spoiler": Bool(nullable=True),
    "is_remix": Bool(nullable=True),
}, required=frozenset({"id"}))
ATTACHMENTS = Arr(MESSAGE_ATTACHMENT_REQUEST, max_items=10, nullable=True)
#: PollEmoji and PollEmojiCreateRequest are the same schema.
POLL_EMOJI = Obj({
    "id": Nullable(SNOWFLAKE_TYPE),
    "name": Str(max_length=32, nullable=True),
    "animated": Bool(nullable=True),
})
#: PollMedia and PollMediaCreateRequest are the same schema.
POLL_MEDIA = Obj({
    "text": Str(min_length=1, max_length=300, nullable=True),
    "emoji": Nullable(POLL_EMOJI),
})
POLL_CREATE_REQUEST = Obj({
    "question": POLL_MEDIA,
    "answers": Arr(Obj({"poll_media": POLL_MEDIA}, required=frozenset({"poll_media"})),
                   min_items=1, max_items=10),
    "allow_multiselect": Bool(nullable=True),
    "layout_type": Nullable(Int(choices=(1,))),
    "duration": Int(minimum=1, maximum=768, nullable=True),
}, required=frozenset({"question", "answers"}))
CUSTOM_CLIENT_THEME_SHARE_REQUEST = Obj({
    "colors": Arr(Str(min_length=6, max_length=6), min_items=1, max_items=5),
    "gradient_angle": Int(minimum=0, maximum=360),
    "base_mix": Int(minimum=0, maximum=100),
    "base_theme": Nullable(Int(choices=(0, 1, 2, 3, 4))),
}, required=frozenset({"colors", "gradient_angle", "base_mix"}))
MESSAGE_REFERENCE_REQUEST = Obj({
    "guild_id": Nullable(SNOWFLAKE_TYPE),
    "channel_id": Nullable(SNOWFLAKE_TYPE),
    "message_id": SNOWFLAKE_TYPE,
    "fail_if_not_exists": Bool(nullable=True),
    "type": Nullable(Int(choices=(0,))),
}, required=frozenset({"message_id"}))

MESSAGE_CREATE_REQUEST = Obj({
    "content": Str(max_length=4000, nullable=True),
    "embeds": EMBEDS,
    "allowed_mentions": Nullable(MESSAGE_ALLOWED_MENTIONS_REQUEST),
    "sticker_ids": Arr(SNOWFLAKE_TYPE, max_items=3, nullable=True),
    "components": MESSAGE_COMPONENTS,
    "flags": Int(nullable=True),
    "attachments": ATTACHMENTS,
    "poll": Nullable(POLL_CREATE_REQUEST),
    "shared_client_theme": Nullable(CUSTOM_CLIENT_THEME_SHARE_REQUEST),
    "message_reference": Nullable(MESSAGE_REFERENCE_REQUEST),
    "nonce": AnyOf((Int(minimum=-(2**63), maximum=2**63 - 1), Str(max_length=25)),
                   nullable=True),
    "enforce_nonce": Bool(nullable=True),
    "tts": Bool(nullable=True),
})
MESSAGE_EDIT_REQUEST_PARTIAL = Obj({
    "content": Str(max_length=4000, nullable=True),
    "embeds": EMBEDS,
    "flags": Int(nullable=True),
    "allowed_mentions": Nullable(MESSAGE_ALLOWED_MENTIONS_REQUEST),
    "sticker_ids": Arr(SNOWFLAKE_TYPE, max_items=1521, nullable=True),
    "components": MESSAGE_COMPONENTS,
    "attachments": ATTACHMENTS,
})
#: IncomingWebhookUpdateRequestPartial; IncomingWebhookRequestPartial and
#: IncomingWebhookInteractionRequest add to it.
_WEBHOOK_MESSAGE = {
    "content": Str(max_length=2000, nullable=True),
    "embeds": EMBEDS,
    "allowed_mentions": Nullable(MESSAGE_ALLOWED_MENTIONS_REQUEST),
    "components": MESSAGE_COMPONENTS,
    "attachments": ATTACHMENTS,
    "poll": Nullable(POLL_CREATE_REQUEST),
    "flags": Int(nullable=True),
}
INCOMING_WEBHOOK_UPDATE_REQUEST_PARTIAL = Obj(_WEBHOOK_MESSAGE)
INCOMING_WEBHOOK_INTERACTION_REQUEST = Obj({**_WEBHOOK_MESSAGE, "tts": Bool(nullable=True)})
INCOMING_WEBHOOK_REQUEST_PARTIAL = Obj({
    **_WEBHOOK_MESSAGE,
    "tts": Bool(nullable=True),
    "username": Str(min_length=1, max_length=80, nullable=True),
    "avatar_url": URL,
    "thread_name": Str(max_length=100, nullable=True),
    "applied_tags": Arr(SNOWFLAKE_TYPE, max_items=5, nullable=True),
})

# -- channels and threads -------------------------------------------------------------

THREAD_AUTO_ARCHIVE_DURATION = Int(choices=(60, 1440, 4320, 10080))
VIDEO_QUALITY_MODES = Int(choices=(1, 2))
UPDATE_THREAD_REQUEST_PARTIAL = Obj({
    "name": Str(max_length=100, nullable=True),
    "archived": Bool(nullable=True),
    "locked": Bool(nullable=True),
    "invitable": Bool(nullable=True),
    "auto_archive_duration": Nullable(THREAD_AUTO_ARCHIVE_DURATION),
    "rate_limit_per_user": RATE_LIMIT_PER_USER,
    "flags": Int(nullable=True),
    "applied_tags": Arr(SNOWFLAKE_TYPE, max_items=5, nullable=True),
    "bitrate": Int(minimum=8000, maximum=INT32_MAX, nullable=True),
    "user_limit": Int(minimum=0, maximum=99, nullable=True),
    "rtc_region": Str(nullable=True),
    "video_quality_mode": Nullable(VIDEO_QUALITY_MODES),
})
CHANNEL_PERMISSION_OVERWRITE_REQUEST = Obj({
    "id": SNOWFLAKE_TYPE,
    "type": Nullable(Int(choices=(0, 1))),
    "allow": Int(nullable=True),
    "deny": Int(nullable=True),
}, required=frozenset({"id"}))
UPDATE_THREAD_TAG_REQUEST = Obj({
    "name": Str(max_length=50),
    "emoji_id": Nullable(SNOWFLAKE_TYPE),
    "emoji_name": Str(max_length=100, nullable=True),
    "moderated": Bool(nullable=True),
    "id": Nullable(SNOWFLAKE_TYPE),
}, required=frozenset({"name"}))
UPDATE_GUILD_CHANNEL_REQUEST_PARTIAL = Obj({
    "type": Nullable(Int(choices=(0, 2, 4, 5, 13, 14, 15))),
    "name": Str(min_length=1, max_length=100),
    "position": Int(minimum=0, maximum=INT32_MAX, nullable=True),
    "topic": Str(max_length=4096, nullable=True),
    "bitrate": Int(minimum=8000, maximum=INT32_MAX, nullable=True),
    "user_limit": Int(minimum=0, maximum=INT32_MAX, nullable=True),
    "nsfw": Bool(nullable=True),
    "rate_limit_per_user": RATE_LIMIT_PER_USER,
    "parent_id": Nullable(SNOWFLAKE_TYPE),
    "permission_overwrites": Arr(CHANNEL_PERMISSION_OVERWRITE_REQUEST, max_items=100,
                                 nullable=True),
    "rtc_region": Str(nullable=True),
    "video_quality_mode": Nullable(VIDEO_QUALITY_MODES),
    "default_auto_archive_duration": Nullable(THREAD_AUTO_ARCHIVE_DURATION),
    "default_reaction_emoji": Nullable(Obj({
        "emoji_id": Nullable(SNOWFLAKE_TYPE),
        "emoji_name": Str(max_length=100, nullable=True),
    })),
    "default_thread_rate_limit_per_user": RATE_LIMIT_PER_USER,
    "default_sort_order": Nullable(Int(choices=(0, 1))),
    "default_forum_layout": Nullable(Int(choices=(0, 1, 2))),
    "default_tag_setting": Nullable(Str(choices=("match_all", "match_some"))),
    "flags": Int(nullable=True),
    "available_tags": Arr(UPDATE_THREAD_TAG_REQUEST, max_items=20, nullable=True),
})
CREATE_TEXT_THREAD_WITH_MESSAGE_REQUEST = Obj({
    "name": Str(min_length=1, max_length=100),
    "auto_archive_duration": Nullable(THREAD_AUTO_ARCHIVE_DURATION),
    "rate_limit_per_user": RATE_LIMIT_PER_USER,
}, required=frozenset({"name"}))
CREATE_TEXT_THREAD_WITHOUT_MESSAGE_REQUEST = Obj({
    **CREATE_TEXT_THREAD_WITH_MESSAGE_REQUEST.fields,
    "type": Nullable(Int(choices=(10, 11, 12))),
    "invitable": Bool(nullable=True),
}, required=frozenset({"name"}))

# -- application commands -------------------------------------------------------------

INT53_TYPE = Int(minimum=-(2**53 - 1), maximum=2**53 - 1)


def _choice(value: Schema) -> Obj:
    """ApplicationCommandOption{String,Integer,Number}Choice."""
    return Obj({"name": Str(min_length=1, max_length=100),
                "name_localizations": TEXT_LOCALIZATIONS, "value": value},
               required=frozenset({"name", "value"}))


def _option(kind: int, **own: Schema) -> Obj:
    """An ApplicationCommand*Option: the fields every kind has, then its own."""
    return Obj({
        "type": Int(choices=(kind,)),
        "name": Str(min_length=1, max_length=32),
        "name_localizations": NAME_LOCALIZATIONS,
        "description": Str(min_length=1, max_length=100),
        "description_localizations": TEXT_LOCALIZATIONS,
        "required": Bool(nullable=True),
        **own,
    }, required=frozenset({"type", "name", "description"}))


STRING_CHOICE = _choice(Str(max_length=6000))
INTEGER_CHOICE = _choice(INT53_TYPE)
NUMBER_CHOICE = _choice(Num())
_AUTOCOMPLETE = Bool(nullable=True)
VALUE_OPTIONS = {
    3: _option(3, autocomplete=_AUTOCOMPLETE,
               min_length=Int(minimum=0, maximum=6000, nullable=True),
               max_length=Int(minimum=1, maximum=6000, nullable=True),
               choices=Arr(STRING_CHOICE, max_items=25, nullable=True)),
    4: _option(4, autocomplete=_AUTOCOMPLETE,
               choices=Arr(INTEGER_CHOICE, max_items=25, nullable=True),
               min_value=Nullable(INT53_TYPE), max_value=Nullable(INT53_TYPE)),
    5: _option(5),
    6: _option(6),
    7: _option(7, channel_types=Arr(CHANNEL_TYPES, unique=True, nullable=True)),
    8: _option(8),
    9: _option(9),
    10: _option(10, autocomplete=_AUTOCOMPLETE,
                choices=Arr(NUMBER_CHOICE, max_items=25, nullable=True),
                min_value=Num(nullable=True), max_value=Num(nullable=True)),
    11: _option(11),
}
SUBCOMMAND_OPTION = _option(1, options=Arr(Tagged(VALUE_OPTIONS), max_items=25,
                                           nullable=True))
SUBCOMMAND_GROUP_OPTION = _option(2, options=Arr(SUBCOMMAND_OPTION, max_items=25,
                                                 nullable=True))
APPLICATION_COMMAND_UPDATE_REQUEST = Obj({
    "name": Str(min_length=1, max_length=32),
    "name_localizations": NAME_LOCALIZATIONS,
    "description": Str(max_length=100, nullable=True),
    "description_localizations": TEXT_LOCALIZATIONS,
    "options": Arr(Tagged({**VALUE_OPTIONS, 1: SUBCOMMAND_OPTION, 2: SUBCOMMAND_GROUP_OPTION}),
                   max_items=25, nullable=True),
    "default_member_permissions": Int(minimum=0, maximum=18014398509481983, nullable=True),
    "dm_permission": Bool(nullable=True),
    "contexts": Arr(Int(choices=(0, 1, 2)), min_items=1, unique=True, nullable=True),
    "integration_types": Arr(Int(choices=(0, 1)), min_items=1, unique=True, nullable=True),
    "handler": Nullable(Int(choices=(1, 2))),
    "type": Nullable(Int(choices=(1, 2, 3, 4))),
    "id": Nullable(SNOWFLAKE_TYPE),
}, required=frozenset({"name"}))

# -- interaction callbacks -----------------------------------------------------------


def _callback(*kinds: int, data: Schema | None = None, data_required: bool = False) -> Obj:
    """An *InteractionCallbackRequest: its ``type`` and its ``data``."""
    fields: dict[str, Schema] = {"type": Int(choices=kinds)}
    if data is not None:
        fields["data"] = data
    return Obj(fields, required=frozenset({"type", "data"} if data_required else {"type"}))


TEXT_INPUT_COMPONENT_FOR_MODAL_REQUEST = Obj({
    "type": Int(choices=(4,)),
    "id": COMPONENT_ID,
    "custom_id": Str(min_length=1, max_length=100),
    "style": Int(choices=(1, 2)),
    "label": Str(min_length=1, max_length=45, nullable=True),
    "value": Str(max_length=4000, nullable=True),
    "placeholder": Str(max_length=100, nullable=True),
    "required": Bool(nullable=True),
    "min_length": Int(minimum=0, maximum=4000, nullable=True),
    "max_length": Int(minimum=1, maximum=4000, nullable=True),
}, required=frozenset({"type", "custom_id", "style"}))
#: CheckboxGroupOptionForRequest and RadioGroupOptionForRequest are the same schema.
CHOICE_OPTION_FOR_REQUEST = Obj({
    "label": Str(min_length=1, max_length=100),
    "value": Str(min_length=1, max_length=100),
    "description": Str(max_length=100, nullable=True),
    "default": Bool(nullable=True),
}, required=frozenset({"label", "value"}))


def _modal_input(kind: int, **own: Schema) -> Obj:
    return Obj({"type": Int(choices=(kind,)), "id": COMPONENT_ID,
                "custom_id": Str(min_length=1, max_length=100), **own},
               required=frozenset({"type", "custom_id", *(n for n in own if n == "options")}))


LABEL_COMPONENT_FOR_MODAL_REQUEST = Obj({
    "type": Int(choices=(18,)),
    "id": COMPONENT_ID,
    "label": Str(min_length=1, max_length=45),
    "description": Str(min_length=1, max_length=100, nullable=True),
    "component": Tagged({
        3: STRING_SELECT, 4: TEXT_INPUT_COMPONENT_FOR_MODAL_REQUEST, 5: USER_SELECT,
        6: ROLE_SELECT, 7: MENTIONABLE_SELECT, 8: CHANNEL_SELECT,
        19: _modal_input(19, min_values=Int(minimum=0, maximum=10, nullable=True),
                         max_values=Int(minimum=1, maximum=10, nullable=True),
                         required=Bool(nullable=True)),
        21: _modal_input(21, required=Bool(nullable=True),
                         options=Arr(CHOICE_OPTION_FOR_REQUEST, min_items=2, max_items=10)),
        22: _modal_input(22, min_values=Int(minimum=0, maximum=10, nullable=True),
                         max_values=Int(minimum=1, maximum=10, nullable=True),
                         required=Bool(nullable=True),
                         options=Arr(CHOICE_OPTION_FOR_REQUEST, min_items=1, max_items=10)),
        23: _modal_input(23, default=Bool(nullable=True)),
    }),
}, required=frozenset({"type", "label", "component"}))
MODAL_INTERACTION_CALLBACK_REQUEST_DATA = Obj({
    "custom_id": Str(min_length=1, max_length=100),
    "title": Str(min_length=1, max_length=45),
    "components": Arr(Tagged({
        1: Obj({"type": Int(choices=(1,)), "id": COMPONENT_ID,
                "components": Arr(TEXT_INPUT_COMPONENT_FOR_MODAL_REQUEST, min_items=1,
                                  max_items=5)},
               required=frozenset({"type", "components"})),
        10: TEXT_DISPLAY_COMPONENT_FOR_MESSAGE_REQUEST,
        18: LABEL_COMPONENT_FOR_MODAL_REQUEST,
    }), min_items=1, max_items=40),
}, required=frozenset({"custom_id", "title", "components"}))
#: IncomingWebhookUpdateForInteractionCallbackRequestPartial.
_UPDATE_FOR_CALLBACK = Obj({k: v for k, v in _WEBHOOK_MESSAGE.items() if k != "poll"})
_AUTOCOMPLETE_DATA = AnyOf(tuple(
    Obj({"choices": Arr(Nullable(choice), max_items=25, nullable=True)})
    for choice in (INTEGER_CHOICE, NUMBER_CHOICE, STRING_CHOICE)))

# -- the bodies of the routes ---------------------------------------------------------

#: POST /channels/{channel_id}/messages
MESSAGE_CREATE = MESSAGE_CREATE_REQUEST
#: PATCH /channels/{channel_id}/messages/{message_id}
MESSAGE_EDIT = MESSAGE_EDIT_REQUEST_PARTIAL
#: PATCH /channels/{channel_id}, of a thread
THREAD_UPDATE = UPDATE_THREAD_REQUEST_PARTIAL
#: PATCH /channels/{channel_id}, of a guild channel
CHANNEL_UPDATE = UPDATE_GUILD_CHANNEL_REQUEST_PARTIAL
#: POST /channels/{channel_id}/threads, in a text channel
THREAD_CREATE = CREATE_TEXT_THREAD_WITHOUT_MESSAGE_REQUEST
#: POST /channels/{channel_id}/messages/{message_id}/threads
THREAD_FROM_MESSAGE = CREATE_TEXT_THREAD_WITH_MESSAGE_REQUEST
#: POST /channels/{channel_id}/webhooks
WEBHOOK_CREATE = Obj({
    "name": Str(min_length=1, max_length=80),
    "avatar": Str(nullable=True),
}, required=frozenset({"name"}))
#: POST /webhooks/{webhook_id}/{webhook_token} (a channel webhook, or an
#: interaction's followup, whose body is IncomingWebhookInteractionRequest's)
WEBHOOK_EXECUTE = INCOMING_WEBHOOK_REQUEST_PARTIAL
#: PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}
WEBHOOK_MESSAGE_EDIT = INCOMING_WEBHOOK_UPDATE_REQUEST_PARTIAL
#: PUT /applications/{application_id}/commands and .../guilds/{guild_id}/commands
COMMANDS_OVERWRITE = Arr(APPLICATION_COMMAND_UPDATE_REQUEST, max_items=130, nullable=True)
#: POST /interactions/{interaction_id}/{interaction_token}/callback
INTERACTION_CALLBACK = Tagged({
    1: _callback(1),
    4: _callback(4, 5, data=Nullable(INCOMING_WEBHOOK_INTERACTION_REQUEST)),
    5: _callback(4, 5, data=Nullable(INCOMING_WEBHOOK_INTERACTION_REQUEST)),
    6: _callback(6, 7, data=Nullable(_UPDATE_FOR_CALLBACK)),
    7: _callback(6, 7, data=Nullable(_UPDATE_FOR_CALLBACK)),
    8: _callback(8, data=_AUTOCOMPLETE_DATA, data_required=True),
    9: _callback(9, data=MODAL_INTERACTION_CALLBACK_REQUEST_DATA, data_required=True),
    12: _callback(12),
    13: _callback(13, data=Obj({
        "eligible": Bool(),
        "ineligible_reason": Nullable(Int(choices=(0, 1, 2))),
        "ineligible_reason_description": Str(max_length=255, nullable=True),
    }, required=frozenset({"eligible"})), data_required=True),
})
