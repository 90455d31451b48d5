"""The systemd unit passes ``systemd-analyze verify`` and its hardening scores well.

``verify`` checks that ExecStart exists, so the unit is verified inside a scratch
root: the host's unit library (for the targets it orders against), the unit in
/etc/systemd/system and a stand-in executable at the ExecStart path. verify exits 0
even on unknown keys (it only warns), so any output is a failure too.
systemd-analyze is installed by ``scripts/setup-deps test``; this test fails (never
skips) without it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.conftest import DEPLOY, documented_variables

UNIT = DEPLOY / "systemd" / "interpret-bot.service"
UNIT_LIBRARY = Path("/usr/lib/systemd/system")
MAX_EXPOSURE = 2.0  # systemd-analyze security: 0 (locked down) .. 10 (exposed); < 2 is "OK"


def systemd_analyze() -> str:
    binary = shutil.which("systemd-analyze")
    assert binary, "systemd-analyze missing: run scripts/setup-deps test"
    return binary


def directives() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";")):
            key, _, value = line.partition("=")
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def verify_in_scratch_root(root: Path, unit_text: str) -> subprocess.CompletedProcess[str]:
    assert UNIT_LIBRARY.is_dir(), f"{UNIT_LIBRARY} missing: run scripts/setup-deps test"
    shutil.copytree(UNIT_LIBRARY, root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    (root / "etc/systemd/system" / UNIT.name).write_text(unit_text)
    executable = root / directives()["ExecStart"][0].split()[0].lstrip("/")
    executable.parent.mkdir(parents=True)
    executable.write_text("#!/bin/sh\n")
    executable.chmod(0o755)
    return subprocess.run(
        [systemd_analyze(), "verify", f"--root={root}", "--man=no", "--generators=no",
         UNIT.name],
        capture_output=True, text=True, timeout=60, check=False)


def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    result = verify_in_scratch_root(tmp_path, UNIT.read_text())
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_systemd_analyze_verify_reports_a_misspelt_option(tmp_path: Path) -> None:
    text = UNIT.read_text().replace("ProtectHome=yes", "ProtectHome=yes\nProtectHomes=yes")
    result = verify_in_scratch_root(tmp_path, text)
    assert "Unknown key 'ProtectHomes'" in result.stdout + result.stderr


def test_hardening_exposure_stays_low() -> None:
    result = subprocess.run(
        [systemd_analyze(), "security", "--offline=yes", f"--threshold={int(MAX_EXPOSURE * 10)}",
         "--no-pager", str(UNIT)],
        capture_output=True, text=True, timeout=60, check=False)
    summary = result.stdout.strip().splitlines()[-1]
    assert result.returncode == 0, summary
    exposure = float(summary.split(":")[-1].split()[0])
    assert exposure <= MAX_EXPOSURE, summary


@pytest.mark.parametrize("setting", ["KillSignal", "TimeoutStopSec", "DynamicUser",
                                     "StateDirectory", "NoNewPrivileges", "ProtectSystem"])
def test_the_unit_sets(setting: str) -> None:
    assert setting in directives()


def test_systemd_waits_longer_than_the_bots_own_shutdown_bound() -> None:
    from bot.settings import DEFAULT_SHUTDOWN_TIMEOUT_S

    assert directives()["KillSignal"] == ["SIGTERM"]
    assert float(directives()["TimeoutStopSec"][0]) > DEFAULT_SHUTDOWN_TIMEOUT_S


def test_the_unit_sets_only_documented_variables() -> None:
    names = {pair.split("=", 1)[0] for value in directives()["Environment"]
             for pair in value.split()}
    assert names - {"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"} <= documented_variables()
