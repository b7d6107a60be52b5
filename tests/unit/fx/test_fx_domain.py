"""The fx context's rules without I/O: rates, NBG's answer, IAS 21 retranslation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from saldo.fx.domain import (
    InvalidRate,
    NbgAnswerInvalid,
    Position,
    UnknownCurrency,
    check_currency,
    check_rate,
    is_monetary,
    parse_nbg_answer,
    retranslate,
)

DAY = date(2026, 3, 16)


def answer(*rows: object, day: str = "2026-03-16") -> list[dict[str, Any]]:
    return [{"date": f"{day}T00:00:00.000Z", "currencies": list(rows)}]


def row(code: str, quantity: object, rate: object,
        valid_from: str = "2026-03-16") -> dict[str, Any]:
    return {"code": code, "quantity": quantity, "rateFormated": str(rate), "rate": rate,
            "diffFormated": "0.0010", "diff": Decimal("0.001"), "name": code,
            "date": "2026-03-13T17:45:13.055Z",
            "validFromDate": f"{valid_from}T00:00:00.000Z"}


def test_rates_are_per_unit_and_keyed_by_valid_from() -> None:
    rates = parse_nbg_answer(answer(row("USD", 1, Decimal("2.7123")),
                                    row("JPY", 100, Decimal("1.8342")),
                                    row("IRR", 10000, Decimal("0.6457")),
                                    row("KWD", 1, Decimal("8.8102"))), DAY)
    # 1.8342 / 100 = 0.018342; 0.6457 / 10,000 = 0.00006457
    assert [(r.currency, r.rate, r.valid_from, r.quantity) for r in rates] == [
        ("USD", Decimal("2.7123"), DAY, 1), ("JPY", Decimal("0.018342"), DAY, 100),
        ("IRR", Decimal("0.00006457"), DAY, 10000), ("KWD", Decimal("8.8102"), DAY, 1)]


def test_a_weekend_answer_keeps_the_rate_valid_from_friday() -> None:
    saturday = date(2026, 3, 14)
    rates = parse_nbg_answer(answer(row("USD", 1, Decimal("2.7123"), "2026-03-13"),
                                    day="2026-03-14"), saturday)
    assert rates[0].valid_from == date(2026, 3, 13)


@pytest.mark.parametrize(("payload", "finding"), [
    ([], "not a non-empty JSON array"),
    ({"date": "2026-03-16"}, "not a non-empty JSON array"),
    ([{"date": "2026-03-16T00:00:00.000Z"}], "currencies missing"),
    (answer(), "no currencies"),
    (answer(row("USD", 1, Decimal("2.7")), day="2026-03-13"), "not for the day asked"),
    (answer(row("USD", 1, Decimal("2.7"), "2026-03-17")), "after the day asked"),
    (answer(row("USD", 0, Decimal("2.7"))), "quantity"),
    (answer(row("USD", Decimal("1.5"), Decimal("2.7"))), "quantity"),
    (answer(row("USD", 1, Decimal("-2.7"))), "rate"),
    (answer(row("USD", 1, "abc")), "rate"),
    (answer(row("USD", 1, None)), "rate"),
    (answer(row("USD", 1, Decimal("27000"))), "plausible"),
    (answer(row("USD", 1, Decimal("2.7")), row("USD", 1, Decimal("2.8"))), "twice"),
    (answer({**row("USD", 1, Decimal("2.7")), "validFromDate": "soon"}), "not a date"),
    (answer("USD"), "not an object"),
    (answer({"quantity": 1, "rate": 2.7}), "no currency code"),
])
def test_an_unusable_answer_is_refused_whole(payload: object, finding: str) -> None:
    with pytest.raises(NbgAnswerInvalid) as caught:
        parse_nbg_answer(payload, DAY)
    assert any(finding in f for f in caught.value.data["findings"]), caught.value.data


def test_one_bad_row_refuses_the_days_good_rows_too() -> None:
    with pytest.raises(NbgAnswerInvalid):
        parse_nbg_answer(answer(row("USD", 1, Decimal("2.7")), row("EUR", 1, Decimal(0))), DAY)


def test_codes_that_are_no_iso_currency_are_skipped() -> None:
    rates = parse_nbg_answer(answer(row("USD", 1, Decimal("2.7")),
                                    row("XDR", 1, Decimal("3.6"))), DAY)
    assert [r.currency for r in rates] == ["USD"]


@pytest.mark.parametrize("value", ["0", "-1", "10000.0001", "1e3", "2.12345678901", "", None,
                                   True, 2.7])
def test_bad_rates(value: object) -> None:
    with pytest.raises(InvalidRate):
        check_rate(value)


def test_good_rates() -> None:
    assert check_rate("2.7123") == Decimal("2.7123")
    assert check_rate(Decimal(10000)) == Decimal(10000)
    assert check_rate("0.0000645700") == Decimal("0.00006457")


@pytest.mark.parametrize("code", ["XYZ", "GEL", "", "usdx", 12])
def test_bad_currencies(code: object) -> None:
    with pytest.raises(UnknownCurrency):
        check_currency(code)


@pytest.mark.parametrize(("code", "monetary"), [
    ("1110", True), ("1120", True), ("1220", True), ("1220.01", True), ("1410", True),
    ("1415", True), ("2330", True), ("3110", True), ("3210", True), ("4140", True),
    ("1480", False), ("3120", False), ("3125", False), ("2340", False), ("4210", False),
    ("1610", False), ("2150", False), ("5150", False), ("6115", False), ("8145", False),
    ("4410", False)])
def test_monetary_items_per_ias_21_16(code: str, monetary: bool) -> None:
    assert is_monetary(code) is monetary


def test_retranslation_worked_example() -> None:
    # USD 1,000.00 booked at 2.70 = 2,700.00; at 2.75: 2,750.00, +50.00.
    r = retranslate(Position("1220", "USD", Decimal("1000.00"), Decimal("2700.00")),
                    Decimal("2.75"))
    assert (r.gel_after, r.difference) == (Decimal("2750.00"), Decimal("50.00"))
    # A payable of EUR 333.33 at 2.9512 = −983.723... → −983.72 (half-up); booked −966.66.
    r = retranslate(Position("3110", "EUR", Decimal("-333.33"), Decimal("-966.66")),
                    Decimal("2.9512"))
    assert (r.gel_after, r.difference) == (Decimal("-983.72"), Decimal("-17.06"))


@given(st.decimals(min_value=-10**9, max_value=10**9, places=2),
       st.decimals(min_value=-10**9, max_value=10**9, places=2),
       st.decimals(min_value=Decimal("0.0001"), max_value=10000, places=4))
def test_retranslation_lands_on_the_closing_rate(amount: Decimal, before: Decimal,
                                                 rate: Decimal) -> None:
    r = retranslate(Position("1220", "USD", amount, before), rate)
    assert r.gel_before + r.difference == r.gel_after
    assert abs(r.gel_after - amount * rate) <= Decimal("0.005")
