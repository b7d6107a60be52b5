"""Money is ``Decimal`` with an explicit currency, and rounding happens here only.

The rule: half-up to the smallest unit of the currency (tetri for GEL), unless a law
names another rule, in which case that rule gets its own named function here.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale
from babel.numbers import NumberPattern, parse_pattern

#: Minor-unit exponent per ISO 4217 code; 2 unless listed.
_MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
                     "UGX", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}


#: ISO 4217 currency codes in use (2026), plus XAU/XAG for precious metals.
_ISO_4217 = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP
MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XAG XAU XCD XCG XOF XPF
YER ZAR ZMW ZWG
"""
ISO_CURRENCIES = frozenset(_ISO_4217.split())


#: An amount as text: ``1180.00``, ``-5``, ``0.5`` (see :func:`parse_amount`).
AMOUNT_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)


class InvalidAmount(ValueError):
    """A value that is not an exact, finite decimal amount."""


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency, 2)


def round_half_up(amount: Decimal, places: int = 2) -> Decimal:
    """The one rounding rule: half-up (0.005 → 0.01) to ``places`` decimals."""
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def padded(amount: Decimal, places: int = 2) -> Decimal:
    """``amount`` with at least ``places`` decimals, for display: only trailing zeros are
    added (nothing is rounded, no digit dropped), and ``-0`` becomes 0."""
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -places:
        # Formatting, unlike quantize, has no 28-digit context limit.
        amount = Decimal(format(amount, f".{places}f"))
    return amount.copy_abs() if amount.is_zero() else amount


def amount_text(amount: Decimal, places: int = 2) -> str:
    """An amount as the API and files show it: ``"1180.00"``, ``"-5.10"``, never
    ``"-0.00"``, never an exponent, never rounded."""
    return format(padded(amount, places), "f")


#: The CLDR locale whose number format people read amounts in, per language: English
#: 1,180.00; Georgian 1 180,00, a no-break space grouping thousands and a decimal comma
#: (CLDR ``ka``, decision 0029).
_LOCALES: dict[str, str] = {"en": "en_US", "ka": "ka_GE"}


def display_amount(amount: Decimal, places: int = 2, lang: str = "en") -> str:
    """The one amount formatter for people (screens, PDFs, invoices, payslips): in the
    language's number format (CLDR, through Babel), at least ``places`` decimals, never
    ``-0,00``.

    It never rounds (``f"{x:.2f}"`` would, half-even): amounts are rounded where they are
    made (:func:`round_half_up`), and one with more decimals than ``places`` is shown with
    all of them rather than rounded away in print (:func:`padded`).

    ``display_amount(Decimal("1234.5"), lang="ka") == "1\u00a0234,50"``."""
    return str(_pattern(places).apply(padded(amount, places), _locale(lang),
                                      decimal_quantization=False))


# Babel's objects parsed once: ``format_decimal`` parses the locale and the pattern again at
# every call, which was most of the time a report page with a few hundred amounts spent
# (bench/web.py). The formatting is still Babel's own.
@lru_cache(maxsize=8)
def _pattern(places: int) -> NumberPattern:
    return parse_pattern("#,##0" + ("." + "0" * places if places else ""))


@lru_cache(maxsize=4)
def _locale(lang: str) -> Locale:
    return Locale.parse(_LOCALES[lang])


def parse_amount(value: object) -> Decimal:
    """Parse a JSON amount exactly: strings and ints as written, never through float.

    Floats are refused because ``0.1`` has already lost its value by the time it is a
    float; the HTTP layer parses JSON numbers as ``Decimal`` before they get here.
    """
    if isinstance(value, bool | float):
        raise InvalidAmount(f"amount {value!r} must be a decimal string or an exact number")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | str):
        text = str(value)
        # The one written form, as the CSV importer takes it: ASCII digits, at most one
        # point with digits on both sides, a leading minus at most (the ledger's rules
        # answer negatives with their own code). Not "+100.00", ".5", "100.", "1,180.00",
        # "1e3", surrounding blanks, or digits of other scripts ("١٠٠", full-width
        # "１００"), all of which Decimal() would take.
        if not AMOUNT_TEXT.fullmatch(text):
            raise InvalidAmount(f"amount {value!r} is not a plain decimal such as '1180.00'")
        try:
            result = Decimal(text)
        except InvalidOperation as exc:
            raise InvalidAmount(f"amount {value!r} is not a number") from exc
    else:
        raise InvalidAmount(f"amount {value!r} has an unsupported type")
    if not result.is_finite():
        raise InvalidAmount(f"amount {value!r} is not finite")
    return result
