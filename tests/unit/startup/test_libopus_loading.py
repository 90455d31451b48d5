"""libopus is loaded at start-up; a missing or wrong library names the package."""

from __future__ import annotations

import ctypes.util

import discord.opus
import pytest

from bot.startup.errors import ExitStatus, StartupError
from bot.startup.opus import load_libopus


def test_the_library_the_loader_finds_is_loaded() -> None:
    name = ctypes.util.find_library("opus")
    assert name is not None  # the machine has libopus (scripts/setup-deps)
    assert load_libopus(name) == name
    assert discord.opus.is_loaded()


def test_a_library_name_that_does_not_exist_names_the_package_and_the_setting() -> None:
    with pytest.raises(StartupError) as info:
        load_libopus("libopus-does-not-exist.so.0")
    assert info.value.status is ExitStatus.OPUS_MISSING
    assert "libopus-does-not-exist.so.0" in info.value.message
    assert "install the libopus0 package" in info.value.message
    assert info.value.message.endswith("or fix OPUS_LIBRARY")


def test_a_library_that_is_not_libopus_is_refused_and_opus_stays_usable() -> None:
    libc = ctypes.util.find_library("c")
    assert libc is not None
    with pytest.raises(StartupError, match="opus_"):
        load_libopus(libc)
    assert discord.opus.is_loaded()
    discord.opus.Encoder()  # the previously loaded libopus still works
