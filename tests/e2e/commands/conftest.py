"""Harness for the /interpret commands end to end: the real bot with its default
extensions, its own SQLite store, the fake Discord, the real LiveKit server and the
Pinch simulator.

``interpret`` is an :class:`Interpret` with the fake, the simulator, the bot and
shortcuts: ``await interpret.invoke("start", user="admin", target="es")`` runs
``/interpret start`` (every command answers privately; ``start`` and ``stop`` then tell
the channel: ``await interpret.public_answer(record)``); ``interpret.clock`` is the
bot's run clock, which a test may move forward (``clock.advance(seconds)``) to reach
a run's minute cap without waiting for it. Everything else runs in real time. The
bot reaches Pinch over the transport the ``pinch_transport_setting`` fixture names
(``PINCH_TRANSPORT``: ``livekit`` unless a test parametrises it).

``interpret_on_postgres`` is the same bot on a PostgreSQL database of the test's own
(``postgres_server`` can stop and start it: a database outage), with its health and
metrics endpoint on; ``segment_backlog`` (``SEGMENT_BACKLOG``) may be parametrised.

Every test here also checks that nothing was logged that must never be: no record,
of any logger at any level, may carry the Discord token, the Pinch token or a
session context sent with a command (``never_logged``).
"""

from __future__ import annotations

import contextlib
import time
import uuid
import wave
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.app import EXTENSIONS, InterpretBot
from bot.secrets import Secret
from bot.settings import DEFAULT_SEGMENT_BACKLOG, Settings
from bot.store import StoredSegment
from cogs.interpret.formatting import DONE_PUBLICLY
from tests.e2e.conftest import write_wav
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.model import Channel, InteractionRecord, Member, Message
from tests.fakes.discord.rest_base import EPHEMERAL
from tests.fakes.pinch import PinchSimulator, SimulatedSession
from tests.support.fixtures_discord import running_bot
from tests.support.fixtures_pinch import FAST_RETRY, PINCH_TEST_TOKEN
from tests.support.fixtures_store import database_name
from tests.support.log_scan import scanning_logs
from tests.support.postgres import PostgresServer
from tests.support.signals import tone

TICK_S = 0.1


@dataclass
class RunClock:
    """The bot's monotonic clock, which a test can move forward."""

    offset: float = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Interpret:
    fake: FakeDiscord
    simulator: PinchSimulator
    bot: InterpretBot
    settings: Settings
    tmp_path: Path
    clock: RunClock = field(default_factory=RunClock)

    async def invoke(self, sub: str, *, user: str | None = "admin", within: float = 15.0,
                     where: Channel | None = None, **options: Any) -> InteractionRecord:
        """``/interpret <sub>`` run in ``where`` (default: the default guild's text
        channel; the channel decides the guild); waits for the final answer when the bot
        deferred. ``options`` are the command's (``channel=`` included)."""
        record = await self.fake.invoke(f"interpret {sub}", user=user, within=within,
                                        channel=where, options=options)
        return await self.fake.answered(record, within)

    async def public_answer(self, record: InteractionRecord, within: float = 15.0) -> str:
        """What ``start`` or ``stop`` told the whole channel (after the private "done")."""
        public = await self.fake.wait_for(
            lambda: [m for m in record.followups if not m.flags & EPHEMERAL], within,
            f"the public answer to /{record.name}")
        return public[0].content

    async def answer(self, record: InteractionRecord, within: float = 15.0) -> str:
        """The sentence a command ended with: ``start``'s or ``stop``'s public answer when
        they succeeded, else the one private text (a refusal, a view)."""
        if record.texts and record.texts[0] == DONE_PUBLICLY:
            return await self.public_answer(record, within)
        [text] = record.texts
        return text

    async def deny(self, channel: Channel, name: str, permission: int) -> None:
        """A member overwrite denying ``name`` the ``permission`` on ``channel``, announced
        (the bot's cache sees it, as it would see a moderator's change)."""
        self.fake.set_permission(channel, name, deny=permission)
        await self.fake.announce_channel(channel)

    async def join(self, *names: str) -> None:
        for name in names:
            await self.fake.move_member(name, self.fake.voice_channel)

    async def start(self, *, user: str = "admin", **options: Any) -> InteractionRecord:
        record = await self.invoke("start", user=user, **options)
        assert self.bot.interpretations.get(self.fake.guild.id) is not None, record.texts
        await self.public_answer(record)
        await self.fake.wait_bot_voice_ready()
        await self.fake.wait_dave_ready()
        return record

    async def speak(self, name: str, freq: float, seconds: float = 1.0) -> None:
        wav = write_wav(self.tmp_path / f"{name}-{freq:.0f}-{seconds}.wav", freq, seconds)
        await self.fake.speak(name, wav)

    def wav(self, name: str, freq: float, seconds: float) -> Path:
        return write_wav(self.tmp_path / f"{name}-{freq:.0f}-{seconds}.wav", freq, seconds)

    def bursts(self, name: str, freq: float, *, count: int, burst_s: float = 0.5,
               gap_s: float = 0.8, lead_s: float = 0.0) -> Path:
        """A WAV of ``count`` tone bursts separated by silence: one segment each
        (after ``lead_s`` of silence)."""
        burst = tone(freq, burst_s, amplitude=0.3)
        gap = np.zeros(round(gap_s * 48_000), dtype=np.int16)
        lead = np.zeros(round(lead_s * 48_000), dtype=np.int16)
        mono = np.concatenate([lead, *(np.concatenate([burst, gap]) for _ in range(count))])
        path = self.tmp_path / f"{name}-bursts-{freq:.0f}-{count}-{lead_s:g}.wav"
        with wave.open(str(path), "wb") as wav:
            wav.setnchannels(2)
            wav.setsampwidth(2)
            wav.setframerate(48_000)
            wav.writeframes(np.repeat(mono, 2).tobytes())
        return path

    def bot_messages(self, channel: Any = None) -> list[Message]:
        """Messages the bot itself posted (not interaction answers) in a channel."""
        target = channel or self.fake.text_channel
        return [m for m in self.fake.messages_in(target)
                if m.author.id == self.fake.bot_user_id and m.interaction_id is None
                and m.webhook_id is None]

    def sessions(self) -> list[SimulatedSession]:
        return list(self.simulator.sessions)

    async def stored_run(self, channel: Channel, speakers: Iterable[Member]) -> str:
        """A past run of ``channel`` in the store, one utterance per speaker (in order):
        its run id. Quicker than speaking when only what is stored matters."""
        run_id = uuid.uuid4().hex
        start = datetime.now(UTC) - timedelta(hours=1)
        for n, member in enumerate(speakers):
            await self.bot.services.store.add_segment(StoredSegment(
                guild_id=channel.guild_id, voice_channel_id=channel.id, run_id=run_id,
                member_id=member.id, source_language="en-US", target_language="es-ES",
                started_at=start + timedelta(seconds=2 * n),
                ended_at=start + timedelta(seconds=2 * n + 1),
                original=f"sentence {n}", translation=f"frase {n}"))
        return run_id

    @staticmethod
    def transcript_of(record: InteractionRecord) -> str:
        """The text of the file ``/interpret transcript`` answered with."""
        assert record.original is not None, record.texts
        [data] = record.original.files.values()
        return data.decode()


def interpret_settings(fake: FakeDiscord, simulator: PinchSimulator, data_dir: Path,
                       *, pinch_token: str = PINCH_TEST_TOKEN,
                       transport: str = "livekit") -> Settings:
    return Settings(discord_token=Secret(fake.bot_token), pinch_api_token=Secret(pinch_token),
                    pinch_base_url=simulator.base_url, data_dir=data_dir,
                    database_url=f"sqlite:///{data_dir / 'interpret.sqlite3'}",
                    pinch_transport=transport, pinch_ws_base_url=simulator.base_url)


@contextlib.asynccontextmanager
async def interpret_bot(fake: FakeDiscord, settings: Settings, clock: RunClock,
                        **options: Any) -> AsyncIterator[InterpretBot]:
    """The bot as ``python -m bot`` builds it (default extensions), on ``settings``;
    ``options`` go to :func:`~tests.support.fixtures_discord.running_bot`."""
    async with running_bot(fake, settings=settings, extensions=EXTENSIONS,
                           run_clock=clock, run_tick_s=TICK_S,
                           pinch_options={"retry": FAST_RETRY}, **options) as bot:
        yield bot


@pytest.fixture(autouse=True)
def never_logged(request: pytest.FixtureRequest, pinch_token: str) -> Iterator[None]:
    """Fails the test if a log record carried a token or a context a command sent."""
    fake: FakeDiscord | None = (request.getfixturevalue("fake_discord")
                                if "fake_discord" in request.fixturenames else None)
    with scanning_logs() as scanner:
        yield
    watched = {"the Pinch token": pinch_token}
    if fake is not None:
        watched["the Discord token"] = fake.bot_token
        watched.update((f"the context of /{rec.name}", rec.options["context"])
                       for rec in fake.world.interactions.values() if "context" in rec.options)
    leaks = scanner.leaks(watched)
    assert leaks == [], "logged what never may be:\n" + "\n".join(map(str, leaks))


@pytest.fixture
def pinch_token() -> str:
    """The token the bot presents to the simulator (override to make it wrong)."""
    return PINCH_TEST_TOKEN


@pytest.fixture
def pinch_transport_setting() -> str:
    """``PINCH_TRANSPORT`` of the bot under test."""
    return "livekit"


@pytest.fixture
def segment_backlog() -> int:
    """``SEGMENT_BACKLOG`` of the bot on PostgreSQL (override to make it small)."""
    return DEFAULT_SEGMENT_BACKLOG


@pytest.fixture
async def interpret_on_postgres(
    request: pytest.FixtureRequest, fake_discord: FakeDiscord, simulator: PinchSimulator,
    tmp_path: Path, postgres_server: PostgresServer, segment_backlog: int,
) -> AsyncIterator[Interpret]:
    async with postgres_server.database(database_name(request)) as url:
        settings = replace(interpret_settings(fake_discord, simulator, tmp_path),
                           database_url=url, metrics_port=0, segment_backlog=segment_backlog)
        clock = RunClock()
        async with interpret_bot(fake_discord, settings, clock) as bot:
            yield Interpret(fake_discord, simulator, bot, settings, tmp_path, clock)


@pytest.fixture
async def interpret(fake_discord: FakeDiscord, simulator: PinchSimulator, tmp_path: Path,
                    pinch_token: str, pinch_transport_setting: str) -> AsyncIterator[Interpret]:
    settings = interpret_settings(fake_discord, simulator, tmp_path, pinch_token=pinch_token,
                                  transport=pinch_transport_setting)
    clock = RunClock()
    async with interpret_bot(fake_discord, settings, clock) as bot:
        yield Interpret(fake_discord, simulator, bot, settings, tmp_path, clock)
