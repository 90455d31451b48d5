"""A Pinch error that retrying cannot fix reaches the channel as one clear message, and
the bot does not hammer Pinch nor pile up playback inputs while members keep talking.

Bound stated: at most ``MAX_CREATE_SESSION_CALLS`` session requests for a member who
talks for 4 s through an unfixable error (the engine's backoff allows a handful; the
pre-fix engine made one per 20 ms frame).
"""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.commands.conftest import Interpret
from tests.e2e.conftest import ALICE_HZ
from tests.fakes.pinch import PinchSimulator
from tests.support.fixtures_pinch import MakeSimulator

MAX_CREATE_SESSION_CALLS = 5


async def talk_through_failure(interpret: Interpret) -> list[int]:
    """Start, let Alice talk 4 s in bursts; sample the playback inputs as she does."""
    await interpret.join("admin", "alice")
    await interpret.start(target="es")
    speech = await interpret.fake.start_speaking(
        "alice", interpret.bursts("alice", ALICE_HZ, count=3, burst_s=0.8, gap_s=0.5))
    inputs: list[int] = []
    while not speech.done():
        snap = interpret.bot.services.runs.snapshot(interpret.fake.guild.id)
        inputs.append(snap.playback_inputs if snap is not None else -1)
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)  # any late message would have arrived
    return inputs


def warnings(interpret: Interpret) -> list[str]:
    return [m.content for m in interpret.bot_messages() if m.content.startswith("⚠️")]


class TestInvalidLanguage:
    @pytest.fixture
    async def simulator(self, make_pinch_simulator: MakeSimulator) -> PinchSimulator:
        # Pinch that does not interpret into Spanish: invalid_language for es-ES.
        from bot.languages import SUPPORTED
        return await make_pinch_simulator(
            languages=[code for code in SUPPORTED if not code.startswith("es-")])

    async def test_one_message_bounded_requests_no_growth(self, interpret: Interpret) -> None:
        inputs = await talk_through_failure(interpret)

        [message] = warnings(interpret)
        assert "does not support this language pair" in message
        assert "/interpret config" in message
        calls = len(interpret.simulator.calls)
        assert 1 <= calls <= MAX_CREATE_SESSION_CALLS, calls
        assert max(inputs) <= 1, inputs


class TestInvalidToken:
    @pytest.fixture
    def pinch_token(self) -> str:
        return "not-the-simulators-token"

    async def test_one_message_bounded_requests_no_growth(self, interpret: Interpret) -> None:
        inputs = await talk_through_failure(interpret)

        [message] = warnings(interpret)
        assert "refused the bot's token" in message
        assert "PINCH_API_TOKEN" in message
        calls = len(interpret.simulator.calls)
        assert 1 <= calls <= MAX_CREATE_SESSION_CALLS, calls
        assert all(not c.authorized for c in interpret.simulator.calls)
        assert max(inputs) <= 1, inputs
