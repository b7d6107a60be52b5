"""``saldo report``: the financial reports, as the API produces them."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path
from uuid import UUID

import typer

from saldo import bootstrap
from saldo.cli.common import (
    EXIT_FAILURE,
    _app_pool,
    _expected_failures,
    _fail,
    _run,
    _settings,
    _with_container,
    out,
)
from saldo.identity.service import Permission


def register(app: typer.Typer) -> None:
    app.command("report")(report)


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


_DAY = ["%Y-%m-%d"]


@_expected_failures
def report(
    name: str = typer.Argument(..., help="trial-balance, general-ledger, balance-sheet, "
                                         "profit-and-loss, cash-flow or changes-in-equity."),
    company: UUID = typer.Option(..., "--company", help="The company's id."),
    user: str = typer.Option(..., "--user", help="A member whose role holds "
                                                 "reports:financial."),
    date_from: datetime | None = typer.Option(
        None, "--from", formats=_DAY, help="First day (default: start of the fiscal year)."),
    date_to: datetime | None = typer.Option(None, "--to", formats=_DAY,
                                            help="Last day, inclusive (default: today)."),
    as_of: datetime | None = typer.Option(None, "--as-of", formats=_DAY,
                                          help="balance-sheet: the date (default: --to)."),
    compare_from: datetime | None = typer.Option(
        None, "--compare-from", formats=_DAY, help="profit-and-loss: comparative range."),
    compare_to: datetime | None = typer.Option(
        None, "--compare-to", formats=_DAY,
        help="balance-sheet: comparative date; profit-and-loss: end of the comparative range."),
    account: str | None = typer.Option(None, "--account",
                                       help="general-ledger: an account or a header."),
    level: str = typer.Option("postable", "--level",
                              help="trial-balance: class, group, account, postable or all."),
    account_class: int | None = typer.Option(None, "--class",
                                             help="trial-balance: one account class (1-9)."),
    include_zero: bool = typer.Option(False, "--include-zero",
                                      help="trial-balance: show all-zero rows too."),
    method: str = typer.Option("indirect", "--method",
                               help="cash-flow: indirect or direct."),
    layout: str = typer.Option("nature", "--layout",
                               help="profit-and-loss: by nature or by function."),
    year: int | None = typer.Option(None, "--year",
                                    help="financial-statements: the fiscal year."),
    comparatives: bool = typer.Option(True, "--comparatives/--no-comparatives",
                                      help="financial-statements: the year before beside "
                                           "each statement."),
    fmt: str = typer.Option("json", "--format", help="json, csv, xlsx or pdf."),
    lang: str = typer.Option("en", "--lang", help="Labels in English (en) or Georgian (ka)."),
    output: Path | None = typer.Option(
        None, "--output", "-o", dir_okay=False,
        help="Write here. Default: JSON and CSV to standard output, XLSX and PDF to the "
             "report's file name in the current directory."),
) -> None:
    """Produce a financial report, as the API does (GET .../reports/NAME)."""
    from saldo.reporting import domain as reports
    from saldo.reporting.service import REPORTS, Options

    if name not in REPORTS:
        _fail(f"No report {name!r}; reports: {', '.join(REPORTS)}.", EXIT_FAILURE)
    reports.check_choice(fmt, reports.FORMATS, reports.UnsupportedFormat, "format")
    reports.check_choice(lang, reports.LANGUAGES, reports.UnsupportedLanguage, "language")
    options = Options(_day(date_from), _day(date_to), _day(as_of), _day(compare_from),
                      _day(compare_to), account, level, account_class, include_zero, method,
                      layout=layout, year=year, comparatives=comparatives, format=fmt)
    settings = _settings()  # configures logging, fontTools' glyph chatter included

    async def work(container: bootstrap.Container) -> tuple[bytes, str, str]:
        async with _app_pool(container):
            ctx = await container.identity.member_context(company, user,
                                                          Permission.REPORTS_FINANCIAL)
            built, about = await container.reporting.build(ctx, name, options)
            return container.reporting.export(built, about, fmt, lang)

    body, _, filename = _run(_with_container(settings, work))
    if output is None and fmt in ("json", "csv"):
        sys.stdout.buffer.write(body if body.endswith(b"\n") else body + b"\n")
        sys.stdout.flush()
        return
    target = output or Path(filename)
    target.write_bytes(body)
    out.print(f"wrote {target} ({len(body)} bytes)", highlight=False)
