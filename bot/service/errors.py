"""Errors the services raise for a user to read.

:class:`UserError` carries one sentence fit for Discord; the command tree shows
it ephemerally and logs nothing more than a debug line. Anything else that
escapes a command is a bug: logged in full with an error id the user sees.
"""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix; ``str(error)`` is the sentence to show them."""


class NotAllowed(UserError):
    """The member lacks the rights for this command."""


class BotLacksPermissions(UserError):
    """The bot itself lacks permissions in a channel; the message names them."""

    def __init__(self, channel_mention: str, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(
            f"I am missing these permissions in {channel_mention}: {', '.join(missing)}. "
            "Ask a server admin to grant them, then try again.")
