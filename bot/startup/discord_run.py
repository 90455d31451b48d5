"""Logging in to Discord and connecting the gateway, with start-up failures made clear.

One attempt = a fresh client, ``login`` (REST: token check, application info,
``setup_hook``) then ``connect`` until READY. A failure that means Discord
cannot be reached is retried a few times with doubling delays, each on a new
client (discord.py's HTTP session cannot log in twice); any other failure ends
start-up at once. After READY the gateway is discord.py's to keep: it reconnects
and resumes by itself, and only a connection it gives up on (a token revoked
meanwhile) ends :func:`run_discord`.

Owns the client and the ``connect`` task: both are closed and awaited on every
way out, cancellation included.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import discord

from bot.secrets import Secret
from bot.startup.discord_failures import discord_failure

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ConnectPolicy:
    """How patiently start-up waits for Discord."""

    attempts: int = 3
    first_delay: float = 1.0  # doubled before each further attempt
    ready_timeout: float = 60.0  # login done → READY (or the last shard connected → READY)

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.first_delay < 0 or self.ready_timeout <= 0:
            raise ValueError("attempts >= 1, first_delay >= 0 and ready_timeout > 0")

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return self.first_delay * 2.0 ** (attempt - 1)


async def run_discord(
    make_client: Callable[[], discord.Client],
    token: Secret,
    *,
    policy: ConnectPolicy | None = None,
    proxy_host: str | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Connect (with retries) and run until the client closes.

    Raises :class:`~bot.startup.errors.StartupError` for a failure the user can act
    on; anything else propagates unchanged (a bug).
    """
    policy = policy or ConnectPolicy()
    attempt = 0
    while True:
        attempt += 1
        client = make_client()
        try:
            runner = await _connect(client, token, policy.ready_timeout)
        except Exception as exc:
            await client.close()
            failure = discord_failure(exc, intents=client.intents, proxy_host=proxy_host)
            if failure is None:
                raise
            if not failure.retryable or attempt >= policy.attempts:
                raise failure from exc
            delay = policy.delay(attempt)
            # The cause is said once: by the caller when the last attempt fails too.
            log.warning("could not connect to Discord; trying again in %.0f s (attempt %d of %d)",
                        delay, attempt + 1, policy.attempts)
            log.debug("attempt %d failed: %s", attempt, failure.message)
            await sleep(delay)
            continue
        except BaseException:
            await client.close()
            raise
        break
    try:
        await runner
    except Exception as exc:
        failure = discord_failure(exc, intents=client.intents, proxy_host=proxy_host)
        if failure is None:
            raise
        raise failure from exc
    finally:
        await client.close()
        await _finish(runner)


async def _connect(client: discord.Client, token: Secret,
                   ready_timeout: float) -> asyncio.Task[None]:
    """Log in and start the gateway; returns the running ``connect`` task once READY."""
    await client.login(token.reveal())
    runner = asyncio.create_task(client.connect(reconnect=True), name="discord-gateway")
    ready = asyncio.create_task(client.wait_until_ready(), name="discord-ready")
    try:
        # A sharded client connects its shards one after another, 5 s apart (Discord's
        # IDENTIFY limit), so READY for many shards takes longer than any fixed bound:
        # the timeout runs again as long as another shard connected meanwhile.
        connected = _shards_connected(client)
        while True:
            done, _ = await asyncio.wait({runner, ready}, timeout=ready_timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
            if ready in done:
                return runner
            if runner in done:
                runner.result()  # re-raises why the connection ended
                raise ConnectionError("the Discord gateway closed before READY")
            progress, connected = connected, _shards_connected(client)
            if connected == progress:
                raise TimeoutError(
                    f"no READY from the Discord gateway within {ready_timeout:.0f} s")
    except BaseException:
        await _finish(runner)
        raise
    finally:
        await _finish(ready)


def _shards_connected(client: discord.Client) -> int:
    return len(client.shards) if isinstance(client, discord.AutoShardedClient) else 0


async def _finish(task: asyncio.Task[None]) -> None:
    """Cancel ``task`` if it still runs and wait for it; its outcome is not ours to raise.

    Our own cancellation, arriving meanwhile, still propagates.
    """
    if not task.done():
        task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
    except Exception:
        log.debug("%s ended with an error while being stopped", task.get_name(), exc_info=True)
