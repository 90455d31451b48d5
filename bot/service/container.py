"""Everything the cogs use, created before any cog loads and closed after they unload.

:func:`open_services` opens the store (migrating it), then the Pinch client and
the transport runs reach Pinch through (``PINCH_TRANSPORT``), the session manager,
the member-preference view, the transcript service (its
segments go to the store), the run service and the retention purge, wired to
each other; :meth:`Services.aclose` closes them in reverse order. A cog gets
this object whole: no attribute is ever ``None``.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from bot.interpretation.events import AttributedTranscript, RunStatus
from bot.interpretation.manager import SessionManager, VoiceConnector
from bot.interpretation.transport import Transport
from bot.interpretation.transports import build_transport
from bot.pinch import PinchClient
from bot.service.preferences import MemberPreferences
from bot.service.retention import RetentionPurger
from bot.service.runs import FailureNotice, RunService, RunSummary
from bot.settings import Settings
from bot.store import Store
from bot.transcripts import TranscriptService
from bot.transcripts.writer import PostObserver

log = logging.getLogger(__name__)



@dataclass(frozen=True, slots=True)
class Services:
    store: Store
    pinch: PinchClient
    manager: SessionManager
    preferences: MemberPreferences
    transcripts: TranscriptService
    runs: RunService
    retention: RetentionPurger
    transport: Transport[Any]
    """How runs reach Pinch (``PINCH_TRANSPORT``); ``transport.name`` is shown in statuses."""

    async def aclose(self) -> None:
        """Stop every run, then close the clients. Each step runs whatever the one
        before it did; a failing step is logged, not raised."""
        for name, step in (("the retention purge", self.retention.aclose),
                           ("the run watchdogs", self.runs.aclose),
                           ("the interpretations", self.manager.aclose),
                           # pending posts and segment writes: after the runs, before
                           # the store closes (and before the bot leaves Discord)
                           ("the transcripts", self.transcripts.aclose),
                           ("the Pinch transport", self.transport.aclose),
                           ("the Pinch client", self.pinch.aclose),
                           ("the store", self.store.aclose)):
            try:
                await step()
            except Exception:
                log.exception("closing %s failed", name)


async def open_services(
    settings: Settings,
    connect_voice: VoiceConnector,
    *,
    on_transcript: Callable[[AttributedTranscript], None],
    on_status: Callable[[RunStatus], None],
    on_ended: Callable[[RunSummary], None],
    on_failure: Callable[[FailureNotice], None],
    voice_unavailable: str | None = None,
    transcript_observer: PostObserver | None = None,
    pinch_transport: httpx.AsyncBaseTransport | None = None,
    ws_http_transport: httpx.AsyncBaseTransport | None = None,
    pinch_options: dict[str, Any] | None = None,
    clock: Callable[[], float] = time.monotonic,
    tick_s: float = 1.0,
) -> Services:
    """Open and wire every service. The engine's transcripts and statuses reach the
    run service first, then the caller's outlets (the bot's metrics and events).
    ``pinch_transport`` carries the LiveKit API's session requests, ``ws_http_transport``
    the WebSocket API's (httpx transports: the bot meters both); ``pinch_options`` go to
    both clients."""
    store = await Store.open(settings.database())
    try:
        pinch = PinchClient(settings.pinch_base_url, settings.pinch_api_token,
                            transport=pinch_transport, **(pinch_options or {}))
        transport = build_transport(settings, pinch, http_transport=ws_http_transport,
                                    client_options=pinch_options)
        log.info("Pinch transport: %s", transport.name)
        runs_holder: list[RunService] = []

        def transcript(item: AttributedTranscript) -> None:
            runs_holder[0].on_transcript(item)
            on_transcript(item)

        def status(item: RunStatus) -> None:
            runs_holder[0].on_status(item)
            on_status(item)

        manager = SessionManager(transport, connect_voice, on_transcript=transcript,
                                 on_status=status, voice_unavailable=voice_unavailable)
        preferences = MemberPreferences(store)
        transcripts = TranscriptService(sink=store, observer=transcript_observer,
                                        store_backlog=settings.segment_backlog)
        runs = RunService(manager, store, preferences, transcripts, on_ended=on_ended,
                          on_failure=on_failure, clock=clock, tick_s=tick_s)
        runs_holder.append(runs)
    except BaseException:
        with contextlib.suppress(Exception):
            await store.aclose()
        raise
    retention = RetentionPurger(store)
    retention.start()
    return Services(store, pinch, manager, preferences, transcripts, runs, retention, transport)
