"""Server messages, framed for the websocket, parse exactly as discord.py 2.7.1 slices them."""

from __future__ import annotations

import json
import struct

import davey

from tests.fakes.dave import DaveOp, DaveVoiceGroup, Outgoing
from tests.fakes.dave.framing import decode_client_binary, encode_client_binary
from tests.unit.dave.helpers import CHANNEL_ID, commit_to, join, only


def test_binary_frame_is_seq_then_opcode_then_payload() -> None:
    wire = Outgoing(1, DaveOp.MLS_EXTERNAL_SENDER, b"\xaa\xbb").to_wire(seq=0x1234)

    assert isinstance(wire, bytes)
    # gateway.py received_binary_message: seq_ack, op = msg[2], payload = msg[3:]
    assert struct.unpack_from(">H", wire, 0)[0] == 0x1234
    assert wire[2] == DaveOp.MLS_EXTERNAL_SENDER
    assert wire[3:] == b"\xaa\xbb"


def test_json_frame_carries_op_d_and_seq() -> None:
    wire = Outgoing(1, DaveOp.EXECUTE_TRANSITION, {"transition_id": 7}).to_wire(seq=9)

    assert isinstance(wire, str)
    assert json.loads(wire) == {"op": 22, "d": {"transition_id": 7}, "seq": 9}


def test_proposals_frame_has_operation_byte_then_the_vector() -> None:
    server = DaveVoiceGroup(CHANNEL_ID)
    join(server, 1)
    _, sent = join(server, 2)
    proposals = next(m for m in sent if m.to == 1 and m.opcode == DaveOp.MLS_PROPOSALS)
    wire = proposals.to_wire(seq=3)
    assert isinstance(wire, bytes)
    session = davey.DaveSession(1, 1, CHANNEL_ID)
    session.set_external_sender(server.external_sender.package)

    # gateway.py: optype = msg[3]; process_proposals(..., msg[4:])
    assert wire[3] == 0
    assert session.process_proposals(davey.ProposalsOperationType.append, wire[4:]) is not None


def test_welcome_frame_puts_the_transition_id_before_the_welcome() -> None:
    server = DaveVoiceGroup(CHANNEL_ID)
    alice, _ = join(server, 1)
    bob, sent = join(server, 2)
    result = commit_to(alice, only(sent, 1, DaveOp.MLS_PROPOSALS))
    op28 = encode_client_binary(DaveOp.MLS_COMMIT_WELCOME, result.commit + (result.welcome or b""))
    relayed = server.on_client_binary(1, op28)

    wire = only(relayed, 2, DaveOp.MLS_WELCOME).to_wire(seq=5)

    assert isinstance(wire, bytes)
    # gateway.py: transition_id = unpack_from('>H', msg, 3); process_welcome(msg[5:])
    assert struct.unpack_from(">H", wire, 3)[0] != 0
    bob.process_welcome(wire[5:])
    assert bob.ready


def test_commit_frame_puts_the_transition_id_before_the_commit() -> None:
    server = DaveVoiceGroup(CHANNEL_ID)
    alice, _ = join(server, 1)
    _, sent = join(server, 2)
    result = commit_to(alice, only(sent, 1, DaveOp.MLS_PROPOSALS))
    relayed = server.on_commit_welcome(1, result.commit, result.welcome)

    wire = only(relayed, 1, DaveOp.MLS_ANNOUNCE_COMMIT_TRANSITION).to_wire(seq=6)

    assert isinstance(wire, bytes)
    # gateway.py: transition_id = unpack_from('>H', msg, 3); process_commit(msg[5:])
    assert struct.unpack_from(">H", wire, 3)[0] != 0
    alice.process_commit(wire[5:])
    assert alice.ready


def test_client_binary_frame_round_trips() -> None:
    frame = encode_client_binary(DaveOp.MLS_KEY_PACKAGE, b"kp")

    assert frame == b"\x1akp"
    assert decode_client_binary(frame) == (DaveOp.MLS_KEY_PACKAGE, b"kp")
