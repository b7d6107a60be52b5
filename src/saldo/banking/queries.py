"""Banking's read side: bank accounts, statements, lines (with their suggestions), rules,
and the figures of the bank reconciliation. Other contexts may use these."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from saldo.platform.db import Connection

_ACCOUNT = ("id, iban, bank_code, currency, account_code, name, created_at")


async def bank_accounts(conn: Connection, company_id: UUID) -> list[dict[str, Any]]:
    cursor = await conn.execute(f"SELECT {_ACCOUNT} FROM bank_accounts WHERE company_id = %s"
                                " ORDER BY account_code", (company_id,))
    return list(await cursor.fetchall())


async def bank_account(conn: Connection, company_id: UUID, *, bank_account_id: UUID | None = None,
                       account_code: str | None = None, lock: bool = False
                       ) -> dict[str, Any] | None:
    """One bank account by id or by its ledger account; ``lock``: for the importing
    transaction (imports of one account are serialised)."""
    where = "id = %s" if bank_account_id is not None else "account_code = %s"
    cursor = await conn.execute(
        f"SELECT {_ACCOUNT} FROM bank_accounts WHERE company_id = %s AND {where}"
        + (" FOR UPDATE" if lock else ""),
        (company_id, bank_account_id if bank_account_id is not None else account_code))
    return await cursor.fetchone()


async def statements(conn: Connection, company_id: UUID,
                     bank_account_id: UUID | None = None) -> list[dict[str, Any]]:
    cursor = await conn.execute(
        "SELECT id, bank_account_id, format, filename, opening_balance, closing_balance,"
        " period_from, period_to, lines_imported, duplicates_skipped, findings, imported_at,"
        " imported_by FROM bank_statements WHERE company_id = %s"
        " AND (%s::uuid IS NULL OR bank_account_id = %s) ORDER BY imported_at DESC, id",
        (company_id, bank_account_id, bank_account_id))
    return list(await cursor.fetchall())


async def statement(conn: Connection, company_id: UUID,
                    statement_id: UUID) -> dict[str, Any] | None:
    cursor = await conn.execute(
        "SELECT id, bank_account_id, format, filename, opening_balance, closing_balance,"
        " period_from, period_to, lines_imported, duplicates_skipped, findings, imported_at,"
        " imported_by FROM bank_statements WHERE company_id = %s AND id = %s",
        (company_id, statement_id))
    return await cursor.fetchone()


async def last_closing_balance(conn: Connection, company_id: UUID,
                               bank_account_id: UUID) -> Decimal | None:
    """The closing balance of the account's latest statement (by its last line's date)."""
    cursor = await conn.execute(
        "SELECT closing_balance FROM bank_statements WHERE company_id = %s"
        " AND bank_account_id = %s AND period_to IS NOT NULL AND closing_balance IS NOT NULL"
        " ORDER BY period_to DESC, imported_at DESC LIMIT 1", (company_id, bank_account_id))
    row = await cursor.fetchone()
    return None if row is None else Decimal(row["closing_balance"])


LINE_COLUMNS = (
    "l.id, l.statement_id, l.bank_account_id, l.row_no, l.booking_date, l.value_date,"
    " l.amount, l.currency, l.bank_id, l.reference, l.description, l.counterparty_name,"
    " l.counterparty_iban, l.counterparty_tax_id, l.status, l.transaction_id,"
    " l.account_code, l.payment_id, l.rule_id, l.reconciled_at,"
    " coalesce(s.suggestions, '[]'::jsonb) AS suggestions")
#: ``l``: the lines; ``s``: their suggestions.
LINES = ("bank_lines AS l LEFT JOIN bank_line_suggestions AS s"
         " ON s.company_id = l.company_id AND s.line_id = l.id")


async def lines(conn: Connection, company_id: UUID, *, status: str | None = None,
                bank_account_id: UUID | None = None, statement_id: UUID | None = None,
                date_from: date | None = None, date_to: date | None = None,
                limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """Lines in booking order (date, then id); the first page of the unreconciled ones is
    one index range scan (``bank_lines_status``)."""
    clauses: list[str] = ["l.company_id = %s"]
    params: list[Any] = [company_id]
    for clause, value in (("l.status = %s", status),
                          ("l.bank_account_id = %s", bank_account_id),
                          ("l.statement_id = %s", statement_id),
                          ("l.booking_date >= %s", date_from),
                          ("l.booking_date <= %s", date_to)):
        if value is not None:
            clauses.append(clause)
            params.append(value)
    cursor = await conn.execute(
        f"SELECT {LINE_COLUMNS} FROM {LINES} WHERE {' AND '.join(clauses)}"
        " ORDER BY l.booking_date, l.row_no, l.id LIMIT %s OFFSET %s",
        (*params, limit, offset))
    return list(await cursor.fetchall())


async def line(conn: Connection, company_id: UUID, line_id: UUID, *,
               lock: bool = False) -> dict[str, Any] | None:
    cursor = await conn.execute(
        f"SELECT {LINE_COLUMNS} FROM {LINES} WHERE l.company_id = %s AND l.id = %s"
        + (" FOR UPDATE OF l" if lock else ""), (company_id, line_id))
    return await cursor.fetchone()


async def allocations(conn: Connection, company_id: UUID, line_id: UUID) -> list[dict[str, Any]]:
    cursor = await conn.execute("SELECT document_id, amount FROM bank_allocations"
                                " WHERE company_id = %s AND line_id = %s ORDER BY document_id",
                                (company_id, line_id))
    return list(await cursor.fetchall())


async def rules(conn: Connection, company_id: UUID) -> list[dict[str, Any]]:
    cursor = await conn.execute("SELECT id, contains, account_code, direction, created_at"
                                " FROM bank_rules WHERE company_id = %s"
                                " ORDER BY created_at, id", (company_id,))
    return list(await cursor.fetchall())


async def bank_figures(conn: Connection, company_id: UUID, bank_account_id: UUID,
                       as_of: date) -> dict[str, Decimal]:
    """The statement side of a reconciliation on ``as_of``: the first statement's opening
    balance, the lines booked up to that day, and those of them not reconciled."""
    cursor = await conn.execute(
        "SELECT opening_balance FROM bank_statements WHERE company_id = %s"
        " AND bank_account_id = %s AND period_from IS NOT NULL"
        " ORDER BY period_from, imported_at LIMIT 1", (company_id, bank_account_id))
    first = await cursor.fetchone()
    cursor = await conn.execute(
        "SELECT coalesce(sum(amount), 0) AS moved,"
        " coalesce(sum(amount) FILTER (WHERE status = 'unreconciled' AND amount > 0), 0)"
        "   AS unreconciled_in,"
        " coalesce(sum(amount) FILTER (WHERE status = 'unreconciled' AND amount < 0), 0)"
        "   AS unreconciled_out,"
        " coalesce(sum(amount) FILTER (WHERE status = 'reconciled'), 0) AS reconciled,"
        " count(*) FILTER (WHERE status = 'unreconciled') AS unreconciled_count"
        " FROM bank_lines WHERE company_id = %s AND bank_account_id = %s"
        " AND booking_date <= %s", (company_id, bank_account_id, as_of))
    row = await cursor.fetchone()
    assert row is not None
    opening = Decimal(first["opening_balance"]) if first and first["opening_balance"] is not None \
        else Decimal(0)
    return {"opening": opening, "moved": Decimal(row["moved"]),
            "unreconciled_in": Decimal(row["unreconciled_in"]),
            "unreconciled_out": Decimal(row["unreconciled_out"]),
            "reconciled": Decimal(row["reconciled"]),
            "unreconciled_count": Decimal(row["unreconciled_count"])}
