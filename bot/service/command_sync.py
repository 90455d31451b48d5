"""Syncing the application commands only when their definitions changed.

Discord rate-limits command registration, and a bulk overwrite on every start
is wasted work; so the bot hashes the JSON it would send (every global command
of the tree, sorted by name) and syncs only when the hash differs from the one
stored after the last successful sync. ``python -m bot sync`` forces it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from discord import app_commands

from bot.store import Store

log = logging.getLogger(__name__)


def definitions_hash(tree: app_commands.CommandTree[Any]) -> str:
    """SHA-256 of the global command definitions, independent of registration order."""
    payload = sorted((command.to_dict(tree) for command in tree.get_commands()),
                     key=lambda c: (str(c.get("type", 1)), str(c["name"])))
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


async def sync_commands(tree: app_commands.CommandTree[Any], store: Store, *,
                        force: bool = False) -> bool:
    """Sync the global commands if they changed (or ``force``); ``True`` if synced."""
    current = definitions_hash(tree)
    if not force and await store.command_hash() == current:
        log.info("application commands unchanged; not syncing")
        return False
    synced = await tree.sync()
    await store.set_command_hash(current)
    log.info("synced %d application commands", len(synced))
    return True
