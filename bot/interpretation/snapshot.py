"""A typed, read-only picture of a running interpretation, for ``/interpret status``.

:func:`snapshot` reads only the run's public surface (its config, state, start
time, links and their counters, the router's counters, the mixer's stats) and
copies it into frozen dataclasses, so callers never hold live engine objects or
reach into private ones. Cheap: no I/O, a few dict copies; call it on demand.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from bot.interpretation.events import RunState
from bot.interpretation.link import LinkState
from bot.interpretation.router import MIXED_LINK, RoutingMode
from bot.interpretation.run import ChannelInterpretation


@dataclass(frozen=True, slots=True)
class LinkSnapshot:
    """One interpreter link (one Pinch session at a time)."""

    member_id: int | None
    """The member it interprets; ``None`` for the mixed link."""
    name: str
    state: LinkState
    room_name: str | None
    """The LiveKit room, or the WebSocket session id, of its live session."""
    sessions_opened: int
    reconnects: int
    frames_in: int
    frames_published: int
    failures: int
    """Sessions that failed or ended before they were healthy."""
    transcripts: int
    behind: bool = False
    """It dropped audio in the last few seconds to keep its delay within the bound."""
    captions: tuple[str, ...] = ()
    """Caption languages it has a text-only session for (open or opening)."""

    @property
    def sessions(self) -> int:
        """Pinch sessions of this speaker: the interpreted one and one per caption."""
        return 1 + len(self.captions)


@dataclass(frozen=True, slots=True)
class RunSnapshot:
    channel_id: int
    state: RunState
    stop_reason: str
    mode: RoutingMode
    target_language: str
    source_language: str
    voice_type: str
    play_audio: bool
    transport: str
    """How the run reaches Pinch: ``livekit`` or ``websocket`` (``PINCH_TRANSPORT``)."""
    running_s: float
    """Seconds since the run started receiving (0 before that)."""
    links: tuple[LinkSnapshot, ...]
    forwarded_frames: int
    dropped_frames: Mapping[str, int]
    """Frames the router did not forward, by reason (excluded, silence, link_cap...)."""
    playback_inputs: int
    """Playback inputs attached to the mixer (one per live link)."""
    caption_languages: tuple[str, ...] = ()
    """The caption languages served now (each a text-only session per speaker)."""

    @property
    def minutes(self) -> float:
        return self.running_s / 60.0

    def link_of(self, member_id: int) -> LinkSnapshot | None:
        return next((link for link in self.links if link.member_id == member_id), None)


def snapshot(run: ChannelInterpretation, *, now: float | None = None) -> RunSnapshot:
    """The run as it is now."""
    now = time.monotonic() if now is None else now
    captions = run.caption_links()
    links = tuple(
        LinkSnapshot(
            member_id=None if key == MIXED_LINK else key,
            name=link.name,
            state=link.state,
            room_name=link.room_name,
            sessions_opened=link.stats.sessions_opened,
            reconnects=link.stats.reconnects,
            frames_in=link.stats.frames_in,
            frames_published=link.stats.frames_published,
            failures=link.stats.failures,
            transcripts=link.stats.transcripts,
            behind=link.stats.behind.behind(now),
            captions=tuple(captions.get(key, {})),
        )
        for key, link in sorted(run.interpreter_links().items())
    )
    router = run.router
    playback = run.playback_stats()
    config = run.config
    return RunSnapshot(
        channel_id=run.channel_id,
        state=run.state,
        stop_reason=run.stop_reason,
        mode=config.router.mode,
        target_language=config.target_language,
        source_language=config.source_language,
        voice_type=config.voice_type,
        play_audio=config.play_audio,
        transport=run.transport_name,
        running_s=0.0 if run.started_at is None else max(0.0, now - run.started_at),
        links=links,
        forwarded_frames=router.forwarded_frames if router is not None else 0,
        dropped_frames=MappingProxyType(dict(router.dropped) if router is not None else {}),
        playback_inputs=len(playback.inputs) if playback is not None else 0,
        caption_languages=run.caption_languages,
    )
