"""``scripts/setup-deps`` as a non-root user whose PATH lacks /sbin and /usr/sbin.

The script is copied into a world-readable temporary directory and run with
``PATH=/usr/bin:/bin`` and an empty environment otherwise. When the suite runs as
root (CI), the process drops to uid/gid 65534 (``nobody``; no account is needed
for a numeric id), so the script really sees a user who may not install anything.
The machine has libopus (``scripts/test`` runs ``setup-deps`` first).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNPRIVILEGED = 65534


@pytest.fixture
def script_copy() -> Iterator[Path]:
    # Not pytest's tmp_path: its parent is private to the user running the suite.
    directory = Path(tempfile.mkdtemp(prefix="setup-deps-"))
    try:
        (directory / "scripts").mkdir()
        script = directory / "scripts" / "setup-deps"
        shutil.copy2(ROOT / "scripts" / "setup-deps", script)
        for path in (directory, directory / "scripts", script):
            path.chmod(0o755)
        yield script
    finally:
        shutil.rmtree(directory)


def run_unprivileged(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    as_other_user = {"user": UNPRIVILEGED, "group": UNPRIVILEGED, "extra_groups": []} \
        if os.geteuid() == 0 else {}
    return subprocess.run(
        ["/bin/bash", str(script), *args],
        env={"PATH": "/usr/bin:/bin", "HOME": str(script.parent.parent)},
        cwd=script.parent.parent, capture_output=True, text=True, timeout=60,
        check=False, **as_other_user,
    )


def test_runtime_setup_finds_libopus_without_sbin_on_path_as_a_non_root_user(
    script_copy: Path,
) -> None:
    result = run_unprivileged(script_copy, "runtime")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["setup: libopus0 present"]
    assert result.stderr == ""


def test_the_unprivileged_run_really_is_not_root(script_copy: Path) -> None:
    probe = script_copy.parent / "whoami"
    probe.write_text("#!/bin/bash\nid -u\n")
    probe.chmod(0o755)
    result = run_unprivileged(probe)
    assert result.stdout.strip() != "0"
