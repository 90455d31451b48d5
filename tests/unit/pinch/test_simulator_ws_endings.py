"""How the simulator's WebSocket session ends when one of its tasks raises.

Under load the client's close and the simulator's next audio send race: the send to
the closing socket must end the session as the client leaving, the way the real
service sees a client that hung up, not as an agent error.
"""

from __future__ import annotations

from aiohttp.client_exceptions import ClientConnectionResetError

from tests.fakes.pinch.ws_session import task_failure_ending


def test_a_send_to_a_socket_the_client_is_closing_means_the_client_left() -> None:
    exc = ClientConnectionResetError("Cannot write to closing transport")
    assert task_failure_ending(exc) == ("client_left", None)


def test_a_reset_connection_means_the_client_left() -> None:
    assert task_failure_ending(ConnectionResetError()) == ("client_left", None)


def test_any_other_task_failure_is_an_agent_error_closed_with_1011() -> None:
    assert task_failure_ending(ValueError("bug")) == ("agent_error", 1011)
