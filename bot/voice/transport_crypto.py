"""Transport decryption of voice packets (the hop-by-hop layer under DAVE).

Discord negotiates one of two AEAD "rtpsize" modes in op 4 SESSION_DESCRIPTION and
hands out a fresh 32-byte key with every op 4 (a reconnect means a new key), so a
:class:`TransportCipher` is immutable and the receiver swaps in a new one on each
op 4; the socket thread reads the current one once per packet.

Layout: ``clear header (AAD) | ciphertext+tag | 4-byte nonce counter``; the nonce is
the counter followed by zeros (24 bytes for XChaCha20-Poly1305, 12 for AES-256-GCM).
"""

from __future__ import annotations

from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_decrypt
from nacl.exceptions import CryptoError

XCHACHA: Final = "aead_xchacha20_poly1305_rtpsize"
AES_GCM: Final = "aead_aes256_gcm_rtpsize"
SUPPORTED_MODES: Final = (XCHACHA, AES_GCM)

TAG_LENGTH: Final = 16
NONCE_COUNTER_LENGTH: Final = 4
_XCHACHA_PAD: Final = bytes(20)
_GCM_PAD: Final = bytes(8)


class UnsupportedModeError(ValueError):
    """Discord selected a transport mode this receiver cannot decrypt."""


class TransportCipher:
    """Decrypts packets for one (mode, key) pair from one op 4."""

    __slots__ = ("_aes", "_key", "mode")

    def __init__(self, mode: str, secret_key: bytes | list[int]) -> None:
        key = bytes(secret_key)
        if len(key) != 32:
            raise ValueError("the voice secret key is 32 bytes")
        if mode not in SUPPORTED_MODES:
            raise UnsupportedModeError(mode)
        self.mode = mode
        self._key = key
        self._aes = AESGCM(key) if mode == AES_GCM else None

    def __repr__(self) -> str:  # never show the key
        return f"TransportCipher(mode={self.mode!r})"

    def decrypt(self, datagram: bytes, clear_length: int) -> bytes | None:
        """The plaintext after the clear header, or ``None`` if it fails to authenticate."""
        if len(datagram) < clear_length + TAG_LENGTH + NONCE_COUNTER_LENGTH:
            return None
        aad = datagram[:clear_length]
        counter = datagram[-NONCE_COUNTER_LENGTH:]
        sealed = datagram[clear_length:-NONCE_COUNTER_LENGTH]
        if self._aes is not None:
            try:
                return self._aes.decrypt(counter + _GCM_PAD, sealed, aad)
            except InvalidTag:
                return None
        try:
            return crypto_aead_xchacha20poly1305_ietf_decrypt(
                sealed, aad, counter + _XCHACHA_PAD, self._key
            )
        except CryptoError:
            return None
