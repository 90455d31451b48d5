"""The voice server's MLS external-sender identity: a P-256 key that signs proposals.

Discord's voice server is listed in every DAVE group's `external_senders` extension
(op 25 tells clients who it is) and is the only party allowed to propose Adds and
Removes. Proposals travel as `MLSMessage(PublicMessage)` with sender type
`external`, signed with SignWithLabel("FramedContentTBS", ...) over ECDSA P-256 /
SHA-256 (DER), as ciphersuite 2 requires.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.fakes.dave import mls_wire
from tests.fakes.dave.signing import sign_with_label


@dataclass(frozen=True)
class SignedProposal:
    """An external proposal ready for op 27, with the reference commits will cite."""

    message: bytes
    ref: bytes


class ExternalSender:
    """Signs proposals for one voice server; `package` is op 25's payload."""

    def __init__(self, identity: bytes = b"fake-discord-voice", sender_index: int = 0) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.identity = identity
        # Position of this sender in the group's external_senders list: DAVE has one.
        self.sender_index = sender_index

    @property
    def signature_key(self) -> bytes:
        """SEC1 uncompressed point, the form openmls/davey use for P-256 public keys."""
        return self._key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    @property
    def package(self) -> bytes:
        return mls_wire.encode_external_sender(self.signature_key, self.identity)

    def sign_with_label(self, label: str, content: bytes) -> bytes:
        return sign_with_label(self._key, label, content)

    def propose(self, group_id: bytes, epoch: int, proposal: bytes) -> SignedProposal:
        content = mls_wire.encode_external_framed_content(
            group_id, epoch, self.sender_index, proposal
        )
        signature = self.sign_with_label("FramedContentTBS", mls_wire.framed_content_tbs(content))
        # AuthenticatedContent = wire_format || FramedContent || auth (no membership tag
        # for external senders), i.e. the PublicMessage without its version field.
        authenticated = (
            mls_wire.u16(mls_wire.WIRE_FORMAT_PUBLIC_MESSAGE)
            + content
            + mls_wire.encode_opaque(signature)
        )
        message = mls_wire.u16(mls_wire.MLS_VERSION_10) + authenticated
        return SignedProposal(message=message, ref=mls_wire.proposal_ref(authenticated))

    def propose_add(self, group_id: bytes, epoch: int, key_package: bytes) -> SignedProposal:
        return self.propose(group_id, epoch, mls_wire.encode_add_proposal(key_package))

    def propose_remove(self, group_id: bytes, epoch: int, leaf_index: int) -> SignedProposal:
        return self.propose(group_id, epoch, mls_wire.encode_remove_proposal(leaf_index))
