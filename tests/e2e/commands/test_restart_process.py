"""Settings outlive the bot: a real bot process configured through the commands, stopped,
and a new process on the same database (SQLite under ``DATA_DIR``) that finds them.
Two shard processes sharing one PostgreSQL database: ``tests/e2e/test_sharding.py``."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.fakes.discord import FakeDiscord
from tests.fakes.pinch import PinchSimulator
from tests.support.served_bot import BotProcess, bot_processes

INTERPRET = {"SERVED_BOT_EXTENSIONS": "cogs.interpret,cogs.transcripts"}


async def test_a_new_process_on_the_same_data_dir_keeps_the_configuration(
    fake_discord: FakeDiscord, tmp_path: Path, simulator: PinchSimulator,
) -> None:
    fake = fake_discord
    env = {**INTERPRET, "PINCH_BASE_URL": simulator.base_url}  # checked at start-up
    with bot_processes() as processes:
        first = BotProcess(fake, tmp_path / "run", **env)
        processes.append(first)
        first.start()
        await first.wait_ready()
        saved = await fake.answered(await fake.invoke(
            "interpret config", within=20,
            options={"scope": "server", "target": "de", "voice": "male"}), within=20)
        await fake.answered(await fake.invoke("interpret me", user="alice", within=20,
                                              options={"language": "fr"}), within=20)
        first.send(signal.SIGTERM)
        assert await first.wait_exit(within=25) == 0, first.log()[-3000:]

        second = BotProcess(fake, tmp_path / "run", **env)  # same DATA_DIR
        processes.append(second)
        second.start()
        await second.wait_ready()
        shown = await fake.answered(await fake.invoke(
            "interpret config", within=20, options={"scope": "server"}), within=20)
        me = await fake.answered(await fake.invoke("interpret me", user="alice", within=20),
                                 within=20)
        second.send(signal.SIGTERM)
        await second.wait_exit(within=25)

    assert saved.texts[0].startswith("Saved.")
    assert "• `target`: German (Germany) (`de-DE`) — server" in shown.texts[0]
    assert "• `voice`: male — server" in shown.texts[0]
    assert "spoken language: French (France) (`fr-FR`)" in me.texts[0]
    # The second process found the commands already registered: one sync in all.
    assert len(fake.rest_calls("PUT", "/commands")) == 1
