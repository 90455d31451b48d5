"""Keeps what members type into private command options out of every log line.

A session ``context`` (``/interpret config context:``) is what a server's members
talk about: it is sent to Pinch and never logged. Our own lines never name it, but
it passes through code that logs what it handles:

- the error funnel (:mod:`bot.command_tree`) logs a failed command's options:
  :func:`shown_options` puts a private option's length in place of its value;
- discord.py logs every gateway event at DEBUG, an ``INTERACTION_CREATE`` with all
  its options (and the interaction's token, a credential for 15 minutes);
- aiosqlite logs every call it runs at DEBUG, a statement's parameters included;
- SQLAlchemy writes the parameters into its exceptions' text (the store's engine
  is created with ``hide_parameters``: :mod:`bot.store.store`).

The two library filters sit on the loggers that create those records
(:func:`install`), so they apply before any handler — ours, an operator's, a
test's — sees the record. They copy what they change: the gateway event logged is
the one discord.py then dispatches.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any, Final

PRIVATE_OPTIONS: Final = frozenset({"context"})
"""Command options whose values are never logged."""

GATEWAY_LOGGER: Final = "discord.gateway"
SQLITE_LOGGER: Final = "aiosqlite"
HIDDEN: Final = "[hidden]"


def private(value: Any) -> str:
    """What a log line shows instead of a private value: its length."""
    return f"<{len(str(value))} characters>"


def shown_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` (name → value) fit for a log line."""
    return {name: private(value) if name in PRIVATE_OPTIONS and value is not None else value
            for name, value in options.items()}


def _shown_option_tree(options: Any) -> Any:
    """An interaction's ``options`` list (nested for subcommands), private values masked."""
    if not isinstance(options, list):
        return options
    shown = []
    for option in options:
        if isinstance(option, dict):
            option = dict(option)
            if "options" in option:
                option["options"] = _shown_option_tree(option["options"])
            if option.get("name") in PRIVATE_OPTIONS and "value" in option:
                option["value"] = private(option["value"])
        shown.append(option)
    return shown


def shown_gateway_event(event: Any) -> Any:
    """A gateway event fit for a log line: an interaction's private options and its
    token masked, in a copy; any other event as it is."""
    if not isinstance(event, dict) or event.get("t") != "INTERACTION_CREATE":
        return event
    payload = event.get("d")
    if not isinstance(payload, dict):
        return event
    payload = dict(payload)
    if "token" in payload:
        payload["token"] = HIDDEN
    data = payload.get("data")
    if isinstance(data, dict) and "options" in data:
        payload["data"] = {**data, "options": _shown_option_tree(data["options"])}
    return {**event, "d": payload}


class GatewayEventFilter(logging.Filter):
    """On ``discord.gateway``: logged events pass through :func:`shown_gateway_event`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(shown_gateway_event(arg) for arg in record.args)
        return True


class SqliteCallFilter(logging.Filter):
    """On ``aiosqlite``: a logged call shows the function it runs, not its arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_call_name(arg) if isinstance(arg, functools.partial) else arg
                                for arg in record.args)
        return True


def _call_name(call: functools.partial[Any]) -> str:
    name = getattr(call.func, "__qualname__", type(call.func).__name__)
    return f"{name}({HIDDEN})"


def install() -> None:
    """Attach both library filters (once; repeated calls are harmless)."""
    for name, kind in ((GATEWAY_LOGGER, GatewayEventFilter), (SQLITE_LOGGER, SqliteCallFilter)):
        logger = logging.getLogger(name)
        if not any(isinstance(f, kind) for f in logger.filters):
            logger.addFilter(kind())
