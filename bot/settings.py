"""Process settings, read once from the environment and an optional ``.env`` file.

The environment wins over ``.env``. Missing required variables are reported
together in one :class:`SettingsError` that names them and never shows a value;
tokens (and a proxy URL, which may embed a password) are held as
:class:`~bot.secrets.Secret`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from dotenv import dotenv_values

from bot.log_redaction import register_secret
from bot.pinch.ws_protocol import DEFAULT_BASE_URL as DEFAULT_PINCH_WS_BASE_URL
from bot.secrets import Secret
from bot.sharding import ShardPlan, parse_shards

DEFAULT_PINCH_BASE_URL: Final = "https://api.startpinch.com"
DEFAULT_DATA_DIR: Final = "data"
_LOG_LEVELS: Final = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
REQUIRED: Final = ("DISCORD_TOKEN", "PINCH_API_TOKEN")
LOG_FORMATS: Final = ("text", "json")
DEFAULT_METRICS_HOST: Final = "127.0.0.1"
DEFAULT_SHUTDOWN_TIMEOUT_S: Final = 20.0
DEFAULT_SEGMENT_BACKLOG: Final = 10_000
"""Transcript segments that may wait for an unavailable database (every run's together)."""
PINCH_TRANSPORTS: Final = ("livekit", "websocket")
"""How sessions reach Pinch: its LiveKit API (rooms) or its WebSocket API."""


class SettingsError(Exception):
    """The configuration is incomplete or invalid; the message is fit for a user."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the process is configured with."""

    discord_token: Secret = field(repr=True)
    pinch_api_token: Secret = field(repr=True)
    pinch_base_url: str = DEFAULT_PINCH_BASE_URL
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    database_url: str = ""
    log_level: str = "INFO"
    #: HTTP proxy for every connection to Discord (REST, gateway, voice websocket).
    discord_proxy: Secret | None = None
    #: libopus to load (a file name or path); empty = ask the dynamic loader for "opus".
    opus_library: str = ""
    log_format: str = "text"
    metrics_host: str = DEFAULT_METRICS_HOST
    metrics_port: int | None = None
    """Health and metrics endpoint; ``None`` (``METRICS_PORT`` unset) turns it off."""
    shutdown_timeout_s: float = DEFAULT_SHUTDOWN_TIMEOUT_S
    shards: ShardPlan = field(default_factory=ShardPlan)
    pinch_transport: str = "livekit"
    """``PINCH_TRANSPORT``: ``livekit`` (``PINCH_BASE_URL``) or ``websocket``
    (``PINCH_WS_BASE_URL``); one of :data:`PINCH_TRANSPORTS`."""
    pinch_ws_base_url: str = DEFAULT_PINCH_WS_BASE_URL
    segment_backlog: int = DEFAULT_SEGMENT_BACKLOG
    """``SEGMENT_BACKLOG``: segments kept in memory while the database is unavailable,
    stored once it is back; beyond it new ones are dropped (and counted)."""

    @classmethod
    def load(
        cls,
        environ: Mapping[str, str] | None = None,
        env_file: Path | str | None = ".env",
    ) -> Settings:
        """Read settings; ``environ`` defaults to ``os.environ``.

        ``env_file`` is read if it exists; its values fill only what the
        environment leaves unset.
        """
        merged: dict[str, str] = {}
        if env_file is not None and Path(env_file).is_file():
            merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        merged.update(os.environ if environ is None else environ)

        def get(name: str) -> str:
            return merged.get(name, "").strip()

        missing = [name for name in REQUIRED if not get(name)]
        if missing:
            names = " and ".join(missing)
            plural = len(missing) > 1
            raise SettingsError(
                f"missing required environment variable{'s' if plural else ''} {names} "
                f"(set {'them' if plural else 'it'} in the environment or in .env)"
            )

        base_url = (get("PINCH_BASE_URL") or DEFAULT_PINCH_BASE_URL).rstrip("/")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError("PINCH_BASE_URL must be an http(s) URL such as "
                                f"{DEFAULT_PINCH_BASE_URL}")

        transport = (get("PINCH_TRANSPORT") or "livekit").lower()
        if transport not in PINCH_TRANSPORTS:
            raise SettingsError(f"PINCH_TRANSPORT must be one of {', '.join(PINCH_TRANSPORTS)}")
        ws_base_url = (get("PINCH_WS_BASE_URL") or DEFAULT_PINCH_WS_BASE_URL).rstrip("/")
        ws_parts = urlsplit(ws_base_url)
        if ws_parts.scheme not in ("http", "https") or not ws_parts.netloc:
            raise SettingsError("PINCH_WS_BASE_URL must be an http(s) URL such as "
                                f"{DEFAULT_PINCH_WS_BASE_URL}")

        level = (get("LOG_LEVEL") or "INFO").upper()
        if level not in _LOG_LEVELS:
            raise SettingsError(f"LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}")

        data_dir = Path(get("DATA_DIR") or DEFAULT_DATA_DIR)
        database_url = get("DATABASE_URL") or f"sqlite:///{data_dir / 'interpret.sqlite3'}"
        if not database_url.startswith(("sqlite:", "postgresql:", "postgres:")):
            raise SettingsError("DATABASE_URL must start with sqlite: or postgresql:")

        proxy = get("DISCORD_PROXY")
        if proxy:
            _check_proxy(proxy)
        log_format = (get("LOG_FORMAT") or "text").lower()
        if log_format not in LOG_FORMATS:
            raise SettingsError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")

        metrics_port: int | None = None
        if get("METRICS_PORT"):
            try:
                metrics_port = int(get("METRICS_PORT"))
            except ValueError:
                metrics_port = -1
            if not 1 <= metrics_port <= 65535:
                raise SettingsError("METRICS_PORT must be a port number (1-65535), "
                                    "or unset to turn the endpoint off")

        try:
            shutdown_timeout = float(get("SHUTDOWN_TIMEOUT") or DEFAULT_SHUTDOWN_TIMEOUT_S)
        except ValueError:
            shutdown_timeout = -1.0
        if not 1.0 <= shutdown_timeout <= 3600.0:
            raise SettingsError("SHUTDOWN_TIMEOUT must be a number of seconds from 1 to 3600")

        try:
            backlog = int(get("SEGMENT_BACKLOG") or DEFAULT_SEGMENT_BACKLOG)
        except ValueError:
            backlog = -1
        if not 1 <= backlog <= 1_000_000:
            raise SettingsError("SEGMENT_BACKLOG must be a number of segments from 1 to "
                                "1000000")

        try:
            shards = parse_shards(get("SHARD_COUNT"), get("SHARD_IDS"), get("HOSTNAME"))
        except ValueError as exc:
            raise SettingsError(str(exc)) from None

        return cls(
            discord_token=Secret(get("DISCORD_TOKEN")),
            pinch_api_token=Secret(get("PINCH_API_TOKEN")),
            pinch_base_url=base_url,
            data_dir=data_dir,
            database_url=database_url,
            log_level=level,
            discord_proxy=Secret(proxy) if proxy else None,
            opus_library=get("OPUS_LIBRARY"),
            log_format=log_format,
            metrics_host=get("METRICS_HOST") or DEFAULT_METRICS_HOST,
            metrics_port=metrics_port,
            shutdown_timeout_s=shutdown_timeout,
            shards=shards,
            pinch_transport=transport,
            pinch_ws_base_url=ws_base_url,
            segment_backlog=backlog,
        )

    def database(self) -> str:
        """``DATABASE_URL``, or the SQLite file under ``DATA_DIR`` when it is unset."""
        return self.database_url or f"sqlite:///{self.data_dir / 'interpret.sqlite3'}"

    @property
    def log_level_number(self) -> int:
        return logging.getLevelNamesMapping()[self.log_level]


def _check_proxy(url: str) -> None:
    """Refuse what aiohttp cannot use as a proxy; mask a password it embeds."""
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        _ = parts.port  # raises for a port that is not a number
    except ValueError:
        valid = False
    if not valid:
        raise SettingsError("DISCORD_PROXY must be an http(s) URL such as "
                            "http://proxy.example:3128")
    if parts.password:
        register_secret(parts.password)
