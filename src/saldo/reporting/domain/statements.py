"""The statement of financial position and the statement of profit or loss, built of
statement lines (:class:`Line`), which the statement of cash flows shares."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from saldo.reporting.domain.chart import ZERO, Account, Chart, Name, money

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
