"""Tax's read side, and the working-day calendar other contexts use (BRIEF-CONTEXTS:
payroll takes ``next_working_day`` and ``due_date`` from here)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from saldo.platform.db import Connection
from saldo.tax.domain import due_date, is_working_day, next_working_day

__all__ = ["alerts", "due_date", "filings", "is_working_day", "next_working_day"]


async def filings(conn: Connection, company_id: UUID, period: str) -> list[dict[str, Any]]:
    cursor = await conn.execute(
        "SELECT * FROM vat_filings WHERE company_id = %s AND period = %s ORDER BY filed_at",
        (company_id, period))
    return await cursor.fetchall()


async def alerts(conn: Connection, company_id: UUID) -> list[dict[str, Any]]:
    cursor = await conn.execute(
        "SELECT kind, on_day, taxable_turnover, register_by, recorded_at"
        "  FROM vat_registration_alerts WHERE company_id = %s ORDER BY on_day",
        (company_id,))
    return await cursor.fetchall()
