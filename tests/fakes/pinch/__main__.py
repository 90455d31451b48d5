"""Run the simulator by hand against a LiveKit server until interrupted.

    python -m tests.fakes.pinch --livekit-url ws://127.0.0.1:7880 \\
        --api-key KEY --api-secret SECRET --port 8089 [--api-token TOKEN] [--script lines.json]
        [--tone-languages]

``--script`` is a JSON list of ``[original, translation]`` pairs; ``--tone-languages``
reports ``language_detected`` from the speech's tone (``SPEAKER_LANGUAGES``: 300 Hz
English, 500 Hz Spanish, 650 Hz French) instead of the session's hint. Point the bot's
``PINCH_BASE_URL`` (LiveKit API) and ``PINCH_WS_BASE_URL`` (WebSocket API, with
``PINCH_TRANSPORT=websocket``) at the printed URL and its ``PINCH_API_TOKEN`` at the
token.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
from pathlib import Path

from bot.process_exit import end_process
from tests.fakes.pinch.config import (
    DEFAULT_SCRIPT,
    SPEAKER_LANGUAGES,
    AgentTuning,
    SimulatorFaults,
)
from tests.fakes.pinch.simulator import PinchSimulator


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.pinch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--livekit-url", required=True)
    parser.add_argument("--api-key", required=True, help="LiveKit API key")
    parser.add_argument("--api-secret", required=True, help="LiveKit API secret")
    parser.add_argument("--api-token", default="sim-pinch-token", help="Pinch token to accept")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--script", type=Path, help="JSON list of [original, translation]")
    parser.add_argument("--rate-limit-every", type=int, default=0)
    parser.add_argument("--internal-error-every", type=int, default=0)
    parser.add_argument("--response-delay", type=float, default=0.0)
    parser.add_argument("--translated-audio-delay", type=float, default=0.0)
    parser.add_argument("--tone-languages", action="store_true",
                        help="language_detected from the tone of the speech (SPEAKER_LANGUAGES)")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    script = DEFAULT_SCRIPT
    if args.script is not None:
        script = tuple((str(a), str(b)) for a, b in json.loads(args.script.read_text()))
    faults = SimulatorFaults(
        rate_limit_every=args.rate_limit_every,
        internal_error_every=args.internal_error_every,
        response_delay=args.response_delay,
        translated_audio_delay=args.translated_audio_delay,
    )
    async with PinchSimulator(
        livekit_url=args.livekit_url,
        livekit_api_key=args.api_key,
        livekit_api_secret=args.api_secret,
        api_token=args.api_token,
        script=script,
        faults=faults,
        tuning=AgentTuning(language_bands=SPEAKER_LANGUAGES if args.tone_languages else ()),
        host=args.host,
        port=args.port,
    ) as sim:
        print(f"Pinch simulator on {sim.base_url} (LiveKit {args.livekit_url}); Ctrl-C stops",
              flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
    end_process(0)  # see bot.process_exit: LiveKit's threads outlive the loop
