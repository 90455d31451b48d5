"""Language codes the bot offers for Pinch sessions: table, normalisation, autocomplete.

Every code given by a user or stored in config passes :func:`normalize_language`
before it reaches the Pinch client, so the API only ever sees canonical
``ll-RR`` BCP-47 codes from :data:`SUPPORTED`. A bare language (``es``) takes the
region listed in :data:`DEFAULT_REGION`. Unknown codes raise
:class:`UnknownLanguage` with close matches, worded for a Discord user.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

SUPPORTED: Final[Mapping[str, str]] = MappingProxyType(
    {
        "ar-SA": "Arabic (Saudi Arabia)",
        "bg-BG": "Bulgarian (Bulgaria)",
        "ca-ES": "Catalan (Spain)",
        "cs-CZ": "Czech (Czechia)",
        "da-DK": "Danish (Denmark)",
        "de-DE": "German (Germany)",
        "el-GR": "Greek (Greece)",
        "en-AU": "English (Australia)",
        "en-GB": "English (United Kingdom)",
        "en-IN": "English (India)",
        "en-US": "English (United States)",
        "es-ES": "Spanish (Spain)",
        "es-MX": "Spanish (Mexico)",
        "es-US": "Spanish (United States)",
        "fi-FI": "Finnish (Finland)",
        "fr-CA": "French (Canada)",
        "fr-FR": "French (France)",
        "he-IL": "Hebrew (Israel)",
        "hi-IN": "Hindi (India)",
        "hr-HR": "Croatian (Croatia)",
        "hu-HU": "Hungarian (Hungary)",
        "id-ID": "Indonesian (Indonesia)",
        "it-IT": "Italian (Italy)",
        "ja-JP": "Japanese (Japan)",
        "ko-KR": "Korean (South Korea)",
        "ms-MY": "Malay (Malaysia)",
        "nb-NO": "Norwegian Bokmål (Norway)",
        "nl-NL": "Dutch (Netherlands)",
        "pl-PL": "Polish (Poland)",
        "pt-BR": "Portuguese (Brazil)",
        "pt-PT": "Portuguese (Portugal)",
        "ro-RO": "Romanian (Romania)",
        "ru-RU": "Russian (Russia)",
        "sk-SK": "Slovak (Slovakia)",
        "sv-SE": "Swedish (Sweden)",
        "th-TH": "Thai (Thailand)",
        "tr-TR": "Turkish (Türkiye)",
        "uk-UA": "Ukrainian (Ukraine)",
        "vi-VN": "Vietnamese (Vietnam)",
        "zh-CN": "Chinese (Mandarin, Simplified)",
        "zh-TW": "Chinese (Mandarin, Traditional)",
    }
)

#: Each supported language in itself, as its readers name it (caption thread names).
#: The region is named only where the table has several regions of the language and
#: this one is not the default (``fr-FR`` is "Français", ``fr-CA`` "Français (Canada)").
NATIVE_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "ar-SA": "العربية",
        "bg-BG": "Български",
        "ca-ES": "Català",
        "cs-CZ": "Čeština",
        "da-DK": "Dansk",
        "de-DE": "Deutsch",
        "el-GR": "Ελληνικά",
        "en-AU": "English (Australia)",
        "en-GB": "English (UK)",
        "en-IN": "English (India)",
        "en-US": "English",
        "es-ES": "Español",
        "es-MX": "Español (México)",
        "es-US": "Español (EE. UU.)",
        "fi-FI": "Suomi",
        "fr-CA": "Français (Canada)",
        "fr-FR": "Français",
        "he-IL": "עברית",
        "hi-IN": "हिन्दी",
        "hr-HR": "Hrvatski",
        "hu-HU": "Magyar",
        "id-ID": "Bahasa Indonesia",
        "it-IT": "Italiano",
        "ja-JP": "日本語",
        "ko-KR": "한국어",
        "ms-MY": "Bahasa Melayu",
        "nb-NO": "Norsk bokmål",
        "nl-NL": "Nederlands",
        "pl-PL": "Polski",
        "pt-BR": "Português",
        "pt-PT": "Português (Portugal)",
        "ro-RO": "Română",
        "ru-RU": "Русский",
        "sk-SK": "Slovenčina",
        "sv-SE": "Svenska",
        "th-TH": "ไทย",
        "tr-TR": "Türkçe",
        "uk-UA": "Українська",
        "vi-VN": "Tiếng Việt",
        "zh-CN": "中文（简体）",
        "zh-TW": "中文（繁體）",
    }
)

# The region a bare language code means. Chosen as the variant with the most
# speakers, except where the API reference's own examples fix it (en-US, es-ES).
DEFAULT_REGION: Final[Mapping[str, str]] = MappingProxyType(
    {
        "ar": "ar-SA",
        "en": "en-US",
        "es": "es-ES",
        "fr": "fr-FR",
        "pt": "pt-BR",
        "zh": "zh-CN",
        "no": "nb-NO",
        # Single-region languages map to their only entry.
        **{
            code.split("-")[0]: code
            for code in SUPPORTED
            if code.split("-")[0] not in ("ar", "en", "es", "fr", "pt", "zh")
        },
    }
)

_BY_FOLDED: Final = {code.casefold(): code for code in SUPPORTED}
_MAX_SUGGESTIONS: Final = 5
_MAX_ECHO: Final = 32  # characters of an unknown code echoed back in the message


class UnknownLanguage(ValueError):
    """A language code outside :data:`SUPPORTED`; the message is fit for a user."""

    def __init__(self, code: str, suggestions: tuple[str, ...]) -> None:
        self.code = code
        self.suggestions = suggestions
        shown = code.strip()[:_MAX_ECHO] or "(empty)"
        if suggestions:
            hint = ", ".join(f"{c} ({SUPPORTED[c]})" for c in suggestions)
            message = f"Unsupported language code '{shown}'. Did you mean: {hint}?"
        else:
            message = (
                f"Unsupported language code '{shown}'. "
                "Use a code such as en-US, es-ES or fr-FR."
            )
        super().__init__(message)


def normalize_language(code: str) -> str:
    """The canonical supported code for ``code``: case, ``_``/``-`` and bare languages fixed.

    ``"es-es"`` → ``"es-ES"``, ``"pt_br"`` → ``"pt-BR"``, ``"es"`` → ``"es-ES"``
    (see :data:`DEFAULT_REGION`). Raises :class:`UnknownLanguage` otherwise.
    """
    if not isinstance(code, str):
        raise UnknownLanguage(repr(code), ())
    folded = code.strip().replace("_", "-").casefold()
    if folded in _BY_FOLDED:
        return _BY_FOLDED[folded]
    if folded in DEFAULT_REGION:
        return DEFAULT_REGION[folded]
    raise UnknownLanguage(code, close_matches(code))


def close_matches(code: str, limit: int = _MAX_SUGGESTIONS) -> tuple[str, ...]:
    """Supported codes a user probably meant: same language first, then look-alikes."""
    folded = code.strip().replace("_", "-").casefold()
    language = folded.split("-")[0]
    same_language = [c for c in SUPPORTED if c.casefold().split("-")[0] == language]
    by_spelling = difflib.get_close_matches(folded, list(_BY_FOLDED), n=limit, cutoff=0.5)
    by_name = [
        c for c, name in SUPPORTED.items() if folded and name.casefold().startswith(folded)
    ]
    ordered: dict[str, None] = {}
    for candidate in [*same_language, *(_BY_FOLDED[f] for f in by_spelling), *by_name]:
        ordered.setdefault(candidate, None)
    return tuple(ordered)[:limit]


def suggest(prefix: str, limit: int = 25) -> list[tuple[str, str]]:
    """``(code, name)`` pairs for slash-command autocomplete, best first.

    Codes starting with ``prefix`` come first, then names with a word starting
    with it, then names containing it; case and ``_``/``-`` do not matter.
    An empty prefix lists the table from the top.
    """
    if limit <= 0:
        return []
    folded = prefix.strip().replace("_", "-").casefold()
    tiers: tuple[list[tuple[str, str]], ...] = ([], [], [])
    for code, name in SUPPORTED.items():
        name_folded = name.casefold()
        words = name_folded.replace("(", " ").replace(",", " ").split()
        if code.casefold().startswith(folded):
            tiers[0].append((code, name))
        elif any(word.startswith(folded) for word in words):
            tiers[1].append((code, name))
        elif folded in name_folded:
            tiers[2].append((code, name))
    return [*tiers[0], *tiers[1], *tiers[2]][:limit]


def language_name(code: str) -> str:
    """The English name of a supported code (after normalisation)."""
    return SUPPORTED[normalize_language(code)]


def native_name(code: str) -> str:
    """The language of a supported code in itself: ``fr-FR`` → ``Français``."""
    return NATIVE_NAMES[normalize_language(code)]


def primary_language(code: str) -> str:
    """The primary subtag of a code, lower-cased: ``es-MX`` → ``es``, ``pt_BR`` → ``pt``.

    Two codes with the same primary subtag are one language to a listener (and to
    the interpreter's language detection); regions are only accents and spelling.
    """
    return code.strip().replace("_", "-").split("-", 1)[0].lower()
