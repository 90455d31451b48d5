"""``scripts/venv``: installs pyproject.toml's dependencies, and builds nothing of ours.

Building the project (even ``pip install -e .``) runs setuptools, and recent pip
prints setuptools' informational ``Editable installation`` warning block for a local
project: ten lines on the first ``scripts/run-bot``. The script no longer builds the
project (the bot runs from its checkout), so no build backend runs at all. A real
install downloads every dependency (half a minute, and the network), so the test
checks that mechanism instead: the script runs against a copy of pyproject.toml with
a ``.venv/bin/python`` that hands everything to this interpreter except ``-m pip``,
whose calls it records (with the requirements file's lines) and answers with success.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

RECORDING_PYTHON = f"""#!{sys.executable}
import json, os, sys
args = sys.argv[1:]
if args[:2] == ["-m", "pip"]:
    call = {{"args": args[2:]}}
    if "-r" in args:
        with open(args[args.index("-r") + 1]) as file:
            call["requirements"] = file.read().splitlines()
    with open(os.environ["PIP_CALLS"], "a") as log:
        log.write(json.dumps(call) + "\\n")
    sys.exit(0)
os.execv(sys.executable, [sys.executable, *args])
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """pyproject.toml and scripts/venv, with a recording ``.venv/bin/python``."""
    (tmp_path / "scripts").mkdir()
    shutil.copy2(ROOT / "scripts" / "venv", tmp_path / "scripts" / "venv")
    shutil.copy2(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(RECORDING_PYTHON)
    python.chmod(0o755)
    return tmp_path


def run_venv(checkout: Path, *args: str) -> tuple[subprocess.CompletedProcess[str],
                                                  list[dict[str, Any]]]:
    calls = checkout / "pip-calls.jsonl"
    result = subprocess.run(
        ["/bin/bash", str(checkout / "scripts" / "venv"), *args],
        env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable, "PIP_CALLS": str(calls),
             "TMPDIR": str(checkout)},
        cwd=checkout, capture_output=True, text=True, timeout=60, check=False)
    recorded = [json.loads(line) for line in calls.read_text().splitlines()] \
        if calls.exists() else []
    return result, recorded


def project() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        loaded: dict[str, Any] = tomllib.load(file)["project"]
    return loaded


def test_the_venv_gets_pyprojects_dependencies_and_nothing_of_ours_is_built(
    checkout: Path,
) -> None:
    result, calls = run_venv(checkout)
    assert result.returncode == 0, result.stderr
    assert calls == [
        {"args": ["install", "-q", "--upgrade", "pip"]},
        {"args": ["install", "-q", "-r", calls[1]["args"][-1]],
         "requirements": project()["dependencies"]},
    ]


def test_an_extra_adds_its_requirements(checkout: Path) -> None:
    result, calls = run_venv(checkout, "test")
    assert result.returncode == 0, result.stderr
    assert calls[-1]["requirements"] == (project()["dependencies"]
                                         + project()["optional-dependencies"]["test"])

