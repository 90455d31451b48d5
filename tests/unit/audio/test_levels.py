"""Levels in dBFS and the voice-activity gate with hangover."""

from __future__ import annotations

import numpy as np
import pytest

from bot.audio.levels import MIN_DBFS, VoiceGate, dbfs
from tests.support.signals import tone

SPEECH = tone(300, 0.02, amplitude=0.3)  # one 20 ms frame at 48 kHz mono
QUIET = np.zeros(960, dtype=np.int16)


def test_a_full_scale_sine_is_about_minus_3_dbfs() -> None:
    assert dbfs(tone(1000, 0.1, amplitude=1.0)) == pytest.approx(-3.01, abs=0.05)


def test_silence_reports_the_floor_not_minus_infinity() -> None:
    assert dbfs(QUIET) == MIN_DBFS


def test_gate_stays_closed_on_silence() -> None:
    gate = VoiceGate(threshold_dbfs=-40, hangover_ms=100)
    assert [gate.update(QUIET) for _ in range(5)] == [False] * 5


def test_gate_opens_on_speech() -> None:
    gate = VoiceGate(threshold_dbfs=-40, hangover_ms=100)
    assert gate.update(SPEECH)
    assert gate.is_open


def test_gate_holds_for_the_hangover_after_speech() -> None:
    gate = VoiceGate(threshold_dbfs=-40, hangover_ms=100)
    gate.update(SPEECH)
    assert [gate.update(QUIET) for _ in range(5)] == [True] * 5  # 5 × 20 ms = 100 ms


def test_gate_closes_after_the_hangover() -> None:
    gate = VoiceGate(threshold_dbfs=-40, hangover_ms=100)
    gate.update(SPEECH)
    for _ in range(5):
        gate.update(QUIET)
    assert not gate.update(QUIET)
    assert not gate.is_open


def test_speech_during_the_hangover_restarts_it() -> None:
    gate = VoiceGate(threshold_dbfs=-40, hangover_ms=40)
    decisions = [gate.update(f) for f in (SPEECH, QUIET, SPEECH, QUIET, QUIET, QUIET)]
    assert decisions == [True, True, True, True, True, False]


def test_gate_counts_duration_from_frame_length() -> None:
    gate = VoiceGate(threshold_dbfs=-40, hangover_ms=20, sample_rate=48_000, channels=2)
    gate.update(np.repeat(SPEECH[:480], 2))  # 10 ms stereo
    quiet_10ms_stereo = np.zeros(960, dtype=np.int16)
    assert [gate.update(quiet_10ms_stereo) for _ in range(3)] == [True, True, False]
