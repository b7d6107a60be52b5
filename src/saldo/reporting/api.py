"""Reporting's HTTP edge: the turnover trial balance, the general ledger and the financial
statements (``../shared/api/v1.md``, Reports), each as JSON (the contract's shape) or as a
CSV, XLSX or PDF download (``?format=``), labelled in English or Georgian (``?lang=``).

Every route needs ``reports:financial``. Amounts are strings with two decimals. Dates lie
in 1900-01-01 … 2999-12-31, a general ledger within its format's line limit
(docs/reporting.md §1.1); rendering and JSON encoding run off the event loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import replace
from typing import Annotated, Any, cast

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict

from saldo.identity.api import CompanyContext, Permission, require
from saldo.platform.db import READ_SOURCE
from saldo.platform.http import Date, QueryBool, StrictRoute, Text, problem_responses
from saldo.reporting import domain as d
from saldo.reporting.domain import journal
from saldo.reporting.service import Options, Report, ReportingService, journal_export

#: Says which database answered a report: ``replica`` (a streaming replica, possibly a
#: few seconds behind the primary) or ``primary`` (docs/scaling.md).
READ_SOURCE_HEADER = "X-Saldo-Read-Source"

# ---------------------------------------------------------------------- dependencies


async def reporting_service(request: Request) -> ReportingService:
    return cast(ReportingService, request.app.state.reporting)


Reporting = Annotated[ReportingService, Depends(reporting_service)]
Reader = Annotated[CompanyContext, Depends(require(Permission.REPORTS_FINANCIAL))]

Format = Annotated[Text, Query(
    alias="format", max_length=10,
    description="json (default), csv, xlsx or pdf; csv, xlsx and pdf are downloads "
                "(Content-Disposition: attachment).",
    json_schema_extra={"enum": list(d.FORMATS)})]
Lang = Annotated[Text, Query(
    max_length=5, description="Labels in English (en, default) or Georgian (ka).",
    json_schema_extra={"enum": list(d.LANGUAGES)})]
DateFrom = Annotated[Date | None, Query(
    description="First day (default: the first day of date_to's fiscal year).")]
DateTo = Annotated[Date | None, Query(description="Last day, inclusive (default: today).")]
PlLayout = Annotated[Text, Query(
    max_length=10, json_schema_extra={"enum": list(d.PL_LAYOUT_CHOICES)},
    description="nature (default, IAS 1.102) or function (IAS 1.103, with depreciation and "
                "employee benefits disclosed by nature)")]

# ---------------------------------------------------------------------- shapes (OpenAPI)


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class TrialBalanceColumns(_Open):
    opening_debit: str
    opening_credit: str
    debit: str
    credit: str
    closing_debit: str
    closing_credit: str


class TrialBalanceRowOut(TrialBalanceColumns):
    code: str
    name: str
    name_ka: str
    level: int
    postable: bool


class TrialBalanceOut(_Open):
    date_from: dt.date
    date_to: dt.date
    level: str
    rows: list[TrialBalanceRowOut]
    totals: TrialBalanceColumns


class LedgerLineOut(_Open):
    date: dt.date
    number: int
    transaction_id: str
    description: str
    counter_accounts: list[str]
    debit: str
    credit: str
    balance: str


class AccountCardOut(_Open):
    code: str
    name: str
    opening: str
    lines: list[LedgerLineOut]
    debit: str
    credit: str
    closing: str


class GeneralLedgerOut(_Open):
    date_from: dt.date
    date_to: dt.date
    account: str | None
    accounts: list[AccountCardOut]


class StatementLineOut(_Open):
    key: str
    code: str | None
    name: str
    kind: str
    amount: str
    comparative: str | None


class SectionOut(_Open):
    key: str
    name: str
    lines: list[StatementLineOut]
    total: str


class BalanceSheetOut(_Open):
    as_of: dt.date
    compare_to: dt.date | None
    sections: list[SectionOut]
    total_assets: str
    total_liabilities: str
    total_equity: str
    total_equity_and_liabilities: str
    balanced: bool


class ProfitAndLossOut(_Open):
    date_from: dt.date
    date_to: dt.date
    lines: list[StatementLineOut]
    revenue: str
    expenses: str
    profit: str


class ComprehensiveIncomeOut(_Open):
    date_from: dt.date
    date_to: dt.date
    lines: list[StatementLineOut]
    profit: str
    other_comprehensive_income: str
    total_comprehensive_income: str


class FinancialStatementsOut(_Open):
    date_from: dt.date
    date_to: dt.date
    comparatives: bool


class CashFlowOut(_Open):
    date_from: dt.date
    date_to: dt.date
    method: str
    sections: list[SectionOut]
    net_change: str
    opening_cash: str
    closing_cash: str


class ChangesInEquityOut(_Open):
    date_from: dt.date
    date_to: dt.date
    columns: list[dict[str, str]]
    rows: list[dict[str, str]]


_ERRORS = (400, 401, 403, 404, 422)
_DOWNLOADS: dict[str, dict[str, Any]] = {
    "text/csv": {"schema": {"type": "string"}},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
        {"schema": {"type": "string", "format": "binary"}},
    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
}


def _responses(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    return {200: {"model": model, "description": "The report (JSON), or the file in the "
                                                 "requested format",
                  "content": _DOWNLOADS},
            **problem_responses(*_ERRORS)}


async def _answer(service: ReportingService, ctx: CompanyContext, name: str,
                  options: Options, fmt: str, lang: str) -> Response:
    # Format and language first: a bad one costs no query.
    d.check_choice(fmt, d.FORMATS, d.UnsupportedFormat, "format")
    d.check_choice(lang, d.LANGUAGES, d.UnsupportedLanguage, "language")
    report, company = await service.build(ctx, name, replace(options, format=fmt))
    # Which database answered: the replica (maybe seconds behind) or the primary.
    source = {READ_SOURCE_HEADER: READ_SOURCE.get() or "primary"}
    if fmt == "json":
        # A general ledger's JSON may be 20 MB: encoded off the event loop as well.
        body = await asyncio.to_thread(_json, report, lang)
        return Response(body, media_type="application/json", headers=source)
    body, media_type, filename = await service.render(report, company, fmt, lang)
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             **source})


def _json(report: Report, lang: str) -> bytes:
    return orjson.dumps(report.as_json(lang))


# ---------------------------------------------------------------------- routes


def router() -> APIRouter:
    api = APIRouter(prefix="/api/v1/companies/{company_id}", tags=["reporting"],
                    route_class=StrictRoute)

    @api.get("/reports/trial-balance",
             summary="Turnover trial balance (ბრუნვითი უწყისი): opening, turnover and "
                     "closing per account",
             response_model=None, responses=_responses(TrialBalanceOut))
    async def trial_balance(
        ctx: Reader, service: Reporting, date_from: DateFrom = None, date_to: DateTo = None,
        account_class: Annotated[int | None, Query(
            description="Only accounts of this class (1–9).")] = None,
        level: Annotated[Text, Query(
            max_length=10, json_schema_extra={"enum": list(d.LEVELS)},
            description="postable (default): the accounts that take postings; class, "
                        "group, account: headers at that depth with their subtree rolled "
                        "up; all: every account, headers rolled up (totals add the "
                        "postable rows).")] = "postable",
        include_zero: Annotated[QueryBool, Query(
            description="Also show accounts whose six figures are all zero.")] = False,
        fmt: Format = "json", lang: Lang = "en",
    ) -> Response:
        return await _answer(service, ctx, "trial-balance", Options(
            date_from, date_to, level=level, account_class=account_class,
            include_zero=include_zero), fmt, lang)

    @api.get("/reports/general-ledger",
             summary="General ledger and account card: opening balance, each posted line "
                     "with its counter accounts and the running balance, closing balance",
             description="At most {json:,} journal lines as JSON, {csv:,} as CSV, {xlsx:,} as "
                         "XLSX and {pdf:,} as PDF; more is refused (422 `report_too_large`, "
                         "with `lines` and `limit`) before any is read: narrow the range "
                         "or choose an account.".format(**d.MAX_LEDGER_LINES),
             response_model=None, responses=_responses(GeneralLedgerOut))
    async def general_ledger(
        ctx: Reader, service: Reporting,
        account: Annotated[Text | None, Query(
            max_length=40, description="An account (its card), a header (each of its "
                                       "accounts), or none: every account that moved or "
                                       "has a balance.")] = None,
        date_from: DateFrom = None, date_to: DateTo = None,
        fmt: Format = "json", lang: Lang = "en",
    ) -> Response:
        return await _answer(service, ctx, "general-ledger",
                             Options(date_from, date_to, account=account), fmt, lang)

    @api.get("/reports/balance-sheet",
             summary="Statement of financial position as of a date, with a comparative date",
             response_model=None, responses=_responses(BalanceSheetOut))
    async def balance_sheet(
        ctx: Reader, service: Reporting,
        as_of: Annotated[Date | None, Query(description="Default: today.")] = None,
        compare_to: Annotated[Date | None, Query(
            description="A second date for the comparative column.")] = None,
        fmt: Format = "json", lang: Lang = "en",
    ) -> Response:
        return await _answer(service, ctx, "balance-sheet",
                             Options(as_of=as_of, compare_to=compare_to), fmt, lang)

    @api.get("/reports/profit-and-loss",
             summary="Statement of profit or loss by nature (IAS 1.102) or by function "
                     "(IAS 1.103), with a comparative range (year-end closing entries "
                     "excluded)",
             response_model=None, responses=_responses(ProfitAndLossOut))
    async def profit_and_loss(
        ctx: Reader, service: Reporting, date_from: DateFrom = None, date_to: DateTo = None,
        compare_from: Date | None = None, compare_to: Date | None = None,
        layout: PlLayout = "nature", fmt: Format = "json", lang: Lang = "en",
    ) -> Response:
        return await _answer(service, ctx, "profit-and-loss", Options(
            date_from, date_to, compare_from=compare_from, compare_to=compare_to,
            layout=layout), fmt, lang)

    @api.get("/reports/comprehensive-income",
             summary="Statement of comprehensive income: profit, other comprehensive "
                     "income per reserve (IAS 1.82A), total comprehensive income",
             response_model=None, responses=_responses(ComprehensiveIncomeOut))
    async def comprehensive_income(
        ctx: Reader, service: Reporting, date_from: DateFrom = None, date_to: DateTo = None,
        compare_from: Date | None = None, compare_to: Date | None = None,
        fmt: Format = "json", lang: Lang = "en",
    ) -> Response:
        return await _answer(service, ctx, "comprehensive-income", Options(
            date_from, date_to, compare_from=compare_from, compare_to=compare_to), fmt, lang)

    @api.get("/reports/financial-statements",
             summary="The annual set: financial position, profit or loss, comprehensive "
                     "income, cash flows and changes in equity of a fiscal year, with the "
                     "year before as comparatives by default (IAS 1.10, 1.38); JSON or one "
                     "PDF with signature lines",
             response_model=None, responses=_responses(FinancialStatementsOut))
    async def financial_statements(
        ctx: Reader, service: Reporting,
        year: Annotated[int | None, Query(
            description="The fiscal year (by its first day's year); default: the one "
                        "date_to (or today) falls in.")] = None,
        date_to: DateTo = None,
        comparatives: Annotated[QueryBool, Query(
            description="Show the year before beside each statement (default).")] = True,
        layout: PlLayout = "nature",
        method: Annotated[Text, Query(
            max_length=10, json_schema_extra={"enum": list(d.CASH_FLOW_METHODS)})
        ] = "indirect",
        fmt: Format = "json", lang: Lang = "en",
    ) -> Response:
        return await _answer(service, ctx, "financial-statements", Options(
            date_to=date_to, year=year, comparatives=comparatives, layout=layout,
            method=method), fmt, lang)

    @api.get("/reports/cash-flow",
             summary="Statement of cash flows (IAS 7), indirect or direct method, from each "
                     "account's cash-flow activity; reconciles to the change in cash",
             response_model=None, responses=_responses(CashFlowOut))
    async def cash_flow(
        ctx: Reader, service: Reporting, date_from: DateFrom = None, date_to: DateTo = None,
        method: Annotated[Text, Query(
            max_length=10, json_schema_extra={"enum": list(d.CASH_FLOW_METHODS)})
        ] = "indirect",
        compare_from: Date | None = None, compare_to: Date | None = None,
        fmt: Format = "json", lang: Lang = "en",
    ) -> Response:
        return await _answer(service, ctx, "cash-flow", Options(
            date_from, date_to, method=method, compare_from=compare_from,
            compare_to=compare_to), fmt, lang)

    @api.get("/reports/changes-in-equity", summary="Statement of changes in equity",
             response_model=None, responses=_responses(ChangesInEquityOut))
    async def changes_in_equity(
        ctx: Reader, service: Reporting, date_from: DateFrom = None, date_to: DateTo = None,
        fmt: Format = "json", lang: Lang = "en",
    ) -> Response:
        return await _answer(service, ctx, "changes-in-equity",
                             Options(date_from, date_to), fmt, lang)

    @api.get(
        "/export/journal",
        summary="Posted transactions as a plain-text journal for hledger, Ledger or "
                "Beancount",
        description="Amounts in the base currency; accounts as `Assets:1110 Cash on hand, "
                    "GEL` (ledger) or `Assets:1110-Cash-on-hand-GEL` (beancount). With "
                    "`opening=true` and `date_from`, an opening-balances transaction on "
                    "`date_from` makes the tools' balances the closing balances.",
        response_class=StreamingResponse,
        responses={200: {"description": "The journal file (an attachment)",
                         "content": {"text/plain": {"schema": {"type": "string"}}}},
                   **problem_responses(*_ERRORS)})
    async def export_journal(
        ctx: Reader, reporting: Reporting,
        fmt: Annotated[Text, Query(alias="format", max_length=20,
                                   json_schema_extra={"enum": list(journal.FORMATS)})] = "ledger",
        date_from: Date | None = None, date_to: Date | None = None,
        lang: Annotated[Text, Query(max_length=5, description="Account names in English "
                                    "(en, default) or Georgian (ka)")] = "en",
        opening: Annotated[QueryBool, Query(description="With date_from: an opening-balances "
                                       "transaction on date_from")] = False,
    ) -> StreamingResponse:
        export = await journal_export(reporting, ctx, fmt, date_from, date_to,
                                      opening=opening, lang=lang)
        return StreamingResponse(
            export.body, media_type=export.media_type,
            headers={"Content-Disposition": f'attachment; filename="{export.filename}"'})

    return api
