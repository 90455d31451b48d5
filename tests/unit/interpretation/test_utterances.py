"""An original and its translation share an utterance number, whatever comes between."""

from __future__ import annotations

from bot.interpretation.utterances import UtteranceNumbers
from bot.pinch import TranscriptEvent


def _event(kind: str, final: bool = True) -> TranscriptEvent:
    return TranscriptEvent(kind=kind, text="x", is_final=final,  # type: ignore[arg-type]
                           language_detected=None, timestamp=0.0, confidence=None)


def test_a_translation_gets_the_number_of_the_oldest_original_waiting_for_one() -> None:
    numbers = UtteranceNumbers()
    got = [numbers.number(_event(kind, final)) for kind, final in [
        ("original", False), ("original", True),   # utterance 0
        ("original", False), ("original", True),   # utterance 1, before 0's translation
        ("translated", True), ("original", False), ("translated", True),
    ]]
    assert got == [0, 0, 1, 1, 0, 2, 1]


def test_a_new_session_forgets_originals_still_waiting() -> None:
    numbers = UtteranceNumbers()
    numbers.number(_event("original"))
    numbers.new_session()
    assert numbers.number(_event("original")) == 1
    assert numbers.number(_event("translated")) == 1
