"""What people say never formats, never mentions, never pings; long speech is split."""

from __future__ import annotations

import re

import pytest

from bot.transcripts.text import is_fully_escaped, unescape
from tests.fakes.discord import Message, Permission
from tests.integration.transcripts.conftest import Scene
from tests.support.waiting import eventually

INJECTIONS = [
    "@everyone look at this",
    "@here now",
    "hey <@123456789012345678> and <@!123456789012345678>",
    "the role <@&223456789012345678>",
    "go to <#323456789012345678>",
    "this is **bold** and __underlined__ and *italic*",
    "```py\nprint('code')\n```",
    "`inline` and ||spoiler|| and ~~struck~~",
    "# a heading",
    "> a quote",
    "-# small print",
    "1. a list",
    "[click here](https://example.invalid/steal)",
    "<t:0:R> <:emoji:1234> </cmd:42>",
    "back\\slash \\*not bold\\*",
]

MENTION = re.compile(r"(?<!\\)<[@#/:t]|(?<!\\)@(everyone|here)")


def bodies(post: Message) -> list[str]:
    """The escaped texts in a webhook post (the original line, the quoted translation)."""
    return [line.removeprefix("> ") for line in post.content.split("\n")]


@pytest.mark.parametrize("webhooks", [True, False], ids=["as-speaker", "as-bot"])
async def test_injection_strings_are_shown_verbatim_and_never_mention(
    scene: Scene, webhooks: bool,
) -> None:
    if not webhooks:
        scene.fake.set_bot_permission(scene.fake.text_channel, deny=Permission.MANAGE_WEBHOOKS)
    await scene.open_run()
    for count, text in enumerate(INJECTIONS, 1):
        scene.utterance("alice", text, text.upper())
        await scene.wait_posts(count)
    posts = scene.posts()
    assert len(posts) == len(INJECTIONS)
    for post, text in zip(posts, INJECTIONS, strict=True):
        assert post.allowed_mentions == {"parse": []}
        assert MENTION.search(post.content) is None, post.content
        original, translation = bodies(post)
        if not webhooks:
            assert original.startswith("**Alice**: ")
            original = original.removeprefix("**Alice**: ")
        flat = " ".join(text.split())
        assert (unescape(original), unescape(translation)) == (flat, flat.upper())
        assert is_fully_escaped(original)
        assert is_fully_escaped(translation)


async def test_an_edit_adding_the_translation_is_escaped_and_mentions_nothing(
    scene: Scene,
) -> None:
    await scene.open_run()
    scene.said("alice", "hello")
    [post] = await scene.wait_posts(1)
    scene.translated("alice", "@everyone <@1> **hola**")
    await eventually(lambda: post.edits)
    assert post.edits[-1]["allowed_mentions"] == {"parse": []}
    assert post.content == "hello\n> \\@everyone \\<\\@1\\> \\*\\*hola\\*\\*"


async def test_a_display_name_with_markdown_is_escaped_when_posting_as_the_bot(
    scene: Scene,
) -> None:
    scene.fake.set_bot_permission(scene.fake.text_channel, deny=Permission.MANAGE_WEBHOOKS)
    scene.fake.guild.members[scene.member_id("bob")].nick = "**@everyone**"
    await scene.open_run()
    scene.utterance("bob", "hi", "hola")
    [post] = await scene.wait_posts(1)
    assert post.content == "**\\*\\*\\@everyone\\*\\***: hi\n> hola"


async def test_speech_over_2000_characters_is_split_on_word_boundaries(scene: Scene) -> None:
    await scene.open_run()
    words = [f"word{i}" for i in range(700)]  # ~4,500 characters
    original = " ".join(words)
    scene.utterance("alice", original, "corto")
    posts = await scene.wait_posts(3)
    await eventually(lambda: any(p.content.endswith("> corto") for p in scene.posts()))
    posts = scene.posts()
    assert all(len(p.content) <= 2000 for p in posts)
    assert all(p.username == "Alice" for p in posts)
    text = "\n".join(p.content for p in posts)
    first, translation = text.rsplit("\n", 1)
    assert translation == "> corto"
    assert first.replace("\n", " ").split(" ") == words  # no word was cut
