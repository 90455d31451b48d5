"""Members' own choices (language, voice, opt-out), readable without I/O.

The engine asks for a member's preference on the audio path (every frame, to
drop opted-out members), so it must never wait on the database. This class
keeps an in-memory view per guild, loaded from the store once (before a run of
that guild starts, or on the first change) and updated in place whenever a
member changes something, so the lookup a run holds always sees the current
choice. Writes go to the store first: the view never claims what is not stored.
"""

from __future__ import annotations

import asyncio

from bot.interpretation.run import MemberPreference, PreferenceLookup
from bot.store import Store, StoredPreference

_DEFAULT = MemberPreference()


class MemberPreferences:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._guilds: dict[int, dict[int, MemberPreference]] = {}
        self._loading: dict[int, asyncio.Lock] = {}
        self._writing: dict[int, asyncio.Lock] = {}

    async def load(self, guild_id: int) -> None:
        """Read the guild's preferences from the store unless already held."""
        lock = self._loading.setdefault(guild_id, asyncio.Lock())
        async with lock:
            if guild_id in self._guilds:
                return
            stored = await self._store.member_preferences(guild_id)
            self._guilds[guild_id] = {member: _engine(p) for member, p in stored.items()}

    def lookup(self, guild_id: int) -> PreferenceLookup:
        """A no-I/O lookup for one guild's run; sees later changes. ``load`` first."""
        view = self._guilds.setdefault(guild_id, {})

        def preference(member_id: int) -> MemberPreference:
            return view.get(member_id, _DEFAULT)

        return preference

    def sources(self, guild_id: int) -> dict[int, str]:
        """Members of the guild who set their own spoken language (``load`` first)."""
        return {member: pref.source_language
                for member, pref in self._guilds.get(guild_id, {}).items()
                if pref.source_language is not None}

    async def get(self, guild_id: int, member_id: int) -> StoredPreference:
        return await self._store.member_preference(guild_id, member_id)

    async def update(self, guild_id: int, member_id: int, *,
                     source_language: str | None = None, voice: str | None = None,
                     opted_out: bool | None = None,
                     clear: frozenset[str] = frozenset()) -> StoredPreference:
        """Change some of the member's choices (``clear`` names fields to unset)."""
        await self.load(guild_id)
        # The store writes only the given fields, atomically; the lock keeps two edits of
        # this guild from putting their rows into the view in the wrong order.
        async with self._writing.setdefault(guild_id, asyncio.Lock()):
            new = await self._store.update_member_preference(
                guild_id, member_id, source_language=source_language, voice=voice,
                opted_out=opted_out, clear=clear)
            self._remember(guild_id, member_id, new)
        return new

    def _remember(self, guild_id: int, member_id: int, new: StoredPreference) -> None:
        view = self._guilds.setdefault(guild_id, {})
        if new == StoredPreference():
            view.pop(member_id, None)
        else:
            view[member_id] = _engine(new)


def _engine(stored: StoredPreference) -> MemberPreference:
    return MemberPreference(opted_out=stored.opted_out,
                            source_language=stored.source_language,
                            voice_type=stored.voice)
