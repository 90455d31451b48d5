"""A run's session options: the context text (bounded, trimmed, never shown by a repr),
text only, and what a transport refuses up front."""

from __future__ import annotations

import pytest

from bot.interpretation.link import LinkConfig
from bot.interpretation.run import ChannelInterpretation, RunConfig
from bot.interpretation.websocket_transport import WebSocketTransport
from bot.pinch.options import MAX_CONTEXT_CHARS, ContextTooLong, SessionOptions
from bot.pinch.realtime import PinchRealtimeClient
from bot.secrets import Secret


def test_the_context_is_trimmed_and_an_empty_one_is_none() -> None:
    assert SessionOptions("en-US", "es-ES", context="  Tux  ").context == "Tux"
    assert SessionOptions("en-US", "es-ES", context=" \n ").context is None


def test_a_context_beyond_the_bound_is_refused_with_its_length() -> None:
    with pytest.raises(ContextTooLong, match=str(MAX_CONTEXT_CHARS + 1)):
        RunConfig(target_language="es-ES", context="x" * (MAX_CONTEXT_CHARS + 1))
    assert RunConfig(target_language="es-ES", context="x" * MAX_CONTEXT_CHARS).context


def test_no_repr_shows_the_context() -> None:
    secret = "the launch codename is Bluebird"
    assert "Bluebird" not in repr(SessionOptions("en-US", "es-ES", context=secret))
    assert "Bluebird" not in repr(RunConfig(target_language="es-ES", context=secret))


def test_text_only_is_a_run_option_that_reaches_the_session() -> None:
    config = RunConfig(target_language="es-ES", play_audio=False)
    assert config.play_audio is False


async def test_a_websocket_run_refuses_a_48_khz_uplink_before_anyone_speaks() -> None:
    transport = WebSocketTransport(PinchRealtimeClient("http://127.0.0.1:9", Secret("k" * 12)))
    config = RunConfig(target_language="es-ES", link=LinkConfig(publish_rate=48_000))
    with pytest.raises(ValueError, match="16000"):
        ChannelInterpretation(1, config, transport, on_transcript=lambda t: None)
    await transport.aclose()
