"""What the rs.ge exchange needs of billing, as a small protocol.

Billing (sales invoices, purchase bills, counterparties) is its own context below this
one. The exchange reads a posted invoice's content, finds purchase bills to match incoming
e-invoices against, offers a draft bill, and hears of new counterparties -- nothing more.
:class:`NoBilling` answers while billing is not registered (every document is unknown);
the adapter to ``saldo.billing`` is built in ``saldo.rsge.context`` when it is.
"""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from saldo.platform.db import Connection
from saldo.platform.uow import UnitOfWork
from saldo.rsge.domain import BillCandidate, IncomingInvoice, InvoiceForRs, WaybillLine


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

    async def draft_bill(self, uow: UnitOfWork, invoice: IncomingInvoice) -> UUID:
        """A draft purchase bill made from an incoming e-invoice; its id."""


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

    async def draft_bill(self, uow: UnitOfWork, invoice: IncomingInvoice) -> UUID:
        from saldo.kernel.errors import RuleViolation

        raise RuleViolation("Purchase bills are not available in this installation.")
