"""The commands and the transcript thread together: a run started with /interpret start
posts its transcript and stores its segments in the store; /interpret transcript exports
them; /interpret me forget:True deletes a member's own."""

from __future__ import annotations

from tests.e2e.commands.conftest import Interpret
from tests.e2e.conftest import ALICE_HZ, BOB_HZ
from tests.fakes.discord.model import Message
from tests.fakes.pinch import DEFAULT_SCRIPT
from tests.support.waiting import eventually

HELLO, HOLA = DEFAULT_SCRIPT[0]


def thread_posts(interpret: Interpret) -> list[Message]:
    threads = interpret.fake.threads_in(interpret.fake.text_channel)
    return interpret.fake.messages_in(threads[-1]) if threads else []


async def run_with_speech(interpret: Interpret, *speakers: tuple[str, float]) -> str:
    """Start, let each speaker say one utterance, stop; the run's id."""
    await interpret.join("admin", *(name for name, _ in speakers))
    await interpret.start(target="es")
    active = interpret.bot.services.runs.active(interpret.fake.guild.id)
    assert active is not None
    for n, (name, freq) in enumerate(speakers, start=1):
        await interpret.speak(name, freq, 0.8)
        await interpret.simulator.wait_for_segments(n, timeout=15, played=True)
        await eventually(lambda n=n: sum(HOLA in m.content for m in thread_posts(interpret))
                         >= n, within=10)
    await interpret.invoke("stop")
    return active.run_id


async def test_a_started_run_posts_its_transcript_and_stores_its_segments(
    interpret: Interpret,
) -> None:
    run_id = await run_with_speech(interpret, ("alice", ALICE_HZ))

    [post] = [m for m in thread_posts(interpret) if HOLA in m.content]
    assert HELLO in post.content
    [segment] = await interpret.bot.services.store.segments(interpret.fake.guild.id, run_id)
    assert (segment.member_id, segment.original, segment.translation) == (
        interpret.fake.member("alice").id, HELLO, HOLA)
    assert (segment.source_language, segment.target_language) == ("en-US", "es-ES")
    assert segment.voice_channel_id == interpret.fake.voice_channel.id


async def test_the_transcript_command_returns_the_last_run_as_a_file(
    interpret: Interpret,
) -> None:
    run_id = await run_with_speech(interpret, ("alice", ALICE_HZ))

    record = await interpret.invoke("transcript", user="bob", format="srt")

    assert record.ephemeral
    assert record.original is not None
    [attachment] = record.original.attachments
    assert attachment["filename"] == f"transcript-{run_id[:12]}.srt"


async def test_there_is_no_transcript_before_any_run(interpret: Interpret) -> None:
    record = await interpret.invoke("transcript")
    assert record.texts == ["There is no transcript in this server yet."]


async def test_forget_deletes_only_the_members_own_segments(interpret: Interpret) -> None:
    run_id = await run_with_speech(interpret, ("alice", ALICE_HZ), ("bob", BOB_HZ))

    record = await interpret.invoke("me", user="alice", forget=True)

    assert record.texts == ["Deleted 1 stored transcript segment of yours in this server."]
    stored = await interpret.bot.services.store.segments(interpret.fake.guild.id, run_id)
    assert [s.member_id for s in stored] == [interpret.fake.member("bob").id]


async def test_with_transcripts_off_no_thread_is_opened(interpret: Interpret) -> None:
    await interpret.invoke("config", channel=interpret.fake.voice_channel,
                           post_transcripts=False)
    await interpret.join("admin", "alice")
    record = await interpret.start(target="es")
    await interpret.speak("alice", ALICE_HZ, 0.8)
    await interpret.simulator.wait_for_segments(1, timeout=15, played=True)

    assert "Transcripts: off." in await interpret.public_answer(record)
    assert interpret.fake.threads_in(interpret.fake.text_channel) == []
