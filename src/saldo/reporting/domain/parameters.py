"""What a report may be asked for -- formats, languages, trial-balance levels, cash-flow
methods, a date range -- and the errors for a request outside it; the date arithmetic
of ranges."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from saldo.kernel.errors import NotFound, RuleViolation

FORMATS = ("json", "csv", "xlsx", "pdf")
LANGUAGES = ("en", "ka")
LEVELS = ("class", "group", "account", "postable", "all")
CASH_FLOW_METHODS = ("indirect", "direct")


# ---------------------------------------------------------------------- errors


class InvalidDateRange(RuleViolation):
    code = "invalid_date_range"
    title = "The range ends before it starts"
    exposed = ("date_from", "date_to")


class UnsupportedFormat(RuleViolation):
    code = "unsupported_format"
    title = "Unsupported report format"
    exposed = ("supported",)


class UnsupportedLanguage(RuleViolation):
    code = "unsupported_language"
    title = "Unsupported language"
    exposed = ("supported",)


class InvalidLevel(RuleViolation):
    code = "invalid_level"
    title = "Unknown trial balance level"
    exposed = ("supported",)


class InvalidAccountClass(RuleViolation):
    code = "invalid_account_class"
    title = "Account classes are 1 to 9"


class InvalidMethod(RuleViolation):
    code = "invalid_cash_flow_method"
    title = "Unknown cash-flow method"
    exposed = ("supported",)


class UnknownAccount(NotFound):
    code = "account_not_found"
    title = "Unknown account"


class UnknownReport(NotFound):
    code = "report_not_found"
    title = "Unknown report"


def check_range(date_from: date, date_to: date) -> None:
    if date_from > date_to:
        raise InvalidDateRange(f"date_from {date_from} is after date_to {date_to}.",
                               date_from=date_from.isoformat(), date_to=date_to.isoformat())


def check_choice(value: str, choices: Sequence[str], error: type[RuleViolation],
                 what: str) -> str:
    if value not in choices:
        raise error(f"Unknown {what} {value!r}; use one of {', '.join(choices)}.",
                    supported=list(choices))
    return value


def fiscal_year_start(day: date, start_month: int) -> date:
    """The first day of the fiscal year ``day`` falls in."""
    year = day.year if day.month >= start_month else day.year - 1
    return date(year, start_month, 1)

# ---------------------------------------------------------------------- helpers for ranges


def day_before(day: date) -> date:
    return day - timedelta(days=1)
