"""Which failures of the database are an outage (wait and try again) and which a bug."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import exc as sa_exc

from bot.log_redaction import register_secret, release_secret
from bot.store.errors import is_unavailable, reason


def sqlite_error(statement: str, *, setup: str = "") -> sa_exc.DBAPIError:
    """The error SQLite itself raises for ``statement``, as SQLAlchemy wraps it."""
    db = sqlite3.connect(":memory:")
    try:
        if setup:
            db.executescript(setup)
        db.execute(statement)
    except sqlite3.Error as error:
        return sa_exc.DBAPIError.instance(statement, None, error, sqlite3.Error)
    finally:
        db.close()
    raise AssertionError(f"{statement} did not fail")


def test_a_connection_refused_or_a_timeout_is_an_outage() -> None:
    assert is_unavailable(ConnectionRefusedError(111, "Connection refused"))
    assert is_unavailable(TimeoutError())
    assert is_unavailable(sa_exc.TimeoutError("QueuePool limit reached"))


def test_a_sqlite_file_that_cannot_be_written_is_an_outage() -> None:
    error = sqlite_error("INSERT INTO t VALUES (1)", setup="CREATE TABLE t (x);"
                         "PRAGMA query_only = ON;")
    assert error.orig.sqlite_errorname == "SQLITE_READONLY"  # type: ignore[union-attr]
    assert is_unavailable(error)


@pytest.mark.parametrize("statement", ["SELECT * FROM missing", "SELEC 1"])
def test_a_missing_table_or_bad_sql_is_a_bug_even_when_sqlite_calls_it_operational(
    statement: str,
) -> None:
    error = sqlite_error(statement)
    assert isinstance(error, sa_exc.OperationalError)
    assert not is_unavailable(error)


def test_a_value_the_database_refuses_is_not_an_outage() -> None:
    error = sqlite_error("INSERT INTO t VALUES (1)",
                         setup="CREATE TABLE t (x UNIQUE); INSERT INTO t VALUES (1);")
    assert isinstance(error, sa_exc.IntegrityError)
    assert not is_unavailable(error)
    assert not is_unavailable(ValueError("naive datetime"))


def test_the_reason_is_one_line_and_masks_a_registered_secret() -> None:
    register_secret("db-password-123456")
    try:
        error = OSError("password db-password-123456 refused\nsecond line")
        assert reason(error) == "OSError: password [redacted] refused"
    finally:
        release_secret("db-password-123456")
