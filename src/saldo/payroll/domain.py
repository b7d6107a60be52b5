"""Payroll, withholding and profit tax: the rules, with no I/O.

Every rule from law cites its source: ``georgia.md`` is ``/work/shared/reference/
georgia.md`` (the project's compiled facts), the article is the Tax Code of Georgia's or
the Law on Funded Pensions'. Rates are never constants here: they are dated settings
(:class:`Rates`, the ``payroll_rates`` table), so a change in law is a new row.

Worked example (georgia.md §2, vabaco.ge): gross 900.00, enrolled employee ->
pension 2% = 18.00, income tax 20% × (900.00 − 18.00) = 176.40, net 705.60, employer
pension 2% on top = 18.00.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from saldo.kernel import iban as kernel_iban
from saldo.kernel.errors import Conflict, NotFound, RuleViolation
from saldo.kernel.events import DomainEvent
from saldo.kernel.money import round_half_up

ZERO = Decimal("0.00")
ONE = Decimal(1)
#: Largest amount a line takes (numeric(18, 2) in the read models).
MAX_AMOUNT = Decimal("9999999999999999.99")

# ---------------------------------------------------------------------- errors


class InvalidPersonalNumber(RuleViolation):
    code = "invalid_personal_number"
    title = "Malformed personal number"


class EmployeeExists(Conflict):
    code = "employee_exists"
    title = "The employee exists already"


class EmployeeNotFound(NotFound):
    code = "employee_not_found"
    title = "No such employee"


class InvalidEmployee(RuleViolation):
    code = "invalid_employee"
    title = "Invalid employee data"


class RunExists(Conflict):
    code = "payroll_run_exists"
    title = "The period has a payroll run already"


class RunNotFound(NotFound):
    code = "payroll_run_not_found"
    title = "No such payroll run"


class InvalidRun(RuleViolation):
    code = "invalid_payroll_run"
    title = "Invalid payroll run"


class NegativeGross(RuleViolation):
    code = "negative_gross"
    title = "A gross amount is negative"


class InvalidState(Conflict):
    code = "invalid_state"
    title = "Not allowed in the document's state"


class AlreadyPaid(Conflict):
    code = "already_paid"
    title = "The payroll run is paid already"


class SharesNotOne(RuleViolation):
    code = "shares_not_one"
    title = "The shareholders' shares do not sum to 1"


class DividendNotFound(NotFound):
    code = "dividend_not_found"
    title = "No such dividend"


class InvalidDividend(RuleViolation):
    code = "invalid_dividend"
    title = "Invalid dividend"


class ProfitNotSufficient(RuleViolation):
    code = "insufficient_profit"
    title = "Retained and current profit do not cover the dividend"


class InvalidPeriod(RuleViolation):
    code = "invalid_period"
    title = "Not a period such as 2026-03"


class InvalidDate(RuleViolation):
    code = "invalid_date"
    title = "A date outside the books' years"


class PaymentPeriodClosed(RuleViolation):
    """Same code as the ledger's: a date in a closed or locked period takes no postings."""

    code = "period_closed"
    title = "The period is closed"


class RateMissing(RuleViolation):
    code = "rate_not_found"
    title = "No rate in effect"


class BillNotFound(NotFound):
    code = "bill_not_found"
    title = "No such purchase bill"


class InvalidWithholding(RuleViolation):
    code = "invalid_withholding"
    title = "Invalid withholding"


class TaggedTransactionNotFound(NotFound):
    code = "transaction_not_found"
    title = "No such transaction"


class InvalidProfitTaxObject(RuleViolation):
    code = "invalid_profit_tax_object"
    title = "Invalid profit-tax object"


# ---------------------------------------------------------------------- identifiers

_PERSONAL_NUMBER = re.compile(r"[0-9]{11}", re.ASCII)
_FOREIGN_TIN = re.compile(r"[0-9]{9}", re.ASCII)
_PERIOD = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])", re.ASCII)


def check_personal_number(text: str, *, foreign: bool) -> str:
    """A Georgian citizen's 11-digit personal number (პირადი ნომერი), or a foreign
    individual's 9-digit tax id (georgia.md §6, OECD TIN sheet). Only the format is
    checked: no public check-digit algorithm exists (georgia.md §6, UNCONFIRMED)."""
    if _PERSONAL_NUMBER.fullmatch(text) or (foreign and _FOREIGN_TIN.fullmatch(text)):
        return text
    expected = "11 digits (or a foreigner's 9-digit tax id)" if foreign else "11 digits"
    raise InvalidPersonalNumber(f"Personal number {text!r} is not {expected}.",
                                personal_number=text)


def check_iban(text: str) -> str:
    """A Georgian IBAN (salaries are paid to Georgian accounts), checked by
    saldo.kernel.iban."""
    iban = kernel_iban.normalise(text)
    why = kernel_iban.problem(iban) or (
        None if iban.startswith("GE") else "not a Georgian IBAN (GE + 20 characters)")
    if why is not None:
        raise InvalidEmployee(f"IBAN {text!r} is {why}.", field="iban")
    return iban


#: The years a document may be dated in (the ledger opens fiscal years within a window
#: of these; outside them a date is bad input, never a calendar overflow).
FIRST_YEAR, LAST_YEAR = 1900, 2999


def parse_period(text: str) -> date:
    match = _PERIOD.fullmatch(text)
    if not match or not FIRST_YEAR <= int(match[1]) <= LAST_YEAR:
        raise InvalidPeriod(f"{text!r} is not a period such as 2026-03.", period=text)
    return date(int(match[1]), int(match[2]), 1)


def check_date(day: date, field: str) -> date:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidDate(f"The {field.replace('_', ' ')} {day} is outside the years "
                          f"{FIRST_YEAR}-{LAST_YEAR}.", field=field)
    return day


def period_end(first: date) -> date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


# ---------------------------------------------------------------------- rates


@dataclass(frozen=True, slots=True)
class Rates:
    """The statutory rates in effect on one date (dated settings, ``payroll_rates``)."""

    income_tax: Decimal
    pension_employee: Decimal
    pension_employer: Decimal

    @classmethod
    def of(cls, found: Mapping[str, Decimal], on: date) -> Rates:
        missing = [n for n in ("income_tax", "pension_employee", "pension_employer")
                   if n not in found]
        if missing:
            raise RateMissing(f"No {', '.join(missing)} rate in effect on {on}.",
                              rates=missing, date=str(on))
        return cls(found["income_tax"], found["pension_employee"], found["pension_employer"])

    def as_data(self) -> dict[str, str]:
        return {"income_tax": str(self.income_tax),
                "pension_employee": str(self.pension_employee),
                "pension_employer": str(self.pension_employer)}


# ---------------------------------------------------------------------- pay lines


@dataclass(frozen=True, slots=True)
class PayLine:
    """One employee's month: gross = salary + bonus + other earnings; each deduction
    rounded half-up to the tetri on this line (the issue's rule; kernel.money)."""

    employee_id: UUID
    salary: Decimal
    bonus: Decimal
    other_earnings: Decimal
    gross: Decimal
    pension_employee: Decimal
    income_tax: Decimal
    net: Decimal
    pension_employer: Decimal

    AMOUNTS: ClassVar[tuple[str, ...]] = ("gross", "pension_employee", "income_tax", "net",
                                          "pension_employer")

    def as_data(self) -> dict[str, str]:
        return {"employee_id": str(self.employee_id), "salary": str(self.salary),
                "bonus": str(self.bonus), "other_earnings": str(self.other_earnings),
                "gross": str(self.gross), "pension_employee": str(self.pension_employee),
                "income_tax": str(self.income_tax), "net": str(self.net),
                "pension_employer": str(self.pension_employer)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> PayLine:
        return cls(UUID(data["employee_id"]), *(Decimal(data[k]) for k in (
            "salary", "bonus", "other_earnings", "gross", "pension_employee", "income_tax",
            "net", "pension_employer")))


def pay_line(employee_id: UUID, salary: Decimal, bonus: Decimal, other: Decimal,
             enrolled: bool, rates: Rates) -> PayLine:
    """The month's deductions for one employee.

    - Employee pension: 2% of gross, enrolled employees only (Law on Funded Pensions
      Art. 3; georgia.md §2; enrolment is stored, not derived from age: georgia.md §2).
    - Income tax: 20% of gross less the employee's pension contribution (Tax Code
      Art. 81-82; georgia.md §2, worked example (900 − 18) × 0.2 = 176.40).
    - Employer pension: 2% of gross on top (Law on Funded Pensions Art. 3).
    Each rounded half-up to the tetri; net = gross − pension − tax exactly, so
    net + income tax + employee pension = gross always holds.
    """
    gross = salary + bonus + other
    for name, amount in (("salary", salary), ("bonus", bonus), ("other_earnings", other),
                         ("gross", gross)):
        if amount < 0:
            raise NegativeGross(f"The {name.replace('_', ' ')} of employee {employee_id} is "
                                f"negative ({amount}).", employee_id=str(employee_id),
                                field=name)
        if amount > MAX_AMOUNT or amount != round_half_up(amount):
            raise InvalidRun(f"The {name.replace('_', ' ')} {amount} must have at most two "
                             "decimals and 16 digits.", employee_id=str(employee_id),
                             field=name)
    pension = round_half_up(gross * rates.pension_employee) if enrolled else ZERO
    tax = round_half_up((gross - pension) * rates.income_tax)
    employer = round_half_up(gross * rates.pension_employer) if enrolled else ZERO
    return PayLine(employee_id, salary, bonus, other, gross, pension, tax,
                   gross - pension - tax, employer)


def totals(lines: Sequence[PayLine]) -> dict[str, Decimal]:
    return {k: sum((getattr(line, k) for line in lines), ZERO) for k in PayLine.AMOUNTS}


@dataclass(frozen=True, slots=True)
class SalaryPeriod:
    """What an employee's salary history says about one month."""

    start_date: date
    end_date: date | None
    #: (effective_from, monthly gross), ascending.
    history: tuple[tuple[date, Decimal], ...]


def prorated_salary(employment: SalaryPeriod, first: date) -> Decimal:
    """The month's salary, pro rata by calendar days for a start, an end or a salary
    change within the month: each salary counts for the days it was in effect while the
    person was employed, salary × days / days in month, rounded half-up to the tetri per
    segment (docs/payroll-and-profit-tax.md; the basis is Saldo's choice, decision 0040).

    Example: 3100.00 a month from 16 March: 3100 × 16 / 31 = 1600.00.
    """
    last = period_end(first)
    days_in_month = Decimal(last.day)
    begin = max(first, employment.start_date)
    end = min(last, employment.end_date) if employment.end_date else last
    if end < begin:
        return ZERO
    total = ZERO
    for i, (effective, amount) in enumerate(employment.history):
        until = (employment.history[i + 1][0] - timedelta(days=1)
                 if i + 1 < len(employment.history) else date.max)
        seg_begin, seg_end = max(begin, effective), min(end, until)
        if seg_end < seg_begin:
            continue
        days = (seg_end - seg_begin).days + 1
        if days == last.day:
            total += amount
        else:
            total += round_half_up(amount * days / days_in_month)
    return total


def employed_in(employment: SalaryPeriod, first: date) -> bool:
    last = period_end(first)
    return employment.start_date <= last and (employment.end_date is None
                                               or employment.end_date >= first)


# ---------------------------------------------------------------------- profit tax


def gross_up(amount: Decimal, profit_tax_rate: Decimal) -> Decimal:
    """The taxable base of a distribution, grossed up: amount / (1 − 15%) = amount / 0.85
    (Tax Code Art. 98¹; georgia.md §3). Not rounded: see :func:`profit_tax`."""
    return amount / (ONE - profit_tax_rate)


def profit_tax(amount: Decimal, profit_tax_rate: Decimal) -> Decimal:
    """Profit tax on a distribution: amount / 0.85 × 15%, rounded half-up to the tetri
    once, at the end (api/v1.md "Profit tax"; georgia.md §3: 100 -> 17.65)."""
    return round_half_up(gross_up(amount, profit_tax_rate) * profit_tax_rate)


@dataclass(frozen=True, slots=True)
class Shareholder:
    name: str
    tax_id: str | None
    kind: str  # "person" | "company"
    resident: bool
    share: Decimal
    #: This shareholder's part of the dividend declared, and the tax withheld from it.
    amount: Decimal = ZERO
    withholding: Decimal = ZERO

    def as_data(self) -> dict[str, Any]:
        return {"name": self.name, "tax_id": self.tax_id, "kind": self.kind,
                "resident": self.resident, "share": str(self.share),
                "amount": str(self.amount), "withholding": str(self.withholding)}


def withheld_on_dividend(shareholder: Shareholder) -> bool:
    """5% withholding on dividends paid to persons and to non-residents; none to resident
    companies (Tax Code Art. 130(3)(a) and 134; georgia.md §2, §3)."""
    return shareholder.kind == "person" or not shareholder.resident


@dataclass(frozen=True, slots=True)
class DividendFigures:
    amount: Decimal
    profit_tax: Decimal
    withholding_tax: Decimal
    shareholders: tuple[Shareholder, ...]


def dividend(amount: Decimal, shareholders: Sequence[Shareholder], profit_tax_rate: Decimal,
             withholding_rate: Decimal) -> DividendFigures:
    """Split a declared dividend by shares, withhold 5% where due (rounded half-up per
    shareholder), and compute the profit tax on the whole amount.

    The parts are allocated by largest remainder so that they sum exactly to ``amount``.
    """
    if amount <= 0 or amount > MAX_AMOUNT or amount != round_half_up(amount):
        raise InvalidDividend(f"A dividend of {amount} must be positive with at most two "
                              "decimals.", field="amount")
    if not shareholders:
        raise SharesNotOne("A dividend needs at least one shareholder.", total="0")
    for s in shareholders:
        if s.share <= 0 or s.share > 1:
            raise SharesNotOne(f"Share {s.share} of {s.name} is not in (0, 1].",
                               total=str(sum(x.share for x in shareholders)))
        if s.kind not in ("person", "company"):
            raise InvalidDividend(f"Shareholder kind {s.kind!r} is not person or company.",
                                  field="kind")
    total_share = sum((s.share for s in shareholders), Decimal(0))
    if total_share != ONE:
        raise SharesNotOne(f"The shares sum to {total_share}, not 1.", total=str(total_share))
    exact = [amount * s.share for s in shareholders]
    parts = [round_half_up(x) for x in exact]
    # Largest remainder: put the rounding difference on the parts that lost most.
    diff = amount - sum(parts, ZERO)
    step = Decimal("0.01") if diff > 0 else Decimal("-0.01")
    order = sorted(range(len(parts)), key=lambda i: (exact[i] - parts[i]) * (1 if diff > 0
                                                                                 else -1),
                   reverse=True)
    i = 0
    while diff != 0:
        parts[order[i % len(order)]] += step
        diff -= step
        i += 1
    split = tuple(
        Shareholder(s.name, s.tax_id, s.kind, s.resident, s.share, part,
                    round_half_up(part * withholding_rate) if withheld_on_dividend(s) else ZERO)
        for s, part in zip(shareholders, parts, strict=True))
    return DividendFigures(amount, profit_tax(amount, profit_tax_rate),
                           sum((s.withholding for s in split), ZERO), split)


#: Categories of expenses that are profit-tax objects (Tax Code Art. 98²; georgia.md §3).
PROFIT_TAX_CATEGORIES = ("non_business", "free_supply", "representation")


def representation_cap(previous_income: Decimal, previous_expenses: Decimal,
                       cap_rate: Decimal) -> Decimal:
    """Representation expenses are deductible up to 1% of the previous year's income or
    of its expenses, whichever is higher (georgia.md §3, Orbitax 5.1)."""
    return round_half_up(max(previous_income, previous_expenses) * cap_rate)


def representation_excess(before: Decimal, amount: Decimal, cap: Decimal) -> Decimal:
    """The part of a new representation expense above the cap, given the year's earlier
    representation expenses ``before``."""
    return max(ZERO, before + amount - cap) - max(ZERO, before - cap)


#: Withholding codes on payments to persons and non-residents (georgia.md §2, PwC WWTS):
#: the rate's name in ``payroll_rates``.
WITHHOLDING_CODES = ("services_individual", "nonresident_services", "rent_individual",
                     "interest", "royalties")


# ---------------------------------------------------------------------- events

@dataclass(frozen=True, slots=True)
class EmployeeHired(DomainEvent):
    employee_id: UUID
    personal_number: str
    full_name: str
    pension_enrolled: bool
    resident: bool
    iban: str | None
    start_date: date
    gross_salary: Decimal | None
    by: str = ""


@dataclass(frozen=True, slots=True)
class SalaryChanged(DomainEvent):
    employee_id: UUID
    effective_from: date
    gross_salary: Decimal
    by: str = ""


@dataclass(frozen=True, slots=True)
class EmployeeDetailsChanged(DomainEvent):
    employee_id: UUID
    full_name: str
    pension_enrolled: bool
    resident: bool
    iban: str | None
    by: str = ""


@dataclass(frozen=True, slots=True)
class EmployeeLeft(DomainEvent):
    employee_id: UUID
    end_date: date | None
    by: str = ""


@dataclass(frozen=True, slots=True)
class PayrollRunDrafted(DomainEvent):
    run_id: UUID
    period: str
    payment_date: date
    rates: dict[str, str]
    lines: list[dict[str, str]]
    by: str = ""
    #: The lines' totals (as the read model shows them; absent: summed from the lines).
    totals: dict[str, str] | None = None



@dataclass(frozen=True, slots=True)
class PayrollRunPosted(DomainEvent):
    run_id: UUID
    transaction_id: UUID
    by: str = ""


@dataclass(frozen=True, slots=True)
class PayrollRunPaid(DomainEvent):
    run_id: UUID
    paid_on: date
    bank_account_code: str
    transaction_id: UUID
    by: str = ""


@dataclass(frozen=True, slots=True)
class PayrollRunReversed(DomainEvent):
    run_id: UUID
    reversal_transaction_id: UUID
    reason: str
    by: str = ""


@dataclass(frozen=True, slots=True)
class PayrollRunDiscarded(DomainEvent):
    run_id: UUID
    by: str = ""


@dataclass(frozen=True, slots=True)
class DividendDeclared(DomainEvent):
    dividend_id: UUID
    date: date
    amount: Decimal
    profit_tax: Decimal
    withholding_tax: Decimal
    shareholders: list[dict[str, Any]]
    transaction_id: UUID
    by: str = ""


@dataclass(frozen=True, slots=True)
class ProfitTaxObjectRecorded(DomainEvent):
    object_id: UUID
    date: date
    category: str
    amount: Decimal
    taxable: Decimal
    profit_tax: Decimal
    description: str
    transaction_id: UUID | None
    by: str = ""
    #: The expense line in the books this object tags (None: entered as an amount).
    tagged_transaction_id: UUID | None = None
    tagged_account_code: str | None = None


@dataclass(frozen=True, slots=True)
class WithholdingRecorded(DomainEvent):
    withholding_id: UUID
    date: date
    code: str
    payee_tax_id: str
    payee_name: str
    resident: bool
    gross: Decimal
    withheld: Decimal
    transaction_id: UUID
    by: str = ""
    #: The purchase bill the tax was withheld from (None: a payment recorded directly).
    document_id: UUID | None = None


EMPLOYEE_EVENTS = (EmployeeHired, SalaryChanged, EmployeeDetailsChanged, EmployeeLeft)
RUN_EVENTS = (PayrollRunDrafted, PayrollRunPosted, PayrollRunPaid, PayrollRunReversed,
              PayrollRunDiscarded)
OTHER_EVENTS = (DividendDeclared, ProfitTaxObjectRecorded, WithholdingRecorded)


# ---------------------------------------------------------------------- the run aggregate

DRAFT, POSTED, PAID, REVERSED, DISCARDED = "draft", "posted", "paid", "reversed", "discarded"


@dataclass
class PayrollRun:
    """A month's payroll: drafted -> posted -> paid, or reversed while posted and unpaid,
    or discarded while a draft. Never edited after posting (issue 14 item 3)."""

    id: UUID
    period: str = ""
    payment_date: date = date.min
    lines: list[PayLine] = field(default_factory=list)
    rates: dict[str, str] = field(default_factory=dict)
    status: str = DRAFT
    transaction_id: UUID | None = None
    paid_on: date | None = None
    payment_transaction_id: UUID | None = None
    reversal_transaction_id: UUID | None = None
    version: int = 0
    pending: list[DomainEvent] = field(default_factory=list)

    @classmethod
    def replay(cls, run_id: UUID, events: Sequence[DomainEvent]) -> PayrollRun | None:
        if not events:
            return None
        run = cls(run_id)
        for event in events:
            run._apply(event)
            run.version += 1
        return run

    @classmethod
    def draft(cls, run_id: UUID, period: str, payment_date: date, lines: Sequence[PayLine],
              rates: Rates, by: str) -> PayrollRun:
        if not lines:
            raise InvalidRun(f"The payroll run for {period} has no lines (no active "
                             "employees and none given).", period=period)
        if not any(line.gross for line in lines):
            raise InvalidRun(f"The payroll run for {period} pays nothing (every gross is "
                             "zero).", period=period)
        seen: set[UUID] = set()
        for line in lines:
            if line.employee_id in seen:
                raise InvalidRun(f"Employee {line.employee_id} appears twice in the run.",
                                 employee_id=str(line.employee_id))
            seen.add(line.employee_id)
        run = cls(run_id)
        sums = {k: str(v) for k, v in totals(lines).items()}
        run._record(PayrollRunDrafted(run_id, period, payment_date, rates.as_data(),
                                      [line.as_data() for line in lines], by, sums),
                    lines=list(lines))
        return run

    def post(self, transaction_id: UUID, by: str) -> None:
        if self.status != DRAFT:
            raise InvalidState(f"The payroll run is {self.status}; only a draft is posted.",
                               status=self.status)
        self._record(PayrollRunPosted(self.id, transaction_id, by))

    def check_payable(self) -> None:
        if self.status == PAID:
            raise AlreadyPaid(f"The payroll run for {self.period} was paid on "
                              f"{self.paid_on}.", status=self.status)
        if self.status != POSTED:
            raise InvalidState(f"The payroll run is {self.status}; only a posted run is "
                               "paid.", status=self.status)

    def pay(self, paid_on: date, bank_account_code: str, transaction_id: UUID,
            by: str) -> None:
        self.check_payable()
        self._record(PayrollRunPaid(self.id, paid_on, bank_account_code, transaction_id, by))

    def check_reversible(self) -> None:
        if self.status == PAID:
            raise InvalidState("The payroll run is paid; it cannot be reversed.",
                               status=self.status)
        if self.status != POSTED:
            raise InvalidState(f"The payroll run is {self.status}; only a posted, unpaid run "
                               "is reversed.", status=self.status)

    def reverse(self, reversal_transaction_id: UUID, reason: str, by: str) -> None:
        self.check_reversible()
        self._record(PayrollRunReversed(self.id, reversal_transaction_id, reason, by))

    def discard(self, by: str) -> None:
        if self.status != DRAFT:
            raise InvalidState(f"The payroll run is {self.status}; only a draft is "
                               "discarded.", status=self.status)
        self._record(PayrollRunDiscarded(self.id, by))

    def _record(self, event: DomainEvent, lines: list[PayLine] | None = None) -> None:
        self._apply(event, lines)
        self.version += 1
        self.pending.append(event)

    def _apply(self, event: DomainEvent, lines: list[PayLine] | None = None) -> None:
        match event:
            case PayrollRunDrafted():
                self.period, self.payment_date = event.period, event.payment_date
                self.rates = dict(event.rates)
                # ``lines``: the drafting command's own, the same as the event's.
                self.lines = lines if lines is not None else [PayLine.from_data(x)
                                                               for x in event.lines]
                self.status = DRAFT
            case PayrollRunPosted():
                self.status, self.transaction_id = POSTED, event.transaction_id
            case PayrollRunPaid():
                self.status, self.paid_on = PAID, event.paid_on
                self.payment_transaction_id = event.transaction_id
            case PayrollRunReversed():
                self.status = REVERSED
                self.reversal_transaction_id = event.reversal_transaction_id
            case PayrollRunDiscarded():
                self.status = DISCARDED

    @property
    def totals(self) -> dict[str, Decimal]:
        return totals(self.lines)


# ---------------------------------------------------------------------- journals


#: Accounts of the ge-standard chart (georgia.md §5.4; ledger/charts/ge-standard.csv).
SALARY_EXPENSE = "7410"
EMPLOYER_PENSION_EXPENSE = "7415"
SALARIES_PAYABLE = "3130"
INCOME_TAX_PAYABLE = "3320"
PENSION_PAYABLE = "3321"
WITHHOLDING_PAYABLE = "3322"
PROFIT_TAX_PAYABLE = "3310"
PROFIT_TAX_EXPENSE = "9210"
RETAINED_EARNINGS = "5310"
DIVIDENDS_PAYABLE = "3420"
DEFAULT_BANK = "1210"


def accrual_lines(t: Mapping[str, Decimal]) -> list[tuple[str, Decimal, Decimal, str]]:
    """The run's journal (georgia.md §5.4, gross 1,000: Dr 7410 1,000 / Cr 3130 784,
    Cr 3320 196, Cr 3321 20; Dr 7415 20 / Cr 3321 20): (account, debit, credit, text),
    zero lines left out."""
    lines = [
        (SALARY_EXPENSE, t["gross"], ZERO, "Gross salaries"),
        (EMPLOYER_PENSION_EXPENSE, t["pension_employer"], ZERO, "Employer pension 2%"),
        (SALARIES_PAYABLE, ZERO, t["net"], "Net pay payable"),
        (INCOME_TAX_PAYABLE, ZERO, t["income_tax"], "Income tax withheld"),
        (PENSION_PAYABLE, ZERO, t["pension_employee"] + t["pension_employer"],
         "Pension contributions payable (employee and employer)"),
    ]
    return [x for x in lines if x[1] or x[2]]


def payment_lines(t: Mapping[str, Decimal], bank: str
                  ) -> list[tuple[str, Decimal, Decimal, str]]:
    """Paying a run on its payment date: net pay to the employees, the withheld income
    tax and the pension contributions to the budget, all from ``bank`` (income tax is
    due the day salaries are paid, georgia.md §2 [C]; pension timing UNCONFIRMED)."""
    pension = t["pension_employee"] + t["pension_employer"]
    total = t["net"] + t["income_tax"] + pension
    lines = [
        (SALARIES_PAYABLE, t["net"], ZERO, "Net pay transferred"),
        (INCOME_TAX_PAYABLE, t["income_tax"], ZERO, "Income tax paid to the budget"),
        (PENSION_PAYABLE, pension, ZERO, "Pension contributions paid"),
        (bank, ZERO, total, "Payroll payment"),
    ]
    return [x for x in lines if x[1] or x[2]]
