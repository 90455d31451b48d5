"""Log lines that say where they come from: guild, channel and run ids, text or JSON.

The ids travel in a :class:`contextvars.ContextVar`: :func:`bind` sets them for a
block, and every task created inside it inherits them, so the links, router and
receive pump of a run started under ``bind(guild_id=..., channel_id=..., run_id=...)``
log with those ids without passing them around. :class:`ContextFilter` copies the
ids onto each record (an explicit ``extra={"guild_id": ...}`` wins).

Formats (``LOG_FORMAT``): ``text`` is the familiar one-line format with
``[guild=… channel=… run=…]`` appended when known; ``json`` writes one JSON object
per line (tracebacks included as a field, so an event is always one line).

Redaction stays :mod:`bot.log_redaction`'s job: :func:`configure_logging` installs
its handler (and filter) first, then this module's formatter and filter, and
:mod:`bot.log_privacy`'s filters on the libraries' loggers. The JSON
formatter reads ``exc_text``, which the redacting filter has already masked, and
never formats ``exc_info`` itself.

Libraries' INFO lines are details (:data:`CHATTY_LIBRARIES`): below ``LOG_LEVEL=DEBUG``
only their warnings and errors are shown, so a first start is not a screenful of
alembic plugins and migrations.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final

from bot import log_privacy, log_redaction

CONTEXT_FIELDS: Final = ("guild_id", "channel_id", "run_id")
#: Libraries whose INFO lines are details: alembic's plugins and each migration (the
#: bot logs the schema it opened), discord.py's log-ins, gateway sessions and voice
#: handshakes (the bot logs losing and regaining the gateway), httpx's every request
#: (the token check's deliberate 400 included). Shown with ``LOG_LEVEL=DEBUG``.
CHATTY_LIBRARIES: Final = ("alembic", "discord", "httpx")
_TEXT_FORMAT: Final = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

_context: contextvars.ContextVar[Mapping[str, int | str]] = contextvars.ContextVar(
    "interpret_log_context", default=MappingProxyType({}))


def new_run_id() -> str:
    """A run's one id, minted once when its start is accepted: every log line of the run,
    its stored segments, its export's file name and its summary carry this same text."""
    return uuid.uuid4().hex


@contextlib.contextmanager
def bind(**ids: int | str | None) -> Iterator[None]:
    """Add ``ids`` (``None`` values are skipped) to the log context for this block."""
    merged = {**_context.get(), **{k: v for k, v in ids.items() if v is not None}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


def current() -> Mapping[str, int | str]:
    return _context.get()


class ContextFilter(logging.Filter):
    """Copies the bound ids onto the record as attributes (never overriding ``extra``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def _context_of(record: logging.LogRecord) -> dict[str, Any]:
    return {key: getattr(record, key) for key in CONTEXT_FIELDS
            if getattr(record, key, None) is not None}


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(_TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        ids = _context_of(record)
        if ids:
            line += " [" + " ".join(f"{k.removesuffix('_id')}={v}" for k, v in ids.items()) + "]"
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, ids, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_context_of(record),
        }
        if record.exc_text:  # masked by the redacting filter
            entry["exception"] = record.exc_text
        elif record.exc_info:
            # Not through the redacting filter (a handler without it): mask here.
            entry["exception"] = log_redaction.redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str | int = "INFO", fmt: str = "text") -> logging.Handler:
    """Root logging to stderr: redaction first, then the ids, in ``fmt`` (text|json);
    :data:`CHATTY_LIBRARIES` only from WARNING unless ``level`` is DEBUG."""
    handler = log_redaction.configure_logging(level)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    log_privacy.install()
    libraries = logging.NOTSET if logging.getLogger().level <= logging.DEBUG else logging.WARNING
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(libraries)
    return handler
