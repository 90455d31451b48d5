"""Pairing originals with translations and releasing utterances in order."""

from __future__ import annotations

from bot.interpretation.pair_mode import Direction
from bot.transcripts.pairing import Pairer, Utterance


def original(p: Pairer, link: str, text: str, now: float, number: int | None = None,
             member: int | None = 1) -> Utterance:
    return p.original(link=link, number=number, member_id=member, text=text, language="en",
                      started_at=now - 1, ended_at=now, now=now)


def translation(p: Pairer, link: str, text: str, now: float, number: int | None = None,
                member: int | None = 1) -> tuple[Utterance, bool]:
    return p.translation(link=link, number=number, member_id=member, text=text, ended_at=now,
                         now=now)


def test_a_translation_joins_the_oldest_original_of_its_link() -> None:
    p = Pairer()
    a = original(p, "L", "one", 0.0)
    b = original(p, "L", "two", 0.1)
    assert translation(p, "L", "uno", 0.2) == (a, False)
    assert translation(p, "L", "dos", 0.3) == (b, False)
    assert [(u.original, u.translation) for u in p.due(0.3)] == [("one", "uno"), ("two", "dos")]


def test_utterance_numbers_pair_exactly_whatever_the_arrival_order() -> None:
    p = Pairer()
    first = original(p, "mixed", "one", 0.0, number=7)
    second = original(p, "mixed", "two", 0.1, number=8)
    translation(p, "mixed", "dos", 0.2, number=8, member=99)
    translation(p, "mixed", "uno", 0.3, number=7, member=99)
    assert (first.translation, second.translation) == ("uno", "dos")
    assert {u.member_id for u in p.due(0.3)} == {1}  # the original's speaker, both halves


def test_links_pair_independently() -> None:
    p = Pairer()
    alice = original(p, "alice", "hello", 0.0)
    bob = original(p, "bob", "hi", 0.1)
    translation(p, "bob", "hola", 0.2)
    assert (alice.translation, bob.translation) == (None, "hola")


def test_release_keeps_arrival_order_while_the_head_waits_for_its_translation() -> None:
    p = Pairer(wait_s=5.0)
    original(p, "alice", "first", 0.0)
    original(p, "bob", "second", 1.0)
    translation(p, "bob", "segundo", 1.5)
    assert p.due(2.0) == []  # bob's is complete, but alice spoke first
    assert p.next_deadline() == 5.0
    released = p.due(5.0)
    assert [(u.original, u.translation) for u in released] == [("first", None),
                                                               ("second", "segundo")]


def test_a_late_translation_is_returned_for_an_edit() -> None:
    p = Pairer(wait_s=5.0)
    u = original(p, "L", "hello", 0.0)
    assert p.due(5.0) == [u]
    assert translation(p, "L", "hola", 6.0) == (u, True)
    assert u.translation == "hola"


def test_a_posted_original_waits_for_its_translation_only_for_the_amend_window() -> None:
    p = Pairer(wait_s=1.0, amend_window_s=10.0)
    u = original(p, "L", "hello", 0.0)
    p.due(1.0)
    assert p.expired(9.9) == []
    assert p.expired(10.0) == [u]
    lone, released = translation(p, "L", "hola", 11.0)
    assert (lone.original, lone.translation, released) == ("", "hola", False)


def test_a_translation_without_original_stands_alone_in_order() -> None:
    p = Pairer()
    translation(p, "L", "hola", 0.0)
    [u] = p.due(0.0)
    assert (u.original, u.translation) == ("", "hola")


def test_drain_releases_everything_pending_and_gives_up_on_the_rest() -> None:
    p = Pairer(wait_s=5.0)
    waiting = original(p, "L", "posted alone", 0.0)
    p.due(5.0)
    pending = original(p, "L", "not yet", 6.0)
    to_post, given_up = p.drain()
    assert (to_post, given_up) == ([pending], [waiting])
    assert p.open_count == 0
    assert p.next_deadline() is None


def test_an_utterance_keeps_the_direction_of_its_original_and_a_lone_translation_its_own(
) -> None:
    p = Pairer()
    es_en, en_es = Direction("es-ES", "en-US"), Direction("en-US", "es-ES")
    said = p.original(link="L", number=0, member_id=2, text="Hola", language="es",
                      started_at=0.0, ended_at=1.0, now=1.0, direction=es_en)
    paired, _ = p.translation(link="L", number=0, member_id=2, text="Hello", ended_at=2.0,
                              now=2.0, direction=es_en)
    lone, _ = p.translation(link="M", number=0, member_id=1, text="Hola", ended_at=2.0,
                            now=2.0, direction=en_es)
    assert paired is said
    assert (said.direction, lone.direction) == (es_en, en_es)
