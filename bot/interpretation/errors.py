"""Why the engine refuses or abandons a run: one small tree, translated once.

::

    RunRefused                  the engine will not (or no longer) run this channel
    ├── AlreadyRunning          the guild has a run (Discord allows one voice connection)
    ├── StartCancelled          stopped while it was starting (message: the stop's reason)
    ├── NotAccepting            the bot is shutting down
    └── VoiceUnavailable        this discord.py lacks what voice receive relies on

Nothing here is a bug: the run service turns each into one sentence for the person
who asked (:func:`bot.service.runs.refusal_sentence`), so the command funnel never
reports them with an error id.
"""

from __future__ import annotations


class RunRefused(Exception):
    """The engine will not start (or keep) this run; expected, never a bug."""


class AlreadyRunning(RunRefused):
    """The guild already has a run; the message names its channel."""


class StartCancelled(RunRefused):
    """The run was stopped while it was starting; the message is the stop's reason."""


class NotAccepting(RunRefused):
    """The bot is shutting down: no new runs (the message says so to the user)."""


class VoiceUnavailable(RunRefused):
    """Voice runs are refused: this discord.py lacks what the receive layer relies on."""
