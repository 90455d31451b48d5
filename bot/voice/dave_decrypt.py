"""DAVE (end-to-end) decryption of one Opus frame, with davey's errors classified.

davey raises ``ValueError("Failed to decrypt: <Kind>")``; the kinds that matter:

- ``NoDecryptorForUser``: the member is not (yet) in our MLS group, or the SSRC is
  attributed to the wrong user.
- ``NoValidCryptorFound``: a replayed frame, or keys not ready yet (normal for about
  100 ms after a join and after every re-init).
- ``UnencryptedWhenPassthroughDisabled``: a clear frame where encryption is required;
  historically caused by receivers that forgot to strip RTP padding.

The Opus silence frame ``F8 FF FE`` is sent unencrypted by DAVE clients and passes
through here without touching the session. Each frame is decrypted exactly once:
a second attempt would be a replay. Passthrough mode is discord.py's business
(it enables it during protocol transitions); we never force it on.
"""

from __future__ import annotations

from typing import Final, Protocol

import davey

from bot.voice.rtp import SILENCE_FRAME, DropReason

_AUDIO: Final = davey.MediaType.audio
_KINDS: Final = (
    ("NoDecryptorForUser", DropReason.DAVE_NO_DECRYPTOR),
    ("NoValidCryptorFound", DropReason.DAVE_NO_CRYPTOR),
    ("UnencryptedWhenPassthroughDisabled", DropReason.DAVE_UNENCRYPTED),
)


class DaveSessionLike(Protocol):
    """The part of ``davey.DaveSession`` the receive path uses."""

    def decrypt(self, user_id: int, media_type: davey.MediaType, packet: bytes) -> bytes: ...

    def get_user_ids(self) -> list[str]: ...


def classify_error(error: Exception) -> DropReason:
    """Map a davey decryption error to the drop reason it is counted under."""
    message = str(error)
    for marker, reason in _KINDS:
        if marker in message:
            return reason
    return DropReason.DAVE_OTHER


def dave_decrypt(session: DaveSessionLike, user_id: int, frame: bytes) -> bytes | DropReason:
    """Decrypt the Opus ``frame`` sent by ``user_id``; never raises."""
    if frame == SILENCE_FRAME:
        return frame
    try:
        return session.decrypt(user_id, _AUDIO, frame)
    except Exception as error:  # davey raises ValueError; anything else is counted too
        return classify_error(error)
