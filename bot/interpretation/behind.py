"""What a link dropped to keep its delay within its bound: by cause, and when.

A link past its bound (:mod:`~bot.interpretation.backlog` for the uplink, the playback
input's backlog for the downlink) drops audio. Every drop is counted here in ms of
audio by cause (:data:`CAUSES`, exported as a metric), the link is *behind* while it
dropped in the last :data:`SHOWN_FOR_S` (``/interpret status`` says so), and a
dropping that lasts — drops no more than :data:`EPISODE_GAP_S` apart for at least
:data:`TELL_AFTER_S` — is to be told, once per such episode.

Pure: the time is a parameter.
"""

from __future__ import annotations

from typing import Final

UPLINK_PAUSE_SHORTENED: Final = "uplink_pause_shortened"
UPLINK_SPEECH_DROPPED: Final = "uplink_speech_dropped"
DOWNLINK_DROPPED: Final = "downlink_dropped"
CAUSES: Final = (UPLINK_PAUSE_SHORTENED, UPLINK_SPEECH_DROPPED, DOWNLINK_DROPPED)

SHOWN_FOR_S: Final = 10.0
"""A link that dropped this recently is shown as behind."""
EPISODE_GAP_S: Final = 2.0
"""Drops further apart than this are separate episodes."""
TELL_AFTER_S: Final = 5.0
"""An episode this long is told (a short stall is only counted)."""


class BehindRecord:
    """Drops of one link (see the module docstring)."""

    def __init__(self) -> None:
        self.dropped_ms: dict[str, float] = dict.fromkeys(CAUSES, 0.0)
        """ms of audio dropped (or of pause shortened) by cause, since the link was made."""
        self._last: float | None = None
        self._since = 0.0
        self._told = False

    def note(self, cause: str, ms: float, now: float) -> bool:
        """``ms`` of audio went for ``cause`` at ``now``. ``True`` once per episode:
        the dropping has lasted long enough to be told."""
        self.dropped_ms[cause] = self.dropped_ms.get(cause, 0.0) + ms
        if self._last is None or now - self._last > EPISODE_GAP_S:
            self._since, self._told = now, False
        self._last = now
        if self._told or now - self._since < TELL_AFTER_S:
            return False
        self._told = True
        return True

    def behind(self, now: float) -> bool:
        """Whether the link dropped in the last :data:`SHOWN_FOR_S`."""
        return self._last is not None and now - self._last <= SHOWN_FOR_S
