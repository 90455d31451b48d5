"""URLs fit for messages: the password of ``scheme://user:password@host`` masked.

Database and proxy URLs may carry credentials; anything that names such a URL to
a user (a start-up message, ``python -m bot check``) shows it through
:func:`masked_url`.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit, urlunsplit

MASK: Final = "***"


def masked_url(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``; otherwise unchanged."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK  # unparseable: it might be all secret
    if parts.password is None:
        return url
    userinfo, _, hostinfo = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{hostinfo}"))


def host_and_port(url: str) -> str:
    """``host:port`` of ``url`` (the scheme's default port when none is given)."""
    parts = urlsplit(url)
    default = {"http": 80, "https": 443, "ws": 80, "wss": 443}.get(parts.scheme)
    port = parts.port or default
    host = parts.hostname or ""
    return f"{host}:{port}" if port else host
