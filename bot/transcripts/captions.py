"""Live captions: one message per active speaker, showing the interim text, throttled.

A pure state machine (``now`` is monotonic seconds). Interim originals update a
speaker's :class:`Caption`; :meth:`CaptionBoard.due` says which captions should be
posted or edited now, never more than once per ``interval_s`` per caption (Discord
allows about five edits per five seconds per channel, and the final post matters
more). When the final original arrives, :meth:`CaptionBoard.finish` detaches the
caption: the writer deletes its message once the final post is in the thread,
so the caption is *replaced* by the post and no gap shows.

Captions are superseded, not queued: only the latest text of each is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class Caption:
    key: str
    member_id: int | None
    text: str
    shown: str | None = None
    """The text the caption message holds now (``None``: not posted yet)."""
    shown_at: float = float("-inf")
    message: Any = None
    """Whatever the writer needs to edit/delete the message (a ``Sent``)."""


class CaptionBoard:
    def __init__(self, interval_s: float = 1.0) -> None:
        self.interval_s = interval_s
        self._active: dict[str, Caption] = {}

    def interim(self, key: str, member_id: int | None, text: str) -> None:
        caption = self._active.get(key)
        if caption is None:
            self._active[key] = Caption(key, member_id, text)
        else:
            caption.text = text
            caption.member_id = member_id if member_id is not None else caption.member_id

    def finish(self, key: str) -> Caption | None:
        """The final transcript arrived: the caption leaves the board (to be deleted)."""
        return self._active.pop(key, None)

    def due(self, now: float) -> list[Caption]:
        """Captions to post or edit now."""
        return [c for c in self._active.values()
                if c.text != c.shown and now - c.shown_at >= self.interval_s]

    def next_deadline(self) -> float | None:
        times = [c.shown_at + self.interval_s for c in self._active.values()
                 if c.text != c.shown]
        return min(times) if times else None

    def shown(self, caption: Caption, text: str, now: float, message: Any) -> None:
        caption.shown = text
        caption.shown_at = now
        caption.message = message

    def drain(self) -> list[Caption]:
        out = list(self._active.values())
        self._active.clear()
        return out
