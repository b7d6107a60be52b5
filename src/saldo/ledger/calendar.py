"""The fiscal calendar's use cases: open a fiscal year (its months and the journal's
partitions), close, reopen and lock months, close and reopen a year (with its closing
transaction), and the open-period lock and gap-free number every posting takes."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from saldo.identity.service import CompanyContext
from saldo.kernel.errors import ConcurrencyError
from saldo.kernel.events import SYSTEM
from saldo.kernel.ids import new_id
from saldo.ledger import domain as d
from saldo.ledger import store
from saldo.ledger.books import FISCAL_YEAR_STREAM, Books, actor_of, fiscal_year_stream
from saldo.ledger.domain import (
    JournalTransaction,
    PeriodStatus,
)
from saldo.platform.db import Connection
from saldo.platform.eventstore import NO_STREAM
from saldo.platform.uow import PrepareFirst, UnitOfWork


class Calendar(Books):
    """The fiscal calendar's use cases (part of :class:`~saldo.ledger.service.LedgerService`)."""

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
        actor = actor_of(ctx)

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
        actor = actor_of(ctx)

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
            content = d.closing_content(balances, last.end, year, settings.base_currency)
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
        actor = actor_of(ctx)

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

    async def _checked_number(self, uow: UnitOfWork, content: d.Content) -> tuple[int, int]:
        """The accounts checked and ``_number`` in one round trip (``store.gate_posting``):
        (number, fiscal year). A refusal rolls the reserved number back."""
        settings = await self.company(uow.company_id, uow.conn)
        year = d.fiscal_year_of(content.date, settings.fiscal_year_start_month)
        period = d.period_of(content.date)
        codes = [line.account_code for line in content.lines]
        targets, status, number = await store.gate_posting(uow.conn, uow.company_id, codes,
                                                           period, year)
        d.check_accounts(codes, targets)
        if status is None:  # open the year in transactions of its own, then run again
            raise PrepareFirst(lambda: self.open_fiscal_year(uow.company_id, year),
                               f"fiscal year {year} is not open yet")
        if status is not PeriodStatus.OPEN:
            raise d.PeriodClosed(f"Period {period} is {status.value}; it takes no "
                                 "postings.", period=period, status=status.value)
        return number, year

    async def _number(self, uow: UnitOfWork, day: date) -> tuple[int, int]:
        """The next gap-free number of the fiscal year of ``day``, whose period must be
        open: (number, fiscal year). Lock order: the period (shared), then the counter."""
        year = await self._lock_open_period(uow.conn, uow.company_id, day)
        return await store.next_numbers(uow.conn, uow.company_id, year), year


