"""Loading libopus once at start-up, so a missing codec is a clear start-up failure.

discord.py loads libopus lazily, the first time a voice client encodes or our
decoder decodes, which would surface a missing library as an exception in the
middle of an ``/interpret start``. The bot loads it before it connects instead:
``OPUS_LIBRARY`` names the file (tests point it at a name that does not exist),
otherwise the dynamic loader is asked for ``opus`` the way discord.py does.
"""

from __future__ import annotations

import ctypes.util
from typing import Final

import discord.opus

from bot.startup.errors import ExitStatus, StartupError

PACKAGE: Final = "libopus0"
_INSTALL: Final = f"install the {PACKAGE} package (Debian/Ubuntu: sudo apt-get install {PACKAGE})"


def load_libopus(library: str = "") -> str:
    """Load libopus for discord.py; returns what was loaded.

    ``library`` is a file name or path (``OPUS_LIBRARY``); empty means the one the
    dynamic loader finds. Raises :class:`StartupError` (``OPUS_MISSING``) naming
    the package to install.
    """
    if not library and discord.opus.is_loaded():
        return "libopus (already loaded)"
    name = library or ctypes.util.find_library("opus")
    if not name:
        raise StartupError(ExitStatus.OPUS_MISSING,
                           f"libopus was not found by the dynamic loader: {_INSTALL}")
    try:
        discord.opus.load_opus(name)
    except (OSError, AttributeError) as exc:
        # OSError: no such file or not a shared object; AttributeError: a library
        # that is not libopus (it lacks the opus_* functions discord.py binds).
        hint = f"{_INSTALL}, or fix OPUS_LIBRARY" if library else _INSTALL
        raise StartupError(ExitStatus.OPUS_MISSING,
                           f"libopus could not be loaded from {name} ({_first_line(exc)}): "
                           f"{hint}") from exc
    return name


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
