"""Tax rules: the Georgian working-day calendar, return due dates, the monthly VAT return's
boxes and the VAT registration threshold. No I/O here.

Sources (../shared/reference/georgia.md): §1.2 registration (Tax Code Art. 157), §1.3 the
monthly return due by the 15th of the following month, moved to the next working day
(gic.bz), §2 the income tax return (15th of the month after payment), §3 the profit tax
return (15th of the following month), §4.3 property tax (1 April of the next year).
Public holidays: Labour Code of Georgia Art. 20, as the maintained ``holidays`` package
encodes it (Orthodox Easter from the Julian calendar: Good Friday to Easter Monday; 17 May
by Government decree in 2024 and by Organic Law from 2025; one-off days such as 29 August
2025).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

import holidays

from saldo.kernel.errors import RuleViolation
from saldo.kernel.events import DomainEvent

ZERO = Decimal("0.00")
#: GEL 100,000 of taxable transactions in any continuous 12 calendar months (Art. 157).
VAT_THRESHOLD = Decimal("100000.00")
#: Share of the threshold at which the monitor warns (issue 13, item 8).
VAT_WARNING_SHARE = Decimal("0.9")

TAXES = ("vat", "income_tax", "profit_tax", "property_tax")


class InvalidPeriod(RuleViolation):
    code = "invalid_period"
    title = "Invalid period"


class UnknownTax(RuleViolation):
    code = "unknown_tax"
    title = "Unknown tax"


# ---------------------------------------------------------------------- calendar


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GE", years=year).keys())


def is_holiday(day: date) -> bool:
    return day in _holidays(day.year)


def holiday_names(year: int) -> list[tuple[date, str]]:
    found = holidays.country_holidays("GE", years=year, language="en_US")
    return sorted((d, str(n)) for d, n in found.items())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and not is_holiday(day)


def next_working_day(day: date) -> date:
    """``day`` if it is a working day, else the next one (weekends and Georgian public
    holidays move a deadline forward)."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


PERIOD = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
YEAR = re.compile(r"^[0-9]{4}$")


def month_of(period: str) -> tuple[date, date]:
    match = PERIOD.fullmatch(period)
    if not match or not 1900 <= int(match.group(1)) <= 2999:
        raise InvalidPeriod(f"{period!r} is not a month (YYYY-MM).", period=period)
    year, month = int(match.group(1)), int(match.group(2))
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _fifteenth_after(period: str) -> date:
    _, last = month_of(period)
    following = last + timedelta(days=1)
    return following.replace(day=15)


def due_date(tax: str, period: str) -> date:
    """The due date of a return: VAT, income tax and profit tax by the 15th of the month
    after the period (georgia.md §1.3, §2, §3); property tax (period ``YYYY``) by 1 April
    of the next year (§4.3); moved to the next working day."""
    if tax in ("vat", "income_tax", "profit_tax"):
        return next_working_day(_fifteenth_after(period))
    if tax == "property_tax":
        if not YEAR.fullmatch(period):
            raise InvalidPeriod(f"{period!r} is not a year (YYYY).", period=period)
        return next_working_day(date(int(period) + 1, 4, 1))
    raise UnknownTax(f"Unknown tax {tax!r}; one of {', '.join(TAXES)}.", tax=tax)


def months_of(year: int) -> list[str]:
    return [f"{year:04d}-{m:02d}" for m in range(1, 13)]


# ---------------------------------------------------------------------- VAT return


@dataclass(frozen=True, slots=True)
class Box:
    box: str
    label: str
    label_ka: str


#: The declaration's lines, after Odoo's l10n_ge Annex A tags (georgia.md §1.3, §1.5).
#: The official box numbers are UNCONFIRMED (the reference has them from Odoo only).
BOXES: dict[str, Box] = {b.box: b for b in (
    Box("1", "Taxable supplies (18%)", "დასაბეგრი ოპერაციები (18%)"),
    Box("2", "Advances received (net of advances offset at supply)",
        "მიღებული ავანსები (მიწოდებისას ჩათვლილის გამოკლებით)"),
    Box("16", "Exempt with the right of credit (other)",
        "ჩათვლის უფლებით გათავისუფლებული (სხვა)"),
    Box("17", "Export of goods", "საქონლის ექსპორტი"),
    Box("20", "Exempt without the right of credit", "ჩათვლის უფლების გარეშე გათავისუფლებული"),
    Box("21", "Reverse charge: services of non-residents (output)",
        "უკუდაბეგვრა: არარეზიდენტის მომსახურება"),
    Box("24", "Input VAT on local purchases", "ადგილობრივი შესყიდვების დღგ"),
    Box("25", "Import VAT", "იმპორტის დღგ"),
    Box("27", "Reverse-charge VAT credited", "უკუდაბეგვრის დღგ-ის ჩათვლა"),
)}


@dataclass(frozen=True, slots=True)
class VatReturn:
    period: str
    due_date: date
    taxable_supplies: Decimal
    output_vat: Decimal
    export_supplies: Decimal
    exempt_with_credit: Decimal
    exempt_supplies: Decimal
    reverse_charge_base: Decimal
    reverse_charge_vat: Decimal
    import_vat: Decimal
    purchases_base: Decimal
    input_vat: Decimal
    payable: Decimal
    lines: list[dict[str, Any]]


def vat_return(period: str, totals: list[dict[str, Any]]) -> VatReturn:
    """The return from the month's VAT lines summed per direction, code and whether the
    company could deduct (``billing.queries.vat_totals``). ``input_vat`` includes the
    reverse-charge VAT credited and import VAT; payable = output + reverse charge − input
    (api/v1.md "VAT")."""
    sums: dict[tuple[str, str, bool], tuple[Decimal, Decimal]] = {}
    for t in totals:
        key = (t["direction"], t["vat_code"], bool(t["deductible"]))
        base, vat = sums.get(key, (ZERO, ZERO))
        sums[key] = (base + t["base"], vat + t["vat"])

    def total(direction: str, code: str, deductible: bool | None = None) -> tuple[Decimal,
                                                                                    Decimal]:
        base, vat = ZERO, ZERO
        for (dir_, c, ded), (b, v) in sums.items():
            if dir_ == direction and c == code and deductible in (None, ded):
                base, vat = base + b, vat + v
        return base, vat

    taxable, output = total("sales", "vat18")
    advance_base, advance_vat = total("sales", "advance18")
    export, _ = total("sales", "export0")
    exempt_credit, _ = total("sales", "exempt_credit")
    exempt, _ = total("sales", "exempt")
    rc_base, rc_vat = total("purchases", "reverse_charge18")
    rc_credit_base, rc_credit = total("purchases", "reverse_charge18", True)
    local_base, local_vat = total("purchases", "vat18", True)
    _, import_vat = total("purchases", "import18")
    import_credit_base, import_credit = total("purchases", "import18", True)
    input_vat = local_vat + import_credit + rc_credit
    output_vat = output + advance_vat
    figures = {"1": (taxable, output), "2": (advance_base, advance_vat),
               "16": (exempt_credit, ZERO), "17": (export, ZERO), "20": (exempt, ZERO),
               "21": (rc_base, rc_vat), "24": (local_base, local_vat),
               "25": (import_credit_base, import_credit), "27": (rc_credit_base, rc_credit)}
    lines = [{"box": b.box, "label": b.label, "label_ka": b.label_ka,
              "base": figures[b.box][0], "vat": figures[b.box][1]} for b in BOXES.values()]
    return VatReturn(
        period=period, due_date=due_date("vat", period), taxable_supplies=taxable,
        output_vat=output_vat, export_supplies=export, exempt_with_credit=exempt_credit,
        exempt_supplies=exempt, reverse_charge_base=rc_base, reverse_charge_vat=rc_vat,
        import_vat=import_vat, purchases_base=local_base + import_credit_base + rc_credit_base,
        input_vat=input_vat, payable=output_vat + rc_vat - input_vat, lines=lines)


# ---------------------------------------------------------------------- registration


def window_start(as_of: date) -> date:
    """The first day of the 12 calendar months that end with ``as_of``'s month."""
    month = as_of.year * 12 + as_of.month - 1 - 11
    return date(month // 12, month % 12 + 1, 1)


def first_crossing(turnover: list[tuple[date, Decimal]], limit: Decimal) -> date | None:
    """The first day on which the taxable turnover of the 12 calendar months ending with
    that day's month (up to that day) exceeds ``limit``: the company becomes a VAT payer
    with the transaction that crosses it (Art. 157, georgia.md §1.2). ``turnover`` is per
    day, in date order."""
    for i, (day, _) in enumerate(turnover):
        start = window_start(day)
        running = sum((amount for d, amount in turnover[:i + 1] if d >= start), ZERO)
        if running > limit:
            return day
    return None


@dataclass(frozen=True, slots=True)
class VatThresholdApproached(DomainEvent):
    """Taxable turnover of a rolling 12 months reached 90% of GEL 100,000."""

    company_id: UUID
    on: date
    taxable_turnover: Decimal


@dataclass(frozen=True, slots=True)
class VatThresholdExceeded(DomainEvent):
    """Taxable turnover exceeded GEL 100,000: register within 2 working days (Art. 157)."""

    company_id: UUID
    on: date
    taxable_turnover: Decimal
    register_by: date


@dataclass(frozen=True, slots=True)
class VatReturnFiled(DomainEvent):
    period: str
    output_vat: Decimal
    reverse_charge_vat: Decimal
    input_vat: Decimal
    payable: Decimal
    by: str


def working_days_after(day: date, count: int) -> date:
    while count:
        day += timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day
