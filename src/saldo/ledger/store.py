"""The ledger's write-side SQL: what commands read and lock before they decide.

Lock order, the same in every command that posts (so posters never deadlock):
the period's advisory gate (shared), the period row (``FOR SHARE``), then the number
counter, then the appended rows and the read models the inline projection updates
(turnover rows in account/day order).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from saldo.ledger.domain import Account, PeriodStatus, PostingTarget
from saldo.platform.db import Connection


async def posting_targets(conn: Connection, company_id: UUID,
                          codes: Iterable[str]) -> dict[str, PostingTarget]:
    cursor = await conn.execute(_POSTING_TARGETS, (company_id, sorted(set(codes))))
    return {r["code"]: PostingTarget(r["code"], r["postable"], r["active"])
            for r in await cursor.fetchall()}


async def account(conn: Connection, company_id: UUID, code: str) -> Account | None:
    cursor = await conn.execute(
        "SELECT code, name, name_ka, type, normal_balance, classification, parent_code,"
        "       postable, active, custom, cash_flow FROM accounts"
        " WHERE company_id = %s AND code = %s",
        (company_id, code),
    )
    row = await cursor.fetchone()
    return Account.from_data(row) if row else None


async def has_children(conn: Connection, company_id: UUID, code: str) -> bool:
    cursor = await conn.execute(
        "SELECT EXISTS (SELECT 1 FROM accounts WHERE company_id = %s AND parent_code = %s) AS x",
        (company_id, code))
    row = await cursor.fetchone()
    return bool(row and row["x"])


async def has_postings(conn: Connection, company_id: UUID, code: str) -> bool:
    cursor = await conn.execute(
        "SELECT EXISTS (SELECT 1 FROM account_turnover"
        "                WHERE company_id = %s AND account_code = %s) AS x",
        (company_id, code))
    row = await cursor.fetchone()
    return bool(row and row["x"])


async def has_open_drafts(conn: Connection, company_id: UUID, code: str) -> bool:
    cursor = await conn.execute(
        "SELECT EXISTS (SELECT 1 FROM journal_transactions WHERE company_id = %s"
        "  AND status IN ('draft', 'approved') AND account_codes @> ARRAY[%s]::text[]) AS x",
        (company_id, code))
    row = await cursor.fetchone()
    return bool(row and row["x"])


async def year_is_open(conn: Connection, company_id: UUID, fiscal_year: int) -> bool:
    cursor = await conn.execute(
        "SELECT EXISTS (SELECT 1 FROM fiscal_periods"
        "                WHERE company_id = %s AND fiscal_year = %s) AS x",
        (company_id, fiscal_year))
    row = await cursor.fetchone()
    return bool(row and row["x"])


# Row locks alone would let a stream of postings starve a close: a FOR SHARE locker joins
# the row's current share lockers without queueing behind the close's waiting UPDATE, so
# the close only got in once postings into the month stopped. A transaction-level
# advisory lock per (company, period) queues fairly: postings take it shared, the close
# takes it exclusively before it decides, and postings that arrive after the close has
# asked for it wait behind it (then read the closed status). Taken before the row lock.
def _gate_key(period_sql: str) -> str:
    """The advisory-lock key of a company's period (``%(gate)s`` is the company id)."""
    return f"hashtext(%(gate)s), hashtext('ledger.period:' || {period_sql})"


async def lock_period_for_change(conn: Connection, company_id: UUID, period: str) -> None:
    """Wait for the postings into ``period`` in flight, and hold new ones back until
    commit: what closing, reopening or locking the period takes first."""
    await conn.execute(f"SELECT pg_advisory_xact_lock({_gate_key('%(period)s')})",
                       {"gate": str(company_id), "period": period})


# The gates (shared, in period order) and the rows in one statement. The statement's
# snapshot may predate a close that commits while it waits at a gate, but FOR SHARE then
# re-reads the newest version of the row (READ COMMITTED), so the status returned is the
# one after the close.
_LOCK_PERIODS = f"""
SELECT p.period, p.status
  FROM (SELECT count(pg_advisory_xact_lock_shared({_gate_key('x')}))
          FROM (SELECT x FROM unnest(%(periods)s::text[]) AS x ORDER BY x) AS sorted) AS gate,
       fiscal_periods p
 WHERE p.company_id = %(company)s AND p.period = ANY(%(periods)s)
 ORDER BY p.period
   FOR SHARE OF p
"""


async def lock_periods(conn: Connection, company_id: UUID,
                       periods: Iterable[str]) -> dict[str, PeriodStatus]:
    """The periods' statuses, behind their gates (shared) and share-locked until commit.

    A close takes its period's gate exclusively: it waits for the postings in flight, and
    a posting that comes after it reads the closed status. So no posting lands in a period
    after its close committed. A period missing from the answer: its year is not opened.
    """
    cursor = await conn.execute(_LOCK_PERIODS, {"gate": str(company_id),
                                                "periods": sorted(set(periods)),
                                                "company": company_id})
    return {r["period"]: PeriodStatus(r["status"]) for r in await cursor.fetchall()}


async def lock_period(conn: Connection, company_id: UUID, period: str) -> PeriodStatus | None:
    return (await lock_periods(conn, company_id, [period])).get(period)



async def next_numbers(conn: Connection, company_id: UUID, fiscal_year: int,
                       count: int = 1) -> int:
    """Reserve ``count`` consecutive numbers; returns the first. The counter row stays
    locked until commit, and a rollback gives the numbers back (gap-free)."""
    cursor = await conn.execute(_NEXT_NUMBERS, (company_id, fiscal_year, count))
    row = await cursor.fetchone()
    assert row is not None
    return int(row["last_number"]) - count + 1


_POSTING_TARGETS = ("SELECT code, postable, active FROM accounts"
                    " WHERE company_id = %s AND code = ANY(%s)")
_NEXT_NUMBERS = ("INSERT INTO transaction_numbers AS t (company_id, fiscal_year, last_number)"
                 " VALUES (%s, %s, %s)"
                 " ON CONFLICT (company_id, fiscal_year)"
                 " DO UPDATE SET last_number = t.last_number + excluded.last_number"
                 " RETURNING last_number")


async def gate_posting(conn: Connection, company_id: UUID, codes: Iterable[str], period: str,
                       fiscal_year: int) -> tuple[dict[str, PostingTarget],
                                                  PeriodStatus | None, int]:
    """What one posting asks before it records, in one round trip (a pipeline): the
    accounts' posting targets, the period's status behind its gate (shared, share-locked
    until commit: :func:`lock_periods`) and the next number of ``fiscal_year`` (the
    counter row locked until commit: :func:`next_numbers`).

    The three statements run in this order, the lock order above. The number is reserved
    before the caller has looked at the answers: if an account or the period refuses the
    posting, the caller raises and the rollback gives the number back (gap-free), as it
    does for any failure after :func:`next_numbers`. One round trip instead of three
    while other posters of the year queue behind the counter (docs/performance.md).
    """
    async with conn.pipeline():
        targets = await conn.execute(_POSTING_TARGETS, (company_id, sorted(set(codes))))
        periods = await conn.execute(_LOCK_PERIODS, {"gate": str(company_id),
                                                     "periods": [period],
                                                     "company": company_id})
        numbers = await conn.execute(_NEXT_NUMBERS, (company_id, fiscal_year, 1))
    found = {r["code"]: PostingTarget(r["code"], r["postable"], r["active"])
             for r in await targets.fetchall()}
    status = next((PeriodStatus(r["status"]) for r in await periods.fetchall()), None)
    row = await numbers.fetchone()
    assert row is not None
    return found, status, int(row["last_number"])


async def ensure_partitions(conn: Connection, first: date, last: date) -> None:
    """Monthly journal partitions from ``first`` to ``last`` (created if missing)."""
    await conn.execute("SELECT ledger_ensure_partitions(%s, %s)", (first, last))


async def claim_idempotency_key(conn: Connection, company_id: UUID, key: str,
                                fingerprint: str, transaction_id: UUID
                                ) -> tuple[str, UUID] | None:
    """Record ``key`` for a new transaction; if the key is taken, the earlier request's
    (fingerprint, transaction id). A concurrent request with the same key waits here for
    the first one's commit, then sees its row."""
    cursor = await conn.execute(
        "INSERT INTO idempotency_keys (company_id, key, fingerprint, transaction_id)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING key",
        (company_id, key, fingerprint, transaction_id))
    if await cursor.fetchone():
        return None
    cursor = await conn.execute(
        "SELECT fingerprint, transaction_id FROM idempotency_keys"
        " WHERE company_id = %s AND key = %s", (company_id, key))
    row = await cursor.fetchone()
    assert row is not None
    return row["fingerprint"], row["transaction_id"]


async def chart(conn: Connection, company_id: UUID) -> dict[str, PostingTarget]:
    cursor = await conn.execute(
        "SELECT code, postable, active FROM accounts WHERE company_id = %s", (company_id,))
    return {r["code"]: PostingTarget(r["code"], r["postable"], r["active"])
            for r in await cursor.fetchall()}



async def income_statement_balances(conn: Connection, company_id: UUID,
                                    as_of: date) -> dict[str, Any]:
    """``debit − credit`` of every revenue and expense account up to ``as_of`` (closing
    transactions included: a closed year's accounts are back at zero)."""
    cursor = await conn.execute(
        "SELECT t.account_code, sum(t.debit_base - t.credit_base) AS balance"
        "  FROM account_turnover t"
        "  JOIN accounts a ON a.company_id = t.company_id AND a.code = t.account_code"
        " WHERE t.company_id = %s AND t.day <= %s AND a.type IN ('revenue', 'expense')"
        " GROUP BY t.account_code HAVING sum(t.debit_base - t.credit_base) <> 0",
        (company_id, as_of))
    return {r["account_code"]: r["balance"] for r in await cursor.fetchall()}



async def years_with_status(conn: Connection, company_id: UUID, status: str) -> list[int]:
    cursor = await conn.execute(
        "SELECT fiscal_year FROM fiscal_years WHERE company_id = %s AND status = %s"
        " ORDER BY fiscal_year", (company_id, status))
    return [r["fiscal_year"] for r in await cursor.fetchall()]



async def claim_idempotency_keys(conn: Connection, company_id: UUID,
                                 claims: Sequence[tuple[str, str, UUID]]
                                 ) -> dict[str, tuple[str, UUID]]:
    """Record each (key, fingerprint, new transaction id); returns the keys that were
    taken already, with the earlier request's (fingerprint, transaction id). A key a
    concurrent batch is claiming waits for that batch's commit, then counts as taken."""
    if not claims:
        return {}
    keys = [k for k, _, _ in claims]
    cursor = await conn.execute(
        "INSERT INTO idempotency_keys (company_id, key, fingerprint, transaction_id)"
        " SELECT %s, k, f, t FROM unnest(%s::text[], %s::text[], %s::uuid[]) AS u(k, f, t)"
        " ON CONFLICT DO NOTHING RETURNING key",
        (company_id, keys, [f for _, f, _ in claims], [t for _, _, t in claims]))
    fresh = {r["key"] for r in await cursor.fetchall()}
    taken = [k for k in keys if k not in fresh]
    if not taken:
        return {}
    cursor = await conn.execute(
        "SELECT key, fingerprint, transaction_id FROM idempotency_keys"
        " WHERE company_id = %s AND key = ANY(%s)", (company_id, taken))
    return {r["key"]: (r["fingerprint"], r["transaction_id"]) for r in await cursor.fetchall()}
