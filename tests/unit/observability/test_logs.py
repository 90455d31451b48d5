"""Log lines carry the run's ids, come as text or JSON, and stay redacted."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.observability import logs
from bot.secrets import Secret


@pytest.fixture
def capture() -> Iterator[tuple[io.StringIO, logging.Logger]]:
    """The real handler set-up, writing to a buffer instead of stderr."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    try:
        yield stream, logging.getLogger("test.logs")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def configure(stream: io.StringIO, fmt: str) -> None:
    handler = logs.configure_logging("DEBUG", fmt)
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)


def test_json_format_writes_one_object_per_line_with_the_bound_ids(
    capture: tuple[io.StringIO, logging.Logger],
) -> None:
    stream, log = capture
    configure(stream, "json")
    with logs.bind(guild_id=1, channel_id=2, run_id="abc"):
        log.info("link %s active", "member-7")
    log.info("outside")
    first, second = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert first["message"] == "link member-7 active"
    assert (first["guild_id"], first["channel_id"], first["run_id"]) == (1, 2, "abc")
    assert first["level"] == "INFO"
    assert first["logger"] == "test.logs"
    assert "guild_id" not in second


def test_a_traceback_stays_on_the_events_line_and_is_redacted(
    capture: tuple[io.StringIO, logging.Logger],
) -> None:
    stream, log = capture
    configure(stream, "json")
    secret = Secret("s3cret-token-in-a-traceback")
    try:
        raise RuntimeError(f"failed with {secret.reveal()}")
    except RuntimeError:
        log.exception("boom")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert "RuntimeError" in entry["exception"]
    assert secret.reveal() not in lines[0]


def test_text_format_appends_the_ids_and_masks_secrets(
    capture: tuple[io.StringIO, logging.Logger],
) -> None:
    stream, log = capture
    configure(stream, "text")
    token = Secret("another-secret-value-123")
    with logs.bind(guild_id=10, run_id="r1"):
        log.warning("token is %s", token.reveal())
    line = stream.getvalue().strip()
    assert line.endswith("token is [redacted] [guild=10 run=r1]")


def test_tasks_started_inside_a_binding_inherit_its_ids(
    capture: tuple[io.StringIO, logging.Logger],
) -> None:
    stream, log = capture
    configure(stream, "json")

    async def main() -> None:
        async def worker() -> None:
            await asyncio.sleep(0)
            log.info("from a task")
        with logs.bind(guild_id=5, channel_id=6, run_id="t"):
            task = asyncio.create_task(worker())
        log.info("after the block")
        await task

    asyncio.run(main())
    entries = {e["message"]: e for e in map(json.loads, stream.getvalue().splitlines())}
    assert entries["from a task"]["guild_id"] == 5
    assert "guild_id" not in entries["after the block"]


def test_an_explicit_extra_wins_over_the_context(
    capture: tuple[io.StringIO, logging.Logger],
) -> None:
    stream, log = capture
    configure(stream, "json")
    with logs.bind(guild_id=1):
        log.info("other guild", extra={"guild_id": 99})
    assert json.loads(stream.getvalue())["guild_id"] == 99


def test_run_ids_differ() -> None:
    assert len({logs.new_run_id() for _ in range(50)}) == 50
