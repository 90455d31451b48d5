"""The simulator's language code: a speaker's tone band says which language they speak."""

from __future__ import annotations

from tests.e2e.conftest import ADMIN_HZ, ALICE_HZ, BOB_HZ, MUSICBOT_HZ
from tests.fakes.pinch import SPEAKER_LANGUAGES, LanguageBand, language_of, translation_frequency


def test_the_harness_speakers_each_speak_a_language() -> None:
    assert [language_of(hz, SPEAKER_LANGUAGES) for hz in (ALICE_HZ, BOB_HZ, ADMIN_HZ)] == [
        "en-US", "es-ES", "fr-FR"]


def test_tones_outside_every_band_have_no_language() -> None:
    assert language_of(MUSICBOT_HZ, SPEAKER_LANGUAGES) is None
    assert language_of(translation_frequency(0), SPEAKER_LANGUAGES) is None
    assert language_of(ALICE_HZ, ()) is None  # no bands: the agent reports the hint


def test_a_band_includes_its_low_edge_only() -> None:
    band = (LanguageBand(100.0, 200.0, "de-DE"),)
    assert (language_of(100.0, band), language_of(199.9, band), language_of(200.0, band)) == (
        "de-DE", "de-DE", None)
