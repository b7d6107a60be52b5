"""IAS 7 from the account mapping: the worked examples of docs/reporting.md, by hand, in
both methods -- a disposal (IAS 7.16), PPE bought on credit (IAS 7.43), interest and
profit tax paid (IAS 7.31, 7.35), the effect of exchange rates on cash (IAS 7.28) -- and
the reconciliation of both methods to the change in cash as a Hypothesis property over
random journals (no database: the same filtering of lines as the service)."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from saldo.ledger.charts import chart as shipped_chart
from saldo.reporting import domain as d

D = Decimal
START, END = date(2025, 1, 1), date(2025, 12, 31)
CHART = d.Chart([d.Account(a.code, a.name, a.name_ka, a.type.value, a.classification.value,
                           a.parent_code, a.postable, cash_flow=a.cash_flow.value)
                 for a in shipped_chart("ge-standard")])
Entry = tuple[str, str, str]  # account, debit, credit


def books(*transactions: tuple[str, list[Entry]]) -> tuple[dict[str, d.Sums],
                                                           list[dict[str, Any]]]:
    """Per-account sums of the range (transactions dated before it are opening) and the
    lines of the transactions in it, numbered in order."""
    sums: dict[str, d.Sums] = {}
    lines: list[dict[str, Any]] = []
    for number, (day, entries) in enumerate(transactions, 1):
        when, tx = date.fromisoformat(day), uuid4()
        for line_no, (code, dr, cr) in enumerate(entries, 1):
            debit, credit = D(dr or "0.00"), D(cr or "0.00")
            part = d.Sums(debit, credit) if when < START else d.Sums(debit=debit,
                                                                      credit=credit)
            sums[code] = sums.get(code, d.Sums()) + part
            if when >= START:
                lines.append({"transaction_id": tx, "account_code": code, "debit": debit,
                              "credit": credit, "kind": "regular", "entry_date": when,
                              "number": number, "line_no": line_no,
                              "counterparty_id": None})
    return sums, lines


def touching(lines: list[dict[str, Any]], codes: set[str]) -> list[dict[str, Any]]:
    ids = {x["transaction_id"] for x in lines if x["account_code"] in codes}
    return [x for x in lines if x["transaction_id"] in ids]


def both(sums: dict[str, d.Sums], lines: list[dict[str, Any]]) -> tuple[d.CashFlows,
                                                                        d.CashFlows]:
    """(direct, indirect), each fed the lines the service reads for it."""
    non_operating = set(d.non_operating_codes(CHART))
    cash = {c for c in CHART.accounts if CHART.is_cash(c)}
    direct = d.cash_flows_direct(CHART, sums, touching(lines, non_operating | cash), START,
                                 END)
    first = touching(lines, non_operating)
    pooled = set(d.pool_accounts(CHART, first))
    indirect = d.cash_flows_indirect(CHART, sums, first + touching(lines, pooled), START,
                                     END)
    return direct, indirect


def totals(cf: d.CashFlows) -> tuple[Decimal, ...]:
    return (cf.section("operating").total, cf.section("investing").total,
            cf.section("financing").total, cf.fx_effect)


def keyed(cf: d.CashFlows, section: str) -> dict[str, Decimal]:
    return {x.key: x.amounts[0] for x in cf.section(section).lines}


OPENING = [("2024-01-10", [("1210", "5000.00", ""), ("5150", "", "5000.00")]),
           ("2024-02-01", [("2150", "1000.00", ""), ("1210", "", "1000.00")])]


def test_a_disposal_at_a_loss() -> None:
    """The machine (cost 1,000, no depreciation) is sold for 500: a loss of 500.
    IAS 7.16(b): proceeds 500 in investing; the loss is no cash flow (IAS 7.20(b))::

        Dr 1210 500, Dr 8250 500 / Cr 2150 1,000
        indirect: profit −500 + loss on disposal 500 = operating 0
        investing: receipts from PPE +500 (2150 +1,000, 8250 −500)
    """
    sums, lines = books(*OPENING, ("2025-03-01", [("1210", "500.00", ""),
                                                  ("8250", "500.00", ""),
                                                  ("2150", "", "1000.00")]))
    direct, indirect = both(sums, lines)
    for cf in (direct, indirect):
        assert totals(cf) == (D(0), D("500.00"), D(0), D(0))
        assert keyed(cf, "investing") == {"2100.receipts": D("500.00")}
        assert cf.difference == 0
        assert cf.net_change == D("500.00")
    assert keyed(indirect, "operating") == {"profit": D("-500.00"), "8250": D("500.00")}
    assert keyed(direct, "operating") == {}


def test_a_disposal_with_depreciation_at_a_gain() -> None:
    """Cost 1,000, accumulated depreciation 600 (carrying 400), sold for 500: gain 100::

        Dr 1210 500, Dr 2250 600 / Cr 2150 1,000, Cr 8130 100
        indirect: profit 100 − gain 100 = 0; depreciation of the year 200 added back
        investing +500
    """
    sums, lines = books(*OPENING,
                        ("2024-12-31", [("7455", "400.00", ""), ("2250", "", "400.00")]),
                        ("2025-02-28", [("7455", "200.00", ""), ("2250", "", "200.00")]),
                        ("2025-03-01", [("1210", "500.00", ""), ("2250", "600.00", ""),
                                        ("2150", "", "1000.00"), ("8130", "", "100.00")]))
    direct, indirect = both(sums, lines)
    for cf in (direct, indirect):
        assert totals(cf) == (D(0), D("500.00"), D(0), D(0))
    # profit = gain 100 − depreciation 200 = −100; + depreciation 200 − gain 100 = 0
    assert keyed(indirect, "operating") == {"profit": D("-100.00"), "7455": D("200.00"),
                                            "8130": D("-100.00")}


def test_ppe_bought_on_credit_is_left_out_and_disclosed_then_its_payment_is_investing(
) -> None:
    """IAS 7.43: ``Dr 2150 3,000 / Cr 3110 3,000`` moves no cash: not in the statement,
    disclosed. The payable is no working capital; paying it is investing (IAS 7.16(a))."""
    bought = ("2025-02-01", [("2150", "3000.00", ""), ("3110", "", "3000.00")])
    sums, lines = books(*OPENING, bought)
    direct, indirect = both(sums, lines)
    for cf in (direct, indirect):
        assert totals(cf) == (D(0), D(0), D(0), D(0))
        [disclosed] = cf.non_cash_transactions
        assert (disclosed.amount, disclosed.accounts) == (D("3000.00"), ("2150", "3110"))
    assert keyed(indirect, "operating") == {"profit": D(0)}
    # Paid in April, 1,000 now and 2,000 later: investing −3,000 in total.
    sums, lines = books(*OPENING, bought,
                        ("2025-04-01", [("3110", "1000.00", ""), ("1210", "", "1000.00")]),
                        ("2025-05-01", [("3110", "2000.00", ""), ("1210", "", "2000.00")]))
    direct, indirect = both(sums, lines)
    for cf in (direct, indirect):
        assert totals(cf) == (D(0), D("-3000.00"), D(0), D(0))
        assert keyed(cf, "investing") == {"2100.payments": D("-3000.00")}


def test_interest_and_profit_tax_paid_on_lines_of_their_own() -> None:
    """A loan of 10,000; interest 120 accrued and paid; profit tax 45 accrued and paid;
    a sale of 1,000 for cash. Operating = 1,000 − 120 − 45 = 835 by both methods."""
    sums, lines = books(
        ("2025-01-15", [("1210", "10000.00", ""), ("4140", "", "10000.00")]),
        ("2025-02-15", [("1210", "1000.00", ""), ("6110", "", "1000.00")]),
        ("2025-03-31", [("8210", "120.00", ""), ("3410", "", "120.00")]),
        ("2025-04-05", [("3410", "120.00", ""), ("1210", "", "120.00")]),
        ("2025-06-30", [("9210", "45.00", ""), ("3310", "", "45.00")]),
        ("2025-07-15", [("3310", "45.00", ""), ("1210", "", "45.00")]))
    direct, indirect = both(sums, lines)
    for cf in (direct, indirect):
        assert totals(cf) == (D("835.00"), D(0), D("10000.00"), D(0))
        assert cf.line("operating", "interest_paid") == D("-120.00")
        assert cf.line("operating", "profit_tax_paid") == D("-45.00")
    # profit 1,000 − 120 − 45 = 835; interest and tax expense added back; generated 1,000
    assert keyed(indirect, "operating") == {
        "profit": D("835.00"), "8210": D("120.00"), "9210": D("45.00"),
        "cash_generated": D("1000.00"), "interest_paid": D("-120.00"),
        "profit_tax_paid": D("-45.00")}


def test_the_effect_of_exchange_rates_on_cash() -> None:
    """USD 1,000 on 1220 at 2.70 (2,700.00), a receivable of USD 500 at 2.70 (1,350.00);
    revalued at 2.75: cash +50, receivable +25 in one transaction to 8145 (75). IAS 7.28:
    the 50 on cash is its own line; the 25 on the receivable is no cash flow."""
    sums, lines = books(
        ("2024-12-01", [("1220", "2700.00", ""), ("5150", "", "2700.00")]),
        ("2024-12-02", [("1410", "1350.00", ""), ("6115", "", "1350.00")]),
        ("2025-01-31", [("1220", "50.00", ""), ("1410", "25.00", ""),
                        ("8145", "", "75.00")]))
    direct, indirect = both(sums, lines)
    for cf in (direct, indirect):
        assert totals(cf) == (D(0), D(0), D(0), D("50.00"))
        assert cf.difference == 0
    assert keyed(indirect, "operating") == {"profit": D("75.00"), "8145": D("-75.00")}


# ---------------------------------------------------------------------- properties

ACCOUNTS = ("1110", "1210", "1220", "1410", "1610", "2150", "2250", "2330", "3110", "3210",
            "3310", "3330", "3410", "3420", "4140", "5150", "5310", "6110", "7210",
            "7455", "8130", "8145", "8210", "8250", "9210", "1460", "5420", "5430",
            "2195", "4135", "1310")


@st.composite
def journals(draw: st.DrawFn) -> list[tuple[str, list[Entry]]]:
    out = []
    for _ in range(draw(st.integers(1, 12))):
        debits = draw(st.lists(st.integers(1, 10**6), min_size=1, max_size=3))
        total = sum(debits)
        parts = draw(st.integers(1, min(3, total)))
        cuts = sorted(draw(st.lists(st.integers(1, total - 1), min_size=parts - 1,
                                    max_size=parts - 1, unique=True))) if parts > 1 else []
        credits = [b - a for a, b in itertools.pairwise([0, *cuts, total])]
        account = st.sampled_from(ACCOUNTS)
        entries = [(draw(account), str(D(c).scaleb(-2)), "") for c in debits] + [
            (draw(account), "", str(D(c).scaleb(-2))) for c in credits]
        day = draw(st.dates(date(2024, 7, 1), END)).isoformat()
        out.append((day, entries))
    return sorted(out, key=lambda t: t[0])


@settings(max_examples=300, deadline=None)
@given(journals())
def test_both_methods_reconcile_to_the_change_in_cash(
        journal: list[tuple[str, list[Entry]]]) -> None:
    sums, lines = books(*journal)
    direct, indirect = both(sums, lines)
    cash_change = sum((s.closing - s.opening for c, s in sums.items() if CHART.is_cash(c)),
                      D(0))
    for cf in (direct, indirect):
        assert cf.closing_cash - cf.opening_cash == cash_change
        assert cf.net_change + cf.fx_effect == cash_change
        assert cf.difference == 0
    # Every total agrees between the methods (IAS 7.18: only operating is presented
    # differently; investing and financing are the same gross flows).
    assert totals(direct) == totals(indirect)
    assert direct.non_cash_transactions == indirect.non_cash_transactions


# ---------------------------------------------------------------------- changes in equity


def equity_statement(sums: dict[str, d.Sums],
                     lines: list[dict[str, Any]]) -> d.ChangesInEquity:
    return d.changes_in_equity(CHART, sums, touching(lines, set(d.equity_codes(CHART))),
                               START, END)


def position(sums: dict[str, d.Sums]) -> d.FinancialPosition:
    earlier, total = d.unclosed_result(CHART, sums)
    # The range is one fiscal year: what was unclosed at its start is earlier years'.
    return d.financial_position(CHART, [d.PositionColumn(
        END, {c: s.closing for c, s in sums.items()}, total - earlier, earlier)])


def test_changes_in_equity_worked_example() -> None:
    """Capital of 10,000 subscribed (``Dr 1460 Cr 5150``: a transfer, nothing paid in),
    6,000 of it paid; a cash sale of 1,000 (profit); a building revalued up by 500 (OCI,
    revaluation reserve, IAS 16.39); a dividend of 300 declared.

    share capital: issue 6,000 → 6,000 (5150 10,000 less 1460 unpaid 4,000)
    retained earnings: profit 1,000 − dividends 300 → 700
    revaluation reserve: OCI 500 → 500;      total 7,200
    """
    sums, lines = books(("2025-01-10", [("1460", "10000.00", ""), ("5150", "", "10000.00")]),
                        ("2025-01-20", [("1210", "6000.00", ""), ("1460", "", "6000.00")]),
                        ("2025-03-01", [("1210", "1000.00", ""), ("6110", "", "1000.00")]),
                        ("2025-06-30", [("2130", "500.00", ""), ("5420", "", "500.00")]),
                        ("2025-12-20", [("5310", "300.00", ""), ("3420", "", "300.00")]))
    ce = equity_statement(sums, lines)
    pick = ("share_capital", "retained_earnings", "revaluation_reserve", "total")
    rows = {key: tuple(values[k] for k in pick) for key, _, values in ce.rows}
    zero = D("0.00")
    assert rows == {
        "opening": (zero, zero, zero, zero),
        "profit": (zero, D("1000.00"), zero, D("1000.00")),
        "other_comprehensive_income": (zero, zero, D("500.00"), D("500.00")),
        "total_comprehensive_income": (zero, D("1000.00"), D("500.00"), D("1500.00")),
        "issue_of_capital": (D("6000.00"), zero, zero, D("6000.00")),
        "dividends": (zero, D("-300.00"), zero, D("-300.00")),
        "transfers": (zero, zero, zero, zero),  # 10,000 subscribed, 10,000 unpaid
        "closing": (D("6000.00"), D("700.00"), D("500.00"), D("7200.00")),
    }
    assert ce.reconciled
    assert not ce.exceptions
    assert position(sums).total_equity[0] == D("7200.00")


@settings(max_examples=300, deadline=None)
@given(journals())
def test_equity_reconciles_with_no_plug_and_assets_equal_liabilities_and_equity(
        journal: list[tuple[str, list[Entry]]]) -> None:
    sums, lines = books(*journal)
    ce = equity_statement(sums, lines)
    keys = [k for k, _, _ in ce.rows]
    assert "other" not in keys
    assert ce.reconciled  # opening + every row = closing, each from its own source
    # Every exception is listed with its transaction, and the row is their sum.
    for column, _, _ in d.EQUITY_COLUMNS[:-1]:
        assert ce.row("exceptions")[column] == sum(
            (e.amounts.get(column, D(0)) for e in ce.exceptions), D(0))
    fp = position(sums)
    assert ce.row("closing")["total"] == fp.total_equity[0]
    assert fp.total_assets[0] == fp.total_liabilities[0] + fp.total_equity[0]
