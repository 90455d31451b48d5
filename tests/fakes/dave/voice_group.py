"""One voice channel's DAVE state as Discord's voice server keeps it (sans-I/O).

The server is the MLS external sender. It never sees group secrets; it tracks who
is connected, each client's latest KeyPackage (op 26), the group's epoch and which
user sits at which leaf, and runs *rounds*: it proposes Adds/Removes (op 27), takes
the first valid commit (op 28), relays it (op 29) to the members and the Welcome
(op 30) to the joiners, and once every recipient reports ready (op 23) tells them to
execute the transition (op 22).

Rules that keep real davey sessions consistent:
- Only one round is open at a time. Any membership change while a round is open
  revokes the round's proposals (op 27, revoke) and opens a fresh one, rather than
  appending: a client that already committed would otherwise re-commit and merge a
  different commit than the one relayed.
- A commit is accepted only if it cites exactly the proposals offered to its sender
  in the open round, at the current epoch. Every client offered a round commits, so
  all but one commit lose the race: those are counted in `superseded` (by reason
  `stale_epoch` or `revoked_round`), apart from genuinely bad input in `rejected`.
- Before any group exists (epoch 0) each client holds a one-member pending group at
  epoch 0; every candidate is offered Adds for all the others, the first commit
  founds the group (its sender is leaf 0) and the rest join by Welcome.
- A member that reinitialises (op 31, or a fresh op 26 while in the group) is
  removed by leaf and re-added with its new KeyPackage; it is never sent the commit.

Leaf indices follow RFC 9420 §12.3: removes blank their leaf (trailing blanks are
truncated), then adds fill the leftmost blank leaf in commit order, or extend.

Nothing raises on bad client input: it is dropped and counted in `rejected`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import davey

from tests.fakes.dave import mls_wire
from tests.fakes.dave.external_sender import ExternalSender, SignedProposal
from tests.fakes.dave.framing import DaveOp, Outgoing, decode_client_binary
from tests.fakes.dave.signing import verify_with_label

__all__ = ["DaveVoiceGroup", "Outgoing"]

_APPEND = 0
_REVOKE = 1

_CIPHERSUITE_BY_PROTOCOL_VERSION = {1: mls_wire.CIPHERSUITE_P256}

# Commit rejections that are the normal outcome of the commit race, not bad input.
_SUPERSEDED = frozenset({"stale_epoch", "revoked_round"})


@dataclass
class _Member:
    user_id: int
    key_package: bytes | None = None
    # Its client threw its group away (op 31 or a new key package): its leaf must go.
    stale: bool = False


@dataclass(frozen=True)
class _Proposal:
    signed: SignedProposal
    user_id: int
    # Remove proposals name a leaf; Add proposals carry the key package they consumed.
    remove_leaf: int | None = None
    key_package: bytes | None = None


@dataclass
class _Round:
    epoch: int
    proposals: dict[bytes, _Proposal]
    # user id -> refs of the proposals that user was sent (and so must commit to).
    offers: dict[int, tuple[bytes, ...]]


@dataclass
class _Transition:
    recipients: tuple[int, ...]
    waiting: set[int] = field(default_factory=set)


class DaveVoiceGroup:
    """Discord's voice-server side of DAVE for one channel; every method returns what to send."""

    def __init__(
        self,
        channel_id: int,
        protocol_version: int = davey.DAVE_PROTOCOL_VERSION,
        *,
        external_sender: ExternalSender | None = None,
    ) -> None:
        if protocol_version not in _CIPHERSUITE_BY_PROTOCOL_VERSION:
            raise ValueError(f"unsupported DAVE protocol version {protocol_version}")
        self.channel_id = channel_id
        self.protocol_version = protocol_version
        # DAVE's MLS group id is the channel id as 8 big-endian bytes.
        self.group_id = channel_id.to_bytes(8, "big")
        self.external_sender = external_sender or ExternalSender()
        # The MLS group's epoch; 0 while no group exists (clients' pending groups are at 0).
        self.epoch = 0
        self.rejected: Counter[str] = Counter()
        self.superseded: Counter[str] = Counter()
        self.accepted_commits = 0
        self.invalid_reports: Counter[int] = Counter()
        self._ciphersuite = _CIPHERSUITE_BY_PROTOCOL_VERSION[protocol_version]
        self._connected: dict[int, _Member] = {}
        self._leaves: list[int | None] = []
        self._round: _Round | None = None
        self._transitions: dict[int, _Transition] = {}
        self._last_transition_id = 0
        # Proposals revoked at the current epoch: commits citing them lost a race.
        self._revoked_refs: set[bytes] = set()

    # ------------------------------------------------------------------ views

    @property
    def members(self) -> tuple[int, ...]:
        """User ids in the MLS group, in leaf order."""
        return tuple(uid for uid in self._leaves if uid is not None)

    @property
    def connected(self) -> tuple[int, ...]:
        return tuple(self._connected)

    @property
    def round_open(self) -> bool:
        return self._round is not None

    @property
    def pending_transitions(self) -> tuple[int, ...]:
        return tuple(self._transitions)

    def leaf_index(self, user_id: int) -> int | None:
        try:
            return self._leaves.index(user_id)
        except ValueError:
            return None

    # ------------------------------------------------------------------ events

    def member_joined(self, user_id: int) -> list[Outgoing]:
        """A client identified on the voice gateway: tell it who the external sender is.

        Send the returned op 25 after SESSION_DESCRIPTION: discord.py drops DAVE ops
        that arrive before its session exists.
        """
        out: list[Outgoing] = []
        if user_id in self._connected:
            # A reconnect: whatever group state the client had is gone.
            out += self._invalidate(user_id)
            out += self._changed()
        else:
            # Nothing to propose until its key package arrives.
            self._connected[user_id] = _Member(user_id)
        out.append(Outgoing(user_id, DaveOp.MLS_EXTERNAL_SENDER, self.external_sender.package))
        return out

    def member_left(self, user_id: int) -> list[Outgoing]:
        if self._connected.pop(user_id, None) is None:
            self.rejected["unknown_member"] += 1
            return []
        out = self._forget_in_transitions(user_id)
        if not self._connected:
            self._reset_group()
            return out
        return out + self._changed()

    def on_key_package(self, user_id: int, key_package: bytes) -> list[Outgoing]:
        member = self._connected.get(user_id)
        if member is None:
            self.rejected["unknown_member"] += 1
            return []
        try:
            info = mls_wire.parse_key_package(key_package)
        except mls_wire.MlsDecodeError:
            self.rejected["malformed_key_package"] += 1
            return []
        if info.cipher_suite != self._ciphersuite:
            self.rejected["wrong_ciphersuite"] += 1
            return []
        if info.user_id != user_id:
            self.rejected["credential_mismatch"] += 1
            return []
        if not verify_with_label(
            info.leaf.signature_key, "KeyPackageTBS", info.signed_part, info.signature
        ):
            self.rejected["bad_key_package_signature"] += 1
            return []
        if self.leaf_index(user_id) is not None:
            # The client re-initialised its session: its current leaf is dead.
            member.stale = True
        member.key_package = key_package
        return self._changed()

    def on_commit_welcome(
        self, user_id: int, commit: bytes, welcome: bytes | None
    ) -> list[Outgoing]:
        try:
            info = mls_wire.parse_commit(commit)
        except mls_wire.MlsDecodeError:
            self.rejected["malformed_commit"] += 1
            return []
        if welcome is not None:
            try:
                mls_wire.parse_welcome(welcome)
            except mls_wire.MlsDecodeError:
                self.rejected["malformed_welcome"] += 1
                return []
        reason = self._commit_rejection(user_id, info, welcome)
        if reason is not None:
            counter = self.superseded if reason in _SUPERSEDED else self.rejected
            counter[reason] += 1
            return []
        assert self._round is not None  # checked by _commit_rejection
        cited = [self._round.proposals[ref] for ref in info.proposal_refs]
        return self._apply_commit(user_id, commit, welcome, cited)

    def on_commit_welcome_payload(self, user_id: int, payload: bytes) -> list[Outgoing]:
        """Op 28 as discord.py sends it: commit and optional welcome concatenated."""
        try:
            commit, welcome = mls_wire.split_commit_welcome(payload)
        except mls_wire.MlsDecodeError:
            self.rejected["malformed_commit"] += 1
            return []
        return self.on_commit_welcome(user_id, commit, welcome)

    def on_transition_ready(self, user_id: int, transition_id: int) -> list[Outgoing]:
        transition = self._transitions.get(transition_id)
        if transition is None:
            self.rejected["unknown_transition"] += 1
            return []
        if user_id not in transition.waiting:
            self.rejected["unexpected_transition_ready"] += 1
            return []
        transition.waiting.discard(user_id)
        return self._maybe_execute(transition_id)

    def on_invalid_commit_welcome(self, user_id: int, transition_id: int) -> list[Outgoing]:
        """Op 31: the client could not process a commit/welcome and will re-initialise."""
        if user_id not in self._connected:
            self.rejected["unknown_member"] += 1
            return []
        self.invalid_reports[user_id] += 1
        out = self._invalidate(user_id)
        return out + self._changed()

    def on_client_binary(self, user_id: int, frame: bytes) -> list[Outgoing]:
        """A binary websocket frame from a client (`opcode + payload`)."""
        try:
            opcode, payload = decode_client_binary(frame)
        except ValueError:
            self.rejected["malformed_frame"] += 1
            return []
        if opcode == DaveOp.MLS_KEY_PACKAGE:
            return self.on_key_package(user_id, payload)
        if opcode == DaveOp.MLS_COMMIT_WELCOME:
            return self.on_commit_welcome_payload(user_id, payload)
        self.rejected["unexpected_opcode"] += 1
        return []

    def on_client_json(self, user_id: int, opcode: int, data: Any) -> list[Outgoing]:
        """A JSON DAVE op from a client (23 or 31); `data` is its `d`."""
        if opcode not in (DaveOp.TRANSITION_READY, DaveOp.MLS_INVALID_COMMIT_WELCOME):
            self.rejected["unexpected_opcode"] += 1
            return []
        try:
            transition_id = int(data["transition_id"])
        except (TypeError, KeyError, ValueError):
            self.rejected["malformed_json"] += 1
            return []
        if opcode == DaveOp.TRANSITION_READY:
            return self.on_transition_ready(user_id, transition_id)
        return self.on_invalid_commit_welcome(user_id, transition_id)

    # ------------------------------------------------------------------ commits

    def _commit_rejection(
        self, user_id: int, info: mls_wire.CommitInfo, welcome: bytes | None
    ) -> str | None:
        if user_id not in self._connected:
            return "unknown_member"
        if info.group_id != self.group_id:
            return "wrong_group"
        if info.epoch < self.epoch:
            return "stale_epoch"
        if info.epoch > self.epoch:
            return "future_epoch"
        if self._revoked_refs.intersection(info.proposal_refs):
            return "revoked_round"
        round_ = self._round
        if round_ is None or round_.epoch != info.epoch:
            return "no_open_round"
        offered = round_.offers.get(user_id)
        if offered is None:
            return "not_offered"
        if info.sender_type != mls_wire.SENDER_MEMBER:
            return "bad_sender"
        expected_leaf = 0 if self.epoch == 0 else self.leaf_index(user_id)
        if info.sender_index != expected_leaf:
            return "wrong_sender_leaf"
        if info.inline_proposal_types:
            return "inline_proposals"
        if len(set(info.proposal_refs)) != len(info.proposal_refs) or set(
            info.proposal_refs
        ) != set(offered):
            return "proposals_mismatch"
        adds = any(round_.proposals[ref].key_package is not None for ref in info.proposal_refs)
        if adds and welcome is None:
            return "missing_welcome"
        if not adds and welcome is not None:
            return "unexpected_welcome"
        return None

    def _apply_commit(
        self, committer: int, commit: bytes, welcome: bytes | None, cited: list[_Proposal]
    ) -> list[Outgoing]:
        if self.epoch == 0:
            self._leaves = [committer]
        previous = set(self.members)
        for proposal in cited:
            if proposal.remove_leaf is not None:
                self._leaves[proposal.remove_leaf] = None
                member = self._connected.get(proposal.user_id)
                if member is not None:
                    member.stale = False
        while self._leaves and self._leaves[-1] is None:
            self._leaves.pop()
        added: list[int] = []
        for proposal in cited:
            if proposal.key_package is None:
                continue
            if None in self._leaves:
                self._leaves[self._leaves.index(None)] = proposal.user_id
            else:
                self._leaves.append(proposal.user_id)
            added.append(proposal.user_id)
            member = self._connected.get(proposal.user_id)
            if member is not None and member.key_package == proposal.key_package:
                member.key_package = None
        self.epoch += 1
        self.accepted_commits += 1
        self._round = None
        self._revoked_refs.clear()

        transition_id = self._next_transition_id()
        tid = transition_id.to_bytes(2, "big")
        stayed = [uid for uid in self.members if uid in previous and uid not in added]
        out = [
            Outgoing(uid, DaveOp.MLS_ANNOUNCE_COMMIT_TRANSITION, tid + commit, self.epoch)
            for uid in stayed
            if uid in self._connected
        ]
        if welcome is not None:
            out += [
                Outgoing(uid, DaveOp.MLS_WELCOME, tid + welcome, self.epoch)
                for uid in added
                if uid in self._connected
            ]
        recipients = tuple(o.to for o in out)
        self._transitions[transition_id] = _Transition(recipients, set(recipients))
        out += self._maybe_execute(transition_id)
        return out + self._reconcile()

    def _next_transition_id(self) -> int:
        # 0 means "no transition" to clients (they skip op 23), so ids cycle 1..65535.
        self._last_transition_id = self._last_transition_id % 0xFFFF + 1
        return self._last_transition_id

    def _maybe_execute(self, transition_id: int) -> list[Outgoing]:
        transition = self._transitions[transition_id]
        if transition.waiting:
            return []
        del self._transitions[transition_id]
        return [
            Outgoing(uid, DaveOp.EXECUTE_TRANSITION, {"transition_id": transition_id})
            for uid in transition.recipients
            if uid in self._connected
        ]

    def _forget_in_transitions(self, user_id: int) -> list[Outgoing]:
        out: list[Outgoing] = []
        for transition_id, transition in list(self._transitions.items()):
            if user_id in transition.waiting:
                transition.waiting.discard(user_id)
                out += self._maybe_execute(transition_id)
        return out

    # ------------------------------------------------------------------ rounds

    def _invalidate(self, user_id: int) -> list[Outgoing]:
        member = self._connected[user_id]
        member.key_package = None
        member.stale = self.leaf_index(user_id) is not None
        return self._forget_in_transitions(user_id)

    def _changed(self) -> list[Outgoing]:
        return self._revoke_round() + self._reconcile()

    def _revoke_round(self) -> list[Outgoing]:
        round_ = self._round
        if round_ is None:
            return []
        self._round = None
        self._revoked_refs.update(round_.proposals)
        out: list[Outgoing] = []
        for uid, refs in round_.offers.items():
            member = self._connected.get(uid)
            if member is None or member.stale or not refs:
                continue
            body = mls_wire.encode_proposals_payload(
                [mls_wire.encode_proposal_ref(ref) for ref in refs]
            )
            out.append(Outgoing(uid, DaveOp.MLS_PROPOSALS, bytes([_REVOKE]) + body))
        return out

    def _reset_group(self) -> None:
        self.epoch = 0
        self._leaves = []
        self._round = None
        self._revoked_refs.clear()
        self._transitions.clear()
        for member in self._connected.values():
            member.stale = False

    def _reconcile(self) -> list[Outgoing]:
        """Open a round for whatever differs between who is connected and who is in the group."""
        if self._round is not None:
            return []
        if self.epoch > 0:
            committers = [
                uid
                for uid in self.members
                if uid in self._connected and not self._connected[uid].stale
            ]
            if not committers:
                # Nobody left who holds the group: the next commit founds a new one.
                self._reset_group()
        if self.epoch == 0:
            return self._open_founding_round()
        return self._open_round(committers)

    def _open_round(self, committers: list[int]) -> list[Outgoing]:
        proposals: list[_Proposal] = []
        for leaf, uid in enumerate(self._leaves):
            if uid is None:
                continue
            member = self._connected.get(uid)
            if member is None or member.stale:
                signed = self.external_sender.propose_remove(self.group_id, self.epoch, leaf)
                proposals.append(_Proposal(signed, uid, remove_leaf=leaf))
        for member in self._connected.values():
            if member.key_package is None:
                continue
            if member.user_id in self.members and not member.stale:
                continue
            signed = self.external_sender.propose_add(self.group_id, self.epoch, member.key_package)
            proposals.append(_Proposal(signed, member.user_id, key_package=member.key_package))
        if not proposals:
            return []
        refs = tuple(p.signed.ref for p in proposals)
        self._round = _Round(
            epoch=self.epoch,
            proposals={p.signed.ref: p for p in proposals},
            offers=dict.fromkeys(committers, refs),
        )
        body = bytes([_APPEND]) + mls_wire.encode_proposals_payload(
            [p.signed.message for p in proposals]
        )
        return [Outgoing(uid, DaveOp.MLS_PROPOSALS, body) for uid in committers]

    def _open_founding_round(self) -> list[Outgoing]:
        candidates = [m for m in self._connected.values() if m.key_package is not None]
        if len(candidates) < 2:
            return []
        proposals: dict[int, _Proposal] = {}
        for member in candidates:
            assert member.key_package is not None
            signed = self.external_sender.propose_add(self.group_id, 0, member.key_package)
            proposals[member.user_id] = _Proposal(
                signed, member.user_id, key_package=member.key_package
            )
        offers = {
            c.user_id: tuple(p.signed.ref for uid, p in proposals.items() if uid != c.user_id)
            for c in candidates
        }
        self._round = _Round(
            epoch=0,
            proposals={p.signed.ref: p for p in proposals.values()},
            offers=offers,
        )
        out: list[Outgoing] = []
        for candidate in candidates:
            messages = [
                p.signed.message for uid, p in proposals.items() if uid != candidate.user_id
            ]
            body = bytes([_APPEND]) + mls_wire.encode_proposals_payload(messages)
            out.append(Outgoing(candidate.user_id, DaveOp.MLS_PROPOSALS, body))
        return out
