"""Every bot in this package carries the test-only commands."""

from __future__ import annotations

import pytest

from tests.integration.discord_fake.commands import register_test_commands
from tests.support.fixtures_discord import BotSetup


@pytest.fixture
def discord_bot_setup() -> BotSetup | None:
    return register_test_commands
