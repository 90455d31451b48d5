"""The transcript thread of a run: created on start, reused on a quick restart, kept alive.

:class:`ThreadKeeper` owns "the thread we post into" for one run (or one of its
caption languages). It creates a public thread in the transcript channel, named
with the voice channel, language pair and date (:func:`thread_name`; a caption
thread: the language as its readers name it, :func:`caption_thread_name`), or
takes back the thread of a run that ended in the same place less than
:data:`REUSE_WINDOW_S` ago (:class:`ThreadRegistry`
remembers them; in memory, so a bot restart starts a new thread).

If the thread goes away mid-run, the writer's failed request comes back here
through :meth:`ThreadKeeper.recover`:

- deleted (404, Unknown Channel): the next :meth:`ThreadKeeper.get` creates a new
  thread ("… (continued)") and the request is retried there;
- archived and locked (400, code 50083): unarchive and unlock (the bot may manage
  its own threads), or a new thread if that is refused.

An archived thread that is not locked needs nothing: posting unarchives it.
:class:`ThreadUnavailable` means no thread can be had at all (the transcript
channel is gone, or the bot may not create threads in it).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Final

import discord

from bot.languages import native_name

log = logging.getLogger(__name__)

REUSE_WINDOW_S: Final = 600.0
THREAD_NAME_MAX: Final = 100
AUTO_ARCHIVE_MINUTES: Final = 1440
UNKNOWN_CHANNEL: Final = 10003
THREAD_ARCHIVED: Final = 50083


class ThreadUnavailable(Exception):
    """No thread can be used or created in the transcript channel."""


def thread_name(voice_channel: str, source: str, target: str, day: dt.date,
                *, continued: bool = False, pair: bool = False) -> str:
    """``"Voice · en-US → es-ES · 2025-06-01"`` (``↔`` in pair mode), shortened to
    Discord's 100 characters."""
    arrow = "↔" if pair else "→"
    return _named(voice_channel, f"{source} {arrow} {target}", day, continued)


def caption_thread_name(voice_channel: str, language: str, day: dt.date,
                        *, continued: bool = False) -> str:
    """``"Voice · Français · 2025-06-01"``: a caption language's thread."""
    return _named(voice_channel, native_name(language), day, continued)


def _named(voice_channel: str, languages: str, day: dt.date, continued: bool) -> str:
    tail = (f" · {languages} · {day.isoformat()}"
            + (" (continued)" if continued else ""))
    room = max(1, THREAD_NAME_MAX - len(tail))
    voice = " ".join(voice_channel.split()) or "voice"
    if len(voice) > room:
        voice = voice[: room - 1] + "…"
    return (voice + tail)[:THREAD_NAME_MAX]


@dataclass(frozen=True, slots=True)
class ThreadKey:
    """Where a run posts: a restarted run with the same key may reuse the thread."""

    guild_id: int
    voice_channel_id: int
    transcript_channel_id: int
    source_language: str
    target_language: str
    pair: bool = False
    caption: bool = False
    """A caption language's thread (``target_language`` is that language)."""


class ThreadRegistry:
    """Threads of recently ended runs (pure; ``now`` is monotonic seconds)."""

    def __init__(self, window_s: float = REUSE_WINDOW_S) -> None:
        self.window_s = window_s
        self._ended: dict[ThreadKey, tuple[int, float]] = {}

    def remember(self, key: ThreadKey, thread_id: int, now: float) -> None:
        self._prune(now)
        self._ended[key] = (thread_id, now)

    def reusable(self, key: ThreadKey, now: float) -> int | None:
        self._prune(now)
        entry = self._ended.pop(key, None)
        return None if entry is None else entry[0]

    def _prune(self, now: float) -> None:
        for key, (_, ended) in list(self._ended.items()):
            if now - ended >= self.window_s:
                del self._ended[key]


class ThreadKeeper:
    def __init__(self, parent: discord.TextChannel, name: str, *,
                 reuse_id: int | None = None, continued_name: str | None = None) -> None:
        self.parent = parent
        self.name = name
        self.continued_name = continued_name or name
        self._reuse_id = reuse_id
        self._thread: discord.Thread | None = None
        self.created: list[int] = []
        """Ids of the threads this keeper created, in order."""
        self.reused: int | None = None

    @property
    def thread(self) -> discord.Thread | None:
        return self._thread

    async def get(self) -> discord.Thread:
        """The thread to post into (created, or taken back, on first use)."""
        if self._thread is not None:
            return self._thread
        if self._reuse_id is not None:
            reuse_id, self._reuse_id = self._reuse_id, None
            thread = await self._take_back(reuse_id)
            if thread is not None:
                self._thread = thread
                self.reused = thread.id
                return thread
        return await self._create()

    def lost(self, thread_id: int) -> None:
        """The gateway says this thread was deleted: the next :meth:`get` makes a new one."""
        if self._thread is not None and self._thread.id == thread_id:
            log.info("transcript thread %d was deleted; continuing in a new one", thread_id)
            self._thread = None

    async def discard_if_created(self) -> None:
        """Delete the current thread if this keeper created it (used when it stayed empty)."""
        thread = self._thread
        if thread is None or thread.id not in self.created:
            return
        self._thread = None
        await thread.delete()

    async def recover(self, exc: discord.HTTPException) -> bool:
        """After a failed request in the thread: True if retrying now makes sense."""
        if isinstance(exc, discord.NotFound) and exc.code == UNKNOWN_CHANNEL:
            if self._thread is not None:
                self.lost(self._thread.id)
            return True
        if exc.code == THREAD_ARCHIVED and self._thread is not None:
            try:
                self._thread = await self._thread.edit(archived=False, locked=False)
                log.info("transcript thread %d was archived and locked; reopened it",
                         self._thread.id)
            except discord.HTTPException:
                log.info("cannot reopen transcript thread %d; continuing in a new one",
                         self._thread.id)
                self._thread = None
            return True
        return False

    async def _take_back(self, thread_id: int) -> discord.Thread | None:
        thread = self.parent.guild.get_thread(thread_id)
        if thread is None:
            try:
                fetched = await self.parent.guild.fetch_channel(thread_id)
            except discord.HTTPException:
                return None
            thread = fetched if isinstance(fetched, discord.Thread) else None
        if thread is None or thread.parent_id != self.parent.id:
            return None
        if thread.archived:
            try:
                thread = await thread.edit(archived=False, locked=False)
            except discord.HTTPException:
                return None
        return thread

    async def _create(self) -> discord.Thread:
        name = self.continued_name if self.created or self.reused else self.name
        try:
            thread = await self.parent.create_thread(
                name=name, type=discord.ChannelType.public_thread,
                auto_archive_duration=AUTO_ARCHIVE_MINUTES, reason="interpretation transcript")
        except (discord.Forbidden, discord.NotFound) as exc:
            raise ThreadUnavailable(
                f"cannot create a thread in #{self.parent.name}: {exc.text or exc.status}"
            ) from exc
        self._thread = thread
        self.created.append(thread.id)
        return thread
