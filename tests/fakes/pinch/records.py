"""What the simulator remembers, per HTTP call and per session, for tests to assert on.

Records are plain mutable dataclasses written only by the simulator's own tasks
on the event loop; tests read them (usually after :meth:`wait_for_segments`).
Tokens are never recorded: only whether the caller's was right.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class CallRecord:
    """One session request (``POST /api/beta1/session`` or ``GET /v1/session``) as the
    simulator saw and answered it."""

    number: int  # 1-based, simulator-wide
    status: int
    authorized: bool
    content_type: str
    body: Any  # the decoded JSON body (None when it was not JSON), or the GET's query
    received_at: float  # unix seconds
    path: str = "/api/beta1/session"


@dataclass(frozen=True, slots=True)
class SessionRequest:
    source_language: str
    target_language: str
    voice_type: str
    body: dict[str, Any]
    audio_output: bool = True  # WebSocket API: audioOutputEnabled
    context: str | None = None  # WebSocket API only
    finalize_mode: str = "stable"  # WebSocket API only


@dataclass(slots=True)
class SegmentRecord:
    """One stretch of speech the agent heard and translated."""

    index: int  # 0-based within the session: picks the script line
    number: int  # 0-based within the simulator: picks the tone frequency
    started_at: float  # unix seconds of the first voiced frame
    ended_at: float  # unix seconds of the end of the last voiced frame
    samples: int  # voiced samples at 48 kHz mono
    heard_frequency: float  # dominant frequency of what was heard (FFT)
    heard_rms: float
    translation_frequency: float  # of the tone played back
    original_text: str
    translated_text: str
    interim_texts: list[str] = field(default_factory=list)
    detected_language: str = ""  # what the agent reported in language_detected
    final_original_sent_at: float | None = None
    translation_sent_at: float | None = None
    audio_started_at: float | None = None
    audio_ended_at: float | None = None

    @property
    def duration_s(self) -> float:
        return self.samples / 48_000


@dataclass(slots=True)
class SimulatedSession:
    """One session handed out, and everything its interpreter did in it.

    On the WebSocket API ``room_name`` is the session id, ``client_joined_at`` the
    socket's opening and ``client_active_at`` when ``ready`` was sent.
    """

    room_name: str
    client_identity: str
    request: SessionRequest
    token_expires_at: float
    segments: list[SegmentRecord] = field(default_factory=list)
    messages_sent: list[bytes] = field(default_factory=list)  # every data packet, in order
    client_joined_at: float | None = None
    client_active_at: float | None = None
    agent_dropped: bool = False
    ended_reason: str | None = None  # "client_left", "join_timeout", "closed", "dropped", ...
    ignored_tracks: int = 0  # extra audio tracks the agent did not listen to
    tracks_listened: int = 0  # client audio tracks the agent listened to (a republish adds one)
    tracks_lost: int = 0  # listened tracks the client unpublished (or took away by leaving)
    audio_segments_dropped: int = 0  # translated tones dropped because the player queue was full
    translated_audio_chunks: int = 0  # chunks of translated speech sent (none if text only)
    messages_dropped: int = 0  # data messages dropped because the agent's outbox was full
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    transport: str = "livekit"  # or "websocket"
    metadata_updates: list[dict[str, Any]] = field(default_factory=list)  # update_metadata
    audio_frames_received: int = 0  # WebSocket: binary frames from the client
    audio_bytes_received: int = 0
    client_close_code: int | None = None  # WebSocket: the code the client closed with
    server_close_code: int | None = None  # WebSocket: the code the simulator closed with

    @property
    def current_source_language(self) -> str:
        """The source language now, after any ``update_metadata``."""
        for update in reversed(self.metadata_updates):
            value = update.get("sourceLanguage")
            if isinstance(value, str):
                return value
        return self.request.source_language
