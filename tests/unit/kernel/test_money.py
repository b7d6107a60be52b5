"""Money is exact: parsed without floats, rounded in one place, half-up to the tetri."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from saldo.kernel.money import (
    InvalidAmount,
    amount_text,
    display_amount,
    parse_amount,
    round_half_up,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1180.00", Decimal("1180.00")), ("0.1", Decimal("0.1")), (1180, Decimal(1180)),
     (Decimal("2.50"), Decimal("2.50")), ("42.5", Decimal("42.5")), ("-3", Decimal(-3))],
)
def test_parse_amount_is_exact(raw: object, expected: Decimal) -> None:
    assert parse_amount(raw) == expected


@pytest.mark.parametrize(
    "raw", ["1,000.00", "1e309", "1E2", "NaN", "Infinity", "-inf", "", "abc", "1_000", 0.1, True,
            None, [], {"a": 1}, Decimal("NaN"),
            # what Decimal() takes and the CSV importer refuses: one rule for both edges
            "+100.00", ".5", "100.", "  42.5 ", "42.5\n", "١٠٠", "１００", "1 000"],
)
def test_parse_amount_refuses_inexact_or_odd_input(raw: object) -> None:
    with pytest.raises(InvalidAmount):
        parse_amount(raw)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("0.005", "0.01"), ("0.004", "0.00"), ("-0.005", "-0.01"), ("2.675", "2.68"),
     ("1.125", "1.13"), ("10", "10.00")],
)
def test_round_half_up_to_the_tetri(amount: str, expected: str) -> None:
    assert round_half_up(Decimal(amount)) == Decimal(expected)
    assert str(round_half_up(Decimal(amount))) == expected


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4,
                   min_value=Decimal("-1e12"), max_value=Decimal("1e12")))
def test_rounding_moves_an_amount_by_at_most_half_a_tetri(amount: Decimal) -> None:
    rounded = round_half_up(amount)
    assert abs(rounded - amount) <= Decimal("0.005")
    assert rounded == round_half_up(rounded)  # idempotent


@pytest.mark.parametrize(("amount", "text"), [
    (Decimal("1180"), "1180.00"), (Decimal("-5.1"), "-5.10"), (Decimal("-0.00"), "0.00"),
    (-1 * Decimal("0.00"), "0.00"), (Decimal("0.125"), "0.125"), (Decimal("1E+3"), "1000.00"),
])
def test_amounts_read_as_written_never_as_minus_zero(amount: Decimal, text: str) -> None:
    assert amount_text(amount) == text


# ---------------------------------------------------------------------- display


@pytest.mark.parametrize(("amount", "lang", "expected"), [
    ("1180", "en", "1,180.00"), ("1180", "ka", "1\u00a0180,00"),
    ("1234567.5", "en", "1,234,567.50"), ("1234567.5", "ka", "1\u00a0234\u00a0567,50"),
    ("-1234.56", "ka", "-1\u00a0234,56"), ("999.99", "en", "999.99"), ("0", "ka", "0,00"),
    ("-0.00", "en", "0.00"), ("100000", "en", "100,000.00"),
    # Never rounded in print, where ``f"{x:.2f}"`` shows 0.12 and 2.00 (half-even):
    ("0.125", "en", "0.125"), ("2.005", "ka", "2,005"),
])
def test_display_amount_groups_as_the_language_writes_and_never_rounds(
        amount: str, lang: str, expected: str) -> None:
    assert display_amount(Decimal(amount), lang=lang) == expected


def test_display_amount_takes_the_currency_places() -> None:
    assert display_amount(Decimal("1234.5"), 3, "en") == "1,234.500"
    assert display_amount(Decimal("1235"), 0, "ka") == "1\u00a0235"


@given(st.decimals(min_value=Decimal("-1e14"), max_value=Decimal("1e14"), places=2,
                   allow_nan=False, allow_infinity=False),
       st.sampled_from(["en", "ka"]))
def test_display_amount_is_the_amount_with_separators(amount: Decimal, lang: str) -> None:
    """Taking the separators out gives back the amount exactly; groups are three digits."""
    text = display_amount(amount, lang=lang)
    group, point = (",", ".") if lang == "en" else ("\u00a0", ",")
    whole = text.lstrip("-").split(point)[0].split(group)
    assert all(len(g) == 3 for g in whole[1:])
    assert 1 <= len(whole[0]) <= 3
    assert Decimal(text.replace(group, "").replace(point, ".")) == amount
