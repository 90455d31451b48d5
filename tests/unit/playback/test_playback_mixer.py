"""PlaybackMixer: the discord.AudioSource that plays every link's translation."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from bot.audio.frames import FRAME_BYTES, SILENCE_FRAME, pcm_to_samples
from bot.voice.playback import PlaybackMixer
from tests.support.signals import dominant_frequency, rms, tone


def _pcm(freq: float, ms: float, *, start_ms: float = 0, amplitude: float = 0.3) -> bytes:
    mono = tone(freq, ms / 1000, amplitude=amplitude, phase_samples=round(start_ms * 48))
    return np.repeat(mono, 2).tobytes()


def _left(frame: bytes) -> np.ndarray:
    return pcm_to_samples(frame)[0::2]


def test_read_returns_one_discord_frame_of_silence_when_nothing_is_open() -> None:
    mixer = PlaybackMixer()
    assert mixer.read() == SILENCE_FRAME
    assert not mixer.is_opus()


def test_an_input_waits_for_its_prebuffer_before_playing() -> None:
    mixer = PlaybackMixer(prebuffer_ms=60)
    inp = mixer.open_input("a")
    inp.push(_pcm(440, 40))
    assert mixer.read() == SILENCE_FRAME
    inp.push(_pcm(440, 20, start_ms=40))
    assert mixer.read() != SILENCE_FRAME


def test_pushed_audio_comes_out_unchanged_in_20_ms_frames() -> None:
    mixer = PlaybackMixer(prebuffer_ms=0)
    audio = _pcm(440, 100)
    inp = mixer.open_input("a")
    inp.push(audio)
    out = b"".join(mixer.read() for _ in range(5))
    assert out == audio


def test_blocks_of_any_length_are_reassembled_even_mid_sample() -> None:
    mixer = PlaybackMixer(prebuffer_ms=0)
    audio = _pcm(440, 40)
    inp = mixer.open_input("a")
    for cut in range(0, len(audio), 1001):  # 1001 splits stereo samples and bytes
        inp.push(audio[cut : cut + 1001])
    assert mixer.read() + mixer.read() == audio


def test_underrun_gives_silence_and_is_counted() -> None:
    mixer = PlaybackMixer(prebuffer_ms=0)
    inp = mixer.open_input("a")
    inp.push(_pcm(440, 30))  # still talking when the buffer runs dry
    mixer.read()
    partial = mixer.read()
    assert len(partial) == FRAME_BYTES
    assert partial[1920:] == bytes(1920)
    assert mixer.read() == SILENCE_FRAME
    assert mixer.stats().underruns == 1
    assert inp.stats().underruns == 1


def test_an_input_starts_with_a_one_frame_prebuffer_by_default() -> None:
    mixer = PlaybackMixer()
    inp = mixer.open_input("a")
    inp.push(_pcm(440, 10))
    assert mixer.read() == SILENCE_FRAME
    inp.push(_pcm(440, 10, start_ms=10))
    assert mixer.read() != SILENCE_FRAME
    assert inp.stats().prebuffer_ms == pytest.approx(20)


def test_each_underrun_raises_that_inputs_prebuffer_by_a_frame() -> None:
    mixer = PlaybackMixer(prebuffer_ms=20)
    inp = mixer.open_input("a")
    for pushed_ms, expected in ((30, 40), (50, 60)):
        inp.push(_pcm(440, pushed_ms))  # 10 ms more than the prebuffer: then it runs dry
        while inp.stats().buffered_ms:
            mixer.read()
        assert inp.stats().prebuffer_ms == pytest.approx(expected)
    inp.push(_pcm(440, 40))
    assert mixer.read() == SILENCE_FRAME  # 40 ms held: short of the 60 ms it needs now
    inp.push(_pcm(440, 20))
    assert mixer.read() != SILENCE_FRAME


def test_the_prebuffer_stops_growing_at_its_maximum() -> None:
    mixer = PlaybackMixer(prebuffer_ms=20, max_prebuffer_ms=60)
    inp = mixer.open_input("a")
    for _ in range(5):
        inp.push(_pcm(440, 70))
        for _ in range(4):
            mixer.read()
    assert inp.stats().underruns == 5
    assert inp.stats().prebuffer_ms == pytest.approx(60)


def test_a_raised_prebuffer_comes_down_a_frame_per_stretch_played_without_underrun() -> None:
    mixer = PlaybackMixer(prebuffer_ms=20, relax_after_ms=100)
    inp = mixer.open_input("a")
    for pushed_ms in (30, 50):  # two underruns: 20 → 40 → 60 ms
        inp.push(_pcm(440, pushed_ms))
        while inp.stats().buffered_ms:
            mixer.read()
    assert inp.stats().prebuffer_ms == pytest.approx(60)
    inp.push(_pcm(440, 200))  # 10 clean frames: two stretches of 100 ms
    for _ in range(10):
        mixer.read()
    assert inp.stats().underruns == 2
    assert inp.stats().prebuffer_ms == pytest.approx(20)


def test_one_inputs_underruns_do_not_delay_another_input() -> None:
    mixer = PlaybackMixer(prebuffer_ms=20)
    jittery, smooth = mixer.open_input("jittery"), mixer.open_input("smooth")
    jittery.push(_pcm(440, 30))
    for _ in range(3):
        mixer.read()
    assert jittery.stats().prebuffer_ms == pytest.approx(40)
    assert smooth.stats().prebuffer_ms == pytest.approx(20)


def test_running_dry_after_the_source_went_quiet_is_not_an_underrun() -> None:
    mixer = PlaybackMixer(prebuffer_ms=0, silence_hangover_ms=0)
    inp = mixer.open_input("a")
    inp.push(_pcm(440, 20))
    inp.push(bytes(FRAME_BYTES))  # quiet beyond the hangover: the utterance ended
    mixer.read()
    mixer.read()
    assert mixer.stats().underruns == 0


def test_running_dry_after_the_source_paused_is_not_an_underrun() -> None:
    mixer = PlaybackMixer(prebuffer_ms=0)
    inp = mixer.open_input("a")
    inp.push(_pcm(440, 30))  # the last pushed audio is loud: it would count as talking
    inp.pause()  # the transport says the translation ended
    for _ in range(3):
        mixer.read()
    assert inp.stats().underruns == 0
    assert inp.stats().prebuffer_ms == pytest.approx(0)


def test_a_paused_input_plays_what_it_holds_without_waiting_for_its_prebuffer() -> None:
    woke: list[bool] = []
    mixer = PlaybackMixer(prebuffer_ms=60, on_active=lambda: woke.append(True))
    inp = mixer.open_input("a")
    inp.push(_pcm(440, 20))
    assert woke == []
    inp.pause()
    assert woke == [True]
    assert mixer.read() == _pcm(440, 20)


def test_audio_after_a_pause_is_talking_again_and_runs_dry_as_an_underrun() -> None:
    mixer = PlaybackMixer(prebuffer_ms=0)
    inp = mixer.open_input("a")
    inp.push(_pcm(440, 20))
    inp.pause()
    mixer.read()
    inp.push(_pcm(440, 30))
    for _ in range(3):
        mixer.read()
    assert inp.stats().underruns == 1


def test_pausing_a_closed_input_does_not_wake_the_mixer() -> None:
    woke: list[bool] = []
    mixer = PlaybackMixer(prebuffer_ms=60, on_active=lambda: woke.append(True))
    inp = mixer.open_input("a")
    inp.push(_pcm(440, 20))
    inp.close(drain=False)
    inp.pause()
    assert woke == []
    assert mixer.is_idle()


def test_overrun_drops_the_oldest_audio_and_is_counted() -> None:
    mixer = PlaybackMixer(buffer_ms=100, prebuffer_ms=0, max_prebuffer_ms=60)
    inp = mixer.open_input("a")
    old, new = _pcm(440, 60), _pcm(1000, 100)
    inp.push(old)
    inp.push(new)
    assert inp.stats().overrun_dropped_ms == pytest.approx(60)
    assert mixer.stats().overrun_dropped_ms == pytest.approx(60)
    assert b"".join(mixer.read() for _ in range(5)) == new


def test_an_input_holds_no_more_than_its_backlog_beyond_its_prebuffer() -> None:
    mixer = PlaybackMixer(prebuffer_ms=40, backlog_ms=200)
    inp = mixer.open_input("a")
    late = [_pcm(440 + 10 * i, 20) for i in range(30)]  # 600 ms arriving at once
    dropped = [inp.push(frame) for frame in late]
    assert inp.stats().buffered_ms == pytest.approx(240)
    assert sum(dropped) == pytest.approx(360)
    assert inp.stats().behind_dropped_ms == pytest.approx(360)
    assert b"".join(mixer.read() for _ in range(12)) == b"".join(late[-12:])  # the newest


def test_an_input_within_its_backlog_drops_nothing() -> None:
    mixer = PlaybackMixer(prebuffer_ms=40, backlog_ms=200)
    inp = mixer.open_input("a")
    assert [inp.push(_pcm(440, 20, start_ms=20 * i)) for i in range(12)] == [0.0] * 12
    assert inp.stats().behind_dropped_ms == 0


def test_two_inputs_are_mixed_sample_aligned() -> None:
    mixer = PlaybackMixer(prebuffer_ms=0)
    a, b = mixer.open_input("a"), mixer.open_input("b")
    a.push(_pcm(440, 20))
    b.push(_pcm(1000, 20))
    out = pcm_to_samples(mixer.read()).astype(int)
    expected = pcm_to_samples(_pcm(440, 20)).astype(int) + pcm_to_samples(_pcm(1000, 20))
    assert np.array_equal(out, expected)
    assert mixer.stats().mixed_frames == 1


def test_overlapping_loud_inputs_clip_instead_of_wrapping() -> None:
    mixer = PlaybackMixer(prebuffer_ms=0)
    for name in "abc":
        mixer.open_input(name).push(np.full(1920, 20000, np.int16).tobytes())
    assert set(pcm_to_samples(mixer.read()).tolist()) == {32767}


def test_ducking_lowers_the_input_that_started_second() -> None:
    mixer = PlaybackMixer(prebuffer_ms=0, duck_db=-12)
    first, second = mixer.open_input("first"), mixer.open_input("second")
    first.push(_pcm(440, 20))
    mixer.read()
    first.push(bytes(FRAME_BYTES * 10))
    second.push(_pcm(1000, 200, amplitude=0.3))
    frames = [mixer.read() for _ in range(10)]
    level = 20 * np.log10(rms(_left(frames[-1])) / rms(tone(1000, 0.02, amplitude=0.3)))
    assert level == pytest.approx(-12, abs=0.3)
    assert dominant_frequency(_left(frames[-1]), 48_000) == pytest.approx(1000, abs=60)


def test_silence_beyond_the_hangover_is_not_buffered() -> None:
    mixer = PlaybackMixer(silence_hangover_ms=100)
    inp = mixer.open_input("a")
    inp.push(_pcm(440, 20))
    for _ in range(10):
        inp.push(bytes(FRAME_BYTES))
    stats = inp.stats()
    assert stats.buffered_ms == pytest.approx(120)  # speech + 100 ms hangover
    assert stats.trimmed_ms == pytest.approx(100)


def test_mixer_goes_idle_after_quiet_reads_and_says_so_once() -> None:
    idled: list[bool] = []
    mixer = PlaybackMixer(prebuffer_ms=0, idle_after_ms=60, on_idle=lambda: idled.append(True))
    mixer.open_input("a").push(_pcm(440, 20))
    assert not mixer.is_idle()
    for _ in range(3):
        mixer.read()
    assert not mixer.is_idle()  # one frame of audio, then 40 ms quiet
    for _ in range(5):
        mixer.read()
    assert mixer.is_idle()
    assert idled == [True]


def test_an_idle_mixer_wakes_once_an_input_is_prebuffered() -> None:
    woke: list[bool] = []
    mixer = PlaybackMixer(prebuffer_ms=60, on_active=lambda: woke.append(True))
    inp = mixer.open_input("a")
    assert mixer.is_idle()
    inp.push(bytes(FRAME_BYTES))  # silence does not wake it
    inp.push(_pcm(440, 40))  # audible, but the prebuffer is not full yet
    assert woke == []
    inp.push(_pcm(440, 20, start_ms=40))
    inp.push(_pcm(440, 20, start_ms=60))
    assert not mixer.is_idle()
    assert woke == [True]


def test_a_short_utterance_under_the_prebuffer_still_wakes_the_mixer_when_it_ends() -> None:
    woke: list[bool] = []
    mixer = PlaybackMixer(
        prebuffer_ms=60, silence_hangover_ms=0, on_active=lambda: woke.append(True)
    )
    inp = mixer.open_input("a")
    inp.push(_pcm(440, 20))
    assert woke == []
    inp.push(bytes(FRAME_BYTES))  # the source went quiet: nothing more is coming
    assert woke == [True]
    assert mixer.read() == _pcm(440, 20)


def test_a_closed_input_drains_then_detaches() -> None:
    mixer = PlaybackMixer(prebuffer_ms=60)
    inp = mixer.open_input("a")
    inp.push(_pcm(440, 40))  # under the prebuffer: close lets it play anyway
    inp.close()
    assert mixer.read() != SILENCE_FRAME
    mixer.read()
    assert "a" not in mixer.stats().inputs
    assert mixer.stats().underruns == 0


def test_a_push_after_close_is_ignored_and_counted() -> None:
    mixer = PlaybackMixer(prebuffer_ms=0)
    inp = mixer.open_input("a")
    inp.push(_pcm(440, 20))
    inp.close()
    inp.push(_pcm(440, 20))
    assert inp.stats().ignored_ms == pytest.approx(20)
    mixer.read()
    assert mixer.read() == SILENCE_FRAME


def test_an_input_name_cannot_be_opened_twice() -> None:
    mixer = PlaybackMixer()
    mixer.open_input("a")
    with pytest.raises(ValueError, match="already open"):
        mixer.open_input("a")


def test_cleanup_keeps_inputs_so_the_mixer_can_play_again() -> None:
    mixer = PlaybackMixer(prebuffer_ms=0)
    inp = mixer.open_input("a")
    mixer.cleanup()
    mixer.cleanup()
    inp.push(_pcm(440, 20))
    assert mixer.read() == _pcm(440, 20)


def test_close_detaches_everything_and_refuses_new_inputs() -> None:
    mixer = PlaybackMixer(prebuffer_ms=0)
    mixer.open_input("a").push(_pcm(440, 20))
    mixer.close()
    mixer.close()
    assert mixer.read() == SILENCE_FRAME
    with pytest.raises(ValueError, match="closed"):
        mixer.open_input("b")


def test_read_never_waits_for_producers_pushing_from_other_threads() -> None:
    mixer = PlaybackMixer(buffer_ms=200, prebuffer_ms=20, trim_silence=False)
    inputs = [mixer.open_input(name) for name in ("a", "b")]
    block = _pcm(440, 10)
    start = threading.Barrier(3)

    def produce(inp_index: int) -> None:
        start.wait()
        for _ in range(400):
            inputs[inp_index].push(block)

    producers = [threading.Thread(target=produce, args=(i,)) for i in range(2)]
    for thread in producers:
        thread.start()
    start.wait()
    # The reader does not pace itself: reads outnumber 20 ms of pushes many times over,
    # so it must see empty buffers and return silence rather than wait.
    sizes = {len(mixer.read()) for _ in range(2000)}
    for thread in producers:
        thread.join()
    stats = mixer.stats()
    assert sizes == {FRAME_BYTES}
    assert stats.frames_out == 2000
    for name in ("a", "b"):
        s = stats.inputs[name]
        assert s.played_ms + s.buffered_ms + s.overrun_dropped_ms == pytest.approx(4000)
