"""The real bot as its own process, pointed at an in-test fake Discord.

``python -m tests.support.served_bot`` runs :func:`bot.app.serve` — the same
settings, logging, signal handling and shutdown as ``python -m bot`` — with the only
difference a test needs: an aiohttp connector that trusts the fake's CA
(``FAKE_DISCORD_CA``, a PEM file) and resolves every host to its port
(``FAKE_DISCORD_PORT``), plus the test-only :mod:`tests.support.ops_extension`
(and whatever ``SERVED_BOT_EXTENSIONS`` lists, e.g. the real ``cogs.interpret``).

:class:`BotProcess` is the test side: start it with settings as environment
variables, wait for ``/readyz``, scrape ``/metrics``, send it a signal, read its log.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp

from bot.process_exit import end_process
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.tls import LoopbackResolver
from tests.support import leftovers
from tests.support.livekit_server import REPO_ROOT
from tests.support.ports import free_tcp_port

EXTENSIONS = ("tests.support.ops_extension",)
#: More extensions for the process, comma-separated (e.g. ``cogs.interpret``).
EXTRA_EXTENSIONS_VAR = "SERVED_BOT_EXTENSIONS"
# Environment of the test runner that must not leak into the bot under test.
_SCRUBBED = ("DISCORD_TOKEN", "PINCH_API_TOKEN", "PINCH_BASE_URL", "DATABASE_URL", "SHARD_IDS",
             "SHARD_COUNT", "METRICS_PORT", "METRICS_HOST", "LOG_FORMAT", "SHUTDOWN_TIMEOUT")


def main() -> int:
    from bot.app import serve
    from bot.observability.logs import configure_logging
    from bot.settings import Settings, SettingsError

    try:
        settings = Settings.load(env_file=None)
    except SettingsError as exc:
        print(f"served_bot: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    port = int(os.environ["FAKE_DISCORD_PORT"])
    cafile = os.environ["FAKE_DISCORD_CA"]

    async def run() -> int:
        connector = aiohttp.TCPConnector(ssl=ssl.create_default_context(cafile=cafile),
                                         resolver=LoopbackResolver(port), limit=0)
        extra = tuple(e for e in os.environ.get(EXTRA_EXTENSIONS_VAR, "").split(",") if e)
        return await serve(settings, extensions=EXTENSIONS + extra, connector=connector,
                           guild_ready_timeout=0.1)

    return asyncio.run(run())


class BotProcess:
    """One bot process; :meth:`stop` (or the owning test's cleanup) always ends it."""

    def __init__(self, fake: FakeDiscord, workdir: Path, **env: str) -> None:
        assert fake.tls is not None
        workdir.mkdir(parents=True, exist_ok=True)
        ca = workdir / "fake-discord-ca.pem"
        fake.tls.ca.cert_pem.write_to_path(str(ca))
        self.metrics_port = free_tcp_port()
        self.log_path = workdir / "bot.log"
        self.env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
        self.env.update({
            "DISCORD_TOKEN": fake.bot_token,
            "PINCH_API_TOKEN": "pinch-test-token-0123456789",
            "PINCH_BASE_URL": "http://127.0.0.1:9",
            "DATA_DIR": str(workdir / "data"),
            "METRICS_PORT": str(self.metrics_port),
            "METRICS_HOST": "127.0.0.1",
            "FAKE_DISCORD_PORT": str(fake.port),
            "FAKE_DISCORD_CA": str(ca),
            "PYTHONUNBUFFERED": "1",
            **env,
        })
        self._proc: subprocess.Popen[bytes] | None = None
        self.returncode: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}"

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "tests.support.served_bot"], cwd=REPO_ROOT,
                env=self.env, stdout=log, stderr=subprocess.STDOUT)
        leftovers.record(self._proc.pid, "-m tests.support.served_bot")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def get(self, path: str) -> tuple[int, str]:
        async with aiohttp.ClientSession() as http, http.get(
                self.url + path, timeout=aiohttp.ClientTimeout(total=5)) as response:
            return response.status, await response.text()

    async def wait_ready(self, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            self._check_alive()
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                if (await self.get("/readyz"))[0] == 200:
                    return
            await asyncio.sleep(0.2)
        raise TimeoutError(f"bot not ready within {within} s; log:\n{self.log()[-4000:]}")

    async def metric(self, name: str, **labels: str) -> float | None:
        """One sample from ``/metrics`` (``None`` when absent)."""
        from prometheus_client.parser import text_string_to_metric_families

        _status, body = await self.get("/metrics")
        for family in text_string_to_metric_families(body):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v
                                               for k, v in labels.items()):
                    return float(sample.value)
        return None

    async def wait_metric(self, name: str, at_least: float, within: float = 15.0,
                          **labels: str) -> float:
        """Poll ``/metrics`` until the sample reaches ``at_least``; its value."""
        deadline = time.monotonic() + within
        while True:
            value = await self.metric(name, **labels) or 0.0
            if value >= at_least:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name}{labels} = {value} < {at_least} after {within} s; "
                                   f"log:\n{self.log()[-3000:]}")
            await asyncio.sleep(0.1)

    async def metric_labels(self, name: str, label: str) -> set[str]:
        from prometheus_client.parser import text_string_to_metric_families

        _status, body = await self.get("/metrics")
        return {s.labels[label] for f in text_string_to_metric_families(body)
                for s in f.samples if s.name == name}

    def rss_mib(self) -> float:
        """Resident memory of the process now (Linux /proc), for sizing figures."""
        assert self._proc is not None
        status = Path(f"/proc/{self._proc.pid}/status").read_text()
        kib = next(int(line.split()[1]) for line in status.splitlines()
                   if line.startswith("VmRSS:"))
        return kib / 1024

    def cpu_seconds(self) -> float:
        """CPU time the process has used so far, user and system."""
        assert self._proc is not None
        return cpu_seconds_of(self._proc.pid)

    def send(self, sig: signal.Signals) -> None:
        assert self._proc is not None
        self._proc.send_signal(sig)

    async def wait_exit(self, within: float) -> int:
        assert self._proc is not None
        try:
            self.returncode = await asyncio.to_thread(self._proc.wait, within)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"bot still running after {within} s; log:\n"
                               f"{self.log()[-4000:]}") from None
        return self.returncode

    def kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(10)

    def _check_alive(self) -> None:
        assert self._proc is not None
        if self._proc.poll() is not None:
            raise RuntimeError(f"bot exited with {self._proc.returncode}; log:\n"
                               f"{self.log()[-4000:]}")


def cpu_seconds_of(pid: int) -> float:
    """CPU time process ``pid`` has used so far, user and system (Linux /proc)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def bot_processes() -> Iterator[list[BotProcess]]:
    """Collects the processes a test starts; kills any still running at the end."""
    started: list[BotProcess] = []
    try:
        yield started
    finally:
        for process in started:
            process.kill()


if __name__ == "__main__":
    end_process(main())
