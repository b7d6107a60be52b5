"""The rs.ge exchange's HTTP edge ("Revenue Service (rs.ge)" in ``../shared/api/v1.md``,
plus the incoming documents, waybills and look-ups). The service password is accepted,
never returned; amounts travel as strings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal, cast
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field

from saldo.identity.api import CompanyContext, Permission, require
from saldo.kernel.events import Actor
from saldo.kernel.money import amount_text
from saldo.platform.http import Bool, QueryBool, StrictRoute, Text, problem_responses
from saldo.rsge import domain as d
from saldo.rsge import queries
from saldo.rsge.service import RsgeService


async def rsge_service(request: Request) -> RsgeService:
    return cast(RsgeService, request.app.state.rsge)


Rs = Annotated[RsgeService, Depends(rsge_service)]
Reader = Annotated[CompanyContext, Depends(require(Permission.DOCUMENTS_READ))]
Writer = Annotated[CompanyContext, Depends(require(Permission.DOCUMENTS_WRITE))]
#: Setting the service user and deciding on suppliers' invoices: the chief accountant.
Approver = Annotated[CompanyContext, Depends(require(Permission.DOCUMENTS_APPROVE))]

_ERRORS = (400, 401, 403, 404, 422)


def _actor(ctx: CompanyContext) -> Actor:
    return Actor(ctx.user.id, ctx.user.username)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else amount_text(value)


# ---------------------------------------------------------------------- shapes


class CredentialsIn(BaseModel):
    service_user: Text = Field(min_length=1, max_length=100)
    service_password: str = Field(min_length=1, max_length=200)


class CredentialsOut(BaseModel):
    configured: bool
    service_user: str | None
    updated_at: dt.datetime | None


class Queued(BaseModel):
    status: str


class EInvoiceOut(BaseModel):
    document_id: UUID
    status: str
    number: str
    kind: str
    corrects: UUID | None
    rs_id: int | None
    series: str | None
    #: The official number rs.ge gave (``f_number``).
    rs_number: int | None = Field(description="rs.ge's own number (f_number)")
    rs_status: int | None
    attempts: int
    last_error: str | None
    next_attempt_at: dt.datetime | None
    lines_total: int
    lines_saved: int
    queued_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, row: dict[str, Any]) -> EInvoiceOut:
        return cls(**row)


class ContractEInvoice(BaseModel):
    """The contract's shape (``GET …/e-invoice``), with the detail beside it."""

    status: str
    rs_id: int | None
    series: str | None
    number: int | None = Field(description="rs.ge's number of the invoice (f_number)")
    attempts: int
    last_error: str | None
    next_attempt_at: dt.datetime | None
    lines_total: int
    lines_saved: int
    kind: str
    corrects: UUID | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> ContractEInvoice:
        return cls(status=row["status"], rs_id=row["rs_id"], series=row["series"],
                   number=row["rs_number"], attempts=row["attempts"],
                   last_error=row["last_error"], next_attempt_at=row["next_attempt_at"],
                   lines_total=row["lines_total"], lines_saved=row["lines_saved"],
                   kind=row["kind"], corrects=row["corrects"])


class SyncOut(BaseModel):
    invoices: int
    matched: int
    waybills: int
    findings: list[str]


class IncomingOut(BaseModel):
    rs_id: int
    series: str
    number: str
    date: dt.date
    supplier_tax_id: str
    supplier_name: str
    total: str
    vat: str
    rs_status: int
    bill_id: UUID | None
    match: str
    decision: str | None
    decided_by: str | None
    decided_at: dt.datetime | None
    vat_held: str = Field(description="Input VAT waiting on 3344 until confirmed")

    @classmethod
    def of(cls, row: dict[str, Any]) -> IncomingOut:
        money = ("total", "vat", "vat_held")
        return cls(**{**{k: row[k] for k in cls.model_fields if k not in money},
                      **{k: _money(row[k]) for k in money}})


class RejectIn(BaseModel):
    reason: Text = Field(min_length=1, max_length=500)


class DraftBillOut(BaseModel):
    bill_id: UUID


class WaybillLineIn(BaseModel):
    name: Text = Field(min_length=1, max_length=250)
    unit_id: int = Field(default=99, description="rs.ge unit id; 99 'other' with unit_text")
    unit_text: Text = Field(default="ცალი", max_length=50)
    quantity: Decimal
    price: Decimal
    bar_code: Text = Field(min_length=1, max_length=50)


class WaybillIn(BaseModel):
    document_id: UUID | None = Field(default=None, description=(
        "A posted sales invoice: its goods lines are taken when `lines` is omitted."))
    type: int = Field(default=2, description="1 inner, 2 transport, 3 without transport, "
                                             "4 distribution, 5 return, 6 sub-waybill")
    buyer_tax_id: Text = Field(max_length=20)
    buyer_name: Text = Field(default="", max_length=200)
    foreign_buyer: Bool = False
    start_address: Text = Field(min_length=1, max_length=300)
    end_address: Text = Field(min_length=1, max_length=300)
    transport_type: int = Field(default=1, description="TRANS_ID (1: car)")
    driver_tax_id: Text = Field(default="", max_length=20)
    driver_name: Text = Field(default="", max_length=200)
    car_number: Text = Field(default="", max_length=20)
    transport_cost: Decimal = Decimal(0)
    transport_cost_payer: Literal[1, 2] = 2
    comment: Text = Field(default="", max_length=500)
    lines: list[WaybillLineIn] = Field(default_factory=list, max_length=1000)

    def draft(self) -> d.WaybillDraft:
        return d.WaybillDraft(
            self.document_id, self.type, self.buyer_tax_id, self.buyer_name,
            self.start_address, self.end_address, self.transport_type, self.driver_tax_id,
            self.driver_name, self.car_number,
            tuple(d.WaybillLine(x.name, x.unit_id, x.unit_text, x.quantity, x.price,
                                x.bar_code) for x in self.lines),
            self.comment, self.transport_cost_payer, self.transport_cost, self.foreign_buyer)


class WaybillOut(BaseModel):
    id: UUID
    direction: str
    rs_id: int
    number: str | None
    status: str
    type: int
    document_id: UUID | None
    buyer_tax_id: str
    buyer_name: str
    seller_tax_id: str | None
    start_address: str
    end_address: str
    total: str
    buyer_decision: str | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> WaybillOut:
        return cls(**{**{k: row[k] for k in cls.model_fields if k != "total"},
                      "total": _money(row["total"])})


class CounterpartyIn(BaseModel):
    tax_id: Text = Field(min_length=9, max_length=11)


class CounterpartyOut(BaseModel):
    id: UUID
    tax_id: str
    name: str
    vat_payer: bool


class TaxIdCheckOut(BaseModel):
    counterparty_id: UUID
    tax_id: str
    status: Literal["verified", "pending", "failed", "not_registered"]
    name: str | None
    vat_payer: bool | None
    detail: str


class TaxpayerOut(BaseModel):
    tax_id: str
    name: str
    vat_payer: bool


DocumentId = Annotated[UUID, Path()]
#: rs.ge's ids are bigint: a larger number is a 422, never a database error.
RsId = Annotated[int, Path(ge=1, le=2**63 - 1)]


# ---------------------------------------------------------------------- routes


def router() -> APIRouter:
    api = APIRouter(prefix="/api/v1/companies/{company_id}", tags=["rs.ge"],
                    route_class=StrictRoute)

    @api.put("/rs-credentials", summary="Set the rs.ge service user (stored encrypted)",
             status_code=204, response_class=Response, responses=problem_responses(*_ERRORS))
    async def put_credentials(body: CredentialsIn, ctx: Approver, rs: Rs) -> Response:
        await rs.set_credentials(ctx.company_id, _actor(ctx), body.service_user,
                                 body.service_password)
        return Response(status_code=204)

    @api.get("/rs-credentials", summary="Whether a service user is set (never the password)",
             response_model=CredentialsOut, responses=problem_responses(*_ERRORS))
    async def get_credentials(ctx: Reader, rs: Rs) -> CredentialsOut:
        return CredentialsOut(**await rs.credentials_status(ctx.company_id))

    @api.post("/sales-invoices/{document_id}/e-invoice", status_code=202,
              summary="Queue a posted sales invoice (or credit note) for rs.ge",
              response_model=Queued, responses=problem_responses(*_ERRORS, 409))
    async def send(document_id: DocumentId, ctx: Writer, rs: Rs) -> Queued:
        return Queued(**await rs.request_einvoice(ctx.company_id, _actor(ctx), document_id))

    @api.get("/sales-invoices/{document_id}/e-invoice", response_model=ContractEInvoice,
             summary="The e-invoice's state on rs.ge", responses=problem_responses(*_ERRORS,
                                                                                    502))
    async def state(document_id: DocumentId, ctx: Reader, rs: Rs,
                    refresh: QueryBool = False) -> ContractEInvoice:
        if refresh:
            return ContractEInvoice.of(await rs.refresh(ctx.company_id, document_id))
        return ContractEInvoice.of(await rs.einvoice(ctx.company_id, document_id))

    @api.post("/sales-invoices/{document_id}/e-invoice/retry", status_code=202,
              summary="Send a failed e-invoice again", response_model=Queued,
              responses=problem_responses(*_ERRORS, 409))
    async def retry(document_id: DocumentId, ctx: Writer, rs: Rs) -> Queued:
        return Queued(**await rs.retry(ctx.company_id, _actor(ctx), document_id))

    @api.get("/rs/e-invoices", summary="Outgoing e-invoices and their delivery state",
             response_model=list[EInvoiceOut], responses=problem_responses(*_ERRORS))
    async def list_einvoices(
        ctx: Reader, rs: Rs,
        status: Annotated[Literal["queued", "sent", "confirmed", "rejected", "failed"] | None,
                          Query()] = None,
    ) -> list[EInvoiceOut]:
        rows = await rs.read(ctx.company_id,
                             lambda conn: queries.einvoices(conn, ctx.company_id, status))
        return [EInvoiceOut.of(r) for r in rows]

    @api.post("/rs/sync", status_code=202, response_model=SyncOut,
              summary="Pull incoming e-invoices and waybills addressed to the company",
              responses=problem_responses(*_ERRORS, 502))
    async def sync(ctx: Writer, rs: Rs) -> SyncOut:
        return SyncOut(**await rs.sync(ctx.company_id, _actor(ctx)))

    @api.get("/rs/incoming-invoices", response_model=list[IncomingOut],
             summary="Suppliers' e-invoices and the bills they match",
             responses=problem_responses(*_ERRORS))
    async def incoming(ctx: Reader, rs: Rs) -> list[IncomingOut]:
        rows = await rs.read(ctx.company_id,
                             lambda conn: queries.incoming_list(conn, ctx.company_id))
        return [IncomingOut.of(r) for r in rows]

    @api.post("/rs/incoming-invoices/{rs_id}/confirm", response_model=IncomingOut,
              summary="Confirm a supplier's e-invoice on rs.ge",
              responses=problem_responses(*_ERRORS, 409, 502))
    async def confirm(rs_id: RsId, ctx: Approver, rs: Rs) -> IncomingOut:
        return IncomingOut.of(await rs.decide_incoming(ctx.company_id, _actor(ctx), rs_id,
                                                       confirm=True))

    @api.post("/rs/incoming-invoices/{rs_id}/reject", response_model=IncomingOut,
              summary="Reject a supplier's e-invoice on rs.ge, with a reason",
              responses=problem_responses(*_ERRORS, 409, 502))
    async def reject(rs_id: RsId, body: RejectIn, ctx: Approver, rs: Rs) -> IncomingOut:
        return IncomingOut.of(await rs.decide_incoming(ctx.company_id, _actor(ctx), rs_id,
                                                       confirm=False, reason=body.reason))

    @api.post("/rs/incoming-invoices/{rs_id}/draft-bill", status_code=201,
              response_model=DraftBillOut, summary="Make a draft purchase bill from it",
              responses=problem_responses(*_ERRORS, 409))
    async def draft_bill(rs_id: RsId, ctx: Writer, rs: Rs) -> DraftBillOut:
        return DraftBillOut(**await rs.draft_bill(ctx, rs_id))

    @api.post("/rs/counterparties", status_code=201, response_model=CounterpartyOut,
              summary="Create a counterparty from its tax id: rs.ge fills the name and "
                      "VAT status", responses=problem_responses(*_ERRORS, 409, 502))
    async def counterparty(body: CounterpartyIn, ctx: Writer, rs: Rs) -> CounterpartyOut:
        return CounterpartyOut(**await rs.register_counterparty(ctx, body.tax_id))

    @api.post("/rs/counterparties/{counterparty_id}/check", response_model=TaxIdCheckOut,
              summary="Check a counterparty's tax id on rs.ge again and record the answer",
              responses=problem_responses(*_ERRORS, 502))
    async def recheck(counterparty_id: Annotated[UUID, Path()], ctx: Writer,
                      rs: Rs) -> TaxIdCheckOut:
        return TaxIdCheckOut(**await rs.recheck_counterparty(ctx.company_id, _actor(ctx),
                                                             counterparty_id))

    @api.post("/rs/waybills", status_code=201, response_model=WaybillOut,
              summary="Save a waybill on rs.ge (from a sales invoice's goods lines)",
              responses=problem_responses(*_ERRORS, 502))
    async def create_waybill(body: WaybillIn, ctx: Writer, rs: Rs) -> WaybillOut:
        return WaybillOut.of(await rs.create_waybill(ctx.company_id, _actor(ctx), body.draft()))

    @api.get("/rs/waybills", response_model=list[WaybillOut], summary="Waybills",
             responses=problem_responses(*_ERRORS))
    async def list_waybills(
        ctx: Reader, rs: Rs,
        direction: Annotated[Literal["outgoing", "incoming"] | None, Query()] = None,
    ) -> list[WaybillOut]:
        rows = await rs.read(ctx.company_id,
                             lambda conn: queries.waybills(conn, ctx.company_id, direction))
        return [WaybillOut.of(r) for r in rows]

    @api.post("/rs/waybills/{waybill_id}/{action}", response_model=WaybillOut,
              summary="activate, close or cancel an outgoing waybill; confirm or reject an "
                      "incoming one", responses=problem_responses(*_ERRORS, 409, 502))
    async def waybill_action(
        waybill_id: Annotated[UUID, Path()],
        action: Annotated[Literal["activate", "close", "cancel", "confirm", "reject"], Path()],
        ctx: Writer, rs: Rs,
    ) -> WaybillOut:
        return WaybillOut.of(await rs.waybill_action(ctx.company_id, _actor(ctx), waybill_id,
                                                     action))

    @api.get("/rs/taxpayers/{tax_id}", response_model=TaxpayerOut,
             summary="Name and VAT status of a tax id, from rs.ge",
             responses=problem_responses(*_ERRORS, 502))
    async def taxpayer(tax_id: Annotated[str, Path(max_length=20)], ctx: Reader,
                       rs: Rs) -> TaxpayerOut:
        return TaxpayerOut(**await rs.lookup_taxpayer(ctx.company_id, tax_id))

    return api
