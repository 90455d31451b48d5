"""Load across guilds, the short version (issue 23): one bot, three guilds, each with a
run started by ``/interpret start`` and two members talking for 30 s at once.

Each member says ``BURSTS`` short tone bursts, one segment each; a guild's second
member talks half a beat after its first, so their translations take turns in the
guild's channel. The simulator answers segment ``n`` (simulator-wide) with a tone of
its own, ``translation_frequency(n)``, and records which session heard it; each
guild's run names its sessions (``link_rooms``), so every translation is known by
guild. The simulator has 80 tones, and Opus smears those above 7 kHz: 48 bursts leave
room for a few cut in two on a starved machine. ``scripts/bench load`` is the long
version, with figures.
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
SPEAKERS = ((ALICE_HZ, 0.0), (BOB_HZ, 1.9))  # tone, start after
HEARD_FRAMES = 10  # a translation plays in a channel when 200 ms of its tone is heard
FRAME_SAMPLES = 960

# Three starts, 30 s of talk and the last translations: about 40 s; the suite's
# 120 s per test leaves too little room on a busy machine.
pytestmark = pytest.mark.timeout(180)


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
    heard: dict[int, dict[int, list[SegmentRecord]]] = {}

    def settled() -> bool:  # every burst heard, every segment played and posted
        heard.update({g.id: segments_by_member(interpret, g) for g in guilds})
        segments = [s for g in guilds for m in heard[g.id].values() for s in m]
        return (all(len(m) >= BURSTS for g in guilds for m in heard[g.id].values())
                and all(s.audio_ended_at is not None for s in segments)
                and all(translations_posted(thread_posts(fake, g))
                        >= sum(map(len, heard[g.id].values())) for g in guilds))

    with contextlib.suppress(TimeoutError):  # what is missing then fails below, by name
        await eventually(settled, within=45)
    # Speech the bot cut to keep its delay within its bound (issue 24) is a counted,
    # exported and announced loss, not a silent one: a starved machine (the bot, the
    # simulator and the fake share one process here, beside another test worker) may
    # take a burst or two that way. Anything missing beyond what it counted is lost.
    cut_s = interpret.bot.metrics.sample("interpret_behind_dropped_seconds_total",
                                         {"cause": "uplink_speech_dropped"}) or 0.0
    missing = sum(max(0, BURSTS - len(m)) for g in guilds for m in heard[g.id].values())
    assert missing <= int(cut_s / BURST_S), (missing, cut_s)
    for guild in guilds:  # a stop writes what is left to the store
        await fake.answered(await fake.invoke("interpret stop", channel=text_channel(guild),
                                              within=30), 30)

    numbers = {g.id: {s.number for segments in heard[g.id].values() for s in segments}
               for g in guilds}
    everything = set().union(*numbers.values())
    for guild in guilds:
        members = speakers[guild.id]
        counts = {m: len(segments) for m, segments in heard[guild.id].items()}
        # Nothing lost: every burst reached Pinch, in its own member's session (a starved
        # machine may cut one in two, which Pinch then hears as two segments)...
        assert set(counts) == {m.id for m in members}, guild.name
        if not cut_s:
            assert min(counts.values()) >= BURSTS, (guild.name, counts)
        for member, (hz, _) in zip(members, SPEAKERS, strict=True):
            assert {round(s.heard_frequency / 50) * 50 for s in heard[guild.id][member.id]} == {hz}
        # ...each has its post in the guild's own thread, which holds its own members only...
        posts = thread_posts(fake, guild)
        assert translations_posted(posts) == sum(counts.values()), guild.name
        assert posters(posts) == {display_name(m) for m in members}, guild.name
        # ...and its stored segment, as the guild's.
        run = runs[guild.id]
        assert run is not None
        stored = await interpret.bot.services.store.segments(guild.id, run.run_id)
        assert Counter(s.member_id for s in stored) == counts, guild.name
        assert {s.voice_channel_id for s in stored} == {voice_channel(guild).id}
        # Its translations play in its voice channel, and no other guild's do (each
        # translation has a tone of its own: told apart by ear).
        assert len({translation_frequency(n) for n in everything}) == len(everything)
        sounding, leading = translations_heard(fake, guild, everything)
        assert numbers[guild.id] <= sounding, guild.name
        assert leading <= numbers[guild.id], guild.name
