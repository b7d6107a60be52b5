"""Payroll's read models, updated inline in the appending transaction.

One projection, ``payroll``, keeps employees and their salary history, runs and their
lines, dividends, profit-tax objects and other withholding. A run's lines arrive in one
event and go in with one statement (``jsonb_to_recordset``), which is what keeps a run of
10,000 employees fast (bench/payroll.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from saldo.payroll import domain as d
from saldo.platform.db import Connection
from saldo.platform.eventstore import RecordedEvent

READ_MODELS = ("payroll_employees", "payroll_salaries", "payroll_runs", "payroll_run_lines",
               "payroll_dividends", "payroll_profit_tax_objects", "payroll_withholdings")

_TYPES = {c.type: c for c in (*d.EMPLOYEE_EVENTS, *d.RUN_EVENTS, *d.OTHER_EVENTS)}

_INSERT_LINES = """
INSERT INTO payroll_run_lines (company_id, run_id, employee_id, salary, bonus,
    other_earnings, gross, pension_employee, income_tax, net, pension_employer)
SELECT %s, %s, l.employee_id, l.salary, l.bonus, l.other_earnings, l.gross,
       l.pension_employee, l.income_tax, l.net, l.pension_employer
  FROM jsonb_to_recordset(%s::jsonb) AS l(employee_id uuid, salary numeric, bonus numeric,
       other_earnings numeric, gross numeric, pension_employee numeric, income_tax numeric,
       net numeric, pension_employer numeric)
"""


class PayrollProjection:
    name = "payroll"
    #: The streams it reads (the event store hands it no others).
    stream_types = ("payroll.",)

    async def reset(self, conn: Connection) -> None:
        for table in READ_MODELS:
            await conn.execute(f"DELETE FROM {table}")

    async def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        for recorded in events:
            kind = _TYPES.get(recorded.type)
            if kind is None or not recorded.stream_type.startswith("payroll."):
                continue
            await self._apply(conn, recorded, kind.from_data(recorded.data))

    async def _apply(self, conn: Connection, r: RecordedEvent, e: Any) -> None:
        company = r.company_id
        match e:
            case d.EmployeeHired():
                await conn.execute(
                    "INSERT INTO payroll_employees (company_id, id, personal_number, full_name,"
                    " pension_enrolled, resident, iban, start_date, version)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (company, e.employee_id, e.personal_number, e.full_name,
                     e.pension_enrolled, e.resident, e.iban, e.start_date, r.version))
                if e.gross_salary is not None:
                    await conn.execute(
                        "INSERT INTO payroll_salaries (company_id, employee_id, effective_from,"
                        " gross_salary) VALUES (%s, %s, %s, %s)",
                        (company, e.employee_id, e.start_date, e.gross_salary))
            case d.SalaryChanged():
                await conn.execute(
                    "INSERT INTO payroll_salaries (company_id, employee_id, effective_from,"
                    " gross_salary) VALUES (%s, %s, %s, %s) ON CONFLICT (company_id,"
                    " employee_id, effective_from) DO UPDATE SET gross_salary ="
                    " excluded.gross_salary",
                    (company, e.employee_id, e.effective_from, e.gross_salary))
                await self._version(conn, company, e.employee_id, r.version)
            case d.EmployeeDetailsChanged():
                await conn.execute(
                    "UPDATE payroll_employees SET full_name = %s, pension_enrolled = %s,"
                    " resident = %s, iban = %s, version = %s WHERE company_id = %s AND id = %s",
                    (e.full_name, e.pension_enrolled, e.resident, e.iban, r.version, company,
                     e.employee_id))
            case d.EmployeeLeft():
                await conn.execute(
                    "UPDATE payroll_employees SET end_date = %s, version = %s"
                    " WHERE company_id = %s AND id = %s",
                    (e.end_date, r.version, company, e.employee_id))
            case d.PayrollRunDrafted():
                sums = e.totals or {k: str(v) for k, v in d.totals(
                    [d.PayLine.from_data(x) for x in e.lines]).items()}
                await conn.execute(
                    "INSERT INTO payroll_runs (company_id, id, period, payment_date, status,"
                    " totals, version, created_at) VALUES (%s, %s, %s, %s, 'draft', %s, %s, %s)",
                    (company, e.run_id, e.period, e.payment_date, orjson.dumps(sums).decode(),
                     r.version, r.recorded_at))
                await conn.execute(_INSERT_LINES, (company, e.run_id,
                                                   orjson.dumps(e.lines).decode()))
            case d.PayrollRunPosted():
                await self._run(conn, company, e.run_id, r.version, status=d.POSTED,
                                transaction_id=e.transaction_id)
            case d.PayrollRunPaid():
                await self._run(conn, company, e.run_id, r.version, status=d.PAID,
                                paid_on=e.paid_on, payment_transaction_id=e.transaction_id)
            case d.PayrollRunReversed():
                await self._run(conn, company, e.run_id, r.version, status=d.REVERSED,
                                reversal_transaction_id=e.reversal_transaction_id)
            case d.PayrollRunDiscarded():
                await self._run(conn, company, e.run_id, r.version, status=d.DISCARDED)
            case d.DividendDeclared():
                await conn.execute(
                    "INSERT INTO payroll_dividends (company_id, id, date, amount, profit_tax,"
                    " withholding_tax, shareholders, transaction_id)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (company, e.dividend_id, e.date, e.amount, e.profit_tax, e.withholding_tax,
                     orjson.dumps(e.shareholders).decode(), e.transaction_id))
            case d.ProfitTaxObjectRecorded():
                await conn.execute(
                    "INSERT INTO payroll_profit_tax_objects (company_id, id, date, category,"
                    " amount, taxable, profit_tax, description, transaction_id,"
                    " tagged_transaction_id, tagged_account_code)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (company, e.object_id, e.date, e.category, e.amount, e.taxable,
                     e.profit_tax, e.description, e.transaction_id, e.tagged_transaction_id,
                     e.tagged_account_code))
            case d.WithholdingRecorded():
                await conn.execute(
                    "INSERT INTO payroll_withholdings (company_id, id, date, code,"
                    " payee_tax_id, payee_name, resident, gross, withheld, transaction_id,"
                    " document_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (company, e.withholding_id, e.date, e.code, e.payee_tax_id, e.payee_name,
                     e.resident, e.gross, e.withheld, e.transaction_id, e.document_id))

    @staticmethod
    async def _version(conn: Connection, company: Any, employee_id: Any, version: int) -> None:
        await conn.execute("UPDATE payroll_employees SET version = %s"
                           " WHERE company_id = %s AND id = %s", (version, company, employee_id))

    @staticmethod
    async def _run(conn: Connection, company: Any, run_id: Any, version: int,
                   **columns: Any) -> None:
        sets = ", ".join(f"{k} = %({k})s" for k in columns)
        await conn.execute(
            f"UPDATE payroll_runs SET {sets}, version = %(version)s"
            " WHERE company_id = %(company)s AND id = %(id)s",
            {**columns, "version": version, "company": company, "id": run_id})
