"""Connection pool and transaction helpers (psycopg 3, async).

Every unit of work runs in one transaction obtained from :func:`Database.transaction`.
Driver errors are translated into Saldo's errors at the store boundary, not here.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

Connection = psycopg.AsyncConnection[Any]


class DatabaseUnavailable(Exception):
    """The database named by the settings cannot be reached."""


def redact(url: str) -> str:
    """The URL with any password replaced, fit for logs and error messages."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


class Database:
    def __init__(self, url: str, *, min_size: int = 2, max_size: int = 20) -> None:
        self.url = url
        self._pool = AsyncConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            open=False,
            kwargs={"autocommit": False, "row_factory": dict_row},
            name="saldo",
        )

    async def open(self, timeout: float = 10.0) -> None:
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
    async def transaction(self) -> AsyncIterator[Connection]:
        """A connection inside one transaction: committed on success, rolled back on error."""
        async with self._pool.connection() as conn, conn.transaction():
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
