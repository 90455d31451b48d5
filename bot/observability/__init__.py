"""What operators see: health and readiness, Prometheus metrics, structured logs.

- :mod:`.logs` — log context (guild/channel/run ids) and text/JSON formats, on top
  of :mod:`bot.log_redaction`.
- :mod:`.health` — ``/healthz`` (liveness: the gateway connected) and ``/readyz``
  (readiness: also registered checks such as the store's ping).
- :mod:`.metrics` — the bot's registry; :mod:`.engine` reads the engine's counters at
  scrape time; :mod:`.sessions` turns run/link statuses into session time and
  reconnects; :mod:`.pinch_calls` counts Pinch API calls at the HTTP transport.
- :mod:`.server` — the aiohttp endpoint; :mod:`.probe` — the container health check.
"""
