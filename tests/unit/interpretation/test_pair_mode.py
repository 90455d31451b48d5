"""Pair mode's directions: each member into the other language of the pair, decided once."""

from __future__ import annotations

import pytest

from bot.interpretation.pair_mode import (
    MIXED_REFUSAL,
    Direction,
    Outcome,
    PairConfig,
    PairDirections,
    PairModeError,
)
from bot.interpretation.router import RouterConfig, RoutingMode
from bot.interpretation.run import RunConfig

ALICE, BOB, CLAIRE = 1, 2, 3
EN_ES = Direction("en-US", "es-ES")
ES_EN = Direction("es-ES", "en-US")


def pair() -> PairDirections:
    return PairDirections("en-US", "es-ES", clock=lambda: 42.0)


def test_a_member_without_a_preference_starts_from_the_first_language() -> None:
    directions = pair()
    assert directions.direction_for(ALICE, None) == EN_ES
    assert directions.undecided(ALICE, None)


def test_detecting_the_second_language_reverses_the_direction_and_keeps_it() -> None:
    directions = pair()
    decision = directions.observe(BOB, "es-ES")
    assert decision is not None
    assert (decision.outcome, decision.direction, decision.changed) == (
        Outcome.SECOND, ES_EN, True)
    assert decision.language == "es-ES"  # what /interpret me can save
    assert directions.direction_for(BOB, None) == ES_EN
    assert not directions.undecided(BOB, None)
    assert directions.observe(BOB, "en-US") is None  # decided once, for the rest of the run
    assert directions.direction_for(BOB, None) == ES_EN


def test_detecting_the_first_language_keeps_the_direction() -> None:
    directions = pair()
    decision = directions.observe(ALICE, "en")
    assert decision is not None
    assert (decision.outcome, decision.direction, decision.changed) == (
        Outcome.FIRST, EN_ES, False)


def test_a_regional_variant_is_the_same_language() -> None:
    decision = pair().observe(BOB, "es-MX")
    assert decision is not None
    assert decision.direction == ES_EN
    assert decision.detected == "es-MX"


def test_a_member_speaking_neither_language_is_interpreted_into_the_first() -> None:
    directions = pair()
    decision = directions.observe(CLAIRE, "fr")
    assert decision is not None
    assert (decision.outcome, decision.direction) == (Outcome.OTHER, Direction("fr-FR", "en-US"))
    notice = directions.other_language_notice(CLAIRE, "fr")
    assert notice == ("<@3> speaks French (France) (fr-FR), which is not one of this channel's "
                      "two languages (en-US ↔ es-ES): they are interpreted into English "
                      "(United States) (en-US) for the rest of this run.")


@pytest.mark.parametrize("detected", [None, "", "  ", "xx-YY", "klingon"])
def test_a_transcript_without_a_known_language_decides_nothing(detected: str | None) -> None:
    directions = pair()
    assert directions.observe(BOB, detected) is None
    assert directions.undecided(BOB, None)
    assert directions.decisions == {}


def test_a_preference_sets_the_direction_and_detection_never_applies() -> None:
    directions = pair()
    assert directions.direction_for(BOB, "es-ES") == ES_EN
    assert directions.direction_for(ALICE, "en-GB") == Direction("en-GB", "es-ES")
    assert directions.direction_for(CLAIRE, "fr-FR") == Direction("fr-FR", "en-US")
    assert not directions.undecided(BOB, "es-ES")
    # A decision made before they set their language is overruled by it.
    directions.observe(BOB, "en-US")
    assert directions.direction_for(BOB, "es-ES") == ES_EN


def test_decisions_are_exposed_for_saving() -> None:
    directions = pair()
    directions.observe(BOB, "es-ES")
    directions.observe(ALICE, "en-US")
    assert {m: d.direction for m, d in directions.decisions.items()} == {BOB: ES_EN,
                                                                         ALICE: EN_ES}
    assert directions.decisions[BOB].at == 42.0


def test_mixed_routing_with_pair_mode_is_refused_with_a_clear_message() -> None:
    with pytest.raises(PairModeError) as refused:
        RunConfig(target_language="es-ES", source_language="en-US", pair=PairConfig(),
                  router=RouterConfig(mode=RoutingMode.MIXED))
    assert str(refused.value) == MIXED_REFUSAL
    assert "per-speaker" in str(refused.value)
    assert isinstance(refused.value, ValueError)  # the command layer's input errors


def test_a_pair_of_one_language_is_refused() -> None:
    with pytest.raises(PairModeError, match="en-US and en-GB are the same language"):
        RunConfig(target_language="en-GB", source_language="en-US", pair=PairConfig())


def test_per_speaker_pair_mode_is_accepted() -> None:
    config = RunConfig(target_language="es-ES", source_language="en-US", pair=PairConfig())
    assert config.pair == PairConfig()


def test_a_replay_longer_than_the_uplink_queue_is_refused() -> None:
    with pytest.raises(ValueError, match="uplink queue"):
        RunConfig(target_language="es-ES", pair=PairConfig(replay_ms=60_000))
