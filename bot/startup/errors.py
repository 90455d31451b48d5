"""Exit statuses of ``python -m bot`` and the error that carries one.

Each failure a user can cause or meet at start-up has its own status (documented
in the README's Troubleshooting section) and a message of one line saying what is
wrong and what to do. :class:`StartupError` carries both; the entry point prints
the message and exits with the status, and logs the traceback at DEBUG only.
"""

from __future__ import annotations

import enum


class ExitStatus(enum.IntEnum):
    """What ``python -m bot`` (and ``python -m bot check``) exit with."""

    OK = 0
    UNEXPECTED = 1  # a bug: the traceback is logged at ERROR
    CONFIG = 2  # a setting is missing or invalid
    DISCORD_TOKEN_REJECTED = 3
    DISCORD_UNREACHABLE = 4
    PRIVILEGED_INTENTS = 5
    OPUS_MISSING = 6
    STORE_UNAVAILABLE = 7
    PINCH_UNREACHABLE = 8
    PINCH_REFUSED = 9


class StartupError(Exception):
    """A failure with a one-line message fit for the user and its exit status."""

    def __init__(self, status: ExitStatus, message: str) -> None:
        if "\n" in message:
            raise ValueError("a start-up message is one line")
        super().__init__(message)
        self.status = status
        self.message = message

    @property
    def retryable(self) -> bool:
        """Whether trying again may help (the network, not the configuration)."""
        return self.status in (ExitStatus.DISCORD_UNREACHABLE, ExitStatus.PINCH_UNREACHABLE)
