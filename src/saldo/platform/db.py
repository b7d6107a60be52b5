"""Connection pool and transaction helpers (psycopg 3, async).

Every unit of work runs in one transaction obtained from :func:`Database.transaction`.
Driver errors are translated into Saldo's errors at the store boundary, not here.

Two kinds of pool exist (docs/decisions/0010-identity-and-tenant-isolation.md):

* the **application** pool logs in *as* the application role (``saldo_app``; its URL is
  :func:`login_as` of the privileged one unless ``SALDO_APP_DATABASE_URL`` names it), so
  the API's queries run as a role that is neither superuser nor table owner and
  PostgreSQL's row-level security applies to them. It logs in as that role rather than
  ``SET ROLE``-ing to it: a session can ``RESET ROLE`` back to its login role, so only a
  login that is the application role cannot escape the policies;
* the **privileged** pool (no role) is for migrations, projection workers and other
  machinery that must read across companies.

A third, optional pool reads from a **streaming replica** (``SALDO_REPLICA_DATABASE_URL``):
:class:`ReadPool` gives reports a transaction on the replica when it is up and not too far
behind, and on the application pool otherwise (docs/scaling.md; decision 0065).

A company-scoped unit of work names its company: ``db.transaction(company_id=...)``
sets ``saldo.company_id`` for that transaction only (``set_config(..., true)`` is
``SET LOCAL``), and the row-level security policies compare every row against it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any
from uuid import UUID

import psycopg
import structlog
from prometheus_client import Counter, Gauge
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from saldo.platform.metrics import REGISTRY

Connection = psycopg.AsyncConnection[Any]

log = structlog.get_logger(__name__)


class DatabaseUnavailable(Exception):
    """The database named by the settings cannot be reached."""


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot serve now (down, unreachable, restarting,
    every pooled connection busy past the wait): a 503 and a retry, not a bug.

    ``OperationalError`` is the driver's class for failures of the connection or the
    server (it includes the pool's timeout and an administrator's shutdown); statement
    errors (constraint, syntax, serialization) are other classes and stay what they are."""
    if isinstance(exc, DatabaseUnavailable):
        return True
    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError) and not isinstance(
        exc, psycopg.errors.QueryCanceled | psycopg.errors.LockNotAvailable)


def redact(url: str) -> str:
    """The URL with any password replaced, fit for logs and error messages."""
    url = re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", url)


#: The transaction-local settings that row-level security policies read.
COMPANY_SETTING = "saldo.company_id"
USER_SETTING = "saldo.user_id"


def login_as(url: str, user: str) -> str:
    """The connection string of ``url`` with ``user`` as the login and no password: the
    same server and database, for a role that authenticates without one (``trust`` or
    ``peer`` on a local socket, the embedded server). A server that wants a password for
    that role is configured with ``SALDO_APP_DATABASE_URL`` instead."""
    info = conninfo_to_dict(url)
    info.pop("password", None)
    info["user"] = user
    return make_conninfo(**info)  # type: ignore[arg-type]


class Database:
    """A pool of connections to one database.

    ``timeout``: seconds a caller waits for a connection before the pool's ``PoolTimeout``
    (an ``OperationalError``: the HTTP edge answers it 503); ``connect_timeout``: seconds
    PostgreSQL gets to accept a new connection. When a connection turns out broken (the
    server restarted or went away) every idle one is checked in the background, so the
    pool drops the dead ones at once and is whole again as soon as the server is back.
    """

    def __init__(
        self, url: str, *, min_size: int = 2, max_size: int = 20, name: str = "saldo",
        timeout: float = 30.0, connect_timeout: int | None = None,
    ) -> None:
        self.url = url
        kwargs: dict[str, Any] = {"autocommit": False, "row_factory": dict_row}
        if connect_timeout is not None:
            kwargs["connect_timeout"] = connect_timeout
        self._pool = AsyncConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            open=False,
            kwargs=kwargs,
            name=name,
            timeout=timeout,
        )
        self._checking: asyncio.Task[None] | None = None

    def _broken(self, conn: Connection) -> None:
        """``conn`` failed with a connection-level error: check the idle ones (once at a
        time), so the next requests do not pick up dead connections one by one."""
        if not conn.broken or (self._checking is not None and not self._checking.done()):
            return
        self._checking = asyncio.get_running_loop().create_task(self._check())

    async def _check(self) -> None:
        with contextlib.suppress(Exception):
            await self._pool.check()

    @asynccontextmanager
    async def _pooled(self, wait: float | None = None) -> AsyncIterator[Connection]:
        async with self._pool.connection(timeout=wait) as conn:
            try:
                yield conn
            except (psycopg.OperationalError, psycopg.InterfaceError):
                self._broken(conn)
                raise

    async def open(self, timeout: float = 10.0, *, wait: bool = True) -> None:  # noqa: ASYNC109 - the pool's own timeout
        """Open the pool; ``wait=False`` returns at once and connects in the background
        (a replica that is down must not stop the API from starting)."""
        try:
            await self._pool.open(wait=wait, timeout=timeout)
        except Exception as exc:  # psycopg_pool raises PoolTimeout with the cause logged
            await self._pool.close()
            raise DatabaseUnavailable(
                f"cannot connect to PostgreSQL at {redact(self.url)}: {exc}"
            ) from exc

    async def close(self) -> None:
        if self._checking is not None:
            self._checking.cancel()
            with contextlib.suppress(BaseException):
                await self._checking
        await self._pool.close()

    @asynccontextmanager
    async def connection(self, wait: float | None = None) -> AsyncIterator[Connection]:
        """A pooled connection; ``wait``: seconds to wait for one (default: the pool's)."""
        async with self._pooled(wait) as conn:
            yield conn

    @asynccontextmanager
    async def transaction(
        self, *, company_id: UUID | None = None, user_id: UUID | None = None,
        snapshot: bool = False, wait: float | None = None,
    ) -> AsyncIterator[Connection]:
        """A connection inside one transaction: committed on success, rolled back on error.

        ``company_id`` scopes the transaction to one company for row-level security;
        ``user_id`` lets identity's policies show a user their own memberships. Both are
        transaction-local, so a pooled connection never carries them into the next use.
        ``snapshot``: a read-only transaction whose every query sees the same committed
        state (REPEATABLE READ), for reports that read with several queries.
        ``wait``: seconds to wait for a connection (default: the pool's).
        """
        # BEGIN travels with the settings in one round trip (a simple-query string, so
        # the values are quoted literals), where psycopg would send BEGIN on its own:
        # one round trip fewer for every request. The connection is in autocommit mode
        # meanwhile only so that psycopg sends no BEGIN of its own.
        begin: sql.SQL | sql.Composed = sql.SQL(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" if snapshot else "BEGIN")
        if company_id is not None or user_id is not None:
            begin = sql.SQL("{}; SELECT set_config({}, {}, true), set_config({}, {}, true)"
                            ).format(begin, sql.Literal(COMPANY_SETTING),
                                     sql.Literal(str(company_id) if company_id else ""),
                                     sql.Literal(USER_SETTING),
                                     sql.Literal(str(user_id) if user_id else ""))
        async with self._pooled(wait) as conn:
            await conn.set_autocommit(True)
            try:
                await conn.execute(begin)
                try:
                    yield conn
                except psycopg.Rollback:  # as psycopg's own transaction block: roll back, quietly
                    await conn.execute("ROLLBACK")
                    return
                except BaseException:
                    with contextlib.suppress(psycopg.Error):
                        await conn.execute("ROLLBACK")
                    raise
                await conn.execute("COMMIT")
            finally:
                with contextlib.suppress(psycopg.Error):
                    await conn.set_autocommit(False)

    async def fetch_one(self, query: str,
                        params: tuple[Any, ...] | dict[str, Any]) -> dict[str, Any] | None:
        """One read-only statement in its own implicit transaction: one round trip, no
        BEGIN or COMMIT (the hot path of every request: checking its token)."""
        async with self._pooled() as conn:
            await conn.set_autocommit(True)
            try:
                cursor = await conn.execute(query, params)
                return await cursor.fetchone()
            finally:
                with contextlib.suppress(psycopg.Error):
                    await conn.set_autocommit(False)


# ---------------------------------------------------------------------- read replica

#: Which database answered the reads of the current request: ``"replica"`` or
#: ``"primary"``, set by :meth:`ReadPool.transaction` (the reporting API says it in the
#: ``X-Saldo-Read-Source`` header). A context variable: each request task has its own.
READ_SOURCE: ContextVar[str | None] = ContextVar("saldo_read_source", default=None)

REPLICA_READS = Counter("saldo_replica_reads_total", "Read-only report transactions, by the "
                        "database that answered", ["source"], registry=REGISTRY)
REPLICA_FALLBACKS = Counter("saldo_replica_fallbacks_total", "Reads meant for the replica "
                            "that the primary answered (unavailable: down or every "
                            "connection busy; lagging: further behind than allowed)",
                            ["reason"], registry=REGISTRY)
REPLICA_LAG = Gauge("saldo_replica_lag_seconds", "How far the replica was behind the primary "
                    "when last checked (0: it had replayed all the primary had written)",
                    registry=REGISTRY)

#: Samples of the primary's WAL position kept for the lag estimate (one per check).
_LAG_SAMPLES = 64


class ReadPool:
    """Where read-only reports run: the replica when one is configured, reachable and not
    further behind than ``max_lag`` seconds; the primary (the application pool) otherwise.

    Lag is measured against the primary, not taken from the replica's own view (a replica
    whose stream broke would see itself as current): every ``check_interval`` seconds the
    primary's WAL position is sampled (``pg_current_wal_lsn()``) and compared with what
    the replica has replayed (``pg_last_wal_replay_lsn()``). The lag is the age of the
    oldest sample the replica has not replayed yet: 0 when it has everything the primary
    had written at the last check, whether the primary is busy or idle.

    A replica that fails (down, every connection busy past ``replica_wait``, a check that
    errs) is set aside for ``retry_after`` seconds: reports go to the primary meanwhile,
    each counted in ``saldo_replica_fallbacks_total`` and the first one logged, so a dead
    replica costs one short wait, not one per report. The fallback happens when the
    transaction is begun; a replica lost in the middle of a report fails that request
    (503, as for the primary) and sets the replica aside for the next ones.
    """

    def __init__(self, primary: Database, replica: Database | None = None, *,
                 max_lag: float = 30.0, check_interval: float = 5.0,
                 retry_after: float = 10.0, replica_wait: float = 1.0) -> None:
        self.primary, self.replica = primary, replica
        self.max_lag, self.check_interval = max_lag, check_interval
        self.retry_after, self.replica_wait = retry_after, replica_wait
        self._down_until = 0.0
        self._checked_at: float | None = None
        self._lag = 0.0
        self._samples: list[tuple[float, int]] = []  # (monotonic time, primary WAL position)
        self._checking = asyncio.Lock()
        self._opened = False

    @property
    def url(self) -> str:
        return self.primary.url

    async def open(self) -> None:
        """Open the replica's pool without waiting for it (the primary's is the
        application pool, opened by its owner): a replica that is down at start is set
        aside like one that goes down later."""
        if self.replica is not None and not self._opened:
            try:
                await self.replica.open(wait=False)
            except DatabaseUnavailable as exc:
                self._set_aside("unavailable", exc)
            self._opened = True

    async def close(self) -> None:
        if self.replica is not None and self._opened:
            self._opened = False
            await self.replica.close()

    def _set_aside(self, reason: str, error: BaseException | str) -> None:
        first = time.monotonic() >= self._down_until
        self._down_until = time.monotonic() + self.retry_after
        if first:
            log.warning("replica_set_aside", reason=reason, error=str(error),
                        retry_after=self.retry_after)

    async def _check_lag(self) -> None:
        """Sample the primary's WAL position and what the replica has replayed."""
        assert self.replica is not None
        now = time.monotonic()
        self._checked_at = now
        primary = await self.primary.fetch_one(
            "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint AS lsn", ())
        replica = await self.replica.fetch_one(
            "SELECT CASE WHEN pg_is_in_recovery()"
            " THEN (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint END AS lsn", ())
        if primary is not None:
            self._samples.append((now, int(primary["lsn"])))
            del self._samples[:-_LAG_SAMPLES]
        replayed = replica["lsn"] if replica is not None else None
        if replayed is None:  # promoted, or the URL names a primary: as current as it gets
            self._samples.clear()
        else:
            self._samples = [(t, lsn) for t, lsn in self._samples if lsn > int(replayed)]
        self._lag = now - self._samples[0][0] if self._samples else 0.0
        REPLICA_LAG.set(self._lag)

    async def _use_replica(self) -> bool:
        if self.replica is None or not self._opened:  # none, or a command that did not open it
            return False
        now = time.monotonic()
        if now < self._down_until:
            REPLICA_FALLBACKS.labels("unavailable").inc()
            return False
        due = self._checked_at is None or now - self._checked_at >= self.check_interval
        if due and not self._checking.locked():
            async with self._checking:
                try:
                    await asyncio.wait_for(self._check_lag(), timeout=self.replica_wait + 1)
                except (psycopg.Error, TimeoutError, OSError) as exc:
                    REPLICA_FALLBACKS.labels("unavailable").inc()
                    self._set_aside("unavailable", exc)
                    return False
        if self._lag > self.max_lag:
            REPLICA_FALLBACKS.labels("lagging").inc()
            log.info("replica_lagging", lag_seconds=round(self._lag, 3), max_lag=self.max_lag)
            return False
        return True

    @asynccontextmanager
    async def transaction(
        self, *, company_id: UUID | None = None, user_id: UUID | None = None,
        snapshot: bool = True,
    ) -> AsyncIterator[Connection]:
        """A read-only transaction (``snapshot``: REPEATABLE READ, the same committed state
        for every query) on the replica if it can answer, else on the primary; the
        source is in :data:`READ_SOURCE` and ``saldo_replica_reads_total``."""
        if await self._use_replica():
            assert self.replica is not None
            stack = contextlib.AsyncExitStack()
            try:
                conn = await stack.enter_async_context(self.replica.transaction(
                    company_id=company_id, user_id=user_id, snapshot=True,
                    wait=self.replica_wait))
            except Exception as exc:  # no connection, or BEGIN failed on a dead one
                if not is_unavailable(exc):
                    raise
                REPLICA_FALLBACKS.labels("unavailable").inc()
                self._set_aside("unavailable", exc)
            else:
                async with stack:
                    READ_SOURCE.set("replica")
                    REPLICA_READS.labels("replica").inc()
                    try:
                        yield conn
                    except Exception as exc:
                        if is_unavailable(exc):
                            self._set_aside("unavailable", exc)
                        raise
                return
        READ_SOURCE.set("primary")
        REPLICA_READS.labels("primary").inc()
        async with self.primary.transaction(company_id=company_id, user_id=user_id,
                                            snapshot=snapshot) as conn:
            yield conn


async def connect(url: str) -> Connection:
    """A single connection outside the pool (CLI commands, tests, benchmarks)."""
    try:
        return await psycopg.AsyncConnection.connect(url, row_factory=dict_row, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(
            f"cannot connect to PostgreSQL at {redact(url)}: {str(exc).strip()}"
        ) from exc
