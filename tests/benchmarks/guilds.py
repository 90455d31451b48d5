"""``scripts/bench load``: load across guilds (issue 23). One bot process serves
``--guilds`` guilds at once, each with a run started by ``/interpret start`` and
``--speakers`` members talking for ``--minutes``, over each transport in turn. Printed
per guild: each leg's delay (p50 / p95), the phrases spoken against the segments Pinch
heard and the translations posted; and the bot process's memory at the start and end.

    scripts/bench load            10 guilds x 3 speakers, 10 minutes, both transports
    scripts/bench load --guilds 3 --speakers 2 --minutes 2 --transports websocket

Processes: the bot (``tests.support.served_bot``: ``bot.app.serve`` with the default
extensions, plus the test-only ``/ops``), the Pinch simulator
(:mod:`tests.benchmarks.simulator_feed`), livekit-server, and this one: the fake
Discord (gateway, REST, voice), the members' speech and the measuring. A fresh fake
Discord and bot process per transport.

Speech: the suite's speech-like phrases (:mod:`tests.benchmarks.speech`), each member
their own, Opus-, DAVE- and transport-encrypted as a client sends them, with pauses of
``PAUSE_S`` so that each phrase is one Pinch segment; a phrase's first packet is its
mark. ``WARMUP_S`` of talk comes first (the sessions open); the delays are those of
the measured minutes after it; the counts cover the whole talk, which ends between
phrases.

Legs, per guild (both include loopback networking and, on LiveKit, the SFU):

- Discord → Pinch: from a mark leaving the fake to the simulator hearing the first
  voiced audio of its phrase, matched per member as the suite matches them
  (:class:`~tests.benchmarks.load.MemberProbe`);
- Pinch → Discord: from the simulator starting a segment's translated audio (a tone of
  its own, ``translation_frequency``) to the first of ``ONSET_FRAMES`` frames holding
  that tone in the guild's voice channel, as the fake receives the bot's audio.

Whose a session is, the bot says: ``/ops links`` (:mod:`tests.support.ops_extension`)
names each member's session in a guild's run.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import collections
import contextlib
import json
import signal
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import numpy as np
import numpy.typing as npt

from bot.app import EXTENSIONS
from bot.process_exit import end_process
from tests.benchmarks.load import TRANSPORTS, MemberProbe, Probes, cpu_seconds
from tests.benchmarks.report import Tails, growth_percent, markdown_table, tails
from tests.benchmarks.simulator_feed import SimulatorEvents, SimulatorProcess
from tests.benchmarks.speech import Member, encoded_speech
from tests.benchmarks.suite import machine
from tests.fakes.dave.clients import DaveyClient
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.model import Channel, Guild, User
from tests.fakes.discord.sharding import UNSHARDED, add_guild_on_shard
from tests.fakes.discord.speech import new_sender
from tests.fakes.discord.voice import BotConnection
from tests.fakes.discord.world import World
from tests.fakes.pinch import translation_frequency
from tests.support.guild_load import (
    humans,
    start_interpreting,
    text_channel,
    thread_posts,
    translations_posted,
    voice_channel,
)
from tests.support.livekit_server import LiveKitServer, find_binary
from tests.support.served_bot import BotProcess, bot_processes, cpu_seconds_of
from tests.support.signals import frame_spectra, present_frames, tone_column

WARMUP_S = 10.0
PAUSE_S = (1.0, 1.8)  # > the bot's 0.7 s of padding > Pinch's 0.5 s end of segment
FRAME_S = 0.02
SAMPLE_RATE = 48_000
ONSET_FRAMES = 3  # frames in a row holding a tone: its translation has arrived
KEPT_HZ = 9200.0  # the bot's audio is kept as spectra up to here (tones: 1-8.9 kHz)
DOWNLINK_TIMEOUT_S = 10.0  # a translation not in its channel by then is counted missing
LINKS_EVERY_S = 5.0
LINKS_TIMEOUT_S = 10.0
STEP_S = 0.5
SETTLE_S = 5.0  # after the talk: the last segments end, their translations play
DRAIN_S = 60.0  # at most this long for the last posts
START_TIMEOUT_S = 60.0


def build_world(guilds: int, speakers: int) -> World:
    """The fake's default guild and ``guilds - 1`` more, each with ``speakers`` humans
    besides its owner (who starts the run)."""
    world = World.default()
    for k in range(2, guilds + 1):
        add_guild_on_shard(world, f"guild{k}", UNSHARDED)
    for guild in list(world.guilds.values()):
        for k in range(len(humans(guild)), speakers):
            world.add_member(guild, User(world.new_id(), f"{guild.name}-speaker{k + 1}"))
    return world


@dataclass
class Speaker:
    """One talking member: whose, and when each of their phrases began (its mark)."""

    guild_id: int
    member_id: int
    marks: list[float] = field(default_factory=list)


@dataclass
class Talker:
    """A speaker's client: the suite's speech source and the call it sends to."""

    speaker: Speaker
    source: Member
    conn: BotConnection


async def talkers_in(fake: FakeDiscord, guild: Guild, count: int, seed: int) -> list[Talker]:
    """``count`` of the guild's humans, in the bot's call, ready to talk."""
    call = fake.voice_call(voice_channel(guild))
    conn = call.bot
    assert conn is not None
    assert conn.mode is not None
    assert conn.secret_key is not None
    out = []
    for k, member in enumerate(humans(guild)[:count]):
        voice = call.members[member.id]
        # The bench encrypts each member's frames itself, with its davey session.
        assert isinstance(voice.client, DaveyClient), "the load bench's members run davey"
        speech, opus = encoded_speech(seed + k, pause_s=PAUSE_S)
        source = Member(member.id, voice.ssrc, voice.client.session,
                        new_sender(voice.ssrc, conn.mode, conn.secret_key), speech, opus)
        await fake.voice.announce_speaking(conn, voice, 1)
        out.append(Talker(Speaker(guild.id, member.id), source, conn))
    return out


@dataclass
class Feeder:
    """Every member's next datagram every 20 ms until ``until``; then each one finishes
    the phrase it is in."""

    fake: FakeDiscord
    talkers: list[Talker]
    late_max_s: float = 0.0

    async def talk(self, until: float) -> None:
        send = self.fake.voice.send_to_bot
        active = list(self.talkers)
        start = time.monotonic()
        tick = 0
        while active:
            now = time.monotonic()
            self.late_max_s = max(self.late_max_s, now - (start + tick * FRAME_S))
            still = []
            for talker in active:
                datagram, mark = talker.source.next_datagram()
                if datagram is None:
                    if now >= until:
                        continue  # in a pause: done
                else:
                    if mark:
                        talker.speaker.marks.append(time.monotonic())
                    send(talker.conn, datagram)
                still.append(talker)
            active = still
            tick += 1
            await asyncio.sleep(max(0.0, start + tick * FRAME_S - time.monotonic()))


class ChannelTap:
    """The bot's audio in one voice channel as the fake decodes it, taken as it comes and
    kept small (ten minutes of ten channels of PCM would not fit in memory): per 20 ms
    frame its arrival and its spectrum (:func:`~tests.support.signals.frame_spectra`)
    relative to its peak, up to ``KEPT_HZ`` (above every translation tone)."""

    def __init__(self, fake: FakeDiscord, channel: Channel) -> None:
        self._call = fake.voice_call(channel)
        self._ends: list[float] = []  # the last arrival of each chunk
        self._chunks: list[tuple[npt.NDArray[np.float64], npt.NDArray[np.float16]]] = []

    def take(self) -> None:
        frames = []
        for conn in self._call.bot_history:  # a voice reconnect makes a new connection
            frames += conn.recorder.audio.frames
            conn.recorder.audio.frames.clear()
        if not frames:
            return
        frames.sort(key=lambda f: f.arrival)
        arrivals = np.array([f.arrival for f in frames])
        spectra = frame_spectra(np.stack([f.pcm.mean(axis=1) for f in frames]))
        kept = tone_column(SAMPLE_RATE, KEPT_HZ) + 1
        peaks = np.maximum(spectra.max(axis=1, keepdims=True), 1e-9)
        # Relative to each frame's peak (what presence is judged by), so float16 holds it.
        self._chunks.append((arrivals, (spectra[:, :kept] / peaks).astype(np.float16)))
        self._ends.append(float(arrivals[-1]))

    def since(self, after: float) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float16]]:
        """Arrivals and spectra of the frames that arrived at ``after`` or later."""
        chunks = self._chunks[bisect.bisect_left(self._ends, after):]
        if not chunks:
            return np.zeros(0), np.zeros((0, 1), dtype=np.float16)
        arrivals = np.concatenate([a for a, _ in chunks])
        keep = arrivals >= after
        return arrivals[keep], np.concatenate([s for _, s in chunks])[keep]


def tone_onset(arrivals: npt.NDArray[np.float64], spectra: npt.NDArray[np.floating],
               freq_hz: float, after: float) -> float | None:
    """When the first of ``ONSET_FRAMES`` frames in a row holding ``freq_hz`` arrived,
    within ``DOWNLINK_TIMEOUT_S`` from ``after`` (tones come back 80 segments later)."""
    start, end = np.searchsorted(arrivals, [after, after + DOWNLINK_TIMEOUT_S])
    if end - start < ONSET_FRAMES:
        return None
    held = present_frames(spectra[start:end], SAMPLE_RATE, freq_hz).astype(np.int8)
    hits = np.flatnonzero(np.convolve(held, np.ones(ONSET_FRAMES, np.int8), "valid")
                          == ONSET_FRAMES)
    return float(arrivals[start + hits[0]]) if hits.size else None


@dataclass
class Downlinks:
    """The Pinch → Discord leg, measured as the translations play. A translation of a
    session the bot has not named yet waits for the next ``/ops links``."""

    window_start: float
    delays: dict[int, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    missing: collections.Counter[int] = field(default_factory=collections.Counter)
    unattributed: int = 0
    pending: list[tuple[str, int, float]] = field(default_factory=list)

    def waiting_in_named_sessions(self, rooms: dict[str, tuple[int, int]]) -> bool:
        return any(room in rooms for room, _, _ in self.pending)

    def step(self, now: float, events: SimulatorEvents, rooms: dict[str, tuple[int, int]],
             taps: dict[int, ChannelTap], *, final: bool = False) -> None:
        """Take the new audio; resolve what can be (``final``: everything, the talk is over
        and every session was asked about)."""
        self.pending += events.played
        events.played.clear()
        for tap in taps.values():
            tap.take()
        frames = {}
        for guild_id, tap in taps.items():
            starts = [t for room, _, t in self.pending if rooms.get(room, (0,))[0] == guild_id]
            if starts:
                frames[guild_id] = tap.since(min(starts))
        waiting: list[tuple[str, int, float]] = []
        for room, number, started in self.pending:
            where = rooms.get(room)
            if where is None:
                if final:
                    self.unattributed += 1
                else:
                    waiting.append((room, number, started))
                continue
            guild_id = where[0]
            at = tone_onset(*frames[guild_id], translation_frequency(number), started)
            if at is not None:
                if started >= self.window_start:
                    self.delays[guild_id].append(at - started)
            elif final or now - started > DOWNLINK_TIMEOUT_S:
                self.missing[guild_id] += 1
            else:
                waiting.append((room, number, started))
        self.pending = waiting


async def rooms_of(fake: FakeDiscord, guild: Guild) -> dict[str, tuple[int, int]]:
    """Session (room) → (guild id, member id), as the bot tells with ``/ops links``."""
    record = await fake.invoke("ops links", channel=text_channel(guild), within=LINKS_TIMEOUT_S)
    answer = json.loads(record.texts[0]) if record.texts else {}  # none: answered too late
    return {room: (guild.id, int(member)) for member, room in answer.items()}


async def name_rooms(fake: FakeDiscord, guilds: list[Guild],
                     rooms: dict[str, tuple[int, int]]) -> None:
    """Add what every guild's run says now to ``rooms``; an overloaded bot may not answer
    in time, and then the next round will say."""
    answers = await asyncio.gather(*(rooms_of(fake, g) for g in guilds), return_exceptions=True)
    for answer in answers:
        if isinstance(answer, dict):
            rooms.update(answer)


async def keep_naming_rooms(fake: FakeDiscord, guilds: list[Guild],
                            rooms: dict[str, tuple[int, int]]) -> None:
    while True:
        await name_rooms(fake, guilds, rooms)
        await asyncio.sleep(LINKS_EVERY_S)


def uplink_probes(speakers: list[Speaker], rooms: dict[str, tuple[int, int]],
                  heard: dict[str, list[float]], window: tuple[float, float]) -> dict[int, Probes]:
    """Per guild, the Discord → Pinch delays of the marks sent within ``window``: each
    member's marks against the onsets Pinch heard in that member's sessions."""
    probes: dict[int, Probes] = collections.defaultdict(Probes)
    for speaker in speakers:
        guild_probes = probes[speaker.guild_id]
        probe = MemberProbe(guild_probes)
        marks = [t for t in speaker.marks if window[0] <= t <= window[1]]
        probe.marks.extend(marks)
        guild_probes.marks_sent += len(marks)
        onsets = sorted(t for room, (_, member) in rooms.items() if member == speaker.member_id
                        for t in heard.get(room, []) if t >= window[0])
        for onset in onsets:
            probe.sent_loud(onset)
    return probes


@dataclass(frozen=True, slots=True)
class GuildFigures:
    name: str
    uplink_ms: Tails
    downlink_ms: Tails
    spoken: int
    heard: int
    posted: int
    not_in_channel: int


@dataclass(frozen=True, slots=True)
class LoadFigures:
    kind: str
    guilds: list[GuildFigures]
    all_uplink_ms: Tails
    all_downlink_ms: Tails
    rss_idle_mb: float
    rss_start_mb: float
    rss_end_mb: float
    cpu_shares: dict[str, float]
    """Per process, its CPU over the measured talk as a share of one core."""
    bot_counts: str
    measured_s: float
    feeder_late_max_ms: float
    unattributed: int
    heard_unattributed: int


async def measure(kind: str, sim: SimulatorProcess, guilds: int, speakers: int,
                  minutes: float) -> LoadFigures:
    world = build_world(guilds, speakers)
    sim.events.heard.clear()  # the simulator serves every transport in turn
    sim.events.played.clear()
    async with FakeDiscord(world) as fake:
        with tempfile.TemporaryDirectory(prefix="bench-load-") as workdir, \
                bot_processes() as processes:
            bot = BotProcess(fake, Path(workdir), SERVED_BOT_EXTENSIONS=",".join(EXTENSIONS),
                             PINCH_BASE_URL=sim.base_url, PINCH_WS_BASE_URL=sim.base_url,
                             PINCH_TRANSPORT=kind)
            processes.append(bot)
            bot.start()
            await bot.wait_ready(START_TIMEOUT_S)
            rss_idle = bot.rss_mib()
            ordered = list(world.guilds.values())
            talking: list[Talker] = []
            for n, guild in enumerate(ordered):
                for member in humans(guild)[:speakers]:
                    await fake.move_member(member, voice_channel(guild))
                await start_interpreting(fake, guild, within=START_TIMEOUT_S)
                talking += await talkers_in(fake, guild, speakers, seed=1000 + 10 * n)
            print(f"  {kind}: {len(ordered)} runs started; talking ...", flush=True)
            figures = await _talk_and_measure(kind, fake, bot, sim, ordered, talking,
                                              minutes, rss_idle)
            bot.send(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await bot.wait_exit(within=30)
    return figures


async def _talk_and_measure(kind: str, fake: FakeDiscord, bot: BotProcess,
                            sim: SimulatorProcess, guilds: list[Guild], talking: list[Talker],
                            minutes: float, rss_idle: float) -> LoadFigures:
    feeder = Feeder(fake, talking)
    window_start = time.monotonic() + WARMUP_S
    window_end = window_start + minutes * 60
    talk = asyncio.create_task(feeder.talk(window_end), name="bench-talk")
    taps = {g.id: ChannelTap(fake, voice_channel(g)) for g in guilds}
    downlinks = Downlinks(window_start)
    rooms: dict[str, tuple[int, int]] = {}
    rss_start = rss_end = float("nan")
    cpu_start: dict[str, float] = {}
    cpu_end: dict[str, float] = {}
    naming = asyncio.create_task(keep_naming_rooms(fake, guilds, rooms), name="bench-rooms")
    talk_ended: float | None = None

    def drained(now: float) -> bool:
        if talk_ended is None or now < talk_ended + SETTLE_S:
            return False
        if now > talk_ended + DRAIN_S:
            return True
        return not downlinks.waiting_in_named_sessions(rooms) and all(
            translations_posted(thread_posts(fake, g)) >= heard_in(g, rooms, sim.events)
            for g in guilds)

    while not drained(now := time.monotonic()):
        if now >= window_start and np.isnan(rss_start):
            rss_start, cpu_start = bot.rss_mib(), cpu_now(bot, sim)
            print(f"  {kind}: measuring for {minutes:g} min ...", flush=True)
        if talk_ended is None and talk.done():
            await talk
            talk_ended = time.monotonic()
            rss_end, cpu_end = bot.rss_mib(), cpu_now(bot, sim)
            print(f"  {kind}: talk over; waiting for the last posts ...", flush=True)
        downlinks.step(now, sim.events, rooms, taps)
        await asyncio.sleep(STEP_S)
    assert talk_ended is not None
    naming.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await naming
    await name_rooms(fake, guilds, rooms)  # sessions opened late (a replaced link)
    downlinks.step(time.monotonic(), sim.events, rooms, taps, final=True)
    counts = await bot_counts(bot)
    speakers = [t.speaker for t in talking]
    ups = uplink_probes(speakers, rooms, sim.events.heard, (window_start, window_end))
    per_guild = []
    for guild in guilds:
        probes = ups[guild.id]
        per_guild.append(GuildFigures(
            guild.name, tails(x * 1000 for x in probes.uplink),
            tails(x * 1000 for x in downlinks.delays[guild.id]),
            spoken=sum(len(s.marks) for s in speakers if s.guild_id == guild.id),
            heard=heard_in(guild, rooms, sim.events),
            posted=translations_posted(thread_posts(fake, guild)),
            not_in_channel=downlinks.missing[guild.id]))
    measured = talk_ended - window_start
    return LoadFigures(
        kind, per_guild,
        all_uplink_ms=tails(x * 1000 for p in ups.values() for x in p.uplink),
        all_downlink_ms=tails(x * 1000 for d in downlinks.delays.values() for x in d),
        rss_idle_mb=rss_idle, rss_start_mb=rss_start, rss_end_mb=rss_end,
        cpu_shares={k: (cpu_end[k] - cpu_start[k]) / measured for k in cpu_end},
        bot_counts=counts,
        measured_s=measured, feeder_late_max_ms=feeder.late_max_s * 1000,
        unattributed=downlinks.unattributed,
        heard_unattributed=sum(len(onsets) for room, onsets in sim.events.heard.items()
                               if room not in rooms))


def cpu_now(bot: BotProcess, sim: SimulatorProcess) -> dict[str, float]:
    """CPU seconds so far of each process of the benchmark (livekit-server aside)."""
    return {"bot": bot.cpu_seconds(), "Pinch simulator": cpu_seconds_of(sim.pid),
            "fake Discord and speakers": cpu_seconds()}


async def bot_counts(bot: BotProcess) -> str:
    """What the bot's ``/metrics`` count: audio frames by stage, drops by stage and reason,
    links by state (the way to tell where speech went missing); "—" if it cannot answer."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        _status, body = await bot.get("/metrics")
    except (aiohttp.ClientError, TimeoutError):
        return "—"
    frames: dict[str, int] = {}
    drops: collections.Counter[str] = collections.Counter()
    links: dict[str, int] = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == "interpret_audio_frames_total":
                frames[sample.labels["stage"]] = int(sample.value)
            elif sample.name == "interpret_dropped_frames_total":
                if sample.value:
                    drops[f"{sample.labels['stage']}/{sample.labels['reason']}"] += int(
                        sample.value)
            elif sample.name == "interpret_links" and sample.value:
                links[sample.labels["state"]] = int(sample.value)

    def listed(counts: Mapping[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"

    return (f"audio frames {listed(frames)}; dropped {listed(drops)}; "
            f"links {listed(links)}")


def heard_in(guild: Guild, rooms: dict[str, tuple[int, int]], events: SimulatorEvents) -> int:
    """Segments Pinch heard in the guild's sessions."""
    return sum(len(onsets) for room, onsets in events.heard.items()
               if rooms.get(room, (0,))[0] == guild.id)


# -- the report ----------------------------------------------------------------------------


def pair(t: Tails) -> str:
    return "—" if not t.count else f"{t.p50:.0f} / {t.p95:.0f} ms (n={t.count})"


def print_figures(f: LoadFigures, speakers: int) -> None:
    rows = [[g.name, pair(g.uplink_ms), pair(g.downlink_ms), str(g.spoken), str(g.heard),
             str(g.posted), str(g.not_in_channel)] for g in f.guilds]
    rows.append([f"all {len(f.guilds)}", pair(f.all_uplink_ms), pair(f.all_downlink_ms),
                 str(sum(g.spoken for g in f.guilds)), str(sum(g.heard for g in f.guilds)),
                 str(sum(g.posted for g in f.guilds)),
                 str(sum(g.not_in_channel for g in f.guilds))])
    print(f"\n#### {f.kind}: {len(f.guilds)} guilds x {speakers} speaking, "
          f"{f.measured_s / 60:.1f} min measured\n")
    print(markdown_table(["Guild", "Discord→Pinch p50 / p95", "Pinch→Discord p50 / p95",
                          "Phrases spoken", "Segments heard by Pinch", "Translations posted",
                          "Translations not heard in the channel"], rows))
    cpu = ", ".join(f"{name} {share:.0%}" for name, share in f.cpu_shares.items())
    print(f"\nBot process: RSS {f.rss_idle_mb:.0f} MB before the runs, {f.rss_start_mb:.0f} MB "
          f"at the start of the measured talk, {f.rss_end_mb:.0f} MB at its end "
          f"({growth_percent(f.rss_start_mb, f.rss_end_mb):+.1f} %). CPU over the measured "
          f"talk, share of one core: {cpu}. The bot's counts at the end: {f.bot_counts}. "
          f"Speech sent late by at most {f.feeder_late_max_ms:.0f} ms. Sessions the bot never "
          f"named (so in no guild's row): {f.heard_unattributed} segments heard, "
          f"{f.unattributed} translations played.")


async def run(guilds: int, speakers: int, minutes: float, transports: list[str]) -> None:
    server = LiveKitServer(binary=find_binary())
    server.start()
    try:
        async with SimulatorProcess(server) as sim:
            results = [await measure(kind, sim, guilds, speakers, minutes)
                       for kind in transports]
    finally:
        server.cleanup()
    for figures in results:
        print_figures(figures, speakers)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guilds", type=int, default=10)
    parser.add_argument("--speakers", type=int, default=3, help="speaking members per guild")
    parser.add_argument("--minutes", type=float, default=10.0, help="measured talk")
    parser.add_argument("--transports", default=",".join(TRANSPORTS))
    args = parser.parse_args(argv)
    transports = args.transports.split(",")
    unknown = set(transports) - set(TRANSPORTS)
    if unknown:
        parser.error(f"unknown transport(s) {sorted(unknown)}; use {', '.join(TRANSPORTS)}")
    start = time.monotonic()
    print(f"machine: {machine()}", flush=True)
    asyncio.run(run(args.guilds, args.speakers, args.minutes, transports))
    print(f"\nwall time {time.monotonic() - start:.0f} s")


if __name__ == "__main__":
    main()
    end_process(0)  # see bot.process_exit: LiveKit's threads outlive the loop
