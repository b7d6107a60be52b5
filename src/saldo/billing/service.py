"""Billing's use cases: each runs in one unit of work, and a document's journal transaction
(through the ledger's posting port) commits with the document's own events or not at all.

Journal patterns (ge-standard chart; georgia.md §5.4, docs/billing.md):

* sales invoice: Dr 1410 total / Cr revenue net per line / Cr 3330 VAT per line;
* purchase bill: Dr account net per line / Dr 3340 VAT (a non-payer: into the cost) /
  Cr 3110 total; reverse charge: also Dr 3343 / Cr 3332 18% of the net (§1.4); import
  VAT from a customs declaration: Dr 3342 / Cr 3110 (customs) the VAT only;
* credit notes: the mirror image of their lines;
* payment in: Dr bank / Cr 1410 per allocation (+ a realised exchange difference on
  8140/8240 when the document was booked at another rate) / Cr 3120 the remainder, an
  advance, with its VAT (18/118) moved to 3331 (§1.5); payment out: the mirror, the
  remainder to 1480.

Receivable and payable lines carry the counterparty and the document, so the sub-ledgers
equal their control accounts.
"""

from __future__ import annotations

import calendar
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from saldo.billing import domain as d
from saldo.billing import queries
from saldo.billing.domain import (
    AllocationInput,
    Direction,
    Document,
    DocumentKind,
    LineInput,
    PaymentAlreadyReversed,
    PaymentDraft,
)
from saldo.fx import queries as fx_queries
from saldo.identity import queries as identity_queries
from saldo.identity.service import CompanyContext
from saldo.kernel.errors import RuleViolation
from saldo.kernel.events import Actor
from saldo.kernel.ids import new_id
from saldo.kernel.money import ISO_CURRENCIES, InvalidAmount, parse_amount, round_half_up
from saldo.ledger import queries as ledger_queries
from saldo.ledger.service import (
    FX_DIFFERENCE,
    JournalDraft,
    LedgerService,
    LineDraft,
    PostedJournal,
    SourceRef,
)
from saldo.platform.db import Connection
from saldo.platform.eventstore import NO_STREAM
from saldo.platform.uow import UnitOfWork, UnitsOfWork

__all__ = ["AllocationInput", "BillingService", "CounterpartyInput", "Direction",
           "DocumentInput", "DocumentKind", "LineInput", "PaymentAlreadyReversed",
           "PaymentDraft", "PaymentResult", "TaxIdCheck"]

COUNTERPARTY_STREAM, DOCUMENT_STREAM, PAYMENT_STREAM = (
    "billing.counterparty", "billing.document", "billing.payment")
#: The series a kind numbers in by default (INV-2026-00001).
SERIES = {DocumentKind.SALES_INVOICE: "INV", DocumentKind.CREDIT_NOTE: "CN",
          DocumentKind.PURCHASE_BILL: "BILL", DocumentKind.SUPPLIER_CREDIT_NOTE: "SCN",
          DocumentKind.SUPPLIER_DEBIT_NOTE: "SDN"}
DEFAULT_TERMS_DAYS = 30
Day = date


def document_stream(document_id: UUID) -> str:
    return f"billing.document-{document_id}"


def payment_stream(payment_id: UUID) -> str:
    return f"billing.payment-{payment_id}"


@dataclass(frozen=True, slots=True)
class CounterpartyInput:
    name: str
    tax_id: str | None = None
    country: str = "GE"
    vat_payer: bool = False
    iban: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    resident: bool | None = None


@dataclass(frozen=True, slots=True)
class DocumentInput:
    counterparty_id: UUID
    date: date
    lines: Sequence[LineInput]
    due_date: Day | None = None
    currency: str | None = None
    exchange_rate: object = None
    reference: str | None = None
    supplier_reference: str | None = None
    series: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentResult:
    id: UUID
    transaction_id: UUID
    event: d.PaymentRecorded


@dataclass(frozen=True, slots=True)
class TaxIdCheck:
    """What a registry (rs.ge) said of a tax id (decision 0063). ``status``: ``verified``
    (``name`` and ``vat_payer`` are the registry's), ``pending`` (it could not be asked
    now), ``failed`` (it refused the company's service user) or ``unknown`` (it answered
    and does not know the tax id)."""

    status: str
    source: str
    name: str | None = None
    vat_payer: bool | None = None
    detail: str = ""


#: Checks a Georgian tax id while a counterparty is created: ``(company, tax id)`` → a
#: check, or None when it has nothing to say (no service user set). Appended by contexts
#: above billing (rs.ge's ``RsgeService.lookup_if_configured``); called outside the
#: transaction, since it may wait on the network.
CounterpartyLookup = Callable[[UUID, str], Awaitable[TaxIdCheck | None]]

#: Called when a document posts, in its unit of work (tax's registration monitor).
DocumentHook = Callable[[UnitOfWork, Document], Awaitable[None]]


@dataclass(slots=True)
class _Journal:
    """A journal being written in one currency at one rate, with the base amounts it will
    book, so the document can know them and a rounding line can balance them."""

    rate: Decimal
    lines: list[LineDraft] = field(default_factory=list)
    debit_base: Decimal = Decimal("0.00")
    credit_base: Decimal = Decimal("0.00")

    def add(self, account: str, side: str, amount: Decimal, description: str = "", *,
            counterparty_id: UUID | None = None, document_id: UUID | None = None) -> Decimal:
        if amount == 0:
            return Decimal("0.00")
        if amount < 0:
            side, amount = ("credit" if side == "debit" else "debit"), -amount
        base = round_half_up(amount * self.rate, 2)
        if side == "debit":
            self.debit_base += base
            self.lines.append(LineDraft(account, debit=amount, description=description,
                                        counterparty_id=counterparty_id,
                                        document_id=document_id))
        else:
            self.credit_base += base
            self.lines.append(LineDraft(account, credit=amount, description=description,
                                        counterparty_id=counterparty_id,
                                        document_id=document_id))
        return base

    def fx(self, account: str, side: str, base: Decimal, description: str, *,
           counterparty_id: UUID | None = None, document_id: UUID | None = None) -> None:
        """An exchange-difference line: GEL only (IAS 21.28)."""
        if side == "debit":
            self.lines.append(LineDraft(account, debit_base=base, description=description,
                                        kind=FX_DIFFERENCE, counterparty_id=counterparty_id,
                                        document_id=document_id))
        else:
            self.lines.append(LineDraft(account, credit_base=base, description=description,
                                        kind=FX_DIFFERENCE, counterparty_id=counterparty_id,
                                        document_id=document_id))

    def balance_with(self, account: str) -> None:
        """A rounding line (GEL only) for the conversion difference of the lines."""
        difference = self.debit_base - self.credit_base
        if difference > 0:
            self.lines.append(LineDraft(account, credit_base=difference,
                                        description="Rounding"))
        elif difference < 0:
            self.lines.append(LineDraft(account, debit_base=-difference,
                                        description="Rounding"))


def _checked(counterparty_id: UUID, check: TaxIdCheck, by: str) -> d.CounterpartyTaxIdChecked:
    verified = check.status == "verified"
    return d.CounterpartyTaxIdChecked(
        counterparty_id, check.status, check.source, check.name if verified else None,
        check.vat_payer if verified else None, check.detail[:500], by)


def _actor(ctx: CompanyContext) -> Actor:
    return Actor(ctx.user.id, ctx.user.username)


class BillingService:
    def __init__(self, units: UnitsOfWork, ledger: LedgerService, *,
                 today: Callable[[], date] = date.today) -> None:
        self.units, self.ledger = units, ledger
        self.db = units.db
        self.today = today
        self.document_posted: list[DocumentHook] = []
        #: Tax-id look-ups run when a Georgian counterparty is registered (item 5 of
        #: issue 15); the first that answers decides.
        self.counterparty_lookups: list[CounterpartyLookup] = []

    # ------------------------------------------------------------------ plumbing

    async def vat_payer(self, conn: Connection, company_id: UUID,
                        memo: dict[str, Any] | None = None) -> bool:
        """Whether the company is a VAT payer (remembered for the unit of work)."""
        if memo is not None and "billing.vat_payer" in memo:
            return bool(memo["billing.vat_payer"])
        row = await identity_queries.company_settings(conn, company_id)
        payer = bool(row and row["vat_payer"])
        if memo is not None:
            memo["billing.vat_payer"] = payer
        return payer

    async def _counterparty(self, conn: Connection, company_id: UUID,
                            counterparty_id: UUID,
                            memo: dict[str, Any] | None = None) -> dict[str, Any]:
        known: dict[UUID, dict[str, Any]] = (memo.setdefault("billing.counterparties", {})
                                             if memo is not None else {})
        row = known.get(counterparty_id) or await queries.counterparty(conn, company_id,
                                                                      counterparty_id)
        if row is None:
            raise d.CounterpartyNotFound("No such counterparty.",
                                         counterparty_id=str(counterparty_id))
        known[counterparty_id] = row
        return row

    async def _check_open(self, conn: Connection, company_id: UUID, day: date,
                          memo: dict[str, Any] | None = None) -> None:
        """A document dated in a closed or locked month is refused (422 period_closed)."""
        if not 1901 <= day.year <= 2998:
            raise d.InvalidDocument(f"{day} is not a date Saldo keeps books for.",
                                    field="date")
        period = f"{day.year:04d}-{day.month:02d}"
        checked: set[str] = (memo.setdefault("billing.open_periods", set())
                             if memo is not None else set())
        if period in checked:
            return
        settings = await self.ledger.company(company_id, conn)
        start = settings.fiscal_year_start_month
        year = day.year if day.month >= start else day.year - 1
        for p in await ledger_queries.fiscal_periods(conn, company_id, year, start):
            if p["period"] == period and p["status"] != "open":
                raise PeriodNotOpen(f"Period {period} is {p['status']}; it takes no "
                                    "documents.", period=period, status=p["status"])
        checked.add(period)

    async def rate(self, conn: Connection, currency: str, day: date,
                   given: object = None) -> Decimal:
        """GEL per one unit for a document or payment: the one given, else the official
        rate in effect on the day (fx context, once it is on main)."""
        base = "GEL"
        if currency == base:
            return Decimal(1)
        if given is not None and given != "":
            try:
                rate = parse_amount(given)
            except InvalidAmount as exc:
                raise d.InvalidDocument(f"exchange_rate: {exc}", field="exchange_rate") from None
            if rate <= 0 or rate != round_half_up(rate, 6):
                raise d.InvalidDocument("exchange_rate is positive, at most 6 decimals.",
                                        field="exchange_rate")
            return rate
        return await official_rate(conn, currency, day)

    async def _load(self, uow: UnitOfWork, document_id: UUID) -> Document:
        events = await uow.read(document_stream(document_id))
        doc = Document.replay((e.type, e.data) for e in events)
        if doc is None:
            raise d.DocumentNotFound("No such document.", document_id=str(document_id))
        return doc

    async def _save(self, uow: UnitOfWork, doc: Document) -> None:
        pending, doc.pending = doc.pending, []
        if pending:
            await uow.append(document_stream(doc.id), DOCUMENT_STREAM, doc.version, pending)
            doc.version += len(pending)

    # ------------------------------------------------------------------ counterparties

    async def _tax_id_taken(self, ctx: CompanyContext, tax_id: str) -> bool:
        async def read(uow: UnitOfWork) -> bool:
            return await queries.counterparty_by_tax_id(uow.conn, uow.company_id,
                                                        tax_id) is not None

        return await self.units.run(ctx.company_id, _actor(ctx), read)

    async def _look_up(self, company_id: UUID, tax_id: str) -> TaxIdCheck | None:
        for lookup in self.counterparty_lookups:
            found = await lookup(company_id, tax_id)
            if found is not None:
                return found
        return None

    async def register_counterparty(self, ctx: CompanyContext, data: CounterpartyInput, *,
                                    checked: TaxIdCheck | None = None) -> UUID:
        """Register a customer or supplier. A Georgian tax id is checked with the
        registered look-ups (rs.ge, when the company has a service user) unless
        ``checked`` says what was found already: verified, the registry's name and VAT
        status are taken; unknown, a company's 9-digit id is refused (422
        ``tax_id_unknown``, most likely a typo) and a person's 11-digit number is kept as
        ``not_registered``; unreachable, it is created and the check left ``pending``
        (decision 0063)."""
        name = data.name.strip()
        if not name or len(name) > 200:
            raise d.InvalidDocument("A counterparty has a name of 1 to 200 characters.",
                                    field="name")
        country = data.country.strip().upper()
        if len(country) != 2 or not country.isalpha() or not country.isascii():
            raise d.InvalidDocument("country is an ISO 3166 two-letter code.",
                                    field="country")
        tax_id = d.check_tax_id(data.tax_id, country) if data.tax_id else None
        iban = d.check_iban(data.iban) if data.iban else None
        resident = data.resident if data.resident is not None else country == "GE"
        vat_payer = data.vat_payer
        check = checked
        if check is None and tax_id and country == "GE" and self.counterparty_lookups:
            if await self._tax_id_taken(ctx, tax_id):  # 409 at once, rs.ge not asked
                raise d.DuplicateTaxId(f"A counterparty with tax id {tax_id} exists.",
                                       tax_id=tax_id)
            check = await self._look_up(ctx.company_id, tax_id)
        if check is not None and check.status == "unknown":
            if len(tax_id or "") == 9:
                raise d.TaxIdUnknown(
                    f"The Revenue Service knows no company with tax id {tax_id}: check the "
                    "number.", field="tax_id", tax_id=tax_id, source=check.source)
            check = TaxIdCheck("not_registered", check.source, detail=check.detail or
                               "a personal number rs.ge does not list as a taxpayer")
        if check is not None and check.status == "verified":
            name = (check.name or name).strip()[:200] or name
            vat_payer = bool(check.vat_payer)
        counterparty_id = new_id()

        async def decide(uow: UnitOfWork) -> UUID:
            if tax_id and await queries.counterparty_by_tax_id(uow.conn, uow.company_id,
                                                               tax_id):
                raise d.DuplicateTaxId(f"A counterparty with tax id {tax_id} exists.",
                                       tax_id=tax_id)
            if tax_id:  # claims the tax id: a concurrent twin loses the race and retries
                await uow.append(f"billing.tax-id-{uow.company_id}-{tax_id}",
                                 "billing.tax-id", NO_STREAM, [])
            await uow.append(f"billing.counterparty-{counterparty_id}", COUNTERPARTY_STREAM,
                             NO_STREAM, [d.CounterpartyRegistered(
                                 counterparty_id, name, tax_id, country, resident,
                                 vat_payer, iban, data.email, data.phone, data.address,
                                 ctx.user.username)])
            if check is not None:
                await uow.append(f"billing.counterparty-{counterparty_id}",
                                 COUNTERPARTY_STREAM, None,
                                 [_checked(counterparty_id, check, ctx.user.username)])
            return counterparty_id

        return await self.units.run(ctx.company_id, _actor(ctx), decide)

    async def record_tax_id_check(self, company_id: UUID, actor: Actor,
                                  counterparty_id: UUID, check: TaxIdCheck) -> None:
        """A later check of a counterparty's tax id (a pending one asked again, or on
        request); ``unknown`` is recorded as ``not_registered``: the counterparty exists
        and its documents stay, the accountant sees what rs.ge said."""
        if check.status == "unknown":
            check = TaxIdCheck("not_registered", check.source, detail=check.detail or
                               "rs.ge does not list this tax id")

        async def decide(uow: UnitOfWork) -> None:
            await self._counterparty(uow.conn, company_id, counterparty_id)
            await uow.append(f"billing.counterparty-{counterparty_id}", COUNTERPARTY_STREAM,
                             None, [_checked(counterparty_id, check, actor.username)])

        await self.units.run(company_id, actor, decide)

    # ------------------------------------------------------------------ documents

    async def draft(self, ctx: CompanyContext, kind: DocumentKind, data: DocumentInput,
                    *, corrects: UUID | None = None) -> Document:
        async def decide(uow: UnitOfWork) -> Document:
            return await self._draft(uow, kind, data, corrects)

        return await self.units.run(ctx.company_id, _actor(ctx), decide)

    async def _draft(self, uow: UnitOfWork, kind: DocumentKind, data: DocumentInput,
                     corrects: UUID | None, *, append: bool = True) -> Document:
        """A new draft; ``append=False`` keeps its event pending, to be appended with the
        posting's in one round trip (``post_many``)."""
        conn, company_id = uow.conn, uow.company_id
        await self._counterparty(conn, company_id, data.counterparty_id, uow.memo)
        await self._check_open(conn, company_id, data.date, uow.memo)
        vat_payer = await self.vat_payer(conn, company_id, uow.memo)
        lines = d.check_lines(data.lines, kind, vat_payer)
        currency = (data.currency or "GEL").strip().upper()
        if currency not in ISO_CURRENCIES:
            raise d.InvalidDocument(f"{currency!r} is not an ISO 4217 currency code.",
                                    field="currency")
        rate = await self.rate(conn, currency, data.date, data.exchange_rate)
        due = data.due_date or data.date + timedelta(days=DEFAULT_TERMS_DAYS)
        if due < data.date:
            raise d.InvalidDocument("The due date is not before the document's date.",
                                    field="due_date")
        supplier_reference = (data.supplier_reference or "").strip() or None
        if supplier_reference and kind is DocumentKind.PURCHASE_BILL and \
                await queries.supplier_reference_taken(conn, company_id, data.counterparty_id,
                                                       supplier_reference):
            raise d.DuplicateSupplierReference(
                f"The supplier's bill {supplier_reference} is entered already.",
                supplier_reference=supplier_reference)
        if supplier_reference and kind is DocumentKind.PURCHASE_BILL:
            await uow.append(f"billing.supplier-ref-{company_id}-{data.counterparty_id}-"
                             f"{supplier_reference}", "billing.supplier-ref", NO_STREAM, [])
        series = (data.series or SERIES[kind]).strip().upper()
        if not series or len(series) > 10 or not series.replace("-", "").isalnum():
            raise d.InvalidDocument("series is 1 to 10 letters or digits.", field="series")
        number = await self._number(conn, company_id, series, data.date.year)
        net = sum((x.net for x in lines), d.ZERO)
        vat = sum((x.vat for x in lines), d.ZERO)
        total = sum((x.gross for x in lines), d.ZERO)
        document_id = new_id()
        event = d.DocumentDrafted(
            document_id, kind.value, number, data.counterparty_id, data.date, due, currency,
            rate, (data.reference or None), supplier_reference, corrects,
            tuple(d.line_data(x) for x in lines), net, vat, total, uow.actor.username)
        doc = Document(document_id, kind, number, data.counterparty_id, data.date, due,
                       currency, rate, event.reference, supplier_reference, corrects, lines,
                       net, vat, total)
        doc.pending.append(event)
        if append:
            await uow.append(document_stream(document_id), DOCUMENT_STREAM, NO_STREAM,
                             doc.pending)
            doc.pending, doc.version = [], 1
        return doc

    async def _number(self, conn: Connection, company_id: UUID, series: str,
                      year: int) -> str:
        cursor = await conn.execute(
            "INSERT INTO billing_numbers AS n (company_id, series, year, last_number)"
            " VALUES (%s, %s, %s, 1) ON CONFLICT (company_id, series, year)"
            " DO UPDATE SET last_number = n.last_number + 1 RETURNING last_number",
            (company_id, series, year))
        row = await cursor.fetchone()
        assert row is not None
        return f"{series}-{year}-{row['last_number']:05d}"

    async def post(self, ctx: CompanyContext, document_id: UUID,
                   kinds: tuple[DocumentKind, ...]) -> Document:
        """Post a draft: its author may, unless the company requires a second person's
        approval first (then an unapproved draft is 409 ``not_approved``)."""
        async def decide(uow: UnitOfWork) -> Document:
            doc = await self._load(uow, document_id)
            if doc.kind not in kinds:
                raise d.DocumentNotFound("No such document.", document_id=str(document_id))
            if (not doc.posted and doc.approved_by is None
                    and await self.requires_approval(uow.conn, uow.company_id)):
                raise NotApproved(f"{doc.number} needs a second person's approval first.",
                                  document_id=str(doc.id))
            await self._post(uow, doc)
            return doc

        return await self.units.run(ctx.company_id, _actor(ctx), decide)

    async def approve(self, ctx: CompanyContext, document_id: UUID,
                      kinds: tuple[DocumentKind, ...]) -> Document:
        async def decide(uow: UnitOfWork) -> Document:
            doc = await self._load(uow, document_id)
            if doc.kind not in kinds:
                raise d.DocumentNotFound("No such document.", document_id=str(document_id))
            doc.approve(uow.actor.username)
            await self._save(uow, doc)
            return doc

        return await self.units.run(ctx.company_id, _actor(ctx), decide)

    async def requires_approval(self, conn: Connection, company_id: UUID) -> bool:
        cursor = await conn.execute(
            "SELECT require_approval FROM billing_settings WHERE company_id = %s",
            (company_id,))
        row = await cursor.fetchone()
        return bool(row and row["require_approval"])

    async def change_settings(self, ctx: CompanyContext, require_approval: bool) -> None:
        async def decide(uow: UnitOfWork) -> None:
            stream = f"billing.settings-{uow.company_id}"
            await uow.append(stream, "billing.settings", await uow.version(stream), [
                d.BillingSettingsChanged(require_approval, uow.actor.username)])

        await self.units.run(ctx.company_id, _actor(ctx), decide)

    async def _post(self, uow: UnitOfWork, doc: Document) -> PostedJournal:
        if doc.posted:
            raise d.InvalidDocumentState(f"{doc.number} is posted already.",
                                         document_id=str(doc.id), status=doc.status.value)
        vat_payer = await self.vat_payer(uow.conn, uow.company_id, uow.memo)
        journal = _Journal(doc.exchange_rate)
        party = doc.counterparty_id
        sales = doc.kind.sales
        sign = -1 if doc.kind.credit else 1
        control = d.RECEIVABLES if sales else d.PAYABLES
        # The control line first: its GEL is the document's booked total.
        total_base = journal.add(control, "debit" if sales else "credit", doc.total * sign,
                                 f"{doc.number}", counterparty_id=party, document_id=doc.id)
        for line in doc.lines:
            text = line.description[:200]
            if sales:
                journal.add(line.account_code, "credit", line.net * sign, text,
                            document_id=doc.id)
                journal.add(d.OUTPUT_VAT, "credit", line.vat * sign, f"VAT {text}",
                            document_id=doc.id)
                continue
            code = line.vat_code
            if code is d.VatCode.IMPORT18:
                journal.add(d.IMPORT_VAT if vat_payer else line.account_code, "debit",
                            line.vat * sign, f"Import VAT {text}", document_id=doc.id)
                continue
            journal.add(line.account_code, "debit", line.net * sign, text, document_id=doc.id)
            if code is d.VatCode.REVERSE_CHARGE18:
                journal.add(d.REVERSE_CHARGE_INPUT if vat_payer else line.account_code,
                            "debit", line.vat * sign, f"Reverse charge {text}",
                            document_id=doc.id)
                journal.add(d.REVERSE_CHARGE_PAYABLE, "credit", line.vat * sign,
                            f"Reverse charge {text}", document_id=doc.id)
            else:
                journal.add(d.INPUT_VAT if vat_payer else line.account_code, "debit",
                            line.vat * sign, f"VAT {text}", document_id=doc.id)
        journal.balance_with(doc.lines[0].account_code)
        label = {DocumentKind.SALES_INVOICE: "Sales invoice", DocumentKind.CREDIT_NOTE:
                 "Credit note", DocumentKind.PURCHASE_BILL: "Purchase bill"}.get(
                     doc.kind, "Supplier note")
        posted = await self.ledger.post_journal(uow, JournalDraft(
            date=doc.date, description=f"{label} {doc.number}", lines=journal.lines,
            source=SourceRef(doc.kind.value, doc.id), reference=doc.number,
            currency=doc.currency, exchange_rate=doc.exchange_rate))
        doc.record(d.DocumentPosted(doc.id, doc.number, posted.id, abs(total_base),
                                    vat_payer, uow.actor.username))
        await self._save(uow, doc)
        for hook in self.document_posted:
            await hook(uow, doc)
        return posted

    async def post_many(self, ctx: CompanyContext, kind: DocumentKind,
                        documents: Sequence[DocumentInput]) -> list[Document]:
        """Draft and post many documents in one unit of work, all or none (an import of a
        month's invoices, the benchmark)."""
        async def decide(uow: UnitOfWork) -> list[Document]:
            posted = []
            for data in documents:
                doc = await self._draft(uow, kind, data, None, append=False)
                await self._post(uow, doc)
                posted.append(doc)
            return posted

        return await self.units.run(ctx.company_id, _actor(ctx), decide)

    async def credit_note(self, ctx: CompanyContext, document_id: UUID, on: date,
                          lines: Sequence[LineInput], reference: str | None = None) -> Document:
        """A posted credit note against a posted invoice (or a supplier's credit note
        against a bill), never more than what remains of it after earlier notes; it
        settles the invoice's amount due first, any excess is owed back."""
        async def decide(uow: UnitOfWork) -> Document:
            original = await self._load(uow, document_id)
            if original.kind not in (DocumentKind.SALES_INVOICE, DocumentKind.PURCHASE_BILL):
                raise d.DocumentNotFound("No such invoice or bill.",
                                         document_id=str(document_id))
            if not original.posted:
                raise d.InvalidDocumentState("Only a posted document can be credited.",
                                             document_id=str(document_id))
            kind = (DocumentKind.CREDIT_NOTE if original.kind is DocumentKind.SALES_INVOICE
                    else DocumentKind.SUPPLIER_CREDIT_NOTE)
            if on < original.date:
                raise d.InvalidDocument("A credit note is not dated before its invoice.",
                                        field="date")
            note = await self._draft(uow, kind, DocumentInput(
                original.counterparty_id, on, lines, due_date=on, currency=original.currency,
                exchange_rate=original.exchange_rate, reference=reference or original.number),
                original.id)
            remaining = original.total - original.credited
            if note.total > remaining:
                raise d.CreditExceedsInvoice(
                    f"The credit note's {note.total} is more than the {remaining} "
                    f"{original.currency} that remains of {original.number}.",
                    total=str(note.total), remaining=str(remaining))
            await self._post(uow, note)
            applied = min(note.total, original.amount_due)
            if applied > 0:
                base = original.settle(note.id, kind.value, on, applied)
                await self._save(uow, original)
                note.record(d.DocumentSettled(note.id, original.id, "applied", on, applied,
                                              base))
                await self._save(uow, note)
            return note

        return await self.units.run(ctx.company_id, _actor(ctx), decide)

    async def debit_note(self, ctx: CompanyContext, bill_id: UUID, on: date,
                         lines: Sequence[LineInput], reference: str | None) -> Document:
        """A supplier's debit note: more to pay on a bill, posted like a bill."""
        async def decide(uow: UnitOfWork) -> Document:
            bill = await self._load(uow, bill_id)
            if bill.kind is not DocumentKind.PURCHASE_BILL or not bill.posted:
                raise d.InvalidDocumentState("A debit note corrects a posted bill.",
                                             document_id=str(bill_id))
            note = await self._draft(uow, DocumentKind.SUPPLIER_DEBIT_NOTE, DocumentInput(
                bill.counterparty_id, on, lines, currency=bill.currency,
                exchange_rate=bill.exchange_rate, reference=reference, due_date=bill.due_date
                if bill.due_date >= on else on), bill.id)
            await self._post(uow, note)
            return note

        return await self.units.run(ctx.company_id, _actor(ctx), decide)

    async def document(self, company_id: UUID, document_id: UUID) -> Document:
        async with self.db.transaction(company_id=company_id) as conn:
            uow = UnitOfWork(conn, self.db, self.units.events, company_id,
                             Actor(UUID(int=0), "reader"))
            return await self._load(uow, document_id)

    async def invoice_pdf(self, company_id: UUID, document_id: UUID,
                          lang: str) -> tuple[bytes, str]:
        """The printable sales invoice or credit note (PDF) in ``ka`` or ``en``, and the
        document's number (for the web application, which may not import the renderer)."""
        from saldo.billing.render import invoice_pdf as render

        doc = await self.document(company_id, document_id)
        if not doc.kind.sales:
            raise d.DocumentNotFound("No such invoice.", document_id=str(document_id))
        data = await self.print_data(company_id, doc)
        return render(data, "en" if lang == "en" else "ka"), doc.number

    async def print_data(self, company_id: UUID, doc: Document) -> dict[str, Any]:
        """What the printable invoice shows: seller, buyer (with tax ids), lines, totals."""
        async with self.db.transaction(company_id=company_id) as conn:
            company = await identity_queries.company_settings(conn, company_id)
            buyer = await queries.counterparty(conn, company_id, doc.counterparty_id)
            corrects = (await queries.document(conn, company_id, doc.corrects)
                        if doc.corrects else None)
        assert company is not None
        assert buyer is not None
        return {"kind": doc.kind.value, "number": doc.number, "date": doc.date.isoformat(),
                "due_date": doc.due_date.isoformat(), "currency": doc.currency,
                "corrects_number": corrects["number"] if corrects else None,
                "seller": {"name": company["name"], "tax_id": company["tax_id"]},
                "buyer": {"name": buyer["name"], "tax_id": buyer["tax_id"],
                          "iban": buyer["iban"]},
                "lines": [d.line_data(x) for x in doc.lines], "net_total": str(doc.net_total),
                "vat_total": str(doc.vat_total), "total": str(doc.total)}

    # ------------------------------------------------------------------ payments

    async def record_payment(self, ctx: CompanyContext, draft: PaymentDraft) -> PaymentResult:
        async def decide(uow: UnitOfWork) -> PaymentResult:
            return await self.pay(uow, draft)

        return await self.units.run(ctx.company_id, _actor(ctx), decide)

    async def pay(self, uow: UnitOfWork, draft: PaymentDraft) -> PaymentResult:
        """Record a payment in the caller's unit of work (banking reconciles a statement
        line through this): allocations to documents of the same counterparty and
        currency, never more than each one's amount due; the remainder is an advance."""
        conn, company_id = uow.conn, uow.company_id
        await self._counterparty(conn, company_id, draft.counterparty_id, uow.memo)
        await self._check_open(conn, company_id, draft.date, uow.memo)
        amount = d.positive_amount(draft.amount, "amount")
        currency = (draft.currency or "GEL").strip().upper()
        if currency not in ISO_CURRENCIES:
            raise d.InvalidDocument(f"{currency!r} is not an ISO 4217 currency code.",
                                    field="currency")
        rate = await self.rate(conn, currency, draft.date, draft.exchange_rate)
        direction = Direction(draft.direction)
        journal = _Journal(rate)
        payment_id = new_id()
        allocations, allocated = await self._allocate(
            uow, journal, payment_id, draft.counterparty_id, direction, currency, draft.date,
            draft.allocations)
        if allocated > amount:
            raise d.OverAllocation(f"The allocations ({allocated}) exceed the payment "
                                   f"({amount}).", amount=str(amount),
                                   allocated=str(allocated))
        unallocated = amount - allocated
        vat_payer = await self.vat_payer(conn, company_id, uow.memo)
        charge_vat = draft.advance_vat if draft.advance_vat is not None else vat_payer
        advance_vat = d.ZERO
        party = draft.counterparty_id
        if direction is Direction.IN:
            journal.add(draft.account_code, "debit", amount, "Payment received")
            if unallocated:
                if charge_vat:
                    advance_vat = d.advance_vat(unallocated)
                journal.add(d.ADVANCES_RECEIVED, "credit", unallocated - advance_vat,
                            "Advance received", counterparty_id=party, document_id=payment_id)
                journal.add(d.OUTPUT_VAT_ADVANCES, "credit", advance_vat,
                            "VAT on advance received", document_id=payment_id)
        else:
            journal.add(draft.account_code, "credit", amount, "Payment made")
            journal.add(d.ADVANCES_PAID, "debit", unallocated, "Advance paid",
                        counterparty_id=party, document_id=payment_id)
        journal.balance_with(draft.account_code)
        posted = await self.ledger.post_journal(uow, JournalDraft(
            date=draft.date, description=f"Payment {direction.value}"
            + (f" {draft.reference}" if draft.reference else ""), lines=journal.lines,
            source=SourceRef("payment", payment_id), reference=draft.reference,
            currency=currency, exchange_rate=rate))
        event = d.PaymentRecorded(
            payment_id, party, draft.date, direction.value, amount, currency, rate,
            draft.account_code, draft.reference, tuple(allocations), unallocated,
            advance_vat, posted.id, uow.actor.username)
        await uow.append(payment_stream(payment_id), PAYMENT_STREAM, NO_STREAM, [event])
        return PaymentResult(payment_id, posted.id, event)

    async def _allocate(self, uow: UnitOfWork, journal: _Journal, payment_id: UUID,
                        counterparty_id: UUID, direction: Direction, currency: str,
                        on: date, raw: Sequence[AllocationInput]
                        ) -> tuple[list[dict[str, Any]], Decimal]:
        allocations: list[dict[str, Any]] = []
        total = d.ZERO
        seen: set[UUID] = set()
        for i, allocation in enumerate(raw):
            where = f"allocations[{i}]"
            amount = d.positive_amount(allocation.amount, f"{where}.amount")
            if allocation.document_id in seen:
                raise d.AllocationMismatch(f"{where}: the document is allocated twice.",
                                           field=where)
            seen.add(allocation.document_id)
            doc = await self._load(uow, allocation.document_id)
            if doc.counterparty_id != counterparty_id:
                raise d.AllocationMismatch(
                    f"{where}: {doc.number} is another counterparty's document.",
                    field=where, document_id=str(doc.id))
            if doc.currency != currency:
                raise d.AllocationMismatch(
                    f"{where}: {doc.number} is in {doc.currency}, the payment in {currency}.",
                    field=where, document_id=str(doc.id))
            if doc.date > on:
                raise d.AllocationMismatch(
                    f"{where}: {doc.number} is dated {doc.date}, after the payment: take the "
                    "payment as an advance and apply it on or after that date.",
                    field=where, document_id=str(doc.id))
            receives = doc.kind in (DocumentKind.SALES_INVOICE,
                                    DocumentKind.SUPPLIER_CREDIT_NOTE)
            if receives != (direction is Direction.IN):
                raise d.AllocationMismatch(
                    f"{where}: a payment {direction.value} does not settle a {doc.kind.value}.",
                    field=where, document_id=str(doc.id))
            relieved = doc.settle(payment_id, "payment", on, amount)
            await self._save(uow, doc)
            control = d.RECEIVABLES if doc.kind.sales else d.PAYABLES
            side = "credit" if direction is Direction.IN else "debit"
            paid_base = journal.add(control, side, amount, f"{doc.number}",
                                    counterparty_id=counterparty_id, document_id=doc.id)
            _exchange_difference(journal, control, side, relieved - paid_base, doc,
                                 counterparty_id)
            allocations.append({"document_id": str(doc.id), "number": doc.number,
                                "amount": str(amount), "amount_base": str(relieved)})
            total += amount
        return allocations, total

    async def apply_advance(self, ctx: CompanyContext, payment_id: UUID, on: date,
                            raw: Sequence[AllocationInput]) -> d.AdvanceApplied:
        """Allocate a payment's unallocated remainder (an advance) to documents; for an
        advance received with VAT, the VAT on the advance is offset at supply (§1.5)."""
        async def decide(uow: UnitOfWork) -> d.AdvanceApplied:
            events = await uow.read(payment_stream(payment_id))
            if not events:
                raise d.PaymentNotFound("No such payment.", payment_id=str(payment_id))
            first = d.PaymentRecorded.from_data(events[0].data)
            unallocated, vat_left = first.unallocated, first.advance_vat
            for e in events[1:]:
                if e.type == d.PaymentReversed.type:
                    raise d.PaymentAlreadyReversed("The payment is reversed.",
                                                   payment_id=str(payment_id))
                applied = d.AdvanceApplied.from_data(e.data)
                unallocated -= applied.amount
                vat_left -= applied.advance_vat
            await self._check_open(uow.conn, uow.company_id, on)
            if on < first.date:
                raise d.InvalidDocument("An advance is applied on or after its payment.",
                                        field="date")
            direction = Direction(first.direction)
            journal = _Journal(first.exchange_rate)
            allocations, amount = await self._allocate(
                uow, journal, payment_id, first.counterparty_id, direction, first.currency,
                on, raw)
            if amount > unallocated:
                raise d.OverAllocation(f"{amount} is more than the {unallocated} left of the "
                                       "advance.", unallocated=str(unallocated))
            party = first.counterparty_id
            vat = vat_left if amount == unallocated else min(vat_left, d.advance_vat(amount))
            if direction is Direction.IN:
                journal.add(d.ADVANCES_RECEIVED, "debit", amount - vat, "Advance applied",
                            counterparty_id=party, document_id=payment_id)
                journal.add(d.OUTPUT_VAT_ADVANCES, "debit", vat, "VAT on advance offset",
                            document_id=payment_id)
            else:
                journal.add(d.ADVANCES_PAID, "credit", amount, "Advance applied",
                            counterparty_id=party, document_id=payment_id)
            journal.balance_with(d.ADVANCES_RECEIVED if direction is Direction.IN
                                 else d.ADVANCES_PAID)
            posted = await self.ledger.post_journal(uow, JournalDraft(
                date=on, description="Advance applied", lines=journal.lines,
                source=SourceRef("payment", payment_id), currency=first.currency,
                exchange_rate=first.exchange_rate))
            event = d.AdvanceApplied(payment_id, on, tuple(allocations), amount, vat,
                                     posted.id, uow.actor.username)
            await uow.append(payment_stream(payment_id), PAYMENT_STREAM, len(events), [event])
            return event

        return await self.units.run(ctx.company_id, _actor(ctx), decide)


    async def reverse_payment(self, ctx: CompanyContext, payment_id: UUID, reason: str,
                              on: date | None = None) -> d.PaymentReversed:
        async def decide(uow: UnitOfWork) -> d.PaymentReversed:
            return await self.cancel_payment(uow, payment_id, reason, on)

        return await self.units.run(ctx.company_id, _actor(ctx), decide)

    async def cancel_payment(self, uow: UnitOfWork, payment_id: UUID, reason: str,
                             on: date | None = None) -> d.PaymentReversed:
        """Reverse a payment in the caller's unit of work (banking unreconciles a line
        through this): its journal transaction and those of the advance applied since are
        reversed (the mirror image: a realised exchange difference goes with it), every
        document it settled gets its amount due back, the advance left is removed.

        Dated ``on``, else the payment's (or its last application's) date; a day in a
        closed or locked period is refused (422 period_closed): give a date in an open one
        (docs/decisions/0030)."""
        events = await uow.read(payment_stream(payment_id))
        if not events:
            raise d.PaymentNotFound("No such payment.", payment_id=str(payment_id))
        first = d.PaymentRecorded.from_data(events[0].data)
        applied: list[d.AdvanceApplied] = []
        for e in events[1:]:
            if e.type == d.PaymentReversed.type:
                raise d.PaymentAlreadyReversed("The payment is reversed already.",
                                               payment_id=str(payment_id))
            applied.append(d.AdvanceApplied.from_data(e.data))
        reason = reason.strip()
        if not reason or len(reason) > 500:
            raise d.InvalidDocument("A reversal needs a reason of 1 to 500 characters.",
                                    field="reason")
        latest = max([first.date, *(a.date for a in applied)])
        day = on or latest
        if day < latest:
            raise d.InvalidDocument(f"The reversal is dated {day}, before the payment or its "
                                    f"last application ({latest}).", field="date")
        await self._check_open(uow.conn, uow.company_id, day, uow.memo)
        freed: dict[str, tuple[Decimal, Decimal]] = {}
        for allocation in [*first.allocations, *(x for a in applied for x in a.allocations)]:
            amount, base = freed.get(allocation["document_id"], (d.ZERO, d.ZERO))
            freed[allocation["document_id"]] = (amount + Decimal(allocation["amount"]),
                                                 base + Decimal(allocation["amount_base"]))
        note = f"Payment reversed: {reason}"[:500]
        reversals = [(await self.ledger.reverse_journal(uow, tx, note, day)).id
                     for tx in [first.transaction_id, *(a.transaction_id for a in applied)]]
        allocations = []
        for document_id, (amount, base) in freed.items():
            doc = await self._load(uow, UUID(document_id))
            doc.unsettle(payment_id, "payment", day, amount, base)
            await self._save(uow, doc)
            allocations.append({"document_id": document_id, "number": doc.number,
                                "amount": str(amount), "amount_base": str(base)})
        event = d.PaymentReversed(payment_id, day, reason, reversals[0],
                                  tuple(str(r) for r in reversals), tuple(allocations),
                                  uow.actor.username,
                                  tuple(str(a.transaction_id) for a in applied))
        await uow.append(payment_stream(payment_id), PAYMENT_STREAM, len(events), [event])
        return event


def _exchange_difference(journal: _Journal, control: str, side: str, difference: Decimal,
                         doc: Document, counterparty_id: UUID) -> None:
    """The realised exchange difference of a settlement (IAS 21.28): the control account
    is relieved of the GEL the document was booked at; the difference to the GEL the
    payment brings is a gain (8140) or a loss (8240)."""
    if difference == 0:
        return
    other = "debit" if side == "credit" else "credit"
    control_side, pl_side = (side, other) if difference > 0 else (other, side)
    amount = abs(difference)
    journal.fx(control, control_side, amount, f"Exchange difference {doc.number}",
               counterparty_id=counterparty_id, document_id=doc.id)
    journal.fx(d.FX_LOSS if pl_side == "debit" else d.FX_GAIN, pl_side, amount,
               f"Exchange difference {doc.number}")


class NotApproved(d.InvalidDocumentState):
    code = "not_approved"
    title = "Approval required"


class PeriodNotOpen(RuleViolation):
    code = "period_closed"
    title = "Period closed"


async def official_rate(conn: Connection, currency: str, day: date) -> Decimal:
    """The NBG rate in effect on ``day`` (the fx context's ``rate_in_effect``): the latest
    published for a day on or before it (georgia.md §7)."""
    found = await fx_queries.rate_in_effect(conn, currency, day)
    if found is None:
        raise RateNotFound(f"No exchange rate for {currency} on {day}: load the NBG rates or "
                           f"give exchange_rate (GEL per one {currency}).", currency=currency,
                           date=day.isoformat())
    return found.rate


class RateNotFound(RuleViolation):
    code = "rate_not_found"
    title = "No exchange rate"


def month_bounds(period: str) -> tuple[date, date]:
    year, month = int(period[:4]), int(period[5:7])
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


#: The VAT codes as ``GET …/vat-codes`` lists them: accounts from the ge-standard chart,
#: boxes after Odoo's Annex A tags (UNCONFIRMED box numbers, georgia.md §1.3).
VAT_CODE_TABLE: list[dict[str, Any]] = [
    {"code": c.code.value, "meaning": c.label, "meaning_ka": c.label_ka, "rate": str(c.rate),
     "sales": c.sales, "purchases": c.purchases,
     "output_account": {"vat18": d.OUTPUT_VAT, "reverse_charge18": d.REVERSE_CHARGE_PAYABLE
                        }.get(c.code.value),
     "input_account": {"vat18": d.INPUT_VAT, "import18": d.IMPORT_VAT,
                       "reverse_charge18": d.REVERSE_CHARGE_INPUT}.get(c.code.value),
     "box": {"vat18": "1 / 24", "export0": "17", "exempt_credit": "16", "exempt": "20",
             "reverse_charge18": "21 / 27", "import18": "25"}.get(c.code.value)}
    for c in d.VAT_CODES.values()]

