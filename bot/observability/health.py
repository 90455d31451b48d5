"""Liveness and readiness: what ``/healthz`` and ``/readyz`` answer.

- healthy (liveness): every gateway shard of this process is connected. Only what
  restarting this process could fix belongs here: a database that is down is not
  (a restart would not bring it back, and would drop every live run, which needs no
  database to interpret).
- ready: healthy, every registered check passes (the store registers its ping:
  ``bot.health.add_check("store", ping)``), the bot has received READY and loaded its
  guilds, and it is not shutting down. Checks are async callables that raise on
  failure; each runs with a timeout and its failure is reported by name with a
  one-line reason.

The gateway state comes from a view function the bot provides (:class:`ShardState`
per shard), so this module needs no Discord client to be tested.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

from bot.log_redaction import redact

log = logging.getLogger(__name__)

CHECK_TIMEOUT_S: Final = 2.0

HealthCheck = Callable[[], Awaitable[object]]
"""Raises (any exception) when unhealthy; its return value is ignored."""


@dataclass(frozen=True, slots=True)
class ShardState:
    shard_id: int
    connected: bool
    latency_s: float | None
    guilds: int


@dataclass(frozen=True, slots=True)
class Report:
    ok: bool
    checks: dict[str, str] = field(default_factory=dict)
    """check name → ``"ok"`` or a one-line reason."""

    def as_json(self) -> dict[str, object]:
        return {"status": "ok" if self.ok else "unhealthy", "checks": self.checks}


class Health:
    def __init__(
        self,
        shards: Callable[[], list[ShardState]],
        is_ready: Callable[[], bool],
        *,
        check_timeout_s: float = CHECK_TIMEOUT_S,
    ) -> None:
        self._shards = shards
        self._is_ready = is_ready
        self._timeout = check_timeout_s
        self._checks: dict[str, HealthCheck] = {}
        self.shutting_down = False

    def add_check(self, name: str, check: HealthCheck) -> None:
        """Register ``check`` (e.g. the store's ping) for readiness under ``name``;
        names are unique."""
        if name in self._checks or name in ("gateway", "ready"):
            raise ValueError(f"health check {name!r} already registered")
        self._checks[name] = check

    def gateway(self) -> str:
        shards = self._shards()
        if not shards:
            return "not connected"
        down = [s.shard_id for s in shards if not s.connected]
        if down:
            return f"shard{'s' if len(down) > 1 else ''} {', '.join(map(str, down))} disconnected"
        return "ok"

    async def health(self) -> Report:
        """Liveness: this process and its gateway (no registered check)."""
        gateway = self.gateway()
        return Report(gateway == "ok", {"gateway": gateway})

    async def readiness(self) -> Report:
        """Liveness, the registered checks, READY received, not shutting down."""
        checks = {"gateway": self.gateway()}
        names = list(self._checks)
        outcomes = await asyncio.gather(*(self._run(self._checks[n]) for n in names))
        checks.update(zip(names, outcomes, strict=True))
        if self.shutting_down:
            checks["ready"] = "shutting down"
        elif not self._is_ready():
            checks["ready"] = "waiting for Discord's READY"
        else:
            checks["ready"] = "ok"
        return Report(all(v == "ok" for v in checks.values()), checks)

    async def _run(self, check: HealthCheck) -> str:
        try:
            async with asyncio.timeout(self._timeout):
                await check()
        except TimeoutError:
            return f"no answer within {self._timeout:g} s"
        except Exception as exc:  # a failing check is a result, not an error of ours
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return redact(reason)[:200]  # served over HTTP: never a credential
        return "ok"
