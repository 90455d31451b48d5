"""Safe text for Discord: what people said must never format, link a mention or ping.

Transcripts are untrusted text (anyone in the voice channel can *say* "at everyone",
and a recogniser may well write ``@everyone``). Two defences, both always on:

- every post and edit carries ``allowed_mentions`` none (the writer's job), so even
  a missed escape cannot ping;
- :func:`escape` backslash-escapes every character that can start markdown or a
  mention: emphasis, code and spoilers (``* _ ~ ` |``), mentions, channels,
  timestamps and custom emoji (all open with ``<``), ``@everyone``/``@here``,
  masked links (``[``), and what means something at the start of a line (``# > - +``
  and a digit's ``.``), since a long line cut in two starts a new line anywhere.
  Discord shows ``\\x`` as ``x`` for ASCII punctuation, so the text reads exactly
  as spoken, and :func:`unescape` gives the original back (the tests rely on it).

Whitespace runs (newlines included) collapse to one space first: speech has no
lines, and a newline would let text start a heading or a quote of its own.

:func:`split_lines` packs rendered lines into messages of at most 2,000 characters,
breaking long lines on word boundaries and never inside an escape.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

MAX_MESSAGE_CHARS: Final = 2000

# Characters that may start markdown or a mention in Discord, and the backslash itself.
_SPECIAL: Final = frozenset("\\*_~|`<@[#>-+")
_WHITESPACE = re.compile(r"\s+")
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)


def escape(text: str) -> str:
    """``text`` on one line with every markdown/mention character backslash-escaped."""
    flat = _WHITESPACE.sub(" ", text).strip()
    out: list[str] = []
    previous = ""
    for ch in flat:
        if ch in _SPECIAL or (ch == "." and previous.isdigit()):
            out.append("\\")
        out.append(ch)
        previous = ch
    return "".join(out)


def unescape(escaped: str) -> str:
    """The inverse of :func:`escape` (for text that went through it)."""
    return _ESCAPED.sub(r"\1", escaped)


def is_fully_escaped(content: str) -> bool:
    """True if every special character in ``content`` is preceded by an escaping backslash."""
    i = 0
    while i < len(content):
        ch = content[i]
        if ch == "\\":
            if i + 1 >= len(content):
                return False
            i += 2
            continue
        if ch in _SPECIAL or (ch == "." and i > 0 and content[i - 1].isdigit()):
            return False
        i += 1
    return True


@dataclass(frozen=True, slots=True)
class Line:
    """One rendered line: our own markup ``prefix`` (trusted) and an escaped ``body``.

    When a line is too long for one message it is cut on word boundaries and every
    piece keeps the prefix (a quoted translation stays quoted on the next message).
    """

    prefix: str
    body: str

    def __str__(self) -> str:
        return self.prefix + self.body


def split_lines(lines: Sequence[Line], limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Messages of at most ``limit`` characters holding ``lines`` in order.

    Whole lines are packed together while they fit; a line longer than a message
    is cut into pieces at spaces (a single word longer than that is cut between
    characters, never between a backslash and the character it escapes).
    """
    pieces: list[str] = []
    for line in lines:
        if len(line.prefix) >= limit // 2:
            raise ValueError("a line prefix must be short")
        pieces.extend(line.prefix + part
                      for part in _cut(line.body, limit - len(line.prefix)))
    messages: list[str] = []
    current = ""
    for piece in pieces:
        if not current:
            current = piece
        elif len(current) + 1 + len(piece) <= limit:
            current += "\n" + piece
        else:
            messages.append(current)
            current = piece
    if current:
        messages.append(current)
    return messages


def _cut(body: str, width: int) -> Iterator[str]:
    """``body`` in pieces of at most ``width`` characters, cut at spaces when possible."""
    rest = body
    while len(rest) > width:
        cut = rest.rfind(" ", 0, width + 1)
        if cut > 0:
            yield rest[:cut]
            rest = rest[cut + 1:]
            continue
        cut = _safe_cut(rest, width)
        yield rest[:cut]
        rest = rest[cut:]
    yield rest


def _safe_cut(text: str, width: int) -> int:
    """The largest index ≤ ``width`` that does not split an escape pair."""
    i = 0
    while i < width:
        step = 2 if text[i] == "\\" else 1
        if i + step > width:
            break
        i += step
    return max(i, 1)
