"""Thread names fit Discord's limit; threads of ended runs are reusable for ten minutes."""

from __future__ import annotations

import datetime as dt

from bot.transcripts.threads import ThreadKey, ThreadRegistry, caption_thread_name, thread_name

DAY = dt.date(2025, 6, 1)
KEY = ThreadKey(1, 2, 3, "en-US", "es-ES")


def test_the_name_says_channel_language_pair_and_date() -> None:
    assert thread_name("Voice", "en-US", "es-ES", DAY) == "Voice · en-US → es-ES · 2025-06-01"
    assert thread_name("Voice", "en-US", "es-ES", DAY, continued=True).endswith("(continued)")


def test_a_pair_mode_thread_names_both_directions() -> None:
    assert thread_name("Voice", "en-US", "es-ES", DAY, pair=True) == (
        "Voice · en-US ↔ es-ES · 2025-06-01")


def test_a_caption_thread_is_named_in_its_own_language() -> None:
    assert caption_thread_name("Voice", "fr-FR", DAY) == "Voice · Français · 2025-06-01"
    assert caption_thread_name("Voice", "de-DE", DAY, continued=True) == (
        "Voice · Deutsch · 2025-06-01 (continued)")


def test_a_caption_thread_is_never_reused_as_a_runs_own_thread() -> None:
    registry = ThreadRegistry()
    registry.remember(ThreadKey(1, 2, 3, "en-US", "fr-FR", caption=True), 42, now=1000.0)
    assert registry.reusable(ThreadKey(1, 2, 3, "en-US", "fr-FR"), now=1001.0) is None


def test_a_long_channel_name_is_shortened_to_100_characters() -> None:
    name = thread_name("v" * 200, "en-US", "es-ES", DAY, continued=True)
    assert len(name) == 100
    assert name.endswith("· en-US → es-ES · 2025-06-01 (continued)")


def test_a_thread_is_reusable_within_ten_minutes_once() -> None:
    registry = ThreadRegistry()
    registry.remember(KEY, 42, now=1000.0)
    assert registry.reusable(ThreadKey(1, 2, 3, "en-US", "fr-FR"), now=1001.0) is None
    assert registry.reusable(KEY, now=1000.0 + 599) == 42
    assert registry.reusable(KEY, now=1000.0 + 599) is None  # taken


def test_after_ten_minutes_a_new_thread_is_made() -> None:
    registry = ThreadRegistry()
    registry.remember(KEY, 42, now=1000.0)
    assert registry.reusable(KEY, now=1000.0 + 600) is None
