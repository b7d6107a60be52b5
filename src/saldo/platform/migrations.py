"""Versioned schema migrations.

Each context ships plain SQL files named ``NNNN_what_it_does.sql`` in its own
``migrations`` folder; versions are unique across all folders and applied in order, in one
transaction (a savepoint per file) under an advisory lock, so two starting processes
cannot race and a failing file leaves the schema exactly as it was.
An applied file whose text later changed is reported, never silently re-run.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

from saldo.platform.db import Connection

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
#: Arbitrary but fixed: the advisory lock key that serialises migration runs.
_LOCK_KEY = 0x5A1D0_0001


class MigrationError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    package: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class MigrationState:
    migration: Migration
    applied_at: datetime | None
    checksum_matches: bool

    @property
    def applied(self) -> bool:
        return self.applied_at is not None


def discover(packages: Iterable[str]) -> list[Migration]:
    """All migrations of the given packages (each's ``migrations`` folder), in order."""
    found: dict[int, Migration] = {}
    for package in packages:
        folder = resources.files(package).joinpath("migrations")
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            match = _FILE.match(entry.name)
            if not match:
                continue
            version = int(match.group(1))
            migration = Migration(version, match.group(2), package, entry.read_text("utf-8"))
            if version in found:
                other = found[version]
                raise MigrationError(
                    f"migration version {version:04d} is used twice: "
                    f"{other.package}/{other.name} and {package}/{migration.name}"
                )
            found[version] = migration
    return [found[v] for v in sorted(found)]


_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    package     text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""


async def _applied(conn: Connection) -> dict[int, dict[str, Any]]:
    exists = await (await conn.execute("SELECT to_regclass('schema_migrations') AS t")).fetchone()
    if not exists or exists["t"] is None:
        return {}
    cursor = await conn.execute("SELECT version, checksum, applied_at FROM schema_migrations")
    rows = await cursor.fetchall()
    return {row["version"]: row for row in rows}


async def status(conn: Connection, migrations: list[Migration]) -> list[MigrationState]:
    applied = await _applied(conn)
    await conn.rollback()
    return [
        MigrationState(
            m,
            applied[m.version]["applied_at"] if m.version in applied else None,
            m.version not in applied or applied[m.version]["checksum"] == m.checksum,
        )
        for m in migrations
    ]


async def pending(conn: Connection, migrations: list[Migration]) -> list[Migration]:
    return [s.migration for s in await status(conn, migrations) if not s.applied]


async def upgrade(conn: Connection, migrations: list[Migration]) -> list[Migration]:
    """Apply every pending migration, all or none. Returns those applied."""
    done: list[Migration] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        await conn.execute(_BOOKKEEPING)
        applied = await _applied(conn)
        for migration in migrations:
            if migration.version in applied:
                continue
            # A savepoint per file: a failing file is named and leaves nothing behind.
            try:
                async with conn.transaction():
                    await conn.execute(migration.sql.encode())
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name, package, checksum)"
                        " VALUES (%s, %s, %s, %s)",
                        (migration.version, migration.name, migration.package, migration.checksum),
                    )
            except Exception as exc:
                raise MigrationError(
                    f"migration {migration.version:04d}_{migration.name} ({migration.package}) "
                    f"failed: {exc}"
                ) from exc
            done.append(migration)
    return done
