"""A real ``livekit-server`` process on loopback for the tests.

Bound to 127.0.0.1 only, on free ports, with a fresh 48-character secret; no
STUN or TURN leaves the machine. :meth:`LiveKitServer.restart` keeps the same
ports and keys so fault tests can kill the server under a running client.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from livekit import api

from tests.support import leftovers
from tests.support.ports import free_tcp_port, free_udp_port

REPO_ROOT = Path(__file__).resolve().parents[2]
EXPECTED_VERSION = "1.13.5"


class LiveKitServerMissing(RuntimeError):
    pass


def find_binary() -> Path:
    """The livekit-server binary: $LIVEKIT_SERVER_BIN, the setup cache, or PATH."""
    candidates = [
        os.environ.get("LIVEKIT_SERVER_BIN", ""),
        str(REPO_ROOT / ".cache" / "bin" / "livekit-server"),
        shutil.which("livekit-server") or "",
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    raise LiveKitServerMissing(
        "livekit-server binary not found: run scripts/setup-deps test "
        "(or set LIVEKIT_SERVER_BIN)"
    )


@dataclass
class LiveKitServer:
    binary: Path
    port: int = field(default_factory=free_tcp_port)
    udp_port: int = field(default_factory=free_udp_port)
    api_key: str = field(default_factory=lambda: "APItest" + secrets.token_hex(4))
    api_secret: str = field(default_factory=lambda: secrets.token_urlsafe(36))
    _proc: subprocess.Popen[bytes] | None = None
    _workdir: Path | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config_yaml(self) -> str:
        return (
            f"port: {self.port}\n"
            'bind_addresses: ["127.0.0.1"]\n'
            f"keys:\n  {self.api_key}: {self.api_secret}\n"
            "rtc:\n"
            "  node_ip: 127.0.0.1\n"
            "  use_external_ip: false\n"
            f"  udp_port: {self.udp_port}\n"
            "  tcp_port: 0\n"
            "  enable_loopback_candidate: true\n"
            "  ips:\n    includes: [\"127.0.0.1/32\"]\n"
            '  stun_servers: ["127.0.0.1:3478"]\n'
            "logging:\n  level: warn\n"
        )

    def start(self, timeout: float = 20.0) -> None:
        if self._proc is not None:
            raise RuntimeError("already running")
        self._workdir = Path(tempfile.mkdtemp(prefix="livekit-"))
        config = self._workdir / "livekit.yaml"
        config.write_text(self.config_yaml())
        self._log = (self._workdir / "server.log").open("wb")
        self._proc = subprocess.Popen(
            [str(self.binary), "--config", str(config)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        leftovers.record(self._proc.pid, "livekit-server")
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"livekit-server exited with {self._proc.returncode}:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(self.http_url + "/", timeout=1) as resp:
                    if resp.status == 200 and resp.read().strip() == b"OK":
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"livekit-server not ready within {timeout} s")

    def log_tail(self, lines: int = 40) -> str:
        if self._workdir is None:
            return ""
        path = self._workdir / "server.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if getattr(self, "_log", None) is not None:
            self._log.close()

    def kill(self) -> None:
        """Stop abruptly, as a crash would."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def restart(self, timeout: float = 20.0) -> None:
        self.stop()
        self.start(timeout)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def token(
        self,
        identity: str,
        room: str,
        *,
        name: str | None = None,
        ttl: datetime.timedelta = datetime.timedelta(hours=1),
        can_publish: bool = True,
        can_subscribe: bool = True,
        can_publish_data: bool = True,
    ) -> str:
        grants = api.VideoGrants(
            room_join=True,
            room=room,
            can_publish=can_publish,
            can_subscribe=can_subscribe,
            can_publish_data=can_publish_data,
        )
        return (
            api.AccessToken(self.api_key, self.api_secret)
            .with_identity(identity)
            .with_name(name or identity)
            .with_ttl(ttl)
            .with_grants(grants)
            .to_jwt()
        )

    def cleanup(self) -> None:
        self.stop()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None


@contextlib.contextmanager
def running_livekit_server() -> Iterator[LiveKitServer]:
    """A started server on fresh ports, stopped and cleaned up on exit."""
    server = LiveKitServer(binary=find_binary())
    server.start()
    try:
        yield server
    finally:
        server.cleanup()
