"""Session time, link state changes and reconnect causes from status events."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from bot.interpretation.events import RunState, RunStatus
from bot.interpretation.link import LinkState, LinkStatus
from bot.observability.metrics import BotMetrics
from bot.observability.sessions import SessionClock, StatusMetrics, reconnect_cause

GUILD, CHANNEL = 100, 200
RUN, NEXT_RUN = "run-1", "run-2"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def link_status(state: LinkState, reason: str, at: float, link: str = "member-1",
                run_id: str = RUN) -> RunStatus:
    return RunStatus(CHANNEL, RunState.RUNNING, reason, link=LinkStatus(link, state, reason, at),
                     at=at, run_id=run_id)


def metrics(clock: Clock) -> tuple[StatusMetrics, CollectorRegistry]:
    registry = CollectorRegistry()
    return StatusMetrics(registry, lambda channel: GUILD if channel == CHANNEL else None,
                         clock), registry


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    found = registry.get_sample_value(name, labels)
    assert found is not None, name
    return found


def test_session_time_runs_from_active_until_reconnecting_and_again_until_the_run_stops() -> None:
    clock = Clock()
    m, _ = metrics(clock)
    m.on_status(link_status(LinkState.ACTIVE, "room a", at=1000.0))
    clock.now = 1030.0
    assert m.sessions.seconds() == 30.0  # still open: counted up to now
    m.on_status(link_status(LinkState.RECONNECTING, "interpreter left", at=1040.0))
    m.on_status(link_status(LinkState.ACTIVE, "room b", at=1042.0))
    clock.now = 1100.0
    m.on_status(RunStatus(CHANNEL, RunState.STOPPED, "stopped", at=1050.0, run_id=RUN))
    assert m.sessions.seconds() == 48.0
    assert m.sessions.live == 0


def test_a_stopped_runs_late_status_never_closes_the_next_runs_session_in_its_channel() -> None:
    clock = Clock()
    m, _ = metrics(clock)
    m.on_status(link_status(LinkState.ACTIVE, "room", at=1000.0, run_id=NEXT_RUN))

    m.on_status(RunStatus(CHANNEL, RunState.STOPPED, "stopped", at=1001.0, run_id=RUN))

    assert m.sessions.live == 1


def test_two_links_of_one_run_add_up_and_the_run_reports_its_own_time() -> None:
    clock = SessionClock(Clock())
    clock.link_active(RUN, "member-1", 0.0)
    clock.link_active(RUN, "member-2", 5.0)
    clock.link_inactive(RUN, "member-1", 10.0)
    assert clock.run_stopped(RUN, 20.0) == 25.0
    clock.link_active(NEXT_RUN, "member-1", 30.0)
    assert clock.run_stopped(NEXT_RUN, 32.0) == 2.0
    assert clock.seconds() == 27.0


def series(registry: CollectorRegistry) -> int:
    return sum(len(family.samples) for family in registry.collect())


def test_ten_thousand_guilds_served_leave_the_session_clock_and_the_series_bounded() -> None:
    bot_metrics = BotMetrics(runs=dict, voice_of=lambda guild: None,
                             guild_of=lambda channel: channel + 1, shards=list)

    def one_run(guild: int) -> None:  # a session of two seconds, then the run stops
        channel, at = guild - 1, float(guild)
        run_id = f"run-{guild}"
        bot_metrics.on_status(RunStatus(channel, RunState.RUNNING, "room", at=at, link=LinkStatus(
            "member-1", LinkState.ACTIVE, "room", at), run_id=run_id))
        bot_metrics.on_status(RunStatus(channel, RunState.STOPPED, "stopped", at=at + 2.0,
                                        run_id=run_id))

    one_run(1)
    after_one = series(bot_metrics.registry)
    for guild in range(2, 10_001):
        one_run(guild)

    assert series(bot_metrics.registry) == after_one
    assert bot_metrics.status.sessions.held == 0
    assert bot_metrics.sample("interpret_pinch_session_seconds_total") == 20_000.0


def test_reconnect_causes_come_from_the_links_reasons() -> None:
    clock = Clock()
    m, registry = metrics(clock)
    for reason in ("livekit disconnected (SIGNAL_CLOSE)", "opening session", "interpreter left",
                   "pinch: The translation service is busy.", "session token near expiry",
                   "livekit: ConnectError", "something new"):
        m.on_status(link_status(LinkState.RECONNECTING, reason, at=1.0))
    assert {cause: value(registry, "interpret_reconnects_total", cause=cause)
            for cause in ("livekit_disconnected", "interpreter_left", "pinch_error",
                          "token_refresh", "livekit_connect_failed", "other")} == {
        "livekit_disconnected": 1, "interpreter_left": 1, "pinch_error": 1,
        "token_refresh": 1, "livekit_connect_failed": 1, "other": 1}
    assert reconnect_cause("opening session") is None


def test_a_new_reason_in_the_same_state_is_not_a_state_change() -> None:
    m, registry = metrics(Clock())
    m.on_status(link_status(LinkState.ACTIVE, "room a", at=1.0))
    m.on_status(link_status(LinkState.RECONNECTING, "interpreter left", at=2.0))
    m.on_status(link_status(LinkState.RECONNECTING, "opening session", at=2.1))
    m.on_status(link_status(LinkState.ACTIVE, "room b", at=3.0))
    m.on_status(link_status(LinkState.CLOSED, "closed", at=4.0))
    assert value(registry, "interpret_link_state_changes_total", state="active") == 2
    assert value(registry, "interpret_link_state_changes_total", state="reconnecting") == 1
    assert value(registry, "interpret_link_state_changes_total", state="closed") == 1


def test_gateway_reconnects_share_the_reconnect_counter() -> None:
    m, registry = metrics(Clock())
    m.gateway_reconnected()
    assert value(registry, "interpret_reconnects_total", cause="discord_gateway") == 1


@pytest.mark.parametrize(("reason", "cause"), [
    ("session ended by the server (4503)", "server_ended"),
    ("session token expired (4401)", "token_expired"),
    ("session URL expired before it was opened", "token_expired"),
    ("websocket connection lost", "websocket_lost"),
    ("websocket: could not connect", "websocket_lost"),
])
def test_the_websocket_transports_reasons_have_causes_of_their_own(reason: str,
                                                                    cause: str) -> None:
    assert reconnect_cause(reason) == cause
