"""Payroll's rules without a database: per-line rounding, pro rata, profit tax, dividend
split, representation cap, identifiers and due dates (figures worked by hand)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from saldo.payroll import domain as d
from saldo.tax.queries import due_date

RATES = d.Rates(Decimal("0.20"), Decimal("0.02"), Decimal("0.02"))
EMPLOYEE = UUID(int=1)
D = Decimal


def line(gross: str, enrolled: bool = True) -> d.PayLine:
    return d.pay_line(EMPLOYEE, D(gross), d.ZERO, d.ZERO, enrolled, RATES)


def test_the_reference_examples() -> None:
    # georgia.md §2 (vabaco.ge): (900 − 18) × 0.8 = 705.60 net.
    x = line("900")
    assert (x.pension_employee, x.income_tax, x.net, x.pension_employer) == (
        D("18.00"), D("176.40"), D("705.60"), D("18.00"))
    # georgia.md §5.4: gross 1,000 -> 784 net, 196 tax, 20 + 20 pension.
    x = line("1000")
    assert (x.net, x.income_tax, x.pension_employee) == (D("784.00"), D("196.00"),
                                                          D("20.00"))


def test_rounding_half_up_per_line() -> None:
    # 1234.57 × 0.02 = 24.6914 → 24.69; (1234.57 − 24.69) × 0.2 = 241.976 → 241.98.
    x = line("1234.57")
    assert (x.pension_employee, x.income_tax, x.net) == (D("24.69"), D("241.98"),
                                                          D("967.90"))
    # 0.25 × 0.02 = 0.005 → 0.01 (half up); (0.25 − 0.01) × 0.2 = 0.048 → 0.05.
    x = line("0.25")
    assert (x.pension_employee, x.income_tax, x.net) == (D("0.01"), D("0.05"), D("0.19"))
    # Not enrolled: no pension either side; 0.025 × 20% = 0.005 → 0.01.
    x = line("0.03", enrolled=False)
    assert (x.pension_employee, x.income_tax, x.pension_employer) == (D("0.00"), D("0.01"),
                                                                      D("0.00"))


@given(st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False),
       st.booleans())
def test_net_tax_and_pension_make_the_gross(gross: Decimal, enrolled: bool) -> None:
    x = d.pay_line(EMPLOYEE, gross, d.ZERO, d.ZERO, enrolled, RATES)
    assert x.net + x.income_tax + x.pension_employee == gross
    assert min(x.net, x.income_tax, x.pension_employee, x.pension_employer) >= 0
    journal = d.accrual_lines(d.totals([x]))
    assert sum(dr for _, dr, _, _ in journal) == sum(cr for _, _, cr, _ in journal)


def test_negative_and_overprecise_gross_are_refused() -> None:
    with pytest.raises(d.NegativeGross):
        line("-0.01")
    with pytest.raises(d.InvalidRun):
        line("100.001")


def test_pro_rata_by_calendar_days() -> None:
    history = ((date(2026, 3, 16), D("3100.00")),)
    # 3100 × 16 / 31 = 1600.00
    assert d.prorated_salary(d.SalaryPeriod(date(2026, 3, 16), None, history),
                             date(2026, 3, 1)) == D("1600.00")
    # Leaving on 10 February 2026: 2800 × 10 / 28 = 1000.00
    job = d.SalaryPeriod(date(2025, 1, 1), date(2026, 2, 10), ((date(2025, 1, 1),
                                                                D("2800")),))
    assert d.prorated_salary(job, date(2026, 2, 1)) == D("1000.00")
    assert d.prorated_salary(job, date(2026, 3, 1)) == d.ZERO
    # A raise on 21 April 2026: 3000 × 20/30 + 3600 × 10/30 = 2000.00 + 1200.00.
    job = d.SalaryPeriod(date(2025, 1, 1), None, ((date(2025, 1, 1), D("3000")),
                                                   (date(2026, 4, 21), D("3600"))))
    assert d.prorated_salary(job, date(2026, 4, 1)) == D("3200.00")
    assert d.prorated_salary(job, date(2026, 5, 1)) == D("3600")


def test_profit_tax_on_distributions() -> None:
    # georgia.md §3: 100 / 0.85 = 117.65, tax 17.65.
    assert d.profit_tax(D("100"), D("0.15")) == D("17.65")
    assert d.profit_tax(D("85"), D("0.15")) == D("15.00")
    # 10,000 / 0.85 × 0.15 = 1,764.70588 → 1,764.71
    assert d.profit_tax(D("10000"), D("0.15")) == D("1764.71")


def test_dividend_split_and_withholding() -> None:
    holders = [d.Shareholder("A", None, "person", True, D("1") / 3),
               d.Shareholder("B", None, "company", True, D("1") / 3),
               d.Shareholder("C", None, "company", False, D("1") - 2 * (D("1") / 3))]
    # Thirds of 100.00: 33.33 + 33.33 + 33.34 (largest remainder), withholding 5% on A
    # (1.6665 → 1.67) and C (1.667 → 1.67); none on the resident company.
    figures = d.dividend(D("100.00"), holders, D("0.15"), D("0.05"))
    assert [s.amount for s in figures.shareholders] == [D("33.33"), D("33.33"), D("33.34")]
    assert [s.withholding for s in figures.shareholders] == [D("1.67"), D("0.00"), D("1.67")]
    assert figures.withholding_tax == D("3.34")
    with pytest.raises(d.SharesNotOne):
        d.dividend(D("100"), holders[:2], D("0.15"), D("0.05"))


def test_representation_cap() -> None:
    # The higher of 1% of income (150,000) and of expenses (90,000): 1,500.00.
    cap = d.representation_cap(D("150000"), D("90000"), D("0.01"))
    assert cap == D("1500.00")
    assert d.representation_excess(D("0"), D("1000"), cap) == D("0")
    assert d.representation_excess(D("1000"), D("800"), cap) == D("300")
    assert d.representation_excess(D("1800"), D("50"), cap) == D("50")


def test_identifiers() -> None:
    assert d.check_personal_number("01001011234", foreign=False) == "01001011234"
    assert d.check_personal_number("123456789", foreign=True) == "123456789"
    for bad in ("123456789", "0100101123", "0100101123X", "０１００１０１１２３４"):
        with pytest.raises(d.InvalidPersonalNumber):
            d.check_personal_number(bad, foreign=False)
    assert d.check_iban("GE29 NB00 0000 0101 9049 17") == "GE29NB0000000101904917"
    with pytest.raises(d.InvalidEmployee):
        d.check_iban("GE28NB0000000101904917")


def test_returns_are_due_on_the_taxs_calendar() -> None:
    # The tax context's calendar (issue 13): the 15th of the following month, moved to a
    # working day. March 2026 -> Wednesday 15 April 2026; February 2026 -> 15 March is a
    # Sunday -> Monday 16 March; December 2026 -> Friday 15 January 2027.
    assert due_date("income_tax", "2026-03") == date(2026, 4, 15)
    assert due_date("income_tax", "2026-02") == date(2026, 3, 16)
    assert due_date("profit_tax", "2026-12") == date(2027, 1, 15)


@given(st.lists(st.tuples(st.decimals(min_value=0, max_value=10**9, places=2,
                                      allow_nan=False), st.booleans()),
                min_size=1, max_size=40))
def test_a_run_journal_and_its_payment_balance(grosses: list[tuple[Decimal, bool]]) -> None:
    lines = [d.pay_line(UUID(int=i), g, d.ZERO, d.ZERO, enrolled, RATES)
             for i, (g, enrolled) in enumerate(grosses)]
    t = d.totals(lines)
    accrual = d.accrual_lines(t)
    assert sum(x[1] for x in accrual) == sum(x[2] for x in accrual)
    payment = d.payment_lines(t, "1210")
    assert sum(x[1] for x in payment) == sum(x[2] for x in payment)
    # Paying clears what the accrual owes on 3130, 3320 and 3321.
    owed = {code: cr - dr for code, dr, cr, _ in accrual if code != "7410" and code != "7415"}
    paid = {code: dr for code, dr, _, _ in payment if code != "1210"}
    assert owed == paid
