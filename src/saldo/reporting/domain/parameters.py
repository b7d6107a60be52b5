"""What a report may be asked for -- formats, languages, trial-balance levels, cash-flow
methods, dates and a range, how many journal lines -- and the errors for a request
outside it; the date arithmetic of ranges."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from saldo.kernel.errors import NotFound, RuleViolation

FORMATS = ("json", "csv", "xlsx", "pdf")
LANGUAGES = ("en", "ka")
LEVELS = ("class", "group", "account", "postable", "all")
CASH_FLOW_METHODS = ("indirect", "direct")
#: Profit or loss: expenses by nature (IAS 1.102, the default) or by function (1.103).
PL_LAYOUT_CHOICES = ("nature", "function")

#: Report dates (every report's, and the journal export's) lie in these years. Outside
#: them no books are kept, and the date arithmetic of a range would leave the calendar:
#: the start of a July fiscal year holding 0001-03-01 is in year 0, the day before
#: 0001-01-01 does not exist.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)

#: The most journal lines one general-ledger request may show, per format, checked with a
#: count from the daily turnover before a line is read (the web's account card reads a
#: page at a time and needs no limit: decision 0069). What each
#: costs (measured, one core): 100,000 lines are ~22 MB of JSON in about a second and
#: ~8 MB of CSV; an XLSX of 50,000 lines takes ~8 s; a PDF ~1.8 ms a line, so 5,000
#: lines (some 100 pages) take ~9 s. Beyond these a request would hold a worker for
#: minutes and the memory for gigabytes.
MAX_LEDGER_LINES: dict[str, int] = {"json": 100_000, "csv": 100_000, "xlsx": 50_000,
                                    "pdf": 5_000}

#: The most journal lines the statements that read lines may read, whatever the format
#: (their documents are short): the direct cash-flow method counts the lines on the cash
#: accounts and the non-operating ones (it reads every line of those transactions), the
#: statement of changes in equity the lines on the equity accounts.
MAX_STATEMENT_LINES: dict[str, int] = {"cash-flow": 100_000, "changes-in-equity": 100_000}


# ---------------------------------------------------------------------- errors


class InvalidDate(RuleViolation):
    code = "invalid_date"
    title = "Date outside the years reports cover"
    exposed = ("field", "value", "earliest", "latest")


class ReportTooLarge(RuleViolation):
    code = "report_too_large"
    title = "The report has too many journal lines"
    exposed = ("lines", "limit", "format")


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


class InvalidLayout(RuleViolation):
    code = "invalid_layout"
    title = "Unknown profit-or-loss layout"
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


def check_dates(**days: date | None) -> None:
    """Every given report date (``date_from=…``, ``as_of=…``) lies between
    :data:`EARLIEST_DATE` and :data:`LATEST_DATE`."""
    for field, day in days.items():
        if day is not None and not EARLIEST_DATE <= day <= LATEST_DATE:
            raise InvalidDate(f"{field} {day.isoformat()} is outside the years reports "
                              f"cover ({EARLIEST_DATE.isoformat()} to "
                              f"{LATEST_DATE.isoformat()}).", field=field,
                              value=day.isoformat(), earliest=EARLIEST_DATE.isoformat(),
                              latest=LATEST_DATE.isoformat())


def check_size(lines: int, limit: int, what: str, advice: str,
               fmt: str | None = None) -> None:
    """Refuse a report of more than ``limit`` journal lines (counted before any is read):
    ``what`` names the report, ``advice`` says how to ask for less."""
    if lines > limit:
        most = f"as {fmt.upper()} it may have at most" if fmt else "it may read at most"
        raise ReportTooLarge(f"The {what} has {lines:,} journal lines; {most} {limit:,}. "
                             f"{advice}", lines=lines, limit=limit,
                             **({"format": fmt} if fmt else {}))


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
