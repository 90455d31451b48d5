"""``python -m bot.observability.probe [--ready]``: the container's health check.

GETs ``/healthz`` (or ``/readyz``) on this machine's health port and exits 0 when
it answers 200, 1 otherwise with one line saying why. Standard library only, so it
starts fast and works in the slim image without curl.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request

TIMEOUT_S = 4.0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = "/readyz" if "--ready" in args else "/healthz"
    port = os.environ.get("METRICS_PORT", "").strip()
    if not port:
        print("probe: METRICS_PORT is not set, so the health endpoint is off", file=sys.stderr)
        return 1
    host = os.environ.get("METRICS_HOST", "").strip() or "127.0.0.1"
    if host in ("0.0.0.0", "::"):  # listening everywhere: ask over loopback
        host = "127.0.0.1"
    url = f"http://{host}:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            response.read()
            return 0
    except urllib.error.HTTPError as exc:
        print(f"probe: {path} answered {exc.code}: {_reason(exc.read())}", file=sys.stderr)
    except (urllib.error.URLError, OSError) as exc:
        print(f"probe: {url} unreachable: {exc}", file=sys.stderr)
    return 1


def _reason(body: bytes) -> str:
    try:
        checks = json.loads(body).get("checks", {})
    except (ValueError, AttributeError):
        return "no JSON body"
    failing = [f"{name}: {state}" for name, state in checks.items() if state != "ok"]
    return "; ".join(failing) or "unhealthy"


if __name__ == "__main__":
    sys.exit(main())
