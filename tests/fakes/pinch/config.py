"""What a simulator says and how it misbehaves: the script, the faults, the tone code.

Segment numbers are simulator-wide and start at 0; the translated audio of
segment ``n`` is a sine at :func:`translation_frequency` ``(n)``, so a test that
hears the audio can tell which segment it belongs to with
:func:`segment_number_for`.

The language a speaker's audio "is" is coded the same way, by its tone: with
``AgentTuning(language_bands=SPEAKER_LANGUAGES)`` a segment whose dominant
frequency falls in a band is reported (``language_detected``, on its interim
and final originals and on its translation) as that band's language; outside
every band, or with no bands (the default), the agent reports the session's
``source_language``, as if it trusted the hint. :data:`SPEAKER_LANGUAGES` fits
the e2e harness's speakers:

    ========  =========  ============  =========
    speaker   tone       band          language
    ========  =========  ============  =========
    Alice     300 Hz     250–350 Hz    en-US
    Bob       500 Hz     450–550 Hz    es-ES
    admin     650 Hz     600–700 Hz    fr-FR
    ========  =========  ============  =========

Translated tones start at 1000 Hz, far above every band.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

BASE_FREQUENCY_HZ: Final = 1000.0
STEP_HZ: Final = 100.0
# Numbers wrap so tones stay well below Nyquist and inside Opus' full band.
FREQUENCY_SLOTS: Final = 80

DEFAULT_SCRIPT: Final[tuple[tuple[str, str], ...]] = (
    ("Hello, how are you?", "Hola, ¿cómo estás?"),
    ("The meeting starts at noon.", "La reunión empieza a mediodía."),
    ("Can you hear me now?", "¿Me oyes ahora?"),
    ("Thank you, see you tomorrow.", "Gracias, hasta mañana."),
)

BadSuccess = Literal["not_json", "missing_token", "bad_jwt"]


@dataclass(frozen=True, slots=True)
class LanguageBand:
    """Speech whose dominant frequency is in ``[low_hz, high_hz)`` is in ``language``."""

    low_hz: float
    high_hz: float
    language: str


SPEAKER_LANGUAGES: Final[tuple[LanguageBand, ...]] = (
    LanguageBand(250.0, 350.0, "en-US"),
    LanguageBand(450.0, 550.0, "es-ES"),
    LanguageBand(600.0, 700.0, "fr-FR"),
)


def language_of(frequency_hz: float, bands: Sequence[LanguageBand]) -> str | None:
    """The language of speech with this dominant frequency, or ``None`` outside every band."""
    for band in bands:
        if band.low_hz <= frequency_hz < band.high_hz:
            return band.language
    return None


def translation_frequency(segment_number: int) -> float:
    """Hz of the tone the simulator plays for simulator-wide segment ``segment_number``.

    ``1000 Hz + 100 Hz * (n mod 80)``: 1000 Hz to 8900 Hz.
    """
    return BASE_FREQUENCY_HZ + STEP_HZ * (segment_number % FREQUENCY_SLOTS)


def segment_number_for(frequency_hz: float) -> int:
    """The segment number (mod 80) a measured tone frequency stands for."""
    return round((frequency_hz - BASE_FREQUENCY_HZ) / STEP_HZ) % FREQUENCY_SLOTS


@dataclass(frozen=True, slots=True)
class SimulatorFaults:
    """Misbehaviour switched on by configuration; the default is a healthy service.

    HTTP (``POST /api/beta1/session`` and ``GET /v1/session`` alike), applied in this order:

    * ``scripted_statuses``: the first calls are answered with these statuses, one
      each (429 with ``Retry-After``, 401 invalid_token, 402/403 a plain-string
      error, 500 internal_error, 502/503/504 an HTML page as a proxy would).
    * ``rate_limit_every`` / ``internal_error_every`` / ``unavailable_every``: every Nth
      call (1-based) gets a 429 (with ``Retry-After: retry_after`` unless that is
      ``None``), a 500, or a 503 (an HTML proxy page on the LiveKit API, "capacity
      exhausted" on the WebSocket API).
    * ``not_entitled``: the WebSocket API answers 403 (valid key, no real-time plan).
    * ``response_delay``: seconds to wait before answering anything (slow answers).
    * ``plain_string_errors``: errors as ``{"error": "message"}``.
    * ``expired_tokens``: successful sessions carry a token whose ``exp`` passed.
    * ``bad_success``: a 200 whose body is not JSON, lacks ``token``, or has a
      token that is not a JWT.

    Room:

    * ``drop_agent_in_segment``: the agent leaves the room (WebSocket: the server
      closes the socket with 4503) right after the first interim transcript of this
      (0-based, per session) segment.
    * ``inject_garbage``: before each final transcript, send one malformed (non-
      JSON), one non-UTF-8, one unknown-type, one wrong-typed and one oversized
      data message.
    * ``translation_delay``: extra seconds between the final original and the
      translated transcript (on top of ``AgentTuning.translation_latency_s``).
    * ``agent_join_delay``: seconds the interpreter takes to join its room after
      the session was handed out (WebSocket: to send ``ready`` after the socket
      opened); ``None`` = it never joins.
    * ``token_ttl_s``: lifetime of the session tokens handed out (default an hour).
    * ``ws_url_ttl_s``: ``expires_in`` of WebSocket session URLs (the reference: 60 s);
      a URL opened later is closed with 4401.
    * ``speech_unsupported_targets``: WebSocket target languages without speech output:
      a session asking for translated speech in one gets an error frame, never ``ready``.
    * ``translated_audio_delay``: seconds between the translated transcript and
      the start of the translated audio.
    * ``relisten_delay`` (LiveKit): seconds the interpreter takes to subscribe to a
      microphone track the client publishes again (after resting); the client's first
      track is heard at once.
    """

    scripted_statuses: tuple[int, ...] = ()
    rate_limit_every: int = 0
    internal_error_every: int = 0
    unavailable_every: int = 0
    not_entitled: bool = False
    retry_after: float | None = 1.0
    response_delay: float = 0.0
    plain_string_errors: bool = False
    expired_tokens: bool = False
    bad_success: BadSuccess | None = None
    drop_agent_in_segment: int | None = None
    inject_garbage: bool = False
    translation_delay: float = 0.0
    translated_audio_delay: float = 0.0
    agent_join_delay: float | None = 0.0
    token_ttl_s: float | None = None
    ws_url_ttl_s: float = 60.0
    speech_unsupported_targets: tuple[str, ...] = ()
    relisten_delay: float = 0.0


@dataclass(frozen=True, slots=True)
class AgentTuning:
    """How the translation agent listens; defaults mimic the real service."""

    silence_to_end_s: float = 0.5  # a pause this long ends a segment
    min_speech_s: float = 0.12  # shorter bursts are noise, not speech
    max_segment_s: float = 20.0  # longer speech is cut into several segments
    threshold_rms: float = 600.0  # int16 RMS of a 10 ms frame that counts as voice
    interim_every_s: float = 0.3  # speech time between interim transcripts
    input_capacity_frames: int = 100  # rtc.AudioStream queue: 1 s of 10 ms frames
    client_join_timeout_s: float = 60.0  # leave if nobody joins the room by then
    rejoin_grace_s: float = 1.0  # after the last client leaves, wait this long for a rejoin
    # The reference's example: original at .048, its translation at .945 → ~0.9 s.
    translation_latency_s: float = 0.9
    # Tone bands that say which language a segment is in (see the module docstring);
    # empty: every segment is reported in the session's source language.
    language_bands: tuple[LanguageBand, ...] = ()


def script_line(script: Sequence[tuple[str, str]], index: int) -> tuple[str, str]:
    """The (original, translation) pair for per-session segment ``index`` (round robin)."""
    if not script:
        return ("…", "…")
    return script[index % len(script)]
