"""Financial statements from account sums: the rules that map the chart into each
statement, with no I/O (docs/reporting.md shows every layout with a worked example).

Every statement is computed from :class:`Sums` per account -- opening debit and credit
before a range, the debit and credit turnover inside it, and the part of that turnover
made by year-end closing transactions -- which the ledger keeps per account and day
(``account_turnover``), so no statement reads the journal except the general ledger and
the direct cash-flow method, which need the lines themselves.

Sign conventions: balances are ``debit − credit`` internally. Statements show assets as
``debit − credit`` and liabilities, equity and income as ``credit − debit``; the profit or
loss lines are each line's contribution to profit (income positive, expenses negative),
so every subtotal is a plain sum of the lines above it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from saldo.kernel.errors import NotFound, RuleViolation
from saldo.kernel.money import round_half_up

ZERO = Decimal("0.00")

FORMATS = ("json", "csv", "xlsx", "pdf")
LANGUAGES = ("en", "ka")
LEVELS = ("class", "group", "account", "postable", "all")
CASH_FLOW_METHODS = ("indirect", "direct")
#: Cash and cash equivalents: everything under these group headers (docs/reporting.md).
CASH_GROUPS = ("1100", "1200")


def money(amount: Decimal) -> str:
    """An amount as the API shows it: a string with two decimals ("1180.00")."""
    return f"{amount:.2f}"


# ---------------------------------------------------------------------- errors


class InvalidDateRange(RuleViolation):
    code = "invalid_date_range"
    title = "The range ends before it starts"
    exposed = ("date_from", "date_to")


class UnsupportedFormat(RuleViolation):
    code = "unsupported_format"
    title = "Unsupported report format"
    exposed = ("supported",)


class UnsupportedLanguage(RuleViolation):
    code = "unsupported_language"
    title = "Unsupported language"
    exposed = ("supported",)


class InvalidLevel(RuleViolation):
    code = "invalid_level"
    title = "Unknown trial balance level"
    exposed = ("supported",)


class InvalidAccountClass(RuleViolation):
    code = "invalid_account_class"
    title = "Account classes are 1 to 9"


class InvalidMethod(RuleViolation):
    code = "invalid_cash_flow_method"
    title = "Unknown cash-flow method"
    exposed = ("supported",)


class UnknownAccount(NotFound):
    code = "account_not_found"
    title = "Unknown account"


class UnknownReport(NotFound):
    code = "report_not_found"
    title = "Unknown report"


def check_range(date_from: date, date_to: date) -> None:
    if date_from > date_to:
        raise InvalidDateRange(f"date_from {date_from} is after date_to {date_to}.",
                               date_from=date_from.isoformat(), date_to=date_to.isoformat())


def check_choice(value: str, choices: Sequence[str], error: type[RuleViolation],
                 what: str) -> str:
    if value not in choices:
        raise error(f"Unknown {what} {value!r}; use one of {', '.join(choices)}.",
                    supported=list(choices))
    return value


def fiscal_year_start(day: date, start_month: int) -> date:
    """The first day of the fiscal year ``day`` falls in."""
    year = day.year if day.month >= start_month else day.year - 1
    return date(year, start_month, 1)


# ---------------------------------------------------------------------- names


@dataclass(frozen=True, slots=True)
class Name:
    """A label in English and Georgian."""

    en: str
    ka: str

    def __call__(self, lang: str) -> str:
        return self.ka if lang == "ka" else self.en


# ---------------------------------------------------------------------- the chart


@dataclass(frozen=True, slots=True)
class Account:
    code: str
    name: str
    name_ka: str
    type: str  # asset, liability, equity, revenue, expense
    classification: str
    parent_code: str | None = None
    postable: bool = True
    active: bool = True

    @property
    def label(self) -> Name:
        return Name(self.name, self.name_ka)

    @property
    def in_profit_or_loss(self) -> bool:
        return self.type in ("revenue", "expense")


class Chart:
    """The company's accounts as a tree (``parent_code``)."""

    def __init__(self, accounts: Iterable[Account]) -> None:
        self.accounts: dict[str, Account] = {a.code: a for a in accounts}
        self._lineage: dict[str, tuple[str, ...]] = {}
        self._children: dict[str, list[str]] = {}
        for a in sorted(self.accounts.values(), key=lambda a: a.code):
            if a.parent_code is not None:
                self._children.setdefault(a.parent_code, []).append(a.code)

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]]) -> Chart:
        return cls(Account(r["code"], r["name"], r["name_ka"], r["type"], r["classification"],
                           r["parent_code"], r["postable"], r["active"]) for r in rows)

    def __contains__(self, code: object) -> bool:
        return code in self.accounts

    def __getitem__(self, code: str) -> Account:
        account = self.accounts.get(code)
        if account is None:  # never for posted lines: accounts with postings stay
            account = Account(code, code, code, _type_of_class(code), "", None)
            self.accounts[code] = account
        return account

    def lineage(self, code: str) -> tuple[str, ...]:
        """The account's ancestors and itself, root first: ``1210.01`` →
        (1000, 1200, 1210, 1210.01)."""
        cached = self._lineage.get(code)
        if cached is None:
            chain = [code]
            parent = self[code].parent_code
            while parent is not None and parent in self.accounts and parent not in chain:
                chain.append(parent)
                parent = self.accounts[parent].parent_code
            cached = self._lineage[code] = tuple(reversed(chain))
        return cached

    def depth(self, code: str) -> int:
        return len(self.lineage(code)) - 1

    def is_under(self, code: str, ancestor: str) -> bool:
        return ancestor in self.lineage(code)

    def group_of(self, code: str) -> str:
        """The group header (``XY00``, depth 1) the account belongs to."""
        lineage = self.lineage(code)
        return lineage[min(1, len(lineage) - 1)]

    def class_of(self, code: str) -> int | None:
        root = self.lineage(code)[0]
        return int(root[0]) if root[:1].isdigit() else None

    def leaves(self, code: str) -> list[str]:
        """The postable accounts at or under ``code``."""
        found: list[str] = []
        stack = [code]
        while stack:
            current = stack.pop()
            if self[current].postable:
                found.append(current)
            stack.extend(self._children.get(current, ()))
        return sorted(found)

    def is_cash(self, code: str) -> bool:
        return any(self.is_under(code, group) for group in CASH_GROUPS)


def _type_of_class(code: str) -> str:
    return {"1": "asset", "2": "asset", "3": "liability", "4": "liability", "5": "equity",
            "6": "revenue"}.get(code[:1], "expense")


# ---------------------------------------------------------------------- sums


@dataclass(frozen=True, slots=True)
class Sums:
    """One account's figures for a range: totals before it (``opening_*``), turnover in it,
    and the part of that turnover made by year-end closing transactions (``year_end_*``,
    included in ``debit``/``credit``)."""

    opening_debit: Decimal = ZERO
    opening_credit: Decimal = ZERO
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    year_end_debit: Decimal = ZERO
    year_end_credit: Decimal = ZERO

    @property
    def opening(self) -> Decimal:
        return self.opening_debit - self.opening_credit

    @property
    def movement(self) -> Decimal:
        return self.debit - self.credit

    @property
    def closing(self) -> Decimal:
        return self.opening + self.movement

    @property
    def regular_movement(self) -> Decimal:
        """The movement without year-end closing transactions (what profit or loss sees)."""
        return self.movement - (self.year_end_debit - self.year_end_credit)

    def __add__(self, other: Sums) -> Sums:
        return Sums(self.opening_debit + other.opening_debit,
                    self.opening_credit + other.opening_credit, self.debit + other.debit,
                    self.credit + other.credit, self.year_end_debit + other.year_end_debit,
                    self.year_end_credit + other.year_end_credit)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Sums:
        return cls(*(Decimal(row[k]) for k in ("opening_debit", "opening_credit", "debit",
                                                "credit", "year_end_debit",
                                                "year_end_credit")))


def sides(net: Decimal) -> tuple[Decimal, Decimal]:
    """A balance in the debit column when positive, else in the credit column."""
    return (net, ZERO) if net > 0 else (ZERO, -net)


def unclosed_result(chart: Chart, sums: Mapping[str, Sums]) -> tuple[Decimal, Decimal]:
    """Profit not yet closed into retained earnings, at the start and the end of the range:
    ``−Σ(revenue and expense balances)``, year-end closings included (zero once closed)."""
    opening = closing = ZERO
    for code, s in sums.items():
        if chart[code].in_profit_or_loss:
            opening -= s.opening
            closing -= s.closing
    return opening, closing


def profit(chart: Chart, sums: Mapping[str, Sums]) -> Decimal:
    """Profit for the range: income less expenses, year-end closings excluded."""
    return -sum((s.regular_movement for code, s in sums.items()
                 if chart[code].in_profit_or_loss), ZERO)


# ---------------------------------------------------------------------- trial balance


@dataclass(frozen=True, slots=True)
class TrialBalanceRow:
    account: Account
    depth: int
    sums: Sums

    @property
    def columns(self) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal, Decimal]:
        od, oc = sides(self.sums.opening)
        cd, cc = sides(self.sums.closing)
        return od, oc, self.sums.debit, self.sums.credit, cd, cc


TB_COLUMNS = ("opening_debit", "opening_credit", "debit", "credit", "closing_debit",
              "closing_credit")


@dataclass(frozen=True, slots=True)
class TrialBalance:
    """The turnover trial balance (ბრუნვითი უწყისი)."""

    date_from: date
    date_to: date
    level: str
    rows: tuple[TrialBalanceRow, ...]
    totals: tuple[Decimal, ...]

    def as_json(self, lang: str) -> dict[str, Any]:
        rows = []
        for r in self.rows:
            row: dict[str, Any] = {"code": r.account.code, "name": r.account.label(lang),
                                   "name_ka": r.account.name_ka, "level": r.depth,
                                   "postable": r.account.postable}
            row.update(zip(TB_COLUMNS, map(money, r.columns), strict=True))
            rows.append(row)
        return {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat(),
                "level": self.level, "rows": rows,
                "totals": dict(zip(TB_COLUMNS, map(money, self.totals), strict=True))}


def rolled_up(chart: Chart, sums: Mapping[str, Sums]) -> dict[str, Sums]:
    """Every account's sums with its sub-accounts' added: a header holds its subtree."""
    totals: dict[str, Sums] = {}
    for code, s in sums.items():
        for ancestor in chart.lineage(code):
            totals[ancestor] = totals.get(ancestor, Sums()) + s
    return totals


def trial_balance(chart: Chart, sums: Mapping[str, Sums], date_from: date, date_to: date,
                  level: str = "postable", account_class: int | None = None,
                  include_zero: bool = False) -> TrialBalance:
    """Rows at ``level``: ``postable`` (default) the accounts that take postings, no
    roll-up rows; ``class``/``group``/``account`` the headers at depth 0/1/2 holding their
    subtree (with any postable account above that depth, so nothing is left out);
    ``all`` every account, headers rolled up. Totals add the rows shown -- for ``all``
    the postable rows only, so nothing is counted twice."""
    rolled = rolled_up(chart, sums)
    depth_of = {"class": 0, "group": 1, "account": 2}
    rows: list[TrialBalanceRow] = []
    for code in sorted(chart.accounts):
        account = chart[code]
        depth = chart.depth(code)
        if level in depth_of:
            wanted = depth == depth_of[level] or (account.postable and depth < depth_of[level])
        else:
            wanted = level == "all" or account.postable
        if not wanted or (account_class is not None and chart.class_of(code) != account_class):
            continue
        row = TrialBalanceRow(account, depth, rolled.get(code, Sums()))
        if not any(row.columns) and not (include_zero and account.active):
            continue
        rows.append(row)
    counted = [r for r in rows if level != "all" or r.account.postable]
    totals = tuple(sum((r.columns[i] for r in counted), ZERO) for i in range(6))
    return TrialBalance(date_from, date_to, level, tuple(rows), totals)


# ---------------------------------------------------------------------- general ledger


@dataclass(frozen=True, slots=True)
class LedgerLine:
    day: date
    number: int
    transaction_id: UUID
    description: str
    counter_accounts: tuple[str, ...]
    debit: Decimal
    credit: Decimal
    balance: Decimal  # running, debit − credit


@dataclass(frozen=True, slots=True)
class AccountCard:
    """One account's page of the general ledger (ანგარიშის ბარათი)."""

    account: Account
    opening: Decimal
    lines: tuple[LedgerLine, ...]

    @property
    def debit(self) -> Decimal:
        return sum((line.debit for line in self.lines), ZERO)

    @property
    def credit(self) -> Decimal:
        return sum((line.credit for line in self.lines), ZERO)

    @property
    def closing(self) -> Decimal:
        return self.opening + self.debit - self.credit

    def as_json(self, lang: str) -> dict[str, Any]:
        od, oc = sides(self.opening)
        cd, cc = sides(self.closing)
        return {
            "code": self.account.code, "name": self.account.label(lang),
            "name_ka": self.account.name_ka,
            "opening": money(self.opening), "opening_debit": money(od),
            "opening_credit": money(oc),
            "lines": [{"date": ln.day.isoformat(), "number": ln.number,
                       "transaction_id": str(ln.transaction_id),
                       "description": ln.description,
                       "counter_accounts": list(ln.counter_accounts),
                       "debit": money(ln.debit), "credit": money(ln.credit),
                       "balance": money(ln.balance)} for ln in self.lines],
            "debit": money(self.debit), "credit": money(self.credit),
            "closing": money(self.closing), "closing_debit": money(cd),
            "closing_credit": money(cc),
        }


def account_card(account: Account, opening: Decimal,
                 lines: Iterable[Mapping[str, Any]]) -> AccountCard:
    """The card of ``account``: ``lines`` in date and number order, each with the running
    balance after it."""
    balance = opening
    out: list[LedgerLine] = []
    for raw in lines:
        debit, credit = Decimal(raw["debit"]), Decimal(raw["credit"])
        balance += debit - credit
        out.append(LedgerLine(raw["date"], raw["number"], raw["transaction_id"],
                              raw["description"], tuple(raw["counter_accounts"]), debit,
                              credit, balance))
    return AccountCard(account, opening, tuple(out))


@dataclass(frozen=True, slots=True)
class GeneralLedger:
    date_from: date
    date_to: date
    account: str | None
    cards: tuple[AccountCard, ...]

    def as_json(self, lang: str) -> dict[str, Any]:
        return {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat(),
                "account": self.account, "accounts": [c.as_json(lang) for c in self.cards]}


# ---------------------------------------------------------------------- statement lines


@dataclass(frozen=True, slots=True)
class Line:
    """A statement line: one amount per column (the period, then the comparative one),
    with the accounts (or groups) that make it up as children."""

    key: str
    name: Name
    amounts: tuple[Decimal, ...]
    code: str | None = None
    kind: str = "line"  # line, subtotal, total
    children: tuple[Line, ...] = ()

    def as_json(self, lang: str) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "code": self.code, "name": self.name(lang),
                                "name_ka": self.name.ka, "kind": self.kind,
                                "amount": money(self.amounts[0]),
                                "comparative": money(self.amounts[1])
                                if len(self.amounts) > 1 else None}
        if self.children:
            data["accounts"] = [c.as_json(lang) for c in self.children]
        return data


def _add(a: tuple[Decimal, ...], b: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
    return tuple(x + y for x, y in zip(a, b, strict=True))


def _total(lines: Iterable[Line], width: int) -> tuple[Decimal, ...]:
    total = (ZERO,) * width
    for line in lines:
        total = _add(total, line.amounts)
    return total


def _grouped(chart: Chart, amounts: Mapping[str, tuple[Decimal, ...]], width: int,
             group_of: Any = None) -> list[Line]:
    """Accounts gathered under their group header (``XY00``), zero rows left out."""
    group_of = group_of or chart.group_of
    groups: dict[str, list[Line]] = {}
    for code in sorted(amounts):
        values = amounts[code]
        if any(values):
            groups.setdefault(group_of(code), []).append(
                Line(code, chart[code].label, values, code))
    return [Line(group, chart[group].label, _total(children, width), group,
                 children=tuple(children))
            for group, children in sorted(groups.items())]


# ---------------------------------------------------------------------- financial position

BS_SECTIONS: tuple[tuple[str, str, Name], ...] = (
    ("non_current_assets", "assets", Name("Non-current assets", "გრძელვადიანი აქტივები")),
    ("current_assets", "assets", Name("Current assets", "მიმდინარე აქტივები")),
    ("equity", "equity_and_liabilities", Name("Equity", "საკუთარი კაპიტალი")),
    ("non_current_liabilities", "equity_and_liabilities",
     Name("Non-current liabilities", "გრძელვადიანი ვალდებულებები")),
    ("current_liabilities", "equity_and_liabilities",
     Name("Current liabilities", "მიმდინარე ვალდებულებები")),
)
_BS_BY_CLASSIFICATION = {"non_current_asset": "non_current_assets",
                         "current_asset": "current_assets", "equity": "equity",
                         "non_current_liability": "non_current_liabilities",
                         "current_liability": "current_liabilities"}
_BS_BY_TYPE = {"asset": "current_assets", "liability": "current_liabilities",
               "equity": "equity"}
CURRENT_RESULT = Name("Profit (loss) for the current period, not yet closed",
                      "მიმდინარე პერიოდის მოგება (ზარალი)")
EARLIER_RESULT = Name("Unclosed profit (loss) of earlier years",
                      "წინა წლების დაუხურავი მოგება (ზარალი)")
TOTAL_ASSETS = Name("Total assets", "სულ აქტივები")
TOTAL_EQUITY = Name("Total equity", "სულ საკუთარი კაპიტალი")
TOTAL_LIABILITIES = Name("Total liabilities", "სულ ვალდებულებები")
TOTAL_EQUITY_AND_LIABILITIES = Name("Total equity and liabilities",
                                    "სულ საკუთარი კაპიტალი და ვალდებულებები")


def position_section(account: Account) -> str:
    """The balance-sheet section of a balance-sheet account: by its classification (the
    chart's: class 1 current assets, 2 non-current, 3 current liabilities, 4 non-current,
    5 equity), else by its type."""
    return _BS_BY_CLASSIFICATION.get(account.classification) or _BS_BY_TYPE[account.type]


@dataclass(frozen=True, slots=True)
class PositionColumn:
    """What one column of the statement needs: balances (``debit − credit``) as of the
    date and the unclosed result, split into the current fiscal year's and earlier."""

    as_of: date
    balances: Mapping[str, Decimal]
    current_result: Decimal
    earlier_result: Decimal


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    side: str
    name: Name
    lines: tuple[Line, ...]
    total: tuple[Decimal, ...]

    def as_json(self, lang: str) -> dict[str, Any]:
        return {"key": self.key, "side": self.side, "name": self.name(lang),
                "name_ka": self.name.ka, "lines": [x.as_json(lang) for x in self.lines],
                "total": money(self.total[0]),
                "comparative_total": money(self.total[1]) if len(self.total) > 1 else None}


@dataclass(frozen=True, slots=True)
class FinancialPosition:
    """The statement of financial position (ფინანსური მდგომარეობის ანგარიშგება)."""

    as_of: date
    compare_to: date | None
    sections: tuple[Section, ...]

    def _section(self, key: str) -> tuple[Decimal, ...]:
        return next(s.total for s in self.sections if s.key == key)

    @property
    def total_assets(self) -> tuple[Decimal, ...]:
        return _add(self._section("non_current_assets"), self._section("current_assets"))

    @property
    def total_liabilities(self) -> tuple[Decimal, ...]:
        return _add(self._section("non_current_liabilities"),
                    self._section("current_liabilities"))

    @property
    def total_equity(self) -> tuple[Decimal, ...]:
        return self._section("equity")

    @property
    def total_equity_and_liabilities(self) -> tuple[Decimal, ...]:
        return _add(self.total_liabilities, self.total_equity)

    def as_json(self, lang: str) -> dict[str, Any]:
        def totals(i: int) -> dict[str, str]:
            return {"total_assets": money(self.total_assets[i]),
                    "total_liabilities": money(self.total_liabilities[i]),
                    "total_equity": money(self.total_equity[i]),
                    "total_equity_and_liabilities":
                        money(self.total_equity_and_liabilities[i])}

        return {"as_of": self.as_of.isoformat(),
                "compare_to": self.compare_to.isoformat() if self.compare_to else None,
                "sections": [s.as_json(lang) for s in self.sections], **totals(0),
                "comparative": totals(1) if self.compare_to else None,
                "balanced": all(a == b for a, b in zip(self.total_assets,
                                                       self.total_equity_and_liabilities,
                                                       strict=True))}


def financial_position(chart: Chart, columns: Sequence[PositionColumn]) -> FinancialPosition:
    """Assets as ``debit − credit``, equity and liabilities as ``credit − debit``, by
    section and group header; the unclosed result as equity lines of their own, so that
    assets = liabilities + equity holds at every date."""
    width = len(columns)
    per_section: dict[str, dict[str, tuple[Decimal, ...]]] = {k: {} for k, _, _ in BS_SECTIONS}
    codes = sorted({c for col in columns for c in col.balances})
    for code in codes:
        account = chart[code]
        if account.in_profit_or_loss:
            continue
        section = position_section(account)
        sign = 1 if section.endswith("assets") else -1
        per_section[section][code] = tuple(sign * col.balances.get(code, ZERO)
                                           for col in columns)
    sections = []
    for key, side, name in BS_SECTIONS:
        lines = _grouped(chart, per_section[key], width)
        if key == "equity":
            lines.append(Line("current_result", CURRENT_RESULT,
                              tuple(c.current_result for c in columns)))
            earlier = tuple(c.earlier_result for c in columns)
            if any(earlier):
                lines.append(Line("earlier_result", EARLIER_RESULT, earlier))
        sections.append(Section(key, side, name, tuple(lines), _total(lines, width)))
    return FinancialPosition(columns[0].as_of, columns[1].as_of if width > 1 else None,
                             tuple(sections))


# ---------------------------------------------------------------------- profit or loss

PL_LINES: tuple[tuple[str, Name], ...] = (
    ("revenue", Name("Revenue", "ამონაგები")),
    ("cost_of_sales", Name("Cost of sales", "რეალიზებული პროდუქციის თვითღირებულება")),
    ("gross_profit", Name("Gross profit", "საერთო მოგება")),
    ("operating_expenses", Name("Operating expenses", "საოპერაციო ხარჯები")),
    ("other_income", Name("Other income", "სხვა შემოსავლები")),
    ("other_expenses", Name("Other expenses", "სხვა ხარჯები")),
    ("fx_net", Name("Foreign exchange gains and losses (net)",
                    "საკურსო სხვაობით მიღებული შემოსავალი (ზარალი), ნეტო")),
    ("profit_before_tax", Name("Profit before tax", "მოგება დაბეგვრამდე")),
    ("profit_tax", Name("Profit tax", "მოგების გადასახადი")),
    ("profit", Name("Profit (loss) for the period", "პერიოდის მოგება (ზარალი)")),
)
_PL_BY_CLASSIFICATION = {"revenue": "revenue", "cost_of_sales": "cost_of_sales",
                         "operating_expense": "operating_expenses",
                         "other_income": "other_income", "other_expense": "other_expenses",
                         "fx_gain_loss": "fx_net", "profit_tax": "profit_tax"}
#: Subtotals: each is the sum of every line above it.
_PL_SUBTOTALS = {"gross_profit": "subtotal", "profit_before_tax": "subtotal",
                 "profit": "total"}


def profit_or_loss_line(account: Account) -> str:
    """The line of a revenue or expense account: by its classification (the chart's:
    6110/6120 revenue, 71xx–72xx cost of sales, 73xx–74xx operating expenses, 6190, 81xx
    and 9110 other income, 82xx and 9120 other expenses, 8140/8240 FX, 9210 profit tax),
    else other income or other expenses by its type."""
    line = _PL_BY_CLASSIFICATION.get(account.classification)
    if line is None:
        return "other_income" if account.type == "revenue" else "other_expenses"
    return line


@dataclass(frozen=True, slots=True)
class ProfitOrLoss:
    """The statement of profit or loss by nature (მოგებისა და ზარალის ანგარიშგება)."""

    date_from: date
    date_to: date
    compare: tuple[date, date] | None
    lines: tuple[Line, ...]
    revenue: tuple[Decimal, ...]
    expenses: tuple[Decimal, ...]

    @property
    def profit(self) -> tuple[Decimal, ...]:
        return tuple(r - e for r, e in zip(self.revenue, self.expenses, strict=True))

    def line(self, key: str) -> Line:
        return next(x for x in self.lines if x.key == key)

    def as_json(self, lang: str) -> dict[str, Any]:
        def totals(i: int) -> dict[str, str]:
            return {"revenue": money(self.revenue[i]), "expenses": money(self.expenses[i]),
                    "profit": money(self.profit[i])}

        return {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat(),
                "compare_from": self.compare[0].isoformat() if self.compare else None,
                "compare_to": self.compare[1].isoformat() if self.compare else None,
                "lines": [x.as_json(lang) for x in self.lines], **totals(0),
                "comparative": totals(1) if self.compare else None}


def profit_or_loss(chart: Chart, movements: Sequence[Mapping[str, Decimal]], date_from: date,
                   date_to: date, compare: tuple[date, date] | None = None) -> ProfitOrLoss:
    """``movements``: per column, each revenue and expense account's ``debit − credit`` over
    the range without year-end closing transactions. Each line shows its contribution to
    profit (``credit − debit``): income positive, expenses negative."""
    width = len(movements)
    per_line: dict[str, dict[str, tuple[Decimal, ...]]] = {k: {} for k, _ in PL_LINES}
    revenue, expenses = [ZERO] * width, [ZERO] * width
    for code in sorted({c for m in movements for c in m}):
        account = chart[code]
        if not account.in_profit_or_loss:
            continue
        values = tuple(-m.get(code, ZERO) for m in movements)
        per_line[profit_or_loss_line(account)][code] = values
        for i, v in enumerate(values):
            if account.type == "revenue":
                revenue[i] += v
            else:
                expenses[i] -= v
    lines: list[Line] = []
    running = (ZERO,) * width
    for key, name in PL_LINES:
        if key in _PL_SUBTOTALS:
            lines.append(Line(key, name, running, kind=_PL_SUBTOTALS[key]))
            continue
        children = tuple(Line(code, chart[code].label, values, code)
                         for code, values in sorted(per_line[key].items()) if any(values))
        amounts = _total(children, width)
        running = _add(running, amounts)
        lines.append(Line(key, name, amounts, children=children))
    return ProfitOrLoss(date_from, date_to, compare, tuple(lines), tuple(revenue),
                        tuple(expenses))


# ---------------------------------------------------------------------- cash flows

CF_SECTIONS: tuple[tuple[str, Name, Name], ...] = (
    ("operating", Name("Cash flows from operating activities",
                       "ფულადი ნაკადები საოპერაციო საქმიანობიდან"),
     Name("Net cash from operating activities",
          "წმინდა ფულადი ნაკადები საოპერაციო საქმიანობიდან")),
    ("investing", Name("Cash flows from investing activities",
                       "ფულადი ნაკადები საინვესტიციო საქმიანობიდან"),
     Name("Net cash from investing activities",
          "წმინდა ფულადი ნაკადები საინვესტიციო საქმიანობიდან")),
    ("financing", Name("Cash flows from financing activities",
                       "ფულადი ნაკადები საფინანსო საქმიანობიდან"),
     Name("Net cash from financing activities",
          "წმინდა ფულადი ნაკადები საფინანსო საქმიანობიდან")),
)
PROFIT_FOR_PERIOD = Name("Profit (loss) for the period", "პერიოდის მოგება (ზარალი)")
NET_CHANGE = Name("Net change in cash and cash equivalents",
                  "ფულადი სახსრების წმინდა ცვლილება")
OPENING_CASH = Name("Cash and cash equivalents at the beginning of the period",
                    "ფულადი სახსრები პერიოდის დასაწყისში")
CLOSING_CASH = Name("Cash and cash equivalents at the end of the period",
                    "ფულადი სახსრები პერიოდის ბოლოს")
#: Non-cash items added back to profit: accumulated depreciation and amortisation.
NON_CASH_GROUPS = ("2200", "2600")
#: Current liabilities that finance rather than operate: short-term loans and dividends
#: payable (declaring a dividend moves equity into 3420; paying it is financing).
FINANCING_CURRENT = ("3200", "3420")


def cash_flow_activity(chart: Chart, code: str) -> tuple[str, str]:
    """(activity, line) of a non-cash account for the indirect method: the line is the
    account's group header, or the account itself where it stands alone (3420).

    * revenue and expense: operating (through profit);
    * accumulated depreciation and amortisation (22xx, 26xx): operating, non-cash item;
    * other non-current assets: investing;
    * equity, non-current liabilities, short-term loans (32xx), dividends payable (3420):
      financing;
    * other current assets and current liabilities: operating, working capital.
    """
    account = chart[code]
    group = chart.group_of(code)
    if account.in_profit_or_loss:
        return "operating", "profit"
    if any(chart.is_under(code, g) for g in NON_CASH_GROUPS):
        return "operating", group
    if account.type == "equity":
        return "financing", group
    section = position_section(account)
    if section == "non_current_assets":
        return "investing", group
    if section == "non_current_liabilities":
        return "financing", group
    for g in FINANCING_CURRENT:
        if chart.is_under(code, g):
            return "financing", g
    return "operating", group


@dataclass(frozen=True, slots=True)
class CashFlowSection:
    key: str
    name: Name
    total_name: Name
    lines: tuple[Line, ...]

    @property
    def total(self) -> Decimal:
        return sum((x.amounts[0] for x in self.lines), ZERO)

    def as_json(self, lang: str) -> dict[str, Any]:
        return {"key": self.key, "name": self.name(lang), "name_ka": self.name.ka,
                "lines": [x.as_json(lang) for x in self.lines], "total": money(self.total),
                "total_name": self.total_name(lang)}


@dataclass(frozen=True, slots=True)
class CashFlows:
    """The statement of cash flows (ფულადი სახსრების მოძრაობის ანგარიშგება)."""

    date_from: date
    date_to: date
    method: str
    sections: tuple[CashFlowSection, ...]
    opening_cash: Decimal
    closing_cash: Decimal
    cash_accounts: tuple[str, ...]

    @property
    def net_change(self) -> Decimal:
        return sum((s.total for s in self.sections), ZERO)

    @property
    def difference(self) -> Decimal:
        """Zero by construction: the statement reconciles to the cash accounts."""
        return self.closing_cash - self.opening_cash - self.net_change

    def section(self, key: str) -> CashFlowSection:
        return next(s for s in self.sections if s.key == key)

    def as_json(self, lang: str) -> dict[str, Any]:
        return {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat(),
                "method": self.method, "sections": [s.as_json(lang) for s in self.sections],
                "operating": money(self.section("operating").total),
                "investing": money(self.section("investing").total),
                "financing": money(self.section("financing").total),
                "net_change": money(self.net_change), "opening_cash": money(self.opening_cash),
                "closing_cash": money(self.closing_cash),
                "check": {"cash_change": money(self.closing_cash - self.opening_cash),
                          "difference": money(self.difference),
                          "reconciled": self.difference == 0},
                "cash_accounts": list(self.cash_accounts)}


def _cash_position(chart: Chart, sums: Mapping[str, Sums]) -> tuple[Decimal, Decimal,
                                                                    tuple[str, ...]]:
    cash = sorted(c for c in sums if chart.is_cash(c))
    return (sum((sums[c].opening for c in cash), ZERO),
            sum((sums[c].closing for c in cash), ZERO), tuple(cash))


def _change_name(chart: Chart, code: str) -> Name:
    label = chart[code].label
    return Name(f"Change in {label.en[:1].lower()}{label.en[1:]}", f"ცვლილება: {label.ka}")


def cash_flows_indirect(chart: Chart, sums: Mapping[str, Sums], date_from: date,
                        date_to: date) -> CashFlows:
    """Operating: profit, plus the movement of accumulated depreciation and amortisation,
    plus working-capital changes (a decrease of a current asset adds, an increase of a
    current liability adds); investing: the change of non-current assets; financing: the
    change of equity (other than profit and year-end closing), non-current liabilities,
    short-term loans and dividends payable. Every non-cash balance-sheet account lands in
    exactly one line as ``−movement``, so the three activities add up to the change in
    cash to the tetri (the journal balances)."""
    amounts: dict[tuple[str, str], Decimal] = {}
    for code, s in sums.items():
        if chart.is_cash(code):
            continue
        activity, line = cash_flow_activity(chart, code)
        # Equity and profit without year-end closings: closing only moves profit into
        # retained earnings, it is no cash flow (and both halves of it leave out).
        closing_moved = line == "profit" or chart[code].type == "equity"
        movement = s.regular_movement if closing_moved else s.movement
        amounts[(activity, line)] = amounts.get((activity, line), ZERO) - movement
    sections = []
    for key, name, total_name in CF_SECTIONS:
        lines: list[Line] = []
        if key == "operating":
            lines.append(Line("profit", PROFIT_FOR_PERIOD,
                              (amounts.get(("operating", "profit"), ZERO),), kind="profit"))
        for (activity, code), amount in sorted(amounts.items()):
            if activity != key or code == "profit" or not amount:
                continue
            kind = "non_cash" if code in NON_CASH_GROUPS else (
                "working_capital" if key == "operating" else "line")
            name_of = chart[code].label if kind == "non_cash" else _change_name(chart, code)
            lines.append(Line(code, name_of, (amount,), code, kind))
        lines.sort(key=lambda x: ({"profit": 0, "non_cash": 1}.get(x.kind, 2), x.key))
        sections.append(CashFlowSection(key, name, total_name, tuple(lines)))
    opening, closing, cash = _cash_position(chart, sums)
    return CashFlows(date_from, date_to, "indirect", tuple(sections), opening, closing, cash)


def allocate(amount: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """``amount`` split in proportion to ``weights``, rounded to the tetri here and only
    here; what rounding leaves over goes to the largest part. When the weights add up to
    the amount (a cash line against its transaction's counter lines always does) the
    parts are the weights themselves, exactly."""
    total = sum(weights, Decimal(0))
    if not weights or total == 0:
        return [ZERO for _ in weights]
    parts = [round_half_up(amount * w / total, 2) for w in weights]
    remainder = amount - sum(parts, Decimal(0))
    if remainder:
        largest = max(range(len(parts)), key=lambda i: abs(weights[i]))
        parts[largest] += remainder
    return parts


def direct_activity(chart: Chart, code: str) -> str:
    """The activity a counter account gives a cash line (direct method): as in the indirect
    method, except that accumulated depreciation (a sale of a fixed asset) is investing."""
    activity, line = cash_flow_activity(chart, code)
    return "investing" if line in NON_CASH_GROUPS else activity


def cash_flows_direct(chart: Chart, sums: Mapping[str, Sums],
                      lines: Iterable[Mapping[str, Any]], date_from: date,
                      date_to: date) -> CashFlows:
    """Every transaction that moves cash in the range, its cash movement classified by its
    counter accounts (the non-cash lines): split over them in proportion to their amounts
    (:func:`allocate`) and gathered by the counter account's group header."""
    by_transaction: dict[Any, list[Mapping[str, Any]]] = {}
    for line in lines:
        by_transaction.setdefault(line["transaction_id"], []).append(line)
    amounts: dict[tuple[str, str], Decimal] = {}
    for tx_lines in by_transaction.values():
        cash = sum((Decimal(x["debit"]) - Decimal(x["credit"]) for x in tx_lines
                    if chart.is_cash(x["account_code"])), ZERO)
        if not cash:
            continue
        counter: dict[str, Decimal] = {}
        for x in tx_lines:
            if not chart.is_cash(x["account_code"]):
                counter[x["account_code"]] = counter.get(x["account_code"], ZERO) \
                    - Decimal(x["debit"]) + Decimal(x["credit"])
        codes = sorted(counter)
        for code, part in zip(codes, allocate(cash, [counter[c] for c in codes]), strict=True):
            bucket = (direct_activity(chart, code), chart.group_of(code))
            amounts[bucket] = amounts.get(bucket, ZERO) + part
    sections = []
    for key, name, total_name in CF_SECTIONS:
        section_lines = tuple(
            Line(group, _counter_name(chart, group), (amount,), group)
            for (activity, group), amount in sorted(amounts.items())
            if activity == key and amount)
        sections.append(CashFlowSection(key, name, total_name, section_lines))
    opening, closing, cash_codes = _cash_position(chart, sums)
    return CashFlows(date_from, date_to, "direct", tuple(sections), opening, closing,
                     cash_codes)


def _counter_name(chart: Chart, group: str) -> Name:
    label = chart[group].label
    return Name(f"Against {label.en[:1].lower()}{label.en[1:]}", f"კორესპონდენცია: {label.ka}")


# ---------------------------------------------------------------------- changes in equity

EQUITY_COLUMNS: tuple[tuple[str, str | None, Name], ...] = (
    ("share_capital", "5100", Name("Share capital", "სააქციო (საწესდებო) კაპიტალი")),
    ("partners_equity", "5200", Name("Partners' equity", "პარტნიორთა კაპიტალი")),
    ("retained_earnings", "5300", Name("Retained earnings", "გაუნაწილებელი მოგება")),
    ("reserves", "5400", Name("Reserves", "რეზერვები")),
    ("total", None, Name("Total equity", "სულ საკუთარი კაპიტალი")),
)
EQUITY_ROWS: tuple[tuple[str, Name], ...] = (
    ("opening", Name("Balance at the beginning of the period",
                     "ნაშთი პერიოდის დასაწყისში")),
    ("profit", Name("Profit (loss) for the period", "პერიოდის მოგება (ზარალი)")),
    ("dividends", Name("Dividends", "დივიდენდები")),
    ("other", Name("Other movements", "სხვა ცვლილებები")),
    ("closing", Name("Balance at the end of the period", "ნაშთი პერიოდის ბოლოს")),
)
DIVIDENDS_FROM, DIVIDENDS_TO = "5310", "3420"


def equity_column(chart: Chart, code: str) -> str:
    """The column of an equity account: 51xx share capital, 52xx partners' equity, 53xx
    retained earnings, 54xx and any other equity reserves."""
    for key, group, _ in EQUITY_COLUMNS:
        if group is not None and chart.is_under(code, group):
            return key
    return "reserves"


def dividends(chart: Chart, lines: Iterable[Mapping[str, Any]]) -> Decimal:
    """Dividends declared: per transaction, the debit to retained earnings (5310) matched
    by a credit to dividends payable (3420); a reversal counts negative."""
    per_tx: dict[Any, list[Decimal]] = {}
    for x in lines:
        code = x["account_code"]
        pair = per_tx.setdefault(x["transaction_id"], [ZERO, ZERO])
        if chart.is_under(code, DIVIDENDS_FROM):
            pair[0] += Decimal(x["debit"]) - Decimal(x["credit"])
        elif chart.is_under(code, DIVIDENDS_TO):
            pair[1] += Decimal(x["credit"]) - Decimal(x["debit"])
    total = ZERO
    for retained, payable in per_tx.values():
        if retained > 0 and payable > 0:
            total += min(retained, payable)
        elif retained < 0 and payable < 0:
            total -= min(-retained, -payable)
    return total


@dataclass(frozen=True, slots=True)
class ChangesInEquity:
    """The statement of changes in equity (საკუთარ კაპიტალში ცვლილებების ანგარიშგება)."""

    date_from: date
    date_to: date
    rows: tuple[tuple[str, Name, dict[str, Decimal]], ...]

    def row(self, key: str) -> dict[str, Decimal]:
        return next(values for k, _, values in self.rows if k == key)

    def as_json(self, lang: str) -> dict[str, Any]:
        return {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat(),
                "columns": [{"key": k, "name": n(lang), "name_ka": n.ka}
                            for k, _, n in EQUITY_COLUMNS],
                "rows": [{"key": k, "name": n(lang), "name_ka": n.ka,
                          **{c: money(v) for c, v in values.items()}}
                         for k, n, values in self.rows]}


def changes_in_equity(chart: Chart, sums: Mapping[str, Sums], dividends_declared: Decimal,
                      date_from: date, date_to: date) -> ChangesInEquity:
    """Opening and closing balances per column (``credit − debit``; retained earnings with
    the unclosed result), profit for the period and dividends in retained earnings, and
    whatever else moved as other movements -- so each column adds up by construction."""
    keys = [k for k, _, _ in EQUITY_COLUMNS if k != "total"]
    opening = dict.fromkeys(keys, ZERO)
    closing = dict.fromkeys(keys, ZERO)
    for code, s in sums.items():
        if chart[code].type == "equity":
            column = equity_column(chart, code)
            opening[column] -= s.opening
            closing[column] -= s.closing
    unclosed_opening, unclosed_closing = unclosed_result(chart, sums)
    opening["retained_earnings"] += unclosed_opening
    closing["retained_earnings"] += unclosed_closing
    profit_row = {**dict.fromkeys(keys, ZERO), "retained_earnings": profit(chart, sums)}
    dividend_row = {**dict.fromkeys(keys, ZERO), "retained_earnings": -dividends_declared}
    other = {k: closing[k] - opening[k] - profit_row[k] - dividend_row[k] for k in keys}
    rows = []
    for (key, name), values in zip(EQUITY_ROWS, (opening, profit_row, dividend_row, other,
                                                 closing), strict=True):
        rows.append((key, name, {**values, "total": sum(values.values(), ZERO)}))
    return ChangesInEquity(date_from, date_to, tuple(rows))


# ---------------------------------------------------------------------- helpers for ranges


def day_before(day: date) -> date:
    return day - timedelta(days=1)

