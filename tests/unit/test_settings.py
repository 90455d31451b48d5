"""Settings come from the environment and .env; missing tokens are named, never shown."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.log_redaction import redact
from bot.settings import DEFAULT_PINCH_BASE_URL, Settings, SettingsError

TOKENS = {"DISCORD_TOKEN": "discord-secret-value", "PINCH_API_TOKEN": "pinch-secret-value"}


def test_defaults_fill_everything_but_the_tokens(tmp_path: Path) -> None:
    s = Settings.load(TOKENS, env_file=tmp_path / "absent.env")
    assert s.pinch_base_url == DEFAULT_PINCH_BASE_URL
    assert s.database_url == "sqlite:///data/interpret.sqlite3"
    assert s.log_level == "INFO"


def test_env_file_fills_what_the_environment_leaves_unset(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("PINCH_API_TOKEN=from-file-token\nLOG_LEVEL=debug\n"
                        "DISCORD_TOKEN=file-discord-token\n")
    s = Settings.load({"DISCORD_TOKEN": "env-discord-token"}, env_file=env_file)
    assert s.discord_token.reveal() == "env-discord-token"
    assert s.pinch_api_token.reveal() == "from-file-token"
    assert s.log_level == "DEBUG"


def test_missing_token_error_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="PINCH_API_TOKEN") as info:
        Settings.load({"DISCORD_TOKEN": "x" * 20}, env_file=None)
    assert "DISCORD_TOKEN" not in str(info.value)
    assert "x" * 20 not in str(info.value)


def test_both_missing_tokens_are_named_in_one_error() -> None:
    with pytest.raises(SettingsError, match="DISCORD_TOKEN and PINCH_API_TOKEN"):
        Settings.load({}, env_file=None)


def test_blank_token_counts_as_missing() -> None:
    with pytest.raises(SettingsError, match="DISCORD_TOKEN"):
        Settings.load({**TOKENS, "DISCORD_TOKEN": "   "}, env_file=None)


@pytest.mark.parametrize(
    ("name", "value"),
    [("PINCH_BASE_URL", "ftp://example"), ("LOG_LEVEL", "LOUD"), ("DATABASE_URL", "mysql://x"),
     ("DISCORD_PROXY", "socks5://proxy:1080"), ("DISCORD_PROXY", "http://proxy:port")],
)
def test_invalid_values_are_rejected_with_the_variable_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.load({**TOKENS, name: value}, env_file=None)


def test_proxy_and_opus_library_are_optional() -> None:
    s = Settings.load(TOKENS, env_file=None)
    assert s.discord_proxy is None
    assert s.opus_library == ""


def test_proxy_url_is_a_secret_and_its_password_is_masked_in_logs() -> None:
    s = Settings.load({**TOKENS, "DISCORD_PROXY": "http://bot:proxy-pass-123@proxy:3128",
                       "OPUS_LIBRARY": "/opt/opus/libopus.so.0"}, env_file=None)
    assert s.discord_proxy is not None
    assert s.discord_proxy.reveal() == "http://bot:proxy-pass-123@proxy:3128"
    assert s.opus_library == "/opt/opus/libopus.so.0"
    assert "proxy-pass-123" not in repr(s)
    assert "proxy-pass-123" not in redact("connecting through proxy-pass-123")


def test_repr_of_settings_never_shows_a_token() -> None:
    s = Settings.load(TOKENS, env_file=None)
    text = repr(s) + str(s) + f"{s.discord_token}"
    for secret in TOKENS.values():
        assert secret not in text


def _run_bot(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in TOKENS}
    return subprocess.run([sys.executable, "-m", "bot"], env={**clean, **env}, cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def test_python_m_bot_without_tokens_exits_2_with_one_clear_line(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    result = _run_bot({"PYTHONPATH": str(root)}, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "DISCORD_TOKEN" in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_python_m_bot_missing_one_token_never_echoes_the_other(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    result = _run_bot({"PYTHONPATH": str(root), "DISCORD_TOKEN": "MTIzNDU2Nzg5.very-secret"},
                      cwd=tmp_path)
    assert result.returncode == 2
    assert "PINCH_API_TOKEN" in result.stderr
    assert "very-secret" not in result.stderr + result.stdout


def test_the_transport_defaults_to_livekit_and_websocket_is_chosen_by_name() -> None:
    assert Settings.load(TOKENS, env_file=None).pinch_transport == "livekit"
    chosen = Settings.load({**TOKENS, "PINCH_TRANSPORT": "WebSocket",
                            "PINCH_WS_BASE_URL": "http://127.0.0.1:9/"}, env_file=None)
    assert chosen.pinch_transport == "websocket"
    assert chosen.pinch_ws_base_url == "http://127.0.0.1:9"


@pytest.mark.parametrize(("name", "value"), [
    ("PINCH_TRANSPORT", "webrtc"), ("PINCH_WS_BASE_URL", "wss://ws.startpinch.com"),
])
def test_a_bad_transport_setting_is_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.load({**TOKENS, name: value}, env_file=None)
