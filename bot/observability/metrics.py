"""The bot's Prometheus registry and every metric it exports.

One :class:`BotMetrics` per bot, with its own :class:`CollectorRegistry` (never
the global one, so several bots in one test process do not collide). Three kinds
of sources feed it:

- scrape time: :class:`~bot.observability.engine.EngineCollector` (runs, sessions,
  frames, drops, playback), the gateway collector below (per shard: connected,
  latency, guilds) and the transcript losses collector (segments not stored or
  waiting for the database, posts undeliverable, transcripts unrouted: the
  transcript service's own counters);
- bot events: run and link statuses (:class:`~.sessions.StatusMetrics`), transcripts
  from Pinch, gateway reconnects;
- call sites outside the engine: Pinch API calls (:mod:`.pinch_calls`) and transcript
  posts, which the transcript writer reports with :meth:`BotMetrics.transcript_posted`.

Names follow Prometheus conventions: ``interpret_`` prefix, base units (seconds),
``_total`` on counters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from bot.interpretation.events import AttributedTranscript, RunStatus
from bot.observability.engine import EngineCollector, RunsView, VoiceView
from bot.observability.health import ShardState
from bot.observability.pinch_calls import OUTCOMES
from bot.observability.sessions import GuildOf, StatusMetrics
from bot.transcripts.service import TranscriptTotals

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: Transcript post latency buckets: Discord REST is ~100 ms, rate limits add seconds.
POST_LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


class _GatewayCollector:
    def __init__(self, shards: Callable[[], list[ShardState]]) -> None:
        self._shards = shards

    def collect(self) -> Iterator[Metric]:
        shards = self._shards()
        connected = GaugeMetricFamily("interpret_gateway_connected",
                                      "1 while the shard's gateway connection is open.",
                                      labels=["shard"])
        latency = GaugeMetricFamily("interpret_gateway_latency_seconds",
                                    "Heartbeat round trip of the shard.", labels=["shard"])
        guilds = GaugeMetricFamily("interpret_guilds", "Guilds served by the shard.",
                                   labels=["shard"])
        for shard in shards:
            label = [str(shard.shard_id)]
            connected.add_metric(label, 1 if shard.connected else 0)
            if shard.latency_s is not None:
                latency.add_metric(label, shard.latency_s)
            guilds.add_metric(label, shard.guilds)
        yield from (connected, latency, guilds)


class _TranscriptLossCollector:
    """What transcripts lost, read from the transcript service when scraped. The last
    figures read are kept once the service is gone (closed), so counters never drop."""

    def __init__(self, totals: Callable[[], TranscriptTotals | None]) -> None:
        self._totals = totals
        self._last = TranscriptTotals(0, 0, 0, 0, 0, 0)

    def collect(self) -> Iterator[Metric]:
        totals = self._totals()
        if totals is not None:
            self._last = totals
        t = self._last
        not_stored = CounterMetricFamily(
            "interpret_segments_not_stored",
            "Transcript segments lost before the store: backlog_full (the database was "
            "away until the backlog filled), refused (by the database), shutdown (still "
            "waiting for the database when the bot stopped).", labels=["reason"])
        for reason, value in (("backlog_full", t.segments_dropped),
                              ("refused", t.segments_refused),
                              ("shutdown", t.segments_abandoned)):
            not_stored.add_metric([reason], value)
        yield not_stored
        yield GaugeMetricFamily(
            "interpret_segments_waiting",
            "Transcript segments waiting for the database to be stored (every run's).",
            value=t.segments_waiting)
        yield CounterMetricFamily(
            "interpret_transcript_posts_undeliverable",
            "Utterances Discord refused for good (no thread possible, a 4xx) or not "
            "posted within the flush bound: missing from the thread.",
            value=t.posts_undeliverable)
        yield CounterMetricFamily(
            "interpret_transcripts_unrouted",
            "Transcripts that came after their run's transcript closed (not posted, "
            "not stored).", value=t.unrouted)


class BotMetrics:
    def __init__(
        self,
        *,
        runs: RunsView,
        voice_of: VoiceView,
        guild_of: GuildOf,
        shards: Callable[[], list[ShardState]],
        transcripts: Callable[[], TranscriptTotals | None] = lambda: None,
    ) -> None:
        self.registry = CollectorRegistry()
        self.status = StatusMetrics(self.registry, guild_of)
        self.engine = EngineCollector(runs, voice_of, self.status.sessions.seconds)
        self.registry.register(self.engine)
        self.registry.register(_GatewayCollector(shards))
        self.registry.register(_TranscriptLossCollector(transcripts))
        self.pinch_calls = Counter("interpret_pinch_api_calls",
                                   "Pinch API requests (each retry counts) by outcome.",
                                   ["outcome"], registry=self.registry)
        for outcome in OUTCOMES:
            self.pinch_calls.labels(outcome)
        self.transcripts = Counter("interpret_transcripts",
                                   "Transcript messages received from Pinch.",
                                   ["kind", "final"], registry=self.registry)
        self.transcript_posts = Counter("interpret_transcript_posts",
                                        "Transcript posts to Discord by outcome.",
                                        ["outcome"], registry=self.registry)
        for outcome in ("ok", "failed"):
            self.transcript_posts.labels(outcome)
        self.transcript_post_latency = Histogram(
            "interpret_transcript_post_latency_seconds",
            "From the end of the utterance (Pinch's timestamp) to its post in Discord.",
            buckets=POST_LATENCY_BUCKETS, registry=self.registry)

    # -- feeds --------------------------------------------------------------------------

    def on_status(self, status: RunStatus) -> None:
        self.status.on_status(status)
        self.engine.observe()  # a link that opened or closed is seen even between scrapes

    def on_transcript(self, transcript: AttributedTranscript) -> None:
        event = transcript.event
        self.transcripts.labels(event.kind, "true" if event.is_final else "false").inc()

    def pinch_call(self, outcome: str) -> None:
        self.pinch_calls.labels(outcome).inc()

    def transcript_posted(self, latency_s: float | None, *, ok: bool = True) -> None:
        """For the transcript writer: one post done (``latency_s`` when known)."""
        self.transcript_posts.labels("ok" if ok else "failed").inc()
        if ok and latency_s is not None:
            self.transcript_post_latency.observe(max(0.0, latency_s))

    def gateway_reconnected(self) -> None:
        self.status.gateway_reconnected()

    # -- output -------------------------------------------------------------------------

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def sample(self, name: str, labels: Mapping[str, str] | None = None) -> float | None:
        """One sample's current value (for tests and the shutdown log)."""
        return self.registry.get_sample_value(name, dict(labels or {}))
