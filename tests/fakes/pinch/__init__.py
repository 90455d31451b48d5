"""A Pinch-compatible simulator for tests and by-hand runs (``python -m tests.fakes.pinch``).

It serves both of Pinch's APIs on loopback from one server: the LiveKit API (for
every session a ``translation-agent`` participant joins a room of the real local
LiveKit server) and the WebSocket API (``GET /v1/session``, then one socket per
session). Both faces share one interpreter behaviour (``interpreter.py``), so the
bot is exercised end to end over either transport without the real service.
"""

from tests.fakes.pinch.agent import GARBAGE_MESSAGES, TRACK_NAME
from tests.fakes.pinch.config import (
    DEFAULT_SCRIPT,
    SPEAKER_LANGUAGES,
    AgentTuning,
    LanguageBand,
    SimulatorFaults,
    language_of,
    segment_number_for,
    translation_frequency,
)
from tests.fakes.pinch.records import CallRecord, SegmentRecord, SessionRequest, SimulatedSession
from tests.fakes.pinch.simulator import PinchSimulator
from tests.fakes.pinch.tokens import AGENT_IDENTITY

__all__ = [
    "AGENT_IDENTITY",
    "DEFAULT_SCRIPT",
    "GARBAGE_MESSAGES",
    "SPEAKER_LANGUAGES",
    "TRACK_NAME",
    "AgentTuning",
    "CallRecord",
    "LanguageBand",
    "PinchSimulator",
    "SegmentRecord",
    "SessionRequest",
    "SimulatedSession",
    "SimulatorFaults",
    "language_of",
    "segment_number_for",
    "translation_frequency",
]
