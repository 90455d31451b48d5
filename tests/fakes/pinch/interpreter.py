"""The interpreter's behaviour, whichever API carries it: hear, segment, translate, speak.

One :class:`InterpreterCore` per session. Its face — the LiveKit
:class:`~tests.fakes.pinch.agent.TranslationAgent` or the WebSocket
:class:`~tests.fakes.pinch.ws_session.WebSocketInterpreter` — feeds it the client's
audio (48 kHz mono int16, :meth:`InterpreterCore.hear`), runs its three loops as
tasks it supervises, and gives it an :class:`Outlet` for what comes out:

    audio ─► EnergySegmenter ─► outbox (bounded, ordered) ─► sender loop ─► outlet.publish
                                (interim and final originals)  │
                                 translator loop (``translation_latency_s`` after the end of
                                 the utterance, never before its original went out, as the
                                 reference's example timestamps show)
                                   ─► translated transcript ─► player queue ─► outlet.play

Translations do not hold up the sender: the next segment's interims flow while the
previous one is being translated, as with the real service. The sender and the
translator wait for ``client_active`` (set and cleared by the face). Segment ``n``
(simulator-wide) is answered with a tone at ``translation_frequency(n)``. A session
opened with ``audio_output`` off gets transcripts only. ``language_detected`` comes
from the speech's tone when ``AgentTuning.language_bands`` are set (see
:mod:`~tests.fakes.pinch.config`), else it is the session's source language (after
any ``update_metadata``). The faults of
:class:`~tests.fakes.pinch.config.SimulatorFaults` that concern the interpreter
(``drop_agent_in_segment``, ``inject_garbage``, ``translation_delay``,
``translated_audio_delay``) are applied here, so both faces share them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from tests.fakes.pinch.config import (
    AgentTuning,
    SimulatorFaults,
    language_of,
    script_line,
    translation_frequency,
)
from tests.fakes.pinch.records import SegmentRecord, SimulatedSession
from tests.fakes.pinch.segmenter import (
    SAMPLE_RATE,
    EnergySegmenter,
    Interim,
    SpeechEnded,
    SpeechStarted,
)
from tests.support.signals import dominant_frequency, rms, tone

OUTBOX_SIZE: Final = 256  # messages waiting for the client to become active; overflow dropped
PLAYER_QUEUE_SIZE: Final = 16  # translated tones waiting to play; overflow dropped, counted
TONE_AMPLITUDE: Final = 0.5
FINAL_CONFIDENCE: Final = 0.93


class Outlet(Protocol):
    """How a face puts the interpreter's output on its wire."""

    audio_rate: int
    """Sample rate the translated tones are generated at."""
    play_frame: int
    """Samples per :meth:`play` call."""

    def message(self, kind: str, text: str, timestamp: float, is_final: bool,
                correlation: str, language: str) -> bytes | str:
        """A transcript message (``kind``: ``original_transcript``/``translated_transcript``)."""

    def garbage(self) -> Sequence[bytes | str]:
        """What ``inject_garbage`` sends before each final transcript."""

    async def publish(self, payload: bytes | str) -> None: ...

    async def play(self, chunk: npt.NDArray[np.int16]) -> None:
        """One chunk of translated speech, at real-time pace."""

    async def drain(self) -> None:
        """Until what was played has been heard."""


@dataclass(frozen=True, slots=True)
class _Send:
    payload: bytes | str


@dataclass(frozen=True, slots=True)
class _FinalOriginal:
    record: SegmentRecord
    correlation: str


_OutboxItem = _Send | _FinalOriginal


class InterpreterCore:
    def __init__(
        self,
        *,
        session: SimulatedSession,
        script: Sequence[tuple[str, str]],
        faults: SimulatorFaults,
        tuning: AgentTuning,
        next_number: Callable[[], int],
        outlet: Outlet,
        on_stop: Callable[[str], None],
    ) -> None:
        self.session = session
        self._script = script
        self._faults = faults
        self._tuning = tuning
        self._next_number = next_number
        self._outlet = outlet
        self._on_stop = on_stop
        self.client_active = asyncio.Event()
        self._segmenter = EnergySegmenter(tuning)
        self._outbox: asyncio.Queue[_OutboxItem] = asyncio.Queue(OUTBOX_SIZE)
        self._translating: asyncio.Queue[tuple[SegmentRecord, str]] = asyncio.Queue(OUTBOX_SIZE)
        self._player: asyncio.Queue[SegmentRecord] = asyncio.Queue(PLAYER_QUEUE_SIZE)
        self._segment_index = 0
        self._current_start_wall = 0.0
        self._interims: list[str] = []

    # -- input -------------------------------------------------------------------------

    def hear(self, samples: npt.NDArray[np.int16], arrived: float) -> None:
        """48 kHz mono audio of the client that arrived at wall time ``arrived``."""
        for event in self._segmenter.feed(samples):
            behind = (self._segmenter.position - _position_of(event)) / SAMPLE_RATE
            self._on_segment_event(event, arrived - behind)

    def forget_current_segment(self) -> None:
        """The client's track went away: what was half heard is dropped."""
        self._segmenter = EnergySegmenter(self._tuning)

    def _correlation(self, index: int) -> str:
        return f"{self.session.room_name}-{index}"

    def _on_segment_event(
        self, event: SpeechStarted | Interim | SpeechEnded, wall: float
    ) -> None:
        original, translation = script_line(self._script, self._segment_index)
        correlation = self._correlation(self._segment_index)
        if isinstance(event, SpeechStarted):
            self._current_start_wall = wall
            self._interims = []
        elif isinstance(event, Interim):
            words = original.split()
            shown = " ".join(words[: max(1, min(event.count, len(words) - 1))])
            self._interims.append(shown)
            language = self._language(self._segmenter.segment_audio())
            self._enqueue(_Send(self._outlet.message("original_transcript", shown, wall, False,
                                                     correlation, language)))
            if self._faults.drop_agent_in_segment == self._segment_index:
                self.session.agent_dropped = True
                self._on_stop("dropped")
        else:
            number = self._next_number()
            heard = dominant_frequency(event.samples, SAMPLE_RATE)
            record = SegmentRecord(
                index=self._segment_index,
                number=number,
                started_at=self._current_start_wall,
                ended_at=wall,
                samples=int(event.samples.size),
                heard_frequency=heard,
                heard_rms=rms(event.samples),
                translation_frequency=translation_frequency(number),
                original_text=original,
                translated_text=translation,
                interim_texts=list(self._interims),
                detected_language=self._language_at(heard),
            )
            self._segment_index += 1
            self.session.segments.append(record)
            if self._faults.inject_garbage:
                for garbage in self._outlet.garbage():
                    self._enqueue(_Send(garbage))
            self._enqueue(_FinalOriginal(record, correlation))

    def _language(self, samples: npt.NDArray[np.int16]) -> str:
        """The language ``samples`` are "in": their tone's band, else the session's hint."""
        if samples.size < 2:
            return self.session.current_source_language
        return self._language_at(dominant_frequency(samples, SAMPLE_RATE))

    def _language_at(self, frequency_hz: float) -> str:
        band = language_of(frequency_hz, self._tuning.language_bands)
        return band or self.session.current_source_language

    def _enqueue(self, item: _OutboxItem) -> None:
        try:
            self._outbox.put_nowait(item)
        except asyncio.QueueFull:
            self.session.messages_dropped += 1

    # -- loops (run as tasks by the face) ----------------------------------------------

    async def send_loop(self) -> None:
        outlet = self._outlet
        while True:
            item = await self._outbox.get()
            await self.client_active.wait()  # again after a rejoin: the new client must be up
            if isinstance(item, _Send):
                await self._publish(item.payload)
                continue
            r = item.record
            await self._publish(outlet.message("original_transcript", r.original_text,
                                               r.ended_at, True, item.correlation,
                                               r.detected_language))
            r.final_original_sent_at = time.time()
            try:
                self._translating.put_nowait((r, item.correlation))
            except asyncio.QueueFull:
                self.session.messages_dropped += 1

    async def translate_loop(self) -> None:
        while True:
            r, correlation = await self._translating.get()
            assert r.final_original_sent_at is not None
            # Made ~0.9 s after the end of the utterance (the reference's timestamps),
            # never before its original went out.
            due = max(r.ended_at + self._tuning.translation_latency_s,
                      r.final_original_sent_at) + self._faults.translation_delay
            await asyncio.sleep(max(0.0, due - time.time()))
            await self.client_active.wait()
            # Timestamped when made, like the reference's example (~0.9 s after the original).
            made_at = time.time()
            await self._publish(self._outlet.message("translated_transcript", r.translated_text,
                                                     made_at, True, correlation,
                                                     r.detected_language))
            r.translation_sent_at = time.time()
            if not self.session.request.audio_output:
                continue  # transcripts only
            try:
                self._player.put_nowait(r)
            except asyncio.QueueFull:
                self.session.audio_segments_dropped += 1

    async def play_loop(self) -> None:
        outlet = self._outlet
        while True:
            record = await self._player.get()
            if self._faults.translated_audio_delay > 0:
                await asyncio.sleep(self._faults.translated_audio_delay)
            samples = tone(record.translation_frequency, record.samples / SAMPLE_RATE,
                           outlet.audio_rate, amplitude=TONE_AMPLITUDE)
            samples = samples[: samples.size - samples.size % outlet.play_frame]
            record.audio_started_at = time.time()
            for chunk in samples.reshape(-1, outlet.play_frame):
                await outlet.play(chunk)
                self.session.translated_audio_chunks += 1
            await outlet.drain()
            record.audio_ended_at = time.time()

    async def _publish(self, payload: bytes | str) -> None:
        await self._outlet.publish(payload)
        self.session.messages_sent.append(
            payload.encode() if isinstance(payload, str) else payload)


def _position_of(event: SpeechStarted | Interim | SpeechEnded) -> int:
    if isinstance(event, SpeechStarted):
        return event.start
    if isinstance(event, Interim):
        return event.position
    return event.end
