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
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
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
from saldo.reporting import layouts, render
from saldo.reporting.document import Language, ReportDocument
from saldo.reporting.domain import journal

REPORTS = ("trial-balance", "general-ledger", "balance-sheet", "profit-and-loss",
           "comprehensive-income", "cash-flow", "changes-in-equity", "financial-statements")
#: The annual set comes as JSON or as one PDF.
SET_FORMATS = ("json", "pdf")

#: Threads that render CSV, XLSX and PDF, for the whole process (built by the
#: composition root, ``saldo.bootstrap``, and handed to the service). Rendering is
#: CPU-bound Python (an XLSX of 50,000 lines takes ~8 s): on the event loop it would stall
#: every request of every company; on asyncio's default pool it would hold the threads
#: that password hashing needs. Two at a time keep the rest of the server responsive on a
#: small machine (they share the GIL with the event loop); further renders queue.
RENDER_THREADS = 2
_T = TypeVar("_T")


def render_threads() -> ThreadPoolExecutor:
    """The render pool of :data:`RENDER_THREADS` threads (the composition root builds one
    per process and shuts it down with the app)."""
    return ThreadPoolExecutor(max_workers=RENDER_THREADS, thread_name_prefix="saldo-render")


async def _on(threads: Executor, fn: Callable[..., _T], *args: Any) -> _T:
    """``fn(*args)`` on ``threads``, off the event loop (reports and the journal export:
    CPU-bound formatting of many lines)."""
    return await asyncio.get_running_loop().run_in_executor(threads, fn, *args)


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
    def __init__(self, db: Database | ReadPool, ledger: LedgerService, *, threads: Executor,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.db, self.ledger, self.now = db, ledger, now
        #: The render threads (:func:`render_threads`), shared by the process.
        self.threads = threads

    # ------------------------------------------------------------------ plumbing


    @staticmethod
    async def _chart(conn: Connection, company_id: UUID) -> d.Chart:
        return d.Chart.from_rows(await ledger_queries.accounts(conn, company_id))

    @staticmethod
    async def _sums(conn: Connection, company_id: UUID, date_from: date,
                    date_to: date) -> dict[str, d.Sums]:
        """Each account's sums over the range (base currency)."""
        return _sums_of(await ledger_queries.turnover_by_account(conn, company_id,
                                                                 date_from, date_to))

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
        return await _on(self.threads, self.export, report, company, fmt, lang)

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

    async def account_card_page(self, ctx: CompanyContext, code: str,
                                date_from: date | None, date_to: date | None, page: int,
                                per_page: int) -> d.CardPages:
        """Page ``page`` (1 to the longest card's last; outside, the nearest) of the
        account card of ``code`` over the range (defaults as every report's): one card
        for a postable account, one per sub-account that moved or has an opening balance
        under a header; ``per_page`` lines of each card a page, with the balance brought
        forward from the lines before the page. Reads the page's lines only: the
        balances, the totals and the line counts come from the daily turnover, so a page
        of a year of a busy account costs what the first page of a day does. No line
        limit applies (the general ledger's, :data:`d.MAX_LEDGER_LINES`, bounds whole
        reports)."""
        if not 1 <= per_page <= d.MAX_LEDGER_LINES["json"]:
            raise ValueError(f"per_page {per_page} is not between 1 and "
                             f"{d.MAX_LEDGER_LINES['json']}")
        d.check_dates(date_from=date_from, date_to=date_to)
        async with self.db.transaction(company_id=ctx.company_id, snapshot=True) as conn:
            company = await self.ledger.company(ctx.company_id)
            start, end = self._range(company, date_from, date_to)
            chart = await self._chart(conn, company.id)
            if code not in chart.accounts:
                raise d.UnknownAccount(f"No account {code}.", code=code)
            leaves = chart.leaves(code)
            # One read of the daily turnover: each card's sums and its lines in the range.
            turnover = await ledger_queries.turnover_by_account(conn, company.id, start, end,
                                                                leaves)
            sums = _sums_of(turnover)
            counts = {r["account_code"]: r["lines"] for r in turnover if r["lines"]}
            codes = d.card_codes(chart, code, sums, counts)
            pages = d.card_page_count((counts.get(c, 0) for c in codes), per_page)
            page = min(max(page, 1), pages)
            rows = await ledger_queries.account_card_page(
                conn, company.id, codes, start, end, (page - 1) * per_page, per_page)
        return d.card_pages(chart, code, codes, sums, counts, rows, start, end, page, pages,
                            per_page)

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
        return layouts.document(report, company, self.now())

    def set_documents(self, report: d.AnnualSet,
                      company: CompanySettings) -> list[ReportDocument]:
        """The annual set as one document per statement (:func:`layouts.set_documents`)."""
        return layouts.set_documents(report, company, self.now())


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
                                             service.threads, opening=opening, lang=lang):
                pending.append(piece)
                size += len(piece)
                if size >= journal.CHUNK:
                    yield "".join(pending).encode()
                    pending, size = [], 0
            if pending:
                yield "".join(pending).encode()

    return JournalExport(name, "text/plain; charset=utf-8", body())


async def write_journal(conn: Connection, company: CompanySettings, writer: journal.JournalWriter,
                        date_from: dt.date | None, date_to: dt.date | None,
                        threads: Executor, *, opening: bool = False,
                        lang: str = "en") -> AsyncIterator[str]:
    """The export as pieces of text, read in ``conn``'s transaction; batches of lines
    are formatted on ``threads``."""
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
            yield await _on(threads, _formatted, writer, grouper.feed, rows)
    yield await _on(threads, _formatted, writer, lambda _: grouper.finish(), [])


def _formatted(writer: journal.JournalWriter,
               transactions: Callable[[list[tuple[Any, ...]]], list[dict[str, Any]]],
               rows: list[tuple[Any, ...]]) -> str:
    return "".join(writer.transaction(tx) for tx in transactions(rows))


def _sums_of(turnover: Iterable[dict[str, Any]]) -> dict[str, d.Sums]:
    """``ledger_queries.turnover_by_account``'s rows as each account's sums."""
    return {r["account_code"]: d.Sums.from_row(r) for r in turnover}
