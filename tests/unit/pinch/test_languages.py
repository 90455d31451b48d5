"""Language codes: the table, normalisation, unknown codes, autocomplete."""

from __future__ import annotations

import pytest

from bot.languages import (
    DEFAULT_REGION,
    NATIVE_NAMES,
    SUPPORTED,
    UnknownLanguage,
    language_name,
    native_name,
    normalize_language,
    suggest,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [("es-es", "es-ES"), ("ES-ES", "es-ES"), ("en_us", "en-US"), (" pt-br ", "pt-BR")],
)
def test_known_code_in_any_case_or_separator_is_normalised(given: str, expected: str) -> None:
    assert normalize_language(given) == expected


@pytest.mark.parametrize(
    ("bare", "expected"), [("es", "es-ES"), ("en", "en-US"), ("pt", "pt-BR"), ("DE", "de-DE")]
)
def test_bare_language_takes_its_documented_default_region(bare: str, expected: str) -> None:
    assert normalize_language(bare) == expected


def test_every_supported_code_normalises_to_itself() -> None:
    assert all(normalize_language(code) == code for code in SUPPORTED)


def test_every_default_region_is_a_supported_code() -> None:
    assert set(DEFAULT_REGION.values()) <= set(SUPPORTED)


def test_every_language_in_the_table_has_a_default_region() -> None:
    assert {code.split("-")[0] for code in SUPPORTED} <= set(DEFAULT_REGION)


def test_unknown_region_lists_the_same_language_regions_as_close_matches() -> None:
    with pytest.raises(UnknownLanguage) as caught:
        normalize_language("es-AR")
    assert caught.value.suggestions[:3] == ("es-ES", "es-MX", "es-US")
    assert "es-MX (Spanish (Mexico))" in str(caught.value)


def test_misspelt_code_suggests_look_alikes() -> None:
    with pytest.raises(UnknownLanguage) as caught:
        normalize_language("fr-FF")
    assert "fr-FR" in caught.value.suggestions


def test_unknown_language_is_a_value_error_with_examples_when_nothing_is_close() -> None:
    with pytest.raises(ValueError, match="such as en-US"):
        normalize_language("qqqqqqqqqqqq")


def test_unknown_language_message_does_not_echo_an_endless_input() -> None:
    with pytest.raises(UnknownLanguage) as caught:
        normalize_language("x" * 5000)
    assert len(str(caught.value)) < 300


def test_non_string_code_is_an_unknown_language() -> None:
    with pytest.raises(UnknownLanguage):
        normalize_language(None)  # type: ignore[arg-type]


def test_every_supported_language_has_its_own_name_for_itself() -> None:
    assert set(NATIVE_NAMES) == set(SUPPORTED)
    assert native_name("fr") == "Français"
    assert native_name("fr-CA") == "Français (Canada)"


def test_language_name_reads_the_table_after_normalisation() -> None:
    assert language_name("es-es") == "Spanish (Spain)"


def test_suggest_puts_code_prefix_matches_first() -> None:
    assert [code for code, _ in suggest("fr")] == ["fr-CA", "fr-FR"]


def test_suggest_matches_words_of_english_names() -> None:
    codes = [code for code, _ in suggest("span")]
    assert codes == ["es-ES", "es-MX", "es-US"]


def test_suggest_matches_inside_names_after_word_starts() -> None:
    codes = [code for code, _ in suggest("ndarin")]
    assert codes == ["zh-CN", "zh-TW"]


def test_suggest_with_empty_prefix_lists_at_most_25_discord_choices() -> None:
    choices = suggest("")
    assert len(choices) == 25
    assert choices[0] == next(iter(SUPPORTED.items()))


def test_suggest_respects_a_smaller_limit_and_refuses_non_positive_ones() -> None:
    assert len(suggest("e", limit=3)) == 3
    assert suggest("e", limit=0) == []


def test_suggest_returns_nothing_for_an_unmatched_prefix() -> None:
    assert suggest("zzz") == []
