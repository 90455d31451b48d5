"""How losing and regaining the Discord gateway reaches the log, once the bot runs.

Losing the gateway is routine (networks drop, Discord restarts nodes) and
discord.py reconnects and resumes by itself. What it logs is the problem: the
drop at DEBUG only, and each failed reconnect attempt as
``logger.exception("Attempting a reconnect in ...")``, an ERROR with a traceback.
So:

- :class:`GatewayWatch` logs the loss once at WARNING with its cause (the close
  code and what it means) and the return at INFO with how long it took;
  :class:`~bot.app.InterpretBot` feeds it from its ``connect``/``resumed``/
  ``disconnect`` events, and a bot running several shards keeps one watch per
  shard, fed from the ``shard_*`` events, whose lines name the shard.
- :class:`ReconnectAttemptFilter` (on the ``discord.client`` logger, and on
  ``discord.shard`` for the auto-sharded client's own ``Attempting a reconnect for
  shard ID ...``) rewrites that one record to a WARNING naming the cause; the
  traceback stays only when the log level is DEBUG.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Final

from bot.startup.discord_failures import describe

log = logging.getLogger(__name__)

#: The message discord.py logs with ``logger.exception`` before each reconnect attempt.
RECONNECT_MESSAGE: Final = "Attempting a reconnect in %.2fs"
DISCORD_CLIENT_LOGGER: Final = "discord.client"
#: The same, from a shard of the auto-sharded client (``logger.error(..., exc_info=)``).
SHARD_RECONNECT_MESSAGE: Final = "Attempting a reconnect for shard ID %s in %.2fs"
DISCORD_SHARD_LOGGER: Final = "discord.shard"

#: What a websocket close code means (RFC 6455 and Discord's gateway codes).
_CLOSE_CODES: Final = {
    1000: "closed normally (Discord asked for a reconnect, or a routine restart)",
    1001: "the server is going away",
    1006: "the connection dropped without a close frame",
    1011: "server error",
    1012: "the server is restarting",
    4000: "unknown error",
    4007: "invalid sequence on resume",
    4008: "rate limited",
    4009: "session timed out",
}


def close_reason(code: int | None) -> str:
    if code is None:
        return "no close code"
    return f"close code {code}: {_CLOSE_CODES.get(code, 'see Discord gateway close codes')}"


class GatewayWatch:
    """Tracks whether the gateway (or one shard's connection) is up; logs each loss
    once and each return."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, *,
                 shard: int | None = None) -> None:
        self._clock = clock
        self._shard = "" if shard is None else f" shard {shard}"
        self._up = False
        self._lost_at: float | None = None
        self.losses = 0

    @property
    def up(self) -> bool:
        return self._up

    def connected(self, how: str) -> None:
        """READY (``how="new session"``) or RESUMED (``how="resumed"``) arrived."""
        if self._lost_at is not None:
            log.info("Discord gateway%s back after %.1f s (%s)", self._shard,
                     self._clock() - self._lost_at, how)
        self._up = True
        self._lost_at = None

    def lost(self, close_code: int | None) -> None:
        """discord.py dispatched ``disconnect``; only the first while up is news."""
        if not self._up:
            return
        self._up = False
        self._lost_at = self._clock()
        self.losses += 1
        log.warning("lost the Discord gateway connection%s (%s); discord.py is reconnecting",
                    f" of{self._shard}" if self._shard else "", close_reason(close_code))


class ReconnectAttemptFilter(logging.Filter):
    """Turns discord.py's ERROR-with-traceback before a reconnect into a WARNING."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg not in (RECONNECT_MESSAGE, SHARD_RECONNECT_MESSAGE) or not record.exc_info:
            return True
        exc = record.exc_info[1]
        args = record.args if isinstance(record.args, tuple) else ()
        shard = f" shard {args[0]}" if record.msg == SHARD_RECONNECT_MESSAGE and args else ""
        delay = args[-1] if args else 0.0
        cause = describe(exc) if exc is not None else "unknown cause"
        record.msg = "Discord gateway%s reconnect failed (%s); discord.py retries in %.2f s"
        record.args = (shard, cause, delay)
        record.levelno = logging.WARNING
        record.levelname = logging.getLevelName(logging.WARNING)
        if not logging.getLogger().isEnabledFor(logging.DEBUG):
            record.exc_info = None
            record.exc_text = None
        return True


def install_reconnect_attempt_filter() -> None:
    """Attach :class:`ReconnectAttemptFilter` to discord.py's client and shard loggers,
    once each."""
    for name in (DISCORD_CLIENT_LOGGER, DISCORD_SHARD_LOGGER):
        logger = logging.getLogger(name)
        if not any(isinstance(f, ReconnectAttemptFilter) for f in logger.filters):
            logger.addFilter(ReconnectAttemptFilter())
