"""Stored segments and ``/interpret transcript``: files that parse back, timings from the
run start."""

from __future__ import annotations

import time
from datetime import UTC

import discord
import pysubs2
import pytest

from bot.transcripts.commands import TranscriptCommandError, forget_member, transcript_file
from tests.integration.transcripts.conftest import Scene
from tests.support.waiting import eventually


def anyone(voice_channel_id: int) -> None:
    """Everyone may read every channel here (who may is the command's, tested end to end)."""


async def _conversation(scene: Scene) -> None:
    """Three utterances with known times: interims mark the starts, finals the ends."""
    t0 = time.time()
    for n, (member, start, end) in enumerate([("alice", 1.0, 2.5), ("bob", 3.0, 4.2),
                                               ("alice", 5.5, 7.0)]):
        scene.interim(member, "…", at=t0 + start)
        scene.utterance(member, f"sentence {n}", f"frase {n}", at=t0 + end)
    await eventually(lambda: len(scene.store.rows) == 3)


async def test_each_utterance_is_stored_with_its_run_member_languages_and_times(
    scene: Scene,
) -> None:
    await scene.open_run()
    await _conversation(scene)
    assert scene.run is not None
    rows = scene.store.rows
    assert [(r.member_id, r.original, r.translation) for r in rows] == [
        (scene.member_id("alice"), "sentence 0", "frase 0"),
        (scene.member_id("bob"), "sentence 1", "frase 1"),
        (scene.member_id("alice"), "sentence 2", "frase 2")]
    assert {(r.guild_id, r.voice_channel_id, r.run_id, r.target_language) for r in rows} == {
        (scene.fake.guild.id, scene.voice.id, scene.run.run_id, "es-ES")}
    assert [round((r.ended_at - r.started_at).total_seconds(), 3) for r in rows] == [
        1.5, 1.2, 1.5]
    assert all(r.started_at.tzinfo is UTC for r in rows)


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
async def test_subtitle_export_parses_back_with_timings_within_50_ms(
    scene: Scene, fmt: str,
) -> None:
    await scene.open_run()
    await _conversation(scene)
    guild = scene.bot.get_guild(scene.fake.guild.id)
    assert guild is not None
    assert scene.run is not None
    file = await transcript_file(scene.store, scene.service, guild, fmt, check_reader=anyone)
    assert isinstance(file, discord.File)
    assert file.filename.endswith(f".{fmt}")
    subs = pysubs2.SSAFile.from_string(file.fp.read().decode(), format_=fmt)
    origin = scene.run.started_at
    stored = await scene.store.segments(guild.id, scene.run.run_id)
    assert len(subs) == len(stored) == 3
    for event, seg in zip(subs, stored, strict=True):
        assert abs(event.start - (seg.started_at - origin).total_seconds() * 1000) <= 50
        assert abs(event.end - (seg.ended_at - origin).total_seconds() * 1000) <= 50
    assert subs[1].plaintext == "Bob: sentence 1\nfrase 1"


async def test_text_export_lists_every_utterance_with_names_and_times(scene: Scene) -> None:
    await scene.open_run()
    await _conversation(scene)
    guild = scene.bot.get_guild(scene.fake.guild.id)
    assert guild is not None
    text = (await transcript_file(scene.store, scene.service, guild, "txt",
                                  check_reader=anyone)).fp.read().decode()
    lines = text.splitlines()
    assert lines[0].startswith("Transcript of the run started ")
    assert [line.split("] ")[1] for line in lines if line.startswith("[")] == [
        "Alice (en-US → es-ES)", "Bob (en-US → es-ES)", "Alice (en-US → es-ES)"]
    assert "    sentence 1" in lines
    assert "    ↳ frase 1" in lines


async def test_export_of_the_last_run_after_it_stopped(scene: Scene) -> None:
    await scene.open_run()
    await _conversation(scene)
    await scene.finish()
    guild = scene.bot.get_guild(scene.fake.guild.id)
    assert guild is not None
    file = await transcript_file(scene.store, scene.service, guild, "srt", check_reader=anyone)
    assert len(pysubs2.SSAFile.from_string(file.fp.read().decode(), format_="srt")) == 3


async def test_export_refuses_unknown_formats_and_empty_servers(scene: Scene) -> None:
    guild = scene.bot.get_guild(scene.fake.guild.id)
    assert guild is not None
    with pytest.raises(TranscriptCommandError, match="no transcript"):
        await transcript_file(scene.store, scene.service, guild, "srt", check_reader=anyone)
    with pytest.raises(TranscriptCommandError, match="txt, srt, vtt"):
        await transcript_file(scene.store, scene.service, guild, "docx", check_reader=anyone)


async def test_forget_answers_how_many_segments_went(scene: Scene) -> None:
    await scene.open_run()
    await _conversation(scene)
    guild_id, alice = scene.fake.guild.id, scene.member_id("alice")
    assert await forget_member(scene.store, guild_id, alice) == (
        "Deleted 2 stored transcript segments of yours in this server.")
    assert await forget_member(scene.store, guild_id, alice) == (
        "No stored transcript of yours in this server.")
    assert [r.member_id for r in scene.store.rows] == [scene.member_id("bob")]


