"""Georgian working days and return due dates against the holiday list, 2024–2028
(Labour Code Art. 20; Orthodox Easter 20 Apr 2025, 12 Apr 2026, 2 May 2027, 16 Apr 2028;
17 May by decree in 2024 and by law from 2025; 29 Aug 2025 by decree)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from saldo.tax.domain import (
    InvalidPeriod,
    UnknownTax,
    due_date,
    first_crossing,
    is_working_day,
    next_working_day,
    window_start,
    working_days_after,
)


@pytest.mark.parametrize(("day", "expected"), [
    (date(2025, 4, 18), date(2025, 4, 22)),   # Good Friday → Sat, Sun, Easter Monday → Tue
    (date(2024, 5, 17), date(2024, 5, 20)),   # 17 May 2024 (Fri) by decree
    (date(2026, 5, 26), date(2026, 5, 27)),   # Independence Day (Tue)
    (date(2027, 1, 1), date(2027, 1, 4)),     # New Year (Fri), 2 Jan (Sat), Sunday
    (date(2025, 8, 29), date(2025, 9, 1)),    # one-off holiday (Fri) then a weekend
    (date(2026, 1, 19), date(2026, 1, 20)),   # Epiphany (Mon)
    (date(2027, 5, 3), date(2027, 5, 4)),     # Easter Monday 2027
    (date(2026, 5, 12), date(2026, 5, 13)),   # St Andrew (Tue)
    (date(2027, 5, 17), date(2027, 5, 18)),   # Family Day (Mon), law from 2025
    (date(2026, 3, 11), date(2026, 3, 11)),   # an ordinary Wednesday
])
def test_next_working_day(day: date, expected: date) -> None:
    assert next_working_day(day) == expected


def test_17_may_is_a_working_day_before_2024() -> None:
    assert is_working_day(date(2023, 5, 17))  # a Wednesday, no holiday yet


@pytest.mark.parametrize(("tax", "period", "expected"), [
    ("vat", "2025-02", date(2025, 3, 17)),    # 15 Mar 2025 is a Saturday
    ("vat", "2025-12", date(2026, 1, 15)),    # Thursday
    ("vat", "2026-01", date(2026, 2, 16)),    # 15 Feb 2026 is a Sunday
    ("vat", "2026-03", date(2026, 4, 15)),    # Wednesday after Easter Monday (13 Apr)
    ("income_tax", "2026-10", date(2026, 11, 16)),  # 15 Nov 2026 is a Sunday
    ("profit_tax", "2027-07", date(2027, 8, 16)),   # 15 Aug 2027 is a Sunday
    ("vat", "2027-03", date(2027, 4, 15)),    # Thursday
    ("vat", "2028-03", date(2028, 4, 18)),    # 15 Apr 2028: Holy Saturday, Easter Mon 17
    ("property_tax", "2025", date(2026, 4, 1)),
    ("property_tax", "2027", date(2028, 4, 3)),  # 1 Apr 2028 is a Saturday
])
def test_due_dates(tax: str, period: str, expected: date) -> None:
    assert due_date(tax, period) == expected


def test_bad_periods_and_taxes() -> None:
    with pytest.raises(InvalidPeriod):
        due_date("vat", "2026-13")
    with pytest.raises(InvalidPeriod):
        due_date("property_tax", "2026-01")
    with pytest.raises(UnknownTax):
        due_date("excise", "2026-01")


def test_registration_window_and_crossing() -> None:
    assert window_start(date(2026, 5, 20)) == date(2025, 6, 1)
    assert window_start(date(2026, 12, 31)) == date(2026, 1, 1)
    # 60,000 in June 2025, 30,000 in Feb 2026, 15,000 in May 2026: no calendar year
    # exceeds 100,000 (60,000; 45,000) but Jun 2025–May 2026 holds 105,000.
    turnover = [(date(2025, 6, 15), Decimal("60000")), (date(2026, 2, 10), Decimal("30000")),
                (date(2026, 5, 20), Decimal("15000"))]
    assert first_crossing(turnover, Decimal("100000")) == date(2026, 5, 20)
    # A month later the June 2025 sale has left the window: no crossing then.
    assert first_crossing([(date(2025, 5, 31), Decimal("60000")), *turnover[1:]],
                          Decimal("100000")) is None
    # Register within 2 working days: Thu 21, Fri 22 May 2026.
    assert working_days_after(date(2026, 5, 20), 2) == date(2026, 5, 22)
