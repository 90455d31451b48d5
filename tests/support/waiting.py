"""Waiting for a condition in async tests, with a deadline instead of a sleep."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def eventually(predicate: Callable[[], object], within: float = 10.0,
                     poll: float = 0.05) -> None:
    """Return once ``predicate()`` is truthy; ``TimeoutError`` after ``within`` seconds."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 (state lives in foreign objects: poll)
            await asyncio.sleep(poll)
