"""Running the real ``python -m bot`` as a subprocess, as a user would.

The start-up tests check what a user sees: the exit status and stderr. The
process runs from an empty directory (no ``.env``) with a clean environment: the
suite's own variables for the bot are removed, then the test's are added.
:class:`DiscordRoute` points the process at a fake Discord through a CONNECT proxy
(``DISCORD_PROXY``) and the fake's CA (``SSL_CERT_FILE``); see
:mod:`tests.support.connect_proxy`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from tests.fakes.discord import FakeDiscord
from tests.fakes.pinch import PinchSimulator
from tests.support import leftovers
from tests.support.connect_proxy import ConnectProxy

ROOT: Final = Path(__file__).resolve().parents[2]
PROCESS_TIMEOUT_S: Final = 60.0
#: Variables the bot reads; removed from the inherited environment.
BOT_VARIABLES: Final = ("DISCORD_TOKEN", "PINCH_API_TOKEN", "PINCH_BASE_URL", "DATA_DIR",
                        "DATABASE_URL", "LOG_LEVEL", "DISCORD_PROXY", "OPUS_LIBRARY",
                        "SSL_CERT_FILE")
PREFIX: Final = "interpret-bot: "


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str

    @property
    def failure_lines(self) -> list[str]:
        """The lines the entry point printed about a failure (``interpret-bot: ...``)."""
        return [line[len(PREFIX):] for line in self.stderr.splitlines()
                if line.startswith(PREFIX)]

    def only_failure_line(self) -> str:
        """The one failure line, asserted to be the one and the last on stderr."""
        lines = self.failure_lines
        assert len(lines) == 1, self.stderr
        assert self.stderr.rstrip().splitlines()[-1] == PREFIX + lines[0], self.stderr
        return lines[0]


def bot_env(overrides: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in BOT_VARIABLES}
    env["PYTHONPATH"] = str(ROOT)
    env.update(overrides)
    return env


async def run_bot(env: Mapping[str, str], cwd: Path, *args: str,
                  timeout_s: float = PROCESS_TIMEOUT_S) -> Finished:
    """Run ``python -m bot *args`` to completion."""
    async with started_bot(env, cwd, *args) as process:
        async with asyncio.timeout(timeout_s):
            out, err = await process.communicate()
    return Finished(process.returncode or 0, out.decode(), err.decode())


@asynccontextmanager
async def started_bot(env: Mapping[str, str], cwd: Path,
                      *args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """A running ``python -m bot``; killed and reaped on exit if still running."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=dict(env), cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    leftovers.record(process.pid, "-m bot")
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def interrupt(process: asyncio.subprocess.Process,
                    timeout_s: float = PROCESS_TIMEOUT_S) -> Finished:
    """Ctrl-C the process and collect what it printed."""
    process.send_signal(signal.SIGINT)
    async with asyncio.timeout(timeout_s):
        out, err = await process.communicate()
    return Finished(process.returncode or 0, out.decode(), err.decode())


@dataclass(frozen=True)
class DiscordRoute:
    """A fake Discord the real process reaches: the proxy and the CA file to trust."""

    fake: FakeDiscord
    proxy: ConnectProxy
    ca_file: Path

    def env(self) -> dict[str, str]:
        return {"DISCORD_PROXY": self.proxy.url, "SSL_CERT_FILE": str(self.ca_file)}


@asynccontextmanager
async def discord_route(directory: Path) -> AsyncIterator[DiscordRoute]:
    async with FakeDiscord() as fake, ConnectProxy(fake.port) as proxy:
        assert fake.tls is not None
        ca_file = directory / "fake-discord-ca.pem"
        fake.tls.ca.cert_pem.write_to_path(str(ca_file))
        yield DiscordRoute(fake, proxy, ca_file)


PINCH_TOKEN: Final = "pinch-startup-test-token-0123"


@asynccontextmanager
async def token_check_simulator(api_token: str = PINCH_TOKEN) -> AsyncIterator[PinchSimulator]:
    """A Pinch simulator for token checks only: it has no LiveKit server behind it.

    The check creates no session, so LiveKit is never contacted; if a check did
    create one, the simulator's agent could not join and the answer would be a 500.
    """
    async with PinchSimulator(livekit_url="ws://127.0.0.1:9", livekit_api_key="unused",
                              livekit_api_secret="unused-secret-0123456789abcdef012345",
                              api_token=api_token) as sim:
        yield sim
