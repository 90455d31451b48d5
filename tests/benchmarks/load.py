"""K members speaking through the whole bot, both directions, over one transport.

A rig is the bot's audio path as a run wires it, with only Discord's sockets replaced:
a feeder thread plays discord.py's socket reader, handing every member's datagram
(speech Opus-encoded as a client does, DAVE- and transport-encrypted beforehand) to a
real ``VoiceReceiver`` at real-time pace; a pump passes its frames to a real
``SpeakerRouter`` (as ``InterpretationRun._pump_frames`` does), whose links talk to
the Pinch simulator (its own process) over the chosen transport; translated audio
goes into a real ``PlaybackMixer`` read every 20 ms by a player thread that Opus-
encodes the mix as discord.py's player does (once per guild, while not idle).

Marked audio, bot-added delay only:

- Discord → Pinch: the first packet of each phrase is a mark; its delay ends when the
  transport accepts (``send`` returns) the first loud frame of that member after at
  least ``ONSET_GAP_S`` without one. Includes the receive layer, the router's gate,
  resampling and the uplink queue. Marks not matched within ``MARK_TIMEOUT_S`` are
  counted as lost.
- Pinch → Discord: the first loud translated frame of each segment (after at least
  ``ONSET_GAP_S`` without one) is marked by its position in its playback input; its
  delay ends at the first ``read()`` that has consumed that position (prebuffer,
  queueing behind earlier audio, the 20 ms player clock).

Idle: CPU per open link while nobody speaks and nothing plays, first awake (3 s after
the talk), then, on LiveKit, once every link rests (``LinkConfig.rest_after_s`` of
quiet); then one more phrase per member measures the Discord → Pinch delay of the
first phrase after a rest (the microphone is published again before it is sent).

CPU is ``getrusage`` of the whole process (every thread, native ones included) and
``/proc/self/task`` per thread name; Python 3.11 does not name OS threads, so every
Python thread (event loop, decoding thread, feeder, player) shows as ``python``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import os
import re
import resource
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import discord.opus
import numpy as np

from bot.interpretation.link import InterpreterLink, LinkConfig
from bot.interpretation.livekit_transport import LiveKitTransport
from bot.interpretation.router import RouterConfig, SpeakerRouter
from bot.interpretation.transport import Connection, Transport
from bot.interpretation.websocket_transport import WebSocketTransport
from bot.pinch import PinchClient
from bot.pinch.options import SessionOptions
from bot.pinch.realtime import PinchRealtimeClient
from bot.secrets import Secret
from bot.voice.events import PcmFrame
from bot.voice.playback import PlaybackInput, PlaybackMixer
from bot.voice.receiver import VoiceReceiver
from tests.benchmarks.report import Tails, tails
from tests.benchmarks.speech import Member, encoded_speech, schedule, streamed
from tests.fakes.dave import LocalDaveGroup
from tests.support.voice_packets import XCHACHA, RtpSender

API_TOKEN = "bench-pinch-token-0123456789"
TRANSPORTS = ("livekit", "websocket")
BOT_ID = 1_000_000_000_000_000_001
KEY = bytes(range(32))
LOUD_RMS = 1000.0
ONSET_GAP_S = 0.35
MARK_TIMEOUT_S = 5.0
SAMPLES_PER_MS = 96  # 48 kHz stereo
WAKE_TALK_S = 2.0
REST_MARGIN_S = 5.0
REST_SETTLE_S = 1.0


def loud(pcm: bytes) -> bool:
    # One dot product: the probes run on every frame and their cost counts as the bot's.
    x = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
    return bool(x.size) and float(np.dot(x, x)) > LOUD_RMS * LOUD_RMS * x.size


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_by_thread() -> dict[str, float]:
    """CPU seconds per thread name, numbered workers grouped (``tokio-rt-1`` → ``tokio-rt``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended meanwhile
        name = re.sub(r"[-_:]?\d+$", "", name)
        totals[name] = totals.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return totals


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass(slots=True)
class Probes:
    """Delay samples (seconds) of both legs, resettable between phases."""

    uplink: list[float] = field(default_factory=list)
    downlink: list[float] = field(default_factory=list)
    marks_sent: int = 0
    marks_lost: int = 0
    onsets_unmatched: int = 0
    feeder_late_max_s: float = 0.0

    def reset(self) -> None:
        self.uplink.clear()
        self.downlink.clear()
        self.marks_sent = self.marks_lost = self.onsets_unmatched = 0
        self.feeder_late_max_s = 0.0


class _MarkedConnection:
    """Delegates to the transport's connection; times marked frames in ``send``."""

    def __init__(self, inner: Connection, member: MemberProbe) -> None:
        self._inner = inner
        self._member = member

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def send(self, frame: bytes) -> None:
        await self._inner.send(frame)
        if loud(frame):
            self._member.sent_loud(time.monotonic())


class _MarkedTransport:
    """One per link: the shared transport, whose connections are marked for a member."""

    def __init__(self, inner: Transport[Any], member: MemberProbe) -> None:
        self._inner = inner
        self._member = member

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def connection(self, *args: Any, **kwargs: Any) -> Connection:
        return _MarkedConnection(self._inner.connection(*args, **kwargs),  # type: ignore[return-value]
                                 self._member)


class MemberProbe:
    """One member's marks and the delays they end in, recorded into ``probes``.

    ``marks`` holds when each phrase's first packet was sent, oldest first;
    :meth:`sent_loud` is where the member's voice is next heard loud (here the link's
    transport; for ``scripts/bench load``, the Pinch simulator hearing a segment's
    onset): after ``ONSET_GAP_S`` of quiet it ends the oldest mark's delay."""

    def __init__(self, probes: Probes) -> None:
        self._probes = probes
        self.marks: collections.deque[float] = collections.deque()  # feeder thread appends
        self._last_loud = self._last_heard = -1e9
        self.pushed: collections.deque[tuple[float, float]] = collections.deque()
        self.input: PlaybackInput | None = None

    def sent_loud(self, now: float) -> None:
        onset = now - self._last_loud >= ONSET_GAP_S
        self._last_loud = now
        if not onset:
            return
        while self.marks and self.marks[0] < now - MARK_TIMEOUT_S:
            self.marks.popleft()
            self._probes.marks_lost += 1
        if self.marks and self.marks[0] <= now:
            self._probes.uplink.append(now - self.marks.popleft())
        else:
            self._probes.onsets_unmatched += 1

    def heard(self, pcm: bytes) -> None:
        """Translated audio for this member: push it; mark a segment's first loud frame
        (after ``ONSET_GAP_S`` without one) by its position in the playback input.

        Only onsets: a transport may deliver a segment faster than real time, and the
        frames behind its first wait for their turn to play, not for the bot."""
        assert self.input is not None
        self.input.push(pcm)
        if loud(pcm):
            now = time.monotonic()
            if now - self._last_heard >= ONSET_GAP_S:
                s = self.input.stats()
                self.pushed.append((s.pushed_ms - s.trimmed_ms, now))
            self._last_heard = now

    def played(self, now: float) -> None:
        """After a ``read()``: every marked position consumed is heard now."""
        if self.input is None or not self.pushed:
            return
        s = self.input.stats()
        consumed = s.played_ms + s.overrun_dropped_ms + 1 / SAMPLES_PER_MS
        while self.pushed and self.pushed[0][0] <= consumed:
            self._probes.downlink.append(now - self.pushed.popleft()[1])


class PlayerClock:
    """discord.py's player: reads the mixer every 20 ms, encodes the mix while not idle."""

    def __init__(self, mixer: PlaybackMixer, members: list[MemberProbe]) -> None:
        self._mixer = mixer
        self._members = members
        self._encoder = discord.opus.Encoder()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-player", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)

    def _run(self) -> None:
        next_at = time.perf_counter()
        while not self._stop.is_set():
            if not self._mixer.is_idle():
                frame = self._mixer.read()
                now = time.monotonic()
                for member in self._members:
                    member.played(now)
                self._encoder.encode(frame, 960)
            next_at += 0.02
            time.sleep(max(0.0, next_at - time.perf_counter()))


@contextlib.asynccontextmanager
async def _transport(kind: str, base_url: str) -> AsyncIterator[Transport[Any]]:
    if kind == "livekit":
        async with PinchClient(base_url, Secret(API_TOKEN)) as client:
            yield LiveKitTransport(client)
        return
    transport = WebSocketTransport(PinchRealtimeClient(base_url, Secret(API_TOKEN)))
    try:
        yield transport
    finally:
        await transport.aclose()


class Rig:
    """The bot's audio path for ``speakers`` members over transport ``kind``."""

    def __init__(self, kind: str, base_url: str, speakers: int) -> None:
        self.kind = kind
        self.base_url = base_url
        self.speakers = speakers
        self.probes = Probes()
        self.links: list[InterpreterLink] = []
        group = LocalDaveGroup()
        self._bot_dave = group.add_member(BOT_ID)
        self.members: list[Member] = []
        for k in range(speakers):
            user_id = BOT_ID + 1 + k
            speech, opus = encoded_speech(seed=1000 + k)
            self.members.append(Member(user_id, 5000 + k, group.add_member(user_id),
                                       RtpSender(5000 + k, XCHACHA, KEY, sequence=k * 997),
                                       speech, opus))
        self._member_probes = [MemberProbe(self.probes) for _ in range(speakers)]
        self._stack = contextlib.AsyncExitStack()

    def build(self, seconds: float) -> list[list[tuple[int, bytes, bool]]]:
        """Datagrams for ``seconds`` of talk, built now so the run does not pay for them."""
        return schedule(self.members, round(seconds / 0.02))

    async def __aenter__(self) -> Rig:
        stack = self._stack
        transport = await stack.enter_async_context(_transport(self.kind, self.base_url))
        self.mixer = PlaybackMixer()
        stack.callback(self.mixer.close)
        self.receiver = await stack.enter_async_context(
            VoiceReceiver(dave=lambda: self._bot_dave, self_user_id=BOT_ID))
        self.receiver.set_transport(XCHACHA, KEY)
        by_member = {}
        for member, probe in zip(self.members, self._member_probes, strict=True):
            self.receiver.bind(member.ssrc, member.user_id)
            by_member[member.user_id] = probe

        def make_link(member_id: int) -> InterpreterLink:
            probe = by_member[member_id]
            # A name per link: the router replaces a link that failed (under overload a
            # start can time out), and the replacement needs an input of its own.
            probe.input = self.mixer.open_input(f"member-{member_id}-{len(self.links)}")
            link = InterpreterLink(f"member-{member_id}", _MarkedTransport(transport, probe),  # type: ignore[arg-type]
                                   SessionOptions("en-US", "es-ES", "female"),
                                   on_transcript=lambda event, utterance: None,
                                   on_audio=probe.heard, on_audio_paused=probe.input.pause,
                                   config=LinkConfig())
            self.links.append(link)
            return link

        self.router = SpeakerRouter(RouterConfig(max_links=max(1, self.speakers)), make_link,
                                    is_excluded=lambda member: False)
        await self.router.start()
        stack.push_async_callback(self.router.aclose)
        self.clock = PlayerClock(self.mixer, self._member_probes)
        self.clock.start()
        stack.callback(self.clock.stop)
        pump = asyncio.get_running_loop().create_task(self._pump(), name="bench-pump")

        async def stop_pump() -> None:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump

        stack.push_async_callback(stop_pump)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def _pump(self) -> None:
        router = self.router
        async for item in self.receiver:
            if isinstance(item, PcmFrame):
                router.on_frame(item.member_id, item.pcm)
            elif not item.speaking:
                router.on_speech_end(item.member_id)

    async def talk(self, rows: list[list[tuple[int, bytes, bool]]] | None,
                   seconds: float) -> None:
        """Feed ``rows`` (or freshly built datagrams) for ``seconds`` at real-time pace."""
        source: Iterator[list[tuple[int, bytes, bool]]] = (
            iter(rows) if rows is not None else streamed(self.members))
        await asyncio.to_thread(self._feed, source, round(seconds / 0.02))

    def _feed(self, source: Iterator[list[tuple[int, bytes, bool]]], ticks: int) -> None:
        feed = self.receiver.feed
        probes = self._member_probes
        start = time.perf_counter()
        for tick in range(ticks):
            row = next(source, None)
            if row is None:
                return
            for index, datagram, mark in row:
                if mark:
                    probes[index].marks.append(time.monotonic())
                    self.probes.marks_sent += 1
                feed(datagram)
            late = time.perf_counter() - (start + tick * 0.02)
            self.probes.feeder_late_max_s = max(self.probes.feeder_late_max_s, late)
            time.sleep(max(0.0, start + (tick + 1) * 0.02 - time.perf_counter()))

    def link_hop(self) -> Tails:
        """LinkStats' uplink latency (push_frame → accepted), every frame of every link."""
        samples: list[float] = []
        for link in self.links:
            window = link.stats.uplink_latency
            samples += [x * 1000 for x in window._samples]
        return tails(samples)


@dataclass(frozen=True, slots=True)
class LoadFigures:
    kind: str
    speakers: int
    cpu_ms_per_speaker: float  # per 20 ms, whole process
    core_share: float  # process CPU / wall
    python_share: float
    by_thread: list[tuple[str, float]]  # name, share of the process's CPU
    idle_ms_per_link: float  # awake: 3 s after the talk
    rested_idle_ms_per_link: float  # once every link rests (LiveKit); nan if none did
    rss_mb_per_speaker: float
    uplink_ms: Tails
    downlink_ms: Tails
    link_hop_ms: Tails
    marks_sent: int
    marks_lost: int
    onsets_unmatched: int
    feeder_late_max_ms: float
    wake_uplink_ms: Tails  # Discord→Pinch delay of the first phrase after the rest


async def measure(kind: str, base_url: str, speakers: int, seconds: float, *,
                  warmup: float = 3.0, idle_seconds: float = 4.0) -> LoadFigures:
    """Warm up (sessions open), then ``seconds`` of steady talk measured, then idle."""
    rig = Rig(kind, base_url, speakers)
    warm_rows = rig.build(warmup)
    rows = rig.build(seconds)
    wake_rows = rig.build(WAKE_TALK_S)
    rss0 = rss_mb()
    async with rig:
        await rig.talk(warm_rows, warmup)
        # Speech queued while the sessions opened drains at real-time pace only:
        # a pause (nobody sends) lets it go before the steady state is measured.
        await asyncio.sleep(warmup)
        rig.probes.reset()
        for link in rig.links:
            link.stats.uplink_latency._samples.clear()
        cpu0, wall0, threads0 = cpu_seconds(), time.perf_counter(), cpu_by_thread()
        await rig.talk(rows, seconds)
        cpu, wall, threads1 = cpu_seconds() - cpu0, time.perf_counter() - wall0, cpu_by_thread()
        rss1 = rss_mb()
        probes = dataclasses.replace(rig.probes, uplink=list(rig.probes.uplink),
                                     downlink=list(rig.probes.downlink))
        link_hop = rig.link_hop()
        await asyncio.sleep(3.0)  # the last translations play out
        rig.clock.stop()  # nothing plays: discord.py's player is paused
        idle_ms = await _idle_ms_per_link(rig, idle_seconds)
        rested_ms, wake_ms = float("nan"), tails([])
        if await _all_rest(rig):
            rested_ms = await _idle_ms_per_link(rig, idle_seconds)
            rig.probes.reset()
            await rig.talk(wake_rows, WAKE_TALK_S)
            await asyncio.sleep(1.0)  # the last marks reach the transport
            wake_ms = tails(x * 1000 for x in rig.probes.uplink)
    spent = {k: threads1[k] - threads0.get(k, 0.0) for k in threads1}
    by_thread = sorted(((k, v / cpu) for k, v in spent.items() if v > 0), key=lambda kv: -kv[1])
    ticks = wall / 0.02
    return LoadFigures(
        kind=kind, speakers=speakers,
        cpu_ms_per_speaker=cpu / ticks / speakers * 1000,
        core_share=cpu / wall,
        python_share=spent.get("python", 0.0) / cpu if cpu else float("nan"),
        by_thread=by_thread,
        idle_ms_per_link=idle_ms,
        rested_idle_ms_per_link=rested_ms,
        rss_mb_per_speaker=(rss1 - rss0) / speakers,
        uplink_ms=tails(x * 1000 for x in probes.uplink),
        downlink_ms=tails(x * 1000 for x in probes.downlink),
        link_hop_ms=link_hop,
        marks_sent=probes.marks_sent,
        marks_lost=probes.marks_lost,
        onsets_unmatched=probes.onsets_unmatched,
        feeder_late_max_ms=probes.feeder_late_max_s * 1000,
        wake_uplink_ms=wake_ms,
    )


async def _idle_ms_per_link(rig: Rig, seconds: float) -> float:
    """Process CPU per open link per 20 ms over ``seconds`` in which nobody speaks."""
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    await asyncio.sleep(seconds)
    cpu, wall = cpu_seconds() - cpu0, time.perf_counter() - wall0
    return cpu / (wall / 0.02) / max(1, len(rig.router.links)) * 1000


async def _all_rest(rig: Rig) -> bool:
    """Wait until every link's connection rests (LiveKit); False if the transport has
    no rest or they did not within the rest time and a margin."""
    def connections() -> list[Any]:
        return [link._connection for link in rig.links if link._connection is not None]

    if not any(hasattr(c, "resting") for c in connections()):
        return False
    deadline = time.monotonic() + LinkConfig().rest_after_s + REST_MARGIN_S
    while time.monotonic() < deadline:
        if all(getattr(c, "resting", False) for c in connections()):
            await asyncio.sleep(REST_SETTLE_S)  # unpublishing and unsubscribing complete
            return True
        await asyncio.sleep(0.2)
    return False
