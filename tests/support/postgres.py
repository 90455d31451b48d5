"""A real PostgreSQL server for the store tests, started with pytest-postgresql.

The server binaries come from the distribution package that ``scripts/setup-deps
test`` installs (``postgresql``; Debian keeps ``pg_ctl`` in
``/usr/lib/postgresql/<version>/bin``, outside ``PATH``). PostgreSQL refuses to
run as root, and CI runs as root: then every ``pg_ctl`` call goes through a
two-line wrapper that runs it as the unprivileged ``postgres`` system user the
package creates, and the server's directory (data, socket, log) belongs to that
user. As any other user the real ``pg_ctl`` is used directly.

:func:`running_postgres` yields a :class:`PostgresServer`; each test gets its own
database from :meth:`PostgresServer.database` (created and dropped with
pytest-postgresql's janitor), so tests never see each other's rows.
:meth:`PostgresServer.stopped` takes the server down for a while (a database
outage) and starts it again on the same port with the same data.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import shutil
import stat
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

from pytest_postgresql.executors import PostgreSQLExecutor
from pytest_postgresql.janitor import AsyncDatabaseJanitor

from tests.support import leftovers
from tests.support.ports import free_tcp_port

SERVICE_USER = "postgres"
DB_USER = "postgres"


class PostgresMissing(RuntimeError):
    pass


def find_pg_ctl() -> Path:
    """``$PG_CTL``, ``pg_ctl`` on ``PATH``, or the newest ``/usr/lib/postgresql/*/bin``."""
    candidates = [os.environ.get("PG_CTL", ""), shutil.which("pg_ctl") or ""]
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                      key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    candidates.extend(reversed(versions))
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    raise PostgresMissing("pg_ctl not found: run scripts/setup-deps test (installs postgresql)")


def _as_service_user(pg_ctl: Path, workdir: Path) -> Path:
    """A ``pg_ctl`` that runs as :data:`SERVICE_USER` (for a root test process)."""
    try:
        user = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        raise PostgresMissing(
            f"running as root needs the '{SERVICE_USER}' system user to run PostgreSQL: "
            "run scripts/setup-deps test") from None
    os.chown(workdir, user.pw_uid, user.pw_gid)
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    wrapper = workdir / "pg_ctl"
    # cd /: pg_ctl would otherwise complain it cannot read the root-only cwd.
    wrapper.write_text(
        f'#!/bin/sh\ncd / && exec {runuser} -u {SERVICE_USER} -- "{pg_ctl}" "$@"\n')
    wrapper.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    return wrapper


@dataclass
class PostgresServer:
    executor: PostgreSQLExecutor

    @property
    def host(self) -> str:
        return str(self.executor.host)

    @property
    def port(self) -> int:
        return int(self.executor.port)

    @contextlib.asynccontextmanager
    async def stopped(self) -> AsyncIterator[None]:
        """The server is down until the block ends: a fast shutdown, as an operator's
        ``pg_ctl stop`` or a crash would leave it (open connections are cut, new ones
        refused); then it starts again, same port and data. Waits for each step."""
        await asyncio.to_thread(self.executor.stop)
        try:
            yield
        finally:
            await asyncio.to_thread(self.executor.start)
            _record_postmaster(Path(self.executor.datadir))

    @contextlib.asynccontextmanager
    async def database(self, name: str) -> AsyncIterator[str]:
        """A fresh database for one test; yields its ``postgresql://`` URL."""
        janitor = AsyncDatabaseJanitor(user=DB_USER, host=self.host, port=self.port,
                                       dbname=name)
        async with janitor:
            yield f"postgresql://{DB_USER}@{self.host}:{self.port}/{name}"


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    pg_ctl = find_pg_ctl()
    workdir = Path(tempfile.mkdtemp(prefix="interpret-pg-"))
    workdir.chmod(0o700)
    executable = _as_service_user(pg_ctl, workdir) if os.geteuid() == 0 else pg_ctl
    executor = PostgreSQLExecutor(
        executable=str(executable),
        host="127.0.0.1",
        port=free_tcp_port(),
        datadir=str(workdir / "data"),
        unixsocketdir=str(workdir),
        logfile=str(workdir / "postgresql.log"),
        startparams="-w",
        dbname="interpret_tests",
        user=DB_USER,
        timeout=60,
    )
    try:
        executor.start()
        _record_postmaster(workdir / "data")
        yield PostgresServer(executor)
    finally:
        with contextlib.suppress(Exception):
            executor.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _record_postmaster(datadir: Path) -> None:
    postmaster = (datadir / "postmaster.pid").read_text().split("\n", 1)[0]
    leftovers.record(int(postmaster), "postgres")
