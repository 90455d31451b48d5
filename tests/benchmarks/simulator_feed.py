"""The Pinch simulator in a process of its own, reporting when it heard and played each
segment (for ``scripts/bench load``, whose bot runs in yet another process).

    python -m tests.benchmarks.simulator_feed --livekit-url URL --api-key K --api-secret S

prints ``READY <base url>``, then one JSON line per event, in seconds of this
machine's monotonic clock (the same in every process here):

    {"room": ..., "number": n, "heard": t}   segment n's first voiced audio arrived
    {"room": ..., "number": n, "played": t}  its translated audio (a tone) started

``room`` is the session's LiveKit room or WebSocket session id, the name the bot's
link reports. :class:`SimulatorProcess` is the benchmark's side: it starts the
child and collects the events.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from bot.process_exit import end_process
from tests.fakes.pinch import PinchSimulator, SegmentRecord, SimulatedSession
from tests.support.livekit_server import REPO_ROOT, LiveKitServer
from tests.support.transports import PINCH_TEST_TOKEN

POLL_S = 0.2
START_TIMEOUT_S = 30.0
READY = "READY "


Unplayed = list[tuple[SimulatedSession, SegmentRecord]]


def _new_events(sim: PinchSimulator, heard_upto: dict[str, int],
                unplayed: Unplayed) -> Iterator[dict[str, object]]:
    """Events since the last call (``heard_upto`` and ``unplayed`` carry the state)."""
    offset = time.time() - time.monotonic()  # the records are in wall-clock seconds
    for session in list(sim.sessions):
        done = heard_upto.get(session.room_name, 0)
        for segment in session.segments[done:]:
            yield {"room": session.room_name, "number": segment.number,
                   "heard": segment.started_at - offset}
            unplayed.append((session, segment))
        heard_upto[session.room_name] = len(session.segments)
    waiting = []
    for session, segment in unplayed:
        if segment.audio_started_at is None:
            waiting.append((session, segment))
        else:
            yield {"room": session.room_name, "number": segment.number,
                   "played": segment.audio_started_at - offset}
    unplayed[:] = waiting


async def _serve(args: argparse.Namespace) -> None:
    async with PinchSimulator(livekit_url=args.livekit_url, livekit_api_key=args.api_key,
                              livekit_api_secret=args.api_secret,
                              api_token=PINCH_TEST_TOKEN) as sim:
        print(READY + sim.base_url, flush=True)
        heard_upto: dict[str, int] = {}
        unplayed: Unplayed = []
        while True:
            lines = [json.dumps(e) for e in _new_events(sim, heard_upto, unplayed)]
            if lines:
                print("\n".join(lines), flush=True)
            await asyncio.sleep(POLL_S)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--livekit-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--api-secret", required=True)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


# -- the benchmark's side ----------------------------------------------------------------


@dataclass
class SimulatorEvents:
    """What the simulator reported so far."""

    heard: dict[str, list[float]] = field(default_factory=dict)
    """Room → the onsets of its segments, in order."""
    played: list[tuple[str, int, float]] = field(default_factory=list)
    """(room, segment number, when its translation started), in order; a reader may
    take them off the front."""


class SimulatorProcess:
    """``async with SimulatorProcess(server) as sim``: ``sim.base_url``, ``sim.events``."""

    def __init__(self, server: LiveKitServer) -> None:
        self._server = server
        self.base_url = ""
        self.events = SimulatorEvents()
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> SimulatorProcess:
        server = self._server
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.benchmarks.simulator_feed",
            "--livekit-url", server.url, "--api-key", server.api_key,
            "--api-secret", server.api_secret,
            cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
            limit=1 << 20)
        assert self._proc.stdout is not None
        line = (await asyncio.wait_for(self._proc.stdout.readline(), START_TIMEOUT_S)).decode()
        if not line.startswith(READY):
            raise RuntimeError(f"the simulator did not start: {line!r}")
        self.base_url = line[len(READY):].strip()
        self._reader = asyncio.create_task(self._read(), name="bench-simulator-events")
        return self

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    async def _read(self) -> None:
        assert self._proc is not None
        assert self._proc.stdout is not None
        async for line in self._proc.stdout:
            event = json.loads(line)
            if "heard" in event:
                self.events.heard.setdefault(event["room"], []).append(float(event["heard"]))
            else:
                self.events.played.append((event["room"], int(event["number"]),
                                           float(event["played"])))

    async def __aexit__(self, *exc: object) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._proc is not None and self._proc.returncode is None:
            self._proc.terminate()
            await self._proc.wait()


if __name__ == "__main__":
    main()
    end_process(0)  # see bot.process_exit: LiveKit's threads outlive the loop
