"""Operations settings: log format, health port, shutdown bound, shards, segment backlog."""

from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsError
from bot.sharding import ShardPlan

TOKENS = {"DISCORD_TOKEN": "discord-secret-value", "PINCH_API_TOKEN": "pinch-secret-value"}


def load(**env: str) -> Settings:
    return Settings.load({**TOKENS, **env}, env_file=None)


def test_defaults_text_logs_no_endpoint_twenty_seconds_discord_picks_shards() -> None:
    s = load()
    assert (s.log_format, s.metrics_port, s.metrics_host) == ("text", None, "127.0.0.1")
    assert s.shutdown_timeout_s == 20.0
    assert s.shards == ShardPlan()
    assert s.segment_backlog == 10_000


def test_json_logs_and_a_metrics_port() -> None:
    s = load(LOG_FORMAT="JSON", METRICS_PORT="9100", METRICS_HOST="0.0.0.0")
    assert (s.log_format, s.metrics_port, s.metrics_host) == ("json", 9100, "0.0.0.0")


@pytest.mark.parametrize(("env", "named"), [
    ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
    ({"METRICS_PORT": "http"}, "METRICS_PORT"),
    ({"METRICS_PORT": "70000"}, "METRICS_PORT"),
    ({"SHUTDOWN_TIMEOUT": "0"}, "SHUTDOWN_TIMEOUT"),
    ({"SHUTDOWN_TIMEOUT": "soon"}, "SHUTDOWN_TIMEOUT"),
    ({"SEGMENT_BACKLOG": "0"}, "SEGMENT_BACKLOG"),
    ({"SEGMENT_BACKLOG": "lots"}, "SEGMENT_BACKLOG"),
    ({"SHARD_IDS": "1"}, "SHARD_COUNT"),
    ({"SHARD_COUNT": "2", "SHARD_IDS": "2"}, "outside 0..1"),
    ({"SHARD_COUNT": "2", "SHARD_IDS": "ordinal", "HOSTNAME": "laptop"}, "HOSTNAME"),
])
def test_bad_values_are_named_in_one_clear_error(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load(**env)


def test_the_segment_backlog_is_a_count_of_segments() -> None:
    assert load(SEGMENT_BACKLOG="500").segment_backlog == 500


def test_shards_from_an_explicit_list() -> None:
    assert load(SHARD_COUNT="4", SHARD_IDS="3, 1,1").shards == ShardPlan(4, (1, 3))


def test_the_shard_of_a_statefulset_pod_comes_from_its_hostname() -> None:
    s = load(SHARD_COUNT="3", SHARD_IDS="ordinal", HOSTNAME="interpret-bot-2")
    assert s.shards == ShardPlan(3, (2,))


def test_a_shard_count_alone_runs_every_shard_here() -> None:
    assert load(SHARD_COUNT="2").shards == ShardPlan(2, None)


def test_a_hostname_alone_never_picks_a_shard() -> None:
    assert load(SHARD_COUNT="2", HOSTNAME="web-1").shards == ShardPlan(2, None)
