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


def _lines(chart: Chart, amounts: Mapping[str, tuple[Decimal, ...]], width: int) -> list[Line]:
    """Accounts gathered on their IAS 1.54 line (:func:`position_line`), in chart order,
    zero rows left out; a line is named after its group header or its own name."""
    found: dict[str, list[Line]] = {}
    for code in sorted(amounts):
        values = amounts[code]
        if any(values):
            found.setdefault(position_line(chart, code), []).append(
                Line(code, chart[code].label, values, code))
    return [Line(key, _LINE_NAMES.get(key) or chart[key].label, _total(children, width),
                 key if key[:1].isdigit() else None, children=tuple(children))
            for key, children in sorted(found.items(), key=lambda kv: kv[1][0].key)]


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


#: IAS 1.54 lines that are not the account's group header, found on the account's lineage
#: (its own code first): accumulated depreciation and amortisation netted into carrying
#: amounts (IAS 16.73(d), IAS 38.118(c)); deferred tax (IAS 1.54(o), 1.56), profit tax
#: payable (1.54(n)), investment property (1.54(b)) and provisions (1.54(l)) on their
#: own lines; subscribed capital unpaid as a deduction from equity (IAS 32.22).
POSITION_LINES: dict[str, str] = {
    "2200": "2100", "2600": "2500", "2340": "2340", "2440": "2440", "1495": "1495",
    "1460": "1460", "3310": "3310", "4210": "4210", "3430": "provisions",
    "3440": "provisions",
}
#: VAT accounts (output, input, on advances, import, reverse charge, awaiting
#: confirmation): one tax with one authority, presented net (IAS 1.32) -- as an asset when
#: the net is a debit (export is exempt with credit, so an exporter's input VAT is
#: refundable: georgia.md §1), else as a liability.
VAT_ACCOUNTS = ("3330", "3331", "3332", "3340", "3341", "3342", "3343", "3344")
VAT_RECEIVABLE = Name("VAT recoverable", "ჩასათვლელი დღგ")
VAT_PAYABLE = Name("VAT payable", "გადასახდელი დღგ")
_LINE_NAMES = {
    "provisions": Name("Provisions", "ანარიცხები"),
    "1460": Name("Subscribed capital not paid in (deducted)",
                 "გამოუსყიდავი (შეუვსებელი) კაპიტალი"),
    "1495": Name("Current tax assets (taxes overpaid)", "მიმდინარე საგადასახადო აქტივები"),
    "vat_receivable": VAT_RECEIVABLE, "vat_payable": VAT_PAYABLE,
}


def position_line(chart: Chart, code: str) -> str:
    """The statement-of-financial-position line of a balance-sheet account: the first of
    :data:`POSITION_LINES` on its lineage, else its group header (``XY00``)."""
    for ancestor in reversed(chart.lineage(code)):
        line = POSITION_LINES.get(ancestor)
        if line is not None:
            return line
    return chart.group_of(code)


def is_vat(chart: Chart, code: str) -> bool:
    return any(chart.is_under(code, v) for v in VAT_ACCOUNTS)


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
    section and IAS 1.54 line (:func:`position_line`: the group header, or a line of its
    own, or netted into another); VAT net by its sign in each column; the unclosed result
    as equity lines of their own, so that assets = liabilities + equity at every date."""
    width = len(columns)
    per_section: dict[str, dict[str, tuple[Decimal, ...]]] = {k: {} for k, _, _ in BS_SECTIONS}
    codes = sorted({c for col in columns for c in col.balances})
    vat: dict[str, tuple[Decimal, ...]] = {}
    for code in codes:
        account = chart[code]
        if account.in_profit_or_loss:
            continue
        balances = tuple(col.balances.get(code, ZERO) for col in columns)
        if is_vat(chart, code):
            vat[code] = balances
            continue
        section = position_section(account)
        sign = 1 if section.endswith("assets") else -1
        per_section[section][code] = tuple(sign * b for b in balances)
    lines_of: dict[str, list[Line]] = {k: _lines(chart, per_section[k], width)
                                       for k, _, _ in BS_SECTIONS}
    if vat:
        net = _total((Line(c, chart[c].label, v, c) for c, v in vat.items()), width)
        for key, line_key, sign in (("current_assets", "vat_receivable", 1),
                                    ("current_liabilities", "vat_payable", -1)):
            amounts = tuple(sign * n if sign * n > 0 else ZERO for n in net)
            if any(amounts):
                children = tuple(Line(c, chart[c].label,
                                      tuple(sign * b if sign * n > 0 else ZERO
                                            for b, n in zip(v, net, strict=True)), c)
                                 for c, v in sorted(vat.items()))
                lines_of[key].append(Line(line_key, _LINE_NAMES[line_key], amounts,
                                          children=tuple(x for x in children
                                                         if any(x.amounts))))
    sections = []
    for key, side, name in BS_SECTIONS:
        lines = lines_of[key]
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

_REVENUE = ("revenue", Name("Revenue", "ამონაგები"))
_OTHER_INCOME = ("other_income", Name("Other income", "სხვა შემოსავლები"))
_OTHER_EXPENSES = ("other_expenses", Name("Other expenses", "სხვა ხარჯები"))
_FX = ("fx_net", Name("Foreign exchange gains and losses (net)",
                      "საკურსო სხვაობით მიღებული შემოსავალი (ზარალი), ნეტო"))
_TAIL: tuple[tuple[str, Name], ...] = (
    ("finance_income", Name("Finance income", "ფინანსური შემოსავალი")),
    ("finance_costs", Name("Finance costs", "ფინანსური ხარჯები")),
    ("profit_before_tax", Name("Profit before tax", "მოგება დაბეგვრამდე")),
    ("profit_tax", Name("Profit tax", "მოგების გადასახადი")),
    ("profit", Name("Profit (loss) for the period", "პერიოდის მოგება (ზარალი)")),
)
#: IAS 1.102: expenses by their nature.
PL_NATURE: tuple[tuple[str, Name], ...] = (
    _REVENUE, _OTHER_INCOME,
    ("materials_and_goods", Name("Raw materials, consumables and goods for resale used",
                                 "გამოყენებული ნედლეული, მასალები და საქონელი")),
    ("employee_benefits", Name("Employee benefits expense", "შრომის ანაზღაურების ხარჯი")),
    ("depreciation", Name("Depreciation and amortisation expense",
                          "ცვეთისა და ამორტიზაციის ხარჯი")),
    ("impairment_losses", Name("Impairment losses on receivables (IFRS 9)",
                               "მოთხოვნების გაუფასურების ზარალი")),
    _OTHER_EXPENSES, _FX, *_TAIL)
#: IAS 1.103: expenses by their function.
PL_FUNCTION: tuple[tuple[str, Name], ...] = (
    _REVENUE,
    ("cost_of_sales", Name("Cost of sales", "რეალიზებული პროდუქციის თვითღირებულება")),
    ("gross_profit", Name("Gross profit", "საერთო მოგება")),
    _OTHER_INCOME,
    ("distribution_costs", Name("Distribution costs", "მიწოდების ხარჯები")),
    ("administrative_expenses", Name("Administrative expenses",
                                     "საერთო და ადმინისტრაციული ხარჯები")),
    _OTHER_EXPENSES, _FX, *_TAIL)
PL_LINES = PL_NATURE
PL_LAYOUTS = {"nature": PL_NATURE, "function": PL_FUNCTION}
#: Subtotals: each is the sum of every line above it.
_PL_SUBTOTALS = {"gross_profit": "subtotal", "profit_before_tax": "subtotal",
                 "profit": "total"}
#: An expense's nature, found on the account's lineage (its own code first): the
#: ge-standard chart's accounts; anything else by classification (below).
NATURE_OF: dict[str, str] = {
    "6190": "other_income", "7110": "materials_and_goods", "7200": "materials_and_goods",
    "7120": "employee_benefits", "7320": "employee_benefits", "7410": "employee_benefits",
    "7415": "employee_benefits", "7130": "depreciation", "7455": "depreciation",
    "7460": "impairment_losses", "8110": "finance_income", "8120": "finance_income",
    "8210": "finance_costs",
}
#: An expense's function where its classification does not say: 73xx selling expenses
#: are distribution costs, finance income and costs as by nature.
FUNCTION_OF: dict[str, str] = {
    "6190": "other_income", "7300": "distribution_costs", "8110": "finance_income",
    "8120": "finance_income", "8210": "finance_costs",
}
_BY_CLASSIFICATION = {
    "nature": {"revenue": "revenue", "cost_of_sales": "other_expenses",
               "operating_expense": "other_expenses", "other_income": "other_income",
               "other_expense": "other_expenses", "fx_gain_loss": "fx_net",
               "profit_tax": "profit_tax"},
    "function": {"revenue": "revenue", "cost_of_sales": "cost_of_sales",
                 "operating_expense": "administrative_expenses",
                 "other_income": "other_income", "other_expense": "other_expenses",
                 "fx_gain_loss": "fx_net", "profit_tax": "profit_tax"},
}
#: IAS 1.104: an entity classifying expenses by function discloses these by nature.
DISCLOSED_BY_NATURE = ("depreciation", "employee_benefits")


def profit_or_loss_line(chart: Chart, code: str, layout: str = "nature") -> str:
    """The line of a revenue or expense account in ``layout`` (``nature`` or
    ``function``): by the table on its lineage, then by its classification (revenue,
    cost of sales, operating expense, other income or expense, FX, profit tax), else
    other income or other expenses by its type. Revenue and profit tax keep their
    classification's line whatever the table says."""
    account = chart[code]
    by_class = _BY_CLASSIFICATION[layout].get(account.classification)
    if by_class in ("revenue", "profit_tax", "fx_net"):
        return by_class
    table = NATURE_OF if layout == "nature" else FUNCTION_OF
    for ancestor in reversed(chart.lineage(code)):
        line = table.get(ancestor)
        if line is not None:
            return line
    if by_class is None:
        return "other_income" if account.type == "revenue" else "other_expenses"
    return by_class


@dataclass(frozen=True, slots=True)
class ProfitOrLoss:
    """The statement of profit or loss (მოგებისა და ზარალის ანგარიშგება), by nature or by
    function."""

    date_from: date
    date_to: date
    compare: tuple[date, date] | None
    lines: tuple[Line, ...]
    revenue: tuple[Decimal, ...]
    expenses: tuple[Decimal, ...]
    layout: str = "nature"
    #: By function: depreciation and employee benefits by nature (IAS 1.104).
    disclosures: tuple[Line, ...] = ()

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
                "layout": self.layout,
                "lines": [x.as_json(lang) for x in self.lines], **totals(0),
                "comparative": totals(1) if self.compare else None,
                "disclosures": [x.as_json(lang) for x in self.disclosures]}


def profit_or_loss(chart: Chart, movements: Sequence[Mapping[str, Decimal]], date_from: date,
                   date_to: date, compare: tuple[date, date] | None = None,
                   layout: str = "nature") -> ProfitOrLoss:
    """``movements``: per column, each revenue and expense account's ``debit − credit`` over
    the range without year-end closing transactions. Each line shows its contribution to
    profit (``credit − debit``): income positive, expenses negative."""
    width = len(movements)
    spec = PL_LAYOUTS[layout]
    per_line: dict[str, dict[str, tuple[Decimal, ...]]] = {k: {} for k, _ in spec}
    nature: dict[str, dict[str, tuple[Decimal, ...]]] = {k: {} for k in DISCLOSED_BY_NATURE}
    revenue, expenses = [ZERO] * width, [ZERO] * width
    for code in sorted({c for m in movements for c in m}):
        account = chart[code]
        if not account.in_profit_or_loss:
            continue
        values = tuple(-m.get(code, ZERO) for m in movements)
        per_line[profit_or_loss_line(chart, code, layout)][code] = values
        by_nature = profit_or_loss_line(chart, code, "nature")
        if by_nature in nature:
            nature[by_nature][code] = values
        for i, v in enumerate(values):
            if account.type == "revenue":
                revenue[i] += v
            else:
                expenses[i] -= v
    lines: list[Line] = []
    running = (ZERO,) * width
    for key, name in spec:
        if key in _PL_SUBTOTALS:
            lines.append(Line(key, name, running, kind=_PL_SUBTOTALS[key]))
            continue
        children = tuple(Line(code, chart[code].label, values, code)
                         for code, values in sorted(per_line[key].items()) if any(values))
        amounts = _total(children, width)
        running = _add(running, amounts)
        lines.append(Line(key, name, amounts, children=children))
    disclosures: tuple[Line, ...] = ()
    if layout == "function":
        names = dict(PL_NATURE)
        disclosures = tuple(
            Line(key, names[key], _total((Line(c, chart[c].label, v, c)
                                          for c, v in nature[key].items()), width),
                 children=tuple(Line(c, chart[c].label, v, c)
                                for c, v in sorted(nature[key].items()) if any(v)))
            for key in DISCLOSED_BY_NATURE)
    return ProfitOrLoss(date_from, date_to, compare, tuple(lines), tuple(revenue),
                        tuple(expenses), layout, disclosures)


# ---------------------------------------------------------------------- comprehensive income

OCI_NOT_RECLASSIFIED = Name("Items that will not be reclassified to profit or loss",
                            "მუხლები, რომლებიც არ გადაიტანება მოგებაში ან ზარალში")
OCI_RECLASSIFIED = Name("Items that may be reclassified to profit or loss",
                        "მუხლები, რომლებიც შეიძლება გადაიტანოს მოგებაში ან ზარალში")
#: IAS 1.82A: each OCI reserve and whether its items are ever recycled to profit or loss
#: (a revaluation surplus never is, IAS 16.41; a translation difference is on disposal
#: of the foreign operation, IAS 21.48).
OCI_RESERVES: tuple[tuple[str, str, bool, Name], ...] = (
    ("revaluation_reserve", "5420", False,
     Name("Revaluation surplus (IAS 16)", "გადაფასების ნამეტი")),
    ("translation_reserve", "5430", True,
     Name("Exchange differences on translating foreign operations (IAS 21)",
          "უცხოური ოპერაციების გადაანგარიშების საკურსო სხვაობები")),
)


@dataclass(frozen=True, slots=True)
class ComprehensiveIncome:
    """The statement of profit or loss and other comprehensive income, its second part
    (IAS 1.81A, 1.82A): profit, OCI per reserve, total comprehensive income."""

    date_from: date
    date_to: date
    compare: tuple[date, date] | None
    lines: tuple[Line, ...]

    def line(self, key: str) -> Line:
        return next(x for x in self.lines if x.key == key)

    def as_json(self, lang: str) -> dict[str, Any]:
        def totals(i: int) -> dict[str, str]:
            return {"profit": money(self.line("profit").amounts[i]),
                    "other_comprehensive_income": money(
                        self.line("other_comprehensive_income").amounts[i]),
                    "total_comprehensive_income": money(
                        self.line("total_comprehensive_income").amounts[i])}

        return {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat(),
                "compare_from": self.compare[0].isoformat() if self.compare else None,
                "compare_to": self.compare[1].isoformat() if self.compare else None,
                "lines": [x.as_json(lang) for x in self.lines], **totals(0),
                "comparative": totals(1) if self.compare else None}


def comprehensive_income(profit: Sequence[Decimal], oci: Sequence[Mapping[str, Decimal]],
                         date_from: date, date_to: date,
                         compare: tuple[date, date] | None = None) -> ComprehensiveIncome:
    """``profit`` per column; ``oci`` per column: the other-comprehensive-income movement
    of each reserve column (the statement of changes in equity's OCI row)."""
    width = len(profit)
    lines = [Line("profit", Name("Profit (loss) for the period", "პერიოდის მოგება (ზარალი)"),
                  tuple(profit), kind="subtotal")]
    for recycled, heading in ((False, OCI_NOT_RECLASSIFIED), (True, OCI_RECLASSIFIED)):
        children = tuple(Line(key, name, tuple(col.get(key, ZERO) for col in oci), code)
                         for key, code, again, name in OCI_RESERVES if again is recycled)
        lines.append(Line("reclassified" if recycled else "not_reclassified", heading,
                          _total(children, width), children=children))
    total_oci = _add(lines[1].amounts, lines[2].amounts)
    lines.append(Line("other_comprehensive_income",
                      Name("Other comprehensive income for the period",
                           "პერიოდის სხვა სრული შემოსავალი"), total_oci, kind="subtotal"))
    lines.append(Line("total_comprehensive_income",
                      Name("Total comprehensive income for the period",
                           "პერიოდის მთლიანი სრული შემოსავალი"),
                      _add(tuple(profit), total_oci), kind="total"))
    return ComprehensiveIncome(date_from, date_to, compare, tuple(lines))
