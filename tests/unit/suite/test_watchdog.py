"""The test run cannot hang: a stuck test ends the run with its name and every stack."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.support.watchdog import EXIT_STUCK

ROOT = Path(__file__).resolve().parents[3]


def _run_pytest(tmp_path: Path, test_source: str, **env: str) -> subprocess.CompletedProcess[str]:
    test_file = tmp_path / "test_stuck.py"
    test_file.write_text(textwrap.dedent(test_source))
    conftest = tmp_path / "conftest.py"
    conftest.write_text('pytest_plugins = ["tests.support.watchdog"]\n')
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "timeout=0",
         "--rootdir", str(tmp_path), str(test_file)],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
    )


def test_a_test_stuck_in_teardown_ends_the_run_naming_it(tmp_path: Path) -> None:
    result = _run_pytest(tmp_path, """
        import time
        import pytest

        @pytest.fixture
        def sticky():
            yield
            time.sleep(600)  # a finalizer that never returns

        def test_innocent(sticky):
            pass
    """, WATCHDOG_PHASE_S="2")
    assert result.returncode == EXIT_STUCK
    assert "watchdog: FAILED: test_stuck.py::test_innocent stuck in teardown" in result.stderr
    assert "time.sleep(600)" in result.stderr or "test_stuck.py" in result.stderr


def test_a_run_past_its_whole_limit_ends_naming_the_test_it_was_in(tmp_path: Path) -> None:
    result = _run_pytest(tmp_path, """
        import time

        def test_one():
            time.sleep(1.5)

        def test_two():
            time.sleep(1.5)
    """, WATCHDOG_PHASE_S="60", WATCHDOG_RUN_S="2")
    assert result.returncode == EXIT_STUCK
    assert "the run passed 2 s, in test_stuck.py::test_two (call)" in result.stderr


def test_a_healthy_run_is_left_alone(tmp_path: Path) -> None:
    result = _run_pytest(tmp_path, """
        def test_quick():
            assert True
    """, WATCHDOG_PHASE_S="5")
    assert result.returncode == 0, result.stderr
    assert "watchdog" not in result.stderr
