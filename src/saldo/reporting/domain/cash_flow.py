"""The statement of cash flows (ფულადი სახსრების მოძრაობის ანგარიშგება, IAS 7), by the
direct and the indirect method, from the explicit mapping: every account carries its
activity (the chart's ``cash_flow`` column, :attr:`Account.cash_flow`).

How a transaction becomes cash flows (docs/reporting.md, "Statement of cash flows")::

    v(line) = credit − debit of a non-cash line (what it brings into cash)
    C       = Σ debit − credit of the cash lines = Σ v(non-cash lines)

* A transaction with cash lines and no line on an ``fx_effect`` account: each non-cash
  line's ``v`` is a cash flow of that account's activity. Exact, no allocation: a
  disposal ``Dr 1210 500, Dr 8250 500, Cr 2150 1,000`` is investing +500 (2150 +1,000 and
  the loss −500 are both investing), operating 0 (IAS 7.16(b), 7.14).
* A transaction with cash lines and a line on an ``fx_effect`` account (unrealised
  exchange differences): a revaluation; its whole ``C`` is the effect of exchange-rate
  changes on cash (IAS 7.28), its other lines are non-cash.
* A transaction without cash lines is no cash flow (IAS 7.43); one that exchanges an
  investing or financing balance for another balance (an asset bought on credit) is
  disclosed as a non-cash transaction.

The **direct method** lists those flows: operating by the counter account's group, and
interest and profit tax on lines of their own (IAS 7.31, 7.35). The **indirect method**
reaches the same operating total from the balances (IAS 7.18(b), 7.20): profit, plus the
profit-or-loss accounts of other activities reversed (a loss on disposal, interest, profit
tax, unrealised exchange differences), plus the non-cash part of operating accounts moved
by non-cash transactions (depreciation), plus the change of every operating balance-sheet
account less its non-cash part, then interest and profit tax paid. Investing and
financing are always gross receipts and payments (IAS 7.21), the same in both methods.
Both add up to the change in cash to the tetri: each tetri of each non-cash line lands in
exactly one place, and the journal balances.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from saldo.kernel.money import round_half_up
from saldo.reporting.domain.chart import ZERO, Chart, Name, Sums, money
from saldo.reporting.domain.statements import Line

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
NET_CHANGE = Name("Net increase (decrease) in cash and cash equivalents",
                  "ფულადი სახსრების წმინდა ზრდა (შემცირება)")
FX_EFFECT = Name("Effect of exchange rate changes on cash and cash equivalents",
                 "სავალუტო კურსის ცვლილების გავლენა ფულად სახსრებზე")
OPENING_CASH = Name("Cash and cash equivalents at the beginning of the period",
                    "ფულადი სახსრები პერიოდის დასაწყისში")
CLOSING_CASH = Name("Cash and cash equivalents at the end of the period",
                    "ფულადი სახსრები პერიოდის ბოლოს")
GENERATED = Name("Cash generated from operations", "საოპერაციო საქმიანობით მიღებული ფული")
INTEREST_PAID = Name("Interest paid", "გადახდილი პროცენტი")
INTEREST_RECEIVED = Name("Interest received", "მიღებული პროცენტი")
PROFIT_TAX_PAID = Name("Profit tax paid", "გადახდილი მოგების გადასახადი")
NON_CASH = Name("Non-cash investing and financing transactions (IAS 7.43), not included "
                "above", "არაფულადი საინვესტიციო და საფინანსო ოპერაციები (ბასს 7.43)")
#: Activities shown on their own lines in the operating section, in this order.
_SEPARATE = {"interest": ("interest_received", "interest_paid"),
             "profit_tax": ("profit_tax_paid", "profit_tax_paid")}
_SEPARATE_NAMES = {"interest_received": INTEREST_RECEIVED, "interest_paid": INTEREST_PAID,
                   "profit_tax_paid": PROFIT_TAX_PAID}


def non_operating_codes(chart: Chart) -> list[str]:
    """The accounts whose transactions the statement reads (both methods): every account
    of an activity other than operating and cash. The indirect method reads no other
    lines; its operating activities come from the balances."""
    return sorted(c for c, a in chart.accounts.items() if a.cash_flow not in ("operating",
                                                                             "cash"))


@dataclass(frozen=True, slots=True)
class NonCashTransaction:
    """A transaction disclosed under IAS 7.43: no cash moved, an investing or financing
    balance was exchanged for another balance (an asset bought on credit)."""

    transaction_id: Any
    date: date | None
    number: int | None
    amount: Decimal
    accounts: tuple[str, ...]
    description: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"transaction_id": str(self.transaction_id),
                "date": self.date.isoformat() if self.date else None, "number": self.number,
                "description": self.description, "amount": money(self.amount),
                "accounts": list(self.accounts)}


@dataclass(slots=True)
class Analysis:
    """The journal lines of a range read transaction by transaction (module docstring)."""

    #: Direct-method flows: (activity, line key) → amount.
    flows: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    #: The part of each operating account moved by transactions that are no operating
    #: cash flow (non-cash transactions, revaluations): code → Σ v.
    non_cash: dict[str, Decimal] = field(default_factory=dict)
    fx_effect: Decimal = ZERO
    disclosed: list[NonCashTransaction] = field(default_factory=list)
    #: Operating balances that arose from non-cash investing or financing transactions
    #: (the payable for an asset bought on credit), per (account, counterparty): what
    #: later payments of it in the range are -- investing or financing, not operating.
    #: Each entry: [activity, principal group, amount not yet paid].
    pools: dict[tuple[str, Any], list[list[Any]]] = field(default_factory=dict)

    def add(self, key: tuple[str, str], amount: Decimal) -> None:
        if amount:
            self.flows[key] = self.flows.get(key, ZERO) + amount


def _v(line: Mapping[str, Any]) -> Decimal:
    return Decimal(line["credit"]) - Decimal(line["debit"])


def analyse(chart: Chart, lines: Iterable[Mapping[str, Any]]) -> Analysis:
    """Lines (``transaction_id, account_code, debit, credit, kind`` and optionally
    ``entry_date, number``) of whole transactions, year-end closings left out."""
    by_transaction: dict[Any, list[Mapping[str, Any]]] = {}
    seen: set[tuple[Any, Any]] = set()
    for line in sorted(lines, key=_in_order):
        if line.get("line_no") is not None:  # the same line read twice (two queries)
            if (line["transaction_id"], line["line_no"]) in seen:
                continue
            seen.add((line["transaction_id"], line["line_no"]))
        if line.get("kind") != "closing":
            by_transaction.setdefault(line["transaction_id"], []).append(line)
    out = Analysis()
    for tx_id, tx in by_transaction.items():
        cash_lines = [x for x in tx if chart.is_cash(x["account_code"])]
        others = [x for x in tx if not chart.is_cash(x["account_code"])]
        revaluation = any(chart.activity(x["account_code"]) == "fx_effect" for x in others)
        if cash_lines and not revaluation:
            _cash_transaction(chart, _paying_pools(chart, others, out), out)
            continue
        if not cash_lines and all(chart.activity(x["account_code"]) == "operating"
                                  for x in others):
            continue  # accruals, purchases on credit: working capital, no cash
        if cash_lines:  # IAS 7.28: the exchange difference on cash
            out.fx_effect -= sum((_v(x) for x in cash_lines), ZERO)
        for x in others:
            if chart.activity(x["account_code"]) == "operating":
                code = x["account_code"]
                out.non_cash[code] = out.non_cash.get(code, ZERO) + _v(x)
        if not cash_lines:
            disclosed = _disclosure(chart, tx_id, others)
            if disclosed is not None:
                out.disclosed.append(disclosed)
                _fill_pools(chart, others, out)
    return out


def pool_accounts(chart: Chart, lines: Iterable[Mapping[str, Any]]) -> list[str]:
    """The operating accounts that non-cash investing or financing transactions in
    ``lines`` credited: the indirect method reads their transactions too, to find the
    payments (the direct method reads every cash transaction anyway)."""
    return sorted({code for code, _ in analyse(chart, lines).pools})


def _in_order(line: Mapping[str, Any]) -> tuple[date, int, str, int]:
    return (line.get("entry_date") or date.min, line.get("number") or 0,
            str(line["transaction_id"]), line.get("line_no") or 0)


def _fill_pools(chart: Chart, lines: list[Mapping[str, Any]], out: Analysis) -> None:
    """An operating liability credited by a non-cash investing or financing transaction
    (``Dr 2150 Cr 3110``): its payment, when it comes, is that activity's cash flow."""
    involved = {c: _v(x) for x in lines
                if chart.activity(c := x["account_code"]) in ("investing", "financing")}
    if not involved:
        return
    principal = max(sorted(involved), key=lambda c: abs(involved[c]))
    activity, group = chart.activity(principal), line_of(chart, principal)
    for x in lines:
        code = x["account_code"]
        if chart.activity(code) == "operating" and _v(x) > 0:
            out.pools.setdefault((code, x.get("counterparty_id")), []).append(
                [activity, group, _v(x)])


def _paying_pools(chart: Chart, lines: list[Mapping[str, Any]],
                  out: Analysis) -> list[Mapping[str, Any]]:
    """The lines of a cash transaction with the payments of pooled liabilities taken out
    as investing or financing flows (first in, first out); the rest as they are."""
    if not out.pools:
        return lines
    rest: list[Mapping[str, Any]] = []
    for x in lines:
        code, v = x["account_code"], _v(x)
        pool = out.pools.get((code, x.get("counterparty_id")))
        if not pool or v >= 0:
            rest.append(x)
            continue
        paying = -v
        for entry in pool:
            take = min(paying, entry[2])
            if take <= 0:
                continue
            entry[2] -= take
            paying -= take
            out.add((entry[0], f"{entry[1]}.payments"), -take)
            out.non_cash[code] = out.non_cash.get(code, ZERO) - take
        if paying:
            rest.append({**x, "debit": paying, "credit": ZERO})
    return rest


def _cash_transaction(chart: Chart, others: list[Mapping[str, Any]], out: Analysis) -> None:
    per_activity: dict[str, dict[str, Decimal]] = {}
    for x in others:
        code = x["account_code"]
        activity = chart.activity(code)
        per_activity.setdefault(activity, {})
        per_activity[activity][code] = per_activity[activity].get(code, ZERO) + _v(x)
    for activity, amounts in per_activity.items():
        if activity == "operating":
            for code, amount in amounts.items():
                out.add(("operating", line_of(chart, code)), amount)
        elif activity in _SEPARATE:
            total = sum(amounts.values(), ZERO)
            inflow, outflow = _SEPARATE[activity]
            out.add((activity, inflow if total > 0 else outflow), total)
        else:  # investing or financing: gross, by the principal group of the transaction
            total = sum(amounts.values(), ZERO)
            principal = max(sorted(amounts), key=lambda c: abs(amounts[c]))
            direction = "receipts" if total > 0 else "payments"
            out.add((activity, f"{line_of(chart, principal)}.{direction}"), total)


def line_of(chart: Chart, code: str) -> str:
    """The line an account's cash flows are shown on: its group header, or the account
    itself when its activity is not its group's (1460 subscribed capital, financing, in
    the operating group 1400 receivables; 3420 dividends payable in 3400)."""
    group = chart.group_of(code)
    if group != code and chart[group].cash_flow != chart[code].cash_flow:
        return code
    return group


def _disclosure(chart: Chart, tx_id: Any,
                lines: list[Mapping[str, Any]]) -> NonCashTransaction | None:
    """A non-cash transaction that acquires or settles an investing or financing balance
    with another balance (IAS 7.43-44): an asset bought on credit or by a lease, a debt
    converted to equity. Not a profit-or-loss remeasurement (depreciation), a revaluation
    into a reserve, a dividend declared (retained earnings, reserves)."""
    if any(chart[x["account_code"]].in_profit_or_loss
           or chart.is_under(x["account_code"], "5300")
           or chart.is_under(x["account_code"], "5400") for x in lines):
        return None
    activities = {chart.activity(x["account_code"]) for x in lines}
    if not activities & {"investing", "financing"}:
        return None
    types = {chart[x["account_code"]].type for x in lines}
    if len(activities) < 2 and not {"liability", "equity"} <= types:
        return None
    involved = [x for x in lines if chart.activity(x["account_code"]) in ("investing",
                                                                          "financing")]
    amount = max(sum((Decimal(x["debit"]) for x in involved), ZERO),
                 sum((Decimal(x["credit"]) for x in involved), ZERO))
    first = lines[0]
    return NonCashTransaction(tx_id, first.get("entry_date"), first.get("number"), amount,
                              tuple(sorted({x["account_code"] for x in lines})))


@dataclass(frozen=True, slots=True)
class CashFlowSection:
    key: str
    name: Name
    total_name: Name
    lines: tuple[Line, ...]

    @property
    def total(self) -> Decimal:
        return sum((x.amounts[0] for x in self.lines if x.kind != "subtotal"), ZERO)

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
    fx_effect: Decimal = ZERO
    non_cash_transactions: tuple[NonCashTransaction, ...] = ()
    #: The comparative period's statement (IAS 1.38), when asked for.
    prior: CashFlows | None = None

    @property
    def net_change(self) -> Decimal:
        """Operating + investing + financing (before the effect of exchange rates)."""
        return sum((s.total for s in self.sections), ZERO)

    @property
    def difference(self) -> Decimal:
        """Zero by construction: the statement reconciles to the cash accounts."""
        return self.closing_cash - self.opening_cash - self.net_change - self.fx_effect

    def section(self, key: str) -> CashFlowSection:
        return next(s for s in self.sections if s.key == key)

    def line(self, section: str, key: str) -> Decimal:
        return next((x.amounts[0] for x in self.section(section).lines if x.key == key),
                    ZERO)

    def as_json(self, lang: str) -> dict[str, Any]:
        return {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat(),
                "method": self.method, "sections": [s.as_json(lang) for s in self.sections],
                "operating": money(self.section("operating").total),
                "investing": money(self.section("investing").total),
                "financing": money(self.section("financing").total),
                "net_change": money(self.net_change), "fx_effect": money(self.fx_effect),
                "opening_cash": money(self.opening_cash),
                "closing_cash": money(self.closing_cash),
                "interest_paid": money(self.line("operating", "interest_paid")),
                "interest_received": money(self.line("operating", "interest_received")),
                "profit_tax_paid": money(self.line("operating", "profit_tax_paid")),
                "non_cash_transactions": [t.as_json() for t in self.non_cash_transactions],
                "check": {"cash_change": money(self.closing_cash - self.opening_cash),
                          "difference": money(self.difference),
                          "reconciled": self.difference == 0},
                "cash_accounts": list(self.cash_accounts),
                "comparative": self.prior.as_json(lang) if self.prior else None}


def _cash_position(chart: Chart, sums: Mapping[str, Sums]) -> tuple[Decimal, Decimal,
                                                                    tuple[str, ...]]:
    cash = sorted(c for c in sums if chart.is_cash(c))
    return (sum((sums[c].opening for c in cash), ZERO),
            sum((sums[c].closing for c in cash), ZERO), tuple(cash))


def _change_name(chart: Chart, code: str) -> Name:
    label = chart[code].label
    return Name(f"(Increase) decrease in {label.en[:1].lower()}{label.en[1:]}"
                if chart[code].type == "asset" else
                f"Increase (decrease) in {label.en[:1].lower()}{label.en[1:]}",
                f"ცვლილება: {label.ka}")


def _counter_name(chart: Chart, group: str) -> Name:
    label = chart[group].label
    return Name(f"Against {label.en[:1].lower()}{label.en[1:]}", f"კორესპონდენცია: {label.ka}")


def _gross_name(chart: Chart, key: str) -> Name:
    group, direction = key.rsplit(".", 1)
    label = chart[group].label
    if direction == "receipts":
        return Name(f"Receipts: {label.en}", f"შემოსულობა: {label.ka}")
    return Name(f"Payments: {label.en}", f"გადახდა: {label.ka}")


def _gross_sections(chart: Chart, analysis: Analysis) -> list[CashFlowSection]:
    out = []
    for key, name, total_name in CF_SECTIONS[1:]:
        lines = tuple(Line(line_key, _gross_name(chart, line_key), (amount,),
                           line_key.rsplit(".", 1)[0])
                      for (activity, line_key), amount in sorted(analysis.flows.items())
                      if activity == key and amount)
        out.append(CashFlowSection(key, name, total_name, lines))
    return out


def _separate_lines(analysis: Analysis) -> list[Line]:
    lines = []
    for key in ("interest_received", "interest_paid", "profit_tax_paid"):
        activity = "profit_tax" if key == "profit_tax_paid" else "interest"
        amount = analysis.flows.get((activity, key), ZERO)
        if amount:
            lines.append(Line(key, _SEPARATE_NAMES[key], (amount,), kind="separate"))
    return lines


def _statement(chart: Chart, sums: Mapping[str, Sums], analysis: Analysis, method: str,
               operating: list[Line], date_from: date, date_to: date) -> CashFlows:
    key, name, total_name = CF_SECTIONS[0]
    sections = [CashFlowSection(key, name, total_name, tuple(operating)),
                *_gross_sections(chart, analysis)]
    opening, closing, cash = _cash_position(chart, sums)
    return CashFlows(date_from, date_to, method, tuple(sections), opening, closing, cash,
                     analysis.fx_effect, tuple(analysis.disclosed))


def cash_flows_direct(chart: Chart, sums: Mapping[str, Sums],
                      lines: Iterable[Mapping[str, Any]], date_from: date,
                      date_to: date) -> CashFlows:
    """``lines``: every line of the transactions in the range that touch a cash account or
    a non-operating account (:func:`non_operating_codes`)."""
    analysis = analyse(chart, lines)
    operating = [Line(group, _counter_name(chart, group), (amount,), group)
                 for (activity, group), amount in sorted(analysis.flows.items())
                 if activity == "operating" and amount]
    operating += _separate_lines(analysis)
    return _statement(chart, sums, analysis, "direct", operating, date_from, date_to)


def cash_flows_indirect(chart: Chart, sums: Mapping[str, Sums],
                        lines: Iterable[Mapping[str, Any]], date_from: date,
                        date_to: date) -> CashFlows:
    """``lines``: every line of the transactions in the range that touch a non-operating
    account (:func:`non_operating_codes`); the rest comes from the balances."""
    analysis = analyse(chart, lines)
    profit = ZERO
    adjustments: dict[str, Decimal] = {}
    working_capital: dict[str, Decimal] = {}
    for code, s in sums.items():
        account = chart[code]
        if account.cash_flow == "cash":
            continue
        if account.in_profit_or_loss:
            profit -= s.regular_movement
            if account.cash_flow != "operating":  # its cash flow is elsewhere (or none)
                adjustments[code] = adjustments.get(code, ZERO) + s.regular_movement
            continue
        if account.cash_flow != "operating":
            continue  # investing, financing, interest, profit tax: gross, from the lines
        group = chart.group_of(code)
        working_capital[group] = working_capital.get(group, ZERO) - s.movement
    for code, part in analysis.non_cash.items():
        if chart[code].in_profit_or_loss:  # depreciation, impairment: added back
            adjustments[code] = adjustments.get(code, ZERO) - part
        else:  # a payable for an asset bought on credit is no working capital
            group = chart.group_of(code)
            working_capital[group] = working_capital.get(group, ZERO) - part
    operating = [Line("profit", PROFIT_FOR_PERIOD, (profit,), kind="profit")]
    operating += [Line(code, chart[code].label, (amount,), code, "non_cash")
                  for code, amount in sorted(adjustments.items()) if amount]
    operating += [Line(group, _change_name(chart, group), (amount,), group, "working_capital")
                  for group, amount in sorted(working_capital.items()) if amount]
    separate = _separate_lines(analysis)
    if separate:
        generated = sum((x.amounts[0] for x in operating), ZERO)
        operating.append(Line("cash_generated", GENERATED, (generated,), kind="subtotal"))
        operating += separate
    return _statement(chart, sums, analysis, "indirect", operating, date_from, date_to)


def allocate(amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """``amount`` split in proportion to ``weights``, rounded to the tetri here and only
    here; what rounding leaves over goes to the largest part. When the weights add up to
    the amount the parts are the weights themselves, exactly."""
    total = sum(weights, Decimal(0))
    if not weights or total == 0:
        return [ZERO for _ in weights]
    parts = [round_half_up(amount * w / total, 2) for w in weights]
    remainder = amount - sum(parts, Decimal(0))
    if remainder:
        largest = max(range(len(parts)), key=lambda i: abs(weights[i]))
        parts[largest] += remainder
    return parts

