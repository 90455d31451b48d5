"""The HTTP endpoint for operators: ``/healthz``, ``/readyz``, ``/metrics``.

A small aiohttp server on ``METRICS_HOST:METRICS_PORT`` (off when the port is
unset), started in the bot's ``setup_hook`` and stopped last in ``close``.
Health answers are JSON, 200 when healthy and 503 otherwise, so Docker's
``HEALTHCHECK``, Kubernetes probes and a human with curl read the same thing.
Nothing here can reach a token: check reasons are redacted in :mod:`.health`.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.observability.health import Health, Report
from bot.observability.metrics import CONTENT_TYPE, BotMetrics

log = logging.getLogger(__name__)


class ObservabilityServer:
    def __init__(self, health: Health, metrics: BotMetrics, host: str, port: int) -> None:
        self._health = health
        self._metrics = metrics
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._bound_port: int | None = None

    @property
    def port(self) -> int | None:
        """The bound port once started (useful when 0 asked for any free port)."""
        return self._bound_port

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("the observability server starts once")
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics_page)
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self._bound_port = int(sockets[0].getsockname()[1]) if sockets else self._port
        log.info("health and metrics on http://%s:%d (/healthz /readyz /metrics)",
                 self._host, self._bound_port)

    async def aclose(self) -> None:
        """Stop serving; safe to call twice."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _healthz(self, _request: web.Request) -> web.Response:
        return _answer(await self._health.health())

    async def _readyz(self, _request: web.Request) -> web.Response:
        return _answer(await self._health.readiness())

    async def _metrics_page(self, _request: web.Request) -> web.Response:
        response = web.Response(body=self._metrics.render())
        response.headers["Content-Type"] = CONTENT_TYPE
        return response


def _answer(report: Report) -> web.Response:
    return web.json_response(report.as_json(), status=200 if report.ok else 503)
