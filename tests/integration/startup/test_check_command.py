"""``python -m bot check``: one line per check, non-zero status on any failure.

Also the Pinch check itself: it proves the token against the simulator without
creating a session (the simulator records every call and every session).
"""

from __future__ import annotations

from pathlib import Path

from bot.pinch import PROBE_TARGET_LANGUAGE
from bot.secrets import Secret
from bot.settings import Settings
from bot.startup.checks import check_pinch
from bot.startup.errors import ExitStatus
from tests.fakes.pinch import SimulatorFaults
from tests.support.bot_process import PINCH_TOKEN, bot_env, run_bot, token_check_simulator
from tests.support.ports import free_tcp_port
from tests.support.postgres import PostgresServer


def check_env(base_url: str, token: str = PINCH_TOKEN, **more: str) -> dict[str, str]:
    return bot_env({"DISCORD_TOKEN": "never-used-by-check", "PINCH_API_TOKEN": token,
                    "PINCH_BASE_URL": base_url, **more})


async def test_check_passes_against_the_simulator_with_one_line_per_check(
    tmp_path: Path,
) -> None:
    async with token_check_simulator() as sim:
        result = await run_bot(check_env(sim.base_url), tmp_path, "check")
    assert result.returncode == ExitStatus.OK
    lines = result.stdout.splitlines()
    assert [line.split(":", 1)[0] for line in lines] == [
        "ok   settings", "ok   libopus", "ok   store", "ok   pinch"]
    assert lines[3] == f"ok   pinch: {sim.base_url} accepted the API token (no session created)"
    assert sim.sessions == []
    assert "Traceback" not in result.stderr


async def test_check_passes_with_a_postgresql_store(
    tmp_path: Path, postgres_server: PostgresServer,
) -> None:
    async with postgres_server.database("check") as url, token_check_simulator() as sim:
        result = await run_bot(check_env(sim.base_url, DATABASE_URL=url), tmp_path, "check")
    assert result.returncode == ExitStatus.OK, result.stdout + result.stderr
    assert [line.split(":", 1)[0] for line in result.stdout.splitlines()] == [
        "ok   settings", "ok   libopus", "ok   store", "ok   pinch"]
    assert "postgresql" in result.stdout.splitlines()[2]


async def test_check_with_a_wrong_token_fails_with_one_clear_line(tmp_path: Path) -> None:
    async with token_check_simulator(api_token="the-real-token-000") as sim:
        result = await run_bot(check_env(sim.base_url, "a-wrong-token-111"), tmp_path, "check")
    assert result.returncode == ExitStatus.PINCH_REFUSED
    [failed] = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert failed.startswith(f"FAIL pinch: the Pinch API at {sim.base_url} refused the token")
    assert failed.endswith("check PINCH_API_TOKEN")
    assert "a-wrong-token-111" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


async def test_check_with_an_unreachable_api_fails_with_one_clear_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_tcp_port()}"
    result = await run_bot(check_env(url), tmp_path, "check")
    assert result.returncode == ExitStatus.PINCH_UNREACHABLE
    [failed] = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert failed == (f"FAIL pinch: cannot reach the Pinch API at {url}: connection refused: "
                      "check PINCH_BASE_URL and the network")
    assert "Traceback" not in result.stderr


async def test_check_reports_every_check_even_after_a_failure(tmp_path: Path) -> None:
    async with token_check_simulator() as sim:
        result = await run_bot(check_env(sim.base_url, OPUS_LIBRARY="libopus-nope.so.0"),
                               tmp_path, "check")
    assert result.returncode == ExitStatus.OPUS_MISSING
    assert [line.split(":", 1)[0] for line in result.stdout.splitlines()] == [
        "ok   settings", "FAIL libopus", "ok   store", "ok   pinch"]


async def test_check_with_an_unreachable_database_fails_with_the_password_masked(
    tmp_path: Path,
) -> None:
    port = free_tcp_port()
    url = f"postgresql://bot:s3cret-pw@127.0.0.1:{port}/interpret"
    async with token_check_simulator() as sim:
        result = await run_bot(check_env(sim.base_url, DATABASE_URL=url), tmp_path, "check")
    assert result.returncode == ExitStatus.STORE_UNAVAILABLE
    [failed] = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert failed.startswith(
        f"FAIL store: cannot open the store at postgresql://bot:***@127.0.0.1:{port}/interpret: ")
    assert failed.endswith("check DATABASE_URL (or DATA_DIR) and that the database is reachable")
    assert "s3cret-pw" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


async def test_check_with_invalid_settings_fails_on_the_settings_line(tmp_path: Path) -> None:
    env = bot_env({"DISCORD_TOKEN": "x" * 10})
    result = await run_bot(env, tmp_path, "check")
    assert result.returncode == ExitStatus.CONFIG
    assert result.stdout.splitlines() == [
        "FAIL settings: missing required environment variable PINCH_API_TOKEN "
        "(set it in the environment or in .env)"]


async def test_pinch_check_spends_no_session_and_sends_the_probe_language() -> None:
    async with token_check_simulator() as sim:
        settings = Settings(discord_token=Secret("unused"), pinch_api_token=Secret(PINCH_TOKEN),
                            pinch_base_url=sim.base_url)
        result = await check_pinch(settings)
    assert result.ok
    [call] = sim.calls
    assert call.authorized
    assert call.status == 400
    assert isinstance(call.body, dict)
    assert call.body["target_language"] == PROBE_TARGET_LANGUAGE
    assert sim.sessions == []


async def test_check_over_the_websocket_api_asks_for_a_session_url_and_never_opens_it(
    tmp_path: Path,
) -> None:
    async with token_check_simulator() as sim:
        result = await run_bot(check_env("http://127.0.0.1:9", PINCH_TRANSPORT="websocket",
                                         PINCH_WS_BASE_URL=sim.base_url), tmp_path, "check")
    assert result.returncode == ExitStatus.OK
    [pinch_line] = [line for line in result.stdout.splitlines() if "pinch:" in line]
    assert pinch_line.startswith(f"ok   pinch: {sim.base_url} accepted the API token")
    [call] = sim.calls
    assert (call.path, call.status) == ("/v1/session", 200)
    assert [s.client_joined_at for s in sim.sessions] == [None]  # the URL was never opened


async def test_a_websocket_key_without_real_time_entitlement_fails_the_check() -> None:
    async with token_check_simulator() as sim:
        sim.faults = SimulatorFaults(not_entitled=True)
        settings = Settings(discord_token=Secret("unused"), pinch_api_token=Secret(PINCH_TOKEN),
                            pinch_transport="websocket", pinch_ws_base_url=sim.base_url)
        result = await check_pinch(settings)
    assert not result.ok
    assert result.status == ExitStatus.PINCH_REFUSED
    assert "PINCH_TRANSPORT" in result.detail
