"""Member id → how they appear in the thread (display name, avatar), cached per run.

The bot has no members intent, so a member may be missing from the cache; then it
asks Discord once (bounded by a timeout) and remembers the answer, a failure
included, for the rest of the run. :meth:`SpeakerDirectory.resolve_all` asks for
many at once (an export of a run with many speakers), a bounded number in flight.
``None`` (mixed mode could not tell who spoke) is an "Unknown speaker".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

import discord

from bot.transcripts.render import UNKNOWN_SPEAKER, Speaker

log = logging.getLogger(__name__)

LOOKUP_TIMEOUT_S = 10.0


class SpeakerDirectory:
    def __init__(self, guild: discord.Guild, *, timeout_s: float = LOOKUP_TIMEOUT_S) -> None:
        self.guild = guild
        self.timeout_s = timeout_s
        self._known: dict[int, Speaker] = {}

    def cached(self, member_id: int | None) -> Speaker:
        """What is known without asking Discord (never blocks)."""
        if member_id is None:
            return Speaker(None, UNKNOWN_SPEAKER)
        known = self._known.get(member_id)
        if known is not None:
            return known
        member = self.guild.get_member(member_id)
        if member is not None:
            return self._remember(member)
        return Speaker(member_id, UNKNOWN_SPEAKER)

    async def resolve(self, member_id: int | None) -> Speaker:
        if member_id is None or member_id in self._known:
            return self.cached(member_id)
        member = self.guild.get_member(member_id)
        if member is None:
            try:
                async with asyncio.timeout(self.timeout_s):
                    member = await self.guild.fetch_member(member_id)
            except (discord.HTTPException, TimeoutError) as exc:
                log.info("member %d unknown to Discord (%s); shown as unknown",
                         member_id, type(exc).__name__)
                self._known[member_id] = Speaker(member_id, UNKNOWN_SPEAKER)
                return self._known[member_id]
        return self._remember(member)

    async def resolve_all(self, member_ids: Iterable[int | None], *, at_once: int) -> None:
        """Resolve every id, at most ``at_once`` lookups in flight; read them with
        :meth:`cached`. Each lookup keeps its own timeout and fallback."""
        gate = asyncio.Semaphore(at_once)

        async def one(member_id: int | None) -> None:
            async with gate:
                await self.resolve(member_id)

        await asyncio.gather(*(one(member_id) for member_id in set(member_ids)))

    def _remember(self, member: discord.Member) -> Speaker:
        speaker = Speaker(member.id, member.display_name, member.display_avatar.url)
        self._known[member.id] = speaker
        return speaker
