"""Exit statuses are distinct and messages are single lines."""

from __future__ import annotations

import pytest

from bot.startup.errors import ExitStatus, StartupError


def test_every_failure_has_its_own_exit_status() -> None:
    values = [status.value for status in ExitStatus]
    assert len(values) == len(set(values))
    assert ExitStatus.OK == 0
    assert ExitStatus.CONFIG == 2  # unchanged from before the other statuses existed


def test_a_start_up_message_is_one_line() -> None:
    with pytest.raises(ValueError, match="one line"):
        StartupError(ExitStatus.UNEXPECTED, "first\nsecond")


@pytest.mark.parametrize(("status", "retryable"), [
    (ExitStatus.DISCORD_UNREACHABLE, True),
    (ExitStatus.PINCH_UNREACHABLE, True),
    (ExitStatus.DISCORD_TOKEN_REJECTED, False),
    (ExitStatus.OPUS_MISSING, False),
])
def test_only_unreachable_services_are_worth_retrying(status: ExitStatus,
                                                      retryable: bool) -> None:
    assert StartupError(status, "x").retryable is retryable
