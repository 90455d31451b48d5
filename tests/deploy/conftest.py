"""Shared paths for the tests of deploy/ (static checks: no Docker, cluster or network)."""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"
VENV_BIN = Path(__import__("sys").executable).parent


def documented_variables() -> set[str]:
    """Environment variables named in the README's configuration table."""
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z_]+)` \|", section, flags=re.MULTILINE))
