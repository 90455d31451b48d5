"""Entry point: ``python -m bot`` (run the bot) and ``python -m bot check``.

Every failure a user can cause or meet at start-up ends the process with one line
on stderr, ``interpret-bot: <what is wrong>: <what to do>``, and its own exit
status (:class:`~bot.startup.errors.ExitStatus`, listed in the README). The
traceback of such a failure goes to the log at DEBUG only; an unexpected error
(a bug) is logged with its traceback at ERROR and exits with 1.

``sync`` registers the slash commands with Discord now and exits (at a normal start
they are registered only when their definitions changed since the last time).

``check`` validates the settings and runs the preflight checks (libopus, the
store, the Pinch API with the token) without connecting to Discord, printing one
line per check on stdout; it exits with the status of the first failed check.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import NoReturn

from bot.log_redaction import redact
from bot.observability.logs import configure_logging
from bot.process_exit import end_process
from bot.settings import Settings, SettingsError
from bot.startup.errors import ExitStatus, StartupError

PROG = "interpret-bot"
EXIT_CONFIG_ERROR = ExitStatus.CONFIG

log = logging.getLogger("bot")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.load()
    except SettingsError as exc:
        if args.command == "check":
            print(f"FAIL settings: {exc}")
        else:
            _fail(str(exc))
        return ExitStatus.CONFIG
    configure_logging(settings.log_level, settings.log_format)
    if args.command == "check":
        return _check(settings)
    if args.command == "sync":
        return _sync(settings)
    return _run(settings)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Live interpretation "
                                     "for Discord voice channels.")
    parser.add_argument("command", nargs="?", choices=["run", "check", "sync"],
                        default="run",
                        help="run the bot (default); check the settings, libopus, the "
                             "store and the Pinch API without connecting to Discord; or "
                             "sync: register the slash commands with Discord and exit")
    return parser


def _run(settings: Settings) -> int:
    # Imported late so that a configuration error costs no discord.py import.
    from bot.app import run

    try:
        status = run(settings)
    except StartupError as exc:
        log.debug("start-up failed", exc_info=exc)
        _fail(exc.message)
        return exc.status
    except Exception as exc:
        log.error("unexpected error", exc_info=exc)
        _fail(f"unexpected error ({type(exc).__name__}: {exc}); the traceback is in the "
              "log above: please report it")
        return ExitStatus.UNEXPECTED
    return status


def _check(settings: Settings) -> int:
    from bot.startup.checks import run_checks

    print(f"ok   settings: Pinch API {settings.pinch_base_url}, store {_store(settings)}")
    results = asyncio.run(run_checks(settings))
    for result in results:
        print(redact(result.line()))
    failed = [r for r in results if not r.ok]
    return failed[0].status if failed else ExitStatus.OK


def _sync(settings: Settings) -> int:
    from bot.app import sync

    try:
        synced = sync(settings)
    except StartupError as exc:
        _fail(exc.message)
        return exc.status
    except Exception as exc:
        log.error("unexpected error", exc_info=exc)
        _fail(f"could not sync the commands ({type(exc).__name__}: {exc})")
        return ExitStatus.UNEXPECTED
    print("registered the slash commands with Discord" if synced
          else "the slash commands were not registered")
    return ExitStatus.OK


def _store(settings: Settings) -> str:
    from bot.urls import masked_url

    return masked_url(settings.database())


def _fail(message: str) -> None:
    print(f"{PROG}: {redact(message)}", file=sys.stderr)


def entry() -> NoReturn:
    """``python -m bot`` and the ``interpret-bot`` command: :func:`main`, then the exit
    that LiveKit's native threads need (:mod:`bot.process_exit`)."""
    end_process(main())


if __name__ == "__main__":
    entry()
