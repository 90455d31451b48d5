"""The error funnel: a bug is logged with a short id that the user also sees; user
errors are one ephemeral sentence and log nothing above debug."""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
from pathlib import Path

import pytest

from tests.e2e.commands.conftest import Interpret


async def test_an_unexpected_error_is_logged_with_the_id_the_user_sees(
    interpret: Interpret, caplog: pytest.LogCaptureFixture,
) -> None:
    # The database file vanishes under the bot: its next query fails (no such table).
    await interpret.bot.services.store.engine.dispose()
    (interpret.tmp_path / "interpret.sqlite3").unlink()

    with caplog.at_level(logging.ERROR, logger="bot.command_tree"):
        record = await interpret.invoke("config", scope="server")

    assert record.ephemeral
    [text] = record.texts
    match = re.fullmatch(r"Something went wrong on my side \(error id `([0-9a-f]{8})`\)\. "
                         r"Please try again; if it keeps happening, tell the bot's owner the id\.",
                         text)
    assert match is not None, text
    [logged] = [r for r in caplog.records if r.name == "bot.command_tree"]
    assert f"[error {match.group(1)}]" in logged.getMessage()
    assert "command /interpret config failed" in logged.getMessage()
    assert "options={'scope': 'server'}" in logged.getMessage()
    assert logged.exc_info is not None


def refuse_writes(database: Path, table: str, why: str) -> None:
    """The database itself refuses every write to ``table`` from now on (a trigger)."""
    with contextlib.closing(sqlite3.connect(database)) as db, db:
        for event in ("INSERT", "UPDATE"):
            db.execute(f"CREATE TRIGGER refuse_{event.lower()} BEFORE {event} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{why}'); END")


async def test_a_failed_config_save_logs_the_failure_but_never_the_context(
    interpret: Interpret, caplog: pytest.LogCaptureFixture,
) -> None:
    context = "Speakers: Ferris and Corro; terms: crates.io, borrowck"
    refuse_writes(interpret.tmp_path / "interpret.sqlite3", "channel_config", "disk says no")

    with caplog.at_level(logging.ERROR, logger="bot.command_tree"):
        record = await interpret.invoke("config", channel=interpret.fake.voice_channel,
                                        context=context)

    assert "Something went wrong on my side" in record.texts[0]
    [logged] = [r for r in caplog.records if r.name == "bot.command_tree"]
    assert logged.exc_info is not None
    line = logged.getMessage() + "\n" + logging.Formatter().formatException(logged.exc_info)
    assert "disk says no" in line
    assert "'context': '<54 characters>'" in line
    assert "Ferris" not in line


async def test_a_user_error_logs_nothing_above_debug(
    interpret: Interpret, caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO):
        record = await interpret.invoke("stop")
    assert record.texts == ["Nothing is being interpreted in this server."]
    assert [r for r in caplog.records if r.name == "bot.command_tree"] == []


async def test_languages_lists_the_table_or_a_search(interpret: Interpret) -> None:
    everything = await interpret.invoke("languages")
    spanish = await interpret.invoke("languages", search="spanish")
    nothing = await interpret.invoke("languages", search="klingon")

    assert everything.texts[0].startswith("**Supported languages** (41):")
    assert spanish.texts[0].splitlines()[1:] == [
        "`es-ES` Spanish (Spain)", "`es-MX` Spanish (Mexico)",
        "`es-US` Spanish (United States)"]
    assert nothing.texts == ["No supported language matches `klingon`."]
