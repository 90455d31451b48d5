"""A LiveKit link quiet for its rest time stops receiving and publishing, and the next
utterance wakes it without losing a word of it (``LinkConfig.rest_after_s``).

Real parts: the livekit-server on loopback and the Pinch simulator's interpreter in the
room, which listens to whichever microphone track the client publishes (a republished
one included, as a LiveKit agent does).
"""

from __future__ import annotations

import time

import pytest

from bot.interpretation.link import InterpreterLink, LinkConfig, LinkState
from bot.pinch import PinchClient
from bot.secrets import Secret
from tests.fakes.pinch import PinchSimulator, SimulatorFaults, translation_frequency
from tests.integration.interpretation.test_link import LinkProbe, make_link, speak
from tests.support.audio_runs import run_frequencies
from tests.support.fixtures_pinch import MakeSimulator
from tests.support.transports import PINCH_TEST_TOKEN
from tests.support.waiting import eventually

REST_AFTER_S = 1.0


@pytest.fixture
def probe() -> LinkProbe:
    return LinkProbe()


def _quiet_for(probe: LinkProbe, seconds: float) -> bool:
    """No translated frame (LiveKit delivers silence too) for ``seconds``."""
    arrivals = probe.audio.arrivals
    return bool(arrivals) and time.monotonic() - arrivals[-1] >= seconds


async def _rested_after_one_utterance(link: InterpreterLink, sim: PinchSimulator,
                                      probe: LinkProbe) -> None:
    await link.start()
    await speak(link, 300.0, 0.8)
    await sim.wait_for_segments(1, timeout=10, played=True)
    await eventually(lambda: _quiet_for(probe, 1.0), within=10)


async def test_a_quiet_link_stops_receiving_the_translated_track(
    pinch_simulator: PinchSimulator, pinch_client: PinchClient, probe: LinkProbe,
) -> None:
    link = make_link(pinch_client, probe, LinkConfig(rest_after_s=REST_AFTER_S))
    try:
        await _rested_after_one_utterance(link, pinch_simulator, probe)
        assert link.state is LinkState.ACTIVE
        session = pinch_simulator.sessions[0]
        await eventually(lambda: session.tracks_lost == 1)  # the microphone unpublished
    finally:
        await link.aclose()
    assert len(pinch_simulator.sessions) == 1


async def test_the_first_utterance_after_a_rest_is_heard_whole_and_translated(
    pinch_simulator: PinchSimulator, pinch_client: PinchClient, probe: LinkProbe,
) -> None:
    link = make_link(pinch_client, probe, LinkConfig(rest_after_s=REST_AFTER_S))
    try:
        await _rested_after_one_utterance(link, pinch_simulator, probe)
        await speak(link, 600.0, 1.0)
        segments = await pinch_simulator.wait_for_segments(2, timeout=15, played=True)
        await eventually(lambda: len(run_frequencies(probe.mono_audio())) >= 2, within=5)
    finally:
        await link.aclose()
    session = pinch_simulator.sessions[0]
    assert len(pinch_simulator.sessions) == 1
    assert session.tracks_listened == 2  # the microphone was published again
    woke = segments[1]
    assert woke.heard_frequency == pytest.approx(600, abs=20)
    assert woke.samples >= 0.95 * 48_000  # the whole second of speech, none clipped
    assert run_frequencies(probe.mono_audio())[-1] == pytest.approx(
        translation_frequency(woke.number), abs=30)


async def test_what_is_said_while_a_slow_interpreter_listens_again_is_kept_whole(
    make_pinch_simulator: MakeSimulator, probe: LinkProbe,
) -> None:
    # The interpreter takes a second to subscribe to the republished microphone: the
    # utterance waits for it like an opening session's backlog, not cut to the live bound.
    sim = await make_pinch_simulator(faults=SimulatorFaults(relisten_delay=1.0))
    async with PinchClient(sim.base_url, Secret(PINCH_TEST_TOKEN)) as client:
        link = make_link(client, probe, LinkConfig(rest_after_s=REST_AFTER_S))
        try:
            await _rested_after_one_utterance(link, sim, probe)
            await eventually(lambda: sim.sessions[0].tracks_lost == 1)  # rested
            await speak(link, 600.0, 1.0)
            segments = await sim.wait_for_segments(2, timeout=15)
        finally:
            await link.aclose()
    woke = segments[1]
    assert woke.heard_frequency == pytest.approx(600, abs=20)
    assert woke.samples >= 0.95 * 48_000
    assert link.uplink_stats.speech_dropped == 0


async def test_a_link_whose_translation_is_still_playing_does_not_rest(
    pinch_simulator: PinchSimulator, pinch_client: PinchClient, probe: LinkProbe,
) -> None:
    # The translated transcript comes ~1.4 s after the speech (the simulator's 0.5 s end
    # of segment and 0.9 s latency) and its speech plays 3 s: were only frames sent and
    # transcripts activity, the link would rest 2 s after that transcript, mid-speech.
    link = make_link(pinch_client, probe, LinkConfig(rest_after_s=2.0))
    try:
        await link.start()
        await speak(link, 300.0, 3.0, pause_s=0.2)
        segments = await pinch_simulator.wait_for_segments(1, timeout=10, played=True)
        await eventually(lambda: len(run_frequencies(probe.mono_audio())) >= 1, within=5)
        session = pinch_simulator.sessions[0]
        assert session.tracks_lost == 0
    finally:
        await link.aclose()
    heard = run_frequencies(probe.mono_audio())
    assert heard == pytest.approx([translation_frequency(segments[0].number)], abs=30)


async def test_a_translation_that_comes_while_the_link_rests_is_still_heard(
    make_pinch_simulator: MakeSimulator, probe: LinkProbe,
) -> None:
    # The translation comes 3 s after its final original: the link has rested by then
    # (1 s of quiet); the translated transcript brings the translated track back.
    sim = await make_pinch_simulator(faults=SimulatorFaults(translation_delay=3.0))
    async with PinchClient(sim.base_url, Secret(PINCH_TEST_TOKEN)) as client:
        link = make_link(client, probe, LinkConfig(rest_after_s=REST_AFTER_S))
        try:
            await link.start()
            await speak(link, 300.0, 1.0, pause_s=0.2)
            session = sim.sessions[0]
            await eventually(lambda: session.tracks_lost == 1)  # rested
            segments = await sim.wait_for_segments(1, timeout=15, played=True)
            await eventually(lambda: len(run_frequencies(probe.mono_audio())) >= 1, within=5)
        finally:
            await link.aclose()
    assert run_frequencies(probe.mono_audio()) == pytest.approx(
        [translation_frequency(segments[0].number)], abs=30)


async def test_a_link_configured_never_to_rest_keeps_receiving(
    pinch_simulator: PinchSimulator, pinch_client: PinchClient, probe: LinkProbe,
) -> None:
    link = make_link(pinch_client, probe, LinkConfig(rest_after_s=0))
    try:
        await link.start()
        await speak(link, 300.0, 0.8)
        await pinch_simulator.wait_for_segments(1, timeout=10, played=True)
        arrived = len(probe.audio.arrivals)
        await eventually(lambda: len(probe.audio.arrivals) >= arrived + 100, within=5)
        assert pinch_simulator.sessions[0].tracks_lost == 0
    finally:
        await link.aclose()
