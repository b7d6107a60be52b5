"""Payroll's use cases: load, decide, append -- each in one unit of work, posting through
the ledger's port (``LedgerService.post_journal``) so a document and its journal
transaction commit together or not at all (docs/decisions/0014)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from saldo.billing import queries as billing_queries
from saldo.billing.service import AllocationInput, BillingService, Direction, PaymentDraft
from saldo.identity.service import CompanyContext
from saldo.kernel.events import Actor, DomainEvent
from saldo.kernel.ids import new_id
from saldo.kernel.money import round_half_up
from saldo.ledger import queries as ledger_queries
from saldo.ledger.service import JournalDraft, LedgerService, LineDraft, SourceRef
from saldo.payroll import domain as d
from saldo.payroll import queries, render
from saldo.platform.db import Connection
from saldo.platform.eventstore import NO_STREAM, NewEvent, StreamAppend
from saldo.platform.uow import UnitOfWork, UnitsOfWork, as_new_event
from saldo.tax.queries import due_date, next_working_day

EMPLOYEE_STREAM = "payroll.employee"
RUN_STREAM = "payroll.run"
DIVIDEND_STREAM = "payroll.dividend"
PROFIT_TAX_OBJECT_STREAM = "payroll.profit-tax-object"
WITHHOLDING_STREAM = "payroll.withholding"

_RUN_TYPES = {c.type: c for c in d.RUN_EVENTS}

#: What other contexts (the web's forms) offer: salaries are paid from this account unless
#: another is named, and tax is withheld from a payee by one of these kinds of income.
DEFAULT_BANK_ACCOUNT = d.DEFAULT_BANK
WITHHOLDING_CODES = d.WITHHOLDING_CODES


def _actor(ctx: CompanyContext) -> Actor:
    return Actor(ctx.user.id, ctx.user.username)


async def _lock(conn: Connection, *keys: object) -> None:
    """A transaction-scoped advisory lock on ``keys`` (one employee per personal number,
    one run per period): the loser of a race waits, then sees the winner's row."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 7))",
                       ("payroll:" + ":".join(str(k) for k in keys),))


@dataclass(frozen=True, slots=True)
class EmployeeInput:
    personal_number: str
    full_name: str
    start_date: date
    pension_enrolled: bool = True
    resident: bool = True
    foreign: bool = False
    gross_salary: Decimal | None = None
    iban: str | None = None


@dataclass(frozen=True, slots=True)
class LineInput:
    employee_id: UUID
    gross: Decimal | None = None
    bonus: Decimal = d.ZERO
    other_earnings: Decimal = d.ZERO


@dataclass(frozen=True, slots=True)
class ShareholderInput:
    name: str
    kind: str
    resident: bool
    share: Decimal
    tax_id: str | None = None


class PayrollService:
    def __init__(self, units: UnitsOfWork, ledger: LedgerService,
                 billing: BillingService | None = None,
                 today: Callable[[], date] = date.today) -> None:
        self.units, self.ledger, self.billing, self.today = units, ledger, billing, today
        self.db = units.db

    # ------------------------------------------------------------------ helpers

    async def _check_open(self, conn: Connection, company_id: UUID, day: date,
                          what: str) -> None:
        status = await ledger_queries.period_status(conn, company_id, day)
        if status != "open":
            raise d.PaymentPeriodClosed(
                f"The {what} {day} is in period {d.period_of(day)}, which is {status}.",
                period=d.period_of(day), status=status)

    async def _post(self, uow: UnitOfWork, day: date, description: str, source: SourceRef,
                    lines: Sequence[tuple[str, Decimal, Decimal, str]],
                    reference: str | None = None) -> UUID:
        drafted = [LineDraft(code, debit or None, credit or None, description=text)
                   for code, debit, credit, text in lines]
        posted = await self.ledger.post_journal(uow, JournalDraft(
            day, description, drafted, source, reference=reference))
        return posted.id

    # ------------------------------------------------------------------ employees

    async def hire(self, ctx: CompanyContext, data: EmployeeInput) -> UUID:
        number = d.check_personal_number(data.personal_number.strip(),
                                         foreign=data.foreign or not data.resident)
        name = data.full_name.strip()
        if not name:
            raise d.InvalidEmployee("An employee needs a name.", field="full_name")
        iban = d.check_iban(data.iban) if data.iban else None
        d.check_date(data.start_date, "start_date")
        salary = data.gross_salary
        if salary is not None and (salary < 0 or salary > d.MAX_AMOUNT
                                   or salary != round_half_up(salary)):
            raise d.NegativeGross(f"The gross salary {salary} must be zero or positive with "
                                  "at most two decimals.", field="gross_salary")
        actor = _actor(ctx)

        async def decide(uow: UnitOfWork) -> UUID:
            await _lock(uow.conn, ctx.company_id, "employees")
            cursor = await uow.conn.execute(
                "SELECT id FROM payroll_employees WHERE company_id = %s AND personal_number = %s",
                (ctx.company_id, number))
            if (found := await cursor.fetchone()) is not None:
                raise d.EmployeeExists(f"An employee with personal number {number} exists "
                                       "already.", personal_number=number,
                                       employee_id=str(found["id"]))
            employee_id = new_id()
            await uow.append(f"{EMPLOYEE_STREAM}-{employee_id}", EMPLOYEE_STREAM, NO_STREAM,
                             [d.EmployeeHired(employee_id, number, name, data.pension_enrolled,
                                              data.resident, iban, data.start_date, salary,
                                              actor.username)])
            return employee_id

        return await self.units.run(ctx.company_id, actor, decide)

    async def hire_many(self, ctx: CompanyContext, rows: Sequence[EmployeeInput]
                        ) -> list[UUID]:
        """Register many employees at once, all or nothing (an import of the staff list):
        the same checks as :meth:`hire`, one transaction, one round trip for the events."""
        checked = []
        for row in rows:
            number = d.check_personal_number(row.personal_number.strip(),
                                             foreign=row.foreign or not row.resident)
            salary = row.gross_salary
            if salary is not None and (salary < 0 or salary > d.MAX_AMOUNT
                                       or salary != round_half_up(salary)):
                raise d.NegativeGross(f"The gross salary {salary} of {number} must be zero "
                                      "or positive with two decimals.", field="gross_salary")
            d.check_date(row.start_date, "start_date")
            checked.append((number, row, d.check_iban(row.iban) if row.iban else None))
        numbers = [c[0] for c in checked]
        if len(set(numbers)) != len(numbers):
            twice = sorted({n for n in numbers if numbers.count(n) > 1})
            raise d.EmployeeExists(f"Personal number {twice[0]} appears twice.",
                                   personal_number=twice[0])
        actor = _actor(ctx)

        async def decide(uow: UnitOfWork) -> list[UUID]:
            await _lock(uow.conn, ctx.company_id, "employees")
            cursor = await uow.conn.execute(
                "SELECT personal_number FROM payroll_employees WHERE company_id = %s"
                " AND personal_number = ANY(%s)", (ctx.company_id, numbers))
            if (found := await cursor.fetchone()) is not None:
                raise d.EmployeeExists(f"An employee with personal number "
                                       f"{found['personal_number']} exists already.",
                                       personal_number=found["personal_number"])
            ids = [new_id() for _ in checked]
            await uow.append_many([StreamAppend(
                f"{EMPLOYEE_STREAM}-{eid}", EMPLOYEE_STREAM, NO_STREAM,
                [as_new_event(d.EmployeeHired(eid, number, row.full_name.strip(),
                                              row.pension_enrolled, row.resident, iban,
                                              row.start_date, row.gross_salary,
                                              actor.username))], uow.metadata)
                for eid, (number, row, iban) in zip(ids, checked, strict=True)])
            return ids

        return await self.units.run(ctx.company_id, actor, decide)

    async def _employee_change(self, ctx: CompanyContext, employee_id: UUID,
                               make: Callable[[dict[str, Any]], Sequence[DomainEvent]]) -> None:
        async def decide(uow: UnitOfWork) -> None:
            row = await queries.employee(uow.conn, ctx.company_id, employee_id, date.max)
            if row is None:
                raise d.EmployeeNotFound("No such employee.", employee_id=str(employee_id))
            stream = f"{EMPLOYEE_STREAM}-{employee_id}"
            await uow.append(stream, EMPLOYEE_STREAM, await uow.version(stream), make(row))

        await self.units.run(ctx.company_id, _actor(ctx), decide)

    async def change_salary(self, ctx: CompanyContext, employee_id: UUID,
                            effective_from: date, gross: Decimal) -> None:
        d.check_date(effective_from, "effective_from")
        if gross < 0 or gross > d.MAX_AMOUNT or gross != round_half_up(gross):
            raise d.NegativeGross(f"The gross salary {gross} must be zero or positive with at "
                                  "most two decimals.", field="gross_salary")

        def make(row: dict[str, Any]) -> list[DomainEvent]:
            if effective_from < row["start_date"]:
                raise d.InvalidEmployee(f"The salary cannot take effect before the start "
                                        f"date {row['start_date']}.", field="effective_from")
            return [d.SalaryChanged(employee_id, effective_from, gross, ctx.user.username)]

        await self._employee_change(ctx, employee_id, make)

    async def change_employee(self, ctx: CompanyContext, employee_id: UUID,
                              changes: dict[str, Any]) -> None:
        def make(row: dict[str, Any]) -> list[DomainEvent]:
            events: list[DomainEvent] = []
            details = {k: changes.get(k, row[k]) for k in ("full_name", "pension_enrolled",
                                                           "resident", "iban")}
            if details["iban"]:
                details["iban"] = d.check_iban(details["iban"])
            if not str(details["full_name"]).strip():
                raise d.InvalidEmployee("An employee needs a name.", field="full_name")
            if any(details[k] != row[k] for k in details):
                events.append(d.EmployeeDetailsChanged(
                    employee_id, str(details["full_name"]).strip(),
                    bool(details["pension_enrolled"]), bool(details["resident"]),
                    details["iban"], ctx.user.username))
            if "end_date" in changes and changes["end_date"] != row["end_date"]:
                end = changes["end_date"]
                if end is not None:
                    d.check_date(end, "end_date")
                if end is not None and end < row["start_date"]:
                    raise d.InvalidEmployee("The end date is before the start date.",
                                            field="end_date")
                events.append(d.EmployeeLeft(employee_id, end, ctx.user.username))
            return events

        await self._employee_change(ctx, employee_id, make)

    # ------------------------------------------------------------------ runs

    async def _rates(self, conn: Connection, on: date) -> dict[str, Decimal]:
        return await queries.rates_in_effect(conn, on)

    async def _load_run(self, uow: UnitOfWork, run_id: UUID) -> d.PayrollRun:
        events = await uow.read(f"{RUN_STREAM}-{run_id}")
        run = d.PayrollRun.replay(run_id, [_RUN_TYPES[e.type].from_data(e.data)
                                           for e in events if e.type in _RUN_TYPES])
        if run is None:
            raise d.RunNotFound("No such payroll run.", run_id=str(run_id))
        return run

    async def _save_run(self, uow: UnitOfWork, run: d.PayrollRun) -> None:
        pending, run.pending = run.pending, []
        await uow.append(f"{RUN_STREAM}-{run.id}", RUN_STREAM, run.version - len(pending),
                         [_stored(e) for e in pending])

    async def compute_lines(self, conn: Connection, company_id: UUID, first: date,
                            rates: d.Rates, given: Sequence[LineInput] | None
                            ) -> list[d.PayLine]:
        """The run's lines: ``given`` ones, or each active employee's salary for the month
        (pro rata for a start, an end or a salary change within it)."""
        rows = {r["id"]: r for r in await queries.staff(conn, company_id)}
        history: dict[UUID, list[tuple[date, Decimal]]] = {eid: [] for eid in rows}
        for eid, effective, gross in await queries.salary_history(conn, company_id):
            history[eid].append((effective, gross))
        employment = {eid: d.SalaryPeriod(r["start_date"], r["end_date"],
                                          tuple(history[eid]))
                      for eid, r in rows.items()}
        lines: list[d.PayLine] = []
        if given is None:
            for eid, r in rows.items():
                job = employment[eid]
                if not job.history or not d.employed_in(job, first):
                    continue
                lines.append(d.pay_line(eid, d.prorated_salary(job, first), d.ZERO, d.ZERO,
                                        r["pension_enrolled"], rates))
            return lines
        for item in given:
            found = rows.get(item.employee_id)
            if found is None:
                raise d.InvalidRun(f"Employee {item.employee_id} is not an employee of the "
                                   "company.", employee_id=str(item.employee_id))
            salary = (item.gross if item.gross is not None
                      else d.prorated_salary(employment[item.employee_id], first))
            lines.append(d.pay_line(item.employee_id, salary, item.bonus, item.other_earnings,
                                    found["pension_enrolled"], rates))
        return lines

    async def create_run(self, ctx: CompanyContext, period: str, payment_date: date,
                         given: Sequence[LineInput] | None) -> d.PayrollRun:
        first = d.parse_period(period)
        d.check_date(payment_date, "payment_date")
        for item in given or ():
            for name, amount in (("gross", item.gross), ("bonus", item.bonus),
                                 ("other_earnings", item.other_earnings)):
                if amount is not None and amount < 0:
                    raise d.NegativeGross(f"The {name.replace('_', ' ')} of employee "
                                          f"{item.employee_id} is negative ({amount}).",
                                          employee_id=str(item.employee_id), field=name)
        actor = _actor(ctx)

        async def decide(uow: UnitOfWork) -> d.PayrollRun:
            conn = uow.conn
            await _lock(conn, ctx.company_id, "run", period)
            existing = await queries.live_run_of_period(conn, ctx.company_id, period)
            if existing is not None:
                raise d.RunExists(f"Period {period} has a payroll run already ({existing}); "
                                  "reverse or discard it first.", period=period,
                                  run_id=str(existing))
            await self._check_open(conn, ctx.company_id, accrual_date(first, payment_date),
                                   "accrual date")
            await self._check_open(conn, ctx.company_id, payment_date, "payment date")
            rates = d.Rates.of(await self._rates(conn, payment_date), payment_date)
            lines = await self.compute_lines(conn, ctx.company_id, first, rates, given)
            run = d.PayrollRun.draft(new_id(), period, payment_date, lines, rates,
                                     actor.username)
            await self._save_run(uow, run)
            return run

        return await self.units.run(ctx.company_id, actor, decide)

    async def post_run(self, ctx: CompanyContext, run_id: UUID) -> d.PayrollRun:
        actor = _actor(ctx)

        async def decide(uow: UnitOfWork) -> d.PayrollRun:
            run = await self._load_run(uow, run_id)
            if run.status != d.DRAFT:
                run.post(run_id, actor.username)  # raises the state conflict
            first = d.parse_period(run.period)
            tx = await self._post(uow, accrual_date(first, run.payment_date),
                                  f"Payroll {run.period}", SourceRef("payroll_run", run.id),
                                  d.accrual_lines(run.totals), reference=f"PAYROLL-{run.period}")
            run.post(tx, actor.username)
            await self._save_run(uow, run)
            return run

        return await self.units.run(ctx.company_id, actor, decide)

    async def pay_run(self, ctx: CompanyContext, run_id: UUID, paid_on: date | None,
                      bank_account_code: str) -> d.PayrollRun:
        actor = _actor(ctx)

        async def decide(uow: UnitOfWork) -> d.PayrollRun:
            run = await self._load_run(uow, run_id)
            run.check_payable()
            day = d.check_date(paid_on or run.payment_date, "date")
            tx = await self._post(uow, day, f"Payroll {run.period} paid",
                                  SourceRef("payroll_run", run.id),
                                  d.payment_lines(run.totals, bank_account_code),
                                  reference=f"PAYROLL-{run.period}")
            run.pay(day, bank_account_code, tx, actor.username)
            await self._save_run(uow, run)
            return run

        return await self.units.run(ctx.company_id, actor, decide)

    async def reverse_run(self, ctx: CompanyContext, run_id: UUID, reason: str) -> d.PayrollRun:
        actor = _actor(ctx)
        reason = reason.strip()
        if not reason:  # the reversal's journal transaction says why it was made
            raise d.InvalidRun("A reversal needs a reason.", field="reason")

        async def decide(uow: UnitOfWork) -> d.PayrollRun:
            run = await self._load_run(uow, run_id)
            run.check_reversible()
            assert run.transaction_id is not None
            reversal = await self.ledger.reverse_journal(uow, run.transaction_id,
                                                         reason or "Payroll run reversed")
            run.reverse(reversal.id, reason, actor.username)
            await self._save_run(uow, run)
            return run

        return await self.units.run(ctx.company_id, actor, decide)

    async def discard_run(self, ctx: CompanyContext, run_id: UUID) -> None:
        actor = _actor(ctx)

        async def decide(uow: UnitOfWork) -> None:
            run = await self._load_run(uow, run_id)
            run.discard(actor.username)
            await self._save_run(uow, run)

        await self.units.run(ctx.company_id, actor, decide)

    async def run(self, company_id: UUID, run_id: UUID) -> tuple[dict[str, Any],
                                                                 list[dict[str, Any]]]:
        async with self.db.transaction(company_id=company_id) as conn:
            found = [r for r in await queries.runs(conn, company_id) if r["id"] == run_id]
            if not found:
                raise d.RunNotFound("No such payroll run.", run_id=str(run_id))
            return found[0], await queries.run_lines(conn, company_id, run_id)

    async def bank_file(self, company_id: UUID, run_id: UUID) -> tuple[bytes, str]:
        """The run's salary transfers as a CSV for a bank's bulk upload, and its file name;
        a run is paid from the books only once posted."""
        row, lines = await self.run(company_id, run_id)
        if row["status"] not in (d.POSTED, d.PAID):
            raise d.InvalidState(f"The payroll run is {row['status']}; post it first.",
                                 status=row["status"])
        return render.bank_csv(lines, row["period"]), f"salaries-{row['period']}.csv"

    async def payslip(self, company_id: UUID, run_id: UUID, employee_id: UUID,
                      lang: str) -> tuple[bytes, str]:
        """An employee's payslip of the run as a PDF in ``lang`` (``ka`` or ``en``), and
        its file name."""
        row, lines = await self.run(company_id, run_id)
        line = next((x for x in lines if x["employee_id"] == employee_id), None)
        if line is None:
            raise d.EmployeeNotFound("The employee has no line in this run.",
                                     employee_id=str(employee_id))
        company = await self.ledger.company(company_id)
        body = render.payslip_pdf({"name": company.name, "tax_id": company.tax_id}, row,
                                  line, lang)
        return body, f"payslip-{row['period']}-{line['personal_number']}-{lang}.pdf"

    async def pension_due(self, paid_on: date) -> date:
        """When the pension contributions of salaries paid on ``paid_on`` are due: the
        dated setting ``pension_remittance_working_days`` working days later (0: the same
        day). The timing is UNCONFIRMED (georgia.md §2: "alongside the payroll run" or
        "within 5 working days"), hence a setting, not a constant."""
        async with self.db.transaction() as conn:
            rates = await queries.rates_in_effect(conn, paid_on)
        day = next_working_day(paid_on)
        for _ in range(int(rates.get("pension_remittance_working_days", 0))):
            day = next_working_day(day + timedelta(days=1))
        return day if rates.get("pension_remittance_working_days") else paid_on

    # ------------------------------------------------------------------ returns

    async def income_tax_return(self, company_id: UUID, period: str) -> dict[str, Any]:
        """The monthly withholding (income tax) declaration: a row per person paid in the
        month (georgia.md §2: declared by the 15th of the month after payment)."""
        first = d.parse_period(period)
        last = d.period_end(first)
        async with self.db.transaction(company_id=company_id) as conn:
            rows = await queries.income_tax_rows(conn, company_id, first, last)
            dividends = await queries.dividends(conn, company_id, first, last)
        out_rows = [{
            "personal_number": r["personal_number"], "full_name": r["full_name"],
            "income_type": r["income_type"], "gross": Decimal(r["gross"]),
            "income_tax": Decimal(r["income_tax"]),
            "pension_employee": Decimal(r["pension_employee"]),
            "pension_employer": Decimal(r["pension_employer"])} for r in rows]
        dividend_rows = [
            {"date": x["date"], "name": s["name"], "tax_id": s.get("tax_id"),
             "kind": s["kind"], "resident": s["resident"], "gross": Decimal(s["amount"]),
             "withholding_tax": Decimal(s["withholding"])}
            for x in dividends for s in x["shareholders"] if Decimal(s["withholding"])]
        salary_rows = [r for r in out_rows if r["income_type"] == "salary"]
        return {
            "period": period, "due_date": due_date("income_tax", period), "rows": out_rows,
            "total_gross": sum((r["gross"] for r in out_rows), d.ZERO),
            "total_income_tax": sum((r["income_tax"] for r in out_rows), d.ZERO),
            "total_pension_employee": sum((r["pension_employee"] for r in salary_rows), d.ZERO),
            "total_pension_employer": sum((r["pension_employer"] for r in salary_rows), d.ZERO),
            "dividend_withholding": dividend_rows,
            "total_dividend_withholding": sum((r["withholding_tax"] for r in dividend_rows),
                                              d.ZERO),
        }

    async def pension_report(self, company_id: UUID, period: str) -> dict[str, Any]:
        """The pension contributions report: per enrolled person, 2% + 2% for the month's
        payments (Law on Funded Pensions; georgia.md §2)."""
        ret = await self.income_tax_return(company_id, period)
        rows = [{"personal_number": r["personal_number"], "full_name": r["full_name"],
                 "gross": r["gross"], "pension_employee": r["pension_employee"],
                 "pension_employer": r["pension_employer"],
                 "total": r["pension_employee"] + r["pension_employer"]}
                for r in ret["rows"] if r["income_type"] == "salary"
                and (r["pension_employee"] or r["pension_employer"])]
        return {"period": period, "rows": rows,
                "total_pension_employee": ret["total_pension_employee"],
                "total_pension_employer": ret["total_pension_employer"],
                "total": ret["total_pension_employee"] + ret["total_pension_employer"]}

    # ------------------------------------------------------------------ dividends

    async def _distributable(self, conn: Connection, company_id: UUID, day: date) -> Decimal:
        """Retained earnings (the 53xx accounts) plus the current profit not yet closed
        into them (revenue less expenses), posted up to ``day``: what a dividend may take."""
        types = {a["code"]: a["type"] for a in await ledger_queries.accounts(conn, company_id)}
        balances = await ledger_queries.balances_before(conn, company_id,
                                                        day + timedelta(days=1))
        total = sum((b for code, b in balances.items()
                     if code.startswith("53") or types.get(code) in ("revenue", "expense")),
                    d.ZERO)
        return -total

    async def declare_dividend(self, ctx: CompanyContext, day: date, amount: Decimal,
                               shareholders: Sequence[ShareholderInput]) -> dict[str, Any]:
        d.check_date(day, "date")
        actor = _actor(ctx)

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            conn = uow.conn
            rates = await self._rates(conn, day)
            for name in ("profit_tax", "dividend_withholding"):
                if name not in rates:
                    raise d.RateMissing(f"No {name} rate in effect on {day}.", rates=[name])
            figures = d.dividend(amount, [
                d.Shareholder(s.name, s.tax_id, s.kind, s.resident, s.share)
                for s in shareholders], rates["profit_tax"], rates["dividend_withholding"])
            await self._check_open(conn, ctx.company_id, day, "dividend date")
            available = await self._distributable(conn, ctx.company_id, day)
            if amount > available:
                raise d.ProfitNotSufficient(
                    f"A dividend of {amount} exceeds the retained and current profit of "
                    f"{d.ZERO + available} on {day}.", amount=str(amount),
                    available=str(available))
            dividend_id = new_id()
            # Dr 5310 / Cr 3420 net, Cr 3322 withheld; Dr 9210 / Cr 3310 profit tax
            # (georgia.md §5.4; the tax on a distribution is an expense, IAS 12.57A).
            lines = [
                (d.RETAINED_EARNINGS, amount, d.ZERO, "Dividend declared"),
                (d.DIVIDENDS_PAYABLE, d.ZERO, amount - figures.withholding_tax,
                 "Dividends payable (net of withholding)"),
                (d.WITHHOLDING_PAYABLE, d.ZERO, figures.withholding_tax,
                 "Dividend withholding tax 5%"),
                (d.PROFIT_TAX_EXPENSE, figures.profit_tax, d.ZERO,
                 "Profit tax on distributed profit"),
                (d.PROFIT_TAX_PAYABLE, d.ZERO, figures.profit_tax, "Profit tax payable"),
            ]
            tx = await self._post(uow, day, "Dividend declared", SourceRef("dividend",
                                                                          dividend_id),
                                  [x for x in lines if x[1] or x[2]])
            await uow.append(f"{DIVIDEND_STREAM}-{dividend_id}", DIVIDEND_STREAM, NO_STREAM, [
                d.DividendDeclared(dividend_id, day, amount, figures.profit_tax,
                                   figures.withholding_tax,
                                   [s.as_data() for s in figures.shareholders], tx,
                                   actor.username)])
            return {"id": dividend_id, "transaction_id": tx, "date": day, "amount": amount,
                    "profit_tax": figures.profit_tax,
                    "withholding_tax": figures.withholding_tax,
                    "shareholders": [s.as_data() for s in figures.shareholders]}

        return await self.units.run(ctx.company_id, actor, decide)

    # ------------------------------------------------------------------ profit-tax objects

    async def _previous_year(self, conn: Connection, company_id: UUID,
                             year: int) -> tuple[Decimal, Decimal]:
        """The previous calendar year's income and expenses (year-end closing excluded)."""
        types = {a["code"]: a["type"] for a in await ledger_queries.accounts(conn, company_id)}
        rows = await ledger_queries.turnover_by_account(conn, company_id, date(year - 1, 1, 1),
                                                        date(year - 1, 12, 31))
        income = expenses = d.ZERO
        for r in rows:
            debit = Decimal(r["debit"]) - Decimal(r["year_end_debit"])
            credit = Decimal(r["credit"]) - Decimal(r["year_end_credit"])
            if types.get(r["account_code"]) == "revenue":
                income += credit - debit
            elif types.get(r["account_code"]) == "expense":
                expenses += debit - credit
        return income, expenses

    async def record_profit_tax_object(self, ctx: CompanyContext, day: date | None,
                                       category: str, amount: Decimal | None,
                                       description: str,
                                       tagged: tuple[UUID, str | None] | None = None
                                       ) -> dict[str, Any]:
        """Tag an expense as a profit-tax object (Tax Code Art. 98²; georgia.md §3) and book
        its profit tax: taxable / 0.85 × 15%. Representation expenses count only above
        the year's cap (1% of the previous year's income or expenses, the higher).

        The expense is either entered (``day`` and ``amount``) or an expense already in the
        books (``tagged``: a posted journal transaction and one of its accounts, or all its
        expense accounts), whose date and net debit it takes."""
        if category not in d.PROFIT_TAX_CATEGORIES:
            raise d.InvalidProfitTaxObject(
                f"Category {category!r} is not one of {', '.join(d.PROFIT_TAX_CATEGORIES)}.",
                field="category")
        if tagged is None:
            if day is None or amount is None:
                raise d.InvalidProfitTaxObject("Give date and amount, or the transaction_id "
                                               "of an expense in the books.", field="amount")
            d.check_date(day, "date")
            if amount <= 0 or amount > d.MAX_AMOUNT or amount != round_half_up(amount):
                raise d.InvalidProfitTaxObject(f"The amount {amount} must be positive with "
                                               "at most two decimals.", field="amount")
        actor = _actor(ctx)

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            conn = uow.conn
            on, value = day, amount
            if tagged is not None:
                on, value = await self._tagged_expense(conn, ctx.company_id, *tagged)
            assert on is not None
            assert value is not None
            rates = await self._rates(conn, on)
            for name in ("profit_tax", "representation_cap"):
                if name not in rates:
                    raise d.RateMissing(f"No {name} rate in effect on {on}.", rates=[name])
            taxable = value
            if category == "representation":
                await _lock(conn, ctx.company_id, "representation", on.year)
                income, expenses = await self._previous_year(conn, ctx.company_id, on.year)
                cap = d.representation_cap(income, expenses, rates["representation_cap"])
                before = await queries.representation_before(conn, ctx.company_id, on.year,
                                                             on + timedelta(days=1))
                taxable = d.representation_excess(before, value, cap)
            tax = d.profit_tax(taxable, rates["profit_tax"])
            object_id = new_id()
            tx = None
            if tax:
                await self._check_open(conn, ctx.company_id, on, "date")
                tx = await self._post(uow, on, f"Profit tax on {category.replace('_', ' ')}"
                                      f" expenses: {description}"[:500],
                                      SourceRef("profit_tax_object", object_id), [
                                          (d.PROFIT_TAX_EXPENSE, tax, d.ZERO, "Profit tax"),
                                          (d.PROFIT_TAX_PAYABLE, d.ZERO, tax,
                                           "Profit tax payable")])
            await uow.append(f"{PROFIT_TAX_OBJECT_STREAM}-{object_id}",
                             PROFIT_TAX_OBJECT_STREAM, NO_STREAM, [
                                 d.ProfitTaxObjectRecorded(
                                     object_id, on, category, value, taxable, tax, description,
                                     tx, actor.username,
                                     tagged[0] if tagged else None,
                                     (tagged[1] or "*") if tagged else None)])
            return {"id": object_id, "date": on, "category": category, "amount": value,
                    "taxable": taxable, "profit_tax": tax, "transaction_id": tx,
                    "description": description,
                    "tagged_transaction_id": tagged[0] if tagged else None}

        return await self.units.run(ctx.company_id, actor, decide)

    async def _tagged_expense(self, conn: Connection, company_id: UUID, transaction_id: UUID,
                              account_code: str | None) -> tuple[date, Decimal]:
        """The date and net debit (base currency) of a posted transaction's expense lines:
        of ``account_code``, or of every expense account when None."""
        row = await ledger_queries.transaction(conn, company_id, transaction_id)
        if row is None:
            raise d.TaggedTransactionNotFound("No such transaction.",
                                              transaction_id=str(transaction_id))
        if row["status"] != "posted" or row["reversed_by"] is not None:
            raise d.InvalidState("Only a posted, unreversed transaction's expenses are "
                                 "tagged.", status=row["status"])
        types = {a["code"]: a["type"] for a in await ledger_queries.accounts(conn, company_id)}
        lines = [e for e in row["entries"]
                 if (e["account_code"] == account_code if account_code
                     else types.get(e["account_code"]) == "expense")]
        if account_code and types.get(account_code) != "expense":
            raise d.InvalidProfitTaxObject(f"Account {account_code} is not an expense "
                                           "account.", field="account_code")
        value = sum((Decimal(str(e["debit_base"])) - Decimal(str(e["credit_base"]))
                     for e in lines), d.ZERO)
        if value <= 0:
            raise d.InvalidProfitTaxObject("The transaction has no expense to tag there.",
                                           field="account_code")
        # Tagged once: the same account, or the whole transaction ('*') either way.
        cursor = await conn.execute(
            "SELECT 1 FROM payroll_profit_tax_objects WHERE company_id = %(c)s"
            " AND tagged_transaction_id = %(t)s AND (tagged_account_code = %(a)s"
            " OR tagged_account_code = '*' OR %(a)s = '*')",
            {"c": company_id, "t": transaction_id, "a": account_code or "*"})
        if await cursor.fetchone() is not None:
            raise d.InvalidState("That expense is tagged already.", status="tagged")
        return row["date"], value

    async def profit_tax_return(self, company_id: UUID, period: str) -> dict[str, Any]:
        """The monthly profit tax return (Estonian model, Tax Code Art. 98¹): the month's
        distributed profit and taxable expenses, grossed up by /0.85, taxed at 15%. The tax
        is computed on the month's total, rounded once (docs/payroll-and-profit-tax.md)."""
        first = d.parse_period(period)
        last = d.period_end(first)
        async with self.db.transaction(company_id=company_id) as conn:
            dividends = await queries.dividends(conn, company_id, first, last)
            objects = await queries.profit_tax_objects(conn, company_id, first, last)
            rates = await self._rates(conn, last)
        rate = rates.get("profit_tax", Decimal("0.15"))
        distributed = sum((Decimal(x["amount"]) for x in dividends), d.ZERO)
        by_category = {c: sum((Decimal(o["taxable"]) for o in objects if o["category"] == c),
                              d.ZERO) for c in d.PROFIT_TAX_CATEGORIES}
        non_business = sum(by_category.values(), d.ZERO)
        base = distributed + non_business
        return {"period": period, "due_date": due_date("profit_tax", period),
                "distributed_profit": distributed, "non_business_expenses": non_business,
                "expenses_by_category": by_category,
                "gross_up_base": round_half_up(d.gross_up(base, rate)),
                "profit_tax": d.profit_tax(base, rate),
                "profit_tax_booked": sum((Decimal(x["profit_tax"]) for x in dividends), d.ZERO)
                + sum((Decimal(o["profit_tax"]) for o in objects), d.ZERO)}

    # ------------------------------------------------------------------ other withholding

    async def record_withholding(self, ctx: CompanyContext, day: date, code: str,
                                 payee_tax_id: str, payee_name: str, resident: bool,
                                 gross: Decimal, expense_account_code: str,
                                 payable_account_code: str) -> dict[str, Any]:
        """A payment to a person or a non-resident with tax withheld at source (georgia.md
        §2: services of individuals 20%, non-resident services 10%, rent to individuals
        5%, interest and royalties 5%): Dr expense gross / Cr payable net, Cr 3322."""
        d.check_date(day, "date")
        if code not in d.WITHHOLDING_CODES:
            raise d.InvalidWithholding(f"Code {code!r} is not one of "
                                       f"{', '.join(d.WITHHOLDING_CODES)}.", field="code")
        if gross <= 0 or gross > d.MAX_AMOUNT or gross != round_half_up(gross):
            raise d.InvalidWithholding(f"The gross {gross} must be positive with at most two "
                                       "decimals.", field="gross")
        if not payee_name.strip():
            raise d.InvalidWithholding("The payee needs a name.", field="payee_name")
        actor = _actor(ctx)

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            rates = await self._rates(uow.conn, day)
            if code not in rates:
                raise d.RateMissing(f"No {code} rate in effect on {day}.", rates=[code])
            withheld = round_half_up(gross * rates[code])
            await self._check_open(uow.conn, ctx.company_id, day, "date")
            withholding_id = new_id()
            tx = await self._post(uow, day, f"{payee_name.strip()}: {code.replace('_', ' ')}",
                                  SourceRef("withholding", withholding_id), [
                                      (expense_account_code, gross, d.ZERO, payee_name.strip()),
                                      (payable_account_code, d.ZERO, gross - withheld,
                                       "Payable net of withholding"),
                                      (d.WITHHOLDING_PAYABLE, d.ZERO, withheld,
                                       f"Withholding {code.replace('_', ' ')}")])
            await uow.append(f"{WITHHOLDING_STREAM}-{withholding_id}", WITHHOLDING_STREAM,
                             NO_STREAM, [d.WithholdingRecorded(
                                 withholding_id, day, code, payee_tax_id, payee_name.strip(),
                                 resident, gross, withheld, tx, actor.username)])
            return {"id": withholding_id, "date": day, "code": code, "gross": gross,
                    "withheld": withheld, "net": gross - withheld, "transaction_id": tx}

        return await self.units.run(ctx.company_id, actor, decide)

    async def withhold_on_bill(self, ctx: CompanyContext, bill_id: UUID, code: str,
                               day: date | None) -> dict[str, Any]:
        """Withhold tax from a posted purchase bill of a person or a non-resident
        (georgia.md §2): the withheld part of the bill is settled to 3322 instead of the
        supplier, through billing's payment port (Dr 3110 for the bill / Cr 3322), so the
        bill's amount due drops to the net, and the row lands in the month's income tax
        return. Base: the bill's total. One withholding per bill."""
        if code not in d.WITHHOLDING_CODES:
            raise d.InvalidWithholding(f"Code {code!r} is not one of "
                                       f"{', '.join(d.WITHHOLDING_CODES)}.", field="code")
        if self.billing is None:
            raise d.InvalidWithholding("Purchase bills are not available.", field="bill")
        billing = self.billing
        actor = _actor(ctx)

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            conn = uow.conn
            bill = await billing_queries.document(conn, ctx.company_id, bill_id)
            if bill is None or bill["kind"] != "purchase_bill":
                raise d.BillNotFound("No such purchase bill.", bill_id=str(bill_id))
            if bill["transaction_id"] is None:
                raise d.InvalidState("The bill is not posted yet.", status=bill["status"])
            if bill["currency"].strip() != "GEL":
                raise d.InvalidWithholding("Withholding on a foreign-currency bill is not "
                                           "supported; record it with POST /withholdings.",
                                           field="bill")
            cursor = await conn.execute(
                "SELECT id FROM payroll_withholdings WHERE company_id = %s"
                " AND document_id = %s", (ctx.company_id, bill_id))
            if await cursor.fetchone() is not None:
                raise d.InvalidState(f"Tax was withheld from bill {bill['number']} already.",
                                     status="withheld")
            on = d.check_date(day or bill["date"], "date")
            rates = await self._rates(conn, on)
            if code not in rates:
                raise d.RateMissing(f"No {code} rate in effect on {on}.", rates=[code])
            base = Decimal(bill["total"])
            withheld = round_half_up(base * rates[code])
            due = Decimal(bill["total"]) - Decimal(bill["settled"])
            if withheld > due:
                raise d.InvalidWithholding(f"The tax to withhold ({withheld}) exceeds what is "
                                           f"left to pay on the bill ({due}).", field="bill")
            supplier = await billing_queries.counterparty(conn, ctx.company_id,
                                                          bill["counterparty_id"])
            assert supplier is not None
            paid = await billing.pay(uow, PaymentDraft(
                bill["counterparty_id"], on, Direction.OUT, withheld,
                [AllocationInput(bill_id, withheld)], account_code=d.WITHHOLDING_PAYABLE,
                reference=f"WHT {bill['number']}"))
            withholding_id = new_id()
            await uow.append(f"{WITHHOLDING_STREAM}-{withholding_id}", WITHHOLDING_STREAM,
                             NO_STREAM, [d.WithholdingRecorded(
                                 withholding_id, on, code, supplier["tax_id"] or "",
                                 supplier["name"], supplier["resident"], base, withheld,
                                 paid.transaction_id, actor.username, bill_id)])
            return {"id": withholding_id, "date": on, "code": code, "gross": base,
                    "withheld": withheld, "net": base - withheld,
                    "transaction_id": paid.transaction_id}

        return await self.units.run(ctx.company_id, actor, decide)

    # ------------------------------------------------------------------ tax calendar

    async def returns_filed(self, conn: Connection, company_id: UUID,
                            year: int) -> list[tuple[str, str]]:
        """(tax, period) of the income tax and profit tax returns the company files for
        the months of ``year``: the tax calendar's hook (``TaxService.return_sources``)."""
        months = await queries.months_with_returns(conn, company_id, year)
        return [(tax, period) for tax, periods in months.items() for period in periods]

    # ------------------------------------------------------------------ rates

    async def set_rate(self, name: str, valid_from: date, rate: Decimal, source: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO payroll_rates (name, valid_from, rate, source)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (name, valid_from) DO UPDATE"
                " SET rate = excluded.rate, source = excluded.source, recorded_at = now()",
                (name, valid_from, rate, source))


def _stored(event: DomainEvent) -> DomainEvent | NewEvent:
    """A run's drafted event as the store takes it, built directly: its lines are JSON
    strings already, and walking 10,000 of them through ``to_data`` cost more than
    computing them (bench/payroll.py). Other events go as they are."""
    if not isinstance(event, d.PayrollRunDrafted):
        return event
    return NewEvent(event.type, {
        "run_id": str(event.run_id), "period": event.period,
        "payment_date": event.payment_date.isoformat(), "rates": dict(event.rates),
        "lines": event.lines, "by": event.by, "totals": event.totals},
        schema_version=event.schema_version, json_values=True)


def accrual_date(first: date, payment_date: date) -> date:
    """The run's journal date: the month's last day (salaries are an expense of the month
    worked, IAS 19.11), or the payment date when salaries are paid before the month ends."""
    return min(d.period_end(first), payment_date)
