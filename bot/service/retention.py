"""The periodic purge of stored transcript segments past each server's retention.

One task, started with the services and stopped with them: every ``interval_s`` it
asks the store to delete segments older than their server's ``retention_days``
(default 7). A failing purge is logged and tried again next time; it never ends
the task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from bot.store import Store
from bot.store.errors import StoreUnavailable

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 3600.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RetentionPurger:
    def __init__(self, store: Store, *, interval_s: float = DEFAULT_INTERVAL_S,
                 now: Callable[[], datetime] = _utc_now) -> None:
        self._store = store
        self._interval_s = interval_s
        self._now = now
        self._task: asyncio.Task[None] | None = None
        self.purged = 0

    async def purge_once(self) -> int:
        deleted = await self._store.purge_expired(self._now())
        self.purged += deleted
        if deleted:
            log.info("purged %d transcript segments past their retention", deleted)
        return deleted

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="retention:purge")

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        while True:
            try:
                await self.purge_once()
            except StoreUnavailable as exc:
                log.warning("purging old transcript segments: the database is unavailable "
                            "(%s); trying again later", exc)
            except Exception:
                log.exception("purging old transcript segments failed; trying again later")
            await asyncio.sleep(self._interval_s)
