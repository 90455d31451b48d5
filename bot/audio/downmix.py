"""Channel conversions: Discord's stereo to the mono Pinch expects, and back.

A member's decoded Opus is 48 kHz interleaved stereo; the interpreter link publishes
one mono track, so each frame is downmixed first (average of the two channels,
computed in int32 so loud in-phase channels cannot overflow). The reverse, mono to
interleaved stereo, is for playback paths that receive mono audio.
"""

from __future__ import annotations

import numpy as np

from bot.audio.frames import Int16Array


def stereo_to_mono(interleaved: Int16Array) -> Int16Array:
    """Average the channels of interleaved stereo samples into mono.

    Rounds toward negative infinity (an arithmetic shift), so the result of two
    full-scale channels stays full scale. Raises ``ValueError`` on an odd length.
    """
    if interleaved.size % 2:
        raise ValueError(f"interleaved stereo needs an even length, got {interleaved.size}")
    pairs = interleaved.reshape(-1, 2)
    mixed = pairs[:, 0].astype(np.int32)
    mixed += pairs[:, 1]
    mixed >>= 1
    return mixed.astype(np.int16)
