"""What the commands do while the database is unavailable.

Runs go on (they need no database to interpret, and their segments wait: see
:mod:`bot.transcripts.storing`); what needs the database is refused with one
sentence, never an error id:

- a settings change or view (``/interpret config``, ``/interpret me``):
  :func:`settings_store` turns :class:`~bot.store.errors.StoreUnavailable` into
  :data:`CANNOT_SAVE` or :data:`CANNOT_READ`;
- anything else that reads the store (``start``, ``transcript``, ``me forget``):
  :data:`UNAVAILABLE`, said by the command tree (:mod:`bot.command_tree`);
- ``/interpret status`` says the database is unavailable
  (:func:`store_outage`): its ping fails, or the run's segments cannot be stored.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Final

from bot.service.errors import UserError
from bot.store import Store
from bot.store.errors import StoreUnavailable
from bot.transcripts import TranscriptService
from bot.transcripts.service import RunLosses

CANNOT_SAVE: Final = ("I cannot save settings right now: the database is unreachable. "
                      "Try again in a minute.")
CANNOT_READ: Final = ("I cannot read the settings right now: the database is unreachable. "
                      "Try again in a minute.")
UNAVAILABLE: Final = ("I cannot do that right now: my database is unreachable. "
                      "Try again in a minute.")

#: How long ``/interpret status`` waits for the database's answer (it has deferred).
PING_TIMEOUT_S: Final = 2.0


class SettingsUnavailable(UserError):
    """A settings command met an unavailable database."""


@contextlib.contextmanager
def settings_store(*, changing: bool) -> Iterator[None]:
    """Around a settings command's store calls: an outage is the user's one sentence."""
    try:
        yield
    except StoreUnavailable:
        raise SettingsUnavailable(CANNOT_SAVE if changing else CANNOT_READ) from None


async def store_outage(store: Store, transcripts: TranscriptService,
                       run_id: str | None) -> RunLosses | None:
    """``None`` when the database answers and takes the run's segments; else what the
    run lost and has waiting so far."""
    try:
        async with asyncio.timeout(PING_TIMEOUT_S):
            await store.ping()
        down = run_id is not None and transcripts.storing_outage(run_id) is not None
    except (StoreUnavailable, TimeoutError):
        down = True
    if not down:
        return None
    return transcripts.losses(run_id) if run_id is not None else RunLosses()
