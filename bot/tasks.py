"""Cancelling tasks with a bound: the one way owners stop what they started.

Every owner (link, router, run, manager) cancels its tasks on close and waits for
them. An unbounded wait turns one task that swallows its cancellation (Python
3.11's ``asyncio.wait_for`` does that when the inner await completes at the same
moment) into a hang of the whole bot, so the wait here is bounded and whatever is
still running afterwards is logged by name and left behind, never waited on again.
Task failures are logged, never re-raised: a close must always finish.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_CANCEL_TIMEOUT_S = 5.0


async def cancel_and_wait(
    tasks: Iterable[asyncio.Future[Any]],
    *,
    timeout: float = DEFAULT_CANCEL_TIMEOUT_S,  # noqa: ASYNC109 (a bound, not an I/O timeout)
) -> set[asyncio.Future[Any]]:
    """Cancel ``tasks`` and wait up to ``timeout`` s; returns those still pending.

    Exceptions of the tasks are logged at WARNING (they are already reported by
    their owners' supervision where it matters) and never raised. A cancellation
    of the caller is honoured after the tasks were cancelled.
    """
    everything = list(tasks)
    pending = {t for t in everything if not t.done()}
    for task in pending:
        task.cancel()
    done: set[asyncio.Future[Any]] = {t for t in everything if t.done()}
    if pending:
        finished, pending = await asyncio.wait(pending, timeout=timeout)
        done |= finished
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            log.warning("task %s ended with %r", _name(task), task.exception())
    for task in pending:
        log.error("task %s did not stop within %.1f s of being cancelled", _name(task), timeout)
    return pending


def _name(task: asyncio.Future[Any]) -> str:
    return task.get_name() if isinstance(task, asyncio.Task) else repr(task)
