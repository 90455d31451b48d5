"""The benchmark suite's arithmetic and signal: what its tables say must follow from them."""

from __future__ import annotations

import math

import pytest

from tests.benchmarks.load import ONSET_GAP_S, loud
from tests.benchmarks.report import Goal, growth_percent, markdown_table, ratio, tails
from tests.benchmarks.speech import speech_like


def test_tails_interpolate_percentiles_and_count_samples() -> None:
    t = tails(float(x) for x in range(1, 101))
    assert (t.p50, t.p95, t.p99, t.count) == (pytest.approx(50.5), pytest.approx(95.05),
                                              pytest.approx(99.01), 100)


def test_tails_of_no_samples_are_nan_and_say_so() -> None:
    t = tails([])
    assert t.count == 0
    assert math.isnan(t.p95)
    assert str(t) == "no samples"


def test_ratio_is_nan_without_a_positive_base() -> None:
    assert ratio(3.0, 2.0) == 1.5
    assert math.isnan(ratio(3.0, 0.0))
    assert math.isnan(ratio(float("nan"), 2.0))


def test_growth_percent_is_relative_to_the_first_value() -> None:
    assert growth_percent(200.0, 210.0) == pytest.approx(5.0)
    assert growth_percent(200.0, 190.0) == pytest.approx(-5.0)


def test_an_upper_bound_goal_is_met_at_its_target_and_not_above() -> None:
    goal = Goal("CPU", 1.0, " ms")
    assert goal.met(1.0) is True
    assert goal.met(1.01) is False
    assert goal.row(0.5) == ("CPU <= 1 ms", "0.50 ms", "met")


def test_a_lower_bound_goal_is_met_at_or_above_its_target() -> None:
    goal = Goal("scaling", 1.6, "×", ">=")
    assert goal.met(1.6) is True
    assert goal.met(1.2) is False
    assert goal.row(1.2, "estimate")[1:] == ("1.20× (estimate)", "NOT met")


def test_a_goal_without_a_measurement_is_reported_as_not_measured() -> None:
    assert Goal("idle", 0.1, " ms").row(float("nan")) == ("idle <= 0.1 ms", "—", "not measured")


def test_markdown_table_escapes_pipes_and_refuses_ragged_rows() -> None:
    table = markdown_table(["a", "b"], [["1", "x|y"]])
    assert table.splitlines() == ["| a | b |", "|---|---|", "| 1 | x\\|y |"]
    with pytest.raises(ValueError, match="row has 1 cells"):
        markdown_table(["a", "b"], [["1"]])


def test_speech_like_signal_is_deterministic_with_phrases_and_pauses() -> None:
    a, b = speech_like(4.0, seed=3), speech_like(4.0, seed=3)
    assert a == b
    assert len(a.pcm) == 200
    assert all(len(f) == 3840 for f in a.pcm)
    assert a.phrase_starts
    assert all(a.voiced[i] for i in a.phrase_starts)
    assert not all(a.voiced)  # pauses, where a client sends nothing
    assert speech_like(4.0, seed=4).pcm != a.pcm


@pytest.mark.parametrize("seed", range(1000, 1016))  # the seeds of the rig's members
def test_every_phrase_of_the_looped_speech_starts_after_a_quiet_gap_the_probe_sees(
        seed: int) -> None:
    # The delay probe takes a loud frame after ONSET_GAP_S of quiet as a phrase's onset;
    # a phrase without one (say, across the loop's wrap) would leave its mark to be
    # matched with the next phrase's onset, a whole phrase late.
    speech = speech_like(12.0, seed)
    frames = len(speech.pcm)
    quiet = [not loud(pcm) for pcm in speech.pcm]
    gap = math.ceil(ONSET_GAP_S / 0.02)
    starts = sorted(speech.phrase_starts)
    for start, following in zip(starts, [*starts[1:], starts[0] + frames], strict=True):
        assert all(quiet[(start - k) % frames] for k in range(1, gap + 1)), start
        assert not all(quiet[i % frames] for i in range(start, following)), start
