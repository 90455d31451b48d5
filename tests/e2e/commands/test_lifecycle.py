"""A run's life as a server sees it: status, auto-leave, the minute cap, the summary."""

from __future__ import annotations

import asyncio

import pytest

from bot.transcripts.text import unescape
from tests.e2e.commands.conftest import Interpret
from tests.e2e.conftest import ALICE_HZ
from tests.support.transports import TRANSPORTS
from tests.support.waiting import eventually


def running(interpret: Interpret) -> bool:
    return interpret.bot.interpretations.get(interpret.fake.guild.id) is not None


def summaries(interpret: Interpret) -> list[str]:
    return [m.content for m in interpret.bot_messages()
            if m.content.startswith("Interpretation of")]


@pytest.mark.parametrize("pinch_transport_setting", TRANSPORTS)
async def test_status_shows_languages_sessions_and_counts(
    interpret: Interpret, pinch_transport_setting: str,
) -> None:
    await interpret.join("admin", "alice")
    await interpret.start(target="es", voice="male")
    await interpret.speak("alice", ALICE_HZ, 0.8)
    await interpret.simulator.wait_for_segments(1, timeout=15)
    active = interpret.bot.services.runs.active(interpret.fake.guild.id)
    assert active is not None
    await eventually(lambda: active.segments == 1)

    record = await interpret.invoke("status", user="bob")  # anyone may look

    assert record.ephemeral
    [text] = record.texts
    alice = interpret.fake.member("alice").id
    assert text.startswith(f"Interpreting <#{interpret.fake.voice_channel.id}> for ")
    assert "(limit 240 min)" in text
    assert ("English (United States) (`en-US`) → Spanish (Spain) (`es-ES`) · "
            "mode per-speaker · voice male.") in text
    api = {"livekit": "LiveKit", "websocket": "WebSocket"}[pinch_transport_setting]
    assert f"Through Pinch's {api} API · translated speech played." in text
    assert f"Sessions: <@{alice}>: active." in text
    assert "Segments so far: 1 from 1 speaker(s)." in text
    assert "Last error: none." in text


async def test_status_with_nothing_running_says_so(interpret: Interpret) -> None:
    record = await interpret.invoke("status")
    assert record.texts == ["Nothing is being interpreted in this server."]


async def test_the_bot_leaves_when_no_human_remains_for_the_idle_time(
    interpret: Interpret,
) -> None:
    await interpret.invoke("config", channel=interpret.fake.voice_channel,
                           idle_leave_seconds=10)
    await interpret.join("admin", "alice")
    await interpret.start(target="es")

    await interpret.fake.move_member("admin", None)
    await interpret.fake.move_member("alice", None)
    await interpret.fake.move_member("musicbot", interpret.fake.voice_channel)  # not human
    await asyncio.sleep(8.0)
    assert running(interpret)  # not before the idle time
    await eventually(lambda: not running(interpret), within=5)

    await eventually(lambda: summaries(interpret), within=5)
    [summary] = summaries(interpret)
    assert "ended: nobody was left in the voice channel for 10 s." in summary
    assert not interpret.bot.voice_clients


async def test_a_human_coming_back_keeps_the_run(interpret: Interpret) -> None:
    await interpret.invoke("config", channel=interpret.fake.voice_channel,
                           idle_leave_seconds=10)
    await interpret.join("admin")
    await interpret.start(target="es")
    await interpret.fake.move_member("admin", None)
    await asyncio.sleep(0.5)
    await interpret.fake.move_member("bob", interpret.fake.voice_channel)
    await asyncio.sleep(0.5)

    interpret.clock.advance(30)  # well past the idle time, with Bob there
    await asyncio.sleep(1.0)

    assert running(interpret)


async def test_a_run_stops_at_its_minute_cap_and_posts_the_summary(
    interpret: Interpret,
) -> None:
    await interpret.invoke("config", scope="server", max_run_minutes=1)
    await interpret.join("admin", "alice")
    await interpret.start(target="es")
    await interpret.speak("alice", ALICE_HZ, 0.8)
    await interpret.simulator.wait_for_segments(1, timeout=15)
    active = interpret.bot.services.runs.active(interpret.fake.guild.id)
    assert active is not None
    await eventually(lambda: active.segments == 1)
    assert running(interpret)

    interpret.clock.advance(60)  # the run's clock reaches the cap

    await eventually(lambda: not running(interpret), within=5)
    await eventually(lambda: summaries(interpret), within=5)
    [summary] = summaries(interpret)
    assert summary.startswith(f"Interpretation of <#{interpret.fake.voice_channel.id}> ended: "
                              "the 1-minute limit for a run was reached. Duration 1 min")
    assert "1 speaker(s), 1 segment(s), languages en-US, es-ES." in summary
    assert summary.endswith(f"(`/interpret transcript run:{active.run_id}`).")  # nothing lost


async def test_stop_posts_the_summary_with_who_stopped_it(interpret: Interpret) -> None:
    await interpret.join("admin")
    await interpret.start(target="fr")
    await interpret.invoke("stop")

    await eventually(lambda: summaries(interpret), within=5)
    [summary] = summaries(interpret)
    assert "ended: stopped by Admin." in summary
    assert "0 speaker(s), 0 segment(s), languages en-US, fr-FR." in summary


async def test_a_nickname_in_the_summary_is_shown_as_typed_and_pings_nobody(
    interpret: Interpret,
) -> None:
    nickname = "**x** @everyone <@1>"
    interpret.fake.admin.nick = nickname
    await interpret.join("admin")
    await interpret.start(target="fr")
    await interpret.invoke("stop")

    await eventually(lambda: summaries(interpret), within=5)
    [summary] = [m for m in interpret.bot_messages() if m.content.startswith("Interpretation of")]
    assert summary.allowed_mentions == {"parse": []}
    shown = summary.content.split("ended: stopped by ", 1)[1].split(". Duration", 1)[0]
    assert shown == "\\*\\*x\\*\\* \\@everyone \\<\\@1\\>"
    assert unescape(shown) == nickname  # read as typed
