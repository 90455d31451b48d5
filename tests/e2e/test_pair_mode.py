"""End to end, pair mode: two languages in one channel, each member heard in the other one.

Fake Discord (real discord.py, DAVE, UDP) → our engine → real LiveKit → the Pinch
simulator, which reports ``language_detected`` from the tone a member speaks
(``SPEAKER_LANGUAGES``: Alice's 300 Hz is English, Bob's 500 Hz Spanish, the
admin's 650 Hz French). Runs start through ``SessionManager.start`` with a
pair-mode ``RunConfig`` (en-US ↔ es-ES); transcripts go to a real
``TranscriptService`` posting into the fake's thread.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import discord
import pytest

from bot.app import InterpretBot
from bot.interpretation.events import AttributedTranscript, MemberPreference, RunStatus
from bot.interpretation.link import LinkState
from bot.interpretation.manager import SessionManager
from bot.interpretation.pair_mode import Direction, Outcome, PairConfig, PairDecision
from bot.interpretation.run import ChannelInterpretation, RunConfig
from bot.pinch import PinchClient
from bot.secrets import Secret
from bot.transcripts import TranscriptRun, TranscriptService, WriterConfig
from bot.voice.client import ReceivingVoiceClient
from tests.e2e.conftest import ADMIN_HZ, ALICE_HZ, BOB_HZ, write_wav
from tests.fakes.discord import FakeDiscord, Message
from tests.fakes.pinch import (
    DEFAULT_SCRIPT,
    SPEAKER_LANGUAGES,
    AgentTuning,
    PinchSimulator,
    SimulatedSession,
    translation_frequency,
)
from tests.support.fixtures_pinch import FAST_RETRY, PINCH_TEST_TOKEN, MakeSimulator
from tests.support.segments import MemorySegments
from tests.support.signals import tone_prominence_db
from tests.support.waiting import eventually

EN_ES = Direction("en-US", "es-ES")
ES_EN = Direction("es-ES", "en-US")
FR_EN = Direction("fr-FR", "en-US")
TONES = {"alice": ALICE_HZ, "bob": BOB_HZ, "admin": ADMIN_HZ}


@pytest.fixture
async def simulator(make_pinch_simulator: MakeSimulator) -> PinchSimulator:
    return await make_pinch_simulator(tuning=AgentTuning(language_bands=SPEAKER_LANGUAGES))


@dataclass
class PairRun:
    fake: FakeDiscord
    bot: InterpretBot
    manager: SessionManager
    thread_posts: TranscriptService
    store: MemorySegments
    tmp: Path
    preferences: dict[int, MemberPreference] = field(default_factory=dict)
    transcripts: list[AttributedTranscript] = field(default_factory=list)
    statuses: list[RunStatus] = field(default_factory=list)
    run: ChannelInterpretation | None = None

    def id(self, name: str) -> int:
        return self.fake.member(name).id

    async def start(self) -> ChannelInterpretation:
        for name in TONES:
            await self.fake.move_member(name, self.fake.voice_channel)
        voice = self.bot.get_channel(self.fake.voice_channel.id)
        text = self.bot.get_channel(self.fake.text_channel.id)
        assert isinstance(voice, discord.VoiceChannel)
        assert isinstance(text, discord.TextChannel)
        assert self.bot.user is not None
        transcript = TranscriptRun(voice, text, "en-US", "es-ES", pair=True)
        await self.thread_posts.open_run(transcript)
        self.run = await self.manager.start(
            voice, RunConfig(source_language="en-US", target_language="es-ES",
                             pair=PairConfig()),
            own_user_id=self.bot.user.id, run_id=transcript.run_id)
        await self.fake.wait_bot_voice_ready()
        await self.fake.wait_dave_ready()
        return self.run

    async def say(self, name: str, seconds: float = 1.0) -> None:
        wav = write_wav(self.tmp / f"{name}-{seconds}.wav", TONES[name], seconds)
        await self.fake.speak(name, wav)

    def decisions(self) -> list[PairDecision]:
        return [s.pair for s in self.statuses if s.pair is not None]

    def finals(self, name: str) -> list[AttributedTranscript]:
        return [t for t in self.transcripts if t.member_id == self.id(name) and t.event.is_final]

    def posts(self) -> list[Message]:
        threads = self.fake.threads_in(self.fake.text_channel)
        return self.fake.messages_in(threads[-1]) if threads else []


@pytest.fixture
async def pair(fake_discord: FakeDiscord, discord_bot: InterpretBot, simulator: PinchSimulator,
               tmp_path: Path) -> AsyncIterator[PairRun]:
    async def connect(channel: discord.VoiceChannel) -> ReceivingVoiceClient:
        return await channel.connect(cls=ReceivingVoiceClient, timeout=10)

    store = MemorySegments()
    service = TranscriptService(sink=store,
                                config=WriterConfig(retry_base_s=0.05, retry_max_s=0.5))
    holder: list[PairRun] = []

    def transcript(t: AttributedTranscript) -> None:
        holder[0].transcripts.append(t)
        service.on_transcript(t)

    async with PinchClient(simulator.base_url, Secret(PINCH_TEST_TOKEN),
                           retry=FAST_RETRY) as client:
        manager = SessionManager(
            client, connect, on_transcript=transcript,
            on_status=lambda s: holder[0].statuses.append(s),
            preferences=lambda m: holder[0].preferences.get(m, MemberPreference()))
        holder.append(PairRun(fake_discord, discord_bot, manager, service, store, tmp_path))
        try:
            yield holder[0]
        finally:
            await manager.aclose()
            await service.aclose()


def _requests(sim: PinchSimulator) -> list[tuple[str, str, list[int]]]:
    """Every session in order: its direction and the tones it heard (rounded to 50 Hz)."""
    return [(s.request.source_language, s.request.target_language,
             [round(seg.heard_frequency / 50) * 50 for seg in s.segments])
            for s in sim.sessions]


def _session_in(sim: PinchSimulator, room: str | None) -> SimulatedSession:
    [session] = [s for s in sim.sessions if s.room_name == room]
    return session


async def _reversal(pair: PairRun, sim: PinchSimulator) -> tuple[SimulatedSession, float]:
    """Bob's first words; returns his reversed session once it has heard them again, and
    when (unix time) he stopped saying them.

    Prints the switch latency: end of the first utterance → decision → reversed
    session ready (interpreted: the link is ACTIVE).
    """
    run = pair.run
    assert run is not None
    bob = pair.id("bob")
    started = time.monotonic()
    await pair.say("bob", 1.2)
    ended, ended_wall = time.monotonic(), time.time()
    await eventually(lambda: pair.decisions(), within=15)
    decided = pair.decisions()[0].at
    await eventually(lambda: any(
        s.member_id == bob and s.link is not None and s.link.state is LinkState.ACTIVE
        and s.at > decided for s in pair.statuses), within=15)
    ready = next(s.at for s in pair.statuses if s.member_id == bob and s.link is not None
                 and s.link.state is LinkState.ACTIVE and s.at > decided)
    print(f"\npair-mode switch: first utterance {ended - started:.2f} s long; end of it → "
          f"decision {decided - ended:.2f} s → reversed session ready {ready - decided:.2f} s "
          f"(end → ready {ready - ended:.2f} s, start → ready {ready - started:.2f} s)")
    reversed_session = _session_in(sim, run.link_rooms()[bob])
    await sim.wait_for_segments(1, timeout=15, session=reversed_session)
    return reversed_session, ended_wall


async def test_a_member_speaking_the_second_language_is_reopened_reversed_and_stays_so(
    pair: PairRun, simulator: PinchSimulator,
) -> None:
    run = await pair.start()
    alice, bob = pair.id("alice"), pair.id("bob")
    reversed_session, _ = await _reversal(pair, simulator)
    await pair.say("alice")
    await simulator.wait_for_segments(3, timeout=15)
    await pair.say("bob")
    await simulator.wait_for_segments(2, timeout=15, session=reversed_session)

    decisions = {d.member_id: d for d in pair.decisions()}
    assert {m: (d.outcome, d.direction, d.detected) for m, d in decisions.items()} == {
        bob: (Outcome.SECOND, ES_EN, "es-ES"), alice: (Outcome.FIRST, EN_ES, "en-US")}
    assert run.pair_decisions() == decisions  # kept for the run, for the cog to offer
    assert (run.direction_of(bob), run.direction_of(alice)) == (ES_EN, EN_ES)
    # Bob's first session (en → es) heard his first words; the reversed one heard them
    # again, then his later words. Alice's session stays en → es.
    assert _requests(simulator) == [
        ("en-US", "es-ES", [BOB_HZ]),
        ("es-ES", "en-US", [BOB_HZ, BOB_HZ]),
        ("en-US", "es-ES", [ALICE_HZ]),
    ]
    assert run.link_rooms()[bob] == reversed_session.room_name
    await eventually(lambda: len([t for t in pair.finals("bob")
                                  if t.event.kind == "translated"]) == 2, within=10)
    # Nothing of the superseded session reaches the transcript: every utterance of Bob's
    # is es → en, every one of Alice's en → es.
    assert {(t.event.kind, t.direction) for t in pair.finals("bob")} == {
        ("original", ES_EN), ("translated", ES_EN)}
    assert len(pair.finals("bob")) == 4
    assert {t.direction for t in pair.finals("alice")} == {EN_ES}
    assert run.superseded_events >= 1


async def test_both_directions_are_heard_in_the_channel(
    pair: PairRun, simulator: PinchSimulator,
) -> None:
    await pair.start()
    reversed_session, ended = await _reversal(pair, simulator)
    await pair.say("alice")
    await simulator.wait_for_segments(3, timeout=15)
    alice_session = simulator.sessions[2]
    [replayed] = await simulator.wait_for_segments(1, timeout=15, session=reversed_session,
                                                   played=True)
    assert replayed.audio_started_at is not None
    print(f"\npair-mode switch: end of Bob's first words → their es → en translation starts "
          f"playing {replayed.audio_started_at - ended:.2f} s")
    await simulator.wait_for_segments(1, timeout=15, session=alice_session, played=True)
    await asyncio.sleep(1.0)  # the translated tones are still in flight to the fake

    out = pair.fake.captured_audio().mono()
    heard = [seg.number for seg in (reversed_session.segments[0], alice_session.segments[0])]
    [wrong_way] = simulator.sessions[0].segments  # Bob's first words, en → es
    prominence = {n: tone_prominence_db(out, 48_000, translation_frequency(n))
                  for n in range(6)}
    assert min(prominence[n] for n in heard) > 60  # Bob's es → en and Alice's en → es
    # The wrong-way translation of his first words was cut, not played.
    assert prominence[wrong_way.number] < min(prominence[n] for n in heard) - 30


async def test_the_thread_shows_the_direction_of_each_post(
    pair: PairRun, simulator: PinchSimulator,
) -> None:
    await pair.start()
    await _reversal(pair, simulator)
    await pair.say("alice")
    await simulator.wait_for_segments(3, timeout=15)
    await pair.say("bob")
    await eventually(lambda: len(pair.posts()) >= 3 and all(
        "\n> " in p.content for p in pair.posts()), within=20)

    line = DEFAULT_SCRIPT
    tag = {EN_ES: "(en\\-US → es\\-ES)", ES_EN: "(es\\-ES → en\\-US)"}
    # Per session, the simulator answers its n-th segment with script line n: Bob's
    # reversed session heard his first words again (line 0), then his next (line 1).
    assert [(p.username, p.content) for p in pair.posts()] == [
        ("Bob", f"{tag[ES_EN]} {line[0][0]}\n> {line[0][1]}"),
        ("Alice", f"{tag[EN_ES]} {line[0][0]}\n> {line[0][1]}"),
        ("Bob", f"{tag[ES_EN]} {line[1][0]}\n> {line[1][1]}"),
    ]
    thread = pair.fake.threads_in(pair.fake.text_channel)[-1]
    assert "en-US ↔ es-ES" in thread.name
    await eventually(lambda: len(pair.store.rows) == 3)
    assert [(r.member_id, r.source_language, r.target_language) for r in pair.store.rows] == [
        (pair.id("bob"), "es-ES", "en-US"), (pair.id("alice"), "en-US", "es-ES"),
        (pair.id("bob"), "es-ES", "en-US")]


async def test_a_member_with_a_language_preference_is_never_rerouted_by_detection(
    pair: PairRun, simulator: PinchSimulator,
) -> None:
    # Bob said he speaks Spanish: es → en from his first word. Alice said Spanish too,
    # though she speaks English: she is taken at her word, whatever is detected.
    pair.preferences[pair.id("bob")] = MemberPreference(source_language="es-ES")
    pair.preferences[pair.id("alice")] = MemberPreference(source_language="es-ES")
    run = await pair.start()
    await pair.say("bob")
    await simulator.wait_for_segments(1, timeout=15)
    await pair.say("alice")
    await simulator.wait_for_segments(2, timeout=15)
    await pair.say("alice")
    await simulator.wait_for_segments(3, timeout=15)
    await eventually(lambda: sum(t.event.kind == "translated" for t in pair.transcripts) == 3,
                     within=10)

    assert _requests(simulator) == [
        ("es-ES", "en-US", [BOB_HZ]),
        ("es-ES", "en-US", [ALICE_HZ, ALICE_HZ]),
    ]
    assert [seg.detected_language for seg in simulator.sessions[1].segments] == [
        "en-US", "en-US"]  # detection disagreed with her, twice
    assert pair.decisions() == []
    assert run.pair_decisions() == {}
    assert {t.direction for t in pair.transcripts if t.event.is_final} == {ES_EN}


async def test_a_member_speaking_neither_language_is_interpreted_into_the_first_and_told(
    pair: PairRun, simulator: PinchSimulator,
) -> None:
    run = await pair.start()
    admin = pair.id("admin")
    await pair.say("admin", 1.2)
    await eventually(lambda: pair.decisions(), within=15)
    await eventually(lambda: run.link_rooms().get(admin) is not None
                     and len(simulator.sessions) == 2, within=15)
    await simulator.wait_for_segments(1, timeout=15, session=simulator.sessions[1])

    [decision] = pair.decisions()
    assert (decision.outcome, decision.direction) == (Outcome.OTHER, FR_EN)
    assert _requests(simulator) == [("en-US", "es-ES", [ADMIN_HZ]),
                                    ("fr-FR", "en-US", [ADMIN_HZ])]
    [notice] = [s.notice for s in pair.statuses if s.notice is not None]
    assert notice == (f"<@{admin}> speaks French (France) (fr-FR), which is not one of this "
                      "channel's two languages (en-US ↔ es-ES): they are interpreted into "
                      "English (United States) (en-US) for the rest of this run.")


async def test_a_member_whose_own_language_is_outside_the_pair_goes_into_the_first_and_told(
    pair: PairRun, simulator: PinchSimulator,
) -> None:
    admin = pair.id("admin")
    pair.preferences[admin] = MemberPreference(source_language="fr-FR")
    await pair.start()
    await pair.say("admin")
    await simulator.wait_for_segments(1, timeout=15)

    assert _requests(simulator) == [("fr-FR", "en-US", [ADMIN_HZ])]
    assert pair.decisions() == []  # their own word, not detection
    [notice] = [s.notice for s in pair.statuses if s.notice is not None]
    assert notice.startswith(f"<@{admin}> speaks French (France) (fr-FR), which is not one")
