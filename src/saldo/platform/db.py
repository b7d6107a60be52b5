"""Connection pool and transaction helpers (psycopg 3, async).

Every unit of work runs in one transaction obtained from :func:`Database.transaction`.
Driver errors are translated into Saldo's errors at the store boundary, not here.

Two kinds of pool exist (docs/decisions/0010-identity-and-tenant-isolation.md):

* the **application** pool (``role="saldo_app"``) runs ``SET ROLE`` on every new
  connection, so the API's queries run as a role that is neither superuser nor table
  owner and PostgreSQL's row-level security applies to them;
* the **privileged** pool (no role) is for migrations, projection workers and other
  machinery that must read across companies.

A company-scoped unit of work names its company: ``db.transaction(company_id=...)``
sets ``saldo.company_id`` for that transaction only (``set_config(..., true)`` is
``SET LOCAL``), and the row-level security policies compare every row against it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

Connection = psycopg.AsyncConnection[Any]


class DatabaseUnavailable(Exception):
    """The database named by the settings cannot be reached."""


def redact(url: str) -> str:
    """The URL with any password replaced, fit for logs and error messages."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


#: The transaction-local settings that row-level security policies read.
COMPANY_SETTING = "saldo.company_id"
USER_SETTING = "saldo.user_id"


class Database:
    def __init__(
        self, url: str, *, min_size: int = 2, max_size: int = 20, role: str | None = None
    ) -> None:
        self.url = url
        self.role = role
        self._pool = AsyncConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            open=False,
            kwargs={"autocommit": False, "row_factory": dict_row},
            configure=self._assume_role if role else None,
            name=f"saldo-{role}" if role else "saldo",
        )

    async def _assume_role(self, conn: Connection) -> None:
        # Session-level (not LOCAL) and committed, so it outlives this transaction and
        # holds for every later use of the pooled connection.
        assert self.role is not None
        await conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(self.role)))
        await conn.commit()

    async def open(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - the pool's own timeout
        try:
            await self._pool.open(wait=True, timeout=timeout)
        except Exception as exc:  # psycopg_pool raises PoolTimeout with the cause logged
            await self._pool.close()
            raise DatabaseUnavailable(
                f"cannot connect to PostgreSQL at {redact(self.url)}: {exc}"
            ) from exc

    async def close(self) -> None:
        await self._pool.close()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        async with self._pool.connection() as conn:
            yield conn

    @asynccontextmanager
    async def transaction(
        self, *, company_id: UUID | None = None, user_id: UUID | None = None
    ) -> AsyncIterator[Connection]:
        """A connection inside one transaction: committed on success, rolled back on error.

        ``company_id`` scopes the transaction to one company for row-level security;
        ``user_id`` lets identity's policies show a user their own memberships. Both are
        transaction-local, so a pooled connection never carries them into the next use.
        """
        async with self._pool.connection() as conn, conn.transaction():
            if company_id is not None or user_id is not None:
                await conn.execute(
                    "SELECT set_config(%s, %s, true), set_config(%s, %s, true)",
                    (COMPANY_SETTING, str(company_id) if company_id else "",
                     USER_SETTING, str(user_id) if user_id else ""),
                )
            yield conn

    async def ping(self) -> bool:
        try:
            async with self._pool.connection(timeout=2.0) as conn:
                await conn.execute("SELECT 1")
                await conn.rollback()
            return True
        except Exception:
            return False


async def connect(url: str) -> Connection:
    """A single connection outside the pool (CLI commands, tests, benchmarks)."""
    try:
        return await psycopg.AsyncConnection.connect(url, row_factory=dict_row, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(
            f"cannot connect to PostgreSQL at {redact(url)}: {str(exc).strip()}"
        ) from exc
