"""Load across guilds, the short version (issue 23): one bot, three guilds, each with a
run started by ``/interpret start`` and two members talking for 30 s at once.

Each member says ``BURSTS`` short tone bursts, one segment each; a guild's second
member talks half a beat after its first, so their translations take turns in the
guild's channel. The simulator answers segment ``n`` (simulator-wide) with a tone of
its own, ``translation_frequency(n)``, and records which session heard it; each
guild's run names its sessions (``link_rooms``), so every translation is known by
guild. 60 segments use 60 tones (up to 6.9 kHz, below where Opus smears a tone), so
no two share one. ``scripts/bench load`` is the long version, with figures.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest

from tests.e2e.commands.conftest import Interpret
from tests.e2e.conftest import ALICE_HZ, BOB_HZ
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.model import Guild, Member
from tests.fakes.pinch import AgentTuning, PinchSimulator, SegmentRecord, translation_frequency
from tests.support.fixtures_pinch import MakeSimulator
from tests.support.guild_load import (
    humans,
    posters,
    start_interpreting,
    text_channel,
    thread_posts,
    translations_posted,
    voice_channel,
)
from tests.support.signals import dominant_frames, frame_spectra, present_frames
from tests.support.transports import TRANSPORTS
from tests.support.waiting import eventually

BURSTS = 10  # per member: 3 guilds x 2 members x 10 = 60 segments
BURST_S, GAP_S = 0.6, 2.4  # 10 x 3 s = 30 s of talk each
SPEAKERS = ((ALICE_HZ, 0.0), (BOB_HZ, 1.5))  # tone, start after
HEARD_FRAMES = 10  # a translation plays in a channel when 200 ms of its tone is heard
FRAME_SAMPLES = 960


@pytest.fixture(params=TRANSPORTS)
def pinch_transport_setting(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def simulator(make_pinch_simulator: MakeSimulator) -> PinchSimulator:
    """Its sessions queue 10 s of what they hear (the default: 1 s): six sessions and the
    bot share this process, and on a busy machine the stand-in for Pinch must not drop
    the pauses that keep the bursts apart."""
    return await make_pinch_simulator(tuning=AgentTuning(input_capacity_frames=1000))


def display_name(member: Member) -> str:
    return member.nick or member.user.global_name or member.user.username


def segments_by_member(interpret: Interpret, guild: Guild) -> dict[int, list[SegmentRecord]]:
    """Member → the segments the simulator heard in that member's session of the guild's run."""
    assert interpret.bot.interpretations is not None
    run = interpret.bot.interpretations.get(guild.id)
    assert run is not None, guild.name
    rooms = {room: member for member, room in run.link_rooms().items()}
    heard: dict[int, list[SegmentRecord]] = {member: [] for member in rooms.values()}
    for session in interpret.simulator.sessions:
        if session.room_name in rooms:
            heard[rooms[session.room_name]] += session.segments
    return heard


def translations_heard(fake: FakeDiscord, guild: Guild,
                       numbers: set[int]) -> tuple[set[int], set[int]]:
    """Of the segments ``numbers``, those whose translation sounds in the guild's channel
    for ``HEARD_FRAMES`` frames (ducked under another one or not), and those whose
    translation leads there (the loudest) that long."""
    frames = fake.captured_audio(voice_channel(guild)).mono().reshape(-1, FRAME_SAMPLES)
    spectra = frame_spectra(frames)

    def heard(frames_of: Callable[..., npt.NDArray[np.bool_]]) -> set[int]:
        return {n for n in numbers
                if frames_of(spectra, 48_000, translation_frequency(n)).sum() >= HEARD_FRAMES}

    return heard(present_frames), heard(dominant_frames)


async def test_three_guilds_at_once_each_get_only_their_own_translations_and_lose_nothing(
    interpret: Interpret,
) -> None:
    fake = interpret.fake
    guilds = [fake.guild, await fake.add_guild("Second"), await fake.add_guild("Third")]
    speakers = {g.id: humans(g)[:len(SPEAKERS)] for g in guilds}
    for guild in guilds:
        for member in speakers[guild.id]:
            await fake.move_member(member, voice_channel(guild))
        await start_interpreting(fake, guild)
    runs = {g.id: interpret.bot.services.runs.active(g.id) for g in guilds}

    talks = []
    for guild in guilds:
        for k, (hz, lead) in enumerate(SPEAKERS):
            wav = interpret.bursts(f"speaker{k}", hz, count=BURSTS, burst_s=BURST_S,
                                   gap_s=GAP_S, lead_s=lead)
            talks.append(await fake.start_speaking(speakers[guild.id][k], wav))
    await asyncio.gather(*talks)
    spoken = BURSTS * len(talks)
    await interpret.simulator.wait_for_segments(spoken, timeout=60, played=True)
    def all_posted() -> bool:
        return all(translations_posted(thread_posts(fake, g)) >= len(SPEAKERS) * BURSTS
                   for g in guilds)

    with contextlib.suppress(TimeoutError):  # what is missing then fails below, by name
        await eventually(all_posted, within=30)
    heard = {g.id: segments_by_member(interpret, g) for g in guilds}
    for guild in guilds:  # a stop writes what is left to the store
        await fake.answered(await fake.invoke("interpret stop", channel=text_channel(guild),
                                              within=30), 30)

    numbers = {g.id: {s.number for segments in heard[g.id].values() for s in segments}
               for g in guilds}
    everything = set().union(*numbers.values())
    assert len(everything) == spoken
    for guild in guilds:
        members = speakers[guild.id]
        # Nothing lost: every burst was heard, by its member's own session...
        assert {m: len(s) for m, s in heard[guild.id].items()} == {m.id: BURSTS for m in members}
        # ...posted in the guild's own thread, which holds its own members only...
        posts = thread_posts(fake, guild)
        assert translations_posted(posts) == len(SPEAKERS) * BURSTS, guild.name
        assert posters(posts) == {display_name(m) for m in members}, guild.name
        # ...and stored as the guild's, in its run.
        run = runs[guild.id]
        assert run is not None
        stored = await interpret.bot.services.store.segments(guild.id, run.run_id)
        assert Counter(s.member_id for s in stored) == {m.id: BURSTS for m in members}
        assert {s.voice_channel_id for s in stored} == {voice_channel(guild).id}
        # Its translations play in its voice channel, and no other guild's do.
        sounding, leading = translations_heard(fake, guild, everything)
        assert numbers[guild.id] <= sounding, guild.name
        assert leading <= numbers[guild.id], guild.name
