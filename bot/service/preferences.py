"""Members' own choices (language, voice, opt-out, caption language), readable without I/O.

The engine asks for a member's preference on the audio path (every frame, to
drop opted-out members), so it must never wait on the database. This class
keeps an in-memory view per guild, loaded from the store once (before a run of
that guild starts, or on the first change) and updated in place whenever a
member changes something, so the lookup a run holds always sees the current
choice. Writes go to the store first: the view never claims what is not stored.

Only guilds in use are held, so memory follows activity rather than every guild
ever served. A guild is in use while a lookup handed out for it is alive (a run
holds its lookup for its whole life, however long: the view it reads must stay the
one changes go to), while a load or a change of it is under way, and for
``idle_s`` after its last load, lookup or change (so the lookup ``start`` asks for
right after its load finds the guild still there). Anything else is forgotten; the
next load reads the store again.
"""

from __future__ import annotations

import asyncio
import collections
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from bot.interpretation.events import MemberPreference, PreferenceLookup
from bot.store import Store, StoredPreference

_DEFAULT = MemberPreference()

IDLE_S: Final = 600.0
"""How long a guild no run holds stays loaded after its last use."""


@dataclass(eq=False)
class _Guild:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    view: dict[int, MemberPreference] | None = None
    """``None`` until loaded from the store."""
    busy: int = 0
    """Loads and changes under way (waiting for the lock included)."""
    lookups: weakref.WeakSet[PreferenceLookup] = field(default_factory=weakref.WeakSet)
    """The lookups handed out that are still alive: the runs reading this view."""
    used_at: float = 0.0

    @property
    def in_use(self) -> bool:
        return self.busy > 0 or len(self.lookups) > 0


class MemberPreferences:
    def __init__(self, store: Store, *, idle_s: float = IDLE_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._idle_s = idle_s
        self._clock = clock
        # Least recently used first, so the forgettable ones are found at the front.
        self._guilds: collections.OrderedDict[int, _Guild] = collections.OrderedDict()

    async def load(self, guild_id: int) -> None:
        """Read the guild's preferences from the store unless already held."""
        guild = self._use(guild_id)
        guild.busy += 1
        try:
            async with guild.lock:
                await self._loaded(guild_id, guild)
        finally:
            guild.busy -= 1

    def lookup(self, guild_id: int) -> PreferenceLookup:
        """A no-I/O lookup for one guild's run; sees later changes. ``load`` first.

        The guild stays loaded for as long as the returned lookup is alive."""
        guild = self._use(guild_id)
        if guild.view is None:
            guild.view = {}
        view = guild.view

        def preference(member_id: int) -> MemberPreference:
            return view.get(member_id, _DEFAULT)

        guild.lookups.add(preference)
        return preference

    def sources(self, guild_id: int) -> dict[int, str]:
        """Members of the guild who set their own spoken language (``load`` first)."""
        guild = self._guilds.get(guild_id)
        view = guild.view if guild is not None and guild.view is not None else {}
        return {member: pref.source_language for member, pref in view.items()
                if pref.source_language is not None}

    @property
    def held(self) -> int:
        """How many guilds are held in memory (for tests)."""
        return len(self._guilds)

    async def get(self, guild_id: int, member_id: int) -> StoredPreference:
        return await self._store.member_preference(guild_id, member_id)

    async def update(self, guild_id: int, member_id: int, *,
                     source_language: str | None = None, voice: str | None = None,
                     opted_out: bool | None = None, caption_language: str | None = None,
                     clear: frozenset[str] = frozenset()) -> StoredPreference:
        """Change some of the member's choices (``clear`` names fields to unset)."""
        guild = self._use(guild_id)
        guild.busy += 1
        try:
            # Under the guild's lock: a load running meanwhile cannot install a view
            # read before this write over the one this change updates.
            async with guild.lock:
                view = await self._loaded(guild_id, guild)
                # The store writes only the given fields, atomically.
                new = await self._store.update_member_preference(
                    guild_id, member_id, source_language=source_language, voice=voice,
                    opted_out=opted_out, caption_language=caption_language, clear=clear)
                if new == StoredPreference():
                    view.pop(member_id, None)
                else:
                    view[member_id] = _engine(new)
                return new
        finally:
            guild.busy -= 1

    async def _loaded(self, guild_id: int, guild: _Guild) -> dict[int, MemberPreference]:
        """The guild's view, read from the store if not yet (the caller holds its lock)."""
        if guild.view is None:
            stored = await self._store.member_preferences(guild_id)
            guild.view = {member: _engine(p) for member, p in stored.items()}
        return guild.view

    def _use(self, guild_id: int) -> _Guild:
        """The guild's entry, marked as just used; guilds idle for long are forgotten."""
        now = self._clock()
        self._forget_idle(now)
        guild = self._guilds.get(guild_id)
        if guild is None:
            guild = self._guilds[guild_id] = _Guild()
        else:
            self._guilds.move_to_end(guild_id)
        guild.used_at = now
        return guild

    def _forget_idle(self, now: float) -> None:
        while self._guilds:
            guild_id, guild = next(iter(self._guilds.items()))
            if now - guild.used_at < self._idle_s:
                return
            if guild.in_use:
                # A run holds it (or a change is under way): look again after idle_s.
                guild.used_at = now
                self._guilds.move_to_end(guild_id)
            else:
                del self._guilds[guild_id]


def _engine(stored: StoredPreference) -> MemberPreference:
    return MemberPreference(opted_out=stored.opted_out,
                            source_language=stored.source_language,
                            voice_type=stored.voice,
                            caption_language=stored.caption_language)
