"""Metrics fed by the engine's status events: session time, link states, reconnects.

The bot re-dispatches every :class:`~bot.interpretation.run.RunStatus` as the
``on_interpretation_status`` event; :class:`StatusMetrics` turns them into

- ``interpret_pinch_session_seconds_total`` through :class:`SessionClock`: a link's
  session counts from its ``ACTIVE`` status until it reconnects, closes, or its run
  stops (links closing with their run report nothing themselves, so the run's
  ``STOPPED`` status ends all of the channel's intervals at that moment). One series
  for the process, not one per guild: a label per guild ever served would grow
  without end. A run's own session time is logged when it stops, with its guild;
- ``interpret_link_state_changes_total{state}``;
- ``interpret_reconnects_total{cause}``, the cause read from the link's reason
  (:func:`reconnect_cause`). Discord gateway reconnects are counted here too, with
  cause ``discord_gateway``, from discord.py's shard events.

Times are the statuses' own monotonic ``at``, so late delivery does not skew them.
Memory follows what is live: open sessions and the runs they belong to.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Final

from prometheus_client import CollectorRegistry, Counter

from bot.interpretation.events import RunState, RunStatus
from bot.interpretation.link import LinkState

log = logging.getLogger(__name__)

#: The link's "a new attempt starts" reason: not a cause of its own.
_ATTEMPT_REASON: Final = "opening session"

#: Reason prefix → cause label. Reasons are the link's (``bot.interpretation.link``).
_CAUSES: Final = (
    ("livekit disconnected", "livekit_disconnected"),
    ("interpreter left", "interpreter_left"),
    ("session token near expiry", "token_refresh"),
    ("pinch:", "pinch_error"),
    ("livekit:", "livekit_connect_failed"),
    # The WebSocket transport's (bot.pinch.ws_protocol.describe_close, websocket_transport).
    ("session ended by the server", "server_ended"),
    ("session token expired", "token_expired"),
    ("session URL expired", "token_expired"),
    ("websocket", "websocket_lost"),
)


def reconnect_cause(reason: str) -> str | None:
    """The cause label for a ``RECONNECTING`` reason; ``None`` for a plain new attempt."""
    if reason == _ATTEMPT_REASON:
        return None
    for prefix, cause in _CAUSES:
        if reason.startswith(prefix):
            return cause
    return "other"


class SessionClock:
    """Seconds of live Pinch session: every closed interval's total plus the open ones.

    It holds the open intervals (one per live session) and, per live run (by its id),
    that run's closed seconds until the run stops: nothing of a run outlives it, and
    a stopped run's late status can never close the next run's sessions.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._closed = 0.0
        self._open: dict[tuple[str, str], float] = {}
        self._runs: dict[str, float] = {}

    def link_active(self, run_id: str, link: str, at: float) -> None:
        self._open.setdefault((run_id, link), at)

    def link_inactive(self, run_id: str, link: str, at: float) -> None:
        since = self._open.pop((run_id, link), None)
        if since is not None:
            self._add(run_id, since, at)

    def run_stopped(self, run_id: str, at: float) -> float:
        """Close the run's intervals; returns the seconds it used, forgotten."""
        for key in [k for k in self._open if k[0] == run_id]:
            self._add(run_id, self._open.pop(key), at)
        return self._runs.pop(run_id, 0.0)

    def seconds(self) -> float:
        now = self._clock()
        return self._closed + sum(max(0.0, now - since) for since in self._open.values())

    @property
    def live(self) -> int:
        return len(self._open)

    @property
    def held(self) -> int:
        """Entries held: open sessions and runs with closed seconds (bounded by what is live)."""
        return len(self._open) + len(self._runs)

    def _add(self, run_id: str, since: float, until: float) -> None:
        seconds = max(0.0, until - since)
        self._closed += seconds
        self._runs[run_id] = self._runs.get(run_id, 0.0) + seconds


GuildOf = Callable[[int], int | None]
"""channel id → its guild id (``None`` when unknown)."""


class StatusMetrics:
    def __init__(self, registry: CollectorRegistry, guild_of: GuildOf,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._guild_of = guild_of
        self._link_states: dict[tuple[str, str], LinkState] = {}
        self.sessions = SessionClock(clock)
        self.link_state_changes = Counter(
            "interpret_link_state_changes", "Interpreter link state changes, by new state.",
            ["state"], registry=registry)
        self.reconnects = Counter(
            "interpret_reconnects", "Reconnections by cause (Pinch/LiveKit links and the "
            "Discord gateway).", ["cause"], registry=registry)
        for state in (LinkState.ACTIVE, LinkState.RECONNECTING, LinkState.CLOSED):
            self.link_state_changes.labels(state.value)
        for _prefix, cause in _CAUSES:
            self.reconnects.labels(cause)
        self.reconnects.labels("discord_gateway")

    def on_status(self, status: RunStatus) -> None:
        if status.state is RunState.STOPPED:
            used = self.sessions.run_stopped(status.run_id, status.at)
            # Per-guild usage (what Pinch bills each server) lives in the log, not in a
            # metric label: one line per run.
            log.info("run %s in channel %d (guild %s) used %.1f s of Pinch session",
                     status.run_id, status.channel_id, self._guild_of(status.channel_id), used)
            for key in [k for k in self._link_states if k[0] == status.run_id]:
                del self._link_states[key]
            return
        link = status.link
        if link is None:
            return
        key = (status.run_id, link.link)
        if self._link_states.get(key) is not link.state:  # a new reason alone is no change
            self.link_state_changes.labels(link.state.value).inc()
        if link.state is LinkState.CLOSED:
            self._link_states.pop(key, None)
        else:
            self._link_states[key] = link.state
        if link.state is LinkState.ACTIVE:
            self.sessions.link_active(status.run_id, link.link, link.at)
            return
        self.sessions.link_inactive(status.run_id, link.link, link.at)
        if link.state is LinkState.RECONNECTING:
            cause = reconnect_cause(link.reason)
            if cause is not None:
                self.reconnects.labels(cause).inc()

    def gateway_reconnected(self) -> None:
        self.reconnects.labels("discord_gateway").inc()
