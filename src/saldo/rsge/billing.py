"""What the rs.ge exchange needs of billing, as a small protocol.

Billing (sales invoices, purchase bills, counterparties) is its own context below this
one. The exchange reads a posted invoice's content, finds purchase bills to match incoming
e-invoices against, offers a draft bill, and hears of new counterparties -- nothing more.
:class:`NoBilling` answers while billing is not registered (every document is unknown);
the adapter to ``saldo.billing`` is built in ``saldo.rsge.context`` when it is.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

from saldo.billing import queries as billing_queries
from saldo.billing.service import (
    BillingService,
    CounterpartyInput,
    DocumentInput,
    DocumentKind,
    LineInput,
    TaxIdCheck,
)
from saldo.identity.service import CompanyContext
from saldo.kernel.errors import NotFound, RuleViolation
from saldo.kernel.events import Actor
from saldo.kernel.money import round_half_up
from saldo.platform.db import Connection
from saldo.platform.uow import UnitOfWork, UnitsOfWork
from saldo.rsge.domain import (
    BillCandidate,
    CorrectionType,
    IncomingInvoice,
    InvoiceForRs,
    InvoiceLine,
    WaybillLine,
)


class BillingPort(Protocol):
    #: Billing's event types whose recording queues an e-invoice (a sales invoice or a
    #: credit note posted), and how to read the document id from such an event.
    queue_event_types: frozenset[str]

    def document_of(self, event_type: str, data: dict[str, object]) -> UUID | None: ...

    async def invoice_for_rs(self, conn: Connection, company_id: UUID,
                             document_id: UUID) -> InvoiceForRs | None:
        """The posted sales invoice (or credit note) as rs.ge takes it; None if unknown
        or not posted."""

    async def goods_lines(self, conn: Connection, company_id: UUID,
                          document_id: UUID) -> list[WaybillLine] | None:
        """A sales invoice's goods lines for a waybill (services left out)."""

    async def bill_candidates(self, conn: Connection, company_id: UUID,
                              supplier_tax_id: str) -> list[BillCandidate]:
        """The supplier's purchase bills not yet matched to an e-invoice."""

    async def draft_bill(self, ctx: CompanyContext, invoice: IncomingInvoice) -> UUID:
        """A draft purchase bill made from an incoming e-invoice; its id."""

    async def register_counterparty(self, ctx: CompanyContext, name: str, tax_id: str,
                                    vat_payer: bool, detail: str = "") -> UUID:
        """A counterparty registered with what rs.ge said of its tax id (recorded as a
        verified check)."""

    async def pending_checks(self, conn: Connection, company_id: UUID) -> list[tuple[UUID, str]]:
        """Counterparties (id, tax id) whose tax-id check waits for rs.ge."""

    async def counterparty_tax_id(self, conn: Connection, company_id: UUID,
                                  counterparty_id: UUID) -> str | None:
        """A counterparty's Georgian tax id (None: none, or a foreign one); raises
        not-found for an unknown counterparty."""

    async def record_check(self, company_id: UUID, actor: Actor, counterparty_id: UUID,
                           check: TaxIdCheck) -> None:
        """Record a later tax-id check on the counterparty."""


class NoBilling:
    """Billing is not registered: no document is known, nothing can be drafted."""

    queue_event_types: frozenset[str] = frozenset()

    def document_of(self, event_type: str, data: dict[str, object]) -> UUID | None:
        return None

    async def invoice_for_rs(self, conn: Connection, company_id: UUID,
                             document_id: UUID) -> InvoiceForRs | None:
        return None

    async def goods_lines(self, conn: Connection, company_id: UUID,
                          document_id: UUID) -> list[WaybillLine] | None:
        return None

    async def bill_candidates(self, conn: Connection, company_id: UUID,
                              supplier_tax_id: str) -> list[BillCandidate]:
        return []

    async def draft_bill(self, ctx: CompanyContext, invoice: IncomingInvoice) -> UUID:
        raise RuleViolation("Purchase bills are not available in this installation.")

    async def register_counterparty(self, ctx: CompanyContext, name: str, tax_id: str,
                                    vat_payer: bool, detail: str = "") -> UUID:
        raise RuleViolation("Counterparties are not available in this installation.")

    async def pending_checks(self, conn: Connection, company_id: UUID) -> list[tuple[UUID, str]]:
        return []

    async def counterparty_tax_id(self, conn: Connection, company_id: UUID,
                                  counterparty_id: UUID) -> str | None:
        raise NotFound("Counterparties are not available in this installation.")

    async def record_check(self, company_id: UUID, actor: Actor, counterparty_id: UUID,
                           check: TaxIdCheck) -> None:
        raise RuleViolation("Counterparties are not available in this installation.")


# ---------------------------------------------------------------------- the adapter

#: The account a draft bill's line is booked to until the accountant changes it: goods
#: for resale (ge-standard chart 1610).
DRAFT_BILL_ACCOUNT = "1610"


def _gel(amount: Decimal, currency: str, rate: Decimal) -> Decimal:
    """rs.ge takes amounts in GEL: a foreign-currency document at its booked rate."""
    return amount if currency == "GEL" else round_half_up(amount * rate)


def _lines(rows: list[dict[str, Any]], currency: str, rate: Decimal,
           sign: int = 1) -> dict[str, list[Decimal]]:
    """Lines by description: [quantity, gross, VAT] (gross = net + VAT, in GEL)."""
    out: dict[str, list[Decimal]] = {}
    for line in rows:
        net, vat = Decimal(line["net"]), Decimal(line["vat"])
        key = str(line["description"])
        got = out.setdefault(key, [Decimal(0), Decimal(0), Decimal(0)])
        got[0] += sign * Decimal(line["quantity"])
        got[1] += sign * _gel(net + vat, currency, rate)
        got[2] += sign * _gel(vat, currency, rate)
    return out


class BillingAdapter:
    """The exchange's view of ``saldo.billing``."""

    #: Billing records ``DocumentPosted`` for every document it posts; the outbox keeps
    #: sales invoices and credit notes (``invoice_for_rs`` is None for the others).
    queue_event_types: frozenset[str] = frozenset({"DocumentPosted"})

    def __init__(self, units: UnitsOfWork, service: BillingService) -> None:
        self.units, self.service = units, service

    def document_of(self, event_type: str, data: dict[str, object]) -> UUID | None:
        value = data.get("document_id")
        return UUID(str(value)) if value else None

    async def invoice_for_rs(self, conn: Connection, company_id: UUID,
                             document_id: UUID) -> InvoiceForRs | None:
        row = await billing_queries.document(conn, company_id, document_id)
        if row is None or row["kind"] not in ("sales_invoice", "credit_note") or \
                row["status"] == "draft":
            return None
        currency, rate = row["currency"], Decimal(row["exchange_rate"])
        corrects, correction_type = None, None
        if row["kind"] == "sales_invoice":
            grouped = _lines(list(row["lines"]), currency, rate)
        else:
            # A credit note goes to rs.ge as the corrected invoice (k_invoice): the
            # original's lines less every note up to this one, by description; what is
            # credited entirely is cancelled (type 1), anything else is type 3 "price
            # changed or other" (georgia.md §1.6). UNCONFIRMED: how rs.ge wants a
            # partial return shown; docs/rs-ge.md.
            original = await billing_queries.document(conn, company_id, row["corrects"])
            if original is None:
                return None
            corrects = original["id"]
            grouped = _lines(list(original["lines"]), currency, rate)
            for note_id in await billing_queries.notes_of(conn, company_id, corrects):
                note = await billing_queries.document(conn, company_id, note_id)
                if note is None or note["status"] == "draft":
                    continue
                for key, (qty, gross, vat) in _lines(list(note["lines"]), currency, rate,
                                                     -1).items():
                    got = grouped.setdefault(key, [Decimal(0), Decimal(0), Decimal(0)])
                    got[0] += qty
                    got[1] += gross
                    got[2] += vat
                if note_id == document_id:
                    break
            left = {k: v for k, v in grouped.items() if v[1] != 0}
            correction_type = (CorrectionType.OPERATION_CANCELLED if not left
                               else CorrectionType.PRICE_CHANGED)
            grouped = left or {k: [Decimal(0), Decimal(0), Decimal(0)] for k in grouped}
        lines = tuple(InvoiceLine(goods, "ცალი", qty if qty > 0 else Decimal(1), gross, vat)
                      for goods, (qty, gross, vat) in grouped.items())
        return InvoiceForRs(document_id, row["number"], row["date"],
                            row["counterparty_tax_id"] or "", row["counterparty_name"], lines,
                            corrects, correction_type)

    async def goods_lines(self, conn: Connection, company_id: UUID,
                          document_id: UUID) -> list[WaybillLine] | None:
        row = await billing_queries.document(conn, company_id, document_id)
        if row is None or row["kind"] != "sales_invoice" or row["status"] == "draft":
            return None
        # Waybill prices are the invoice's unit prices (net of VAT), so AMOUNT =
        # QUANTITY × PRICE holds line by line; the bar code is the line's number.
        return [WaybillLine(str(line["description"]), 99, "ცალი", Decimal(line["quantity"]),
                            Decimal(line["unit_price"]), f"{row['number']}-{n}")
                for n, line in enumerate(row["lines"], 1)]

    async def bill_candidates(self, conn: Connection, company_id: UUID,
                              supplier_tax_id: str) -> list[BillCandidate]:
        supplier = await billing_queries.counterparty_by_tax_id(conn, company_id,
                                                                supplier_tax_id)
        if supplier is None:
            return []
        bills = await billing_queries.documents(conn, company_id, ("purchase_bill",),
                                                counterparty_id=supplier["id"], limit=1000)
        return [BillCandidate(b["id"], supplier_tax_id,
                              b["supplier_reference"] or b["number"], b["total"],
                              posted=b["status"] != "draft")
                for b in bills]

    async def draft_bill(self, ctx: CompanyContext, invoice: IncomingInvoice) -> UUID:
        async def find(uow: UnitOfWork) -> dict[str, Any] | None:
            return await billing_queries.counterparty_by_tax_id(
                uow.conn, ctx.company_id, invoice.supplier_tax_id)

        actor = Actor(ctx.user.id, ctx.user.username)
        supplier = await self.units.run(ctx.company_id, actor, find)
        supplier_id = supplier["id"] if supplier else await self.register_counterparty(
            ctx, invoice.supplier_name or invoice.supplier_tax_id, invoice.supplier_tax_id,
            invoice.vat > 0, f"from its e-invoice {invoice.reference} on rs.ge")
        net = invoice.total - invoice.vat
        doc = await self.service.draft(ctx, DocumentKind.PURCHASE_BILL, DocumentInput(
            supplier_id, invoice.date,
            [LineInput(f"rs.ge e-invoice {invoice.reference}", "1", str(net),
                       "vat18" if invoice.vat > 0 else "exempt", DRAFT_BILL_ACCOUNT)],
            supplier_reference=invoice.reference))
        return doc.id

    async def register_counterparty(self, ctx: CompanyContext, name: str, tax_id: str,
                                    vat_payer: bool, detail: str = "") -> UUID:
        # What rs.ge said is passed on as the check: billing does not ask again.
        return await self.service.register_counterparty(
            ctx, CounterpartyInput(name=name, tax_id=tax_id, vat_payer=vat_payer),
            checked=TaxIdCheck("verified", "rs.ge", name, vat_payer, detail))

    async def pending_checks(self, conn: Connection, company_id: UUID) -> list[tuple[UUID, str]]:
        return [(r["id"], r["tax_id"]) for r in
                await billing_queries.pending_tax_id_checks(conn, company_id)]

    async def counterparty_tax_id(self, conn: Connection, company_id: UUID,
                                  counterparty_id: UUID) -> str | None:
        row = await billing_queries.counterparty(conn, company_id, counterparty_id)
        if row is None:
            raise NotFound("No such counterparty.", counterparty_id=str(counterparty_id))
        return str(row["tax_id"]) if row["tax_id"] and row["country"].strip() == "GE" else None

    async def record_check(self, company_id: UUID, actor: Actor, counterparty_id: UUID,
                           check: TaxIdCheck) -> None:
        await self.service.record_tax_id_check(company_id, actor, counterparty_id, check)
