"""Payroll's HTTP edge (api/v1.md "Payroll and withholding" and "Profit tax"): employees,
payroll runs with their bank file, budget payments and payslips, the income tax and
profit tax returns, dividends, profit-tax objects, other withholding and the statutory
rates. Amounts travel as strings and are parsed exactly (never through float)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal, cast
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, BeforeValidator, Field, PlainSerializer, WithJsonSchema

from saldo.identity.api import (
    CompanyContext,
    CurrentUser,
    Permission,
    SuperUser,
    require,
)
from saldo.kernel.money import amount_text, parse_amount
from saldo.payroll import domain as d
from saldo.payroll import queries
from saldo.payroll.service import (
    EmployeeInput,
    LineInput,
    PayrollService,
    ShareholderInput,
)
from saldo.platform.http import Bool, Date, ExactJsonBody, StrictRoute, Text, problem_responses


async def payroll_service(request: Request) -> PayrollService:
    return cast(PayrollService, request.app.state.payroll)


Payroll = Annotated[PayrollService, Depends(payroll_service)]
Reader = Annotated[CompanyContext, Depends(require(Permission.PAYROLL_READ))]
Writer = Annotated[CompanyContext, Depends(require(Permission.PAYROLL_WRITE))]
DocumentsReader = Annotated[CompanyContext, Depends(require(Permission.DOCUMENTS_READ))]
#: Tax returns are tax reports (reports:tax), as the VAT return is.
TaxReader = Annotated[CompanyContext, Depends(require(Permission.REPORTS_TAX))]
DocumentsWriter = Annotated[CompanyContext, Depends(require(Permission.DOCUMENTS_WRITE))]


#: Amounts and shares the edge takes: below 10^16 with at most 12 decimals. Anything else
#: is a validation error (422) before a rule sees it, so no rule meets a Decimal that
#: cannot be rounded to the tetri within the decimal context's 28 digits.
_LIMIT = Decimal(10) ** 16
_MOST_DECIMALS = 12


def _amount(value: object) -> Decimal:
    amount = parse_amount(value)
    exponent = amount.as_tuple().exponent
    if abs(amount) >= _LIMIT or not isinstance(exponent, int) or exponent < -_MOST_DECIMALS:
        raise ValueError(f"amount {value!r} must be below 10^16 with at most "
                         f"{_MOST_DECIMALS} decimals")
    return amount


_AMOUNT_SCHEMA = WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}],
                                 "examples": ["1180.00"]})
#: An amount in a request: a decimal string or a JSON number, exact.
AmountIn = Annotated[Decimal, BeforeValidator(_amount), _AMOUNT_SCHEMA]
#: An amount in a response: a string with two decimals at least ("1180.00").
Money = Annotated[Decimal, PlainSerializer(amount_text, return_type=str),
                  WithJsonSchema({"type": "string", "examples": ["1180.00"]})]
PeriodText = Annotated[Text, Path(min_length=7, max_length=7, examples=["2026-03"])]
_ERRORS = (400, 401, 403, 404, 422)

# ---------------------------------------------------------------------- shapes


class EmployeeIn(BaseModel):
    personal_number: Text = Field(min_length=1, max_length=20, description=(
        "11-digit personal number; a foreigner's 9-digit tax id with `foreign` or "
        "`resident: false`"))
    full_name: Text = Field(min_length=1, max_length=200)
    pension_enrolled: Bool = True
    resident: Bool = True
    foreign: Bool = False
    gross_salary: AmountIn | None = None
    iban: Text | None = Field(default=None, max_length=40)
    start_date: Date


class EmployeePatch(BaseModel):
    full_name: Text | None = Field(default=None, min_length=1, max_length=200)
    pension_enrolled: Bool | None = None
    resident: Bool | None = None
    iban: Text | None = Field(default=None, max_length=40)
    end_date: Date | None = None


class SalaryIn(BaseModel):
    effective_from: Date
    gross_salary: AmountIn


class SalaryOut(BaseModel):
    effective_from: dt.date
    gross_salary: Money


class EmployeeOut(BaseModel):
    id: UUID
    personal_number: str
    full_name: str
    pension_enrolled: bool
    resident: bool
    iban: str | None
    start_date: dt.date
    end_date: dt.date | None
    gross_salary: Money | None
    salary_history: list[SalaryOut]


class LineIn(BaseModel):
    employee_id: UUID
    gross: AmountIn | None = Field(default=None, description=(
        "The month's pay before bonuses; default: the salary, pro rata"))
    bonus: AmountIn = Decimal(0)
    other_earnings: AmountIn = Decimal(0)


class RunIn(BaseModel):
    period: Text = Field(min_length=7, max_length=7, examples=["2026-03"])
    payment_date: Date
    lines: list[LineIn] | None = Field(default=None, max_length=50000)


class LineOut(BaseModel):
    employee_id: UUID
    personal_number: str | None = None
    full_name: str | None = None
    salary: Money
    bonus: Money
    other_earnings: Money
    gross: Money
    pension_employee: Money
    income_tax: Money
    net: Money
    pension_employer: Money


class TotalsOut(BaseModel):
    gross: Money
    pension_employee: Money
    income_tax: Money
    net: Money
    pension_employer: Money


class RunOut(BaseModel):
    id: UUID
    period: str
    payment_date: dt.date
    status: str
    transaction_id: UUID | None
    paid_on: dt.date | None = None
    payment_transaction_id: UUID | None = None
    reversal_transaction_id: UUID | None = None
    lines: list[LineOut]
    totals: TotalsOut


class RunSummary(BaseModel):
    id: UUID
    period: str
    payment_date: dt.date
    status: str
    transaction_id: UUID | None
    paid_on: dt.date | None
    totals: TotalsOut


class PayIn(BaseModel):
    date: Date | None = Field(default=None, description="Default: the run's payment date")
    bank_account_code: Text = Field(default=d.DEFAULT_BANK, min_length=1, max_length=40)


class ReverseIn(BaseModel):
    reason: Text = Field(min_length=1, max_length=500)


class BudgetPayment(BaseModel):
    tax: str
    amount: Money
    due_date: dt.date
    beneficiary: str
    note: str


class IncomeTaxRow(BaseModel):
    personal_number: str
    full_name: str
    income_type: str
    gross: Money
    income_tax: Money
    pension_employee: Money
    pension_employer: Money


class DividendWithholdingRow(BaseModel):
    date: dt.date
    name: str
    tax_id: str | None
    kind: str
    resident: bool
    gross: Money
    withholding_tax: Money


class IncomeTaxReturn(BaseModel):
    period: str
    due_date: dt.date
    rows: list[IncomeTaxRow]
    total_gross: Money
    total_income_tax: Money
    total_pension_employee: Money
    total_pension_employer: Money
    dividend_withholding: list[DividendWithholdingRow]
    total_dividend_withholding: Money


class PensionRow(BaseModel):
    personal_number: str
    full_name: str
    gross: Money
    pension_employee: Money
    pension_employer: Money
    total: Money


class PensionReport(BaseModel):
    period: str
    rows: list[PensionRow]
    total_pension_employee: Money
    total_pension_employer: Money
    total: Money


class ShareholderIn(BaseModel):
    name: Text = Field(min_length=1, max_length=200)
    tax_id: Text | None = Field(default=None, max_length=20)
    kind: Literal["person", "company"]
    resident: Bool
    share: AmountIn


class DividendIn(BaseModel):
    date: Date
    amount: AmountIn
    shareholders: list[ShareholderIn] = Field(min_length=1, max_length=1000)


class ShareholderOut(BaseModel):
    name: str
    tax_id: str | None
    kind: str
    resident: bool
    share: str
    amount: Money
    withholding: Money


class DividendOut(BaseModel):
    id: UUID
    transaction_id: UUID
    date: dt.date
    amount: Money
    profit_tax: Money
    withholding_tax: Money
    shareholders: list[ShareholderOut]


class ProfitTaxObjectIn(BaseModel):
    category: Literal["non_business", "free_supply", "representation"]
    description: Text = Field(min_length=1, max_length=500)
    date: Date | None = Field(default=None, description="With amount: an expense entered")
    amount: AmountIn | None = None
    transaction_id: UUID | None = Field(default=None, description=(
        "Instead of date and amount: tag an expense already posted (its date and net "
        "debit on account_code, or on all its expense accounts)"))
    account_code: Text | None = Field(default=None, min_length=1, max_length=40)


class ProfitTaxObjectOut(BaseModel):
    id: UUID
    date: dt.date
    category: str
    amount: Money
    taxable: Money
    profit_tax: Money
    description: str
    transaction_id: UUID | None
    tagged_transaction_id: UUID | None = None


class ProfitTaxReturn(BaseModel):
    period: str
    due_date: dt.date
    distributed_profit: Money
    non_business_expenses: Money
    expenses_by_category: dict[str, Money]
    gross_up_base: Money
    profit_tax: Money
    profit_tax_booked: Money


class WithholdingIn(BaseModel):
    date: Date
    code: Literal["services_individual", "nonresident_services", "rent_individual",
                  "interest", "royalties"]
    payee_tax_id: Text = Field(min_length=1, max_length=20)
    payee_name: Text = Field(min_length=1, max_length=200)
    resident: Bool = True
    gross: AmountIn
    expense_account_code: Text = Field(min_length=1, max_length=40)
    payable_account_code: Text = Field(default="3190", min_length=1, max_length=40)


class BillWithholdingIn(BaseModel):
    code: Literal["services_individual", "nonresident_services", "rent_individual",
                  "interest", "royalties"]
    date: Date | None = Field(default=None, description="Default: the bill's date")


class WithholdingOut(BaseModel):
    id: UUID
    date: dt.date
    code: str
    gross: Money
    withheld: Money
    net: Money
    transaction_id: UUID


class RateOut(BaseModel):
    name: str
    valid_from: dt.date
    rate: str
    source: str


class RateIn(BaseModel):
    rate: AmountIn
    source: Text = Field(min_length=1, max_length=500)


_employee_body = ExactJsonBody(EmployeeIn)
_patch_body = ExactJsonBody(EmployeePatch)
_salary_body = ExactJsonBody(SalaryIn)
_run_body = ExactJsonBody(RunIn)
_pay_body = ExactJsonBody(PayIn)
_reverse_body = ExactJsonBody(ReverseIn)
_dividend_body = ExactJsonBody(DividendIn)
_object_body = ExactJsonBody(ProfitTaxObjectIn)
_withholding_body = ExactJsonBody(WithholdingIn)
_rate_body = ExactJsonBody(RateIn)
_bill_withholding_body = ExactJsonBody(BillWithholdingIn)


def _employee_out(row: dict[str, Any]) -> EmployeeOut:
    return EmployeeOut(
        id=row["id"], personal_number=row["personal_number"], full_name=row["full_name"],
        pension_enrolled=row["pension_enrolled"], resident=row["resident"], iban=row["iban"],
        start_date=row["start_date"], end_date=row["end_date"],
        gross_salary=row["gross_salary"],
        salary_history=[SalaryOut(effective_from=dt.date.fromisoformat(s["effective_from"]),
                                  gross_salary=Decimal(str(s["gross_salary"])))
                        for s in row["salary_history"]])


def _totals(values: dict[str, Any]) -> TotalsOut:
    return TotalsOut(**{k: Decimal(str(values[k])) for k in d.PayLine.AMOUNTS})


def _run_from_aggregate(run: d.PayrollRun) -> RunOut:
    return RunOut(id=run.id, period=run.period, payment_date=run.payment_date,
                  status=run.status, transaction_id=run.transaction_id, paid_on=run.paid_on,
                  payment_transaction_id=run.payment_transaction_id,
                  reversal_transaction_id=run.reversal_transaction_id,
                  lines=[LineOut(**vars_of(line))
                         for line in run.lines],
                  totals=_totals(run.totals))


def vars_of(line: d.PayLine) -> dict[str, Any]:
    return {k: getattr(line, k) for k in ("employee_id", "salary", "bonus", "other_earnings",
                                          *d.PayLine.AMOUNTS)}


def _run_from_rows(run: dict[str, Any], lines: list[dict[str, Any]]) -> RunOut:
    return RunOut(id=run["id"], period=run["period"], payment_date=run["payment_date"],
                  status=run["status"], transaction_id=run["transaction_id"],
                  paid_on=run["paid_on"],
                  payment_transaction_id=run["payment_transaction_id"],
                  reversal_transaction_id=run["reversal_transaction_id"],
                  lines=[LineOut(**{k: line[k] for k in LineOut.model_fields})
                         for line in lines],
                  totals=_totals(run["totals"]))


# ---------------------------------------------------------------------- routes


def router() -> APIRouter:
    api = APIRouter(prefix="/api/v1/companies/{company_id}", tags=["payroll"],
                    route_class=StrictRoute)

    # ----------------------------------------------------------------- employees

    @api.post("/employees", summary="Register an employee", status_code=201,
              response_model=EmployeeOut, responses=problem_responses(*_ERRORS, 409),
              openapi_extra=_employee_body.openapi())
    async def hire(ctx: Writer, payroll: Payroll,
                   body: Annotated[EmployeeIn, Depends(_employee_body)]) -> EmployeeOut:
        employee_id = await payroll.hire(ctx, EmployeeInput(
            body.personal_number, body.full_name, body.start_date, body.pension_enrolled,
            body.resident, body.foreign, body.gross_salary, body.iban))
        return await _employee(payroll, ctx, employee_id)

    async def _employee(payroll: PayrollService, ctx: CompanyContext,
                        employee_id: UUID) -> EmployeeOut:
        async with payroll.db.transaction(company_id=ctx.company_id) as conn:
            row = await queries.employee(conn, ctx.company_id, employee_id, payroll.today())
        if row is None:
            raise d.EmployeeNotFound("No such employee.", employee_id=str(employee_id))
        return _employee_out(row)

    @api.get("/employees", summary="Employees, with the salary in effect today",
             response_model=list[EmployeeOut], responses=problem_responses(*_ERRORS))
    async def list_employees(ctx: Reader, payroll: Payroll) -> list[EmployeeOut]:
        async with payroll.db.transaction(company_id=ctx.company_id) as conn:
            rows = await queries.employees(conn, ctx.company_id, payroll.today())
        return [_employee_out(r) for r in rows]

    @api.get("/employees/{employee_id}", summary="One employee", response_model=EmployeeOut,
             responses=problem_responses(*_ERRORS))
    async def get_employee(employee_id: UUID, ctx: Reader, payroll: Payroll) -> EmployeeOut:
        return await _employee(payroll, ctx, employee_id)

    @api.patch("/employees/{employee_id}",
               summary="Change an employee's details or end date (leaving)",
               response_model=EmployeeOut, responses=problem_responses(*_ERRORS),
               openapi_extra=_patch_body.openapi())
    async def change_employee(employee_id: UUID, ctx: Writer, payroll: Payroll,
                              body: Annotated[EmployeePatch, Depends(_patch_body)]
                              ) -> EmployeeOut:
        await payroll.change_employee(ctx, employee_id, body.model_dump(exclude_unset=True))
        return await _employee(payroll, ctx, employee_id)

    @api.post("/employees/{employee_id}/salaries",
              summary="A new salary from a date (salary history)", status_code=201,
              response_model=EmployeeOut, responses=problem_responses(*_ERRORS),
              openapi_extra=_salary_body.openapi())
    async def change_salary(employee_id: UUID, ctx: Writer, payroll: Payroll,
                            body: Annotated[SalaryIn, Depends(_salary_body)]) -> EmployeeOut:
        await payroll.change_salary(ctx, employee_id, body.effective_from, body.gross_salary)
        return await _employee(payroll, ctx, employee_id)

    # ----------------------------------------------------------------- runs

    @api.post("/payroll-runs", summary="Draft a month's payroll run", status_code=201,
              response_model=RunOut, responses=problem_responses(*_ERRORS, 409),
              openapi_extra=_run_body.openapi())
    async def create_run(ctx: Writer, payroll: Payroll,
                         body: Annotated[RunIn, Depends(_run_body)]) -> RunOut:
        given = None if body.lines is None else [
            LineInput(x.employee_id, x.gross, x.bonus, x.other_earnings) for x in body.lines]
        run = await payroll.create_run(ctx, body.period, body.payment_date, given)
        return await _run(payroll, ctx, run.id)

    async def _run(payroll: PayrollService, ctx: CompanyContext, run_id: UUID) -> RunOut:
        row, lines = await payroll.run(ctx.company_id, run_id)
        return _run_from_rows(row, lines)

    @api.get("/payroll-runs", summary="Payroll runs, newest period first",
             response_model=list[RunSummary], responses=problem_responses(*_ERRORS))
    async def list_runs(ctx: Reader, payroll: Payroll) -> list[RunSummary]:
        async with payroll.db.transaction(company_id=ctx.company_id) as conn:
            rows = await queries.runs(conn, ctx.company_id)
        return [RunSummary(id=r["id"], period=r["period"], payment_date=r["payment_date"],
                           status=r["status"], transaction_id=r["transaction_id"],
                           paid_on=r["paid_on"], totals=_totals(r["totals"])) for r in rows]

    @api.get("/payroll-runs/{run_id}", summary="One payroll run with its lines",
             response_model=RunOut, responses=problem_responses(*_ERRORS))
    async def get_run(run_id: UUID, ctx: Reader, payroll: Payroll) -> RunOut:
        return await _run(payroll, ctx, run_id)

    @api.post("/payroll-runs/{run_id}/post", summary="Post the run to the ledger",
              response_model=RunOut, responses=problem_responses(*_ERRORS, 409))
    async def post_run(run_id: UUID, ctx: Writer, payroll: Payroll) -> RunOut:
        await payroll.post_run(ctx, run_id)
        return await _run(payroll, ctx, run_id)

    @api.post("/payroll-runs/{run_id}/pay",
              summary="Pay the salaries, the income tax and the pension contributions",
              response_model=RunOut, responses=problem_responses(*_ERRORS, 409),
              openapi_extra=_pay_body.openapi())
    async def pay_run(run_id: UUID, ctx: Writer, payroll: Payroll,
                      body: Annotated[PayIn, Depends(_pay_body)]) -> RunOut:
        await payroll.pay_run(ctx, run_id, body.date, body.bank_account_code)
        return await _run(payroll, ctx, run_id)

    @api.post("/payroll-runs/{run_id}/reverse",
              summary="Reverse a posted run before it is paid", response_model=RunOut,
              responses=problem_responses(*_ERRORS, 409),
              openapi_extra=_reverse_body.openapi())
    async def reverse_run(run_id: UUID, ctx: Writer, payroll: Payroll,
                          body: Annotated[ReverseIn, Depends(_reverse_body)]) -> RunOut:
        await payroll.reverse_run(ctx, run_id, body.reason)
        return await _run(payroll, ctx, run_id)

    @api.delete("/payroll-runs/{run_id}", summary="Discard a draft run", status_code=204,
                response_class=Response, responses=problem_responses(*_ERRORS, 409))
    async def discard_run(run_id: UUID, ctx: Writer, payroll: Payroll) -> Response:
        await payroll.discard_run(ctx, run_id)
        return Response(status_code=204)

    @api.get("/payroll-runs/{run_id}/bank-file",
             summary="Salary transfers as a CSV for a bank's bulk upload",
             response_class=Response, responses={
                 **problem_responses(*_ERRORS), 200: {"content": {"text/csv": {}}}})
    async def bank_file(run_id: UUID, ctx: Reader, payroll: Payroll) -> Response:
        body, name = await payroll.bank_file(ctx.company_id, run_id)
        return Response(body, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @api.get("/payroll-runs/{run_id}/budget-payments",
             summary="The payments to the budget the run makes on its payment date",
             response_model=list[BudgetPayment], responses=problem_responses(*_ERRORS))
    async def budget_payments(run_id: UUID, ctx: Reader, payroll: Payroll
                              ) -> list[BudgetPayment]:
        row, _ = await payroll.run(ctx.company_id, run_id)
        t = {k: Decimal(str(v)) for k, v in row["totals"].items()}
        day = row["paid_on"] or row["payment_date"]
        pension_day = await payroll.pension_due(day)
        payments = [
            BudgetPayment(tax="income_tax", amount=t["income_tax"], due_date=day,
                          beneficiary="State Treasury (TRESGE22), income tax",
                          note="Withheld income tax is paid the day salaries are paid "
                               "(georgia.md §2 [C]); the treasury code is UNCONFIRMED"),
            BudgetPayment(tax="pension", amount=t["pension_employee"] + t["pension_employer"],
                          due_date=pension_day,
                          beneficiary="Pension Agency of Georgia (via the Treasury)",
                          note="Employee 2% + employer 2%; due the dated setting "
                               "pension_remittance_working_days after the salaries "
                               "(timing UNCONFIRMED, georgia.md §2)"),
        ]
        return [p for p in payments if p.amount]

    @api.get("/payroll-runs/{run_id}/payslips/{employee_id}",
             summary="An employee's payslip (PDF, Georgian or English)",
             response_class=Response, responses={
                 **problem_responses(*_ERRORS), 200: {"content": {"application/pdf": {}}}})
    async def payslip(run_id: UUID, employee_id: UUID, ctx: Reader, payroll: Payroll,
                      lang: Annotated[Literal["ka", "en"], Query()] = "ka") -> Response:
        body, name = await payroll.payslip(ctx.company_id, run_id, employee_id, lang)
        return Response(body, media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    # ----------------------------------------------------------------- returns

    @api.get("/tax/income-tax-returns/{period}",
             summary="The monthly income tax (withholding) return, by payment month",
             response_model=IncomeTaxReturn, responses=problem_responses(*_ERRORS))
    async def income_tax_return(period: PeriodText, ctx: Reader,
                                payroll: Payroll) -> IncomeTaxReturn:
        return IncomeTaxReturn(**await payroll.income_tax_return(ctx.company_id, period))

    @api.get("/tax/pension-contributions/{period}",
             summary="The pension contributions report, by payment month",
             response_model=PensionReport, responses=problem_responses(*_ERRORS))
    async def pension_report(period: PeriodText, ctx: Reader,
                             payroll: Payroll) -> PensionReport:
        return PensionReport(**await payroll.pension_report(ctx.company_id, period))

    @api.get("/tax/profit-tax-returns/{period}",
             summary="The monthly profit tax return (distributed profit, Estonian model)",
             response_model=ProfitTaxReturn, responses=problem_responses(*_ERRORS))
    async def profit_tax_return(period: PeriodText, ctx: TaxReader,
                                payroll: Payroll) -> ProfitTaxReturn:
        return ProfitTaxReturn(**await payroll.profit_tax_return(ctx.company_id, period))

    # ----------------------------------------------------------------- dividends

    @api.post("/dividends", summary="Declare a dividend: posted with its profit tax and "
              "withholding", status_code=201, response_model=DividendOut,
              responses=problem_responses(*_ERRORS), openapi_extra=_dividend_body.openapi())
    async def declare_dividend(ctx: DocumentsWriter, payroll: Payroll,
                               body: Annotated[DividendIn, Depends(_dividend_body)]
                               ) -> DividendOut:
        result = await payroll.declare_dividend(ctx, body.date, body.amount, [
            ShareholderInput(s.name, s.kind, s.resident, s.share, s.tax_id)
            for s in body.shareholders])
        return DividendOut(**result)

    @api.get("/dividends/{dividend_id}", summary="One dividend", response_model=DividendOut,
             responses=problem_responses(*_ERRORS))
    async def get_dividend(dividend_id: UUID, ctx: DocumentsReader,
                           payroll: Payroll) -> DividendOut:
        async with payroll.db.transaction(company_id=ctx.company_id) as conn:
            row = await queries.dividend(conn, ctx.company_id, dividend_id)
        if row is None:
            raise d.DividendNotFound("No such dividend.", dividend_id=str(dividend_id))
        return DividendOut(**row)

    @api.post("/profit-tax-objects",
              summary="Tag an expense as a profit-tax object and book its profit tax",
              status_code=201, response_model=ProfitTaxObjectOut,
              responses=problem_responses(*_ERRORS), openapi_extra=_object_body.openapi())
    async def record_object(ctx: DocumentsWriter, payroll: Payroll,
                            body: Annotated[ProfitTaxObjectIn, Depends(_object_body)]
                            ) -> ProfitTaxObjectOut:
        tagged = (body.transaction_id, body.account_code) if body.transaction_id else None
        return ProfitTaxObjectOut(**await payroll.record_profit_tax_object(
            ctx, body.date, body.category, body.amount, body.description, tagged))

    @api.post("/withholdings",
              summary="A payment to a person or non-resident with tax withheld at source",
              status_code=201, response_model=WithholdingOut,
              responses=problem_responses(*_ERRORS), openapi_extra=_withholding_body.openapi())
    async def record_withholding(ctx: Writer, payroll: Payroll,
                                 body: Annotated[WithholdingIn, Depends(_withholding_body)]
                                 ) -> WithholdingOut:
        return WithholdingOut(**await payroll.record_withholding(
            ctx, body.date, body.code, body.payee_tax_id, body.payee_name, body.resident,
            body.gross, body.expense_account_code, body.payable_account_code))

    @api.post("/purchase-bills/{bill_id}/withholding",
              summary="Withhold tax from a posted purchase bill of a person or non-resident",
              status_code=201, response_model=WithholdingOut,
              responses=problem_responses(*_ERRORS, 409),
              openapi_extra=_bill_withholding_body.openapi())
    async def withhold_on_bill(bill_id: UUID, ctx: DocumentsWriter, payroll: Payroll,
                               body: Annotated[BillWithholdingIn,
                                               Depends(_bill_withholding_body)]
                               ) -> WithholdingOut:
        return WithholdingOut(**await payroll.withhold_on_bill(ctx, bill_id, body.code,
                                                               body.date))

    return api


def rates_router() -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["payroll"], route_class=StrictRoute)

    @api.get("/payroll-rates", summary="The statutory rates as dated settings",
             response_model=list[RateOut], responses=problem_responses(401))
    async def list_rates(payroll: Payroll, _: CurrentUser) -> list[RateOut]:
        async with payroll.db.transaction() as conn:
            rows = await queries.rates(conn)
        return [RateOut(name=r["name"], valid_from=r["valid_from"], rate=str(r["rate"]),
                        source=r["source"]) for r in rows]

    @api.put("/payroll-rates/{name}/{valid_from}",
             summary="A rate from a date (a change in law is a new row)",
             response_model=RateOut, responses=problem_responses(400, 401, 403, 422),
             openapi_extra=_rate_body.openapi())
    async def set_rate(name: Annotated[Text, Path(min_length=1, max_length=60)],
                       valid_from: Annotated[dt.date, Path()], payroll: Payroll,
                       _: SuperUser, body: Annotated[RateIn, Depends(_rate_body)]) -> RateOut:
        exponent = body.rate.as_tuple().exponent
        if body.rate < 0 or body.rate > 1000 or not isinstance(exponent, int) or exponent < -6:
            raise d.InvalidRun("A rate is a fraction (0.20 for 20%) with at most six "
                               "decimals.", field="rate")
        await payroll.set_rate(name, valid_from, body.rate, body.source)
        return RateOut(name=name, valid_from=valid_from, rate=str(body.rate),
                       source=body.source)

    return api
