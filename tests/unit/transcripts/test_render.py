"""How a post reads: speaker, original, quoted translation, detected language."""

from __future__ import annotations

import pytest

from bot.interpretation.pair_mode import Direction
from bot.transcripts.pairing import Utterance
from bot.transcripts.render import (
    Speaker,
    language_differs,
    post_lines,
    render_post,
    webhook_username,
)

NAMES = {1: Speaker(1, "Alice"), 2: Speaker(2, "B*b")}


def said(member: int, original: str, translation: str | None = None,
         language: str | None = "en-US") -> Utterance:
    return Utterance(0, "L", None, member, original, language, translation, 0.0, 0.0, 0.0)


def render(*utterances: Utterance, inline: bool = False) -> list[str]:
    return render_post(utterances, speaker_of=lambda m: NAMES[m or 0],
                       source_of=lambda m: "en-US", names_inline=inline)


def test_as_the_speaker_the_original_then_the_quoted_translation() -> None:
    assert render(said(1, "Hello", "Hola")) == ["Hello\n> Hola"]


def test_as_the_bot_the_name_comes_first_in_bold_and_escaped() -> None:
    assert render(said(2, "Hi", "Hola"), inline=True) == ["**B\\*b**: Hi\n> Hola"]


def test_an_original_waiting_for_its_translation_is_shown_alone() -> None:
    assert render(said(1, "Hello")) == ["Hello"]


def test_a_translation_without_original_is_a_quote() -> None:
    assert render(said(1, "", "Hola")) == ["> Hola"]
    assert render(said(1, "", "Hola"), inline=True) == ["> **Alice**: Hola"]


def test_the_detected_language_shows_only_when_it_is_not_the_source() -> None:
    assert render(said(1, "Bonjour", "Hola", language="fr")) == ["(fr) Bonjour\n> Hola"]
    assert render(said(1, "Bonjour", "Hola", language="fr-FR"), inline=True) == [
        "**Alice** (fr\\-FR): Bonjour\n> Hola"]
    assert render(said(1, "Hi", "Hola", language="en")) == ["Hi\n> Hola"]
    assert render(said(1, "Hi", "Hola", language=None)) == ["Hi\n> Hola"]


def test_merged_utterances_follow_each_other_in_one_message() -> None:
    assert render(said(1, "one", "uno"), said(2, "two", "dos"), inline=True) == [
        "**Alice**: one\n> uno\n**B\\*b**: two\n> dos"]


def test_lines_keep_trusted_markup_apart_from_escaped_speech() -> None:
    [first, second] = post_lines([said(1, "**x**", "@y")], speaker_of=lambda m: NAMES[1],
                                 source_of=lambda m: "en-US", names_inline=True)
    assert (first.prefix, first.body) == ("**Alice**: ", "\\*\\*x\\*\\*")
    assert (second.prefix, second.body) == ("> ", "\\@y")


def test_language_comparison_is_on_the_primary_subtag() -> None:
    assert not language_differs("en", "en-US")
    assert not language_differs("EN_gb", "en-US")
    assert language_differs("es-MX", "en-US")
    assert not language_differs(None, "en-US")


def test_webhook_usernames_follow_discords_rules() -> None:
    assert webhook_username("  Alice   Smith ") == "Alice Smith"
    assert webhook_username("x" * 100) == "x" * 80
    assert webhook_username("Discord Fan") is None
    assert webhook_username("clyde") is None
    assert webhook_username("   ") is None


@pytest.mark.parametrize("name", ["everyone", "Here", " EVERYONE "])
def test_a_name_discord_reserves_is_no_webhook_username(name: str) -> None:
    assert webhook_username(name) is None


def directed(member: int, original: str, translation: str | None, direction: Direction,
             language: str | None) -> Utterance:
    return Utterance(0, "L", None, member, original, language, translation, 0.0, 0.0, 0.0,
                     direction=direction)


def test_in_pair_mode_each_post_shows_its_direction() -> None:
    es_en = Direction("es-ES", "en-US")
    assert render(directed(2, "Hola", "Hello", es_en, "es-ES")) == [
        "(es\\-ES → en\\-US) Hola\n> Hello"]
    assert render(directed(2, "Hola", "Hello", es_en, "es"), inline=True) == [
        "**B\\*b** (es\\-ES → en\\-US): Hola\n> Hello"]


def test_in_pair_mode_a_detected_language_other_than_the_source_follows_the_direction() -> None:
    assert render(directed(1, "Bonjour", "Hola", Direction("en-US", "es-ES"), "fr")) == [
        "(en\\-US → es\\-ES, heard fr) Bonjour\n> Hola"]


def test_in_pair_mode_a_lone_translation_shows_its_direction() -> None:
    en_es = Direction("en-US", "es-ES")
    assert render(directed(1, "", "Hola", en_es, None)) == ["> (en\\-US → es\\-ES) Hola"]
    assert render(directed(1, "", "Hola", en_es, None), inline=True) == [
        "> **Alice** (en\\-US → es\\-ES): Hola"]
