"""Voice-gateway framing of DAVE messages, exactly as Discord's voice websocket carries them.

Server → client: binary ops are `seq (u16 big-endian) + opcode (u8) + payload`; JSON
ops are `{"op", "d", "seq"}` text frames. Client → server: binary ops are
`opcode (u8) + payload` (no seq), JSON ops `{"op", "d"}`. One `seq` counter numbers
everything the server sends on a connection (discord.py echoes it as `seq_ack`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class DaveOp(IntEnum):
    PREPARE_TRANSITION = 21  # JSON, server → client
    EXECUTE_TRANSITION = 22  # JSON, server → client
    TRANSITION_READY = 23  # JSON, client → server
    PREPARE_EPOCH = 24  # JSON, server → client
    MLS_EXTERNAL_SENDER = 25  # binary, server → client
    MLS_KEY_PACKAGE = 26  # binary, client → server
    MLS_PROPOSALS = 27  # binary, server → client
    MLS_COMMIT_WELCOME = 28  # binary, client → server
    MLS_ANNOUNCE_COMMIT_TRANSITION = 29  # binary, server → client
    MLS_WELCOME = 30  # binary, server → client
    MLS_INVALID_COMMIT_WELCOME = 31  # JSON, client → server


BINARY_OPS = frozenset(
    {
        DaveOp.MLS_EXTERNAL_SENDER,
        DaveOp.MLS_KEY_PACKAGE,
        DaveOp.MLS_PROPOSALS,
        DaveOp.MLS_COMMIT_WELCOME,
        DaveOp.MLS_ANNOUNCE_COMMIT_TRANSITION,
        DaveOp.MLS_WELCOME,
    }
)


@dataclass(frozen=True)
class Outgoing:
    """One message the voice server sends to one user.

    `payload` is the binary body after the opcode (no seq) for binary ops, or the
    JSON `d` object for JSON ops.
    """

    to: int
    opcode: int
    payload: bytes | dict[str, Any]
    #: For ops 29/30: the epoch the commit starts (bookkeeping for the fake's own
    #: members, whose client libraries do not expose it; never on the wire).
    epoch: int | None = None

    @property
    def is_binary(self) -> bool:
        return isinstance(self.payload, bytes)

    def to_wire(self, seq: int) -> bytes | str:
        """The websocket frame: bytes for a binary frame, str for a text frame."""
        if isinstance(self.payload, bytes):
            return seq.to_bytes(2, "big") + bytes([self.opcode]) + self.payload
        return json.dumps({"op": self.opcode, "d": self.payload, "seq": seq})


def decode_client_binary(frame: bytes) -> tuple[int, bytes]:
    """Split a client's binary frame into (opcode, payload); ValueError if empty."""
    if not frame:
        raise ValueError("empty binary frame")
    return frame[0], frame[1:]


def encode_client_binary(opcode: int, payload: bytes) -> bytes:
    """What discord.py's `send_binary` writes: the opcode byte then the payload."""
    return bytes([opcode]) + payload
