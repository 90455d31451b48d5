"""Precedence of settings: command option > channel > server > built-in default."""

from __future__ import annotations

import pytest

from bot.store.config import (
    DEFAULTS,
    ConfigError,
    ConfigLayer,
    Source,
    resolve,
    validate_layer,
)


def test_nothing_set_gives_the_defaults() -> None:
    effective = resolve(ConfigLayer(), ConfigLayer())
    assert dict(effective.values) == dict(DEFAULTS)
    assert set(effective.sources.values()) == {Source.DEFAULT}


def test_the_server_overrides_the_default() -> None:
    effective = resolve(ConfigLayer(voice="male"), ConfigLayer())
    assert (effective["voice"], effective.source("voice")) == ("male", Source.SERVER)


def test_the_channel_overrides_the_server() -> None:
    effective = resolve(ConfigLayer(voice="male"), ConfigLayer(voice="female"))
    assert (effective["voice"], effective.source("voice")) == ("female", Source.CHANNEL)


def test_a_command_option_overrides_the_channel() -> None:
    effective = resolve(ConfigLayer(voice="male"), ConfigLayer(voice="female"),
                        ConfigLayer(voice="clone"))
    assert (effective["voice"], effective.source("voice")) == ("clone", Source.OPTION)


def test_each_setting_is_resolved_on_its_own() -> None:
    effective = resolve(ConfigLayer(target_language="de-DE", max_speakers=4),
                        ConfigLayer(target_language="fr-FR"))
    assert effective.source("target_language") is Source.CHANNEL
    assert effective.source("max_speakers") is Source.SERVER
    assert effective.source("mode") is Source.DEFAULT


def test_false_and_zero_are_values_not_gaps() -> None:
    effective = resolve(ConfigLayer(play_audio=True), ConfigLayer(play_audio=False,
                                                                  max_run_minutes=0))
    assert effective["play_audio"] is False
    assert effective["max_run_minutes"] == 0


def test_retention_is_only_read_from_the_server() -> None:
    effective = resolve(ConfigLayer(), ConfigLayer(retention_days=1))
    assert effective.source("retention_days") is Source.DEFAULT


def test_validation_normalises_languages_voices_and_modes() -> None:
    layer = validate_layer(ConfigLayer(target_language="pt_br", source_language="es",
                                       voice=" Male ", mode="MIXED"))
    assert layer == ConfigLayer(target_language="pt-BR", source_language="es-ES",
                                voice="male", mode="mixed")


@pytest.mark.parametrize(("layer", "message"), [
    (ConfigLayer(target_language="xx-XX"), "Unsupported language"),
    (ConfigLayer(voice="robot"), "clone, female, male"),
    (ConfigLayer(mode="solo"), "per-speaker, mixed"),
    (ConfigLayer(idle_leave_s=5), "between 10 and 3600"),
    (ConfigLayer(max_run_minutes=-1), "between 0 and 1440"),
    (ConfigLayer(context="x" * 501), "501 characters long; at most 500"),
    (ConfigLayer(caption_languages="fr, xx-XX"), "Unsupported language code 'xx-XX'"),
    (ConfigLayer(caption_languages=" , "), "at least one language"),
    (ConfigLayer(caption_languages=",".join(["fr", "de", "it", "es", "pt", "nl", "pl", "sv",
                                             "da", "fi", "ru"])), "at most 10"),
    (ConfigLayer(max_caption_languages=11), "between 0 and 10"),
])
def test_validation_refuses_bad_values_with_a_sentence(layer: ConfigLayer, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        validate_layer(layer)


def test_caption_languages_are_normalised_in_order_without_repeats() -> None:
    layer = validate_layer(ConfigLayer(caption_languages="fr; de-de, FR-fr ,it"))
    assert layer.caption_languages == "fr-FR,de-DE,it-IT"


def test_the_caption_cap_defaults_to_three_and_zero_is_a_value() -> None:
    assert resolve(ConfigLayer(), ConfigLayer())["max_caption_languages"] == 3
    assert resolve(ConfigLayer(max_caption_languages=0),
                   ConfigLayer())["max_caption_languages"] == 0


def test_the_context_is_trimmed_and_never_shown_by_a_repr() -> None:
    layer = validate_layer(ConfigLayer(context="  Ferris, crates.io  "))
    assert layer.context == "Ferris, crates.io"
    assert "Ferris" not in repr(layer)


def test_the_effective_settings_never_show_the_context_when_printed() -> None:
    effective = resolve(ConfigLayer(), ConfigLayer(context="Ferris and Corro"))
    assert effective["context"] == "Ferris and Corro"
    assert "Ferris" not in repr(effective)
    assert "'context': '<16 characters>'" in repr(effective)
