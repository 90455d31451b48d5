"""A fake member's voice client: its own ``davey`` session and outgoing RTP stream.

It reacts to the DAVE messages the voice server routes to it the way a Discord
client (and discord.py) does, and answers with what the server should hear next
(op 28 commit/welcome, op 23 transition ready). Sans-I/O: the voice server routes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import davey

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
    session: davey.DaveSession | None = None
    errors: list[str] = field(default_factory=list)

    def start(self) -> Reply | None:
        """Connect: create the DAVE session; returns the key package to announce."""
        if self.dave_version == 0:
            return None
        self.session = davey.DaveSession(self.dave_version, self.user_id, self.channel_id)
        return Reply("key_package", self.session.get_serialized_key_package())

    @property
    def ready(self) -> bool:
        return self.session is not None and bool(self.session.ready)

    def receive(self, msg: Outgoing) -> list[Reply]:
        session = self.session
        if session is None:
            return []
        op, payload = msg.opcode, msg.payload
        try:
            if op == DaveOp.MLS_EXTERNAL_SENDER:
                assert isinstance(payload, bytes)
                session.set_external_sender(payload)
            elif op == DaveOp.MLS_PROPOSALS:
                assert isinstance(payload, bytes)
                optype = (davey.ProposalsOperationType.append if payload[0] == 0
                          else davey.ProposalsOperationType.revoke)
                result = session.process_proposals(optype, payload[1:])
                if result is not None:
                    return [Reply("commit_welcome", (result.commit, result.welcome))]
            elif op in (DaveOp.MLS_ANNOUNCE_COMMIT_TRANSITION, DaveOp.MLS_WELCOME):
                assert isinstance(payload, bytes)
                tid = int.from_bytes(payload[:2], "big")
                try:
                    if op == DaveOp.MLS_WELCOME:
                        session.process_welcome(payload[2:])
                    else:
                        session.process_commit(payload[2:])
                except Exception as exc:  # davey raises plain exceptions for bad MLS
                    self.errors.append(f"op{op}: {exc}")
                    session.reinit(self.dave_version, self.user_id, self.channel_id)
                    return [Reply("invalid_commit", tid),
                            Reply("key_package", session.get_serialized_key_package())]
                if tid != 0:
                    return [Reply("transition_ready", tid)]
            elif op == DaveOp.PREPARE_TRANSITION:
                assert isinstance(payload, dict)
                if int(payload["transition_id"]) != 0:
                    return [Reply("transition_ready", int(payload["transition_id"]))]
            elif op == DaveOp.PREPARE_EPOCH:
                assert isinstance(payload, dict)
                if int(payload["epoch"]) == 1:
                    session.reinit(self.dave_version, self.user_id, self.channel_id)
                    return [Reply("key_package", session.get_serialized_key_package())]
        except Exception as exc:
            # A broken member client must not take the fake server down; tests see it.
            self.errors.append(f"op{op}: {exc}")
            log.warning("fake member %s failed on op %s: %s", self.user_id, op, exc)
        return []
