"""One interpreter link's settings: pacing, queues and their live bound, timeouts,
reconnects, resting.

Its own module so the link and every transport read it without importing each
other (the seam points one way: link → transport, never back).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LinkConfig:
    publish_rate: int = 16_000
    """Sample rate sent to Pinch: 16 kHz (Pinch's recommendation; the only one on the
    WebSocket) or 48 kHz (LiveKit only)."""
    capture_ms: int = 20
    """Audio per uplink frame. On LiveKit each ``capture_frame`` is an FFI round trip of
    ~170 µs whatever its length, so 40 ms halves the cost at 20 ms of extra latency."""
    uplink_queue_ms: int = 5_000
    """Microphone audio kept while no room is up (pauses included); oldest dropped beyond it."""
    live_backlog_ms: int = 200
    """Once a session is live, neither leg holds more audio than this: the uplink's
    frames not yet taken by the transport (plus the one pause that must still end a
    segment), the downlink's translated audio beyond the playback prebuffer. Past it,
    pauses are shortened, then the oldest audio is dropped, counted by cause (see
    :mod:`~bot.interpretation.backlog`). What waited while a session was opening is kept."""
    least_pause_ms: int = 600
    """A pause in a live backlog past its bound is shortened to no less than this: Pinch
    ends a segment after ~500 ms of pause in the audio (100 ms of margin)."""
    playback_queue_ms: int = 400
    """Capacity of LiveKit's translated-audio stream (it drops its oldest beyond it)."""
    agent_track_grace_s: float = 2.0
    """How long to wait for the ``translated-audio`` track before taking any audio track."""
    interpreter_join_timeout_s: float = 10.0
    """A session not interpreted this long after joining (no interpreter in the room, no
    ``ready`` on the socket) is given up and retried."""
    first_session_timeout_s: float = 30.0
    """``start`` gives up after this long (session request, join and interpreter)."""
    refresh_before_expiry_s: float = 120.0
    """Open a new session this long before the current token expires."""
    reconnect_base_delay_s: float = 0.5
    reconnect_max_delay_s: float = 8.0
    healthy_session_s: float = 10.0
    """A session active at least this long resets the backoff: the next one opens at once."""
    connect_timeout_s: float = 15.0
    rest_after_s: float = 10.0
    """LiveKit: after this long with no speech sent and no translation heard, the link
    rests (stops receiving the translated track and unpublishes its microphone, which
    WebRTC would otherwise encode and send as silence); the next speech wakes it.
    0 never rests."""

    def __post_init__(self) -> None:
        if self.publish_rate not in (16_000, 48_000):
            raise ValueError("publish_rate must be 16000 or 48000")
        if self.capture_ms not in (10, 20, 40, 60):
            raise ValueError("capture_ms must be 10, 20, 40 or 60")
        if self.reconnect_base_delay_s <= 0 or self.reconnect_max_delay_s < \
                self.reconnect_base_delay_s:
            raise ValueError("reconnect delays must be positive and max >= base")
        if self.rest_after_s < 0:
            raise ValueError("rest_after_s must not be negative")
        if self.live_backlog_ms < self.capture_ms:
            raise ValueError("live_backlog_ms must hold at least one frame (capture_ms)")
        if self.least_pause_ms < 0:
            raise ValueError("least_pause_ms must not be negative")

    def backoff(self, failures: int, rand: Callable[[], float] = random.random) -> float:
        """Delay before the next session after ``failures`` consecutive bad ones (0 → none)."""
        if failures <= 0:
            return 0.0
        delay = min(self.reconnect_max_delay_s,
                    self.reconnect_base_delay_s * 2.0 ** (failures - 1))
        return delay * (0.5 + 0.5 * rand())  # jitter: links that failed together part ways
