"""Every log line passes the redacting filter: no credential reaches a handler."""

from __future__ import annotations

import io
import logging

import pytest

from bot.log_redaction import REDACTED, RedactingFilter, redact
from bot.secrets import Secret

JWT = ("eyJhbGciOiJIUzI1NiJ9.eyJuYW1lIjoiQVBJIENsaWVudCJ9."
       "2UpXCF-eLULMBNUvXCqT_oOwVUmshVvjJVxGVa6FihE")


def _logged(message: str, *args: object, exc: BaseException | None = None) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        if exc is not None:
            try:
                raise exc
            except BaseException:
                logger.exception(message, *args)
        else:
            logger.warning(message, *args)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_registered_secret_is_masked_in_message_args() -> None:
    secret = Secret("s3cr3t-pinch-token-value")
    out = _logged("calling with %s", secret.reveal())
    assert "s3cr3t-pinch-token-value" not in out
    assert REDACTED in out


def test_bearer_header_is_masked_whatever_its_value() -> None:
    assert redact("Authorization: Bearer abcdefghijkl123") == f"Authorization: Bearer {REDACTED}"


def test_jwt_is_masked() -> None:
    assert JWT not in redact(f"token={JWT}")


def test_discord_bot_token_shape_is_masked() -> None:
    token = "MTA5ODc2NTQzMjEwOTg3NjU0.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB"
    assert token not in redact(f"login {token}")


def test_secret_in_exception_traceback_is_masked() -> None:
    Secret("traceback-secret-123")
    out = _logged("failed", exc=RuntimeError("bad token traceback-secret-123"))
    assert "traceback-secret-123" not in out
    assert "RuntimeError" in out


@pytest.mark.parametrize("render", [repr, str, lambda s: f"{s}", lambda s: f"{s!r}"])
def test_secret_never_renders_its_value(render: object) -> None:
    s = Secret("render-me-not-0001")
    assert "render-me-not-0001" not in render(s)  # type: ignore[operator]


def test_plain_text_passes_unchanged() -> None:
    assert redact("joined voice channel 1234 in guild 5678") == (
        "joined voice channel 1234 in guild 5678"
    )


def test_a_released_session_token_leaves_the_registry() -> None:
    from bot.log_redaction import register_secret, registered_secret_count, release_secret

    before = registered_secret_count()
    register_secret("session-token-abcdef-123")
    assert registered_secret_count() == before + 1
    release_secret("session-token-abcdef-123")
    assert registered_secret_count() == before
    assert redact("session-token-abcdef-123") == "session-token-abcdef-123"


def test_a_token_held_twice_stays_masked_until_both_holders_release_it() -> None:
    from bot.log_redaction import register_secret, release_secret

    register_secret("shared-token-xyz-987")
    register_secret("shared-token-xyz-987")
    release_secret("shared-token-xyz-987")
    assert "shared-token-xyz-987" not in redact("t=shared-token-xyz-987")
    release_secret("shared-token-xyz-987")


def test_webhook_and_interaction_tokens_in_discord_urls_are_masked() -> None:
    token = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDpzZWNyZXQ_webhook-token.x"
    line = (f"Webhook ID 42 with POST https://discord.com/api/v10/webhooks/42/{token} and "
            f"https://discord.com/api/v10/interactions/7/{token}/callback has returned 204")
    assert redact(line) == (
        f"Webhook ID 42 with POST https://discord.com/api/v10/webhooks/42/{REDACTED} and "
        f"https://discord.com/api/v10/interactions/7/{REDACTED}/callback has returned 204")
