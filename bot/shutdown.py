"""Graceful shutdown on SIGTERM/SIGINT, bounded by ``SHUTDOWN_TIMEOUT``.

The sequence, each step under its share of one deadline:

1. **refuse new starts** — the run service refuses every start with one sentence from
   now on (a start already under way is waited for), and ``/readyz`` turns 503;
2. **notice** — a short message in each running voice channel's chat;
3. **stop the runs** — each run leaves voice and closes its Pinch rooms
   (``SessionManager.aclose``); no transcript can arrive after this;
4. **flush** — every hook in ``bot.flush_hooks`` is awaited (the transcript writer
   registers one that drains its pending posts). It comes after the runs stop so the
   last transcripts of each run are among what it flushes, and after one pass of the
   loop so the runs' final status events have reached their listeners;
5. **answer** — commands still under way finish (a start refused above says so to
   its caller before the HTTP session closes);
6. **close** — the gateway, the Pinch client, the health endpoint.

A step that fails is logged and the sequence goes on. If the deadline passes the
remaining steps are cut short and the exit status is 1; after a signal, a watchdog
thread ends the process at the deadline even if the event loop is stuck. A second SIGINT exits at
once (a person pressing Ctrl-C again means it); a repeated SIGTERM is ignored.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Final, Protocol

import discord

from bot.service.runs import SHUTTING_DOWN

log = logging.getLogger(__name__)

NOTICE: Final = ("Interpretation stopped: the bot is restarting. "
                 "Start it again in a minute.")
REFUSAL: Final = SHUTTING_DOWN
NOTICE_TIMEOUT_S: Final = 3.0
REFUSE_CAP_S: Final = 5.0
"""Longest wait for a start already under way (it is stopped with the others)."""
COMMANDS_CAP_S: Final = 5.0
"""Longest wait for commands under way to answer before the HTTP session closes."""
CLOSE_RESERVE_S: Final = 2.0
"""Kept for the last step (closing the gateway and HTTP sessions)."""
EXIT_MARGIN_S: Final = 0.5
"""Kept after the last step for the interpreter to exit."""

FlushHook = Callable[[], Awaitable[None]]


class ShutdownTarget(Protocol):
    """What the shutdown drives (the bot is one); it knows nothing else of the bot."""

    @property
    def flush_hooks(self) -> Sequence[FlushHook]: ...

    async def refuse_new_runs(self, reason: str) -> None:
        """Refuse every start from now on (and say so on ``/readyz``); wait for starts
        under way."""

    def interpreted_channels(self) -> list[discord.abc.Messageable]:
        """The voice channels with a run, to post the notice in."""

    async def stop_runs(self) -> None:
        """Stop every run (bounded, never raises)."""

    async def finish_commands(self) -> None:
        """Return once the commands under way have answered."""

    async def close(self) -> None: ...


class GracefulShutdown:
    def __init__(self, bot: ShutdownTarget | None, timeout_s: float) -> None:
        self.bot = bot
        """The bot to shut down; set later when the bot is made after the signals are set."""
        self._timeout = timeout_s
        self._requested = asyncio.Event()
        self._signal: str | None = None
        self._installed: list[signal.Signals] = []
        self._watchdog: threading.Timer | None = None

    @property
    def _current(self) -> ShutdownTarget:
        if self.bot is None:
            raise RuntimeError("no bot to shut down yet")
        return self.bot

    # -- signals --------------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request, sig.name)
            self._installed.append(sig)

    def remove_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in self._installed:
            loop.remove_signal_handler(sig)
        self._installed.clear()

    def request(self, reason: str) -> None:
        """Ask for the shutdown (a signal handler; also callable directly)."""
        if self._signal is None:
            self._signal = reason
            log.info("%s received: shutting down within %g s", reason, self._timeout)
            self._start_watchdog()
            self._requested.set()
        elif reason == "SIGINT":
            log.warning("second SIGINT: exiting now")
            os._exit(1)
        else:
            log.info("%s received again: shutdown already under way", reason)

    @property
    def requested(self) -> bool:
        return self._requested.is_set()

    async def wait_requested(self) -> None:
        await self._requested.wait()

    def _start_watchdog(self) -> None:
        def expire() -> None:
            log.error("shutdown took longer than %g s: exiting now", self._timeout)
            os._exit(1)

        self._watchdog = threading.Timer(self._timeout, expire)
        self._watchdog.daemon = True
        self._watchdog.name = "shutdown-watchdog"
        self._watchdog.start()

    # -- the sequence ---------------------------------------------------------------

    async def run(self) -> bool:
        """Run the sequence; True when every step finished before the deadline.

        The watchdog that ends a stuck process is armed by :meth:`request` (the
        signal path) only, so calling this in-process never kills its caller.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout - EXIT_MARGIN_S
        started = time.monotonic()
        bot = self._current

        # (name, step, cap in seconds or None); every step but the last leaves
        # CLOSE_RESERVE_S for closing.
        steps: list[tuple[str, Callable[[], Awaitable[None]], float | None]] = [
            ("refusing new runs", self._refuse, REFUSE_CAP_S),
            ("posting notices", self._post_notices, NOTICE_TIMEOUT_S + 0.5),
            ("stopping runs", self._stop_runs, None),
            ("flushing", self._flush, None),
            ("answering commands under way", bot.finish_commands, COMMANDS_CAP_S),
            ("closing", bot.close, None),
        ]
        on_time = True
        for index, (name, step, cap) in enumerate(steps):
            reserve = CLOSE_RESERVE_S if index < len(steps) - 1 else 0.0
            budget = deadline - loop.time() - reserve
            if cap is not None:
                budget = min(budget, cap)
            if budget <= 0:
                log.warning("shutdown: no time left for %s", name)
                on_time = False
                continue
            try:
                async with asyncio.timeout(budget):
                    await step()
            except TimeoutError:
                log.warning("shutdown: %s did not finish in %.1f s", name, budget)
                on_time = False
            except Exception:
                log.exception("shutdown: %s failed", name)
        log.info("shutdown %s in %.1f s", "complete" if on_time else "cut short",
                 time.monotonic() - started)
        return on_time

    async def _refuse(self) -> None:
        await self._current.refuse_new_runs(REFUSAL)

    async def _post_notices(self) -> None:
        channels = self._current.interpreted_channels()
        await asyncio.gather(*(self._notice(channel) for channel in channels))

    @staticmethod
    async def _notice(channel: discord.abc.Messageable) -> None:
        try:
            async with asyncio.timeout(NOTICE_TIMEOUT_S):
                await channel.send(NOTICE)
        except (TimeoutError, discord.HTTPException) as exc:
            # A channel without Send Messages is normal; the run still stops cleanly.
            log.warning("shutdown: no notice in %s (%s)", channel, exc)

    async def _stop_runs(self) -> None:
        await self._current.stop_runs()

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # let the runs' final status events reach listeners
        hooks = list(self._current.flush_hooks)
        results = await asyncio.gather(*(hook() for hook in hooks), return_exceptions=True)
        for hook, result in zip(hooks, results, strict=True):
            if isinstance(result, BaseException):
                log.error("shutdown: flush hook %s failed: %r",
                          getattr(hook, "__qualname__", hook), result)
