"""Reporting's use cases: read the ledger's sums (``saldo.ledger.queries``), let the domain
lay them out as a statement, and turn the statement into a :class:`ReportDocument` for the
renderers (CSV, XLSX, PDF) or into the contract's JSON.

Each report reads in one database transaction under the company's row-level security.
Balances come from the daily turnover read model: one row per account and day, so a
trial balance over a year of a million lines sums tens of thousands of rows, not the
journal. The reports that do read journal lines count them first (from the same read
model) and refuse more than their limit (``d.MAX_LEDGER_LINES``, ``d.MAX_STATEMENT_LINES``)
before reading one; and rendering, which takes seconds for a long PDF, runs on threads of
its own (:meth:`ReportingService.render`), never on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar, cast
from uuid import UUID

import orjson

from saldo.identity.service import CompanyContext
from saldo.ledger import queries as ledger_queries
from saldo.ledger.service import CompanySettings, LedgerService
from saldo.platform.db import Connection, Database, ReadPool
from saldo.reporting import domain as d
from saldo.reporting import render
from saldo.reporting.document import Column, Label, Language, ReportDocument, Row, RowStyle
from saldo.reporting.domain import journal

REPORTS = ("trial-balance", "general-ledger", "balance-sheet", "profit-and-loss",
           "comprehensive-income", "cash-flow", "changes-in-equity", "financial-statements")
#: The statements a director and a chief accountant sign (management approves them, IAS
#: 10.17; Georgian practice, docs/reporting.md §8a): a signature line each in a PDF.
SIGNED = ("balance-sheet", "profit-and-loss", "comprehensive-income", "cash-flow",
          "changes-in-equity", "financial-statements")
SIGNATURES = (Label("Director", "დირექტორი"), Label("Chief accountant", "მთავარი ბუღალტერი"))
#: The annual set comes as JSON or as one PDF.
SET_FORMATS = ("json", "pdf")

#: Threads that render CSV, XLSX and PDF, for the whole process. Rendering is CPU-bound
#: Python (an XLSX of 50,000 lines takes ~8 s): on the event loop it would stall every
#: request of every company; on asyncio's default pool it would hold the threads that
#: password hashing needs. Two at a time keep the rest of the server responsive on a
#: small machine (they share the GIL with the event loop); further renders queue.
RENDER_THREADS = 2
_T = TypeVar("_T")
_renderer = ThreadPoolExecutor(max_workers=RENDER_THREADS, thread_name_prefix="saldo-render")


async def on_render_threads(fn: Callable[..., _T], *args: Any) -> _T:
    """``fn(*args)`` on the render threads, off the event loop (reports and the journal
    export: CPU-bound formatting of many lines)."""
    return await asyncio.get_running_loop().run_in_executor(_renderer, fn, *args)


class Report(Protocol):
    def as_json(self, lang: str) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Options:
    """Every report's parameters; each report reads the ones it needs."""

    date_from: date | None = None
    date_to: date | None = None
    as_of: date | None = None
    compare_from: date | None = None
    compare_to: date | None = None
    account: str | None = None
    level: str = "postable"
    account_class: int | None = None
    include_zero: bool = False
    method: str = "indirect"
    #: Profit or loss by ``nature`` (IAS 1.102) or ``function`` (IAS 1.103).
    layout: str = "nature"
    #: The annual set: the fiscal year (default: the one date_to or today falls in), and
    #: whether each statement shows the year before beside it (default: yes, IAS 1.38).
    year: int | None = None
    comparatives: bool = True
    #: What the report will be rendered as: a general ledger's line limit depends on it.
    format: str = "json"


class ReportingService:
    def __init__(self, db: Database | ReadPool, ledger: LedgerService,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.db, self.ledger, self.now = db, ledger, now

    # ------------------------------------------------------------------ plumbing


    @staticmethod
    async def _chart(conn: Connection, company_id: UUID) -> d.Chart:
        return d.Chart.from_rows(await ledger_queries.accounts(conn, company_id))

    @staticmethod
    async def _sums(conn: Connection, company_id: UUID, date_from: date,
                    date_to: date) -> dict[str, d.Sums]:
        rows = await ledger_queries.turnover_by_account(conn, company_id, date_from, date_to)
        return {r["account_code"]: d.Sums.from_row(r) for r in rows}

    def _range(self, company: CompanySettings, date_from: date | None,
               date_to: date | None) -> tuple[date, date]:
        """Defaults: up to today, from the start of that day's fiscal year."""
        end = date_to or self.ledger.today()
        start = date_from or d.fiscal_year_start(end, company.fiscal_year_start_month)
        d.check_range(start, end)
        return start, end

    async def build(self, ctx: CompanyContext, name: str,
                    options: Options) -> tuple[Report, CompanySettings]:
        """The report ``name`` (one of :data:`REPORTS`) and the company it is about."""
        builders: dict[str, Callable[[Connection, CompanySettings, Options], Awaitable[Report]]] = {
            "trial-balance": self._trial_balance,
                    "general-ledger": self._general_ledger,
                    "balance-sheet": self._balance_sheet,
                    "profit-and-loss": self._profit_and_loss,
                    "comprehensive-income": self._comprehensive_income,
                    "cash-flow": self._cash_flow,
                    "changes-in-equity": self._changes_in_equity,
                    "financial-statements": self._financial_statements}
        builder = builders.get(name)
        if builder is None:
            raise d.UnknownReport(f"No report {name!r}; reports: {', '.join(REPORTS)}.",
                                  report=name)
        # Before any query: out-of-calendar dates, and the line limit's format.
        d.check_dates(date_from=options.date_from, date_to=options.date_to,
                      as_of=options.as_of, compare_from=options.compare_from,
                      compare_to=options.compare_to)
        d.check_choice(options.format, d.FORMATS, d.UnsupportedFormat, "format")
        async with self.db.transaction(company_id=ctx.company_id, snapshot=True) as conn:
            company = await self.ledger.company(ctx.company_id)
            return await builder(conn, company, options), company

    def export(self, report: Report, company: CompanySettings, fmt: str,
               lang: str) -> tuple[bytes, str, str]:
        """``(body, media type, file name)`` of the report in ``fmt`` (json, csv, xlsx,
        pdf) with labels in ``lang``."""
        d.check_choice(fmt, d.FORMATS, d.UnsupportedFormat, "format")
        d.check_choice(lang, d.LANGUAGES, d.UnsupportedLanguage, "language")
        if isinstance(report, d.GeneralLedger):  # built for another format (the CLI's)
            _check_ledger_size(report.line_count, fmt, report.account)
        doc = self.document(report, company)
        if fmt == "json":
            body = orjson.dumps(report.as_json(lang), option=orjson.OPT_INDENT_2)
            return body, "application/json", render.file_name(doc, "json")
        if isinstance(report, d.AnnualSet):
            d.check_choice(fmt, SET_FORMATS, d.UnsupportedFormat, "format")
            body = render.render_pdf_set(doc, self.set_documents(report, company),
                                         cast(Language, lang))
            return body, render.MEDIA_TYPES["pdf"], render.file_name(doc, "pdf")
        return render.render(doc, cast(render.Format, fmt), cast(Language, lang))

    async def render(self, report: Report, company: CompanySettings, fmt: str,
                     lang: str) -> tuple[bytes, str, str]:
        """:meth:`export` on the render threads, off the event loop."""
        return await on_render_threads(self.export, report, company, fmt, lang)

    @staticmethod
    async def _check_lines(conn: Connection, company_id: UUID, codes: Sequence[str] | None,
                           start: date, end: date, limit: int, what: str,
                           advice: str) -> None:
        """Refuse before reading more than ``limit`` lines (one count over the daily
        turnover)."""
        lines = await ledger_queries.journal_line_count(conn, company_id, codes, start, end)
        d.check_size(lines, limit, what, advice)

    # ------------------------------------------------------------------ the reports

    async def _trial_balance(self, conn: Connection, company: CompanySettings,
                             o: Options) -> d.TrialBalance:
        start, end = self._range(company, o.date_from, o.date_to)
        d.check_choice(o.level, d.LEVELS, d.InvalidLevel, "level")
        if o.account_class is not None and not 1 <= o.account_class <= 9:
            raise d.InvalidAccountClass(f"Account class {o.account_class} does not exist; "
                                        "classes are 1 to 9.", field="account_class")
        chart = await self._chart(conn, company.id)
        sums = await self._sums(conn, company.id, start, end)
        return d.trial_balance(chart, sums, start, end, o.level, o.account_class,
                               o.include_zero)

    async def _general_ledger(self, conn: Connection, company: CompanySettings,
                              o: Options) -> d.GeneralLedger:
        start, end = self._range(company, o.date_from, o.date_to)
        chart = await self._chart(conn, company.id)
        if o.account is not None and o.account not in chart.accounts:
            raise d.UnknownAccount(f"No account {o.account}.", code=o.account)
        codes = chart.leaves(o.account) if o.account is not None else None
        lines = await ledger_queries.journal_line_count(conn, company.id, codes, start, end)
        _check_ledger_size(lines, o.format, o.account)
        sums = await self._sums(conn, company.id, start, end)
        rows = await ledger_queries.account_lines(conn, company.id, codes, start, end)
        # Up to 100,000 lines: the running balances are computed off the event loop too.
        return await asyncio.to_thread(_general_ledger, chart, sums, rows, codes, start, end,
                                       o.account)

    async def _position_column(self, conn: Connection, company: CompanySettings, chart: d.Chart,
                               as_of: date) -> d.PositionColumn:
        # One query: the year's start splits the unclosed result into this fiscal year's
        # and earlier years' (the closing balance is opening + movement either way).
        year_start = d.fiscal_year_start(as_of, company.fiscal_year_start_month)
        sums = await self._sums(conn, company.id, year_start, as_of)
        return d.PositionColumn(as_of, {c: s.closing for c, s in sums.items()},
                                *_results(chart, sums))

    async def _balance_sheet(self, conn: Connection, company: CompanySettings,
                             o: Options) -> d.FinancialPosition:
        as_of = o.as_of or o.date_to or self.ledger.today()
        chart = await self._chart(conn, company.id)
        columns = [await self._position_column(conn, company, chart, as_of)]
        if o.compare_to is not None:
            columns.append(await self._position_column(conn, company, chart, o.compare_to))
        return d.financial_position(chart, columns)

    def _ranges(self, company: CompanySettings,
                o: Options) -> tuple[date, date, tuple[date, date] | None]:
        start, end = self._range(company, o.date_from, o.date_to)
        compare: tuple[date, date] | None = None
        if o.compare_from is not None or o.compare_to is not None:
            if o.compare_from is None or o.compare_to is None:
                raise d.InvalidDateRange("A comparative range needs both compare_from and "
                                         "compare_to.")
            d.check_range(o.compare_from, o.compare_to)
            compare = (o.compare_from, o.compare_to)
        return start, end, compare

    async def _profit_and_loss(self, conn: Connection, company: CompanySettings,
                               o: Options) -> d.ProfitOrLoss:
        d.check_choice(o.layout, d.PL_LAYOUT_CHOICES, d.InvalidLayout, "layout")
        start, end, compare = self._ranges(company, o)
        chart = await self._chart(conn, company.id)
        movements = []
        for a, b in [(start, end)] + ([compare] if compare else []):
            sums = await self._sums(conn, company.id, a, b)
            movements.append({c: s.regular_movement for c, s in sums.items()})
        return d.profit_or_loss(chart, movements, start, end, compare, o.layout)

    async def _comprehensive_income(self, conn: Connection, company: CompanySettings,
                                    o: Options) -> d.ComprehensiveIncome:
        start, end, compare = self._ranges(company, o)
        chart = await self._chart(conn, company.id)
        profits, oci = [], []
        for a, b in [(start, end)] + ([compare] if compare else []):
            sums = await self._sums(conn, company.id, a, b)
            profits.append(d.profit(chart, sums))
            lines = await self._equity_lines(conn, company, chart, a, b)
            oci.append(d.equity_movements(chart, lines).rows.get(
                "other_comprehensive_income", {}))
        return d.comprehensive_income(profits, oci, start, end, compare)

    async def _cash_flow(self, conn: Connection, company: CompanySettings,
                         o: Options) -> d.CashFlows:
        start, end, compare = self._ranges(company, o)
        d.check_choice(o.method, d.CASH_FLOW_METHODS, d.InvalidMethod, "method")
        chart = await self._chart(conn, company.id)
        cf = await self._cash_flows(conn, company, chart, start, end, o)
        if compare is None:
            return cf
        prior = await self._cash_flows(conn, company, chart, *compare, o)
        return dataclasses.replace(cf, prior=prior)

    async def _cash_flows(self, conn: Connection, company: CompanySettings, chart: d.Chart,
                          start: date, end: date, o: Options) -> d.CashFlows:
        sums = await self._sums(conn, company.id, start, end)
        # The indirect method reads the transactions of investing, financing, interest,
        # profit-tax and exchange-difference accounts; the direct one also every cash
        # transaction. The lines on those accounts: the transactions have at least as many.
        codes = d.non_operating_codes(chart)
        if o.method == "direct":
            codes = sorted({*codes, *(c for c in chart.accounts if chart.is_cash(c))})
        await self._check_lines(conn, company.id, codes, start, end,
                                d.MAX_STATEMENT_LINES["cash-flow"],
                                f"{o.method} cash-flow statement",
                                "Narrow the date range (a quarter or a month at a time)"
                                + (" or use the indirect method, which reads fewer lines."
                                   if o.method == "direct" else "."))
        lines = await ledger_queries.lines_of_transactions_touching(conn, company.id, codes,
                                                                     start, end)
        if o.method == "indirect" and (pooled := d.pool_accounts(chart, lines)):
            # Payables of assets bought on credit: their payments are investing.
            await self._check_lines(conn, company.id, pooled, start, end,
                                    d.MAX_STATEMENT_LINES["cash-flow"],
                                    "indirect cash-flow statement", "Narrow the date range.")
            lines += await ledger_queries.lines_of_transactions_touching(
                conn, company.id, pooled, start, end)
        build = d.cash_flows_direct if o.method == "direct" else d.cash_flows_indirect
        cf = await asyncio.to_thread(build, chart, sums, lines, start, end)
        return await _described(conn, company.id, cf)

    async def _changes_in_equity(self, conn: Connection, company: CompanySettings,
                                 o: Options) -> d.ChangesInEquity:
        start, end = self._range(company, o.date_from, o.date_to)
        chart = await self._chart(conn, company.id)
        return await self._equity(conn, company, chart, start, end)

    async def _equity(self, conn: Connection, company: CompanySettings, chart: d.Chart,
                      start: date, end: date) -> d.ChangesInEquity:
        sums = await self._sums(conn, company.id, start, end)
        lines = await self._equity_lines(conn, company, chart, start, end)
        return d.changes_in_equity(chart, sums, lines, start, end)

    async def _equity_lines(self, conn: Connection, company: CompanySettings,
                            chart: d.Chart, start: date, end: date) -> list[dict[str, Any]]:
        """Every line of the transactions in the range that touch an equity account."""
        equity = d.equity_codes(chart)
        if equity:
            await self._check_lines(conn, company.id, equity, start, end,
                                    d.MAX_STATEMENT_LINES["changes-in-equity"],
                                    "statement of changes in equity",
                                    "Narrow the date range.")
        return await ledger_queries.lines_of_transactions_touching(
            conn, company.id, equity, start, end)

    async def _financial_statements(self, conn: Connection, company: CompanySettings,
                                    o: Options) -> d.AnnualSet:
        """The annual set (IAS 1.10): financial position, profit or loss, comprehensive
        income, cash flows and changes in equity for a fiscal year, each with the year
        before beside it unless ``comparatives`` is off (IAS 1.38)."""
        d.check_choice(o.format, SET_FORMATS, d.UnsupportedFormat, "format")
        d.check_choice(o.layout, d.PL_LAYOUT_CHOICES, d.InvalidLayout, "layout")
        d.check_choice(o.method, d.CASH_FLOW_METHODS, d.InvalidMethod, "method")
        month = company.fiscal_year_start_month
        if o.year is not None:
            if not d.EARLIEST_DATE.year < o.year < d.LATEST_DATE.year:
                raise d.InvalidDate(f"year {o.year} is outside the years reports cover.",
                                    field="year", value=str(o.year))
            start = date(o.year, month, 1)
        else:
            start = d.fiscal_year_start(o.date_to or self.ledger.today(), month)
        end = d.day_before(date(start.year + 1, start.month, 1))
        prior = (date(start.year - 1, month, 1), d.day_before(start))
        chart = await self._chart(conn, company.id)
        years = [(start, end)] + ([prior] if o.comparatives else [])
        position = d.financial_position(chart, [
            await self._position_column(conn, company, chart, b) for _, b in years])
        compare = prior if o.comparatives else None
        ranges = Options(start, end, compare_from=compare[0] if compare else None,
                         compare_to=compare[1] if compare else None, layout=o.layout)
        pl = await self._profit_and_loss(conn, company, ranges)
        oci = await self._comprehensive_income(conn, company, ranges)
        flows = tuple([await self._cash_flows(conn, company, chart, a, b, o)
                       for a, b in years])
        equity = tuple([await self._equity(conn, company, chart, a, b) for a, b in years])
        return d.AnnualSet(start, end, compare, position, pl, oci, flows, equity)

    # ------------------------------------------------------------------ documents

    def document(self, report: Report, company: CompanySettings) -> ReportDocument:
        """The report as the renderers' document model."""
        builders: list[tuple[type[Any], Callable[[Any], tuple[str, Label, Label,
                                                             tuple[Column, ...],
                                                             list[Row]]]]] = [
            (d.TrialBalance, _trial_balance_document),
            (d.GeneralLedger, _general_ledger_document),
            (d.FinancialPosition, _position_document),
            (d.ProfitOrLoss, _profit_or_loss_document),
            (d.ComprehensiveIncome, _comprehensive_document),
            (d.CashFlows, lambda cf: _cash_flow_document(cf, cf.prior)),
            (d.ChangesInEquity, _equity_document),
        ]
        for kind, build in builders:
            if isinstance(report, kind):
                return self._document(company, *build(report))
        if isinstance(report, d.AnnualSet):
            return self._document(company, "financial-statements",
                                  L("Financial statements", "ფინანსური ანგარიშგება"),
                                  _range_label(report.date_from, report.date_to), (), [])
        raise TypeError(f"not a report: {type(report).__name__}")

    def _document(self, company: CompanySettings, name: str, title: Label, period: Label,
                  columns: tuple[Column, ...], rows: list[Row]) -> ReportDocument:
        return ReportDocument(name, title, company.name, company.tax_id, period, columns,
                              tuple(rows), company.base_currency, self.now(),
                              NOTES.get(name, ()), SIGNATURES if name in SIGNED else ())

    def set_documents(self, report: d.AnnualSet,
                      company: CompanySettings) -> list[ReportDocument]:
        """The annual set as one document per statement, in the order of IAS 1.10;
        signatures once, under the last."""
        flows = report.cash_flows
        built = [_position_document(report.financial_position),
                 _profit_or_loss_document(report.profit_or_loss),
                 _comprehensive_document(report.comprehensive_income),
                 _cash_flow_document(flows[0], flows[1] if len(flows) > 1 else None),
                 *(_equity_document(ce) for ce in reversed(report.changes_in_equity))]
        docs = [dataclasses.replace(self._document(company, *b), signatures=())
                for b in built]
        docs[-1] = dataclasses.replace(docs[-1], signatures=SIGNATURES)
        return docs


def _check_ledger_size(lines: int, fmt: str, account: str | None) -> None:
    what = "general ledger" if account is None else f"general ledger of {account}"
    advice = "Narrow the date range or choose " + ("an account." if account is None
                                                   else "a narrower account.")
    if fmt in ("pdf", "xlsx"):
        advice += " CSV takes up to {:,} lines.".format(d.MAX_LEDGER_LINES["csv"])
    d.check_size(lines, d.MAX_LEDGER_LINES[fmt], what, advice, fmt)


def _general_ledger(chart: d.Chart, sums: Mapping[str, d.Sums],
                    lines: Sequence[Mapping[str, Any]], codes: Sequence[str] | None,
                    start: date, end: date, account: str | None) -> d.GeneralLedger:
    """The cards of ``codes`` (every account that moved or has a balance when ``None``;
    under a header, those of its accounts that did) from ``lines`` in account order."""
    by_account: dict[str, list[Mapping[str, Any]]] = {}
    for line in lines:
        by_account.setdefault(line["account_code"], []).append(line)
    if codes is None:
        codes = sorted(c for c, s in sums.items() if c in by_account or s.opening)
    elif account is not None and not chart[account].postable:
        codes = [c for c in codes if c in by_account or (c in sums and sums[c].opening)]
    cards = tuple(d.account_card(chart[c], sums[c].opening if c in sums else d.ZERO,
                                 by_account.get(c, ())) for c in codes)
    return d.GeneralLedger(start, end, account, cards)


async def _described(conn: Connection, company_id: UUID, cf: d.CashFlows) -> d.CashFlows:
    """The disclosed non-cash transactions with their descriptions (a few at most)."""
    described = []
    for t in cf.non_cash_transactions[:_MAX_DISCLOSED]:
        row = await ledger_queries.transaction(conn, company_id, t.transaction_id)
        described.append(dataclasses.replace(t, description=row["description"] if row
                                             else ""))
    return dataclasses.replace(cf, non_cash_transactions=tuple(described))


#: The non-cash transactions a statement of cash flows lists one by one.
_MAX_DISCLOSED = 200


def _results(chart: d.Chart, sums: Mapping[str, d.Sums]) -> tuple[Decimal, Decimal]:
    """(this fiscal year's unclosed result, earlier years' unclosed result) at the end of
    ``sums``' range, which starts on the fiscal year's first day."""
    earlier, total = d.unclosed_result(chart, sums)
    return total - earlier, earlier


# ---------------------------------------------------------------------- document layouts

L = Label
TOTAL = L("Total", "სულ")
_ACCOUNT = Column("code", L("Account", "ანგარიში"))
_LINE = Column("line", L("Line", "მუხლი"))
_NAME = Column("name", L("Name", "დასახელება"))
NOTES: dict[str, tuple[Label, ...]] = {
    "balance-sheet": (L("Assets are shown as debit − credit, equity and liabilities as "
                        "credit − debit. Profit not yet closed to retained earnings is "
                        "shown in equity.",
                        "აქტივები ნაჩვენებია როგორც დებეტი − კრედიტი, კაპიტალი და "
                        "ვალდებულებები როგორც კრედიტი − დებეტი. დაუხურავი მოგება "
                        "ნაჩვენებია საკუთარ კაპიტალში."),),
    "profit-and-loss": (L("Income is positive, expenses negative; year-end closing "
                          "entries are excluded.",
                          "შემოსავალი დადებითია, ხარჯი უარყოფითი; წლის დახურვის "
                          "გატარებები არ არის გათვალისწინებული."),),
    "cash-flow": (L("Cash and cash equivalents: the accounts whose cash-flow activity is "
                    "cash (1100 and 1200 in the standard chart). Each account's activity "
                    "decides where its cash flows are shown (IAS 7).",
                    "ფულადი სახსრები: ანგარიშები, რომელთა ფულადი ნაკადის საქმიანობაა "
                    "„ფული“ (სტანდარტულ გეგმაში 1100 და 1200)."),),
}


def _range_label(start: date, end: date) -> Label:
    text = f"{start.isoformat()} – {end.isoformat()}"
    return Label(text, text)


def _as_of(day: date) -> Label:
    return Label(f"as of {day.isoformat()}", f"{day.isoformat()}-ის მდგომარეობით")


def _money(key: str, label: Label) -> Column:
    return Column(key, label, "money")


Built = tuple[str, Label, Label, tuple[Column, ...], list[Row]]


def _trial_balance_document(tb: d.TrialBalance) -> Built:
    columns = (_ACCOUNT, _NAME,
               _money("opening_debit", L("Opening debit", "საწყისი ნაშთი დებეტი")),
               _money("opening_credit", L("Opening credit", "საწყისი ნაშთი კრედიტი")),
               _money("debit", L("Debit turnover", "ბრუნვა დებეტი")),
               _money("credit", L("Credit turnover", "ბრუნვა კრედიტი")),
               _money("closing_debit", L("Closing debit", "საბოლოო ნაშთი დებეტი")),
               _money("closing_credit", L("Closing credit", "საბოლოო ნაშთი კრედიტი")))
    rows = [Row({"code": r.account.code, "name": r.account.label,
                 **dict(zip(d.TB_COLUMNS, r.columns, strict=True))},
                level=r.depth if tb.level == "all" else 0,
                style="heading" if tb.level == "all" and not r.account.postable else "normal")
            for r in tb.rows]
    rows.append(Row({"code": None, "name": TOTAL, **dict(zip(d.TB_COLUMNS, tb.totals,
                                                              strict=True))}, style="total"))
    return ("trial-balance", L("Turnover trial balance", "ბრუნვითი უწყისი"),
            _range_label(tb.date_from, tb.date_to), columns, rows)


def _general_ledger_document(gl: d.GeneralLedger) -> Built:
    columns = (Column("date", L("Date", "თარიღი"), "date"),
               Column("number", L("No.", "ნომერი"), "int"),
               Column("description", L("Description", "შინაარსი")),
               Column("counter", L("Counter accounts", "კორესპონდენტი ანგარიშები")),
               _money("debit", L("Debit", "დებეტი")), _money("credit", L("Credit", "კრედიტი")),
               _money("balance", L("Balance", "ნაშთი")))
    rows: list[Row] = []
    for card in gl.cards:
        a = card.account
        rows.append(Row({"description": L(f"{a.code} {a.name}", f"{a.code} {a.name_ka}")},
                        style="heading"))
        rows.append(Row({"date": gl.date_from,
                         "description": L("Opening balance", "საწყისი ნაშთი"),
                         "balance": card.opening}, level=1))
        rows.extend(Row({"date": ln.day, "number": ln.number, "description": ln.description,
                         "counter": ", ".join(ln.counter_accounts), "debit": ln.debit,
                         "credit": ln.credit, "balance": ln.balance}, level=1)
                    for ln in card.lines)
        rows.append(Row({"date": gl.date_to, "description": L("Turnover and closing balance",
                                                              "ბრუნვა და საბოლოო ნაშთი"),
                         "debit": card.debit, "credit": card.credit, "balance": card.closing},
                        level=1, style="subtotal"))
    title = L("General ledger", "მთავარი წიგნი") if gl.account is None or len(gl.cards) != 1 \
        else L(f"Account card {gl.account}", f"ანგარიშის ბარათი {gl.account}")
    return ("general-ledger", title, _range_label(gl.date_from, gl.date_to), columns, rows)


def _amount_columns(first: Label, second: Label | None) -> tuple[Column, ...]:
    columns = [_LINE, _ACCOUNT, _money("amount", first)]
    if second is not None:
        columns.append(_money("comparative", second))
    return tuple(columns)


def _amounts(amounts: tuple[Decimal, ...]) -> dict[str, Decimal]:
    return dict(zip(("amount", "comparative"), amounts, strict=False))


def _line_rows(line: d.Line, level: int) -> list[Row]:
    style = {"subtotal": "subtotal", "total": "total"}.get(line.kind, "normal")
    rows = [Row({"line": line.name, "code": line.code, **_amounts(line.amounts)},
                level=level, style=style)]  # type: ignore[arg-type]
    for child in line.children:
        rows.extend(_line_rows(child, level + 1))
    return rows


def _position_document(fp: d.FinancialPosition) -> Built:
    columns = _amount_columns(_as_of(fp.as_of), _as_of(fp.compare_to) if fp.compare_to
                              else None)
    rows: list[Row] = []
    sides = {"assets": L("Assets", "აქტივები"),
             "equity_and_liabilities": L("Equity and liabilities",
                                         "საკუთარი კაპიტალი და ვალდებულებები")}
    for side, heading in sides.items():
        rows.append(Row({"line": heading}, style="heading"))
        for section in fp.sections:
            if section.side != side:
                continue
            rows.append(Row({"line": section.name}, level=1, style="heading"))
            for line in section.lines:
                rows.extend(_line_rows(line, 2))
            rows.append(Row({"line": L(f"Total {section.name.en.lower()}",
                                       f"სულ: {section.name.ka}"), **_amounts(section.total)},
                            level=1, style="subtotal"))
        if side == "assets":
            rows.append(Row({"line": d.TOTAL_ASSETS, **_amounts(fp.total_assets)},
                            style="total"))
    rows.append(Row({"line": d.TOTAL_EQUITY, **_amounts(fp.total_equity)},
                    style="subtotal"))
    rows.append(Row({"line": d.TOTAL_LIABILITIES, **_amounts(fp.total_liabilities)},
                    style="subtotal"))
    rows.append(Row({"line": d.TOTAL_EQUITY_AND_LIABILITIES,
                     **_amounts(fp.total_equity_and_liabilities)}, style="total"))
    return ("balance-sheet", L("Statement of financial position",
                               "ფინანსური მდგომარეობის ანგარიშგება"),
            _as_of(fp.as_of), columns, rows)


def _profit_or_loss_document(pl: d.ProfitOrLoss) -> Built:
    columns = _amount_columns(_range_label(pl.date_from, pl.date_to),
                              _range_label(*pl.compare) if pl.compare else None)
    rows = [row for line in pl.lines for row in _line_rows(line, 0)]
    if pl.disclosures:
        rows.append(Row({"line": L("Expenses by nature included above (IAS 1.104)",
                                   "ზემოთ ასახული ხარჯები ბუნების მიხედვით")},
                        style="heading"))
        rows += [row for line in pl.disclosures for row in _line_rows(line, 1)]
    layout = L("by nature", "ხარჯები ბუნების მიხედვით") if pl.layout == "nature" \
        else L("by function", "ხარჯები ფუნქციის მიხედვით")
    return ("profit-and-loss", L(f"Statement of profit or loss ({layout.en})",
                                 f"მოგებისა და ზარალის ანგარიშგება ({layout.ka})"),
            _range_label(pl.date_from, pl.date_to), columns, rows)


def _comprehensive_document(ci: d.ComprehensiveIncome) -> Built:
    columns = _amount_columns(_range_label(ci.date_from, ci.date_to),
                              _range_label(*ci.compare) if ci.compare else None)
    rows = [row for line in ci.lines for row in _line_rows(line, 0)]
    return ("comprehensive-income", L("Statement of comprehensive income",
                                      "სრული შემოსავლის ანგარიშგება"),
            _range_label(ci.date_from, ci.date_to), columns, rows)


def _cash_flow_document(cf: d.CashFlows, prior: d.CashFlows | None = None) -> Built:
    """One column, or two with the year before (lines of either year, in this year's
    order, then the year before's others)."""
    method = L("indirect method", "არაპირდაპირი მეთოდი") if cf.method == "indirect" \
        else L("direct method", "პირდაპირი მეთოდი")
    columns = _amount_columns(_range_label(cf.date_from, cf.date_to),
                              _range_label(prior.date_from, prior.date_to) if prior
                              else None)

    def pair(now: Decimal, then: Decimal) -> dict[str, Decimal]:
        return {"amount": now, **({"comparative": then} if prior else {})}

    rows: list[Row] = []
    for section in cf.sections:
        before = prior.section(section.key) if prior else None
        rows.append(Row({"line": section.name}, style="heading"))
        previous = {x.key: x for x in before.lines} if before else {}
        keys = [x.key for x in section.lines] + [k for k in previous
                                                 if k not in {x.key for x in section.lines}]
        current = {x.key: x for x in section.lines}
        for key in keys:
            line = current.get(key) or previous[key]
            style: RowStyle = "subtotal" if line.kind == "subtotal" else "normal"
            rows.append(Row({"line": line.name, "code": line.code,
                             **pair(current[key].amounts[0] if key in current else d.ZERO,
                                    previous[key].amounts[0] if key in previous
                                    else d.ZERO)}, level=1, style=style))
        rows.append(Row({"line": section.total_name,
                         **pair(section.total, before.total if before else d.ZERO)},
                        style="subtotal"))
    rows.append(Row({"line": d.NET_CHANGE, **pair(cf.net_change, prior.net_change
                                                   if prior else d.ZERO)}, style="total"))
    rows.append(Row({"line": d.OPENING_CASH, **pair(cf.opening_cash, prior.opening_cash
                                                     if prior else d.ZERO)}))
    if cf.fx_effect or (prior and prior.fx_effect):
        rows.append(Row({"line": d.FX_EFFECT, **pair(cf.fx_effect, prior.fx_effect
                                                      if prior else d.ZERO)}))
    rows.append(Row({"line": d.CLOSING_CASH, **pair(cf.closing_cash, prior.closing_cash
                                                     if prior else d.ZERO)}, style="total"))
    disclosed = [*cf.non_cash_transactions, *(prior.non_cash_transactions if prior else ())]
    if disclosed:
        rows.append(Row({"line": d.NON_CASH}, style="heading"))
        for t in disclosed:
            text = f"{t.date.isoformat() if t.date else ''} No. {t.number} {t.description}"
            rows.append(Row({"line": L(text, text.replace("No.", "№")),
                             "code": ", ".join(t.accounts),
                             **pair(t.amount if t in cf.non_cash_transactions else d.ZERO,
                                    d.ZERO if t in cf.non_cash_transactions else t.amount)},
                            level=1))
    title = L(f"Statement of cash flows ({method.en})",
              f"ფულადი სახსრების მოძრაობის ანგარიშგება ({method.ka})")
    return ("cash-flow", title, _range_label(cf.date_from, cf.date_to), columns, rows)


def _equity_document(ce: d.ChangesInEquity) -> Built:
    columns = (Column("row", L("", "")), *(_money(k, n)
                                          for k, _, n in d.EQUITY_COLUMNS))
    rows = [Row({"row": name, **values},
                style="subtotal" if key in ("opening", "closing",
                                            "total_comprehensive_income") else "normal")
            for key, name, values in ce.rows]
    for e in ce.exceptions:  # each movement no row explains, with its transaction
        text = f"{e.date.isoformat() if e.date else ''} No. {e.number}"
        rows.append(Row({"row": L(f"Exception: {text}", f"გამონაკლისი: {text}"),
                         **e.amounts}, level=1))
    return ("changes-in-equity", L("Statement of changes in equity",
                                   "საკუთარ კაპიტალში ცვლილებების ანგარიშგება"),
            _range_label(ce.date_from, ce.date_to), columns, rows)


# ---------------------------------------------------------------------- the journal export


@dataclass(frozen=True, slots=True)
class JournalExport:
    filename: str
    media_type: str
    #: The file in chunks of about :data:`~saldo.reporting.domain.journal.CHUNK` bytes.
    body: AsyncIterator[bytes]


async def journal_export(service: ReportingService, ctx: CompanyContext, fmt: str,
                         date_from: dt.date | None, date_to: dt.date | None, *,
                         opening: bool = False, lang: str = "en") -> JournalExport:
    """Posted transactions as a plain-text journal (``format=ledger`` or ``beancount``),
    read in one snapshot through a server-side cursor, a chunk at a time."""
    d.check_choice(lang, d.LANGUAGES, d.UnsupportedLanguage, "language")
    d.check_dates(date_from=date_from, date_to=date_to)
    if date_from and date_to:
        d.check_range(date_from, date_to)
    company = await service.ledger.company(ctx.company_id)  # cached: no query
    writer = journal.writer_for(fmt, company.base_currency)
    name = journal.filename(company.tax_id, writer.media_extension, date_from, date_to)

    async def body() -> AsyncIterator[bytes]:
        async with service.db.transaction(company_id=ctx.company_id, snapshot=True) as conn:
            pending: list[str] = []
            size = 0
            async for piece in write_journal(conn, company, writer, date_from, date_to,
                                             opening=opening, lang=lang):
                pending.append(piece)
                size += len(piece)
                if size >= journal.CHUNK:
                    yield "".join(pending).encode()
                    pending, size = [], 0
            if pending:
                yield "".join(pending).encode()

    return JournalExport(name, "text/plain; charset=utf-8", body())


async def write_journal(conn: Connection, company: CompanySettings, writer: journal.JournalWriter,
                        date_from: dt.date | None, date_to: dt.date | None, *,
                        opening: bool = False, lang: str = "en") -> AsyncIterator[str]:
    """The export as pieces of text, read in ``conn``'s transaction."""
    company_id = company.id
    chart = {r["code"]: r for r in await ledger_queries.accounts(conn, company_id)}
    moved = await ledger_queries.accounts_moved(conn, company_id, date_from, date_to)
    balances = (await ledger_queries.balances_before(conn, company_id, date_from)
                if opening and date_from else {})
    first_day = {code: min(day, date_from) if balances and date_from else day
                 for code, day in moved.items()}
    for code in balances:
        first_day.setdefault(code, cast(dt.date, date_from))
    declared = [(journal.journal_account(chart.get(code), code, lang), day)
                for code, day in sorted(first_day.items())]
    info = journal.ExportInfo(company.name, company.tax_id, writer.currency, date_from, date_to,
                      lang)
    yield writer.preamble(info, declared)
    known = set(first_day)
    if balances and date_from:
        yield writer.opening(date_from, balances)
    grouper = ledger_queries.JournalGrouper()
    posted = ledger_queries.posted_journal(conn, company_id, date_from, date_to)
    async with contextlib.aclosing(posted):  # the cursor closes as soon as we stop
        async for rows in posted:
            # Accounts posted to after the account list was read are declared before the
            # batch that first uses them, dated by that first use (rows come in date order).
            new: dict[str, dt.date] = {}
            for row in rows:
                code = row[ledger_queries.ACCOUNT_CODE]
                if code not in known and code not in new:
                    new[code] = row[1]
            for code, day in new.items():
                account = await ledger_queries.account(conn, company_id, code)
                yield writer.declare(journal.journal_account(account, code, lang), day)
                known.add(code)
            # Grouping and formatting a batch (thousands of lines) run off the event loop.
            yield await on_render_threads(_formatted, writer, grouper.feed, rows)
    yield await on_render_threads(_formatted, writer, lambda _: grouper.finish(), [])


def _formatted(writer: journal.JournalWriter,
               transactions: Callable[[list[tuple[Any, ...]]], list[dict[str, Any]]],
               rows: list[tuple[Any, ...]]) -> str:
    return "".join(writer.transaction(tx) for tx in transactions(rows))


