"""Tax use cases: the monthly VAT return from posted documents, its filing and findings,
the VAT registration monitor and the tax calendar (with the hook later contexts use to
list the returns they make the company file)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from saldo.billing import queries as billing_queries
from saldo.billing.service import BillingService
from saldo.identity import queries as identity_queries
from saldo.identity.service import CompanyContext
from saldo.kernel.events import Actor
from saldo.platform.db import Connection
from saldo.platform.uow import UnitOfWork, UnitsOfWork
from saldo.tax import domain as d
from saldo.tax import queries
from saldo.tax.domain import due_date, next_working_day

__all__ = ["ReturnSource", "TaxDue", "TaxService", "due_date", "next_working_day"]

#: ``(conn, company_id, year) -> [(tax, period)]``: the returns of ``year``'s periods a
#: context makes the company file (payroll: income_tax per month with payments...).
ReturnSource = Callable[[Connection, UUID, int], Awaitable[Sequence[tuple[str, str]]]]
TAX_STREAM = "tax.company"


@dataclass(frozen=True, slots=True)
class TaxDue:
    tax: str
    period: str
    due_date: date


@dataclass(slots=True)
class Registration:
    as_of: date
    window_start: date
    window_end: date
    taxable_turnover: Decimal
    threshold: Decimal
    exceeded: bool
    exceeded_on: date | None
    register_by: date | None
    vat_payer: bool
    alerts: list[dict[str, Any]] = field(default_factory=list)


def tax_stream(company_id: UUID) -> str:
    return f"tax.company-{company_id}"


class TaxService:
    def __init__(self, units: UnitsOfWork, billing: BillingService, *,
                 today: Callable[[], date] = date.today) -> None:
        self.units, self.billing = units, billing
        self.db = units.db
        self.today = today
        #: Later contexts append here in their ``context.connect`` (payroll, profit tax).
        self.return_sources: list[ReturnSource] = [self._vat_and_property]

    # ------------------------------------------------------------------ calendar

    async def _vat_and_property(self, conn: Connection, company_id: UUID,
                                year: int) -> list[tuple[str, str]]:
        settings = await identity_queries.company_settings(conn, company_id)
        returns: list[tuple[str, str]] = []
        if settings and settings["vat_payer"]:
            returns += [("vat", p) for p in d.months_of(year)]
        # Every Georgian company files the annual property tax return (georgia.md §4.3).
        returns.append(("property_tax", f"{year:04d}"))
        return returns

    async def calendar(self, company_id: UUID, year: int) -> list[TaxDue]:
        async with self.db.transaction(company_id=company_id) as conn:
            found: set[tuple[str, str]] = set()
            for source in self.return_sources:
                found.update(await source(conn, company_id, year))
        return sorted((TaxDue(tax, period, due_date(tax, period)) for tax, period in found),
                      key=lambda t: (t.due_date, t.tax, t.period))

    # ------------------------------------------------------------------ VAT return

    async def vat_return(self, company_id: UUID, period: str
                         ) -> tuple[d.VatReturn, list[dict[str, Any]], list[dict[str, Any]]]:
        """The return, its filings, and findings: drafts dated in the month, and
        documents dated in it but posted after the return was filed."""
        first, last = d.month_of(period)
        async with self.db.transaction(company_id=company_id) as conn:
            totals = await billing_queries.vat_totals(conn, company_id, first, last)
            filed = await queries.filings(conn, company_id, period)
            findings: list[dict[str, Any]] = [
                {"code": "unposted_draft", "document_id": r["id"], "number": r["number"],
                 "kind": r["kind"], "date": r["date"],
                 "message": f"{r['number']} dated {r['date']} is still a draft."}
                for r in await billing_queries.drafts_between(conn, company_id, first, last)]
            if filed:
                since: datetime = filed[-1]["filed_at"]
                findings += [
                    {"code": "posted_after_filing", "document_id": r["id"],
                     "number": r["number"], "kind": r["kind"], "date": r["date"],
                     "message": f"{r['number']} dated {r['date']} was posted after the "
                                "return was filed: file a correction."}
                    for r in await billing_queries.posted_since(conn, company_id, first, last,
                                                                since)]
        return d.vat_return(period, totals), filed, findings

    async def file_vat_return(self, ctx: CompanyContext, period: str) -> d.VatReturn:
        result, _, _ = await self.vat_return(ctx.company_id, period)

        async def record(uow: UnitOfWork) -> None:
            stream = tax_stream(uow.company_id)
            await uow.append(stream, TAX_STREAM, await uow.version(stream), [
                d.VatReturnFiled(period, result.output_vat, result.reverse_charge_vat,
                                 result.input_vat, result.payable, ctx.user.username)])

        await self.units.run(ctx.company_id, Actor(ctx.user.id, ctx.user.username), record)
        return result

    async def vat_register(self, company_id: UUID, period: str,
                           direction: str) -> list[dict[str, Any]]:
        first, last = d.month_of(period)
        async with self.db.transaction(company_id=company_id) as conn:
            return await billing_queries.vat_register(conn, company_id, direction, first, last)

    # ------------------------------------------------------------------ registration

    async def _turnover(self, conn: Connection, company_id: UUID,
                        as_of: date) -> list[tuple[date, Decimal]]:
        return await billing_queries.taxable_turnover_by_day(conn, company_id,
                                                             date(1900, 1, 1), as_of)

    async def registration(self, company_id: UUID, as_of: date) -> Registration:
        """Taxable turnover over the 12 calendar months ending with ``as_of``'s month, and
        the first day any such window exceeded GEL 100,000 (Art. 157)."""
        if not 1901 <= as_of.year <= 2998:
            raise d.InvalidPeriod(f"{as_of} is out of range.", as_of=as_of.isoformat())
        async with self.db.transaction(company_id=company_id) as conn:
            turnover = await self._turnover(conn, company_id, as_of)
            settings = await identity_queries.company_settings(conn, company_id)
            alerts = await queries.alerts(conn, company_id)
        start = d.window_start(as_of)
        in_window = sum((a for day, a in turnover if day >= start), d.ZERO)
        crossed = d.first_crossing(turnover, d.VAT_THRESHOLD)
        return Registration(
            as_of=as_of, window_start=start, window_end=as_of, taxable_turnover=in_window,
            threshold=d.VAT_THRESHOLD, exceeded=crossed is not None, exceeded_on=crossed,
            register_by=d.working_days_after(crossed, 2) if crossed else None,
            vat_payer=bool(settings and settings["vat_payer"]), alerts=alerts)

    async def monitor(self, uow: UnitOfWork, document: Any) -> None:
        """Billing's hook on every posted document: for a company that is not a VAT payer,
        record once when its rolling turnover reaches 90% of the threshold and when it
        crosses it (issue 13, item 8)."""
        if not document.kind.sales or await self.billing.vat_payer(uow.conn, uow.company_id,
                                                                   uow.memo):
            return
        turnover = await self._turnover(uow.conn, uow.company_id, document.date)
        start = d.window_start(document.date)
        in_window = sum((a for day, a in turnover if day >= start), d.ZERO)
        stream = tax_stream(uow.company_id)
        events = await uow.read(stream)
        kinds = {e.type for e in events}
        new: list[d.VatThresholdApproached | d.VatThresholdExceeded] = []
        if (in_window >= d.VAT_THRESHOLD * d.VAT_WARNING_SHARE
                and d.VatThresholdApproached.type not in kinds):
            new.append(d.VatThresholdApproached(uow.company_id, document.date, in_window))
        crossed = d.first_crossing(turnover, d.VAT_THRESHOLD)
        if crossed is not None and d.VatThresholdExceeded.type not in kinds:
            new.append(d.VatThresholdExceeded(uow.company_id, crossed, in_window,
                                              d.working_days_after(crossed, 2)))
        if new:
            await uow.append(stream, TAX_STREAM, len(events), new)
