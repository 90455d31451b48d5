"""How an utterance reads in the thread: pure functions from utterances to message text.

One post holds one utterance, or several consecutive ones when the queue merged
them. Layout (``>`` is a Discord quote):

    as the speaker (webhook)          as the bot (name inline)
    Hello, how are you?               **Alice**: Hello, how are you?
    > Hola, ¿cómo estás?              > Hola, ¿cómo estás?

The detected language is shown in brackets after the name (or first, through a
webhook) when it differs from the source the speaker was configured with. In
pair mode every utterance carries its direction, shown the same way, with the
detected language after it when that differs from the direction's source:

    (es-ES → en-US) Hola, ¿cómo estás?        **Bob** (es-ES → en-US): Hola, ¿cómo estás?
    > Hello, how are you?                     > Hello, how are you?

A translation without an original is a quote alone. Everything a person said,
and every display name, goes through :func:`~bot.transcripts.text.escape`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from bot.languages import primary_language
from bot.transcripts.pairing import Utterance
from bot.transcripts.text import Line, escape, split_lines

UNKNOWN_SPEAKER: Final = "Unknown speaker"
_WEBHOOK_NAME_MAX: Final = 80
_BANNED_IN_WEBHOOK_NAMES: Final = ("discord", "clyde")
_RESERVED_WEBHOOK_NAMES: Final = ("everyone", "here")


@dataclass(frozen=True, slots=True)
class Speaker:
    """How a member appears: display name and avatar (``None`` when unknown)."""

    member_id: int | None
    display_name: str
    avatar_url: str | None = None


def webhook_username(display_name: str) -> str | None:
    """A name Discord accepts for a webhook post, or ``None`` (post as the bot instead).

    Discord refuses webhook names containing "discord" or "clyde", the names
    "everyone" and "here", and names longer than 80 characters; we shorten long names
    and give up on the refused ones.
    """
    name = " ".join(display_name.split())[:_WEBHOOK_NAME_MAX].strip()
    lowered = name.lower()
    if (not name or lowered in _RESERVED_WEBHOOK_NAMES
            or any(word in lowered for word in _BANNED_IN_WEBHOOK_NAMES)):
        return None
    return name


def language_differs(detected: str | None, configured: str) -> bool:
    """True when Pinch heard another language than the one configured (``fr`` vs ``en-US``).

    Only the primary subtag counts: ``en`` and ``en-US`` are the same language.
    """
    if not detected:
        return False
    return primary_language(detected) != primary_language(configured)


def utterance_tag(utterance: Utterance, configured_source: str) -> str:
    """What goes in brackets by the speaker: the direction (pair mode) and the detected
    language when it is not the one the utterance was interpreted from; ``""`` if neither."""
    direction = utterance.direction
    source = direction.source if direction is not None else configured_source
    parts = [str(direction)] if direction is not None else []
    detected = utterance.original_language
    if detected and utterance.original and language_differs(detected, source):
        parts.append(f"heard {detected}" if direction is not None else detected)
    return f"({escape(', '.join(parts))})" if parts else ""


def post_lines(utterances: Sequence[Utterance], *, speaker_of: Callable[[int | None], Speaker],
               source_of: Callable[[int | None], str], names_inline: bool) -> list[Line]:
    """The lines of one post (one or several utterances, in order)."""
    lines: list[Line] = []
    for u in utterances:
        name = f"**{escape(speaker_of(u.member_id).display_name)}**" if names_inline else ""
        tag = utterance_tag(u, source_of(u.member_id))
        if names_inline:
            head = f"{name} {tag}: " if tag else f"{name}: "
        else:
            head = f"{tag} " if tag else ""
        if u.original:
            lines.append(Line(head, escape(u.original)))
            if u.translation:
                lines.append(Line("> ", escape(u.translation)))
        elif u.translation:
            lines.append(Line(f"> {head}", escape(u.translation)))
    return lines


def render_post(utterances: Sequence[Utterance], *, speaker_of: Callable[[int | None], Speaker],
                source_of: Callable[[int | None], str], names_inline: bool) -> list[str]:
    """Message contents (each ≤ 2,000 characters) for one post."""
    return split_lines(post_lines(utterances, speaker_of=speaker_of, source_of=source_of,
                                  names_inline=names_inline))


def has_text(utterance: Utterance) -> bool:
    """Whether there is anything to post (Pinch sometimes finalises an empty segment)."""
    return bool(utterance.original.strip() or (utterance.translation or "").strip())
