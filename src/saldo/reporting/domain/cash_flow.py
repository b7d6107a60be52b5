"""The statement of cash flows (ფულადი სახსრების მოძრაობის ანგარიშგება), by the
indirect and the direct method."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from saldo.kernel.money import round_half_up
from saldo.reporting.domain.chart import ZERO, Chart, Name, Sums, money
from saldo.reporting.domain.statements import Line, position_section

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
