"""Billing's HTTP edge (../shared/api/v1.md: Counterparties, Sales invoices and purchase
bills, Payments, Sub-ledger reports). Amounts travel as strings, parsed exactly."""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, cast
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field, WithJsonSchema

from saldo.billing import domain as d
from saldo.billing import queries
from saldo.billing.domain import Document, DocumentKind
from saldo.billing.service import (
    AllocationInput,
    BillingService,
    CounterpartyInput,
    DocumentInput,
    LineInput,
    PaymentDraft,
)
from saldo.identity.api import CompanyContext, Permission, require
from saldo.kernel.money import amount_text
from saldo.platform.http import Bool, Date, ExactJsonBody, StrictRoute, Text, problem_responses


async def billing_service(request: Request) -> BillingService:
    return cast(BillingService, request.app.state.billing)


Billing = Annotated[BillingService, Depends(billing_service)]
Reader = Annotated[CompanyContext, Depends(require(Permission.DOCUMENTS_READ))]
Writer = Annotated[CompanyContext, Depends(require(Permission.DOCUMENTS_WRITE))]
Approver = Annotated[CompanyContext, Depends(require(Permission.DOCUMENTS_APPROVE))]
AmountIn = Annotated[Any, WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}],
                                          "examples": ["1180.00"]})]
_ERRORS = (400, 401, 403, 404, 422)


def _money(value: Decimal) -> str:
    return amount_text(value)


# ---------------------------------------------------------------------- shapes


class CounterpartyIn(BaseModel):
    name: Text = Field(min_length=1, max_length=200)
    tax_id: Text | None = Field(default=None, max_length=30)
    country: Text = Field(default="GE", min_length=2, max_length=2)
    vat_payer: Bool = False
    resident: Bool | None = None
    iban: Text | None = Field(default=None, max_length=40)
    email: Text | None = Field(default=None, max_length=200)
    phone: Text | None = Field(default=None, max_length=50)
    address: Text | None = Field(default=None, max_length=500)


class CounterpartyOut(BaseModel):
    id: UUID
    name: str
    tax_id: str | None
    country: str
    resident: bool
    vat_payer: bool
    iban: str | None
    bank_bic: str | None
    bank_name: str | None
    email: str | None
    phone: str | None
    address: str | None
    tax_id_check: str | None = Field(default=None, description=(
        "The tax id checked on rs.ge when created (decision 0063): verified, pending "
        "(rs.ge could not be asked; asked again), failed (the service user was refused), "
        "not_registered; null when not checked"))
    tax_id_check_detail: str | None = None
    tax_id_checked_at: dt.datetime | None = None


class CounterpartyPage(BaseModel):
    items: list[CounterpartyOut]
    next_cursor: str | None


class LineIn(BaseModel):
    description: Text = Field(default="", max_length=500)
    quantity: AmountIn
    unit_price: AmountIn
    vat_code: Text = Field(max_length=30)
    account_code: Text | None = Field(default=None, max_length=40)

    def line(self) -> LineInput:
        return LineInput(self.description, self.quantity, self.unit_price, self.vat_code,
                         self.account_code)


class InvoiceIn(BaseModel):
    customer_id: UUID
    date: Date
    due_date: Date | None = None
    currency: Text | None = Field(default=None, max_length=3)
    exchange_rate: AmountIn = None
    reference: Text | None = Field(default=None, max_length=100)
    series: Text | None = Field(default=None, max_length=10)
    lines: list[LineIn] = Field(max_length=d.MAX_LINES)


class BillIn(BaseModel):
    supplier_id: UUID
    date: Date
    due_date: Date | None = None
    supplier_reference: Text | None = Field(default=None, max_length=100)
    currency: Text | None = Field(default=None, max_length=3)
    exchange_rate: AmountIn = None
    reference: Text | None = Field(default=None, max_length=100)
    series: Text | None = Field(default=None, max_length=10)
    lines: list[LineIn] = Field(max_length=d.MAX_LINES)


class NoteIn(BaseModel):
    date: Date
    reference: Text | None = Field(default=None, max_length=100)
    lines: list[LineIn] = Field(max_length=d.MAX_LINES)


class LineOut(BaseModel):
    description: str
    quantity: str
    unit_price: str
    vat_code: str
    account_code: str
    net: str
    vat: str


class DocumentOut(BaseModel):
    id: UUID
    kind: str
    number: str
    status: str
    counterparty_id: UUID
    customer_id: UUID | None = None
    supplier_id: UUID | None = None
    date: dt.date
    due_date: dt.date
    currency: str
    exchange_rate: str
    reference: str | None
    supplier_reference: str | None
    corrects: UUID | None
    lines: list[LineOut]
    net_total: str
    vat_total: str
    total: str
    amount_due: str
    total_base: str
    transaction_id: UUID | None
    created_by: str = ""
    approved_by: str | None = None


class SettingsIn(BaseModel):
    require_approval: Bool


class SettingsOut(BaseModel):
    require_approval: bool


class DocumentPage(BaseModel):
    items: list[DocumentOut]


class AllocationIn(BaseModel):
    document_id: UUID
    amount: AmountIn


class PaymentIn(BaseModel):
    counterparty_id: UUID
    date: Date
    direction: d.Direction
    amount: AmountIn
    currency: Text | None = Field(default=None, max_length=3)
    exchange_rate: AmountIn = None
    account_code: Text = Field(default=d.DEFAULT_BANK, max_length=40)
    reference: Text | None = Field(default=None, max_length=100)
    advance_vat: Bool | None = Field(default=None, description=(
        "Charge VAT (18/118) on the unallocated part of a receipt, an advance; default: "
        "when the company is a VAT payer"))
    allocations: list[AllocationIn] = Field(default_factory=list, max_length=500)


class ApplyIn(BaseModel):
    date: Date
    allocations: list[AllocationIn] = Field(min_length=1, max_length=500)


class AllocationOut(BaseModel):
    document_id: UUID
    number: str
    amount: str
    amount_base: str


class ReversePaymentIn(BaseModel):
    reason: Text = Field(min_length=1, max_length=500)
    date: Date | None = Field(default=None, description=(
        "The reversal's date: default the payment's (or its last application's); a day "
        "in a closed period is refused (period_closed)"))


class PaymentReversalOut(BaseModel):
    payment_id: UUID
    status: str = "reversed"
    date: dt.date
    #: The reversal of the payment's journal transaction.
    transaction_id: UUID
    #: Every reversal posted: the payment's, then those of the advance applications.
    reversals: list[UUID]
    #: What each document settled by the payment has due again.
    allocations: list[AllocationOut]


class PaymentOut(BaseModel):
    id: UUID
    status: str = "posted"
    counterparty_id: UUID
    date: dt.date
    direction: str
    amount: str
    currency: str
    exchange_rate: str
    account_code: str
    reference: str | None
    allocations: list[AllocationOut]
    unallocated: str
    advance_vat: str
    transaction_id: UUID
    reversal_transaction_id: UUID | None = None


class AgingRow(BaseModel):
    counterparty_id: UUID
    name: str
    not_due: str
    days_1_30: str
    days_31_60: str
    days_61_90: str
    days_over_90: str
    total: str


class AgingTotals(BaseModel):
    not_due: str
    days_1_30: str
    days_31_60: str
    days_61_90: str
    days_over_90: str
    total: str


class AgingOut(BaseModel):
    as_of: dt.date
    currency: str = "GEL"
    rows: list[AgingRow]
    totals: AgingTotals


class OpenItemOut(BaseModel):
    document_id: UUID
    kind: str
    number: str
    counterparty_id: UUID
    date: dt.date
    due_date: dt.date
    currency: str
    amount_due: str
    total: str


class StatementLine(BaseModel):
    date: dt.date
    kind: str
    number: str
    document_id: UUID
    debit: str
    credit: str
    balance: str


class StatementOut(BaseModel):
    counterparty_id: UUID
    name: str
    date_from: dt.date | None
    date_to: dt.date
    opening: str
    lines: list[StatementLine]
    closing: str


def document_out(doc: Document) -> DocumentOut:
    sales = doc.kind.sales
    return DocumentOut(
        id=doc.id, kind=doc.kind.value, number=doc.number, status=doc.status.value,
        counterparty_id=doc.counterparty_id,
        customer_id=doc.counterparty_id if sales else None,
        supplier_id=None if sales else doc.counterparty_id,
        date=doc.date, due_date=doc.due_date, currency=doc.currency,
        exchange_rate=str(doc.exchange_rate), reference=doc.reference,
        supplier_reference=doc.supplier_reference, corrects=doc.corrects,
        lines=[LineOut(description=x.description, quantity=str(x.quantity),
                       unit_price=str(x.unit_price), vat_code=x.vat_code.value,
                       account_code=x.account_code, net=_money(x.net), vat=_money(x.vat))
               for x in doc.lines],
        net_total=_money(doc.net_total), vat_total=_money(doc.vat_total),
        total=_money(doc.total), amount_due=_money(doc.amount_due),
        total_base=_money(doc.total_base), transaction_id=doc.transaction_id,
        created_by=doc.created_by, approved_by=doc.approved_by)


def document_from_row(row: dict[str, Any]) -> DocumentOut:
    """A listed document, from the read model (no stream replay per row)."""
    sales = row["kind"] in ("sales_invoice", "credit_note")
    posted = row["transaction_id"] is not None
    return DocumentOut(
        id=row["id"], kind=row["kind"], number=row["number"], status=row["status"],
        counterparty_id=row["counterparty_id"],
        customer_id=row["counterparty_id"] if sales else None,
        supplier_id=None if sales else row["counterparty_id"],
        date=row["date"], due_date=row["due_date"], currency=row["currency"].strip(),
        exchange_rate=str(row["exchange_rate"]), reference=row["reference"],
        supplier_reference=row["supplier_reference"], corrects=row["corrects"],
        lines=[LineOut(description=x["description"], quantity=x["quantity"],
                       unit_price=x["unit_price"], vat_code=x["vat_code"],
                       account_code=x["account_code"], net=_money(Decimal(x["net"])),
                       vat=_money(Decimal(x["vat"]))) for x in row["lines"]],
        net_total=_money(row["net_total"]), vat_total=_money(row["vat_total"]),
        total=_money(row["total"]),
        amount_due=_money(row["total"] - row["settled"] if posted else row["total"]),
        total_base=_money(row["total_base"]), transaction_id=row["transaction_id"],
        created_by=row["created_by"], approved_by=row["approved_by"])


def counterparty_out(row: dict[str, Any]) -> CounterpartyOut:
    return CounterpartyOut(**{k: row[k] for k in CounterpartyOut.model_fields if k != "country"},
                           country=row["country"].strip())


def payment_out(row: dict[str, Any]) -> PaymentOut:
    return PaymentOut(
        id=row["id"], counterparty_id=row["counterparty_id"], date=row["date"],
        direction=row["direction"], amount=_money(row["amount"]),
        currency=row["currency"].strip(), exchange_rate=str(row["exchange_rate"]),
        account_code=row["account_code"], reference=row["reference"],
        allocations=[AllocationOut(**a) for a in row["allocations"]],
        unallocated=_money(row["unallocated"]), advance_vat=_money(row["advance_vat"]),
        transaction_id=row["transaction_id"],
        status="reversed" if row.get("reversed_on") else "posted",
        reversal_transaction_id=row.get("reversal_transaction_id"))


BUCKETS = ("not_due", "days_1_30", "days_31_60", "days_61_90", "days_over_90")


def bucket_of(as_of: dt.date, due: dt.date) -> str:
    """Days past the due date at the end of ``as_of``: not due, 1–30, 31–60, 61–90, 90+."""
    late = (as_of - due).days
    if late <= 0:
        return "not_due"
    if late <= 30:
        return "days_1_30"
    if late <= 60:
        return "days_31_60"
    return "days_61_90" if late <= 90 else "days_over_90"


def aging(rows: list[dict[str, Any]], as_of: dt.date) -> AgingOut:
    """In GEL (the documents' booked GEL less what settled them), so the total equals the
    control account's balance (1410 receivables, 3110 payables) at ``as_of``."""
    keys = (*BUCKETS, "total")
    totals = {k: sum((r[k] for r in rows), Decimal("0.00")) for k in keys}
    return AgingOut(as_of=as_of, rows=[
        AgingRow(counterparty_id=r["counterparty_id"], name=r["name"],
                 **{k: _money(r[k]) for k in keys}) for r in rows],
        totals=AgingTotals(**{k: _money(v) for k, v in totals.items()}))


_counterparty_body = ExactJsonBody(CounterpartyIn)
_invoice_body = ExactJsonBody(InvoiceIn)
_bill_body = ExactJsonBody(BillIn)
_note_body = ExactJsonBody(NoteIn)
_payment_body = ExactJsonBody(PaymentIn)
_apply_body = ExactJsonBody(ApplyIn)
_reverse_body = ExactJsonBody(ReversePaymentIn)
_settings_body = ExactJsonBody(SettingsIn)
Id = Annotated[UUID, Path()]
SALES = (DocumentKind.SALES_INVOICE, DocumentKind.CREDIT_NOTE)
PURCHASES = (DocumentKind.PURCHASE_BILL, DocumentKind.SUPPLIER_CREDIT_NOTE,
             DocumentKind.SUPPLIER_DEBIT_NOTE)


def _cursor(row: dict[str, Any]) -> str:
    raw = f"{row['name'].lower()}\x00{row['id']}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def _after(cursor: str | None) -> tuple[str, UUID] | None:
    if not cursor:
        return None
    try:
        name, _, ident = base64.urlsafe_b64decode(cursor.encode()).decode().partition("\x00")
        return name, UUID(ident)
    except (ValueError, UnicodeDecodeError):
        raise d.InvalidDocument("Bad cursor.", field="cursor") from None


def router() -> APIRouter:
    api = APIRouter(prefix="/api/v1/companies/{company_id}", tags=["billing"],
                    route_class=StrictRoute)

    # ----------------------------------------------------------------- settings

    @api.get("/billing-settings", summary="Whether documents need a second person's "
             "approval before they post", response_model=SettingsOut,
             responses=problem_responses(*_ERRORS))
    async def get_settings(ctx: Reader, billing: Billing) -> SettingsOut:
        async with billing.db.transaction(company_id=ctx.company_id) as conn:
            required = await billing.requires_approval(conn, ctx.company_id)
        return SettingsOut(require_approval=required)

    @api.put("/billing-settings", summary="Require (or not) a second person's approval",
             response_model=SettingsOut, responses=problem_responses(*_ERRORS),
             openapi_extra=_settings_body.openapi())
    async def put_settings(ctx: Approver, billing: Billing,
                           body: Annotated[SettingsIn, Depends(_settings_body)]) -> SettingsOut:
        await billing.change_settings(ctx, body.require_approval)
        return SettingsOut(require_approval=body.require_approval)

    # ----------------------------------------------------------------- counterparties

    @api.post("/counterparties", summary="Register a customer or supplier", status_code=201,
              response_model=CounterpartyOut, responses=problem_responses(*_ERRORS, 409),
              openapi_extra=_counterparty_body.openapi())
    async def register(ctx: Writer, billing: Billing,
                       body: Annotated[CounterpartyIn, Depends(_counterparty_body)]
                       ) -> CounterpartyOut:
        cid = await billing.register_counterparty(ctx, CounterpartyInput(
            body.name, body.tax_id, body.country, body.vat_payer, body.iban, body.email,
            body.phone, body.address, body.resident))
        async with billing.db.transaction(company_id=ctx.company_id) as conn:
            row = await queries.counterparty(conn, ctx.company_id, cid)
        assert row is not None
        return counterparty_out(row)

    @api.get("/counterparties", summary="Counterparties, by name; search by name or tax id",
             response_model=CounterpartyPage, responses=problem_responses(*_ERRORS))
    async def list_counterparties(
        ctx: Reader, billing: Billing,
        search: Annotated[Text | None, Query(max_length=200)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        cursor: Annotated[Text | None, Query(max_length=500)] = None,
    ) -> CounterpartyPage:
        async with billing.db.transaction(company_id=ctx.company_id) as conn:
            rows = await queries.counterparties(conn, ctx.company_id, search, limit + 1,
                                                _after(cursor))
        more = len(rows) > limit
        rows = rows[:limit]
        return CounterpartyPage(items=[counterparty_out(r) for r in rows],
                                next_cursor=_cursor(rows[-1]) if more else None)

    @api.get("/counterparties/{counterparty_id}", summary="One counterparty",
             response_model=CounterpartyOut, responses=problem_responses(*_ERRORS))
    async def get_counterparty(counterparty_id: Id, ctx: Reader,
                               billing: Billing) -> CounterpartyOut:
        async with billing.db.transaction(company_id=ctx.company_id) as conn:
            row = await queries.counterparty(conn, ctx.company_id, counterparty_id)
        if row is None:
            raise d.CounterpartyNotFound("No such counterparty.")
        return counterparty_out(row)

    @api.get("/counterparties/{counterparty_id}/statement",
             summary="A counterparty's statement: its documents and what settled them, in "
                     "GEL, with the running balance (receivable positive)",
             response_model=StatementOut, responses=problem_responses(*_ERRORS))
    async def statement(counterparty_id: Id, ctx: Reader, billing: Billing,
                        date_from: Date | None = None,
                        date_to: Date | None = None) -> StatementOut:
        end = date_to or billing.today()
        async with billing.db.transaction(company_id=ctx.company_id) as conn:
            cp = await queries.counterparty(conn, ctx.company_id, counterparty_id)
            if cp is None:
                raise d.CounterpartyNotFound("No such counterparty.")
            docs = await queries.documents(conn, ctx.company_id,
                                           tuple(k.value for k in DocumentKind),
                                           counterparty_id=counterparty_id, limit=100000)
            cursor = await conn.execute(
                "SELECT s.*, d.kind, d.number FROM billing_settlements s JOIN"
                " billing_documents d ON d.company_id = s.company_id AND d.id = s.document_id"
                " WHERE s.company_id = %s AND d.counterparty_id = %s AND s.by_kind = 'payment'",
                (ctx.company_id, counterparty_id))
            settlements = await cursor.fetchall()
        movements: list[tuple[dt.date, str, str, UUID, Decimal]] = []
        for doc in docs:
            if doc["transaction_id"] is None:
                continue
            sign = (queries.RECEIVABLE_KINDS.get(doc["kind"])
                    or -queries.PAYABLE_KINDS[doc["kind"]])
            movements.append((doc["date"], doc["kind"], doc["number"], doc["id"],
                              doc["total_base"] * sign))
        for s in settlements:
            sign = -1 if s["kind"] in queries.RECEIVABLE_KINDS else 1
            movements.append((s["day"], "payment", s["number"], s["by_document"],
                              s["amount_base"] * sign * (
                                  queries.RECEIVABLE_KINDS.get(s["kind"])
                                  or queries.PAYABLE_KINDS[s["kind"]])))
        movements.sort(key=lambda m: (m[0], m[2]))
        opening = sum((m[4] for m in movements if date_from and m[0] < date_from),
                      Decimal("0.00"))
        balance, lines = opening, []
        for day, kind, number, ident, amount in movements:
            if (date_from and day < date_from) or day > end:
                continue
            balance += amount
            lines.append(StatementLine(
                date=day, kind=kind, number=number, document_id=ident,
                debit=_money(amount if amount > 0 else Decimal(0)),
                credit=_money(-amount if amount < 0 else Decimal(0)), balance=_money(balance)))
        return StatementOut(counterparty_id=counterparty_id, name=cp["name"],
                            date_from=date_from, date_to=end, opening=_money(opening),
                            lines=lines, closing=_money(balance))

    # ----------------------------------------------------------------- documents

    async def _get(billing: BillingService, ctx: CompanyContext, document_id: UUID,
                   kinds: tuple[DocumentKind, ...]) -> DocumentOut:
        doc = await billing.document(ctx.company_id, document_id)
        if doc.kind not in kinds:
            raise d.DocumentNotFound("No such document.", document_id=str(document_id))
        return document_out(doc)

    async def _list(billing: BillingService, ctx: CompanyContext,
                    kinds: tuple[DocumentKind, ...], counterparty_id: UUID | None,
                    status: str | None, date_from: dt.date | None, date_to: dt.date | None,
                    limit: int, offset: int) -> DocumentPage:
        async with billing.db.transaction(company_id=ctx.company_id) as conn:
            rows = await queries.documents(conn, ctx.company_id, tuple(k.value for k in kinds),
                                           counterparty_id=counterparty_id, status=status,
                                           date_from=date_from, date_to=date_to, limit=limit,
                                           offset=offset)
        return DocumentPage(items=[document_from_row(r) for r in rows])

    @api.post("/sales-invoices", summary="Draft a sales invoice", status_code=201,
              response_model=DocumentOut, responses=problem_responses(*_ERRORS, 409),
              openapi_extra=_invoice_body.openapi())
    async def draft_invoice(ctx: Writer, billing: Billing,
                            body: Annotated[InvoiceIn, Depends(_invoice_body)]) -> DocumentOut:
        doc = await billing.draft(ctx, DocumentKind.SALES_INVOICE, DocumentInput(
            body.customer_id, body.date, [x.line() for x in body.lines], body.due_date,
            body.currency, body.exchange_rate, body.reference, None, body.series))
        return document_out(doc)

    @api.get("/sales-invoices", summary="Sales invoices and credit notes, newest first",
             response_model=DocumentPage, responses=problem_responses(*_ERRORS))
    async def list_invoices(ctx: Reader, billing: Billing,
                            customer_id: UUID | None = None,
                            status: Annotated[d.DocumentStatus | None, Query()] = None,
                            date_from: Date | None = None, date_to: Date | None = None,
                            limit: Annotated[int, Query(ge=1, le=500)] = 100,
                            offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> DocumentPage:
        return await _list(billing, ctx, SALES, customer_id,
                           status.value if status else None, date_from, date_to, limit, offset)

    @api.get("/sales-invoices/{document_id}", summary="A sales invoice or credit note",
             response_model=DocumentOut, responses=problem_responses(*_ERRORS))
    async def get_invoice(document_id: Id, ctx: Reader, billing: Billing) -> DocumentOut:
        return await _get(billing, ctx, document_id, SALES)

    @api.post("/sales-invoices/{document_id}/post",
              summary="Post a draft invoice: its journal transaction commits with it",
              response_model=DocumentOut, responses=problem_responses(*_ERRORS, 409))
    async def post_invoice(document_id: Id, ctx: Writer, billing: Billing) -> DocumentOut:
        return document_out(await billing.post(ctx, document_id, (DocumentKind.SALES_INVOICE,)))

    @api.post("/sales-invoices/{document_id}/approve",
              summary="Approve a draft (maker-checker: not its author)",
              response_model=DocumentOut, responses=problem_responses(*_ERRORS, 409))
    async def approve_invoice(document_id: Id, ctx: Approver, billing: Billing) -> DocumentOut:
        return document_out(await billing.approve(ctx, document_id,
                                                  (DocumentKind.SALES_INVOICE,)))

    @api.post("/sales-invoices/{document_id}/credit-note",
              summary="A posted credit note against a posted invoice (never more than it)",
              status_code=201, response_model=DocumentOut,
              responses=problem_responses(*_ERRORS, 409), openapi_extra=_note_body.openapi())
    async def credit_invoice(document_id: Id, ctx: Writer, billing: Billing,
                             body: Annotated[NoteIn, Depends(_note_body)]) -> DocumentOut:
        doc = await billing.document(ctx.company_id, document_id)
        if doc.kind is not DocumentKind.SALES_INVOICE:
            raise d.DocumentNotFound("No such invoice.", document_id=str(document_id))
        return document_out(await billing.credit_note(
            ctx, document_id, body.date, [x.line() for x in body.lines], body.reference))

    @api.get("/sales-invoices/{document_id}/pdf",
             summary="The printable invoice (PDF), in Georgian or English",
             response_class=Response, responses={
                 **problem_responses(*_ERRORS),
                 200: {"content": {"application/pdf": {}}}})
    async def invoice_pdf(document_id: Id, ctx: Reader, billing: Billing,
                          lang: Annotated[str, Query(pattern="^(ka|en)$")] = "ka") -> Response:
        from saldo.billing.render import invoice_pdf as render

        doc = await billing.document(ctx.company_id, document_id)
        if doc.kind not in SALES:
            raise d.DocumentNotFound("No such invoice.", document_id=str(document_id))
        data = await billing.print_data(ctx.company_id, doc)
        return Response(render(data, lang), media_type="application/pdf", headers={
            "Content-Disposition": f'inline; filename="{doc.number}.pdf"'})

    @api.post("/purchase-bills", summary="Draft a purchase bill", status_code=201,
              response_model=DocumentOut, responses=problem_responses(*_ERRORS, 409),
              openapi_extra=_bill_body.openapi())
    async def draft_bill(ctx: Writer, billing: Billing,
                         body: Annotated[BillIn, Depends(_bill_body)]) -> DocumentOut:
        doc = await billing.draft(ctx, DocumentKind.PURCHASE_BILL, DocumentInput(
            body.supplier_id, body.date, [x.line() for x in body.lines], body.due_date,
            body.currency, body.exchange_rate, body.reference, body.supplier_reference,
            body.series))
        return document_out(doc)

    @api.get("/purchase-bills", summary="Purchase bills and supplier notes, newest first",
             response_model=DocumentPage, responses=problem_responses(*_ERRORS))
    async def list_bills(ctx: Reader, billing: Billing, supplier_id: UUID | None = None,
                         status: Annotated[d.DocumentStatus | None, Query()] = None,
                         date_from: Date | None = None, date_to: Date | None = None,
                         limit: Annotated[int, Query(ge=1, le=500)] = 100,
                         offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> DocumentPage:
        return await _list(billing, ctx, PURCHASES, supplier_id,
                           status.value if status else None, date_from, date_to, limit, offset)

    @api.get("/purchase-bills/{document_id}", summary="A purchase bill or supplier note",
             response_model=DocumentOut, responses=problem_responses(*_ERRORS))
    async def get_bill(document_id: Id, ctx: Reader, billing: Billing) -> DocumentOut:
        return await _get(billing, ctx, document_id, PURCHASES)

    @api.post("/purchase-bills/{document_id}/post", summary="Post a draft bill",
              response_model=DocumentOut, responses=problem_responses(*_ERRORS, 409))
    async def post_bill(document_id: Id, ctx: Writer, billing: Billing) -> DocumentOut:
        return document_out(await billing.post(ctx, document_id, (DocumentKind.PURCHASE_BILL,)))

    @api.post("/purchase-bills/{document_id}/approve",
              summary="Approve a draft bill (maker-checker: not its author)",
              response_model=DocumentOut, responses=problem_responses(*_ERRORS, 409))
    async def approve_bill(document_id: Id, ctx: Approver, billing: Billing) -> DocumentOut:
        return document_out(await billing.approve(ctx, document_id,
                                                  (DocumentKind.PURCHASE_BILL,)))

    @api.post("/purchase-bills/{document_id}/credit-note",
              summary="A supplier's credit note against a posted bill", status_code=201,
              response_model=DocumentOut, responses=problem_responses(*_ERRORS, 409),
              openapi_extra=_note_body.openapi())
    async def credit_bill(document_id: Id, ctx: Writer, billing: Billing,
                          body: Annotated[NoteIn, Depends(_note_body)]) -> DocumentOut:
        doc = await billing.document(ctx.company_id, document_id)
        if doc.kind is not DocumentKind.PURCHASE_BILL:
            raise d.DocumentNotFound("No such bill.", document_id=str(document_id))
        return document_out(await billing.credit_note(
            ctx, document_id, body.date, [x.line() for x in body.lines], body.reference))

    @api.post("/purchase-bills/{document_id}/debit-note",
              summary="A supplier's debit note: more to pay on a posted bill", status_code=201,
              response_model=DocumentOut, responses=problem_responses(*_ERRORS, 409),
              openapi_extra=_note_body.openapi())
    async def debit_bill(document_id: Id, ctx: Writer, billing: Billing,
                         body: Annotated[NoteIn, Depends(_note_body)]) -> DocumentOut:
        return document_out(await billing.debit_note(
            ctx, document_id, body.date, [x.line() for x in body.lines], body.reference))

    # ----------------------------------------------------------------- payments

    @api.post("/payments", summary="Record a payment in or out, allocated to documents",
              status_code=201, response_model=PaymentOut,
              responses=problem_responses(*_ERRORS, 409), openapi_extra=_payment_body.openapi())
    async def pay(ctx: Writer, billing: Billing,
                  body: Annotated[PaymentIn, Depends(_payment_body)]) -> PaymentOut:
        result = await billing.record_payment(ctx, PaymentDraft(
            body.counterparty_id, body.date, body.direction, body.amount,
            [AllocationInput(a.document_id, a.amount) for a in body.allocations],
            body.currency, body.exchange_rate, body.account_code, body.reference,
            body.advance_vat))
        return await _payment(billing, ctx, result.id)

    async def _payment(billing: BillingService, ctx: CompanyContext,
                       payment_id: UUID) -> PaymentOut:
        async with billing.db.transaction(company_id=ctx.company_id) as conn:
            row = await queries.payment(conn, ctx.company_id, payment_id)
        if row is None:
            raise d.PaymentNotFound("No such payment.", payment_id=str(payment_id))
        return payment_out(row)

    @api.get("/payments/{payment_id}", summary="One payment", response_model=PaymentOut,
             responses=problem_responses(*_ERRORS))
    async def get_payment(payment_id: Id, ctx: Reader, billing: Billing) -> PaymentOut:
        return await _payment(billing, ctx, payment_id)

    @api.get("/payments", summary="Payments, oldest first", response_model=list[PaymentOut],
             responses=problem_responses(*_ERRORS))
    async def list_payments(ctx: Reader, billing: Billing,
                            counterparty_id: UUID | None = None) -> list[PaymentOut]:
        async with billing.db.transaction(company_id=ctx.company_id) as conn:
            rows = await queries.payments(conn, ctx.company_id,
                                          counterparty_id=counterparty_id)
        return [payment_out(r) for r in rows]

    @api.post("/payments/{payment_id}/allocations",
              summary="Apply a payment's unallocated remainder (an advance) to documents",
              status_code=201, response_model=PaymentOut,
              responses=problem_responses(*_ERRORS, 409), openapi_extra=_apply_body.openapi())
    async def apply(payment_id: Id, ctx: Writer, billing: Billing,
                    body: Annotated[ApplyIn, Depends(_apply_body)]) -> PaymentOut:
        await billing.apply_advance(ctx, payment_id, body.date, [
            AllocationInput(a.document_id, a.amount) for a in body.allocations])
        return await _payment(billing, ctx, payment_id)

    @api.post("/payments/{payment_id}/reverse",
              summary="Reverse a payment: its journal reversed, its documents due again",
              response_model=PaymentReversalOut,
              responses=problem_responses(*_ERRORS, 409),
              openapi_extra=_reverse_body.openapi())
    async def reverse(payment_id: Id, ctx: Writer, billing: Billing,
                      body: Annotated[ReversePaymentIn, Depends(_reverse_body)]
                      ) -> PaymentReversalOut:
        done = await billing.reverse_payment(ctx, payment_id, body.reason, body.date)
        return PaymentReversalOut(
            payment_id=done.payment_id, date=done.date, transaction_id=done.transaction_id,
            reversals=[UUID(r) for r in done.reversals],
            allocations=[AllocationOut(**a) for a in done.allocations])

    # ----------------------------------------------------------------- reports

    async def _aging(billing: BillingService, ctx: CompanyContext, ledger: str,
                     as_of: dt.date | None) -> AgingOut:
        day = as_of or billing.today()
        async with billing.db.transaction(company_id=ctx.company_id) as conn:
            rows = await queries.aging(conn, ctx.company_id, ledger, day)
        return aging(rows, day)

    @api.get("/reports/receivables-aging", summary="Receivables by days past due (GEL)",
             response_model=AgingOut, responses=problem_responses(*_ERRORS))
    async def receivables_aging(ctx: Reader, billing: Billing,
                                as_of: Date | None = None) -> AgingOut:
        return await _aging(billing, ctx, "receivables", as_of)

    @api.get("/reports/payables-aging", summary="Payables by days past due (GEL)",
             response_model=AgingOut, responses=problem_responses(*_ERRORS))
    async def payables_aging(ctx: Reader, billing: Billing,
                             as_of: Date | None = None) -> AgingOut:
        return await _aging(billing, ctx, "payables", as_of)

    @api.get("/reports/open-items", summary="Posted documents with an amount due",
             response_model=list[OpenItemOut], responses=problem_responses(*_ERRORS))
    async def open_items(ctx: Reader, billing: Billing,
                         counterparty_id: UUID | None = None) -> list[OpenItemOut]:
        async with billing.db.transaction(company_id=ctx.company_id) as conn:
            items = await queries.open_items(conn, ctx.company_id,
                                             counterparty_id=counterparty_id)
        return [OpenItemOut(document_id=i.document_id, kind=i.kind, number=i.number,
                            counterparty_id=i.counterparty_id, date=i.date,
                            due_date=i.due_date, currency=i.currency,
                            amount_due=_money(i.amount_due), total=_money(i.total))
                for i in items]

    return api
