"""RunConfig, RouterConfig and LinkConfig validate and normalise on construction."""

from __future__ import annotations

import pytest

from bot.interpretation.link import LinkConfig
from bot.interpretation.router import RouterConfig, RoutingMode
from bot.interpretation.run import RunConfig
from bot.languages import UnknownLanguage


def test_languages_are_normalised_to_canonical_codes() -> None:
    config = RunConfig(target_language="es", source_language="pt_br")
    assert (config.target_language, config.source_language) == ("es-ES", "pt-BR")


def test_an_unknown_language_is_refused_with_suggestions() -> None:
    with pytest.raises(UnknownLanguage, match="Did you mean"):
        RunConfig(target_language="es-XX")


def test_the_voice_is_lower_cased_and_checked() -> None:
    assert RunConfig(target_language="es", voice_type=" Female").voice_type == "female"
    with pytest.raises(ValueError, match="clone, female, male"):
        RunConfig(target_language="es", voice_type="robot")


@pytest.mark.parametrize("kwargs", [{"duck_db": 3.0}])
def test_nonsense_timings_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RunConfig(target_language="es", **kwargs)  # type: ignore[arg-type]


def test_the_routing_mode_may_be_given_by_its_value() -> None:
    assert RouterConfig(mode="mixed").mode is RoutingMode.MIXED  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="per-speaker, mixed"):
        RouterConfig(mode="solo")  # type: ignore[arg-type]


@pytest.mark.parametrize("kwargs", [{"max_links": 0}, {"idle_timeout_s": 0.0},
                                    {"hangover_ms": -1.0}, {"mixed_queue_frames": 0}])
def test_router_limits_are_checked(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RouterConfig(**kwargs)  # type: ignore[arg-type]


def test_mixed_mode_never_clones_a_mixture_of_voices() -> None:
    mixed = RouterConfig(mode=RoutingMode.MIXED)
    assert RunConfig(target_language="es", router=mixed).voice_type == "female"
    assert RunConfig(target_language="es", voice_type="male", router=mixed).voice_type == "male"
    assert RunConfig(target_language="es").voice_type == "clone"


@pytest.mark.parametrize("kwargs", [{"rest_after_s": -1.0}, {"publish_rate": 44_100},
                                    {"capture_ms": 30}, {"live_backlog_ms": 10},
                                    {"least_pause_ms": -1}])
def test_link_settings_out_of_range_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        LinkConfig(**kwargs)  # type: ignore[arg-type]
