"""The e-invoice read model (``rs_einvoices``), updated inline from the e-invoice streams,
and the asynchronous projection that queues an e-invoice when billing posts an invoice
(the event store is the outbox: issue 15 item 6)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

import structlog

from saldo.kernel.errors import Conflict
from saldo.platform.db import Connection
from saldo.platform.eventstore import NO_STREAM, EventStore, Metadata, NewEvent, RecordedEvent
from saldo.rsge import domain as d
from saldo.rsge.billing import BillingPort

log = structlog.get_logger("saldo.rsge")

READ_MODELS = ("rs_einvoices",)

_QUEUED = """
INSERT INTO rs_einvoices (company_id, document_id, status, number, kind, corrects,
                          lines_total, lines_saved, attempts, queued_at, updated_at)
VALUES (%s, %s, 'queued', %s, %s, %s, %s, 0, 0, %s, %s)
ON CONFLICT (company_id, document_id) DO UPDATE
   SET status = 'queued', number = excluded.number, kind = excluded.kind,
       corrects = excluded.corrects, lines_total = excluded.lines_total, attempts = 0,
       last_error = NULL, next_attempt_at = NULL, updated_at = excluded.updated_at
"""


class EInvoiceProjection:
    name = "rsge"
    #: The streams it reads (the event store hands it no others).
    stream_types = (d.EINVOICE_STREAM,)

    async def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        for e in events:
            if e.stream_type != d.EINVOICE_STREAM:
                continue
            await self._apply(conn, e)

    async def _apply(self, conn: Connection, e: RecordedEvent) -> None:
        company, doc, at, data = e.company_id, UUID(e.stream_id.removeprefix("rs-einvoice-")), \
            e.recorded_at, e.data
        key = (company, doc)
        if e.type == d.EInvoiceQueued.type:
            kind = "correction" if data.get("corrects") else "invoice"
            await conn.execute(_QUEUED, (company, doc, data["number"], kind, data.get("corrects"),
                                         len(data["lines"]), at, at))
        elif e.type == d.EInvoiceHeaderSaved.type:
            await conn.execute("UPDATE rs_einvoices SET rs_id = %s, updated_at = %s"
                               " WHERE company_id = %s AND document_id = %s",
                               (data["rs_id"], at, *key))
        elif e.type == d.EInvoiceLineSaved.type:
            await conn.execute("UPDATE rs_einvoices SET lines_saved = greatest(lines_saved, %s),"
                               " updated_at = %s WHERE company_id = %s AND document_id = %s",
                               (data["index"] + 1, at, *key))
        elif e.type == d.EInvoiceSent.type:
            await conn.execute(
                "UPDATE rs_einvoices SET status = 'sent', rs_id = %s, series = %s,"
                " rs_number = %s, rs_status = %s, last_error = NULL, next_attempt_at = NULL,"
                " next_poll_at = NULL, updated_at = %s"
                " WHERE company_id = %s AND document_id = %s",
                (data["rs_id"], data["series"], data["number"], data["rs_status"], at, *key))
        elif e.type == d.EInvoiceAttemptFailed.type:
            dead = data.get("next_attempt_at") is None
            await conn.execute(
                "UPDATE rs_einvoices SET attempts = %s, last_error = %s,"
                " next_attempt_at = %s::timestamptz,"
                " status = CASE WHEN %s THEN 'failed' ELSE status END, updated_at = %s"
                " WHERE company_id = %s AND document_id = %s",
                (data["attempt"], data["error"], data.get("next_attempt_at"), dead, at, *key))
        elif e.type == d.EInvoiceRetryRequested.type:
            await conn.execute(
                "UPDATE rs_einvoices SET status = 'queued', attempts = 0, next_attempt_at = NULL,"
                " updated_at = %s WHERE company_id = %s AND document_id = %s", (at, *key))
        elif e.type == d.EInvoiceDecided.type:
            await conn.execute(
                "UPDATE rs_einvoices SET status = %s, rs_status = %s, updated_at = %s"
                " WHERE company_id = %s AND document_id = %s",
                (data["status"], data["rs_status"], at, *key))

    async def reset(self, conn: Connection) -> None:
        await conn.execute("DELETE FROM rs_einvoices")


class EInvoiceOutbox:
    """Asynchronous: billing posted a sales invoice or a credit note of a company that has
    a service user and is a VAT payer -> the e-invoice is queued (once: a stream that
    exists already is left alone, so a replay or a hand-queued invoice is not doubled)."""

    name = "rsge_outbox"

    def __init__(self, store: EventStore, billing: Callable[[], BillingPort]) -> None:
        self.store, self._billing = store, billing

    async def apply(self, conn: Connection, event: RecordedEvent) -> None:
        billing = self._billing()
        if event.type not in billing.queue_event_types or event.company_id is None:
            return
        document_id = billing.document_of(event.type, event.data)
        if document_id is None:
            return
        company = event.company_id
        cursor = await conn.execute(
            "SELECT c.vat_payer, r.company_id IS NOT NULL AS has_user FROM companies c"
            " LEFT JOIN rs_credentials r ON r.company_id = c.id WHERE c.id = %s", (company,))
        row = await cursor.fetchone()
        if row is None or not row["vat_payer"] or not row["has_user"]:
            return
        stream = d.einvoice_stream(document_id)
        if await self.store.stream_version(conn, stream):
            return
        invoice = await billing.invoice_for_rs(conn, company, document_id)
        if invoice is None:
            return
        corrects_rs_id = None
        if invoice.corrects is not None:
            cursor = await conn.execute(
                "SELECT rs_id FROM rs_einvoices WHERE company_id = %s AND document_id = %s",
                (company, invoice.corrects))
            original = await cursor.fetchone()
            if original is None or original["rs_id"] is None:
                log.info("rs_correction_not_queued", document_id=str(document_id),
                         reason="the corrected invoice was never sent to rs.ge")
                return
            corrects_rs_id = int(original["rs_id"])
        queued = d.EInvoice(document_id).queue(invoice, corrects_rs_id)
        metadata: dict[str, Any] = event.metadata
        try:
            # A savepoint: a request that queued the invoice by hand since the check above
            # wins the stream, and the batch goes on instead of failing on the duplicate.
            async with conn.transaction():
                await self.store.append(
                    conn, stream, d.EINVOICE_STREAM, NO_STREAM,
                    [NewEvent(queued.type, queued.to_data(),
                              schema_version=queued.schema_version, json_values=True)],
                    Metadata(actor=str(metadata.get("actor", "saldo")), company_id=company,
                             correlation_id=metadata.get("correlation_id")))
        except Conflict:
            log.info("rs_einvoice_queued_meanwhile", document_id=str(document_id))

    async def reset(self, conn: Connection) -> None:
        """Nothing of its own to drop: the streams it started are the e-invoices."""
