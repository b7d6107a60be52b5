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

A company-scoped unit of work names its company: ``db.transaction(company_id=...)``
sets ``saldo.company_id`` for that transaction only (``set_config(..., true)`` is
``SET LOCAL``), and the row-level security policies compare every row against it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

Connection = psycopg.AsyncConnection[Any]


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

    async def open(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - the pool's own timeout
        try:
            await self._pool.open(wait=True, timeout=timeout)
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
        snapshot: bool = False,
    ) -> AsyncIterator[Connection]:
        """A connection inside one transaction: committed on success, rolled back on error.

        ``company_id`` scopes the transaction to one company for row-level security;
        ``user_id`` lets identity's policies show a user their own memberships. Both are
        transaction-local, so a pooled connection never carries them into the next use.
        ``snapshot``: a read-only transaction whose every query sees the same committed
        state (REPEATABLE READ), for reports that read with several queries.
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
        async with self._pooled() as conn:
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


async def connect(url: str) -> Connection:
    """A single connection outside the pool (CLI commands, tests, benchmarks)."""
    try:
        return await psycopg.AsyncConnection.connect(url, row_factory=dict_row, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(
            f"cannot connect to PostgreSQL at {redact(url)}: {str(exc).strip()}"
        ) from exc
