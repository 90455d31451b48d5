"""Start-up: from settings to a connected bot, every failure one clear line.

``python -m bot`` runs, in order: settings (:mod:`bot.settings`), the preflight
checks shared with ``python -m bot check`` (:mod:`bot.startup.checks`: libopus,
the store, the Pinch API and token), then the Discord login and gateway
(:mod:`bot.startup.discord_run`, failures translated by
:mod:`bot.startup.discord_failures`). Each failure is a
:class:`~bot.startup.errors.StartupError` with a one-line message and a distinct
:class:`~bot.startup.errors.ExitStatus` (listed in the README).
"""

from bot.startup.errors import ExitStatus, StartupError

__all__ = ["ExitStatus", "StartupError"]
