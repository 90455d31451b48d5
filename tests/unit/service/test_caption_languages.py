"""The caption languages a run serves follow who is in its voice channel (pure)."""

from __future__ import annotations

from bot.service.captions import CaptionLanguages, CaptionPolicy

ALICE, BOB, CAROL, DAN = 1, 2, 3, 4
GRACE = 60.0


def languages(*, own: tuple[str, ...] = ("es-ES",), configured: tuple[str, ...] = (),
              cap: int = 3) -> CaptionLanguages:
    return CaptionLanguages(CaptionPolicy(own=own, configured=configured, max_languages=cap,
                                          grace_s=GRACE))


def test_a_language_a_present_member_reads_is_served_with_who_asked() -> None:
    captions = languages()
    change = captions.update({ALICE: None, BOB: "fr-FR", CAROL: "de-DE"}, now=0.0)
    assert change.opened == ("fr-FR", "de-DE")
    assert captions.served == ("fr-FR", "de-DE")
    assert captions.askers("fr-FR") == (BOB,)


def test_the_runs_own_language_is_never_a_caption_language() -> None:
    captions = languages(own=("en-US", "es-ES"))
    assert not captions.update({BOB: "es-ES", CAROL: "en-US"}, now=0.0)
    assert captions.served == ()
    assert captions.admits("es-ES")


def test_a_language_nobody_reads_any_more_closes_after_the_grace_period() -> None:
    captions = languages()
    captions.update({BOB: "fr-FR"}, now=0.0)
    assert not captions.update({}, now=10.0)  # bob left: still served for the grace
    assert captions.in_grace("fr-FR")
    assert captions.next_deadline() == 10.0 + GRACE
    assert not captions.update({}, now=10.0 + GRACE - 1)
    change = captions.update({}, now=10.0 + GRACE)
    assert change.closed == ("fr-FR",)
    assert captions.served == ()
    assert captions.next_deadline() is None


def test_coming_back_within_the_grace_keeps_the_language_open() -> None:
    captions = languages()
    captions.update({BOB: "fr-FR"}, now=0.0)
    captions.update({}, now=10.0)
    assert not captions.update({BOB: "fr-FR"}, now=30.0)
    assert not captions.in_grace("fr-FR")
    assert not captions.update({BOB: "fr-FR"}, now=30.0 + 2 * GRACE)
    assert captions.served == ("fr-FR",)


def test_coming_back_after_the_grace_reopens_the_language() -> None:
    captions = languages()
    captions.update({BOB: "fr-FR"}, now=0.0)
    captions.update({}, now=1.0)
    captions.update({}, now=1.0 + GRACE)
    assert captions.update({BOB: "fr-FR"}, now=100.0).opened == ("fr-FR",)


def test_the_cap_refuses_a_language_once_and_names_the_available_ones() -> None:
    captions = languages(cap=2)
    captions.update({BOB: "fr-FR", CAROL: "de-DE"}, now=0.0)
    assert not captions.admits("it-IT")
    assert captions.admits("fr-FR")
    change = captions.update({BOB: "fr-FR", CAROL: "de-DE", DAN: "it-IT"}, now=1.0)
    assert (change.opened, change.refused) == ((), ("it-IT",))
    assert captions.update({BOB: "fr-FR", CAROL: "de-DE", DAN: "it-IT"}, now=2.0).refused == ()
    assert captions.refusal("it-IT") == (
        "Italiano (it-IT) cannot be added: this channel shows at most 2 caption languages "
        "besides its own. Available now: Español (es-ES), Français (fr-FR), Deutsch (de-DE).")


def test_a_refused_language_is_served_once_a_place_frees_up() -> None:
    captions = languages(cap=1)
    captions.update({BOB: "fr-FR", DAN: "it-IT"}, now=0.0)
    captions.update({DAN: "it-IT"}, now=1.0)
    change = captions.update({DAN: "it-IT"}, now=1.0 + GRACE)
    assert (change.closed, change.opened) == (("fr-FR",), ("it-IT",))


def test_configured_languages_are_served_with_nobody_asking_and_first() -> None:
    captions = languages(configured=("de-DE",), cap=1)
    change = captions.update({BOB: "fr-FR"}, now=0.0)
    assert (change.opened, change.refused) == (("de-DE",), ("fr-FR",))
    assert captions.configured("de-DE")
    assert not captions.update({}, now=10 * GRACE)  # never closes


def test_a_cap_of_zero_serves_nothing() -> None:
    captions = languages(cap=0)
    change = captions.update({BOB: "fr-FR"}, now=0.0)
    assert (change.opened, change.refused) == ((), ("fr-FR",))
