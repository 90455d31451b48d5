"""Round trip through the real LiveKit server: speech in, transcripts and audio out."""

from __future__ import annotations

from bot.pinch import PinchClient
from tests.fakes.pinch import PinchSimulator, segment_number_for
from tests.fakes.pinch.probe import RoomProbe

SCRIPT = [("Good morning everyone", "Buenos días a todos"), ("See you later", "Hasta luego")]
FIRST_HZ, SECOND_HZ = 300.0, 700.0


async def _speak_two_segments(probe: RoomProbe) -> None:
    await probe.speak(FIRST_HZ, 0.8)
    await probe.pause(0.9)
    await probe.speak(SECOND_HZ, 0.6)
    await probe.pause(0.9)


async def test_two_spoken_segments_come_back_as_ordered_transcripts_and_identifiable_audio(
    make_pinch_simulator: object, livekit_server: object
) -> None:
    sim: PinchSimulator = await make_pinch_simulator(script=SCRIPT)  # type: ignore[operator]
    async with PinchClient(sim.base_url, _secret()) as client:
        session = await client.create_session("en-US", "es-ES")
    async with RoomProbe(session.url, session.token.reveal()) as probe:
        await probe.wait_for_agent_audio()
        await _speak_two_segments(probe)
        await probe.wait_until(lambda: len(probe.tone_bursts()) >= 2 and not _still_loud(probe))
        records = await sim.wait_for_segments(2, played=True)

    kinds = [(r.event.kind, r.event.is_final) for r in probe.events]
    first_final = kinds.index(("original", True))
    assert ("original", False) in kinds[:first_final], "an interim precedes the first final"
    assert [r.event.text for r in probe.finals("original")] == [o for o, _ in SCRIPT]
    assert [r.event.text for r in probe.finals("translated")] == [t for _, t in SCRIPT]
    order = [r.event.text for r in probe.events if r.event.is_final]
    assert order == [SCRIPT[0][0], SCRIPT[0][1], SCRIPT[1][0], SCRIPT[1][1]]
    assert all(r.event.language_detected == "en-US" for r in probe.events)
    bursts = probe.tone_bursts()
    assert [segment_number_for(b.frequency) for b in bursts] == [r.number for r in records]
    assert abs(records[0].heard_frequency - FIRST_HZ) < 5
    assert abs(records[1].heard_frequency - SECOND_HZ) < 5


def _still_loud(probe: RoomProbe) -> bool:
    import time

    bursts = probe.tone_bursts()
    return bool(bursts) and time.time() - bursts[-1].ended_at < 0.3


def _secret():  # type: ignore[no-untyped-def]
    from bot.secrets import Secret
    from tests.support.fixtures_pinch import PINCH_TEST_TOKEN

    return Secret(PINCH_TEST_TOKEN)
