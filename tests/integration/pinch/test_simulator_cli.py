"""The simulator runs by hand as ``python -m tests.fakes.pinch`` and stops on Ctrl-C."""

from __future__ import annotations

import asyncio
import signal
import sys

from bot.pinch import PinchClient
from bot.secrets import Secret
from tests.support.livekit_server import REPO_ROOT, LiveKitServer
from tests.support.ports import free_tcp_port


async def test_simulator_module_serves_sessions_until_interrupted(
    livekit_server: LiveKitServer,
) -> None:
    port = free_tcp_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.pinch",
        "--livekit-url", livekit_server.url,
        "--api-key", livekit_server.api_key,
        "--api-secret", livekit_server.api_secret,
        "--api-token", "by-hand-token-42",
        "--port", str(port),
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        banner = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert f"http://127.0.0.1:{port}".encode() in banner
        async with PinchClient(f"http://127.0.0.1:{port}", Secret("by-hand-token-42")) as client:
            session = await client.create_session("en-US", "de-DE")
        assert session.room_name.startswith("api-")
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 15) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
