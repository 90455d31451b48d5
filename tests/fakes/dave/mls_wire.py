"""MLS (RFC 9420) wire encoding for the fake DAVE voice server: pure functions only.

The voice server is MLS's *external sender*: it never holds group secrets, it only
signs Add/Remove proposals and relays commits and welcomes. So this module needs the
TLS presentation language encoders for what it writes (external sender, proposals,
PublicMessage framing) and structural decoders for what clients send it (KeyPackage
in op 26, commit MLSMessage + bare Welcome concatenated in op 28), enough to validate
them, read the identities and epoch, and find where the commit ends.

Every decoder raises `MlsDecodeError` (a `ValueError`) on malformed input.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

MLS_VERSION_10 = 1
# DAVE protocol version 1 uses MLS_128_DHKEMP256_AES128GCM_SHA256_P256.
CIPHERSUITE_P256 = 2

WIRE_FORMAT_PUBLIC_MESSAGE = 1
WIRE_FORMAT_PRIVATE_MESSAGE = 2
WIRE_FORMAT_WELCOME = 3

SENDER_MEMBER = 1
SENDER_EXTERNAL = 2
SENDER_NEW_MEMBER_PROPOSAL = 3
SENDER_NEW_MEMBER_COMMIT = 4

CONTENT_APPLICATION = 1
CONTENT_PROPOSAL = 2
CONTENT_COMMIT = 3

PROPOSAL_ADD = 1
PROPOSAL_REMOVE = 3

PROPOSAL_OR_REF_PROPOSAL = 1
PROPOSAL_OR_REF_REFERENCE = 2

CREDENTIAL_BASIC = 1

LEAF_SOURCE_KEY_PACKAGE = 1
LEAF_SOURCE_UPDATE = 2
LEAF_SOURCE_COMMIT = 3

_VARINT_MAX = (1 << 30) - 1


class MlsDecodeError(ValueError):
    """Bytes that are not the MLS structure they were supposed to be."""


# --------------------------------------------------------------------------- encoders


def encode_varint(value: int) -> bytes:
    """RFC 9420 §2.1.2 variable-size length: minimal 1-, 2- or 4-byte QUIC-style varint."""
    if value < 0 or value > _VARINT_MAX:
        raise ValueError(f"varint out of range: {value}")
    if value < 1 << 6:
        return bytes([value])
    if value < 1 << 14:
        return struct.pack(">H", 0x4000 | value)
    return struct.pack(">I", 0x8000_0000 | value)


def encode_opaque(data: bytes) -> bytes:
    """`opaque data<V>`: varint length then the bytes."""
    return encode_varint(len(data)) + data


def u8(value: int) -> bytes:
    return struct.pack(">B", value)


def u16(value: int) -> bytes:
    return struct.pack(">H", value)


def u32(value: int) -> bytes:
    return struct.pack(">I", value)


def u64(value: int) -> bytes:
    return struct.pack(">Q", value)


def encode_basic_credential(identity: bytes) -> bytes:
    return u16(CREDENTIAL_BASIC) + encode_opaque(identity)


def encode_external_sender(signature_key: bytes, identity: bytes) -> bytes:
    """`ExternalSender {SignaturePublicKey signature_key; Credential credential}`."""
    # This struct, serialised alone, is op 25's whole payload.
    return encode_opaque(signature_key) + encode_basic_credential(identity)


def encode_add_proposal(key_package: bytes) -> bytes:
    return u16(PROPOSAL_ADD) + key_package


def encode_remove_proposal(leaf_index: int) -> bytes:
    return u16(PROPOSAL_REMOVE) + u32(leaf_index)


def encode_external_framed_content(
    group_id: bytes, epoch: int, sender_index: int, proposal: bytes
) -> bytes:
    """`FramedContent` of a proposal sent by external sender `sender_index`."""
    return (
        encode_opaque(group_id)
        + u64(epoch)
        + u8(SENDER_EXTERNAL)
        + u32(sender_index)
        + encode_opaque(b"")  # authenticated_data
        + u8(CONTENT_PROPOSAL)
        + proposal
    )


def framed_content_tbs(framed_content: bytes) -> bytes:
    """`FramedContentTBS` for an external sender: no GroupContext is appended (RFC 9420 §6.1)."""
    return u16(MLS_VERSION_10) + u16(WIRE_FORMAT_PUBLIC_MESSAGE) + framed_content


def sign_content(label: str, content: bytes) -> bytes:
    """`SignContent` that SignWithLabel signs: `"MLS 1.0 " + label` and content, both <V>."""
    return encode_opaque(b"MLS 1.0 " + label.encode()) + encode_opaque(content)


def ref_hash(label: str, value: bytes) -> bytes:
    """`RefHash(label, value)` with SHA-256 (the ciphersuite's hash)."""
    return hashlib.sha256(encode_opaque(label.encode()) + encode_opaque(value)).digest()


def proposal_ref(authenticated_content: bytes) -> bytes:
    """`ProposalRef` of a proposal message, over its `AuthenticatedContent`."""
    return ref_hash("MLS 1.0 Proposal Reference", authenticated_content)


def encode_proposals_payload(items: list[bytes]) -> bytes:
    """Op 27 body after the operation byte: ONE `<V>` vector holding the items back to back.

    For append the items are whole MLSMessages, for revoke `ProposalRef`s each
    encoded `opaque<V>` (davey deserialises a `VLBytes`, then items until it is empty).
    """
    return encode_opaque(b"".join(items))


def encode_proposal_ref(ref: bytes) -> bytes:
    return encode_opaque(ref)


# --------------------------------------------------------------------------- decoders


class Reader:
    """A cursor over bytes that raises `MlsDecodeError` instead of reading past the end."""

    def __init__(self, data: bytes, offset: int = 0) -> None:
        self.data = data
        self.offset = offset

    def take(self, n: int) -> bytes:
        end = self.offset + n
        if n < 0 or end > len(self.data):
            raise MlsDecodeError(f"truncated: wanted {n} bytes at offset {self.offset}")
        chunk = self.data[self.offset : end]
        self.offset = end
        return chunk

    def uint(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def varint(self) -> int:
        first = self.uint(1)
        prefix = first >> 6
        if prefix == 0:
            return first & 0x3F
        if prefix == 1:
            value = ((first & 0x3F) << 8) | self.uint(1)
            if value < 1 << 6:
                raise MlsDecodeError("non-minimal varint")
            return value
        if prefix == 2:
            value = ((first & 0x3F) << 24) | self.uint(3)
            if value < 1 << 14:
                raise MlsDecodeError("non-minimal varint")
            return value
        raise MlsDecodeError("invalid varint prefix 0b11")

    def opaque(self) -> bytes:
        return self.take(self.varint())

    def optional_present(self) -> bool:
        flag = self.uint(1)
        if flag > 1:
            raise MlsDecodeError(f"bad optional flag {flag}")
        return flag == 1

    @property
    def remaining(self) -> int:
        return len(self.data) - self.offset

    def expect_end(self) -> None:
        if self.remaining:
            raise MlsDecodeError(f"{self.remaining} trailing bytes")


@dataclass(frozen=True)
class LeafNodeInfo:
    encryption_key: bytes
    signature_key: bytes
    identity: bytes


@dataclass(frozen=True)
class KeyPackageInfo:
    cipher_suite: int
    leaf: LeafNodeInfo
    # `KeyPackageTBS` (every field but the signature) and the signature over it.
    signed_part: bytes
    signature: bytes

    @property
    def user_id(self) -> int | None:
        """The DAVE identity: the user id as 8 big-endian bytes, else None."""
        if len(self.leaf.identity) != 8:
            return None
        return int.from_bytes(self.leaf.identity, "big")


@dataclass(frozen=True)
class CommitInfo:
    group_id: bytes
    epoch: int
    sender_type: int
    sender_index: int
    proposal_refs: tuple[bytes, ...]
    inline_proposal_types: tuple[int, ...]
    has_path: bool


def _read_credential(reader: Reader) -> bytes:
    credential_type = reader.uint(2)
    if credential_type != CREDENTIAL_BASIC:
        raise MlsDecodeError(f"unsupported credential type {credential_type}")
    return reader.opaque()


def _read_leaf_node(reader: Reader) -> LeafNodeInfo:
    encryption_key = reader.opaque()
    signature_key = reader.opaque()
    identity = _read_credential(reader)
    for _ in range(5):  # capabilities: versions, cipher_suites, extensions, proposals, credentials
        reader.opaque()
    source = reader.uint(1)
    if source == LEAF_SOURCE_KEY_PACKAGE:
        reader.take(16)  # lifetime: not_before, not_after
    elif source == LEAF_SOURCE_COMMIT:
        reader.opaque()  # parent_hash
    elif source != LEAF_SOURCE_UPDATE:
        raise MlsDecodeError(f"bad leaf_node_source {source}")
    reader.opaque()  # extensions
    reader.opaque()  # signature
    return LeafNodeInfo(encryption_key, signature_key, identity)


def read_key_package(reader: Reader) -> KeyPackageInfo:
    start = reader.offset
    version = reader.uint(2)
    if version != MLS_VERSION_10:
        raise MlsDecodeError(f"unsupported MLS version {version}")
    cipher_suite = reader.uint(2)
    reader.opaque()  # init_key
    leaf = _read_leaf_node(reader)
    reader.opaque()  # extensions
    signed_part = reader.data[start : reader.offset]
    signature = reader.opaque()
    return KeyPackageInfo(cipher_suite, leaf, signed_part, signature)


def parse_key_package(data: bytes) -> KeyPackageInfo:
    """Decode a bare `KeyPackage` (op 26's payload), refusing trailing bytes."""
    reader = Reader(data)
    info = read_key_package(reader)
    reader.expect_end()
    return info


def _read_proposal_type(reader: Reader) -> int:
    proposal_type = reader.uint(2)
    if proposal_type == PROPOSAL_ADD:
        read_key_package(reader)
    elif proposal_type == PROPOSAL_REMOVE:
        reader.uint(4)
    else:
        # Other proposal types never appear in DAVE commits; their bodies are not skipped.
        raise MlsDecodeError(f"unsupported inline proposal type {proposal_type}")
    return proposal_type


def read_commit_message(reader: Reader) -> CommitInfo:
    """Decode an `MLSMessage` holding a PublicMessage commit; leaves the reader after it."""
    version = reader.uint(2)
    if version != MLS_VERSION_10:
        raise MlsDecodeError(f"unsupported MLS version {version}")
    wire_format = reader.uint(2)
    if wire_format != WIRE_FORMAT_PUBLIC_MESSAGE:
        raise MlsDecodeError(f"commit is not a PublicMessage (wire_format {wire_format})")
    group_id = reader.opaque()
    epoch = reader.uint(8)
    sender_type = reader.uint(1)
    sender_index = 0
    if sender_type in (SENDER_MEMBER, SENDER_EXTERNAL):
        sender_index = reader.uint(4)
    elif sender_type not in (SENDER_NEW_MEMBER_PROPOSAL, SENDER_NEW_MEMBER_COMMIT):
        raise MlsDecodeError(f"bad sender type {sender_type}")
    reader.opaque()  # authenticated_data
    content_type = reader.uint(1)
    if content_type != CONTENT_COMMIT:
        raise MlsDecodeError(f"content type {content_type} is not a commit")
    proposals = Reader(reader.opaque())
    refs: list[bytes] = []
    inline: list[int] = []
    while proposals.remaining:
        kind = proposals.uint(1)
        if kind == PROPOSAL_OR_REF_REFERENCE:
            refs.append(proposals.opaque())
        elif kind == PROPOSAL_OR_REF_PROPOSAL:
            inline.append(_read_proposal_type(proposals))
        else:
            raise MlsDecodeError(f"bad ProposalOrRefType {kind}")
    has_path = reader.optional_present()
    if has_path:
        _read_leaf_node(reader)
        reader.opaque()  # UpdatePathNode nodes<V>
    reader.opaque()  # signature
    reader.opaque()  # confirmation_tag
    if sender_type == SENDER_MEMBER:
        reader.opaque()  # membership_tag
    return CommitInfo(
        group_id=group_id,
        epoch=epoch,
        sender_type=sender_type,
        sender_index=sender_index,
        proposal_refs=tuple(refs),
        inline_proposal_types=tuple(inline),
        has_path=has_path,
    )


def parse_commit(data: bytes) -> CommitInfo:
    """Decode a commit MLSMessage, refusing trailing bytes."""
    reader = Reader(data)
    info = read_commit_message(reader)
    reader.expect_end()
    return info


def parse_welcome(data: bytes) -> int:
    """Validate a bare `Welcome` (what davey emits and consumes); returns its cipher suite."""
    reader = Reader(data)
    cipher_suite = reader.uint(2)
    reader.opaque()  # EncryptedGroupSecrets secrets<V>
    reader.opaque()  # encrypted_group_info
    reader.expect_end()
    return cipher_suite


def split_commit_welcome(payload: bytes) -> tuple[bytes, bytes | None]:
    """Split op 28's payload: a commit MLSMessage, then (if members were added) a bare Welcome.

    discord.py concatenates the two with no length prefix, so the commit's own
    structure is the only way to find its end.
    """
    reader = Reader(payload)
    read_commit_message(reader)
    commit = payload[: reader.offset]
    welcome = payload[reader.offset :]
    return commit, (welcome or None)
