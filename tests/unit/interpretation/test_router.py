"""The speaker router forwards speech only, per member or mixed, never excluded members."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from bot.interpretation.router import MIXED_LINK, RouterConfig, RoutingMode, SpeakerRouter
from tests.support.signals import tone

BOT_ID = 900
OPTED_OUT = 901


class RecordingLink:
    """A link that records what the router gives it (the real one talks to Pinch)."""

    def __init__(self, key: int) -> None:
        self.key = key
        self.frames: list[bytes] = []
        self.ends = 0
        self.padding_ms: list[float] = []
        self.started = asyncio.Event()
        self.closed = False

    def push_frame(self, pcm_48k_stereo: bytes) -> None:
        self.frames.append(pcm_48k_stereo)

    def end_of_speech(self, pad_ms: float = 0.0) -> None:
        self.ends += 1
        self.padding_ms.append(pad_ms)

    async def start(self) -> None:
        self.started.set()

    async def drain(self, timeout: float) -> None:  # noqa: ASYNC109
        pass

    async def aclose(self) -> None:
        self.closed = True


def _stereo(mono: np.ndarray) -> bytes:
    return np.repeat(mono, 2).astype(np.int16).tobytes()


SPEECH = _stereo(tone(300, 0.02, amplitude=0.3))
SILENCE = bytes(3840)


def _router(mode: RoutingMode = RoutingMode.PER_SPEAKER, **config: object):
    links: dict[int, RecordingLink] = {}

    def make(key: int) -> RecordingLink:
        links[key] = RecordingLink(key)
        return links[key]

    router = SpeakerRouter(RouterConfig(mode=mode, **config),  # type: ignore[arg-type]
                           make, is_excluded=lambda m: m in (BOT_ID, OPTED_OUT))
    return router, links


async def test_each_speaker_gets_their_own_link() -> None:
    router, links = _router()
    router.on_frame(1, SPEECH)
    router.on_frame(2, SPEECH)
    router.on_frame(1, SPEECH)
    assert set(links) == {1, 2}
    assert len(links[1].frames) == 2
    assert len(links[2].frames) == 1
    await router.aclose()


async def test_bot_and_opted_out_members_are_never_forwarded() -> None:
    router, links = _router()
    for _ in range(10):
        router.on_frame(BOT_ID, SPEECH)
        router.on_frame(OPTED_OUT, SPEECH)
    assert links == {}
    assert router.dropped["excluded"] == 20
    await router.aclose()


async def test_silence_before_speech_is_not_forwarded() -> None:
    router, links = _router()
    for _ in range(50):
        router.on_frame(1, SILENCE)
    assert links == {}
    assert router.dropped["silence"] == 50
    await router.aclose()


async def test_silence_is_forwarded_only_for_the_hangover_then_speech_ends() -> None:
    router, links = _router(hangover_ms=100.0)
    router.on_frame(1, SPEECH)
    for _ in range(20):
        router.on_frame(1, SILENCE)
    assert len(links[1].frames) == 1 + 5  # 100 ms hangover = five 20 ms frames
    assert links[1].ends == 1
    await router.aclose()


async def test_end_of_speech_from_the_receive_layer_pads_the_pause_in_band() -> None:
    router, links = _router(hangover_ms=700.0)
    router.on_frame(1, SPEECH)
    router.on_frame(1, SILENCE)  # one DTX frame, then the member stops sending
    router.on_speech_end(1)
    assert len(links[1].frames) == 2
    assert links[1].padding_ms == [pytest.approx(680.0)]  # 700 ms of pause in all


async def test_end_of_speech_after_the_gate_closed_adds_nothing() -> None:
    router, links = _router(hangover_ms=100.0)
    router.on_frame(1, SPEECH)
    for _ in range(10):
        router.on_frame(1, SILENCE)
    router.on_speech_end(1)
    assert len(links[1].frames) == 1 + 5
    assert links[1].padding_ms == [0.0]


async def test_links_beyond_the_cap_are_not_opened_and_drops_are_counted() -> None:
    router, links = _router(max_links=2)
    for member in (1, 2, 3):
        router.on_frame(member, SPEECH)
    assert set(links) == {1, 2}
    assert router.dropped["link_cap"] == 1
    await router.aclose()


async def test_member_leaving_closes_their_link() -> None:
    router, links = _router()
    router.on_frame(1, SPEECH)
    router.forget(1)
    await asyncio.sleep(0)
    assert links[1].closed
    assert 1 not in router.links
    await router.aclose()


async def test_idle_link_is_closed_after_the_idle_timeout() -> None:
    now = [1000.0]
    links: dict[int, RecordingLink] = {}

    def make(key: int) -> RecordingLink:
        links[key] = RecordingLink(key)
        return links[key]

    router = SpeakerRouter(RouterConfig(idle_timeout_s=0.2), make,
                           is_excluded=lambda m: False, clock=lambda: now[0])
    await router.start()
    router.on_frame(1, SPEECH)
    router.on_frame(2, SPEECH)
    now[0] += 0.15
    router.on_frame(2, SPEECH)  # member 2 keeps talking
    now[0] += 0.15
    await asyncio.sleep(0.12)  # the reaper runs every idle_timeout / 4
    assert links[1].closed
    assert not links[2].closed
    assert set(router.links) == {2}
    await router.aclose()


async def test_close_closes_every_link() -> None:
    router, links = _router()
    router.on_frame(1, SPEECH)
    router.on_frame(2, SPEECH)
    await router.aclose()
    assert all(link.closed for link in links.values())


async def test_mixed_mode_sums_members_sample_aligned_into_one_link() -> None:
    router, links = _router(RoutingMode.MIXED)
    await router.start()
    a = tone(300, 0.02, amplitude=0.2)
    b = tone(700, 0.02, amplitude=0.2)
    router.on_frame(1, _stereo(a))
    router.on_frame(2, _stereo(b))
    for _ in range(50):
        if links.get(MIXED_LINK) and links[MIXED_LINK].frames:
            break
        await asyncio.sleep(0.01)
    await router.aclose()
    assert set(links) == {MIXED_LINK}
    mixed = np.frombuffer(links[MIXED_LINK].frames[0], dtype=np.int16)[::2]
    expected = a.astype(np.int32) + b.astype(np.int32)
    assert np.abs(mixed.astype(np.int32) - expected).max() <= 1


async def test_mixed_mode_clips_instead_of_wrapping() -> None:
    router, links = _router(RoutingMode.MIXED)
    await router.start()
    loud = _stereo(np.full(960, 30000, dtype=np.int16))
    router.on_frame(1, loud)
    router.on_frame(2, loud)
    for _ in range(50):
        if links.get(MIXED_LINK) and links[MIXED_LINK].frames:
            break
        await asyncio.sleep(0.01)
    await router.aclose()
    mixed = np.frombuffer(links[MIXED_LINK].frames[0], dtype=np.int16)
    assert mixed.min() == 32767


@pytest.mark.parametrize("mode", list(RoutingMode))
async def test_transcript_attribution_by_mode(mode: RoutingMode) -> None:
    router, _ = _router(mode)
    router.on_frame(7, SPEECH)
    assert router.speaker_of(7 if mode is RoutingMode.PER_SPEAKER else MIXED_LINK,
                             time.time()) == 7
    await router.aclose()
