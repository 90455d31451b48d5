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


def _correlated(kind: str, cid: str | None, final: bool = True) -> TranscriptEvent:
    return TranscriptEvent(kind=kind, text="x", is_final=final,  # type: ignore[arg-type]
                           language_detected=None, timestamp=0.0, confidence=None,
                           correlation_id=cid)


def test_a_correlation_id_pairs_a_translation_with_its_original_whatever_the_order() -> None:
    numbers = UtteranceNumbers()
    got = [numbers.number(_correlated(kind, cid, final)) for kind, cid, final in [
        ("original", "a", False), ("original", "a", True),   # utterance 0
        ("original", "b", True),                              # utterance 1
        ("translated", "b", True),                            # b's, though a's is older
        ("translated", "a", True),
    ]]
    assert got == [0, 0, 1, 1, 0]


def test_several_finals_of_one_correlated_segment_keep_its_number() -> None:
    numbers = UtteranceNumbers()
    got = [numbers.number(_correlated("original", "a")) for _ in range(3)]
    got.append(numbers.number(_correlated("translated", "a")))
    got.append(numbers.number(_correlated("original", None)))
    assert got == [0, 0, 0, 0, 1]


def test_a_translation_without_an_id_still_takes_the_oldest_waiting_number() -> None:
    numbers = UtteranceNumbers()
    assert numbers.number(_correlated("original", "a")) == 0
    assert numbers.number(_correlated("original", None)) == 1
    assert numbers.number(_correlated("translated", None)) == 0
    assert numbers.number(_correlated("translated", "unknown")) == 1


def test_a_new_session_forgets_correlation_ids() -> None:
    numbers = UtteranceNumbers()
    numbers.number(_correlated("original", "a"))
    numbers.new_session()
    assert numbers.number(_correlated("translated", "a")) == 1
