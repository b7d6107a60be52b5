"""Schema migrations: applied in order, once, under a lock; status tells applied from pending."""

from __future__ import annotations

from collections.abc import AsyncIterator

import psycopg
import pytest
from psycopg.rows import dict_row

from saldo import bootstrap
from saldo.platform.db import Connection
from saldo.platform.migrations import Migration, MigrationError, discover, pending, status, upgrade

pytestmark = pytest.mark.integration


@pytest.fixture
async def empty_conn(scratch_database_url: str) -> AsyncIterator[Connection]:
    """A connection to a brand-new, unmigrated database."""
    conn = await psycopg.AsyncConnection.connect(scratch_database_url, row_factory=dict_row)
    yield conn
    await conn.close()


async def test_upgrade_applies_everything_once_then_nothing(empty_conn: Connection) -> None:
    known = bootstrap.migrations()
    assert [m.version for m in await pending(empty_conn, known)] == [m.version for m in known]

    applied = await upgrade(empty_conn, known)
    assert [m.version for m in applied] == [m.version for m in known]
    assert await pending(empty_conn, known) == []
    assert await upgrade(empty_conn, known) == []

    states = await status(empty_conn, known)
    assert all(s.applied and s.checksum_matches for s in states)


async def test_a_changed_file_is_reported_not_rerun(empty_conn: Connection) -> None:
    known = bootstrap.migrations()
    await upgrade(empty_conn, known)
    edited = [Migration(m.version, m.name, m.package, m.sql + "\n-- edited") for m in known]
    states = await status(empty_conn, edited)
    assert [s.checksum_matches for s in states] == [False] * len(known)
    assert await upgrade(empty_conn, edited) == []


async def test_a_failing_migration_is_named_and_leaves_nothing(empty_conn: Connection) -> None:
    known = bootstrap.migrations()
    broken = Migration(9999, "broken", "tests", "CREATE TABLE half_done (id int); SELECT 1/0;")
    with pytest.raises(MigrationError, match="9999_broken"):
        await upgrade(empty_conn, [*known, broken])
    # The whole run is one transaction: nothing of it remains, not even earlier files.
    cursor = await empty_conn.execute(
        "SELECT to_regclass('half_done') AS t, to_regclass('events') AS e"
    )
    row = await cursor.fetchone()
    assert row == {"t": None, "e": None}


def test_duplicate_versions_across_packages_are_refused() -> None:
    with pytest.raises(MigrationError, match="used twice"):
        discover(["saldo.platform", "saldo.platform"])
