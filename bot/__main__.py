"""Entry point: ``python -m bot`` and the ``interpret-bot`` console script.

``python -m bot sync`` registers the slash commands with Discord and exits.
Configuration problems end the process with status 2 and one line on stderr;
everything after that is logged through the redacting handler.
"""

from __future__ import annotations

import sys

from bot.log_redaction import configure_logging
from bot.settings import Settings, SettingsError

EXIT_CONFIG_ERROR = 2


def main(argv: list[str] | None = None) -> int:
    """``python -m bot`` runs the bot; ``python -m bot sync`` only registers its commands."""
    args = sys.argv[1:] if argv is None else argv
    try:
        settings = Settings.load()
    except SettingsError as exc:
        print(f"interpret-bot: {exc}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    configure_logging(settings.log_level)

    # Imported late so that a configuration error costs no discord.py import.
    from bot.app import run, sync

    if args == ["sync"]:
        sync(settings)  # register the slash commands now, then exit
    elif args:
        print(f"interpret-bot: unknown arguments {' '.join(args)} (usage: "
              "python -m bot [sync])", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    else:
        run(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
