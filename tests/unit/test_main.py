"""`python -m bot`: arguments it accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.__main__ import EXIT_CONFIG_ERROR, main
from bot.settings import Settings


def test_unknown_commands_end_with_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["frobnicate"])
    assert exit_.value.code == EXIT_CONFIG_ERROR
    err = capsys.readouterr().err
    assert "invalid choice: 'frobnicate'" in err
    assert "'sync'" in err


def test_the_database_defaults_to_a_file_under_the_data_dir(tmp_path: Path) -> None:
    settings = Settings.load({"DISCORD_TOKEN": "d", "PINCH_API_TOKEN": "p",
                              "DATA_DIR": str(tmp_path)}, env_file=None)
    assert settings.database() == f"sqlite:///{tmp_path / 'interpret.sqlite3'}"
