"""The ledger's tables under row-level security, checked with raw SQL through the
application role's pool (what a query that forgot its ``WHERE`` would see)."""

from __future__ import annotations

import psycopg
import pytest
from ledger_harness import Harness

pytestmark = pytest.mark.integration

LEDGER_TABLES = ("accounts", "fiscal_years", "fiscal_periods", "transaction_numbers",
                 "journal_transactions", "journal_lines", "account_turnover")


async def test_a_company_sees_only_its_own_books(h: Harness) -> None:
    mine = await h.books("Mine LLC")
    theirs = await h.other_books("b")
    await mine.post([("1110", "10.00", ""), ("5150", "", "10.00")])
    await theirs.post([("1110", "20.00", ""), ("5150", "", "20.00")])
    app = h.container.app_db
    for table in LEDGER_TABLES:
        async with app.transaction(company_id=mine.company_id) as conn:
            cursor = await conn.execute(f"SELECT DISTINCT company_id FROM {table}")
            assert {r["company_id"] for r in await cursor.fetchall()} == {mine.company_id}
        async with app.transaction() as conn:  # no company set: nothing at all
            cursor = await conn.execute(f"SELECT count(*) AS n FROM {table}")
            assert (await cursor.fetchone()) == {"n": 0}, table


async def test_journal_partitions_are_reached_only_through_the_parent(h: Harness) -> None:
    books = await h.books()
    await books.post([("1110", "10.00", ""), ("5150", "", "10.00")], day="2026-03-15")
    async with h.container.app_db.transaction(company_id=books.company_id) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            await conn.execute("SELECT * FROM journal_lines_2026_03")
