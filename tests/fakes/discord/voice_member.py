"""A fake member's voice client: its own DAVE client (davey or libdave) and RTP stream.

It reacts to the DAVE messages the voice server routes to it the way a Discord
client (and discord.py) does, and answers with what the server should hear next
(op 28 commit/welcome, op 23 transition ready, op 31 + a new key package after a
commit it cannot process). Sans-I/O: the voice server routes.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.dave.clients import DaveClient, DaveClientError, DaveImpl, make_client
from tests.fakes.dave.framing import DaveOp, Outgoing

log = logging.getLogger(__name__)


@dataclass
class Reply:
    """Something the member's client sends to the voice server."""

    kind: str  # "commit_welcome" | "transition_ready" | "key_package" | "invalid_commit"
    data: Any


@dataclass
class VoiceMember:
    user_id: int
    channel_id: int
    ssrc: int
    dave_version: int
    dave_impl: DaveImpl = "davey"
    client: DaveClient | None = None
    errors: list[str] = field(default_factory=list)
    #: Opus frames its client has sent (all speeches; whether the bot got them or not).
    frames_sent: int = 0

    def start(self) -> Reply | None:
        """Connect: create the DAVE client; returns the key package to announce."""
        if self.dave_version == 0:
            return None
        self.client = make_client(self.dave_impl, self.dave_version, self.user_id,
                                  self.channel_id)
        return Reply("key_package", self.client.key_package())

    @property
    def ready(self) -> bool:
        return self.client is not None and self.client.ready

    def receive(self, msg: Outgoing, recognized: Collection[int] = ()) -> list[Reply]:
        """Handle one server message; ``recognized`` are the users connected to the call
        (ops 11/13 tell a client who they are; libdave refuses to add anyone else)."""
        client = self.client
        if client is None:
            return []
        op, payload = msg.opcode, msg.payload
        try:
            if op == DaveOp.MLS_EXTERNAL_SENDER:
                assert isinstance(payload, bytes)
                client.set_external_sender(payload)
            elif op == DaveOp.MLS_PROPOSALS:
                assert isinstance(payload, bytes)
                commit = client.process_proposals(payload, recognized)
                if commit is not None:
                    return [Reply("commit_welcome", commit)]
            elif op in (DaveOp.MLS_ANNOUNCE_COMMIT_TRANSITION, DaveOp.MLS_WELCOME):
                assert isinstance(payload, bytes)
                return self._transition(client, msg, recognized)
            elif op == DaveOp.PREPARE_TRANSITION:
                assert isinstance(payload, dict)
                if int(payload["transition_id"]) != 0:
                    return [Reply("transition_ready", int(payload["transition_id"]))]
            elif op == DaveOp.EXECUTE_TRANSITION:
                assert isinstance(payload, dict)
                client.execute_transition(int(payload["transition_id"]))
            elif op == DaveOp.PREPARE_EPOCH:
                assert isinstance(payload, dict)
                if int(payload["epoch"]) == 1:
                    client.reinit()
                    return [Reply("key_package", client.key_package())]
        except Exception as exc:
            # A broken member client must not take the fake server down; tests see it.
            self.errors.append(f"op{op}: {exc}")
            log.warning("fake member %s failed on op %s: %s", self.user_id, op, exc)
        return []

    def _transition(self, client: DaveClient, msg: Outgoing,
                    recognized: Collection[int]) -> list[Reply]:
        assert isinstance(msg.payload, bytes)
        tid = int.from_bytes(msg.payload[:2], "big")
        epoch = msg.epoch or 0
        try:
            if msg.opcode == DaveOp.MLS_WELCOME:
                client.process_welcome(msg.payload[2:], recognized, tid, epoch)
            else:
                client.process_commit(msg.payload[2:], tid, epoch)
        except DaveClientError as exc:
            # discord.py's and Discord's recovery: op 31, a fresh session, a new key package.
            self.errors.append(f"op{msg.opcode}: {exc}")
            client.reinit()
            return [Reply("invalid_commit", tid), Reply("key_package", client.key_package())]
        return [Reply("transition_ready", tid)] if tid != 0 else []
