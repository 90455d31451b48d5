"""docker-compose.yml validates against the Compose Specification's JSON schema.

The schema is the copy vendored in the ``check-jsonschema`` package
(``check_jsonschema/builtin_schemas/vendor/compose-spec.json``, from the
compose-spec project); validation uses ``jsonschema``. No Docker needed.
"""

from __future__ import annotations

import copy
import importlib.resources
import json
from typing import Any

import jsonschema
import pytest
import yaml

from tests.deploy.conftest import DEPLOY, documented_variables

COMPOSE = DEPLOY / "docker-compose.yml"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    vendored = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    loaded: dict[str, Any] = json.loads((vendored / "compose-spec.json").read_text())
    assert loaded["title"] == "Compose Specification"
    return loaded


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def errors(schema: dict[str, Any], doc: dict[str, Any]) -> list[str]:
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(doc)]


def test_compose_file_validates_against_the_compose_specification(
    schema: dict[str, Any], compose: dict[str, Any],
) -> None:
    assert errors(schema, compose) == []


def test_the_schema_rejects_an_invalid_compose_file(
    schema: dict[str, Any], compose: dict[str, Any],
) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["bot"]["restart_policy"] = "always"  # not a Compose key
    assert errors(schema, broken)


def test_postgres_runs_only_under_its_profile_and_the_bot_waits_for_it_when_it_does(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert services["postgres"]["profiles"] == ["postgres"]
    assert "profiles" not in services["bot"]
    dependency = services["bot"]["depends_on"]["postgres"]
    assert dependency == {"condition": "service_healthy", "required": False}


def test_sqlite_data_lives_in_a_named_volume_at_data_dir(compose: dict[str, Any]) -> None:
    bot = compose["services"]["bot"]
    data_dir = bot["environment"]["DATA_DIR"]
    volume, _, target = next(v for v in bot["volumes"] if v.endswith(":" + data_dir)
                             ).partition(":")
    assert target == data_dir
    assert volume in compose["volumes"]


def test_tokens_come_from_the_env_file_and_only_documented_variables_are_set(
    compose: dict[str, Any],
) -> None:
    bot = compose["services"]["bot"]
    assert bot["env_file"] == [{"path": "../.env", "required": True}]
    assert set(bot["environment"]) <= documented_variables()
    assert not {"DISCORD_TOKEN", "PINCH_API_TOKEN"} & set(bot["environment"])


def test_the_stop_grace_period_outlasts_the_bots_own_shutdown_bound(
    compose: dict[str, Any],
) -> None:
    from bot.settings import DEFAULT_SHUTDOWN_TIMEOUT_S

    grace = compose["services"]["bot"]["stop_grace_period"]
    assert grace.endswith("s")
    assert float(grace[:-1]) > DEFAULT_SHUTDOWN_TIMEOUT_S


def test_postgres_gets_only_its_own_variables_never_the_bots_env_file(
    compose: dict[str, Any],
) -> None:
    postgres = compose["services"]["postgres"]
    assert "env_file" not in postgres  # the bot's .env holds both tokens
    environment = postgres["environment"]
    assert set(environment) == {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"}
    assert environment["POSTGRES_PASSWORD"] == "${POSTGRES_PASSWORD:-}"
    named = " ".join(f"{key}={value}" for key, value in environment.items())
    assert "DISCORD" not in named
    assert "PINCH" not in named
