"""Official exchange rates: what a rate is, which one is in effect, and how the National
Bank of Georgia's answer is read. No I/O here.

A rate is GEL per ONE unit of a currency. NBG publishes ``rate`` per ``quantity`` units
(100 JPY, 10 000 IRR): the rate per unit is ``rate / quantity`` (georgia.md §7). NBG fixes
the rate on business day D and it takes effect on D+1, which NBG gives as ``validFromDate``;
Saldo keys rates by that day, never by ``date`` (which would shift every rate by a day).
On weekends and holidays no new rate is fixed: the last one stays in effect (georgia.md
§7; IAS 21.21-22 spot rate at the date of the transaction).

Worked example (NBG's answer for 2026-03-16)::

    {"code": "USD", "quantity": 1,   "rate": 2.7123, "validFromDate": "2026-03-16T00:00:00.000Z"}
    {"code": "JPY", "quantity": 100, "rate": 1.8342, "validFromDate": "2026-03-16T00:00:00.000Z"}

gives USD 2.7123 and JPY 0.018342 GEL per unit, in effect from 2026-03-16 until the next
rate (Saturday 2026-03-21 and Sunday 2026-03-22 still use Friday's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from saldo.kernel.errors import NotFound, RuleViolation, SaldoError
from saldo.kernel.money import ISO_CURRENCIES, InvalidAmount, parse_amount, round_half_up

BASE_CURRENCY = "GEL"
#: A rate above this many GEL per unit is absurd (the dearest currency NBG quotes, the
#: Kuwaiti dinar, is below 10 GEL; gold per ounce is not a currency rate): refused.
MAX_RATE = Decimal(10_000)
#: Decimals of a rate per unit: NBG's four, divided by a quantity of up to 10 000.
RATE_PLACES = 10

SOURCE_NBG, SOURCE_MANUAL = "nbg", "manual"


# ---------------------------------------------------------------------- errors


class InvalidRate(RuleViolation):
    code = "invalid_rate"
    title = "Invalid exchange rate"


class UnknownCurrency(RuleViolation):
    code = "invalid_currency"
    title = "Invalid currency"


class RateNotFound(NotFound):
    """No rate in effect (``GET /rates``: 404). Posting maps the same code to 422."""

    code = "rate_not_found"
    title = "No exchange rate in effect"


class NbgAnswerInvalid(RuleViolation):
    """NBG answered, but not with usable rates: malformed, empty or for another day.
    Nothing is stored; ``findings`` says what was wrong."""

    code = "nbg_answer_invalid"
    title = "The National Bank's answer is unusable"
    exposed = ("findings",)


class NbgUnavailable(SaldoError):
    """NBG could not be reached, or answered with an HTTP error (502)."""

    code = "nbg_unavailable"
    title = "The National Bank's rates service is unavailable"


# ---------------------------------------------------------------------- rates


@dataclass(frozen=True, slots=True)
class OfficialRate:
    """A rate to store: GEL per one unit, in effect from ``valid_from``."""

    currency: str
    valid_from: date
    rate: Decimal
    source: str = SOURCE_NBG
    #: As NBG published it (``None`` for a rate typed in).
    quantity: int | None = None
    published: Decimal | None = None


def check_currency(value: object) -> str:
    """An ISO 4217 code other than the base currency (whose rate is 1 by definition)."""
    code = str(value).strip().upper() if isinstance(value, str) else ""
    if code not in ISO_CURRENCIES:
        raise UnknownCurrency(f"{value!r} is not an ISO 4217 currency code.", field="currency")
    if code == BASE_CURRENCY:
        raise UnknownCurrency("GEL is the base currency: its rate is 1 by definition.",
                              field="currency")
    return code


def check_rate(value: object, field: str = "rate") -> Decimal:
    """A positive rate, GEL per one unit, at most 10 000 and 10 decimals."""
    try:
        rate = parse_amount(value)
    except InvalidAmount as exc:
        raise InvalidRate(f"{field}: {exc}", field=field) from None
    if rate <= 0:
        raise InvalidRate(f"{field}: a rate is positive (GEL per one unit), not {rate}.",
                          field=field)
    if rate > MAX_RATE:
        raise InvalidRate(f"{field}: {rate} GEL per unit is not a plausible rate (at most "
                          f"{MAX_RATE}); is it the rate for more than one unit?", field=field)
    if rate != round_half_up(rate, RATE_PLACES):
        raise InvalidRate(f"{field}: at most {RATE_PLACES} decimals.", field=field)
    return rate


def manual_rate(currency: object, valid_from: date, rate: object) -> OfficialRate:
    """A rate a superuser enters (``PUT /rates/{currency}/{valid_from}``)."""
    return OfficialRate(check_currency(currency), valid_from, check_rate(rate),
                        SOURCE_MANUAL)


# ---------------------------------------------------------------------- NBG's answer


def _day(value: object, where: str, findings: list[str]) -> date | None:
    """``2026-03-16T00:00:00.000Z`` (or ``2026-03-16``) as the calendar day it names."""
    if not isinstance(value, str) or len(value) < 10:
        findings.append(f"{where}: {value!r} is not a date.")
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        findings.append(f"{where}: {value!r} is not a date.")
        return None


def _number(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        # A JSON number NBG sent (read as Decimal by the client), or its text.
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def parse_nbg_answer(payload: object, requested: date | None) -> list[OfficialRate]:
    """The rates in NBG's JSON answer (an array whose first element is ``{date,
    currencies: [...]}``), per unit and keyed by ``validFromDate``.

    ``requested``: the day asked for (``?date=``); the answer must be for that day, and no
    rate in it may take effect after it. Anything malformed, an empty answer or one for
    another day raises :class:`NbgAnswerInvalid` with every finding: nothing is stored from
    an answer with one bad row. Codes that are not IS 4217 currencies are skipped."""
    findings: list[str] = []
    if not isinstance(payload, list) or not payload:
        raise NbgAnswerInvalid("NBG answered with no rates (an empty or non-array answer)"
                               + (f" for {requested}." if requested else "."),
                               findings=["The answer is not a non-empty JSON array."])
    head = payload[0]
    if not isinstance(head, Mapping) or not isinstance(head.get("currencies"), list):
        raise NbgAnswerInvalid("NBG's answer is malformed: its first element has no "
                               "currencies list.", findings=["answer[0].currencies missing."])
    day = _day(head.get("date"), "answer[0].date", findings)
    if requested is not None and day is not None and day != requested:
        findings.append(f"The answer is for {day}, not for the day asked, {requested}.")
    currencies: list[Any] = head["currencies"]
    if not currencies:
        findings.append("The answer lists no currencies.")
    rates: list[OfficialRate] = []
    seen: set[str] = set()
    for index, row in enumerate(currencies):
        where = f"currencies[{index}]"
        if not isinstance(row, Mapping):
            findings.append(f"{where}: not an object.")
            continue
        code = row.get("code")
        if not isinstance(code, str) or not code.strip():
            findings.append(f"{where}: no currency code.")
            continue
        code = code.strip().upper()
        where = f"{where} ({code})"
        quantity, published = _number(row.get("quantity")), _number(row.get("rate"))
        valid_from = _day(row.get("validFromDate"), f"{where}.validFromDate", findings)
        if quantity is None or quantity <= 0 or quantity != quantity.to_integral_value():
            findings.append(f"{where}: quantity {row.get('quantity')!r} is not a positive "
                            "whole number.")
            continue
        if published is None or published <= 0:
            findings.append(f"{where}: rate {row.get('rate')!r} is not a positive number.")
            continue
        if valid_from is None:
            continue
        if requested is not None and valid_from > requested:
            findings.append(f"{where}: valid from {valid_from}, after the day asked "
                            f"({requested}).")
            continue
        if code not in ISO_CURRENCIES or code == BASE_CURRENCY:
            continue  # not a currency Saldo books in
        if code in seen:
            findings.append(f"{where}: listed twice.")
            continue
        seen.add(code)
        per_unit = round_half_up(published / quantity, RATE_PLACES).normalize()
        if per_unit > MAX_RATE or per_unit <= 0:
            findings.append(f"{where}: {per_unit} GEL per unit is not a plausible rate.")
            continue
        rates.append(OfficialRate(code, valid_from, per_unit, SOURCE_NBG, int(quantity),
                                  published))
    if findings:
        raise NbgAnswerInvalid(
            f"NBG's answer{f' for {requested}' if requested else ''} is unusable: "
            f"{findings[0]}" + (f" (and {len(findings) - 1} more)" if len(findings) > 1
                                else ""), findings=findings)
    if not rates:
        raise NbgAnswerInvalid("NBG's answer holds no rate Saldo can use.",
                               findings=["No ISO 4217 currency in the answer."])
    return rates


# ---------------------------------------------------------------------- IAS 21


#: Monetary items (IAS 21.8, 21.16: units of currency held, and assets and liabilities to
#: be received or paid in a fixed or determinable number of units of currency) in the
#: Georgian standard chart, by the account group a code falls in: cash (11), bank (12),
#: receivables (14), notes receivable (15), long-term receivables (23), payables (31),
#: borrowings (32), taxes (33), accrued liabilities and provisions settled in cash (34),
#: long-term borrowings (41), other long-term liabilities (42), long-term provisions (43).
MONETARY_GROUPS = ("11", "12", "14", "15", "23", "31", "32", "33", "34", "41", "42", "43")
#: Within those groups, what is not monetary (IAS 21.16: a right to receive, or an
#: obligation to deliver, goods or services): advances paid (1480) and received (3120),
#: contract liabilities (3125), deferred tax (2340, 4210).
NON_MONETARY = ("1480", "2340", "3120", "3125", "4210")
#: Unrealised exchange gains and losses (the revaluation's own accounts).
UNREALISED_GAIN, UNREALISED_LOSS = "8145", "8245"
#: Realised exchange gains and losses (settlement at another rate, IAS 21.28).
REALISED_GAIN, REALISED_LOSS = "8140", "8240"


def is_monetary(account_code: str) -> bool:
    """Whether an account (or a company's sub-account of it, ``1220.01``) holds monetary
    items that IAS 21.23 retranslates at the closing rate. Inventory (16), fixed assets
    (21-26), equity and profit or loss accounts never are."""
    head = account_code[:4]
    return head[:2] in MONETARY_GROUPS and head not in NON_MONETARY


@dataclass(frozen=True, slots=True)
class Position:
    """A monetary account's balance in one foreign currency as of a day: the amount in
    the currency and its carrying amount in GEL (debit positive)."""

    account_code: str
    currency: str
    foreign_balance: Decimal
    gel_before: Decimal


@dataclass(frozen=True, slots=True)
class Retranslation:
    """One position at the closing rate: ``gel_after = round(foreign × rate)``; the
    difference goes to unrealised gain (positive on a debit position grown, or a credit
    position shrunk) or loss."""

    account_code: str
    currency: str
    foreign_balance: Decimal
    rate: Decimal
    gel_before: Decimal
    gel_after: Decimal

    @property
    def difference(self) -> Decimal:
        return self.gel_after - self.gel_before


def retranslate(position: Position, rate: Decimal) -> Retranslation:
    """IAS 21.23(a): a foreign-currency monetary item at the closing rate, rounded half-up
    to the tetri (kernel.money.round_half_up, the one rounding rule).

    Worked example: 1220 holds USD 1,000.00 booked at 2.70 (GEL 2,700.00); the closing
    rate is 2.7500: gel_after = 2,750.00 and the difference +50.00 is an unrealised gain
    (Dr 1220 50.00, Cr 8145 50.00)."""
    gel_after = round_half_up(position.foreign_balance * rate, 2)
    return Retranslation(position.account_code, position.currency, position.foreign_balance,
                         rate, position.gel_before, gel_after)
