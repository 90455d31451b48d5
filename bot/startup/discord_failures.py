"""What a failed login or gateway connection means, in one line, with its exit status.

discord.py and aiohttp raise a dozen exception types for "the token is wrong",
"Discord cannot be reached" and "the gateway refused us"; they arrive bare or
wrapped (discord.py's reconnect loop can fail on its own bookkeeping while
handling a connection error, so the real cause is then in ``__context__``).
:func:`discord_failure` walks the chain and translates the first link it knows;
:func:`describe` gives the same words without advice, for log lines.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Final

import aiohttp
import discord

from bot.net_errors import exception_chain, network_cause
from bot.startup.errors import ExitStatus, StartupError

TOKEN_REJECTED: Final = (
    "the Discord token was rejected: check DISCORD_TOKEN (Developer Portal → Bot → Reset Token)"
)
_OUTAGE_HINT: Final = "Discord may be having an outage (https://discordstatus.com); retry later"
_NETWORK_HINT: Final = "check the network connection, DNS and firewall (and DISCORD_PROXY if set)"
_PRIVILEGED: Final = {
    "members": "Server Members Intent",
    "presences": "Presence Intent",
    "message_content": "Message Content Intent",
}
#: Discord's gateway close codes that end a connection for good.
_CLOSE_CODES: Final = {
    4010: "invalid shard",
    4011: "sharding required",
    4012: "invalid API version",
    4013: "invalid intents",
}


@dataclass(frozen=True, slots=True)
class _Failure:
    status: ExitStatus
    what: str
    hint: str

    def error(self) -> StartupError:
        return StartupError(self.status, f"{self.what}: {self.hint}")


def discord_failure(
    exc: BaseException, *, intents: discord.Intents | None = None, proxy_host: str | None = None
) -> StartupError | None:
    """The start-up failure ``exc`` stands for, or ``None`` if it is none we know.

    ``intents`` are the ones the bot asked for (to name a refused privileged one);
    ``proxy_host`` is DISCORD_PROXY's host, to tell the proxy's failures from Discord's.
    """
    failure = _find(exc, intents, proxy_host)
    return None if failure is None else failure.error()


def describe(exc: BaseException, *, proxy_host: str | None = None) -> str:
    """A short cause for a log line: what failed, without advice."""
    failure = _find(exc, None, proxy_host)
    if failure is not None:
        return failure.what
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _find(exc: BaseException, intents: discord.Intents | None,
          proxy_host: str | None) -> _Failure | None:
    for link in exception_chain(exc):
        failure = _translate(link, intents, proxy_host)
        if failure is not None:
            return failure
    return None


def _translate(exc: BaseException, intents: discord.Intents | None,
               proxy_host: str | None) -> _Failure | None:
    unreachable = ExitStatus.DISCORD_UNREACHABLE
    if isinstance(exc, discord.LoginFailure):
        return _Failure(ExitStatus.DISCORD_TOKEN_REJECTED, *TOKEN_REJECTED.split(": ", 1))
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return _privileged(intents)
    if isinstance(exc, discord.ConnectionClosed):
        return _closed(exc.code, intents)
    if isinstance(exc, aiohttp.ClientConnectorError):
        cause = network_cause(exc) or str(exc.os_error)
        where = f"{exc.host}:{exc.port}" if exc.port else exc.host
        if isinstance(exc, aiohttp.ClientProxyConnectionError) or (
                proxy_host is not None and exc.host == proxy_host):
            return _Failure(unreachable, f"cannot reach the proxy {where}: {cause}",
                            "check DISCORD_PROXY")
        return _Failure(unreachable, f"cannot reach Discord at {where}: {cause}", _NETWORK_HINT)
    if isinstance(exc, aiohttp.ClientHttpProxyError):
        return _Failure(unreachable,
                        f"the proxy could not connect to Discord (HTTP {exc.status} {exc.message})",
                        "check DISCORD_PROXY and what the proxy allows")
    if isinstance(exc, aiohttp.WSServerHandshakeError):
        host = exc.request_info.real_url.host
        return _Failure(unreachable,
                        f"the Discord gateway {host} refused the connection (HTTP {exc.status})",
                        _OUTAGE_HINT)
    if isinstance(exc, discord.DiscordServerError):
        detail = exc.text or "no detail"
        return _Failure(unreachable, f"Discord answered HTTP {exc.status} ({detail})",
                        _OUTAGE_HINT)
    if isinstance(exc, discord.GatewayNotFound):
        return _Failure(unreachable, "Discord did not give a gateway address", _OUTAGE_HINT)
    if isinstance(exc, (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError,
                        ConnectionError, TimeoutError, asyncio.TimeoutError)):
        cause = network_cause(exc) or f"{type(exc).__name__}: {exc}"
        return _Failure(unreachable, f"the connection to Discord failed ({cause})", _NETWORK_HINT)
    return None


def _privileged(intents: discord.Intents | None) -> _Failure:
    asked = [f"{name} ({label})" for name, label in _PRIVILEGED.items()
             if intents is not None and getattr(intents, name, False)]
    which = ", ".join(asked) if asked else "a privileged intent"
    return _Failure(
        ExitStatus.PRIVILEGED_INTENTS,
        f"Discord refused the privileged intent {which} this build asks for, which the "
        "application has not enabled (interpretation itself needs none)",
        "enable it in Developer Portal → Bot → Privileged Gateway Intents, or remove it "
        "from the bot's intents",
    )


def _closed(code: int | None, intents: discord.Intents | None) -> _Failure:
    if code == 4004:
        return _Failure(ExitStatus.DISCORD_TOKEN_REJECTED, *TOKEN_REJECTED.split(": ", 1))
    if code == 4014:
        return _privileged(intents)
    meaning = _CLOSE_CODES.get(code or 0, "unexpected close")
    return _Failure(ExitStatus.UNEXPECTED,
                    f"Discord closed the gateway connection with code {code} ({meaning})",
                    "see https://discord.com/developers/docs/topics/opcodes-and-status-codes")
