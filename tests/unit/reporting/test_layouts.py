"""The pure rules that map the chart into each statement (``saldo.reporting.domain``),
on the shipped ``ge-standard`` chart, and the statements' identities as Hypothesis
properties over random balanced sums (no database)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from saldo.ledger.charts import chart as shipped_chart
from saldo.reporting import domain as d

D = Decimal
START, END = date(2025, 1, 1), date(2025, 12, 31)


def ge_standard(*extra: d.Account) -> d.Chart:
    return d.Chart([*(d.Account(a.code, a.name, a.name_ka, a.type.value,
                                a.classification.value, a.parent_code, a.postable,
                                cash_flow=a.cash_flow.value)
                      for a in shipped_chart("ge-standard")), *extra])


CHART = ge_standard(
    # Company sub-accounts inherit their parent's place in every statement.
    d.Account("1210.01", "TBC Bank GEL", "თიბისი ბანკი", "asset", "current_asset", "1210",
              cash_flow="cash"),
    d.Account("7420.01", "Office rent", "ოფისის იჯარა", "expense", "operating_expense",
              "7420"))
LEAVES = sorted(c for c, a in CHART.accounts.items() if a.postable)


# ---------------------------------------------------------------------- mapping rules


@pytest.mark.parametrize(("code", "section"), [
    ("1110", "current_assets"), ("1210.01", "current_assets"), ("1415", "current_assets"),
    ("2150", "non_current_assets"), ("2250", "non_current_assets"),
    ("2591", "non_current_assets"), ("3110", "current_liabilities"),
    ("3340", "current_liabilities"), ("3420", "current_liabilities"),
    ("4110", "non_current_liabilities"), ("5150", "equity"), ("5320", "equity"),
])
def test_balance_sheet_sections_follow_the_classes(code: str, section: str) -> None:
    assert d.position_section(CHART[code]) == section


def test_balance_sheet_lines_are_the_group_headers() -> None:
    assert [CHART.group_of(c) for c in ("1110", "1210.01", "2250", "5310")] == [
        "1100", "1200", "2200", "5300"]
    assert CHART.lineage("1210.01") == ("1000", "1200", "1210", "1210.01")
    assert CHART.class_of("7420.01") == 7


@pytest.mark.parametrize(("code", "nature", "function"), [
    ("6110", "revenue", "revenue"), ("6115", "revenue", "revenue"),
    ("6120", "revenue", "revenue"), ("6190", "other_income", "other_income"),
    ("7110", "materials_and_goods", "cost_of_sales"),
    ("7120", "employee_benefits", "cost_of_sales"),
    ("7130", "depreciation", "cost_of_sales"),
    ("7210", "materials_and_goods", "cost_of_sales"),
    ("7215", "materials_and_goods", "cost_of_sales"),
    ("7310", "other_expenses", "distribution_costs"),
    ("7320", "employee_benefits", "distribution_costs"),
    ("7410", "employee_benefits", "administrative_expenses"),
    ("7415", "employee_benefits", "administrative_expenses"),
    ("7420.01", "other_expenses", "administrative_expenses"),
    ("7455", "depreciation", "administrative_expenses"),
    ("7460", "impairment_losses", "administrative_expenses"),
    ("7494", "other_expenses", "administrative_expenses"),
    ("8110", "finance_income", "finance_income"), ("8120", "finance_income", "finance_income"),
    ("8130", "other_income", "other_income"), ("8140", "fx_net", "fx_net"),
    ("8145", "fx_net", "fx_net"), ("8210", "finance_costs", "finance_costs"),
    ("8250", "other_expenses", "other_expenses"), ("8245", "fx_net", "fx_net"),
    ("9110", "other_income", "other_income"), ("9120", "other_expenses", "other_expenses"),
    ("9210", "profit_tax", "profit_tax"),
])
def test_profit_or_loss_lines_by_nature_and_by_function(code: str, nature: str,
                                                        function: str) -> None:
    assert d.profit_or_loss_line(CHART, code, "nature") == nature
    assert d.profit_or_loss_line(CHART, code, "function") == function


def test_an_account_of_unknown_classification_falls_back_on_its_type() -> None:
    chart = ge_standard(d.Account("6500", "Grants", "გრანტები", "revenue", "", "6000"),
                        d.Account("7900", "Other", "სხვა", "expense", "", "7000"))
    assert (d.profit_or_loss_line(chart, "6500"), d.profit_or_loss_line(chart, "7900")) == (
        "other_income", "other_expenses")
    assert d.position_section(d.Account("1950", "x", "x", "asset", "", "1000")) == \
        "current_assets"


def test_cash_is_what_the_chart_says_is_cash() -> None:
    cash = [c for c in LEAVES if CHART.is_cash(c)]
    assert cash == ["1110", "1120", "1210", "1210.01", "1220", "1230", "1290"]
    assert d.non_operating_codes(CHART)[:3] == ["1300", "1310", "1320"]
    assert "1410" not in d.non_operating_codes(CHART)


@pytest.mark.parametrize(("code", "column"), [
    ("5110", "share_capital"), ("5150", "share_capital"), ("5210", "partners_equity"),
    ("5310", "retained_earnings"), ("5320", "retained_earnings"),
    ("5330", "retained_earnings"), ("5420", "revaluation_reserve"),
    ("5430", "translation_reserve"), ("5410", "other_reserves"), ("1460", "share_capital"),
])
def test_equity_columns(code: str, column: str) -> None:
    assert d.equity_column(CHART, code) == column


def test_sides_and_fiscal_year_start() -> None:
    assert d.sides(D("10.00")) == (D("10.00"), d.ZERO)
    assert d.sides(D("-10.00")) == (d.ZERO, D("10.00"))
    assert d.sides(d.ZERO) == (d.ZERO, d.ZERO)
    assert d.fiscal_year_start(date(2026, 3, 15), 1) == date(2026, 1, 1)
    assert d.fiscal_year_start(date(2026, 3, 15), 4) == date(2025, 4, 1)
    assert d.fiscal_year_start(date(2026, 4, 1), 4) == date(2026, 4, 1)


# ---------------------------------------------------------------------- allocation


def test_allocation_is_exact_when_the_weights_add_up() -> None:
    assert d.allocate(D("1180.00"), [D("1000.00"), D("180.00")]) == [D("1000.00"),
                                                                     D("180.00")]
    assert d.allocate(D("100.00"), [D("-50.00"), D("150.00")]) == [D("-50.00"), D("150.00")]


def test_allocation_rounds_once_and_leaves_the_remainder_on_the_largest_part() -> None:
    assert d.allocate(D("100.00"), [D(1), D(1), D(1)]) == [D("33.34"), D("33.33"),
                                                          D("33.33")]
    assert d.allocate(D("10.00"), [D(1), D(2)]) == [D("3.33"), D("6.67")]
    assert d.allocate(D("5.00"), [D(0), D(0)]) == [d.ZERO, d.ZERO]


@given(st.integers(-10**9, 10**9), st.lists(st.integers(1, 10**6), min_size=1, max_size=6))
def test_allocation_always_adds_up(amount: int, weights: list[int]) -> None:
    parts = d.allocate(D(amount).scaleb(-2), [D(w) for w in weights])
    assert sum(parts) == D(amount).scaleb(-2)
    assert all(p == p.quantize(D("0.01")) for p in parts)


# ---------------------------------------------------------------------- trial balance


def small_chart() -> d.Chart:
    return d.Chart([
        d.Account("1000", "Current assets", "მიმდინარე აქტივები", "asset", "current_asset",
                  None, False),
        d.Account("1200", "Bank", "ბანკი", "asset", "current_asset", "1000", False),
        d.Account("1210", "Bank GEL", "ბანკი ლარი", "asset", "current_asset", "1200", False),
        d.Account("1210.01", "TBC", "თიბისი", "asset", "current_asset", "1210"),
        d.Account("1210.02", "BoG", "საქართველოს ბანკი", "asset", "current_asset", "1210"),
        d.Account("1220", "Bank FX", "ბანკი ვალუტა", "asset", "current_asset", "1200"),
        d.Account("5000", "Equity", "კაპიტალი", "equity", "equity", None, False),
        d.Account("5150", "Charter capital", "საწესდებო კაპიტალი", "equity", "equity",
                  "5000"),
    ])


SMALL = {"1210.01": d.Sums(D("100.00"), d.ZERO, D("50.00"), D("20.00")),
         "1210.02": d.Sums(d.ZERO, D("30.00"), d.ZERO, d.ZERO),
         "5150": d.Sums(d.ZERO, D("70.00"), d.ZERO, D("30.00"))}


def test_trial_balance_levels_roll_headers_up() -> None:
    chart = small_chart()
    postable = d.trial_balance(chart, SMALL, START, END)
    assert [r.account.code for r in postable.rows] == ["1210.01", "1210.02", "5150"]
    assert postable.totals == (D("100.00"), D("100.00"), D("50.00"), D("50.00"),
                               D("130.00"), D("130.00"))
    accounts = d.trial_balance(chart, SMALL, START, END, "account")
    assert [(r.account.code, r.columns[0], r.columns[4]) for r in accounts.rows] == [
        ("1210", D("70.00"), D("100.00")), ("5150", d.ZERO, d.ZERO)]
    assert accounts.rows[1].columns[5] == D("100.00")
    classes = d.trial_balance(chart, SMALL, START, END, "class")
    assert [r.account.code for r in classes.rows] == ["1000", "5000"]
    assert classes.totals[4] == classes.totals[5] == D("100.00")
    tree = d.trial_balance(chart, SMALL, START, END, "all")
    assert [r.account.code for r in tree.rows] == ["1000", "1200", "1210", "1210.01",
                                                   "1210.02", "5000", "5150"]
    assert tree.totals == postable.totals  # headers are not counted twice
    assert [r.account.code for r in d.trial_balance(chart, SMALL, START, END,
                                                    account_class=5).rows] == ["5150"]
    with_zero = d.trial_balance(chart, SMALL, START, END, include_zero=True)
    assert [r.account.code for r in with_zero.rows] == ["1210.01", "1210.02", "1220", "5150"]


def test_trial_balance_shows_balances_on_their_side() -> None:
    row = d.trial_balance(small_chart(), SMALL, START, END).rows[1]
    assert row.columns == (d.ZERO, D("30.00"), d.ZERO, d.ZERO, d.ZERO, D("30.00"))
    json = d.trial_balance(small_chart(), SMALL, START, END).as_json("ka")
    assert json["rows"][0]["name"] == "თიბისი"
    assert json["totals"]["closing_debit"] == "130.00"


# ---------------------------------------------------------------------- statements


@st.composite
def balanced_sums(draw: st.DrawFn) -> dict[str, d.Sums]:
    """Random transactions over the chart's leaves, as per-account sums of a range: each
    transaction lands before the range (opening) or in it (and maybe is a closing one)."""
    sums: dict[str, d.Sums] = {}
    for _ in range(draw(st.integers(1, 8))):
        amount = D(draw(st.integers(1, 10**7))).scaleb(-2)
        debit, credit = draw(st.lists(st.sampled_from(LEAVES), min_size=2, max_size=2))
        when = draw(st.sampled_from(["opening", "range"]))
        for code, dr, cr in ((debit, amount, d.ZERO), (credit, d.ZERO, amount)):
            part = d.Sums(dr, cr) if when == "opening" else d.Sums(debit=dr, credit=cr)
            sums[code] = sums.get(code, d.Sums()) + part
    return sums


def _position(sums: dict[str, d.Sums], day: date) -> d.PositionColumn:
    earlier, total = d.unclosed_result(CHART, sums)
    return d.PositionColumn(day, {c: s.closing for c, s in sums.items()}, total - earlier,
                            earlier)


@given(balanced_sums(), balanced_sums())
def test_assets_equal_liabilities_and_equity(now: dict[str, d.Sums],
                                             then: dict[str, d.Sums]) -> None:
    fp = d.financial_position(CHART, [_position(now, END), _position(then, START)])
    for i in (0, 1):
        assert fp.total_assets[i] == fp.total_liabilities[i] + fp.total_equity[i]
    assert fp.as_json("en")["balanced"] is True


@given(balanced_sums())
def test_profit_or_loss_subtotals_and_totals(sums: dict[str, d.Sums]) -> None:
    movements = [{c: s.regular_movement for c, s in sums.items()}]
    by_function = d.profit_or_loss(CHART, movements, START, END, layout="function")
    lines = {x.key: x.amounts[0] for x in by_function.lines}
    assert lines["gross_profit"] == lines["revenue"] + lines["cost_of_sales"]
    assert lines["profit_before_tax"] == sum(
        lines[k] for k in ("gross_profit", "other_income", "distribution_costs",
                           "administrative_expenses", "other_expenses", "fx_net",
                           "finance_income", "finance_costs"))
    by_nature = d.profit_or_loss(CHART, movements, START, END)
    nature = {x.key: x.amounts[0] for x in by_nature.lines}
    assert nature["profit_before_tax"] == sum(
        nature[k] for k, _ in d.PL_NATURE[:nature_index("profit_before_tax")])
    for pl, got in ((by_function, lines), (by_nature, nature)):
        assert got["profit"] == got["profit_before_tax"] + got["profit_tax"]
        assert got["profit"] == pl.profit[0] == pl.revenue[0] - pl.expenses[0]
        assert pl.profit[0] == d.profit(CHART, sums)
    # The disclosures by nature of the function layout are the nature layout's lines.
    assert {x.key: x.amounts[0] for x in by_function.disclosures} == {
        k: nature[k] for k in d.DISCLOSED_BY_NATURE}


def nature_index(key: str) -> int:
    return [k for k, _ in d.PL_NATURE].index(key)


@given(balanced_sums())
def test_changes_in_equity_close_on_the_balance_sheet(sums: dict[str, d.Sums]) -> None:
    ce = d.changes_in_equity(CHART, sums, [], START, END)
    closing = d.financial_position(CHART, [_position(sums, END)])
    assert ce.row("closing")["total"] == closing.total_equity[0]


def test_dividends_are_debits_to_retained_earnings_against_a_balance() -> None:
    a, b, c = uuid4(), uuid4(), uuid4()
    lines = [
        {"transaction_id": a, "account_code": "5310", "debit": D("85.00"), "credit": d.ZERO},
        {"transaction_id": a, "account_code": "3420", "debit": d.ZERO, "credit": D("85.00")},
        # Its reversal counts back; a closing made by hand crediting 5310 is no dividend.
        {"transaction_id": b, "account_code": "3420", "debit": D("85.00"), "credit": d.ZERO},
        {"transaction_id": b, "account_code": "5310", "debit": d.ZERO, "credit": D("85.00")},
        {"transaction_id": c, "account_code": "6110", "debit": D("40.00"), "credit": d.ZERO},
        {"transaction_id": c, "account_code": "5310", "debit": d.ZERO, "credit": D("40.00")},
    ]
    assert d.dividends(CHART, lines[:2]) == D("85.00")
    assert d.dividends(CHART, lines[:4]) == d.ZERO
    assert d.equity_movements(CHART, lines[4:]).rows == {
        "transfers": {"retained_earnings": D("40.00")}}
    # Retained earnings credited from the bank: nothing explains it; an exception, listed.
    odd = [{"transaction_id": c, "account_code": "1210", "debit": D("7.00"), "credit": d.ZERO},
           {"transaction_id": c, "account_code": "5310", "debit": d.ZERO, "credit": D("7.00")}]
    movements = d.equity_movements(CHART, odd)
    assert [e.amounts for e in movements.exceptions] == [{"retained_earnings": D("7.00")}]
    assert movements.rows == {"exceptions": {"retained_earnings": D("7.00")}}


def test_choices_and_ranges_are_checked() -> None:
    with pytest.raises(d.InvalidDateRange):
        d.check_range(END, START)
    with pytest.raises(d.UnsupportedFormat) as info:
        d.check_choice("docx", d.FORMATS, d.UnsupportedFormat, "format")
    assert info.value.data["supported"] == ["json", "csv", "xlsx", "pdf"]
