"""Entry point: ``python -m bot`` and the ``interpret-bot`` console script.

Configuration problems end the process with status 2 and one line on stderr;
everything after that is logged through the redacting handler.
"""

from __future__ import annotations

import sys

from bot.observability.logs import configure_logging
from bot.settings import Settings, SettingsError

EXIT_CONFIG_ERROR = 2


def main(argv: list[str] | None = None) -> int:
    try:
        settings = Settings.load()
    except SettingsError as exc:
        print(f"interpret-bot: {exc}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    configure_logging(settings.log_level, settings.log_format)

    # Imported late so that a configuration error costs no discord.py import.
    from bot.app import run

    return run(settings)


if __name__ == "__main__":
    sys.exit(main())
