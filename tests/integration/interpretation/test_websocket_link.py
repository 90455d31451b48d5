"""What only the WebSocket transport does: session options on the wire, audio only after
``ready``, text only, language changes in place, the trailing silence, closing with
1000, refusals the link cannot retry, and a URL opened too late.

Real parts: the Pinch simulator's WebSocket API (same process as its HTTP API)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
import pytest

from bot.interpretation.link import LinkStartTimeout, LinkState
from bot.interpretation.transport import Transport
from bot.pinch import InvalidLanguageError, NotEntitledError
from bot.pinch.options import SessionOptions
from tests.fakes.pinch import PinchSimulator, SimulatorFaults, translation_frequency
from tests.integration.interpretation.test_link import LinkProbe, make_link, push_tone, speak
from tests.support.audio_runs import run_frequencies
from tests.support.fixtures_pinch import MakeSimulator
from tests.support.transports import transport_for
from tests.support.waiting import eventually


@pytest.fixture
def probe() -> LinkProbe:
    return LinkProbe()


@pytest.fixture
async def ws_transport(pinch_simulator: PinchSimulator) -> Any:
    async with transport_for("websocket", pinch_simulator) as transport:
        yield transport


async def test_session_options_travel_as_the_documented_query_parameters(
    pinch_simulator: PinchSimulator, ws_transport: Transport[Any], probe: LinkProbe,
) -> None:
    link = make_link(ws_transport, probe, voice_type="female", audio_output=False,
                     context="Ferris, the Rustacean; crates.io")
    await link.start()
    await link.aclose()
    call = pinch_simulator.calls[0]
    assert call.path == "/v1/session"
    assert call.body == {
        "sourceLanguage": "en-US", "targetLanguage": "es-ES", "voiceType": "female",
        "audioOutputEnabled": "false", "finalizeMode": "sentence",
        "context": "Ferris, the Rustacean; crates.io",
    }
    assert pinch_simulator.sessions[0].request.context == "Ferris, the Rustacean; crates.io"


async def test_a_clone_voice_is_not_sent_and_the_server_default_applies(
    pinch_simulator: PinchSimulator, ws_transport: Transport[Any], probe: LinkProbe,
) -> None:
    link = make_link(ws_transport, probe, voice_type="clone")
    await link.start()
    await link.aclose()
    assert "voiceType" not in pinch_simulator.calls[0].body
    assert pinch_simulator.sessions[0].request.voice_type == "male"


async def test_no_audio_is_sent_before_ready_and_the_link_is_active_only_after_it(
    make_pinch_simulator: MakeSimulator, probe: LinkProbe,
) -> None:
    sim = await make_pinch_simulator(faults=SimulatorFaults(agent_join_delay=1.5))
    async with transport_for("websocket", sim) as transport:
        link = make_link(transport, probe)
        began = time.monotonic()
        starting = asyncio.create_task(link.start())
        try:
            await push_tone(link, 400.0, 1.0)  # spoken while the socket waits for ready
            link.end_of_speech(pad_ms=700)
            await starting
            active_after = time.monotonic() - began
            segments = await sim.wait_for_segments(1, timeout=10)
        finally:
            await link.aclose()
    assert active_after >= 1.5
    assert [s.state for s in probe.statuses][:1] == [LinkState.ACTIVE]
    assert sim.ws_interpreters[0].audio_frames_before_ready == 0
    assert segments[0].heard_frequency == pytest.approx(400, abs=20)  # kept, sent after ready


async def test_text_only_sessions_get_transcripts_and_no_audio(
    pinch_simulator: PinchSimulator, ws_transport: Transport[Any], probe: LinkProbe,
) -> None:
    link = make_link(ws_transport, probe, audio_output=False)
    await link.start()
    try:
        await speak(link, 300.0, 1.0)
        await eventually(lambda: any(t.kind == "translated" for t in probe.transcripts))
        await asyncio.sleep(1.5)  # the time a translated tone would take to arrive
    finally:
        await link.aclose()
    assert pinch_simulator.sessions[0].request.audio_output is False
    assert probe.audio == []
    assert link.stats.playback_frames == 0


async def test_a_language_change_is_sent_in_place_without_a_new_session(
    pinch_simulator: PinchSimulator, ws_transport: Transport[Any], probe: LinkProbe,
) -> None:
    link = make_link(ws_transport, probe)
    await link.start()
    try:
        updated = await link.update_options(SessionOptions("fr-FR", "es-ES", "female"))
        await eventually(lambda: pinch_simulator.sessions[0].metadata_updates)
        await speak(link, 300.0, 1.0)
        await eventually(lambda: any(t.is_final for t in probe.transcripts))
    finally:
        await link.aclose()
    assert updated
    assert pinch_simulator.sessions[0].metadata_updates == [{
        "type": "update_metadata", "sourceLanguage": "fr-FR", "targetLanguage": "es-ES",
        "voiceType": "female"}]
    assert len(pinch_simulator.sessions) == 1
    final = next(t for t in probe.transcripts if t.is_final)
    assert final.language_detected == "fr-FR"
    assert link.options.source_language == "fr-FR"


async def test_every_utterance_ends_with_trailing_silence_even_without_a_requested_pause(
    pinch_simulator: PinchSimulator, ws_transport: Transport[Any], probe: LinkProbe,
) -> None:
    link = make_link(ws_transport, probe)
    await link.start()
    try:
        await push_tone(link, 350.0, 0.6)
        link.end_of_speech()  # no pause asked for
        await eventually(lambda: link.uplink_stats.padding_sent >= 15)
    finally:
        await link.aclose()
    assert link.uplink_stats.padding_sent == 15  # 300 ms of 20 ms frames


async def test_each_translation_arrives_whole_and_then_the_link_says_the_speech_paused(
    pinch_simulator: PinchSimulator, ws_transport: Transport[Any], probe: LinkProbe,
) -> None:
    link = make_link(ws_transport, probe)
    await link.start()
    try:
        await speak(link, 300.0, 0.8)
        await speak(link, 600.0, 0.8)
        segments = await pinch_simulator.wait_for_segments(2, timeout=10, played=True)
        await eventually(lambda: len(probe.paused) >= 2)
    finally:
        await link.aclose()
    assert len(probe.paused) == link.stats.playback_pauses == 2
    arrivals = np.array(probe.audio.arrivals)
    for segment, (start, end) in zip(segments, [(-np.inf, probe.paused[0]),
                                               (probe.paused[0], probe.paused[1])],
                                     strict=True):
        frames = [pcm for at, pcm in zip(arrivals, probe.audio, strict=True)
                  if start < at <= end]
        heard = np.frombuffer(b"".join(frames), dtype=np.int16)[::2]
        # The resampler's tail came before the pause: nothing of it is cut.
        assert len(frames) >= segment.samples // 960  # 20 ms at 48 kHz
        assert run_frequencies(heard) == pytest.approx(
            [translation_frequency(segment.number)], abs=30)
    assert arrivals.max() < probe.paused[1]


async def test_closing_the_link_closes_the_socket_with_1000(
    pinch_simulator: PinchSimulator, ws_transport: Transport[Any], probe: LinkProbe,
) -> None:
    link = make_link(ws_transport, probe)
    await link.start()
    session = pinch_simulator.sessions[0]
    await link.aclose()
    assert await pinch_simulator.wait_for_session_end(session) == "client_left"
    assert session.client_close_code == 1000


async def test_a_target_without_speech_output_fails_the_link_with_a_clear_error(
    make_pinch_simulator: MakeSimulator, probe: LinkProbe,
) -> None:
    sim = await make_pinch_simulator(faults=SimulatorFaults(speech_unsupported_targets=("es-ES",)))
    async with transport_for("websocket", sim) as transport:
        link = make_link(transport, probe)
        with pytest.raises(InvalidLanguageError) as raised:
            await link.start()
    assert "text only" in raised.value.user_message
    assert not raised.value.retryable
    assert len(sim.sessions) == 1  # not retried


async def test_a_key_without_real_time_entitlement_is_not_retried(
    make_pinch_simulator: MakeSimulator, probe: LinkProbe,
) -> None:
    sim = await make_pinch_simulator(faults=SimulatorFaults(not_entitled=True))
    async with transport_for("websocket", sim) as transport:
        link = make_link(transport, probe)
        with pytest.raises(NotEntitledError):
            await link.start()
    assert [c.status for c in sim.calls] == [403]


async def test_a_url_opened_after_it_expired_is_refused_with_4401(
    make_pinch_simulator: MakeSimulator, probe: LinkProbe,
) -> None:
    sim = await make_pinch_simulator(faults=SimulatorFaults(expired_tokens=True))
    async with transport_for("websocket", sim) as transport:
        link = make_link(transport, probe)
        with pytest.raises(LinkStartTimeout, match="session token expired"):
            await link.start()
    assert sim.sessions[0].client_active_at is None
