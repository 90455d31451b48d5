"""Who is behind each SSRC: the registry fed by voice ops 5, 11, 12 and 13.

- op 5 SPEAKING ``{user_id, ssrc, speaking}`` binds an audio SSRC to a member;
- op 12 CLIENT_CONNECT ``{user_id, audio_ssrc}`` does the same on join
  (``audio_ssrc`` 0 means not known yet);
- op 11 CLIENTS_CONNECT ``{user_ids}`` lists members present (no SSRC);
- op 13 CLIENT_DISCONNECT ``{user_id}`` forgets the member and their SSRCs.

Audio may arrive before op 5; the receiver then attributes the SSRC by trial DAVE
decryption and records it with :meth:`SsrcMap.bind` (``confirmed=False``); a later
op 5 overrides a trial binding. Updates come from the event loop and lookups from
the decoding thread: every method is a single dict operation or runs under a lock.
"""

from __future__ import annotations

import threading


class SsrcMap:
    """SSRC ↔ member registry; see the module docstring for the ops that feed it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users: dict[int, int] = {}
        self._confirmed: set[int] = set()
        self._present: set[int] = set()

    def user_for(self, ssrc: int) -> int | None:
        return self._users.get(ssrc)

    def bind(self, ssrc: int, user_id: int, *, confirmed: bool = True) -> int | None:
        """Attribute ``ssrc`` to ``user_id``; returns the previous user if it changed.

        An unconfirmed (trial) binding never overrides a confirmed one.
        """
        if ssrc == 0:
            return None
        with self._lock:
            previous = self._users.get(ssrc)
            if not confirmed and ssrc in self._confirmed and previous is not None:
                return None
            self._users[ssrc] = user_id
            if confirmed:
                self._confirmed.add(ssrc)
            self._present.add(user_id)
            return previous if previous not in (None, user_id) else None

    def connected(self, user_ids: list[int]) -> None:
        with self._lock:
            self._present.update(user_ids)

    def disconnected(self, user_id: int) -> list[int]:
        """Forget ``user_id``; returns the SSRCs that were theirs."""
        with self._lock:
            self._present.discard(user_id)
            gone = [ssrc for ssrc, user in self._users.items() if user == user_id]
            for ssrc in gone:
                del self._users[ssrc]
                self._confirmed.discard(ssrc)
            return gone

    def present(self) -> frozenset[int]:
        with self._lock:
            return frozenset(self._present)

    def bound_users(self) -> frozenset[int]:
        with self._lock:
            return frozenset(self._users.values())

    def clear(self) -> None:
        with self._lock:
            self._users.clear()
            self._confirmed.clear()
            self._present.clear()
