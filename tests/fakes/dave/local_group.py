"""In-process harness: real `davey.DaveSession` members driven by a `DaveVoiceGroup`.

Each message the server emits is framed as it would travel over the voice websocket
and parsed back with discord.py's own slicing, then handled the way discord.py 2.7.1's
voice gateway handles it (set external sender, process proposals and send the commit,
process commit/welcome and report ready, or report op 31 and re-initialise). Delivery
is synchronous and FIFO, so a test sees the settled state as soon as a call returns.

Members that live elsewhere (the bot under test, speaking discord.py over a fake
voice websocket) are *remote*: messages for them collect in an outbox the caller
drains and forwards, and their replies come back through `from_remote_binary` /
`from_remote_json`, so local and remote members share one group.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass

import davey

from tests.fakes.dave.framing import DaveOp, Outgoing, encode_client_binary
from tests.fakes.dave.voice_group import DaveVoiceGroup

# A runaway exchange would mean the server and clients disagree forever.
_MAX_DELIVERIES = 10_000


@dataclass(frozen=True)
class ClientError:
    """A davey call that raised (`ValueError`) while a member handled a server message."""

    user_id: int
    opcode: int
    error: str


class LocalDaveGroup:
    """A voice channel whose members are all in-process davey sessions."""

    def __init__(
        self, channel_id: int = 1_100_000_000_000_000_001, *, server: DaveVoiceGroup | None = None
    ) -> None:
        self.server = server or DaveVoiceGroup(channel_id)
        self.channel_id = self.server.channel_id
        self.sessions: dict[int, davey.DaveSession] = {}
        self.errors: list[ClientError] = []
        self.executed_transitions: dict[int, list[int]] = {}
        # Opcodes each member received, in order (a member's log outlives its session).
        self.received: dict[int, list[int]] = {}
        self._seq: dict[int, int] = {}
        self._remote: set[int] = set()
        self._outbox: list[Outgoing] = []
        # Messages for users who are neither local nor remote (e.g. already gone).
        self.undeliverable = 0

    @property
    def all_ready(self) -> bool:
        return bool(self.sessions) and all(s.ready for s in self.sessions.values())

    def add_member(self, user_id: int) -> davey.DaveSession:
        session = davey.DaveSession(self.server.protocol_version, user_id, self.channel_id)
        self.sessions[user_id] = session
        self.executed_transitions[user_id] = []
        self.received[user_id] = []
        self._seq[user_id] = 0
        self.deliver(self.server.member_joined(user_id))
        self._send_key_package(user_id)
        return session

    def remove_member(self, user_id: int) -> davey.DaveSession:
        """Disconnect a member; its session is returned untouched (it keeps its old keys)."""
        session = self.sessions.pop(user_id)
        self._seq.pop(user_id, None)
        self.deliver(self.server.member_left(user_id))
        return session

    def attach_remote(self, user_id: int) -> None:
        """Connect a member that is not in-process; its op 25 lands in the outbox.

        Call it once the remote client has a DAVE session (after SESSION_DESCRIPTION).
        """
        self._remote.add(user_id)
        self.deliver(self.server.member_joined(user_id))

    def detach_remote(self, user_id: int) -> None:
        self._remote.discard(user_id)
        self.deliver(self.server.member_left(user_id))

    def from_remote_binary(self, user_id: int, frame: bytes) -> None:
        """A binary frame the remote client sent (`opcode + payload`)."""
        self.deliver(self.server.on_client_binary(user_id, frame))

    def from_remote_json(self, user_id: int, opcode: int, data: object) -> None:
        self.deliver(self.server.on_client_json(user_id, opcode, data))

    def drain_outbox(self) -> list[Outgoing]:
        """Messages for remote members, oldest first; the caller frames and sends them."""
        drained, self._outbox = self._outbox, []
        return drained

    def deliver(self, outgoing: list[Outgoing]) -> None:
        queue = deque(outgoing)
        deliveries = 0
        while queue:
            deliveries += 1
            if deliveries > _MAX_DELIVERIES:
                raise RuntimeError("DAVE exchange did not settle")
            message = queue.popleft()
            if message.to in self._remote:
                self._outbox.append(message)
                continue
            if message.to not in self.sessions:
                self.undeliverable += 1
                continue
            queue.extend(self._handle(message))

    # ---------------------------------------------------------------- one client

    def _handle(self, message: Outgoing) -> list[Outgoing]:
        user_id = message.to
        self.received[user_id].append(message.opcode)
        self._seq[user_id] = (self._seq[user_id] + 1) & 0xFFFF
        wire = message.to_wire(self._seq[user_id])
        if isinstance(wire, bytes):
            # discord.py: seq = msg[0:2], op = msg[2], payload = msg[3:]
            return self._handle_binary(user_id, wire[2], wire[3:])
        frame = json.loads(wire)
        return self._handle_json(user_id, frame["op"], frame["d"])

    def _handle_binary(self, user_id: int, opcode: int, payload: bytes) -> list[Outgoing]:
        session = self.sessions[user_id]
        if opcode == DaveOp.MLS_EXTERNAL_SENDER:
            try:
                session.set_external_sender(payload)
            except ValueError as exc:
                self.errors.append(ClientError(user_id, opcode, str(exc)))
            return []
        if opcode == DaveOp.MLS_PROPOSALS:
            operation = (
                davey.ProposalsOperationType.append
                if payload[0] == 0
                else davey.ProposalsOperationType.revoke
            )
            try:
                result = session.process_proposals(operation, payload[1:])
            except ValueError as exc:
                # discord.py 2.7.1 does not catch this (it escapes received_binary_message);
                # the harness records it and carries on.
                self.errors.append(ClientError(user_id, opcode, str(exc)))
                return []
            if result is None:
                return []
            body = result.commit + result.welcome if result.welcome else result.commit
            frame = encode_client_binary(DaveOp.MLS_COMMIT_WELCOME, body)
            return self.server.on_client_binary(user_id, frame)
        if opcode in (DaveOp.MLS_ANNOUNCE_COMMIT_TRANSITION, DaveOp.MLS_WELCOME):
            transition_id = int.from_bytes(payload[0:2], "big")
            try:
                if opcode == DaveOp.MLS_WELCOME:
                    session.process_welcome(payload[2:])
                else:
                    session.process_commit(payload[2:])
            except ValueError as exc:
                self.errors.append(ClientError(user_id, opcode, str(exc)))
                return self._recover(user_id, transition_id)
            if transition_id == 0:
                return []
            return self.server.on_client_json(
                user_id, DaveOp.TRANSITION_READY, {"transition_id": transition_id}
            )
        return []

    def _handle_json(self, user_id: int, opcode: int, data: dict[str, int]) -> list[Outgoing]:
        if opcode == DaveOp.EXECUTE_TRANSITION:
            self.executed_transitions[user_id].append(data["transition_id"])
        elif opcode == DaveOp.PREPARE_EPOCH and data["epoch"] == 1:
            self.sessions[user_id].reinit(self.server.protocol_version, user_id, self.channel_id)
            return self._key_package_messages(user_id)
        return []

    def _recover(self, user_id: int, transition_id: int) -> list[Outgoing]:
        """discord.py's `_recover_from_invalid_commit`: op 31, re-init, fresh key package."""
        out = self.server.on_client_json(
            user_id, DaveOp.MLS_INVALID_COMMIT_WELCOME, {"transition_id": transition_id}
        )
        self.sessions[user_id].reinit(self.server.protocol_version, user_id, self.channel_id)
        return out + self._key_package_messages(user_id)

    def _send_key_package(self, user_id: int) -> None:
        self.deliver(self._key_package_messages(user_id))

    def _key_package_messages(self, user_id: int) -> list[Outgoing]:
        key_package = self.sessions[user_id].get_serialized_key_package()
        frame = encode_client_binary(DaveOp.MLS_KEY_PACKAGE, key_package)
        return self.server.on_client_binary(user_id, frame)
