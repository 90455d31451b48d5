"""A fake member's DAVE client, in either implementation: davey or libdave.

Discord's own clients run libdave (C++ over mlspp); `dave-py` runs it from Python.
The bot runs davey (through discord.py), so members on davey alone would share any
bug of the bot's side. Both clients here take the voice server's messages the way a
Discord client does and answer what it should hear next; the differences that
matter are kept as each implementation has them:

- libdave, like a Discord client, keeps sending with the old epoch's key until the
  server executes the transition (op 22) and keeps the previous keys of every other
  member for the transition window (10 s); decryption is one ``Decryptor`` per
  sender, fed the sender's key ratchet after every commit or welcome.
- davey switches its own key as soon as it processes a commit (that is what
  discord.py, which has no op-22 hook for davey, does).

`epoch` is the epoch a client's frames are encrypted under; the fake sets it from
the commit it delivers (a client library does not expose it). Decryption failures
come back as a short cause string, never as an exception.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Final, Literal, Protocol

import dave
import davey

DaveImpl = Literal["davey", "libdave"]
DAVE_IMPLS: Final[tuple[DaveImpl, ...]] = ("davey", "libdave")

#: How long a libdave decryptor keeps a sender's previous keys after a transition
#: (libdave's and Discord's default).
TRANSITION_WINDOW_S: Final = 10.0

_APPEND = 0


class DaveClientError(Exception):
    """The client could not process an MLS message (it then recovers with op 31)."""


@dataclass(frozen=True)
class Decrypted:
    """One frame's outcome at one receiver: the Opus frame, or why it was lost."""

    frame: bytes | None
    cause: str = ""


class DaveClient(Protocol):
    impl: DaveImpl
    user_id: int
    epoch: int

    @property
    def ready(self) -> bool:
        """In a group and holding a sending key."""

    @property
    def privacy_code(self) -> str:
        """The voice privacy code of the current epoch (30 digits), '' outside a group."""

    def key_package(self) -> bytes: ...

    def set_external_sender(self, package: bytes) -> None: ...

    def process_proposals(self, payload: bytes, recognized: Collection[int]) -> bytes | None:
        """Op 27's payload (operation byte first); returns op 28's payload or None."""

    def process_commit(self, commit: bytes, transition_id: int, epoch: int) -> None: ...

    def process_welcome(self, welcome: bytes, recognized: Collection[int], transition_id: int,
                        epoch: int) -> None: ...

    def execute_transition(self, transition_id: int) -> None: ...

    def reinit(self) -> None:
        """A fresh session (op 31 recovery, or op 24 for epoch 1); a new key package."""

    def encrypt(self, ssrc: int, frame: bytes) -> bytes | None: ...

    def decrypt(self, sender: int, frame: bytes) -> Decrypted: ...


def make_client(impl: DaveImpl, version: int, user_id: int, channel_id: int) -> DaveClient:
    if impl == "davey":
        return DaveyClient(version, user_id, channel_id)
    if impl == "libdave":
        return LibdaveClient(version, user_id, channel_id)
    raise ValueError(f"unknown DAVE implementation {impl!r}")


class DaveyClient:
    """A ``davey.DaveSession``, driven as discord.py 2.7.1 drives it."""

    impl: DaveImpl = "davey"

    def __init__(self, version: int, user_id: int, channel_id: int) -> None:
        self.user_id, self.channel_id, self.version = user_id, channel_id, version
        self.session = davey.DaveSession(version, user_id, channel_id)
        self.epoch = 0

    @property
    def ready(self) -> bool:
        return bool(self.session.ready)

    @property
    def privacy_code(self) -> str:
        return str(self.session.voice_privacy_code or "") if self.ready else ""

    def key_package(self) -> bytes:
        return bytes(self.session.get_serialized_key_package())

    def set_external_sender(self, package: bytes) -> None:
        self.session.set_external_sender(package)

    def process_proposals(self, payload: bytes, recognized: Collection[int]) -> bytes | None:
        operation = (davey.ProposalsOperationType.append if payload[0] == _APPEND
                     else davey.ProposalsOperationType.revoke)
        result = self.session.process_proposals(operation, payload[1:])
        if result is None:
            return None
        return bytes(result.commit + result.welcome if result.welcome else result.commit)

    def process_commit(self, commit: bytes, transition_id: int, epoch: int) -> None:
        try:
            self.session.process_commit(commit)
        except Exception as exc:  # davey raises plain exceptions for bad MLS
            raise DaveClientError(str(exc)) from exc
        self.epoch = epoch  # davey encrypts with the new key at once

    def process_welcome(self, welcome: bytes, recognized: Collection[int], transition_id: int,
                        epoch: int) -> None:
        try:
            self.session.process_welcome(welcome)
        except Exception as exc:
            raise DaveClientError(str(exc)) from exc
        self.epoch = epoch

    def execute_transition(self, transition_id: int) -> None:
        return None

    def reinit(self) -> None:
        self.session.reinit(self.version, self.user_id, self.channel_id)
        self.epoch = 0

    def encrypt(self, ssrc: int, frame: bytes) -> bytes | None:
        if not self.ready:
            return None
        return bytes(self.session.encrypt_opus(frame))

    def decrypt(self, sender: int, frame: bytes) -> Decrypted:
        try:
            return Decrypted(bytes(self.session.decrypt(sender, davey.MediaType.audio, frame)))
        except Exception as exc:  # ValueError("Failed to decrypt: <Kind>")
            return Decrypted(None, str(exc).removeprefix("Failed to decrypt: ")[:40])


@dataclass
class _Pending:
    """A processed commit or welcome whose own sending key waits for op 22."""

    ratchet: dave.IKeyRatchet | None
    epoch: int


@dataclass
class LibdaveClient:
    """libdave's ``Session`` + ``Encryptor`` + a ``Decryptor`` per sender, as Discord runs them."""

    version: int
    user_id: int
    channel_id: int
    impl: DaveImpl = "libdave"
    epoch: int = 0
    #: MLS failures libdave reported through its callback (source, reason).
    failures: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.session = dave.Session(self._on_failure)
        self.encryptor = dave.Encryptor()
        self.decryptors: dict[int, dave.Decryptor] = {}
        self._members: set[int] = set()
        self._pending: dict[int, _Pending] = {}
        self._ssrcs: set[int] = set()
        self.session.init(self.version, self.channel_id, str(self.user_id))

    def _on_failure(self, source: str, reason: str) -> None:
        self.failures.append((source, reason))

    @property
    def ready(self) -> bool:
        return self.session.has_established_group() and self.encryptor.has_key_ratchet()

    @property
    def privacy_code(self) -> str:
        if not self.session.has_established_group():
            return ""
        authenticator = self.session.get_last_epoch_authenticator()
        return dave.generate_displayable_code(authenticator, 30, 5) if authenticator else ""

    def key_package(self) -> bytes:
        package = self.session.get_marshalled_key_package()
        if not package:
            raise DaveClientError("libdave made no key package")
        return bytes(package)

    def set_external_sender(self, package: bytes) -> None:
        self.session.set_external_sender(package)

    def process_proposals(self, payload: bytes, recognized: Collection[int]) -> bytes | None:
        # libdave reads the operation byte itself.
        result = self.session.process_proposals(payload, {str(u) for u in recognized})
        return None if result is None else bytes(result)

    def process_commit(self, commit: bytes, transition_id: int, epoch: int) -> None:
        roster = self.session.process_commit(commit)
        if isinstance(roster, dave.RejectType):
            raise DaveClientError(f"commit {roster.name}")
        self._prepare(roster, transition_id, epoch)

    def process_welcome(self, welcome: bytes, recognized: Collection[int], transition_id: int,
                        epoch: int) -> None:
        roster = self.session.process_welcome(welcome, {str(u) for u in recognized})
        if roster is None:
            raise DaveClientError("welcome refused")
        self._prepare(roster, transition_id, epoch)

    def _prepare(self, roster: dict[int, list[int]], transition_id: int, epoch: int) -> None:
        """Every sender's decryptor moves to the new epoch now (keeping the old keys for
        the window); our own key waits for the transition to execute."""
        for uid, key in roster.items():
            if key:
                self._members.add(int(uid))
            else:
                self._members.discard(int(uid))
                self.decryptors.pop(int(uid), None)
        for uid in self._members:
            if uid == self.user_id:
                continue
            ratchet = self.session.get_key_ratchet(str(uid))
            if ratchet is None:
                continue
            decryptor = self.decryptors.setdefault(uid, dave.Decryptor())
            decryptor.transition_to_key_ratchet(ratchet, TRANSITION_WINDOW_S)
        self._pending[transition_id] = _Pending(
            self.session.get_key_ratchet(str(self.user_id)), epoch)
        if transition_id == 0:
            self.execute_transition(0)

    def execute_transition(self, transition_id: int) -> None:
        pending = self._pending.pop(transition_id, None)
        if pending is None or pending.ratchet is None:
            return
        self.encryptor.set_key_ratchet(pending.ratchet)
        self.epoch = pending.epoch

    def reinit(self) -> None:
        self.session.init(self.version, self.channel_id, str(self.user_id))
        self.encryptor = dave.Encryptor()
        self.decryptors.clear()
        self._members.clear()
        self._pending.clear()
        self._ssrcs.clear()
        self.epoch = 0

    def encrypt(self, ssrc: int, frame: bytes) -> bytes | None:
        if not self.ready:
            return None
        if ssrc not in self._ssrcs:
            self.encryptor.assign_ssrc_to_codec(ssrc, dave.Codec.opus)
            self._ssrcs.add(ssrc)
        out = self.encryptor.encrypt(dave.MediaType.audio, ssrc, frame)
        return None if out is None else bytes(out)

    def decrypt(self, sender: int, frame: bytes) -> Decrypted:
        decryptor = self.decryptors.get(sender)
        if decryptor is None:
            return Decrypted(None, "NoDecryptorForUser")
        before = decryptor.get_stats(dave.MediaType.audio)
        missing, nonce = before.decrypt_missing_key_count, before.decrypt_invalid_nonce_count
        out = decryptor.decrypt(dave.MediaType.audio, frame)
        if out is not None:
            return Decrypted(bytes(out))
        after = decryptor.get_stats(dave.MediaType.audio)
        if after.decrypt_missing_key_count > missing:
            return Decrypted(None, "MissingKey")
        if after.decrypt_invalid_nonce_count > nonce:
            return Decrypted(None, "InvalidNonce")
        return Decrypted(None, "DecryptFailed")


