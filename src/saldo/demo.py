"""``saldo demo``: a company with a year of books, so a new user meets a living ledger.

It creates one user per role and "Demo LLC" (a VAT payer, GEL), and posts a year of
activity in fiscal year ``year`` through :class:`~saldo.ledger.service.LedgerService`,
so every figure is a real event with its read models. Most transactions are posted in
monthly batches (``post_batch``, by the chief accountant, as an import would be); a few
go through the normal cycle -- the accountant drafts, the chief accountant approves, the
accountant posts -- and two drafts are left for the UI.

The activity (GEL unless noted; m = month 1..12, "last" = the month's last day)::

    day   what (how)                          Dr                      Cr                     n
    ----  ----------------------------------  ----------------------  ---------------------  --
    Jan 2 capital contribution (cycle)        1210 50,000             5150 50,000             1
    3     goods bought, input VAT 18%         1610 12,000             3110 14,160            12
                                              3340 2,160
    5     office rent (December: cycle)       7420 2,000              1210 2,000             12
    5     net salaries of m-1 paid, m >= 2    3130 3,920              1210 3,920             11
    5     income tax and pension of m-1 paid  3320 980, 3321 200      1210 1,180             11
          on salary day, m >= 2
    15    VAT return of m-1 paid, m >= 2      3330 3,600              3340 2,160, 1210 1,440 11
    15    goods sold, output VAT 18%          1410 23,600             6110 20,000            12
                                                                      3330 3,600
    20    supplier paid, m <= 11              3110 14,160             1210 14,160            11
    25    customer paid, m <= 11              1210 23,600             1410 23,600            11
    last  cost of goods sold                  7210 11,000             1610 11,000            12
    last  salaries, gross 5,000, and the      7410 5,000 (gross)      3130 3,920 (net)       12
          employer's pension 2%               7415 100 (employer)     3320 980 (income tax)
                                                                      3321 100 (employee)
                                                                      3321 100 (employer)
    last  bank charges                        7492 25                 1210 25                12
    Jun18 export, paid in USD (cycle), at     1220 USD 5,000          6115 USD 5,000          1
          the NBG rate of its date (2.7180)   = GEL 13,590            = GEL 13,590
    Jun18 cost of the goods exported          7210 3,500              1610 3,500              1
    Dec31 IAS 21 revaluation at 2.6950        8245 115                1220 115                1
          (USD 5,000 x 2.6950 = 13,475)

That is 131 posted transactions in the year, numbered 1..131, and the revaluation's
reversal on 1 January of the next year (number 1 of that year; docs/currencies.md).
Salaries follow georgia.md §2: pension 2% of gross from the employee (100) and 2% on top
from the employer (100), both payable on 3321; income tax 20% of gross less the
employee's pension (20% of 4,900 = 980). Withheld income tax is due the day salaries are
paid, so income tax and pension leave the bank with the net salaries, on the 5th. The
export is zero-rated (0% VAT, export revenue 6115) and carries its cost of sales; with no
rate given it takes the official rate in effect on its date, and USD 5,000 on the bank
account is revalued at the closing rate on 31 December (IAS 21.23). The demo enters the two
rates it needs (18 June 2.7180, 31 December 2.6950 GEL per USD) as manual rates, unless
rates for those days are loaded already (``saldo rates fetch``). Left as drafts, by the
accountant: a sale of 1,180 (Dec 29) and a purchase of 2,360 (Dec 30); they change no
balance.

Balances on 31 December (debit − credit): 1210 57,600; 1220 13,475; 1410 23,600;
1610 8,500; 3110 −14,160; 3130 −3,920; 3320 −980; 3321 −200; 3330 −3,600; 3340 2,160;
5150 −50,000; 6110 −240,000; 6115 −13,590; 7210 135,500; 7410 60,000; 7415 1,200;
7420 24,000; 7492 300; 8245 115. Profit for the year 32,475 (253,590 − 221,115).
"""

from __future__ import annotations

import calendar
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal
from uuid import UUID

from saldo.bootstrap import Container
from saldo.fx import queries as fx_queries
from saldo.fx.domain import SOURCE_MANUAL, OfficialRate
from saldo.fx.service import FxService
from saldo.identity import store as identity_store
from saldo.identity.domain import NewCompany, Permission, Role, check_password
from saldo.kernel.errors import Conflict
from saldo.ledger.domain import ContentInput, LineDraft, check_openable

COMPANY_NAME = "Demo LLC"
COMPANY_TAX_ID = "205123456"

#: (username, role, full name): one user per role.
USERS: tuple[tuple[str, Role, str], ...] = (
    ("demo-chief", Role.CHIEF_ACCOUNTANT, "Nino Beridze"),
    ("demo-accountant", Role.ACCOUNTANT, "Giorgi Kapanadze"),
    ("demo-tax", Role.TAX_SPECIALIST, "Tamar Lomidze"),
    ("demo-auditor", Role.AUDITOR, "Levan Gelashvili"),
    ("demo-admin", Role.ADMIN, "Ana Tsiklauri"),
)
CHIEF, ACCOUNTANT = "demo-chief", "demo-accountant"

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")

How = Literal["batch", "cycle", "draft"]


class DemoExists(Conflict):
    code = "demo_exists"
    title = "The demo company exists already"


@dataclass(frozen=True, slots=True)
class Step:
    """One transaction of the scenario and how it enters the books."""

    content: ContentInput
    how: How = "batch"


@dataclass(slots=True)
class DemoResult:
    company_id: UUID
    year: int
    #: (username, role, password), in :data:`USERS` order.
    users: list[tuple[str, Role, str]] = field(default_factory=list)
    posted: int = 0
    drafts: int = 0


def _tx(day: date, description: str, lines: list[tuple[str, str, str, str]],
        reference: str | None = None, currency: str | None = None,
        rate: str | None = None) -> ContentInput:
    """``lines``: (account, debit, credit, line description), "" for the empty side."""
    return ContentInput(day, description, [
        LineDraft(account, debit or None, credit or None, description=text)
        for account, debit, credit, text in lines], reference, currency, rate)


def scenario(year: int) -> list[Step]:
    """The year of activity of the module docstring, in date order."""
    steps: list[Step] = []
    for m in range(1, 13):
        month, last = MONTHS[m - 1], calendar.monthrange(year, m)[1]
        previous = MONTHS[m - 2]

        def on(day: int, m: int = m) -> date:
            return date(year, m, day)

        if m == 1:
            steps.append(Step(_tx(on(2), "Capital contribution by the founder", [
                ("1210", "50000.00", "", "შენატანი საწესდებო კაპიტალში"),
                ("5150", "", "50000.00", "Charter capital")], f"CAP-{year}"), "cycle"))
        steps.append(Step(_tx(on(3), f"Goods from Kutaisi Wholesale LLC, {month}", [
            ("1610", "12000.00", "", "საქონელი"),
            ("3340", "2160.00", "", "Input VAT 18% (ჩათვლადი დღგ)"),
            ("3110", "", "14160.00", "Kutaisi Wholesale LLC")], f"PUR-{year}-{m:02d}")))
        steps.append(Step(_tx(on(5), f"Office rent, {month}", [
            ("7420", "2000.00", "", "იჯარა, ვაკის ბიზნეს ცენტრი"),
            ("1210", "", "2000.00", "")], f"RENT-{year}-{m:02d}"),
            "cycle" if m == 12 else "batch"))
        if m >= 2:
            steps.append(Step(_tx(on(5), f"Net salaries for {previous} paid", [
                ("3130", "3920.00", "", "ხელფასის გაცემა"),
                ("1210", "", "3920.00", "")], f"PAY-{year}-{m - 1:02d}")))
            # Withheld income tax is due the day salaries are paid (georgia.md §2).
            steps.append(Step(_tx(on(5), f"Income tax and pension for {previous} paid", [
                ("3320", "980.00", "", "საშემოსავლო გადასახადი"),
                ("3321", "200.00", "", "საპენსიო შენატანი"),
                ("1210", "", "1180.00", "")], f"TAX-{year}-{m - 1:02d}")))
            steps.append(Step(_tx(on(15), f"VAT return for {previous} paid", [
                ("3330", "3600.00", "", "Output VAT"),
                ("3340", "", "2160.00", "Input VAT offset"),
                ("1210", "", "1440.00", "დღგ ბიუჯეტში")], f"VAT-{year}-{m - 1:02d}")))
        steps.append(Step(_tx(on(15), f"Sale of goods to Tbilisi Trade LLC, {month}", [
            ("1410", "23600.00", "", "Tbilisi Trade LLC"),
            ("6110", "", "20000.00", "რეალიზაცია"),
            ("3330", "", "3600.00", "Output VAT 18% (დღგ)")], f"INV-{year}-{m:02d}")))
        if m == 6:
            # No rate given: the official rate in effect on the day (EXPORT_RATE).
            steps.append(Step(_tx(on(18), "Export to Anatolia Imports Ltd, paid in USD", [
                ("1220", "5000.00", "", "USD account"),
                ("6115", "", "5000.00", "Export, 0% VAT")], f"EXP-{year}-1", "USD"),
                "cycle"))
            steps.append(Step(_tx(on(18), "Cost of the goods exported to Anatolia Imports", [
                ("7210", "3500.00", "", "რეალიზებული საქონლის თვითღირებულება"),
                ("1610", "", "3500.00", "")], f"EXP-{year}-1")))
        if m <= 11:
            steps.append(Step(_tx(on(20), f"Kutaisi Wholesale LLC paid, {month} delivery", [
                ("3110", "14160.00", "", "Kutaisi Wholesale LLC"),
                ("1210", "", "14160.00", "")], f"PUR-{year}-{m:02d}")))
            steps.append(Step(_tx(on(25), f"Tbilisi Trade LLC paid, {month} invoice", [
                ("1210", "23600.00", "", ""),
                ("1410", "", "23600.00", "Tbilisi Trade LLC")], f"INV-{year}-{m:02d}")))
        steps.append(Step(_tx(on(last), f"Cost of goods sold, {month}", [
            ("7210", "11000.00", "", "რეალიზებული საქონლის თვითღირებულება"),
            ("1610", "", "11000.00", "")])))
        steps.append(Step(_tx(on(last), f"Salaries for {month}", [
            ("7410", "5000.00", "", "Gross salaries (ხელფასი)"),
            ("7415", "100.00", "", "Employer pension 2%"),
            ("3130", "", "3920.00", "Net salaries"),
            ("3320", "", "980.00", "Income tax 20% (საშემოსავლო)"),
            ("3321", "", "100.00", "Employee pension 2%"),
            ("3321", "", "100.00", "Employer pension 2%")], f"PAY-{year}-{m:02d}")))
        steps.append(Step(_tx(on(last), f"Bank charges, {month}", [
            ("7492", "25.00", "", "საბანკო მომსახურება"),
            ("1210", "", "25.00", "")])))
    steps.append(Step(_tx(date(year, 12, 29), "Sale to Batumi Market LLC (to approve)", [
        ("1410", "1180.00", "", "Batumi Market LLC"),
        ("6110", "", "1000.00", "რეალიზაცია"),
        ("3330", "", "180.00", "Output VAT 18%")], f"INV-{year}-13"), "draft"))
    steps.append(Step(_tx(date(year, 12, 30), "Goods from Kutaisi Wholesale LLC (to check)", [
        ("1610", "2000.00", "", "საქონელი"),
        ("3340", "360.00", "", "Input VAT 18%"),
        ("3110", "", "2360.00", "Kutaisi Wholesale LLC")], f"PUR-{year}-13"), "draft"))
    return sorted(steps, key=lambda s: s.content.date)


#: The official USD rates the demo needs: the export's day and the year end (entered as
#: manual rates unless rates for those days are loaded already).
EXPORT_RATE, CLOSING_RATE = Decimal("2.7180"), Decimal("2.6950")


async def _rates(container: Container, year: int) -> None:
    fx = container.services["fx"]
    assert isinstance(fx, FxService)
    wanted = {date(year, 6, 18): EXPORT_RATE, date(year, 12, 31): CLOSING_RATE}
    async with container.app_db.transaction() as conn:
        for day in list(wanted):
            found = await fx_queries.rate_in_effect(conn, "USD", day)
            if found is not None and found.valid_from == day:
                del wanted[day]
    await fx.store_rates([OfficialRate("USD", day, rate, SOURCE_MANUAL)
                          for day, rate in wanted.items()], "saldo demo")


def default_year(today: date) -> int:
    """The previous calendar year: every month of it is complete."""
    return today.year - 1


async def first_start(container: Container) -> bool:
    """Whether this looks like a new installation: no company, and no demo users.

    Read on the privileged pool. A migrating login that is not a superuser is subject to
    the companies table's row-level security and sees none; the demo users' absence
    keeps the offer from returning once the demo has been loaded.
    """
    async with container.db.connection() as conn:
        cursor = await conn.execute(
            "SELECT NOT EXISTS (SELECT 1 FROM companies)"
            "   AND NOT EXISTS (SELECT 1 FROM users WHERE lower(username) = lower(%s))"
            " AS fresh", (CHIEF,))
        row = await cursor.fetchone()
        await conn.rollback()
    return bool(row and row["fresh"])


async def existing_users(container: Container) -> list[str]:
    async with container.app_db.transaction() as conn:
        return [name for name, _, _ in USERS
                if await identity_store.user_by_username(conn, name) is not None]


async def load(container: Container, year: int, password: str | None = None,
               progress: Callable[[int, int], None] | None = None) -> DemoResult:
    """Create the demo users and company and post the year. ``password`` for every user,
    else a random one each. Raises :class:`DemoExists` if any demo user exists (nothing
    is changed then). Needs both pools open and the schema current."""
    ledger, identity = container.ledger, container.identity
    check_openable(year, ledger.today(), 1, ledger.history_years)
    passwords = {}
    for name, _, _ in USERS:
        passwords[name] = password or secrets.token_urlsafe(15)
        check_password(passwords[name], name)
    if taken := await existing_users(container):
        raise DemoExists(
            f"The demo users exist already ({', '.join(taken)}): the demo company was "
            "loaded before, and its passwords were printed then. Log in with those, or "
            "start from an empty database (another SALDO_DATA_DIR or SALDO_DATABASE_URL) "
            "to load it afresh.", users=taken)

    users = {name: await identity.create_user(name, passwords[name], full_name)
             for name, _, full_name in USERS}
    company = await identity.create_company(
        users[CHIEF], NewCompany(COMPANY_NAME, COMPANY_TAX_ID, vat_payer=True))
    admin = await identity.member_context(company.id, CHIEF, Permission.ADMIN_USERS)
    for name, role, _ in USERS:
        if name != CHIEF:
            await identity.add_member(admin, name, role)
    result = DemoResult(company.id, year, [(n, r, passwords[n]) for n, r, _ in USERS])

    chief = await identity.member_context(company.id, CHIEF, Permission.TRANSACTIONS_APPROVE)
    clerk = await identity.member_context(company.id, ACCOUNTANT, Permission.TRANSACTIONS_WRITE)
    await _rates(container, year)
    steps = scenario(year)
    total = sum(s.how != "draft" for s in steps) + 1  # and the year-end revaluation
    for m in range(1, 13):
        month = [s for s in steps if s.content.date.month == m]
        for step in (s for s in month if s.how == "cycle"):
            tx, _ = await ledger.draft(clerk, step.content)
            await ledger.approve(chief, tx.id)
            await ledger.post(clerk, tx.id)
            result.posted += 1
        batch = [(i, s.content) for i, s in enumerate(month, start=1) if s.how == "batch"]
        if batch:
            outcome = await ledger.post_batch(chief, batch)
            if not outcome.ok:  # the scenario is fixed: a finding here is a bug
                raise RuntimeError(f"demo batch for month {m} rejected: {outcome.findings}")
            result.posted += len(outcome.posted)
        for step in (s for s in month if s.how == "draft"):
            await ledger.draft(clerk, step.content)
            result.drafts += 1
        if m == 12:  # IAS 21.23: the USD account at the closing rate (reversed 1 Jan)
            await ledger.revalue(chief, date(year, 12, 31))
            result.posted += 1
        if progress is not None:
            progress(result.posted, total)
    return result
