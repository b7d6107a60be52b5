"""``saldo payroll``: import a staff list, print the monthly income tax and profit tax
returns (as the API produces them)."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import typer

from saldo import bootstrap
from saldo.cli.common import (
    EXIT_FAILURE,
    _app_pool,
    _expected_failures,
    _fail,
    _run,
    _settings,
    _with_container,
    out,
)
from saldo.identity.service import Permission
from saldo.kernel.errors import SaldoError
from saldo.kernel.money import InvalidAmount, amount_text, parse_amount
from saldo.payroll import domain as d
from saldo.payroll.service import EmployeeInput, PayrollService

app = typer.Typer(help="Payroll: staff, income tax and profit tax returns.",
                  no_args_is_help=True)

COLUMNS = ("personal_number", "full_name", "start_date", "gross_salary", "pension_enrolled",
           "resident", "iban")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="payroll")


def _flag(text: str, default: bool) -> bool:
    if not text.strip():
        return default
    if text.strip().lower() in ("true", "yes", "1"):
        return True
    if text.strip().lower() in ("false", "no", "0"):
        return False
    raise ValueError(f"{text!r} is not true or false")


def read_staff(text: str) -> tuple[list[EmployeeInput], list[str]]:
    """The staff CSV (header: personal_number, full_name, start_date, and optionally
    gross_salary, pension_enrolled, resident, iban): the employees, and a finding per bad
    row with its row number (the header is row 1)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in COLUMNS[:3] if c not in (reader.fieldnames or ())]
    if missing:
        return [], [f"row 1: missing column(s) {', '.join(missing)}"]
    rows, findings = [], []
    for number, raw in enumerate(reader, start=2):
        try:
            resident = _flag(raw.get("resident") or "", True)
            personal = d.check_personal_number((raw["personal_number"] or "").strip(),
                                               foreign=not resident)
            salary_text = (raw.get("gross_salary") or "").strip()
            rows.append(EmployeeInput(
                personal, (raw["full_name"] or "").strip(),
                date.fromisoformat((raw["start_date"] or "").strip()),
                _flag(raw.get("pension_enrolled") or "", True), resident, not resident,
                parse_amount(salary_text) if salary_text else None,
                (raw.get("iban") or "").strip() or None))
            if not rows[-1].full_name:
                raise ValueError("full_name is empty")
        except (SaldoError, ValueError, InvalidAmount) as exc:
            findings.append(f"row {number}: {getattr(exc, 'detail', exc)}")
    return rows, findings


@app.command("import-employees")
@_expected_failures
def import_employees(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The staff CSV."),
    company: UUID = typer.Option(..., "--company", help="The company's id."),
    user: str = typer.Option(..., "--user", help="A member whose role holds payroll:write."),
) -> None:
    """Register a staff list, all or nothing; bad rows are reported with their numbers."""
    rows, findings = read_staff(file.read_text(encoding="utf-8"))
    if findings:
        _fail("nothing imported:\n" + "\n".join(findings), EXIT_FAILURE)
    settings = _settings()

    async def work(container: bootstrap.Container) -> int:
        async with _app_pool(container):
            ctx = await container.identity.member_context(company, user,
                                                          Permission.PAYROLL_WRITE)
            payroll: PayrollService = container.services["payroll"]
            return len(await payroll.hire_many(ctx, rows))

    count = _run(_with_container(settings, work))
    out.print(f"imported {count} employees", highlight=False)


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return amount_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value


@app.command("return")
@_expected_failures
def tax_return(
    kind: str = typer.Argument(..., help="income-tax or profit-tax"),
    period: str = typer.Argument(..., help="The month, YYYY-MM."),
    company: UUID = typer.Option(..., "--company", help="The company's id."),
    user: str = typer.Option(..., "--user", help="A member whose role holds payroll:read."),
) -> None:
    """Print the month's income tax or profit tax return as JSON."""
    if kind not in ("income-tax", "profit-tax"):
        _fail(f"No return {kind!r}; returns: income-tax, profit-tax.", EXIT_FAILURE)
    d.parse_period(period)
    settings = _settings()

    async def work(container: bootstrap.Container) -> dict[str, Any]:
        async with _app_pool(container):
            ctx = await container.identity.member_context(company, user,
                                                          Permission.PAYROLL_READ)
            payroll: PayrollService = container.services["payroll"]
            if kind == "income-tax":
                return await payroll.income_tax_return(ctx.company_id, period)
            return await payroll.profit_tax_return(ctx.company_id, period)

    result = _run(_with_container(settings, work))
    sys.stdout.write(json.dumps(_json(result), ensure_ascii=False, indent=2) + "\n")
