"""Round trip through the real LiveKit server: speech in, transcripts and audio out."""

from __future__ import annotations

import time

from tests.fakes.pinch import segment_number_for
from tests.fakes.pinch.probe import RoomProbe
from tests.integration.pinch.helpers import client_for
from tests.support.fixtures_pinch import MakeSimulator

SCRIPT = [("Good morning everyone", "Buenos días a todos"), ("See you later", "Hasta luego")]
FIRST_HZ, SECOND_HZ = 300.0, 700.0


async def test_two_spoken_segments_come_back_as_ordered_transcripts_and_identifiable_audio(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator(script=SCRIPT)
    async with client_for(sim) as client:
        session = await client.create_session("en-US", "es-ES")
    async with RoomProbe(session.url, session.token.reveal()) as probe:
        await probe.wait_for_agent_audio()
        await probe.speak(FIRST_HZ, 0.8)
        await probe.pause(0.7)
        await probe.speak(SECOND_HZ, 0.6)
        spoken_until = time.time()
        await probe.pause(0.7)
        records = await sim.wait_for_segments(2, played=True)
        await probe.wait_until(lambda: len(probe.tone_bursts()) == 2 and _quiet_since(probe, 0.3))

    sequence = [(r.event.kind, r.event.is_final, r.event.text) for r in probe.events]
    # Per segment: interims (prefixes of the line), then the final line; its translation
    # comes ~0.9 s later, so the next segment's interims may arrive before it.
    previous_final = -1
    for original, translation in SCRIPT:
        final_at = sequence.index(("original", True, original))
        interims = [item for item in sequence[previous_final + 1:final_at] if not item[1]]
        assert interims, "interim transcripts precede each final"
        assert all(k == "original" and original.startswith(t) for k, _, t in interims)
        assert sequence.index(("translated", True, translation)) > final_at
        previous_final = final_at
    finals = [text for _, is_final, text in sequence if is_final]
    assert finals == [SCRIPT[0][0], SCRIPT[0][1], SCRIPT[1][0], SCRIPT[1][1]]
    assert {r.event.language_detected for r in probe.events} == {"en-US"}
    assert probe.parser.rejected == {}

    bursts = probe.tone_bursts()
    assert [segment_number_for(b.frequency) for b in bursts] == [r.number for r in records]
    assert bursts[0].started_at < probe.finals("original")[1].at  # segment 1 audio came first
    assert [round(r.heard_frequency) for r in records] == [FIRST_HZ, SECOND_HZ]
    assert [r.original_text for r in records] == [o for o, _ in SCRIPT]
    print(
        f"\nround trip: end of speech → final translation "
        f"{(probe.finals('translated')[1].at - spoken_until) * 1000:.0f} ms, "
        f"→ translated audio {(bursts[1].started_at - spoken_until) * 1000:.0f} ms"
    )


async def test_segment_records_hold_what_the_agent_heard_and_sent(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator(script=SCRIPT)
    async with client_for(sim) as client:
        session = await client.create_session("en-US", "es-ES", "female")
    async with RoomProbe(session.url, session.token.reveal()) as probe:
        await probe.wait_for_agent_audio()
        await probe.speak(440.0, 0.5)
        await probe.pause(0.7)
        (record,) = await sim.wait_for_segments(1, played=True)

    (simulated,) = sim.sessions
    assert simulated.room_name == session.room_name
    assert simulated.request.voice_type == "female"
    assert abs(record.heard_frequency - 440.0) < 5
    assert abs(record.samples - 24_000) <= 4_800  # 0.5 s, give or take codec smear
    assert record.started_at < record.ended_at < record.final_original_sent_at  # type: ignore[operator]
    assert record.translation_sent_at is not None
    assert record.audio_started_at is not None
    assert (record.original_text, record.translated_text) == SCRIPT[0]
    assert record.translation_frequency == 1000.0 + 100.0 * record.number


def _quiet_since(probe: RoomProbe, seconds: float) -> bool:
    bursts = probe.tone_bursts()
    return bool(bursts) and time.time() - bursts[-1].ended_at >= seconds
