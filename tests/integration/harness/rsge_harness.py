"""What the rs.ge tests share (importable as ``rsge_harness``): the stand-in's taxpayers,
billing played by a small in-memory port (the real billing context plugs into the same
protocol) and the company-with-its-service handle the ``rs`` fixture yields."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from ledger_harness import Books, Harness
from sandbox_server import Served

from saldo.identity.service import CompanyContext
from saldo.platform.db import Connection
from saldo.rsge.domain import (
    BillCandidate,
    IncomingInvoice,
    InvoiceForRs,
    InvoiceLine,
    WaybillLine,
)
from saldo.rsge.sandbox import DEMO_USER
from saldo.rsge.service import RsgeService

#: The stand-in's taxpayers (saldo.rsge.sandbox.TAXPAYERS): the test company, a buyer and a
#: supplier.
COMPANY_TIN, BUYER_TIN, SUPPLIER_TIN = "204567891", "205123456", "404987654"


@dataclass
class FakeBilling:
    """Billing as the exchange sees it (saldo.rsge.billing.BillingPort)."""

    invoices: dict[UUID, InvoiceForRs] = field(default_factory=dict)
    goods: dict[UUID, list[WaybillLine]] = field(default_factory=dict)
    bills: list[BillCandidate] = field(default_factory=list)
    drafted: list[IncomingInvoice] = field(default_factory=list)
    queue_event_types: frozenset[str] = frozenset({"TestInvoicePosted"})

    def document_of(self, event_type: str, data: dict[str, object]) -> UUID | None:
        return UUID(str(data["invoice_id"]))

    async def invoice_for_rs(self, conn: Connection, company_id: UUID,
                             document_id: UUID) -> InvoiceForRs | None:
        return self.invoices.get(document_id)

    async def goods_lines(self, conn: Connection, company_id: UUID,
                          document_id: UUID) -> list[WaybillLine] | None:
        return self.goods.get(document_id)

    async def bill_candidates(self, conn: Connection, company_id: UUID,
                              supplier_tax_id: str) -> list[BillCandidate]:
        return [b for b in self.bills if b.supplier_tax_id == supplier_tax_id]

    async def draft_bill(self, ctx: CompanyContext, invoice: IncomingInvoice) -> UUID:
        self.drafted.append(invoice)
        return uuid4()

    async def register_counterparty(self, ctx: CompanyContext, name: str, tax_id: str,
                                    vat_payer: bool, detail: str = "") -> UUID:
        return uuid4()

    async def pending_checks(self, conn: Connection, company_id: UUID) -> list[tuple[UUID, str]]:
        return []

    def invoice(self, *lines: tuple[str, str, str], number: str = "INV-0001",
                corrects: UUID | None = None, correction_type: int | None = None,
                day: date = date(2026, 12, 1)) -> UUID:
        """A posted invoice: ``lines`` are (goods, full amount incl. VAT, VAT)."""
        doc = uuid4()
        self.invoices[doc] = InvoiceForRs(
            doc, number, day, BUYER_TIN, "შპს ბათუმის ვაჭრობა",
            tuple(InvoiceLine(g, "ცალი", Decimal(1), Decimal(full), Decimal(vat))
                  for g, full, vat in lines), corrects, correction_type)
        return doc


@dataclass
class Rs:
    """The company, its people, the service and the stand-in."""

    h: Harness
    books: Books
    service: RsgeService
    billing: FakeBilling
    sandbox: Served
    #: Seconds the tests moved the queue's clock on.
    skipped: float = 0.0

    def url(self, path: str) -> str:
        return self.books.url(path)

    @property
    def company_id(self) -> UUID:
        return self.books.company_id

    async def set_credentials(self, user: str = DEMO_USER[0],
                              password: str = DEMO_USER[1]) -> None:
        r = await self.h.client.put(self.url("/rs-credentials"), headers=self.books.chief,
                                    json={"service_user": user, "service_password": password})
        assert r.status_code == 204, r.text

    async def queue(self, doc: UUID) -> dict[str, Any]:
        r = await self.h.client.post(self.url(f"/sales-invoices/{doc}/e-invoice"),
                                     headers=self.books.clerk)
        assert r.status_code == 202, r.text
        return dict(r.json())

    async def state(self, doc: UUID) -> dict[str, Any]:
        r = await self.h.client.get(self.url(f"/sales-invoices/{doc}/e-invoice"),
                                    headers=self.books.clerk)
        assert r.status_code == 200, r.text
        return dict(r.json())
