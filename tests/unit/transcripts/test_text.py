"""Safe text: escaping is complete and reversible; splitting keeps words and escapes whole."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.transcripts.text import Line, escape, is_fully_escaped, split_lines, unescape

MARKDOWN_AND_MENTIONS = st.text(
    alphabet=st.sampled_from(list("ab 1.\\*_~|`<>@#-+[]():&!\n\t")) | st.characters(),
    max_size=300)


@given(MARKDOWN_AND_MENTIONS)
def test_escaping_is_reversible_up_to_whitespace(text: str) -> None:
    assert unescape(escape(text)) == " ".join(text.split())


@given(MARKDOWN_AND_MENTIONS)
def test_every_special_character_is_escaped(text: str) -> None:
    assert is_fully_escaped(escape(text))


def test_mentions_and_formatting_lose_their_meaning() -> None:
    assert escape("@everyone <@123> <#456> **bold**") == (
        "\\@everyone \\<\\@123\\> \\<\\#456\\> \\*\\*bold\\*\\*")
    assert escape("```code```") == "\\`\\`\\`code\\`\\`\\`"


def test_newlines_cannot_start_a_heading_or_a_quote() -> None:
    assert escape("hello\n# heading\n> quote") == "hello \\# heading \\> quote"


def test_a_numbered_list_does_not_form() -> None:
    assert escape("1. first") == "1\\. first"
    assert escape("the end.") == "the end."


def test_unescaped_special_characters_are_detected() -> None:
    assert not is_fully_escaped("hi @everyone")
    assert not is_fully_escaped("trailing backslash \\")
    assert is_fully_escaped("plain, text. with punctuation!")


@given(st.lists(st.text(alphabet="ab*@<", min_size=1, max_size=30), min_size=1,
                max_size=300))
def test_split_messages_fit_and_keep_every_word_and_escape(words: list[str]) -> None:
    body = escape(" ".join(words))
    messages = split_lines([Line("> ", body)], limit=200)
    assert all(len(m) <= 200 for m in messages)
    assert all(m.startswith("> ") for m in messages)
    pieces = [m.removeprefix("> ") for m in messages]
    assert " ".join(pieces) == body
    assert all(is_fully_escaped(p) for p in pieces)


def test_whole_lines_are_packed_together_while_they_fit() -> None:
    lines = [Line("", "one"), Line("> ", "uno"), Line("", "two"), Line("> ", "dos")]
    assert split_lines(lines, limit=16) == ["one\n> uno\ntwo", "> dos"]


def test_a_word_longer_than_a_message_is_cut_but_never_inside_an_escape() -> None:
    body = escape("*" * 150)  # 300 characters, all escape pairs
    messages = split_lines([Line("", body)], limit=101)
    assert "".join(messages) == body
    assert all(re.fullmatch(r"(\\\*)+", m) for m in messages)
