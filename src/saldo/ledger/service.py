"""The ledger's use cases: load, decide, append -- each in one database transaction.

Commands run under the application role with the company set (row-level security) and
are retried when they lose a race (a concurrent change to the same stream, a serialisation
failure or a deadlock): the retry reloads the state and decides again, so the caller sees
either success or the rule the new state breaks, never the race.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
import structlog

from saldo.fx import queries as fx_queries
from saldo.fx import service as fx
from saldo.identity import queries as identity_queries
from saldo.identity.service import Company, CompanyContext, CompanyNotFound, User
from saldo.kernel.errors import ConcurrencyError, RuleViolation, SaldoError
from saldo.kernel.events import SYSTEM
from saldo.kernel.ids import new_id
from saldo.kernel.money import ISO_CURRENCIES
from saldo.ledger import domain as d
from saldo.ledger import queries, store
from saldo.ledger.charts import chart
from saldo.ledger.domain import (
    FX_DIFFERENCE,
    Account,
    AccountType,
    Actor,
    Content,
    ContentInput,
    EntryInput,
    Finding,
    JournalDraft,
    JournalTransaction,
    LineDraft,
    PeriodStatus,
    SourceRef,
)
from saldo.ledger.projections import TRANSACTION_STREAM_PREFIX
from saldo.platform.db import Connection
from saldo.platform.eventstore import NO_STREAM, NewEvent, StreamAppend
from saldo.platform.uow import Busy, PrepareFirst, UnitOfWork, UnitsOfWork

log = structlog.get_logger("saldo.ledger")

TRANSACTION_STREAM = "ledger.transaction"
CHART_STREAM = "ledger.chart"
FISCAL_YEAR_STREAM = "ledger.fiscal-year"
#: What other contexts use: the service, and the posting port's types.
__all__ = ["FX_DIFFERENCE", "Busy", "CompanySettings", "Finding", "ImportOutcome",
           "InvalidExchangeDifference", "JournalDraft", "LedgerService", "LineDraft",
           "PostedJournal", "RateNotFound", "Revaluation", "SourceRef",
           "exchange_difference"]


def transaction_stream(transaction_id: UUID) -> str:
    return f"{TRANSACTION_STREAM_PREFIX}{transaction_id}"


def chart_stream(company_id: UUID) -> str:
    return f"ledger.chart-{company_id}"


def fiscal_year_stream(company_id: UUID, year: int) -> str:
    return f"ledger.fiscal-year-{company_id}-{year}"


@dataclass(frozen=True, slots=True)
class CompanySettings:
    """What the books need to know of a company. None of it changes after creation
    (identity has no way to), so :meth:`LedgerService.company` caches it."""

    id: UUID
    name: str
    tax_id: str
    base_currency: str
    fiscal_year_start_month: int


@dataclass(frozen=True, slots=True)
class PostedJournal:
    """The posting port's answer: the journal transaction a document made."""

    id: UUID
    number: int
    fiscal_year: int
    content: Content


@dataclass(slots=True)
class CheckedBatch:
    """A batch whose content passed :func:`~saldo.ledger.domain.check_content`: (row,
    content, fiscal year) per transaction, and the findings of those that did not."""

    rows: list[tuple[int, Content, int]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    #: Row -> the item's idempotency key (``batch:`` + the client's key), where given.
    keys: dict[int, str] = field(default_factory=dict)


@dataclass(slots=True)
class ImportOutcome:
    """What :meth:`LedgerService.import_journal` did."""

    posted: list[tuple[UUID, int, int]] = field(default_factory=list)
    batches: int = 0
    #: Transactions the file held that were imported before (their keys are taken).
    skipped: int = 0
    findings: list[Finding] = field(default_factory=list)
    #: The first row of the batch that failed (None: none failed).
    failed_row: int | None = None


@dataclass(slots=True)
class BatchResult:
    findings: list[Finding] = field(default_factory=list)
    posted: list[tuple[UUID, int, int]] = field(default_factory=list)  # id, year, number
    #: Items whose key was posted before (a re-import): (row, that transaction's id).
    skipped: list[tuple[int, UUID]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def _actor(ctx: CompanyContext) -> Actor:
    return Actor(ctx.user.id, ctx.user.username)


def fingerprint(content: Content) -> str:
    """The same request, however written ("100" or "100.00"): hash of the checked content."""
    return hashlib.sha256(orjson.dumps(content.as_data(), option=orjson.OPT_SORT_KEYS)).hexdigest()


class RateNotFound(RuleViolation):
    """A foreign-currency transaction with no ``exchange_rate`` and no official rate in
    effect on its date (docs/currencies.md)."""

    code = "rate_not_found"
    title = "No exchange rate in effect"


def _needs_rate(raw: ContentInput, base_currency: str) -> str | None:
    """The currency whose official rate ``raw`` must take, or ``None``: a foreign-currency
    transaction without ``exchange_rate`` takes the NBG rate in effect on its date."""
    if raw.currency is None or raw.exchange_rate not in (None, ""):
        return None
    currency = raw.currency.strip().upper()
    if currency == base_currency or currency not in ISO_CURRENCIES:
        return None  # the base currency's rate is 1; a bad code is check_content's to report
    return currency


async def with_official_rate(conn: Connection, raw: ContentInput,
                             base_currency: str) -> ContentInput:
    """``raw`` with the official rate in effect on its date, if it needs one (IAS 21.21:
    the spot rate at the date of the transaction; georgia.md §7: the NBG rate in effect,
    the last one on weekends and holidays). None at all: 422 ``rate_not_found``."""
    currency = _needs_rate(raw, base_currency)
    if currency is None:
        return raw
    found = await fx_queries.rate_in_effect(conn, currency, raw.date)
    if found is None:
        raise RateNotFound(f"No exchange rate for {currency} on {raw.date}: no official NBG "
                           f"rate is in effect on that date; give exchange_rate (GEL per one "
                           f"{currency}) or load the rates (saldo rates fetch).",
                           currency=currency, date=str(raw.date))
    return replace(raw, exchange_rate=found.rate)


class InvalidExchangeDifference(RuleViolation):
    """An exchange-difference line anywhere but where it belongs (docs/currencies.md)."""

    code = "invalid_exchange_difference"
    title = "Exchange difference not allowed here"


async def check_exchange_differences(uow: UnitOfWork, content: Content,
                                     base_currency: str) -> None:
    """Exchange-difference lines (a GEL amount only) are allowed for one purpose: moving a
    foreign-currency monetary item's GEL value against exchange gain or loss (IAS 21.28
    realised on settlement, 21.23 unrealised at the closing rate). So:

    * they balance among themselves: never a plug for the regular lines' difference;
    * each is either on an exchange gain or loss account (classification fx_gain_loss) or
      on a monetary item (IAS 21.16) in a foreign currency, and there is at least one of
      each."""
    lines = [e for e in content.entries if e.kind == FX_DIFFERENCE]
    if not lines:
        return
    debit = sum((e.debit_base for e in lines), Decimal(0))
    credit = sum((e.credit_base for e in lines), Decimal(0))
    if debit != credit:
        raise InvalidExchangeDifference(
            f"Exchange-difference lines must balance among themselves (debits {debit}, "
            f"credits {credit}): an exchange difference moves an item's value against "
            "exchange gain or loss, it does not make up the other lines' difference.",
            debit=str(debit), credit=str(credit))
    classes = await queries.classifications(uow.conn, uow.company_id,
                                            (e.account_code for e in lines))
    gain_loss = [e for e in lines if classes.get(e.account_code) == "fx_gain_loss"]
    items = [e for e in lines if classes.get(e.account_code) != "fx_gain_loss"]
    if not gain_loss or not items:
        raise InvalidExchangeDifference(
            "An exchange difference moves a monetary item's GEL value against an exchange "
            "gain or loss account (8140/8240 realised, 8145/8245 unrealised): it needs a "
            "line on each.")
    for entry in items:
        if not fx.is_monetary(entry.account_code):
            raise InvalidExchangeDifference(
                f"Account {entry.account_code} is not a monetary item (IAS 21.16: cash, "
                "receivables, payables, loans); it has no exchange difference.",
                code=entry.account_code)
        if (entry.currency or content.currency) == base_currency:
            raise InvalidExchangeDifference(
                f"Account {entry.account_code}: an item in {base_currency} has no exchange "
                "difference; name the foreign currency of the item.",
                code=entry.account_code)


def exchange_difference(account_code: str, residual: Decimal, *, currency: str | None = None,
                        counterparty_id: UUID | None = None,
                        document_id: UUID | None = None) -> list[LineDraft]:
    """The two exchange-difference lines that clear ``residual``, the GEL left on a
    foreign-currency item once it is settled in full in its currency (debit positive:
    what was booked minus what the settlement took off). Realised (IAS 21.28): a debit
    residual is a loss (Cr the item, Dr 8240), a credit residual a gain (Dr the item,
    Cr 8140). ``currency``: the item's, when the transaction is in another (a GEL
    transaction adjusting several currencies' items, as the revaluation is).

    Worked example: a receivable of USD 100.00 booked at 2.70 (270.00) is paid at 2.75,
    which credits it 275.00; residual 270.00 − 275.00 = −5.00: Dr 1410 5.00, Cr 8140 5.00.
    A payable of USD 100.00 booked at 2.70 (−270.00) paid at 2.75 (debited 275.00):
    residual +5.00: Cr 3110 5.00, Dr 8240 5.00."""
    if not residual:
        return []
    gain = residual < 0
    amount = abs(residual)
    text = "Realised exchange difference"
    item = LineDraft(account_code, debit_base=amount if gain else None,
                     credit_base=None if gain else amount, description=text,
                     counterparty_id=counterparty_id, document_id=document_id,
                     kind=FX_DIFFERENCE, currency=currency)
    result = (LineDraft(fx.REALISED_GAIN, credit_base=amount, kind=FX_DIFFERENCE,
                        description="Exchange gain (realised)") if gain else
              LineDraft(fx.REALISED_LOSS, debit_base=amount, kind=FX_DIFFERENCE,
                        description="Exchange loss (realised)"))
    return [item, result]


@dataclass(frozen=True, slots=True)
class Revaluation:
    """What :meth:`LedgerService.revalue` did: the transaction it posted (or the one that
    revalued this date before, when nothing was left to revalue), and each position."""

    transaction_id: UUID | None
    lines: list[fx.Retranslation]
    posted: bool


class LedgerService:
    def __init__(self, units: UnitsOfWork, *, history_years: int = 10,
                 today: Callable[[], date] = date.today) -> None:
        self.units = units
        self.db, self.events = units.db, units.events
        self.history_years = history_years
        self.today = today
        self._settings: dict[UUID, CompanySettings] = {}
        self._open_years: set[tuple[UUID, int]] = set()

    # ------------------------------------------------------------------ plumbing

    async def company(self, company_id: UUID, conn: Connection | None = None
                      ) -> CompanySettings:
        """The company's settings, cached; read in ``conn`` when given (inside a unit of
        work, so that it never waits for a second pooled connection while holding one)."""
        settings = self._settings.get(company_id)
        if settings is None:
            if conn is not None:
                row = await identity_queries.company_settings(conn, company_id)
            else:
                async with self.db.transaction(company_id=company_id) as own:
                    row = await identity_queries.company_settings(own, company_id)
            if row is None:
                raise CompanyNotFound("No such company.", company_id=str(company_id))
            # Base currency and fiscal year start never change after creation.
            settings = CompanySettings(company_id, row["name"], row["tax_id"],
                                       row["base_currency"].strip(),
                                       row["fiscal_year_start_month"])
            self._settings[company_id] = settings
        return settings

    async def _save(self, uow: UnitOfWork, tx: JournalTransaction) -> None:
        pending, tx.pending = tx.pending, []
        await uow.append(transaction_stream(tx.id), TRANSACTION_STREAM,
                         tx.version - len(pending), pending)

    async def _load(self, uow: UnitOfWork, transaction_id: UUID) -> JournalTransaction:
        # Row-level security hides other companies' events: another company's id is 404.
        events = await uow.read(transaction_stream(transaction_id))
        tx = JournalTransaction.replay(transaction_id, ((e.type, e.data) for e in events))
        if tx is None:
            raise d.TransactionNotFound("No such transaction.",
                                        transaction_id=str(transaction_id))
        return tx

    # ------------------------------------------------------------------ chart of accounts

    async def load_chart(self, conn: Connection, company: Company, user: User) -> None:
        """Copy the company's chart into its books (identity's hook: runs in the
        transaction that creates the company, before the company has a unit of work)."""
        actor = Actor(user.id, user.username)
        uow = UnitOfWork(conn, self.db, self.events, company.id, actor)
        loaded = d.ChartOfAccounts.load(company.chart_of_accounts,
                                        chart(company.chart_of_accounts), actor)
        await _save_chart(uow, loaded)

    async def add_account(self, ctx: CompanyContext, code: str, name: str, name_ka: str | None,
                          account_type: AccountType | None, parent_code: str | None,
                          classification: d.Classification | None = None,
                          cash_flow: d.CashFlow | None = None) -> Account:
        async def decide(uow: UnitOfWork) -> Account:
            accounts = await _chart(uow)
            parent = accounts.accounts.get(parent_code or d.default_parent(code) or "")
            postings = (code not in accounts.accounts and parent is not None
                        and await store.has_postings(uow.conn, uow.company_id, parent.code))
            account = accounts.add(code, name, name_ka, account_type, parent_code, uow.actor,
                                   postings, classification, cash_flow)
            await _save_chart(uow, accounts)
            return account

        return await self.units.run(ctx.company_id, _actor(ctx), decide)

    async def change_account(self, ctx: CompanyContext, code: str,
                             changes: dict[str, Any]) -> Account:
        async def decide(uow: UnitOfWork) -> Account:
            accounts = await _chart(uow)
            account = accounts.account(code)
            facts = d.AccountFacts()
            if changes.get("active") is False and account.active:
                debit, credit = await queries.balance(uow.conn, uow.company_id, code,
                                                      date.max, postable=account.postable)
                facts = replace(facts, balance=debit - credit)
            if changes.get("type") is not None:
                facts = replace(facts, has_postings=await store.has_postings(
                    uow.conn, uow.company_id, code))
            changed = accounts.change(code, changes, uow.actor, facts)
            await _save_chart(uow, accounts)
            return changed

        return await self.units.run(ctx.company_id, _actor(ctx), decide)

    async def delete_account(self, ctx: CompanyContext, code: str) -> None:
        async def decide(uow: UnitOfWork) -> None:
            accounts = await _chart(uow)
            accounts.account(code)
            conn, company = uow.conn, uow.company_id
            facts = d.AccountFacts(
                has_postings=await store.has_postings(conn, company, code),
                has_open_drafts=await store.has_open_drafts(conn, company, code))
            accounts.delete(code, uow.actor, facts)
            await _save_chart(uow, accounts)

        await self.units.run(ctx.company_id, _actor(ctx), decide)

    # ------------------------------------------------------------------ fiscal calendar

    async def open_fiscal_year(self, company_id: UUID, year: int) -> None:
        """Create the year's twelve periods (and the journal's monthly partitions)."""
        if (company_id, year) in self._open_years:
            return
        settings = await self.company(company_id)
        d.check_openable(year, self.today(), settings.fiscal_year_start_month,
                         self.history_years)
        periods = d.periods_of_year(year, settings.fiscal_year_start_month)
        # Partitions first, in a transaction of their own: creating one locks the journal
        # for a moment, which must not be held for the rest of a posting.
        async with self.db.transaction() as conn:
            await store.ensure_partitions(conn, periods[0].start, periods[-1].end)

        async def record(uow: UnitOfWork) -> None:
            if not await store.year_is_open(uow.conn, company_id, year):
                opened = d.FiscalYear.open(year, periods, SYSTEM)
                await uow.append(fiscal_year_stream(company_id, year), FISCAL_YEAR_STREAM,
                                 NO_STREAM, opened.pending)

        try:
            async with self.db.transaction(company_id=company_id) as conn:
                await record(UnitOfWork(conn, self.db, self.events, company_id, SYSTEM))
        except ConcurrencyError:
            pass  # opened by a concurrent request: the same twelve months
        self._open_years.add((company_id, year))

    async def _year_opened(self, company_id: UUID, year: int) -> bool:
        if (company_id, year) in self._open_years:
            return True
        async with self.db.transaction(company_id=company_id) as conn:
            return await store.year_is_open(conn, company_id, year)

    async def change_period(self, ctx: CompanyContext, period: str, action: str,
                            correlation_id: str | None = None) -> dict[str, Any]:
        first_day = d.parse_period(period)
        settings = await self.company(ctx.company_id)
        year = d.fiscal_year_of(first_day, settings.fiscal_year_start_month)
        if action == "reopen" and not await self._year_opened(ctx.company_id, year):
            # Every month of a year never opened is open: refuse before opening it, so
            # that a refusal writes nothing (the year's range is checked first, as
            # opening it would).
            d.check_openable(year, self.today(), settings.fiscal_year_start_month,
                             self.history_years)
            d.next_period_status(d.PeriodStatus.OPEN, action, period)
        await self.open_fiscal_year(ctx.company_id, year)
        actor = _actor(ctx)

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            # Wait for the postings into the month in flight, hold new ones back.
            await store.lock_period_for_change(uow.conn, ctx.company_id, period)
            fiscal_year = await self._fiscal_year(uow, year)
            status = fiscal_year.change_month(period, action, actor)
            await self._save_year(uow, fiscal_year)
            span = fiscal_year.spans[period]
            return {"period": period, "start": span.start, "end": span.end,
                    "status": status.value}

        return await self.units.run(ctx.company_id, actor, decide,
                                    correlation_id=correlation_id)

    async def _fiscal_year(self, uow: UnitOfWork, year: int) -> d.FiscalYear:
        events = await uow.read(fiscal_year_stream(uow.company_id, year))
        fiscal_year = d.FiscalYear.replay(year, ((e.type, e.data) for e in events))
        if fiscal_year is None:  # opened before every command that loads it
            raise PrepareFirst(lambda: self.open_fiscal_year(uow.company_id, year),
                               f"fiscal year {year} is not open yet")
        return fiscal_year

    async def _save_year(self, uow: UnitOfWork, fiscal_year: d.FiscalYear) -> None:
        pending, fiscal_year.pending = fiscal_year.pending, []
        await uow.append(fiscal_year_stream(uow.company_id, fiscal_year.year),
                         FISCAL_YEAR_STREAM, fiscal_year.version - len(pending), pending)

    async def close_fiscal_year(self, ctx: CompanyContext, year: int,
                                correlation_id: str | None = None) -> dict[str, Any]:
        """Year-end close: post the closing transaction (revenue and expense into retained
        earnings, dated the year's last day) and close every period of the year, in one
        database transaction. The year's last period may be closed already (months are
        usually closed one by one); a locked one refuses the closing transaction."""
        settings = await self.company(ctx.company_id)
        periods = d.periods_of_year(year, settings.fiscal_year_start_month)
        last = periods[-1]
        if last.end > self.today():  # before anything is opened: a refusal writes nothing
            raise d.YearNotEnded(f"Fiscal year {year} ends on {last.end}; it can be "
                                 "closed from that day on.", year=year)
        await self.open_fiscal_year(ctx.company_id, year)
        actor = _actor(ctx)

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            conn = uow.conn
            for p in periods:  # in order: wait for postings in flight, hold back new ones
                await store.lock_period_for_change(conn, ctx.company_id, p.period)
            fiscal_year = await self._fiscal_year(uow, year)
            fiscal_year.check_closable()
            earlier = [y for y in await store.years_with_status(conn, ctx.company_id, "open")
                       if y < year]
            if earlier:
                raise d.YearsOutOfOrder(
                    f"Close fiscal year {earlier[0]} first: years close in order, so that "
                    "each closing entry carries one year's result.", open_years=earlier)
            balances = await store.income_statement_balances(conn, ctx.company_id, last.end)
            content = d.closing_entry(balances, last.end, year, settings.base_currency)
            closing = None
            if content is not None:
                closing = JournalTransaction.born_posted(
                    new_id(), content, actor, await store.next_numbers(conn, ctx.company_id,
                                                                       year),
                    year, kind=d.CLOSING)
            fiscal_year.close(actor, closing.id if closing else None)
            if closing is not None:
                await self._save(uow, closing)
            await self._save_year(uow, fiscal_year)
            return {"year": year, "status": "closed",
                    "closing_transaction": closing.id if closing else None}

        return await self.units.run(ctx.company_id, actor, decide,
                                    correlation_id=correlation_id)

    async def reopen_fiscal_year(self, ctx: CompanyContext, year: int,
                                 correlation_id: str | None = None) -> dict[str, Any]:
        """Undo a year-end close while no period of the year is locked: the closing
        transaction is reversed (dated the year's last day) and the periods reopen."""
        settings = await self.company(ctx.company_id)
        periods = d.periods_of_year(year, settings.fiscal_year_start_month)
        actor = _actor(ctx)

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            conn = uow.conn
            for p in periods:
                await store.lock_period_for_change(conn, ctx.company_id, p.period)
            fiscal_year = await self._fiscal_year(uow, year)
            if not fiscal_year.closed:
                raise d.YearNotClosed(f"Fiscal year {year} is not closed.", year=year)
            later = [y for y in await store.years_with_status(conn, ctx.company_id, "closed")
                     if y > year]
            if later:
                raise d.YearsOutOfOrder(f"Reopen fiscal year {later[-1]} first: years reopen "
                                        "in reverse order.", closed_years=later)
            fiscal_year.check_reopenable()
            if fiscal_year.closing_transaction is not None:
                original = await self._load(uow, fiscal_year.closing_transaction)
                assert original.content is not None
                number = await store.next_numbers(conn, ctx.company_id, year)
                mirrored = original.content.reversed(
                    original.content.date, f"Reopening of fiscal year {year}")
                reversal = JournalTransaction.born_posted(new_id(), mirrored, actor, number,
                                                          year, reverses=original.id,
                                                          kind=d.CLOSING)
                original.mark_closing_reversed(reversal.id, f"Fiscal year {year} reopened",
                                               actor)
                await self._save(uow, reversal)
                await self._save(uow, original)
            fiscal_year.reopen(actor)
            await self._save_year(uow, fiscal_year)
            return {"year": year, "status": "open", "closing_transaction": None}

        return await self.units.run(ctx.company_id, actor, decide,
                                    correlation_id=correlation_id)

    async def _lock_open_period(self, conn: Connection, company_id: UUID, day: date) -> int:
        """Share-lock the period of ``day``; it must be open. Returns the fiscal year."""
        settings = await self.company(company_id, conn)
        year = d.fiscal_year_of(day, settings.fiscal_year_start_month)
        status = await store.lock_period(conn, company_id, d.period_of(day))
        if status is None:  # open the year in transactions of its own, then run again
            raise PrepareFirst(lambda: self.open_fiscal_year(company_id, year),
                               f"fiscal year {year} is not open yet")
        if status is not PeriodStatus.OPEN:
            raise d.PeriodClosed(f"Period {d.period_of(day)} is {status.value}; it takes no "
                                 "postings.", period=d.period_of(day), status=status.value)
        return year

    async def _number(self, uow: UnitOfWork, day: date) -> tuple[int, int]:
        """The next gap-free number of the fiscal year of ``day``, whose period must be
        open: (number, fiscal year). Lock order: the period (shared), then the counter."""
        year = await self._lock_open_period(uow.conn, uow.company_id, day)
        return await store.next_numbers(uow.conn, uow.company_id, year), year

    # ------------------------------------------------------------------ the posting port

    async def post_journal(self, uow: UnitOfWork, draft: JournalDraft) -> PostedJournal:
        """Post a journal transaction made by a document, inside the document's own unit
        of work: the document's events and its journal transaction commit together or
        not at all, and a race retries both.

        Every ledger rule applies as to a journal entry typed by a person (balanced in GEL
        and per currency, active leaf accounts, an open period, currency and rate, the
        gap-free number). The transaction is born posted: the document's own posting is
        its approval (docs/decisions/0014-unit-of-work-and-posting-port.md). Its lines may
        carry the counterparty and the document, and exchange-difference lines.
        """
        settings = await self.company(uow.company_id, uow.conn)
        raw = await with_official_rate(uow.conn, draft.content(), settings.base_currency)
        content = d.check_content(raw, settings.base_currency, document_flow=True)
        await check_exchange_differences(uow, content, settings.base_currency)
        d.check_openable(d.fiscal_year_of(content.date, settings.fiscal_year_start_month),
                         self.today(), settings.fiscal_year_start_month, self.history_years)
        await _check_accounts(uow, content)
        number, year = await self._number(uow, content.date)
        tx = JournalTransaction.born_posted(new_id(), content, uow.actor, number, year)
        await self._save(uow, tx)
        return PostedJournal(tx.id, number, year, content)

    async def reverse_journal(self, uow: UnitOfWork, transaction_id: UUID, reason: str,
                              on: date | None = None) -> PostedJournal:
        """Reverse a posted transaction inside the caller's unit of work (a document's
        cancellation): the mirror image, dated ``on`` or the original's date."""
        reversal, _ = await self._reverse(uow, transaction_id, reason, on)
        assert reversal.content is not None
        assert reversal.number is not None
        assert reversal.fiscal_year is not None
        return PostedJournal(reversal.id, reversal.number, reversal.fiscal_year,
                             reversal.content)

    # ------------------------------------------------------------------ IAS 21

    async def revalue(self, ctx: CompanyContext, as_of: date,
                      correlation_id: str | None = None) -> Revaluation:
        """IAS 21.23 at ``as_of``: every monetary account's balance in each foreign
        currency retranslated at the official rate in effect that day; each difference
        posted against unrealised exchange gain (8145) or loss (8245), in one transaction
        dated ``as_of`` and reversed on the next day (docs/decisions/0022): the books keep
        the items at their transaction rates, so a later settlement's realised difference
        is measured from the rate the item was booked at.

        Idempotent per date: the carrying amounts as of ``as_of`` include an earlier
        revaluation of that date, so running it again finds nothing to post (and answers
        that earlier transaction); a posting back-dated since is revalued by the delta."""
        settings = await self.company(ctx.company_id)
        base = settings.base_currency
        for day in (as_of, as_of + timedelta(days=1)):
            year = d.fiscal_year_of(day, settings.fiscal_year_start_month)
            d.check_openable(year, self.today(), settings.fiscal_year_start_month,
                             self.history_years)
        actor = _actor(ctx)

        async def decide(uow: UnitOfWork) -> Revaluation:
            conn = uow.conn
            positions = [fx.Position(code, currency, amount, gel)
                         for code, currency, amount, gel in
                         await queries.foreign_positions(conn, ctx.company_id, as_of, base)
                         if fx.is_monetary(code)]
            rates = await fx_queries.rates_in_effect(conn, {p.currency for p in positions},
                                                     as_of)
            missing = sorted({p.currency for p in positions} - set(rates))
            if missing:
                raise RateNotFound(f"No official rate in effect on {as_of} for "
                                   f"{', '.join(missing)}; load the rates (saldo rates "
                                   "fetch) or enter them.", currencies=missing,
                                   date=str(as_of))
            lines = [fx.retranslate(p, rates[p.currency].rate) for p in positions]
            moved = [r for r in lines if r.difference]
            if not moved:
                earlier = await queries.revaluations(conn, ctx.company_id, as_of)
                if not earlier:
                    return Revaluation(None, lines, False)
                # Revalued before: answer as that revaluation did (its differences taken
                # out of the carrying amounts again), so a repeated request gets the same
                # answer and posts nothing.
                done: dict[tuple[str, str], Decimal] = {}
                for tx in earlier:
                    for e in tx["entries"]:
                        if e.get("kind") == FX_DIFFERENCE and e.get("currency"):
                            key = (e["account_code"], e["currency"])
                            done[key] = (done.get(key, Decimal(0)) + Decimal(e["debit_base"])
                                         - Decimal(e["credit_base"]))
                lines = [fx.retranslate(fx.Position(
                    r.account_code, r.currency, r.foreign_balance,
                    r.gel_before - done.get((r.account_code, r.currency), Decimal(0))),
                    r.rate) for r in lines]
                return Revaluation(earlier[-1]["id"], lines, False)
            drafts: list[LineDraft] = []
            gains = sum((r.difference for r in moved if r.difference > 0), Decimal(0))
            losses = -sum((r.difference for r in moved if r.difference < 0), Decimal(0))
            for r in moved:
                text = (f"{r.currency} {r.foreign_balance} at {r.rate}: "
                        f"{r.gel_before} → {r.gel_after}")
                if r.difference > 0:
                    drafts.append(LineDraft(r.account_code, debit_base=r.difference,
                                            kind=FX_DIFFERENCE, currency=r.currency,
                                            description=text))
                else:
                    drafts.append(LineDraft(r.account_code, credit_base=-r.difference,
                                            kind=FX_DIFFERENCE, currency=r.currency,
                                            description=text))
            if gains:
                drafts.append(LineDraft(fx.UNREALISED_GAIN, credit_base=gains,
                                        kind=FX_DIFFERENCE,
                                        description="Unrealised exchange gains (IAS 21.23)"))
            if losses:
                drafts.append(LineDraft(fx.UNREALISED_LOSS, debit_base=losses,
                                        kind=FX_DIFFERENCE,
                                        description="Unrealised exchange losses (IAS 21.23)"))
            posted = await self.post_journal(uow, JournalDraft(
                as_of, f"IAS 21 revaluation of foreign-currency monetary items as of {as_of}",
                drafts, SourceRef("fx_revaluation", new_id()), currency=base))
            await self.reverse_journal(uow, posted.id,
                                       f"IAS 21 revaluation of {as_of} reversed",
                                       as_of + timedelta(days=1))
            return Revaluation(posted.id, lines, True)

        return await self.units.run(ctx.company_id, actor, decide,
                                    correlation_id=correlation_id)

    # ------------------------------------------------------------------ transactions

    async def check(self, company_id: UUID, raw: ContentInput) -> Content:
        settings = await self.company(company_id)
        if _needs_rate(raw, settings.base_currency) is not None:
            async with self.db.transaction(company_id=company_id) as conn:
                raw = await with_official_rate(conn, raw, settings.base_currency)
        content = d.check_content(raw, settings.base_currency)
        d.check_openable(d.fiscal_year_of(content.date, settings.fiscal_year_start_month),
                         self.today(), settings.fiscal_year_start_month, self.history_years)
        return content

    async def create(self, ctx: CompanyContext, raw: ContentInput,
                     idempotency_key: str | None = None,
                     correlation_id: str | None = None) -> tuple[JournalTransaction, bool]:
        """A new draft. Returns it and whether it is new (``False``: the same request was
        made before with this idempotency key, and this is its transaction)."""
        content = await self.check(ctx.company_id, raw)
        actor = _actor(ctx)

        async def decide(uow: UnitOfWork) -> tuple[JournalTransaction, bool]:
            conn = uow.conn
            await _check_accounts(uow, content)
            transaction_id = new_id()
            if idempotency_key is not None:
                earlier = await store.claim_idempotency_key(
                    conn, ctx.company_id, idempotency_key, fingerprint(content), transaction_id)
                if earlier is not None:
                    if earlier[0] != fingerprint(content):
                        raise d.IdempotencyKeyReused(
                            "This Idempotency-Key was used for a different request.",
                            key=idempotency_key)
                    return await self._load(uow, earlier[1]), False
            tx = JournalTransaction.draft(transaction_id, content, actor)
            await self._save(uow, tx)
            return tx, True

        return await self.units.run(ctx.company_id, actor, decide,
                                    correlation_id=correlation_id)

    async def _decide_on(self, ctx: CompanyContext, transaction_id: UUID,
                         act: Callable[[UnitOfWork, JournalTransaction], Awaitable[None]],
                         correlation_id: str | None) -> JournalTransaction:
        """Load one transaction, let ``act`` decide on it, save what it recorded."""
        actor = _actor(ctx)

        async def decide(uow: UnitOfWork) -> JournalTransaction:
            tx = await self._load(uow, transaction_id)
            await act(uow, tx)
            await self._save(uow, tx)
            return tx

        return await self.units.run(ctx.company_id, actor, decide,
                                    correlation_id=correlation_id)

    async def amend(self, ctx: CompanyContext, transaction_id: UUID, raw: ContentInput,
                    correlation_id: str | None = None) -> JournalTransaction:
        content = await self.check(ctx.company_id, raw)

        async def act(uow: UnitOfWork, tx: JournalTransaction) -> None:
            tx.amend(content, uow.actor)  # state first: amending a posted one is 409, not 422
            await _check_accounts(uow, content)

        return await self._decide_on(ctx, transaction_id, act, correlation_id)

    async def discard(self, ctx: CompanyContext, transaction_id: UUID,
                      correlation_id: str | None = None) -> JournalTransaction:
        async def act(uow: UnitOfWork, tx: JournalTransaction) -> None:
            tx.discard(uow.actor)

        return await self._decide_on(ctx, transaction_id, act, correlation_id)

    async def approve(self, ctx: CompanyContext, transaction_id: UUID,
                      correlation_id: str | None = None) -> JournalTransaction:
        async def act(uow: UnitOfWork, tx: JournalTransaction) -> None:
            tx.approve(uow.actor)

        return await self._decide_on(ctx, transaction_id, act, correlation_id)

    async def post(self, ctx: CompanyContext, transaction_id: UUID,
                   correlation_id: str | None = None) -> JournalTransaction:
        async def act(uow: UnitOfWork, tx: JournalTransaction) -> None:
            content = tx.check_postable()
            await _check_accounts(uow, content)
            number, year = await self._number(uow, content.date)
            tx.post(number, year, uow.actor)

        return await self._decide_on(ctx, transaction_id, act, correlation_id)

    async def reverse(self, ctx: CompanyContext, transaction_id: UUID, reason: str,
                      on: date | None = None, correlation_id: str | None = None
                      ) -> tuple[JournalTransaction, JournalTransaction]:
        """Post the mirror image of a posted transaction, dated ``on`` (default: the
        original's date), and link the two. Returns (reversal, original)."""
        async def decide(uow: UnitOfWork) -> tuple[JournalTransaction, JournalTransaction]:
            return await self._reverse(uow, transaction_id, reason, on)

        return await self.units.run(ctx.company_id, _actor(ctx), decide,
                                    correlation_id=correlation_id)

    async def _reverse(self, uow: UnitOfWork, transaction_id: UUID, reason: str,
                       on: date | None) -> tuple[JournalTransaction, JournalTransaction]:
        reason = reason.strip()
        if not reason or len(reason) > 500:
            raise d.InvalidEntry("A reversal needs a reason of 1 to 500 characters.",
                                 field="reason")
        original = await self._load(uow, transaction_id)
        content = original.check_reversible()
        day = on or content.date
        if day < content.date:
            raise d.InvalidReversalDate(
                f"The reversal is dated {day}, before the original ({content.date}).",
                date=str(day))
        settings = await self.company(uow.company_id, uow.conn)
        d.check_openable(d.fiscal_year_of(day, settings.fiscal_year_start_month),
                         self.today(), settings.fiscal_year_start_month, self.history_years)
        mirrored = content.reversed(day, f"Reversal of No. {original.number}: {reason}"[:500])
        number, year = await self._number(uow, day)
        reversal = JournalTransaction.born_posted(new_id(), mirrored, uow.actor, number, year,
                                                  reverses=original.id)
        original.mark_reversed(reversal.id, reason, uow.actor)
        await self._save(uow, reversal)
        await self._save(uow, original)
        return reversal, original

    async def history(self, company_id: UUID, transaction_id: UUID) -> list[dict[str, Any]]:
        async with self.db.transaction(company_id=company_id) as conn:
            events = await self.events.read_stream(conn, transaction_stream(transaction_id))
        if not events:
            raise d.TransactionNotFound("No such transaction.",
                                        transaction_id=str(transaction_id))
        return [{"type": e.type, "version": e.version, "recorded_at": e.recorded_at,
                 "actor": d.TRANSACTION_EVENTS[e.type].from_data(e.data).by, "data": e.data}
                for e in events]

    # ------------------------------------------------------------------ bulk posting

    async def post_batch(self, ctx: CompanyContext, rows: Sequence[tuple[int, ContentInput]],
                         correlation_id: str | None = None) -> BatchResult:
        """Validate and post many transactions at once, all or nothing.

        ``rows`` pairs each transaction with the row number it came from; every problem is
        returned as a finding with that row number, and if there is any, nothing is
        written. Imported transactions are posted without a separate approval: the
        importing user must hold ``transactions:approve`` (the API and CLI check it).
        """
        checked = await self.check_batch(ctx, rows)
        if checked.findings:
            return BatchResult(findings=checked.findings)
        return await self.write_batch(ctx, checked, correlation_id)

    async def post_batches(self, ctx: CompanyContext,
                           batches: Iterable[Sequence[tuple[int, ContentInput]]],
                           correlation_id: str | None = None) -> AsyncGenerator[BatchResult]:
        """:meth:`post_batch` for a stream of batches, each all or nothing, yielding each
        one's result; it stops after the first batch with findings.

        Pipelined: the next batch is checked (Python's work) while the previous one is
        written (mostly PostgreSQL's), so an import keeps both busy instead of taking
        turns. The check hands the event loop back every few rows, which lets the write
        send its next statement as soon as the last one is answered.
        """
        writing: asyncio.Task[BatchResult] | None = None
        try:
            for rows in batches:
                checked = await self.check_batch(ctx, rows)
                if writing is not None:
                    result = await writing
                    writing = None
                    yield result
                    if not result.ok:
                        return
                if checked.findings:
                    yield BatchResult(findings=checked.findings)
                    return
                writing = asyncio.create_task(self.write_batch(ctx, checked, correlation_id))
                await asyncio.sleep(0)  # let it send its first statement
            if writing is not None:
                result, writing = await writing, None
                yield result
        finally:
            if writing is not None:  # the caller stopped early: finish or roll back cleanly
                writing.cancel()
                with contextlib.suppress(asyncio.CancelledError, SaldoError):
                    await writing

    async def import_journal(self, ctx: CompanyContext,
                             transactions: Sequence[tuple[int, ContentInput]],
                             batch_size: int = 2000,
                             posted_batch: Callable[[int], None] | None = None
                             ) -> ImportOutcome:
        """Post a journal read from a file: the content rules of the whole file first
        (nothing is written if any transaction breaks one), then all-or-nothing batches,
        pipelined. A finding only the books reveal (an unknown account, a closed period)
        stops the import at its batch; the batches before it stay posted. The file's
        transaction keys make a second run post only what is missing.

        ``posted_batch(n)`` is told of each committed batch of ``n`` transactions."""
        outcome = ImportOutcome()
        for row, raw in transactions:
            try:
                await self.check(ctx.company_id, raw)
            except SaldoError as exc:
                outcome.findings.append(Finding(row, exc.code, exc.detail))
        if outcome.findings:
            outcome.failed_row = transactions[0][0]
            return outcome
        batches = [transactions[start:start + batch_size]
                   for start in range(0, len(transactions), batch_size)]
        results = self.post_batches(ctx, batches)
        try:
            async for result in results:
                batch = batches[outcome.batches]
                outcome.findings.extend(result.findings)
                if outcome.findings:
                    outcome.failed_row = batch[0][0]
                    break
                outcome.posted.extend(result.posted)
                outcome.skipped += len(result.skipped)
                outcome.batches += 1
                if posted_batch is not None:
                    posted_batch(len(batch))
        except SaldoError as exc:
            batch = batches[outcome.batches]
            outcome.findings.append(Finding(batch[0][0], exc.code, exc.detail))
            outcome.failed_row = batch[0][0]
        finally:
            await results.aclose()
        return outcome

    async def check_batch(self, ctx: CompanyContext,
                          rows: Sequence[tuple[int, ContentInput]]) -> CheckedBatch:
        """The content rules of every transaction of a batch, as findings; no I/O beyond the
        company's (cached) settings."""
        settings = await self.company(ctx.company_id)
        checked = CheckedBatch()
        seen: dict[str, int] = {}
        rated, missing = await self._with_official_rates(ctx.company_id, rows,
                                                         settings.base_currency)
        for index, (row, raw) in enumerate(rated):
            if index % _YIELD_EVERY == _YIELD_EVERY - 1:
                await asyncio.sleep(0)  # a pipelined write may be waiting to go on
            try:
                if raw.key is not None:
                    key = raw.key.strip()
                    if not key or len(key) > 200:
                        raise d.InvalidEntry("A key is 1 to 200 characters.", field="key")
                    if key in seen:
                        raise d.DuplicateKey(f"Key {key!r} is also the key of row "
                                             f"{seen[key]}.", key=key)
                    seen[key] = row
                    checked.keys[row] = BATCH_KEY_PREFIX + key
                if row in missing:
                    raise missing[row]
                content = d.check_content(raw, settings.base_currency)
                year = d.fiscal_year_of(content.date, settings.fiscal_year_start_month)
                d.check_openable(year, self.today(), settings.fiscal_year_start_month,
                                 self.history_years)
            except SaldoError as exc:
                checked.findings.append(Finding(row, exc.code, exc.detail))
                continue
            checked.rows.append((row, content, year))
        return checked

    async def _with_official_rates(
            self, company_id: UUID, rows: Sequence[tuple[int, ContentInput]],
            base_currency: str) -> tuple[list[tuple[int, ContentInput]], dict[int, RateNotFound]]:
        """The batch's foreign-currency items without a rate, given the official rate of
        their date (one lookup per currency and day), and the rows for which there is none
        (their check reports ``rate_not_found`` with the row)."""
        wanted = {(c, raw.date) for _, raw in rows
                  if (c := _needs_rate(raw, base_currency)) is not None}
        if not wanted:
            return list(rows), {}
        found: dict[tuple[str, date], fx_queries.RateInEffect] = {}
        async with self.db.transaction(company_id=company_id) as conn:
            for currency, day in sorted(wanted):
                rate = await fx_queries.rate_in_effect(conn, currency, day)
                if rate is not None:
                    found[currency, day] = rate
        out: list[tuple[int, ContentInput]] = []
        missing: dict[int, RateNotFound] = {}
        for row, raw in rows:
            code = _needs_rate(raw, base_currency)
            if code is not None:
                rate = found.get((code, raw.date))
                if rate is None:
                    missing[row] = RateNotFound(
                        f"No exchange rate for {code} on {raw.date}: no official NBG "
                        "rate is in effect on that date; give exchange_rate.",
                        currency=code, date=str(raw.date))
                else:
                    raw = replace(raw, exchange_rate=rate.rate)
            out.append((row, raw))
        return out, missing

    async def write_batch(self, ctx: CompanyContext, checked: CheckedBatch,
                          correlation_id: str | None = None) -> BatchResult:
        """Post a checked batch in one database transaction; the rules that need the
        books (accounts, periods) become findings and then nothing is written."""
        rows = checked.rows
        for year in sorted({year for _, _, year in rows}):
            await self.open_fiscal_year(ctx.company_id, year)
        actor = _actor(ctx)

        async def decide(uow: UnitOfWork) -> BatchResult:
            conn = uow.conn
            done = BatchResult()
            todo, ids = rows, [new_id() for _ in rows]
            if checked.keys:
                todo, ids = await self._skip_posted(uow, checked, rows, ids, done)
                if done.findings:
                    raise _Refused(done)  # rolls the key claims back
            chart_targets = await store.chart(conn, ctx.company_id)
            periods = await store.lock_periods(
                conn, ctx.company_id, {d.period_of(c.date) for _, c, _ in todo})
            for row, content, _ in todo:
                try:
                    d.check_accounts((e.account_code for e in content.entries), chart_targets)
                    status = periods.get(d.period_of(content.date))
                    if status is not PeriodStatus.OPEN:
                        raise d.PeriodClosed(f"Period {d.period_of(content.date)} is "
                                             f"{status.value if status else 'not open'}.",
                                             period=d.period_of(content.date))
                except SaldoError as exc:
                    done.findings.append(Finding(row, exc.code, exc.detail))
            if done.findings:
                raise _Refused(done)
            if not todo:
                return done
            per_year: dict[int, int] = {}
            for _, _, year in todo:
                per_year[year] = per_year.get(year, 0) + 1
            next_number = {year: await store.next_numbers(conn, ctx.company_id, year, count)
                           for year, count in sorted(per_year.items())}
            appends = []
            metadata = uow.metadata
            for (_, content, year), transaction_id in zip(todo, ids, strict=True):
                number, next_number[year] = next_number[year], next_number[year] + 1
                events = d.imported_events(transaction_id, content, actor, number, year)
                appends.append(StreamAppend(
                    transaction_stream(transaction_id), TRANSACTION_STREAM, NO_STREAM,
                    [NewEvent(e.type, e.to_data(), json_values=True) for e in events],
                    metadata))
                done.posted.append((transaction_id, year, number))
            await uow.append_many(appends)
            return done

        try:
            return await self.units.run(ctx.company_id, actor, decide,
                                        correlation_id=correlation_id)
        except _Refused as refused:
            return refused.result

    async def _skip_posted(self, uow: UnitOfWork, checked: CheckedBatch,
                           rows: list[tuple[int, Content, int]], ids: list[UUID],
                           done: BatchResult) -> tuple[list[tuple[int, Content, int]],
                                                       list[UUID]]:
        """Claim the batch's keys; the items whose key was posted before are skipped (the
        same content) or a finding (other content under a used key). The claims commit
        with the batch, so a re-run after a crash posts exactly what is missing."""
        claims = [(checked.keys[row], fingerprint(content), tx_id)
                  for (row, content, _), tx_id in zip(rows, ids, strict=True)
                  if row in checked.keys]
        taken = await store.claim_idempotency_keys(uow.conn, uow.company_id, claims)
        if not taken:
            return rows, ids
        kept_rows, kept_ids = [], []
        for (row, content, year), tx_id in zip(rows, ids, strict=True):
            earlier = taken.get(checked.keys.get(row, ""))
            if earlier is None:
                kept_rows.append((row, content, year))
                kept_ids.append(tx_id)
            elif earlier[0] == fingerprint(content):
                done.skipped.append((row, earlier[1]))
            else:
                key = checked.keys[row].removeprefix(BATCH_KEY_PREFIX)
                done.findings.append(Finding(
                    row, d.IdempotencyKeyReused.code,
                    f"Key {key!r} was posted before with other content (transaction "
                    f"{earlier[1]}); give the changed transaction a new key."))
        return kept_rows, kept_ids


class _Refused(Exception):
    def __init__(self, result: BatchResult) -> None:
        super().__init__("batch refused")
        self.result = result


#: Batch keys live beside Idempotency-Key headers in one table, in their own namespace.
BATCH_KEY_PREFIX = "batch:"


async def _chart(uow: UnitOfWork) -> d.ChartOfAccounts:
    """The company's chart of accounts, replayed from its stream."""
    events = await uow.read(chart_stream(uow.company_id))
    accounts = d.ChartOfAccounts.replay((e.type, e.data) for e in events)
    if accounts is None:  # every company's chart is loaded when it is created
        raise CompanyNotFound("No such company.", company_id=str(uow.company_id))
    return accounts


async def _save_chart(uow: UnitOfWork, accounts: d.ChartOfAccounts) -> None:
    pending, accounts.pending = accounts.pending, []
    if pending:
        await uow.append(chart_stream(uow.company_id), CHART_STREAM,
                         accounts.version - len(pending), pending)


async def _check_accounts(uow: UnitOfWork, content: Content) -> None:
    """Every line's account exists, is a leaf and is active."""
    codes = [e.account_code for e in content.entries]
    d.check_accounts(codes, await store.posting_targets(uow.conn, uow.company_id, codes))


#: How many transactions a batch check handles before it lets the event loop run.
_YIELD_EVERY = 100


#: The journal entry screen (saldo.web) drafts transactions as a client would.
__all__ += ["ContentInput", "EntryInput"]
