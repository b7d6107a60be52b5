"""Reads of payroll's read models (the API's and other contexts' way in), and of the
statutory rates in effect on a date."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg.rows import tuple_row

from saldo.platform.db import Connection

_EMPLOYEE = """
SELECT e.id, e.personal_number, e.full_name, e.pension_enrolled, e.resident, e.iban,
       e.start_date, e.end_date, e.version,
       (SELECT s.gross_salary FROM payroll_salaries s
         WHERE s.company_id = e.company_id AND s.employee_id = e.id
           AND s.effective_from <= %(on)s
         ORDER BY s.effective_from DESC LIMIT 1) AS gross_salary,
       coalesce((SELECT jsonb_agg(jsonb_build_object(
                        'effective_from', s.effective_from, 'gross_salary', s.gross_salary)
                        ORDER BY s.effective_from)
                   FROM payroll_salaries s
                  WHERE s.company_id = e.company_id AND s.employee_id = e.id), '[]')
           AS salary_history
  FROM payroll_employees e
 WHERE e.company_id = %(company)s
"""


async def employees(conn: Connection, company_id: UUID, on: date,
                    employee_id: UUID | None = None) -> list[dict[str, Any]]:
    """Employees with their salary in effect ``on`` and their whole salary history."""
    sql = _EMPLOYEE + (" AND e.id = %(id)s" if employee_id else "") + \
        " ORDER BY e.full_name, e.personal_number"
    cursor = await conn.execute(sql, {"company": company_id, "on": on, "id": employee_id})
    return list(await cursor.fetchall())


async def staff(conn: Connection, company_id: UUID) -> list[dict[str, Any]]:
    """Every employee's id, enrolment and employment dates (a run's defaults)."""
    cursor = await conn.execute(
        "SELECT id, pension_enrolled, start_date, end_date FROM payroll_employees"
        " WHERE company_id = %s", (company_id,))
    return list(await cursor.fetchall())


async def salary_history(conn: Connection,
                         company_id: UUID) -> list[tuple[UUID, date, Decimal]]:
    """(employee, effective from, monthly gross) of the company, by employee and date."""
    async with conn.cursor(row_factory=tuple_row) as cursor:
        await cursor.execute(
            "SELECT employee_id, effective_from, gross_salary FROM payroll_salaries"
            " WHERE company_id = %s ORDER BY employee_id, effective_from", (company_id,))
        return list(await cursor.fetchall())


async def employee(conn: Connection, company_id: UUID, employee_id: UUID,
                   on: date) -> dict[str, Any] | None:
    rows = await employees(conn, company_id, on, employee_id)
    return rows[0] if rows else None


async def runs(conn: Connection, company_id: UUID) -> list[dict[str, Any]]:
    cursor = await conn.execute(
        "SELECT id, period, payment_date, status, transaction_id, paid_on,"
        " payment_transaction_id, reversal_transaction_id, totals, created_at"
        " FROM payroll_runs WHERE company_id = %s ORDER BY period DESC, created_at DESC",
        (company_id,))
    return list(await cursor.fetchall())


async def run_lines(conn: Connection, company_id: UUID, run_id: UUID) -> list[dict[str, Any]]:
    cursor = await conn.execute(
        "SELECT l.employee_id, e.personal_number, e.full_name, e.iban, e.pension_enrolled,"
        " l.salary, l.bonus, l.other_earnings, l.gross, l.pension_employee, l.income_tax,"
        " l.net, l.pension_employer"
        " FROM payroll_run_lines l JOIN payroll_employees e"
        "   ON e.company_id = l.company_id AND e.id = l.employee_id"
        " WHERE l.company_id = %s AND l.run_id = %s ORDER BY e.full_name, e.personal_number",
        (company_id, run_id))
    return list(await cursor.fetchall())


async def live_run_of_period(conn: Connection, company_id: UUID, period: str) -> UUID | None:
    cursor = await conn.execute(
        "SELECT id FROM payroll_runs WHERE company_id = %s AND period = %s"
        " AND status IN ('draft', 'posted', 'paid')", (company_id, period))
    row = await cursor.fetchone()
    return row["id"] if row else None


# The return is by payment month (georgia.md §2: the declaration covers payments made in
# the month): a run counts in the month it was paid, or, until paid, the month of its
# planned payment date. Reversed and discarded runs never count, drafts neither.
_INCOME_TAX_ROWS = """
SELECT e.personal_number, e.full_name, 'salary' AS income_type,
       sum(l.gross) AS gross, sum(l.income_tax) AS income_tax,
       sum(l.pension_employee) AS pension_employee,
       sum(l.pension_employer) AS pension_employer
  FROM payroll_runs r
  JOIN payroll_run_lines l ON l.company_id = r.company_id AND l.run_id = r.id
  JOIN payroll_employees e ON e.company_id = l.company_id AND e.id = l.employee_id
 WHERE r.company_id = %(company)s AND r.status IN ('posted', 'paid')
   AND coalesce(r.paid_on, r.payment_date) BETWEEN %(first)s AND %(last)s
 GROUP BY e.personal_number, e.full_name
UNION ALL
SELECT w.payee_tax_id, w.payee_name, w.code, sum(w.gross), sum(w.withheld), 0, 0
  FROM payroll_withholdings w
 WHERE w.company_id = %(company)s AND w.date BETWEEN %(first)s AND %(last)s
 GROUP BY w.payee_tax_id, w.payee_name, w.code
 ORDER BY 3 DESC, 2, 1
"""


async def income_tax_rows(conn: Connection, company_id: UUID, first: date,
                          last: date) -> list[dict[str, Any]]:
    cursor = await conn.execute(_INCOME_TAX_ROWS, {"company": company_id, "first": first,
                                                   "last": last})
    return list(await cursor.fetchall())


async def dividends(conn: Connection, company_id: UUID, first: date,
                    last: date) -> list[dict[str, Any]]:
    cursor = await conn.execute(
        "SELECT id, date, amount, profit_tax, withholding_tax, shareholders, transaction_id"
        " FROM payroll_dividends WHERE company_id = %s AND date BETWEEN %s AND %s"
        " ORDER BY date, id", (company_id, first, last))
    return list(await cursor.fetchall())


async def dividend(conn: Connection, company_id: UUID,
                   dividend_id: UUID) -> dict[str, Any] | None:
    cursor = await conn.execute(
        "SELECT id, date, amount, profit_tax, withholding_tax, shareholders, transaction_id"
        " FROM payroll_dividends WHERE company_id = %s AND id = %s", (company_id, dividend_id))
    return await cursor.fetchone()


async def profit_tax_objects(conn: Connection, company_id: UUID, first: date,
                             last: date) -> list[dict[str, Any]]:
    cursor = await conn.execute(
        "SELECT id, date, category, amount, taxable, profit_tax, description, transaction_id"
        " FROM payroll_profit_tax_objects WHERE company_id = %s AND date BETWEEN %s AND %s"
        " ORDER BY date, id", (company_id, first, last))
    return list(await cursor.fetchall())


async def representation_before(conn: Connection, company_id: UUID, year: int,
                                before: date) -> Decimal:
    cursor = await conn.execute(
        "SELECT coalesce(sum(amount), 0) AS total FROM payroll_profit_tax_objects"
        " WHERE company_id = %s AND category = 'representation'"
        " AND date >= %s AND date < %s", (company_id, date(year, 1, 1), before))
    row = await cursor.fetchone()
    return Decimal(row["total"]) if row else Decimal(0)


async def withholdings(conn: Connection, company_id: UUID, first: date,
                       last: date) -> list[dict[str, Any]]:
    cursor = await conn.execute(
        "SELECT id, date, code, payee_tax_id, payee_name, resident, gross, withheld,"
        " transaction_id FROM payroll_withholdings"
        " WHERE company_id = %s AND date BETWEEN %s AND %s ORDER BY date, id",
        (company_id, first, last))
    return list(await cursor.fetchall())


async def withholding_of_bill(conn: Connection, company_id: UUID,
                              document_id: UUID) -> dict[str, Any] | None:
    """The tax withheld from a purchase bill (at most one per bill), if any."""
    cursor = await conn.execute(
        "SELECT id, date, code, gross, withheld, transaction_id FROM payroll_withholdings"
        " WHERE company_id = %s AND document_id = %s", (company_id, document_id))
    row: dict[str, Any] | None = await cursor.fetchone()
    return row


async def months_with_returns(conn: Connection, company_id: UUID,
                              year: int) -> dict[str, set[str]]:
    """The months of ``year`` with an income tax or profit tax return to file:
    ``{"income_tax": {"2026-03", ...}, "profit_tax": {...}}`` (the tax calendar's hook)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    params = {"company": company_id, "first": first, "last": last}
    cursor = await conn.execute(
        "SELECT DISTINCT to_char(coalesce(paid_on, payment_date), 'YYYY-MM') AS period"
        " FROM payroll_runs WHERE company_id = %(company)s AND status IN ('posted', 'paid')"
        " AND coalesce(paid_on, payment_date) BETWEEN %(first)s AND %(last)s"
        " UNION SELECT DISTINCT to_char(date, 'YYYY-MM') FROM payroll_withholdings"
        " WHERE company_id = %(company)s AND date BETWEEN %(first)s AND %(last)s"
        " UNION SELECT DISTINCT to_char(date, 'YYYY-MM') FROM payroll_dividends"
        " WHERE company_id = %(company)s AND date BETWEEN %(first)s AND %(last)s"
        " AND withholding_tax > 0", params)
    income = {r["period"] for r in await cursor.fetchall()}
    cursor = await conn.execute(
        "SELECT DISTINCT to_char(date, 'YYYY-MM') AS period FROM payroll_dividends"
        " WHERE company_id = %(company)s AND date BETWEEN %(first)s AND %(last)s"
        " UNION SELECT DISTINCT to_char(date, 'YYYY-MM') FROM payroll_profit_tax_objects"
        " WHERE company_id = %(company)s AND date BETWEEN %(first)s AND %(last)s"
        " AND taxable > 0", params)
    return {"income_tax": income, "profit_tax": {r["period"] for r in await cursor.fetchall()}}


# ---------------------------------------------------------------------- rates


async def rates_in_effect(conn: Connection, on: date) -> dict[str, Decimal]:
    """Every statutory rate in effect on ``on`` (the latest ``valid_from`` ≤ ``on``)."""
    cursor = await conn.execute(
        "SELECT DISTINCT ON (name) name, rate FROM payroll_rates WHERE valid_from <= %s"
        " ORDER BY name, valid_from DESC", (on,))
    return {r["name"]: Decimal(r["rate"]) for r in await cursor.fetchall()}


async def rates(conn: Connection) -> list[dict[str, Any]]:
    cursor = await conn.execute(
        "SELECT name, valid_from, rate, source FROM payroll_rates ORDER BY name, valid_from")
    return list(await cursor.fetchall())
