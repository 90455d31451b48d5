"""The simulator is as strict as Pinch and no stricter, with Pinch's timing: it takes the
body in snake_case (the reference) and camelCase (Pinch's public SDK), and a translation
is made about 0.9 s after the end of its utterance, as the timestamps of the reference's
own example show (the original's is the end of the utterance)."""

from __future__ import annotations

import httpx
import pytest

from tests.fakes.pinch import PinchSimulator
from tests.fakes.pinch.probe import RoomProbe
from tests.integration.pinch.helpers import client_for
from tests.support.fixtures_pinch import PINCH_TEST_TOKEN, MakeSimulator

HEADERS = {"Authorization": f"Bearer {PINCH_TEST_TOKEN}"}
REFERENCE_GAP_S = 1770933604.945 - 1770933604.048  # the reference's example pair


@pytest.mark.parametrize("body", [
    {"source_language": "en-US", "target_language": "es-ES", "voice_type": "male"},
    {"sourceLanguage": "en-US", "targetLanguage": "es-ES", "voiceType": "male"},
])
async def test_a_session_request_is_accepted_in_snake_case_and_in_camel_case(
    pinch_simulator: PinchSimulator, body: dict[str, str],
) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{pinch_simulator.base_url}/api/beta1/session",
                                 json=body, headers=HEADERS, timeout=10)
    assert answer.status_code == 200
    (session,) = pinch_simulator.sessions
    assert (session.request.source_language, session.request.target_language,
            session.request.voice_type) == ("en-US", "es-ES", "male")


async def test_an_unsupported_language_is_refused_in_either_spelling(
    pinch_simulator: PinchSimulator,
) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{pinch_simulator.base_url}/api/beta1/session",
                                 json={"sourceLanguage": "en-US", "targetLanguage": "xx-XX"},
                                 headers=HEADERS, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_language"


async def test_a_translation_comes_about_as_late_as_the_references_example(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator()
    async with client_for(sim) as client:
        session = await client.create_session("en-US", "es-ES")
    async with RoomProbe(session.url, session.token.reveal()) as probe:
        await probe.wait_for_agent_audio()
        await probe.speak(440.0, 0.6)
        await probe.pause(0.7)
        (record,) = await sim.wait_for_segments(1, played=True)
        await probe.wait_until(lambda: len(probe.finals("translated")) == 1)
    original, translation = probe.finals("original")[0], probe.finals("translated")[0]
    gap = translation.event.timestamp - original.event.timestamp
    print(f"\ntranslation stamped {gap * 1000:.0f} ms after its original, arrived "
          f"{(translation.at - record.ended_at) * 1000:.0f} ms after the end of speech "
          f"(reference example: {REFERENCE_GAP_S * 1000:.0f} ms)")
    assert gap == pytest.approx(REFERENCE_GAP_S, abs=0.15)
    assert translation.at - record.ended_at == pytest.approx(REFERENCE_GAP_S, abs=0.25)
    assert translation.at > original.at
