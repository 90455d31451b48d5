"""Engine figures read at scrape time: a Prometheus collector over the running runs.

The engine keeps its own counters (``LinkStats``, ``ReceiveStats``, the router's
``dropped`` counter, ``PlaybackMixer.stats()``); nothing in it knows Prometheus.
:class:`EngineCollector` walks the live objects when scraped — runs from the
session manager, each run's router and links, the guild's voice client (receiver)
and the audio source it plays (the playback mixer) — and turns their counters into
metric families.

Counters must never go down, but links close when idle and runs end. The
:class:`CounterLedger` therefore keeps a reference to every counter source it has
seen; when a source is no longer among the live ones it is read one last time and
its final values are added to a retired total, then released. Sources are observed
at every scrape and at every run/link status change (:meth:`EngineCollector.observe`,
called by the bot), so even a link that lives between two scrapes is counted.

Drop reasons keep their fine name (``reason``) and the issue's category (``kind``):
decrypt, dave, jitter, queue, gate, plus parse, attribution, decode, excluded, cap.
Everything here runs on the event loop; reading counters another thread writes is a
plain attribute read (each has one writer).
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Final

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from bot.interpretation.behind import CAUSES
from bot.interpretation.link import InterpreterLink, LinkState
from bot.interpretation.run import ChannelInterpretation
from bot.voice.client import ReceivingVoiceClient
from bot.voice.events import ReceiveStats
from bot.voice.playback import PlaybackMixer
from bot.voice.rtp import DropReason

# A sample: (family, label values) → value.
Key = tuple[str, tuple[str, ...]]

FRAMES: Final = "frames"
DROPS: Final = "drops"
UNDERRUNS: Final = "underruns"
OVERRUN_MS: Final = "overrun_ms"
BEHIND_MS: Final = "behind_ms"

#: The issue's drop categories for the receive layer's reasons.
RECEIVE_DROP_KIND: Final[Mapping[DropReason, str]] = {
    DropReason.TOO_SHORT: "parse", DropReason.NOT_RTP: "parse", DropReason.RTCP: "parse",
    DropReason.PAYLOAD_TYPE: "parse", DropReason.TRUNCATED: "parse",
    DropReason.BAD_PADDING: "parse", DropReason.EMPTY: "parse",
    DropReason.NO_KEY: "decrypt", DropReason.TRANSPORT_AUTH: "decrypt",
    DropReason.DAVE_NO_DECRYPTOR: "dave", DropReason.DAVE_NO_CRYPTOR: "dave",
    DropReason.DAVE_UNENCRYPTED: "dave", DropReason.DAVE_OTHER: "dave",
    DropReason.LATE: "jitter", DropReason.DUPLICATE: "jitter",
    DropReason.QUEUE_FULL: "queue", DropReason.OUTPUT_FULL: "queue",
    DropReason.NOT_RUNNING: "queue",
    DropReason.UNKNOWN_SSRC: "attribution",
    DropReason.OPUS_ERROR: "decode",
}
#: The router's reasons (``SpeakerRouter.dropped``).
ROUTER_DROP_KIND: Final[Mapping[str, str]] = {
    "silence": "gate", "excluded": "excluded", "link_cap": "cap", "mix_overrun": "queue",
}


class CounterLedger:
    """Monotonic totals over counter sources that come and go (see module docstring)."""

    def __init__(self) -> None:
        self._live: dict[int, tuple[object, Callable[[], Mapping[Key, float]]]] = {}
        self._retired: collections.Counter[Key] = collections.Counter()

    def observe(self, sources: Iterable[tuple[object, Callable[[], Mapping[Key, float]]]]
                ) -> None:
        """``sources``: every live ``(object, reader)``; the rest are retired."""
        # Holding the object keeps its id unique for as long as it is in _live.
        current = {id(obj): (obj, read) for obj, read in sources}
        for key in [k for k in self._live if k not in current]:
            _obj, read = self._live.pop(key)
            self._retired.update(read())
        for key, entry in current.items():
            self._live.setdefault(key, entry)

    def totals(self) -> collections.Counter[Key]:
        total = collections.Counter(self._retired)
        for _obj, read in self._live.values():
            total.update(read())
        return total

    @property
    def tracked(self) -> int:
        return len(self._live)


# -- readers: one per engine object, each a pure function of its public counters ------

def read_link(link: InterpreterLink) -> dict[Key, float]:
    stats = link.stats
    return {
        (FRAMES, ("to_pinch",)): stats.frames_published,
        (FRAMES, ("from_pinch",)): stats.playback_frames,
        (DROPS, ("uplink", "queue", "uplink_full")): link.uplink_stats.dropped_frames,
        **{(BEHIND_MS, (cause,)): ms for cause, ms in link.stats.behind.dropped_ms.items()},
    }


def read_receiver(stats: ReceiveStats) -> dict[Key, float]:
    out: dict[Key, float] = {(FRAMES, ("from_discord",)): stats.frames_decoded}
    for reason, count in stats.drop_counts().items():
        out[(DROPS, ("receive", RECEIVE_DROP_KIND.get(reason, "other"), reason.value))] = count
    return out


def read_router_drops(dropped: Mapping[str, int]) -> dict[Key, float]:
    return {(DROPS, ("router", ROUTER_DROP_KIND.get(reason, "other"), reason)): count
            for reason, count in list(dropped.items())}


def read_mixer(mixer: PlaybackMixer) -> dict[Key, float]:
    stats = mixer.stats()
    return {
        (FRAMES, ("to_discord",)): stats.frames_out,
        (UNDERRUNS, ()): stats.underruns,
        (OVERRUN_MS, ()): stats.overrun_dropped_ms,
    }


RunsView = Callable[[], Mapping[int, ChannelInterpretation]]
"""guild id → running interpretation (``SessionManager.runs``)."""
VoiceView = Callable[[int], object | None]
"""guild id → the guild's voice client (``guild.voice_client``)."""
SessionSeconds = Callable[[], float]
"""Seconds of live Pinch session so far, every guild's (see :mod:`.sessions`)."""


def links_of(run: ChannelInterpretation) -> list[InterpreterLink]:
    router = run.router
    if router is None:
        return []
    found = []
    for entry in router.links.values():
        # The router holds the run's wrapper around each InterpreterLink.
        link = entry if isinstance(entry, InterpreterLink) else getattr(entry, "link", None)
        if isinstance(link, InterpreterLink):
            found.append(link)
    return found


class EngineCollector:
    """A ``prometheus_client`` collector: register it on the bot's registry."""

    def __init__(self, runs: RunsView, voice_of: VoiceView,
                 session_seconds: SessionSeconds) -> None:
        self._runs = runs
        self._voice_of = voice_of
        self._session_seconds = session_seconds
        self.ledger = CounterLedger()

    def _sources(self) -> Iterator[tuple[object, Callable[[], Mapping[Key, float]]]]:
        for guild_id, run in self._runs().items():
            router = run.router
            if router is not None:
                yield router, functools.partial(read_router_drops, router.dropped)
            for link in links_of(run):
                yield link, functools.partial(read_link, link)
            voice = self._voice_of(guild_id)
            if isinstance(voice, ReceivingVoiceClient):
                stats = voice.receiver.stats
                yield stats, functools.partial(read_receiver, stats)
                mixer = voice.source
                if isinstance(mixer, PlaybackMixer):
                    yield mixer, functools.partial(read_mixer, mixer)

    def observe(self) -> None:
        """Note the live sources now (also called on every status change)."""
        self.ledger.observe(self._sources())

    def collect(self) -> Iterator[Metric]:
        self.observe()
        runs = self._runs()
        links = [link for run in runs.values() for link in links_of(run)]
        yield GaugeMetricFamily("interpret_active_runs",
                                "Voice channels being interpreted now.", value=len(runs))
        yield GaugeMetricFamily(
            "interpret_pinch_sessions_live", "Pinch sessions whose room is joined now.",
            value=sum(link.state is LinkState.ACTIVE for link in links))
        by_state = GaugeMetricFamily("interpret_links", "Interpreter links by state.",
                                     labels=["state"])
        counts = collections.Counter(link.state.value for link in links)
        for state in LinkState:
            by_state.add_metric([state.value], counts.get(state.value, 0))
        yield by_state

        yield CounterMetricFamily(
            "interpret_pinch_session_seconds",
            "Seconds of live Pinch session (what Pinch bills; /60 for minutes).",
            value=self._session_seconds())

        totals = self.ledger.totals()
        frames = CounterMetricFamily(
            "interpret_audio_frames", "20 ms audio frames by stage: from_discord (decoded), "
            "to_pinch (published), from_pinch (translated, received), to_discord (played).",
            labels=["stage"])
        for stage in ("from_discord", "to_pinch", "from_pinch", "to_discord"):
            frames.add_metric([stage], totals.get((FRAMES, (stage,)), 0))
        yield frames
        drops = CounterMetricFamily(
            "interpret_dropped_frames", "Packets or frames dropped, by stage, kind and reason.",
            labels=["stage", "kind", "reason"])
        for (family, labels), value in sorted(totals.items()):
            if family == DROPS:
                drops.add_metric(list(labels), value)
        yield drops
        yield CounterMetricFamily(
            "interpret_playback_underruns",
            "Playback frames in which a talking translation ran dry.",
            value=totals.get((UNDERRUNS, ()), 0))
        behind = CounterMetricFamily(
            "interpret_behind_dropped_seconds",
            "Audio a live link dropped to keep its delay within its bound, by cause: "
            "uplink_pause_shortened, uplink_speech_dropped, downlink_dropped.",
            labels=["cause"])
        for cause in CAUSES:
            behind.add_metric([cause], totals.get((BEHIND_MS, (cause,)), 0) / 1000)
        yield behind
        yield CounterMetricFamily(
            "interpret_playback_overrun_dropped_seconds",
            "Translated audio dropped because the playback buffer was full.",
            value=totals.get((OVERRUN_MS, ()), 0) / 1000)
