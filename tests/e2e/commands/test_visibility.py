"""Who may read what was said: a run's status and transcript are for the members who can
see its voice channel now; a deleted channel's runs for server-wide Manage Channels."""

from __future__ import annotations

import pytest

from tests.e2e.commands.conftest import Interpret
from tests.fakes.discord.model import Channel, ChannelType, Permission


def cannot_read(channel: Channel) -> str:
    return f"You cannot see <#{channel.id}>, so you cannot read its transcript."


@pytest.mark.parametrize("command", ["status", "transcript"])
async def test_a_member_who_cannot_see_the_interpreted_channel_is_refused_its_run(
    interpret: Interpret, command: str,
) -> None:
    voice = interpret.fake.voice_channel
    await interpret.join("admin")
    await interpret.start(target="es")
    await interpret.deny(voice, "bob", Permission.VIEW_CHANNEL)

    record = await interpret.invoke(command, user="bob")

    assert record.ephemeral
    refusal = (f"You cannot see <#{voice.id}>, so you cannot see how it is interpreted."
               if command == "status" else cannot_read(voice))
    assert record.texts == [refusal]


async def test_a_past_runs_transcript_is_for_those_who_can_see_its_channel_now(
    interpret: Interpret,
) -> None:
    fake = interpret.fake
    private = await fake.add_channel("Private")
    fake.set_permission(private, fake.guild.everyone, deny=Permission.VIEW_CHANNEL)
    fake.set_permission(private, "alice", allow=Permission.VIEW_CHANNEL)
    await fake.announce_channel(private)
    run_id = await interpret.stored_run(private, [fake.member("alice")])

    member = await interpret.invoke("transcript", user="alice", run=run_id)
    outsider = await interpret.invoke("transcript", user="bob", run=run_id)

    assert "sentence 0" in interpret.transcript_of(member)
    assert outsider.texts == [cannot_read(private)]


async def test_a_deleted_channels_run_is_exported_only_with_server_wide_manage_channels(
    interpret: Interpret,
) -> None:
    fake = interpret.fake
    gone = await fake.add_channel("Gone", ChannelType.VOICE)
    run_id = await interpret.stored_run(gone, [fake.member("alice")])
    await fake.delete_channel(gone)

    member = await interpret.invoke("transcript", user="alice", run=run_id)
    admin = await interpret.invoke("transcript", user="admin", run=run_id)

    assert member.texts == ["The voice channel of that run no longer exists, so only members "
                            "with the server-wide Manage Channels permission may read it."]
    assert "sentence 0" in interpret.transcript_of(admin)
