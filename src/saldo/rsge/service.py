"""The rs.ge exchange's use cases: credentials, the outgoing e-invoice queue and its
delivery, status polling, the incoming sync with matching, waybills and tax-id look-ups.

Delivery (issue 15 item 6) is a worker loop (:meth:`RsgeService.run_forever`, run by
``saldo worker`` beside the projections and by ``saldo rs worker``):

1. claim due items with a *lease* (``FOR UPDATE SKIP LOCKED``): two workers never hold the
   same invoice, and one that dies releases it when the lease runs out;
2. for each, ask rs.ge what it already has before doing anything -- an rs.ge id recorded
   in the stream, or else an invoice whose note carries Saldo's document id (a header
   accepted whose answer was lost), and the lines ``get_invoice_desc`` lists (a diffgram);
3. do the missing steps one call at a time, recording each result as an event before the
   next call (header id, each line, the send), so nothing is ever sent twice;
4. a failure is recorded with the next attempt's time (exponential backoff, full
   jitter); after ``max_attempts``, or at once for wrong credentials, the item is
   ``failed`` (the dead letter) until :meth:`retry`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar
from uuid import UUID, uuid4

import orjson
import structlog

from saldo.billing.service import TaxIdCheck
from saldo.identity.service import CompanyContext
from saldo.kernel.errors import Conflict, NotFound, RuleViolation, SaldoError
from saldo.kernel.events import SYSTEM, Actor, DomainEvent
from saldo.ledger.service import JournalDraft, LedgerService, LineDraft, SourceRef
from saldo.platform.db import Connection, Database
from saldo.platform.logging import register_secret
from saldo.platform.uow import UnitOfWork, UnitsOfWork
from saldo.rsge import domain as d
from saldo.rsge import queries
from saldo.rsge.billing import BillingPort, NoBilling
from saldo.rsge.crypto import Cipher, CredentialsUnreadable
from saldo.rsge.settings import RsSettings
from saldo.rsge.soap import (
    RsAuthFailed,
    RsCallFailed,
    RsClient,
    RsRefused,
    tbilisi_midnight,
    tbilisi_now,
)

log = structlog.get_logger("saldo.rsge")
T = TypeVar("T")

#: How long a service user's ``user_id`` and ``un_id`` are reused without asking again.
ID_CACHE_SECONDS = 600.0
#: How long counterparty creation waits for rs.ge's look-up before it goes on with the
#: check ``pending`` (decision 0063): an accountant at a form, not a batch job.
LOOKUP_BUDGET_SECONDS = 5.0
#: How far back the incoming sync looks on its first run (then from the last sync).
FIRST_SYNC_DAYS = 90


#: The exchange's errors that are not plain kernel errors, with their HTTP statuses (the
#: context registers them; the web screens answer the same).
ERROR_STATUSES: dict[type[SaldoError], int] = {
    d.RsRequestFailed: 502, d.UnknownStatus: 502, CredentialsUnreadable: 422}


def _utcnow() -> datetime:
    return datetime.now(UTC)


class RsgeService:
    def __init__(self, units: UnitsOfWork, db: Database, settings: RsSettings, cipher: Cipher,
                 billing: BillingPort | None = None, ledger: LedgerService | None = None) -> None:
        self.units, self.db, self.settings, self.cipher = units, db, settings, cipher
        self.billing: BillingPort = billing or NoBilling()
        #: The posting port: input VAT held on 3344 until the company confirms.
        self.ledger = ledger
        #: The clock the queue reads (tests move it to skip a backoff).
        self.clock: Callable[[], datetime] = _utcnow
        self._client: RsClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._last_sync: dict[UUID, datetime] = {}
        self._id_cache: dict[tuple[UUID, str, int], tuple[int, int, float]] = {}
        self._un_ids: dict[str, int] = {}
        self._last_recheck: datetime | None = None

    # ------------------------------------------------------------------ plumbing

    def client(self) -> RsClient:
        """The SOAP client, one per event loop (its HTTP pool belongs to the loop)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            self._client = RsClient(self.settings.url, timeout=self.settings.timeout)
            self._client_loop = loop
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            with contextlib.suppress(RuntimeError):  # its loop may be gone (tests)
                await self._client.aclose()
            self._client = None

    async def _credentials(self, conn: Connection, company_id: UUID) -> d.Credentials | None:
        row = await queries.credentials_row(conn, company_id)
        if row is None:
            return None
        password = self.cipher.decrypt(company_id, bytes(row["secret"]))
        register_secret(password)
        return d.Credentials(row["service_user"], password)

    async def _require_credentials(self, company_id: UUID) -> d.Credentials:
        async def read(uow: UnitOfWork) -> d.Credentials | None:
            return await self._credentials(uow.conn, company_id)

        creds = await self.units.run(company_id, SYSTEM, read)
        if creds is None:
            raise d.NoCredentials("The company has no rs.ge service user: set it first "
                                  "(PUT /companies/{id}/rs-credentials).")
        return creds

    @contextlib.asynccontextmanager
    async def _calling(self) -> AsyncIterator[None]:
        """A request's call to rs.ge: its failures become problem responses (502 when
        rs.ge failed, 422 when it refused what was asked), never a 500."""
        try:
            yield
        except d.UnknownStatus as exc:
            raise d.RsRequestFailed(exc.detail, operation="get_invoice") from None
        except RsRefused as exc:
            raise d.RsRejectedRequest(exc.message, operation=exc.operation) from None
        except RsCallFailed as exc:
            raise d.RsRequestFailed(f"rs.ge did not answer: {exc.message}",
                                    operation=exc.operation) from None

    # ------------------------------------------------------------------ credentials

    async def set_credentials(self, company_id: UUID, actor: Actor, service_user: str,
                              service_password: str) -> None:
        """Store the service user, the password encrypted; the event names the user only."""
        creds = d.check_credentials(service_user, service_password)
        register_secret(creds.service_password)
        blob = self.cipher.encrypt(company_id, creds.service_password)

        async def use_case(uow: UnitOfWork) -> None:
            await uow.conn.execute(
                "INSERT INTO rs_credentials (company_id, service_user, secret, updated_at)"
                " VALUES (%s, %s, %s, now()) ON CONFLICT (company_id) DO UPDATE"
                " SET service_user = excluded.service_user, secret = excluded.secret,"
                " updated_at = now()", (company_id, creds.service_user, blob))
            await uow.append(d.credentials_stream(company_id), "rs_credentials", None,
                             [d.RsCredentialsSet(creds.service_user)])

        await self.units.run(company_id, actor, use_case)

    async def credentials_status(self, company_id: UUID) -> dict[str, Any]:
        async def read(uow: UnitOfWork) -> dict[str, Any] | None:
            return await queries.credentials_row(uow.conn, company_id)

        row = await self.units.run(company_id, SYSTEM, read)
        return {"configured": row is not None,
                "service_user": row["service_user"] if row else None,
                "updated_at": row["updated_at"] if row else None}

    # ------------------------------------------------------------------ outgoing e-invoices

    async def _load(self, uow: UnitOfWork, document_id: UUID) -> d.EInvoice:
        recorded = await uow.read(d.einvoice_stream(document_id))
        return d.EInvoice.load(document_id, [
            (d.EINVOICE_EVENTS[e.type].from_data(e.data), e.version) for e in recorded])

    async def request_einvoice(self, company_id: UUID, actor: Actor,
                               document_id: UUID) -> dict[str, Any]:
        """Queue a posted sales invoice (or a credit note, as a correction of the invoice
        it corrects) for rs.ge; the worker sends it."""

        async def use_case(uow: UnitOfWork) -> dict[str, Any]:
            if await queries.credentials_row(uow.conn, company_id) is None:
                raise d.NoCredentials("The company has no rs.ge service user: set it first "
                                      "(PUT /companies/{id}/rs-credentials).")
            invoice = await self.billing.invoice_for_rs(uow.conn, company_id, document_id)
            if invoice is None:
                raise NotFound(f"No posted sales invoice {document_id}.",
                               document_id=str(document_id))
            corrects_rs_id = None
            if invoice.corrects is not None:
                original = await queries.einvoice(uow.conn, company_id, invoice.corrects)
                if original is None or original["rs_id"] is None or \
                        original["status"] not in ("sent", "confirmed", "rejected"):
                    raise Conflict("A correction goes to rs.ge after the invoice it corrects "
                                   "has been sent there.", corrects=str(invoice.corrects))
                corrects_rs_id = int(original["rs_id"])
            item = await self._load(uow, document_id)
            queued = item.queue(invoice, corrects_rs_id)
            await uow.append(d.einvoice_stream(document_id), d.EINVOICE_STREAM, item.version,
                             [queued])
            return {"status": "queued"}

        return await self.units.run(company_id, actor, use_case)

    async def einvoice(self, company_id: UUID, document_id: UUID) -> dict[str, Any]:
        async def read(uow: UnitOfWork) -> dict[str, Any] | None:
            return await queries.einvoice(uow.conn, company_id, document_id)

        row = await self.units.run(company_id, SYSTEM, read)
        if row is None:
            raise d.NotQueued(f"Invoice {document_id} has not been sent to rs.ge.",
                              document_id=str(document_id))
        return row

    async def retry(self, company_id: UUID, actor: Actor, document_id: UUID) -> dict[str, Any]:
        """Send a ``failed`` e-invoice again (from the step it reached)."""

        async def use_case(uow: UnitOfWork) -> dict[str, Any]:
            item = await self._load(uow, document_id)
            event = item.retry(actor.username)
            await uow.append(d.einvoice_stream(document_id), d.EINVOICE_STREAM, item.version,
                             [event])
            await uow.conn.execute(
                "UPDATE rs_einvoices SET leased_until = NULL WHERE company_id = %s"
                " AND document_id = %s", (company_id, document_id))
            return {"status": "queued"}

        return await self.units.run(company_id, actor, use_case)

    async def _record(self, company_id: UUID, document_id: UUID, *events: DomainEvent) -> None:
        async def use_case(uow: UnitOfWork) -> None:
            # ``None``: the lease makes this worker the stream's only writer for now.
            await uow.append(d.einvoice_stream(document_id), d.EINVOICE_STREAM, None,
                             list(events))

        await self.units.run(company_id, SYSTEM, use_case)

    async def _claim(self, status: str, limit: int) -> list[tuple[UUID, UUID, bool]]:
        """Due items, leased (queued) or given their next poll time (sent): (company,
        document, resumed). ``resumed``: the item still carried an expired lease -- its
        last worker died mid-attempt, so rs.ge may hold a header Saldo never heard of."""
        now = self.clock()
        if status == "queued":
            due = ("status = 'queued' AND coalesce(next_attempt_at, '-infinity') <= %(now)s"
                   " AND coalesce(leased_until, '-infinity') < %(now)s")
            update = "leased_until = %(now)s + make_interval(secs => %(lease)s)"
            order = "next_attempt_at NULLS FIRST, queued_at"
        else:
            # The first poll comes poll_seconds after the send: a buyer does not decide
            # in the same second, and a thousand fresh invoices are not asked at once.
            due = ("status = 'sent' AND coalesce(next_poll_at, updated_at"
                   " + make_interval(secs => %(poll)s)) <= %(now)s")
            update = "next_poll_at = %(now)s + make_interval(secs => %(poll)s)"
            order = "next_poll_at NULLS FIRST, updated_at"
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                f"WITH due AS (SELECT company_id, document_id, leased_until FROM rs_einvoices"
                f" WHERE {due} ORDER BY {order} LIMIT %(limit)s FOR UPDATE SKIP LOCKED)"
                f" UPDATE rs_einvoices e SET {update} FROM due"
                " WHERE e.company_id = due.company_id AND e.document_id = due.document_id"
                " RETURNING e.company_id, e.document_id,"
                " due.leased_until IS NOT NULL AS resumed",
                {"now": now, "lease": self.settings.lease_seconds,
                 "poll": self.settings.poll_seconds, "limit": limit})
            return [(r["company_id"], r["document_id"], r["resumed"])
                    for r in await cursor.fetchall()]

    async def _release(self, company_id: UUID, document_id: UUID) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE rs_einvoices SET leased_until = NULL"
                               " WHERE company_id = %s AND document_id = %s",
                               (company_id, document_id))

    async def deliver_due(self, limit: int = 200) -> int:
        """Send what is due now; return how many items were tried."""
        claimed = await self._claim("queued", limit)
        gate = asyncio.Semaphore(self.settings.concurrency)

        async def one(company_id: UUID, document_id: UUID, resumed: bool) -> None:
            async with gate:
                # Released only after a finished attempt: a worker cancelled or killed
                # mid-send leaves the lease to run out, and whoever takes the item next
                # finds on rs.ge what the dead worker's last call did.
                try:
                    await self._deliver(company_id, document_id, resumed)
                except Exception:
                    await self._release(company_id, document_id)
                    raise
                await self._release(company_id, document_id)

        await asyncio.gather(*(one(c, doc, resumed) for c, doc, resumed in claimed))
        return len(claimed)

    async def _deliver(self, company_id: UUID, document_id: UUID, resumed: bool) -> None:
        async def load(uow: UnitOfWork) -> tuple[d.EInvoice, d.Credentials | None]:
            return await self._load(uow, document_id), await self._credentials(uow.conn,
                                                                                company_id)

        item, creds = await self.units.run(company_id, SYSTEM, load)
        if item.invoice is None or item.status is not d.EInvoiceStatus.QUEUED:
            return
        try:
            if creds is None:
                raise RsAuthFailed("credentials", "the company has no rs.ge service user; "
                                   "set it (PUT rs-credentials), then retry")
            await self._send_steps(company_id, item, creds, resumed)
        except (RsCallFailed, d.UnknownStatus, d.NoCredentials) as exc:
            if isinstance(exc, RsRefused):  # perhaps the password changed on rs.ge: ask again
                self._id_cache = {k: v for k, v in self._id_cache.items() if k[0] != company_id}
            retryable = getattr(exc, "retryable", True) and not isinstance(exc, d.NoCredentials)
            message = str(exc) if not isinstance(exc, d.UnknownStatus) else exc.detail
            failed = item.fail(message, self.clock(), retryable=retryable,
                               max_attempts=self.settings.max_attempts)
            await self._record(company_id, document_id, failed)
            log.info("rs_einvoice_attempt_failed", document_id=str(document_id),
                     attempt=failed.attempt, dead=failed.next_attempt_at is None,
                     error=failed.error)

    async def _ids(self, client: RsClient, company_id: UUID,
                   creds: d.Credentials) -> tuple[int, int]:
        """The service user's ``user_id`` and the company's ``un_id``, asked once per
        ten minutes per service user (``chek``, ``chek_service_user``)."""
        key = (company_id, creds.service_user, hash(creds.service_password))
        now = time.monotonic()
        cached = self._id_cache.get(key)
        if cached is not None and now - cached[2] < ID_CACHE_SECONDS:
            return cached[0], cached[1]
        user_id = await client.check_user(creds)
        un_id = await client.check_service_user(creds)
        self._id_cache[key] = (user_id, un_id, now)
        return user_id, un_id

    async def _send_steps(self, company_id: UUID, item: d.EInvoice,
                          creds: d.Credentials, resumed: bool = False) -> None:
        client, invoice, doc = self.client(), item.invoice, item.document_id
        assert invoice is not None
        user_id, seller_un_id = await self._ids(client, company_id, creds)
        note = f"saldo:{doc}"
        rs_id, fresh = item.rs_id, False
        if rs_id is None:
            rs_id = await self._existing_header(client, creds, user_id, item, note, resumed)
            if rs_id is None:
                if invoice.corrects_rs_id is not None:
                    rs_id = await client.correct(creds, user_id, invoice.corrects_rs_id,
                                                 invoice.correction_type or
                                                 d.CorrectionType.PRICE_CHANGED)
                else:
                    buyer_un_id = self._un_ids.get(invoice.buyer_tax_id)
                    if buyer_un_id is None:
                        buyer_un_id, _ = await client.un_id(creds, user_id,
                                                            invoice.buyer_tax_id)
                        self._un_ids[invoice.buyer_tax_id] = buyer_un_id
                    rs_id = await client.save_invoice(
                        creds, user_id, operation_date=tbilisi_midnight(invoice.date),
                        seller_un_id=seller_un_id, buyer_un_id=buyer_un_id, note=note)
                fresh = True  # made just now: saved, with no lines
            # Recorded before any line is sent: a resend never makes a second header.
            await self._record(company_id, doc, d.EInvoiceHeaderSaved(rs_id, item.attempts + 1))
        if fresh:
            unsent, held = True, 0
        else:
            # A resend asks rs.ge what it has: sent already? which lines (a line whose
            # answer was lost is there, unrecorded)?
            state = await client.invoice(creds, user_id, rs_id)
            unsent = state.status in (d.NtosStatus.SAVED, d.NtosStatus.NEW_CORRECTION)
            held = len(await client.lines(creds, user_id, rs_id)) if unsent else 0
        if unsent:
            for index, line in enumerate(invoice.lines):
                if index < held:
                    continue
                line_id = await client.save_line(
                    creds, user_id, rs_id, goods=line.goods[:250], unit=line.unit,
                    quantity=line.quantity, full_amount=line.full_amount, vat=line.vat,
                    excise=line.excise)
                await self._record(company_id, doc, d.EInvoiceLineSaved(index, line_id))
            await client.change_status(creds, user_id, rs_id,
                                       d.SEND_CORRECTION if invoice.corrects_rs_id else d.SEND)
            state = await client.invoice(creds, user_id, rs_id)
        d.buyer_decision(state.status)  # an unknown code is a finding, not a success
        await self._record(company_id, doc,
                           d.EInvoiceSent(rs_id, state.series, state.number, state.status))

    async def _existing_header(self, client: RsClient, creds: d.Credentials, user_id: int,
                               item: d.EInvoice, note: str, resumed: bool) -> int | None:
        """The header rs.ge accepted in an earlier attempt whose answer was lost."""
        invoice = item.invoice
        assert invoice is not None
        if item.attempts == 0 and not resumed:
            return None  # the first attempt, and nobody died in one: nothing is there yet
        if invoice.corrects_rs_id is not None:
            original = await client.invoice(creds, user_id, invoice.corrects_rs_id)
            return original.correction_id
        un_id = await client.check_service_user(creds)
        day = tbilisi_midnight(invoice.date)
        rows = await client.seller_invoices(creds, user_id, un_id, day,
                                            day + timedelta(days=1, seconds=-1))
        found = [int(r["ID"]) for r in rows if r.get("NOTE") == note and r.get("ID")]
        return found[0] if found else None

    async def poll_sent(self, limit: int = 200) -> int:
        """Ask rs.ge about sent invoices whose poll is due: the buyer's decision."""
        claimed = await self._claim("sent", limit)
        for company_id, document_id, _ in claimed:
            try:
                await self._poll(company_id, document_id)
            except (RsCallFailed, d.NoCredentials) as exc:
                await self._note(company_id, document_id, str(exc))
        return len(claimed)

    async def _note(self, company_id: UUID, document_id: UUID, error: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE rs_einvoices SET last_error = %s WHERE company_id = %s"
                               " AND document_id = %s", (error[:500], company_id, document_id))

    async def _poll(self, company_id: UUID, document_id: UUID) -> None:
        creds = await self._require_credentials(company_id)

        async def load(uow: UnitOfWork) -> d.EInvoice:
            return await self._load(uow, document_id)

        item = await self.units.run(company_id, SYSTEM, load)
        if item.rs_id is None or item.status is not d.EInvoiceStatus.SENT:
            return
        client = self.client()
        user_id = await client.check_user(creds)
        state = await client.invoice(creds, user_id, item.rs_id)
        try:
            decision = d.buyer_decision(state.status)
        except d.UnknownStatus as exc:
            await self._note(company_id, document_id, exc.detail)
            return
        if decision is not None:
            await self._record(company_id, document_id,
                               d.EInvoiceDecided(decision.value, state.status))

    async def refresh(self, company_id: UUID, document_id: UUID) -> dict[str, Any]:
        """Poll one invoice now (``GET …/e-invoice?refresh=true``, ``saldo rs poll``)."""
        async with self._calling():
            await self._poll(company_id, document_id)
        return await self.einvoice(company_id, document_id)

    # ------------------------------------------------------------------ the worker loop

    async def run_forever(self, stop: asyncio.Event, interval: float = 1.0) -> None:
        """Deliver, poll and sync until ``stop``; a failing round is logged and retried."""
        while not stop.is_set():
            busy = False
            try:
                busy = await self.deliver_due() > 0
                await self.poll_sent()
                await self.scheduled_sync()
                await self.recheck_pending()
            except Exception as exc:  # a database outage: try again next round
                log.warning("rs_worker_round_failed", error=repr(exc)[:300])
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=interval)

    async def scheduled_sync(self) -> int:
        minutes = self.settings.sync_minutes
        if not minutes:
            return 0
        now = self.clock()
        async with self.db.transaction() as conn:
            cursor = await conn.execute("SELECT company_id FROM rs_credentials")
            companies = [r["company_id"] for r in await cursor.fetchall()]
        done = 0
        for company_id in companies:
            last = self._last_sync.get(company_id)
            if last is not None and now - last < timedelta(minutes=minutes):
                continue
            self._last_sync[company_id] = now
            try:
                await self.sync(company_id, SYSTEM)
                done += 1
            except Exception as exc:  # one company's outage does not stop the others
                log.info("rs_scheduled_sync_failed", company_id=str(company_id),
                         error=str(exc)[:300])
        return done

    # ------------------------------------------------------------------ incoming

    async def sync(self, company_id: UUID, actor: Actor) -> dict[str, Any]:
        """Pull the e-invoices and waybills suppliers issued to the company; match each
        invoice to a purchase bill (supplier tax id, number, amount)."""
        creds = await self._require_credentials(company_id)
        client = self.client()
        end = tbilisi_now()
        start = end - timedelta(days=FIRST_SYNC_DAYS)
        async with self._calling():
            user_id = await client.check_user(creds)
            un_id = await client.check_service_user(creds)
            rows = await client.buyer_invoices(creds, user_id, un_id, start, end)
            waybills = await client.buyer_waybills(creds, start, end)
        invoices, findings = parse_incoming(rows)

        async def use_case(uow: UnitOfWork) -> dict[str, Any]:
            matched = 0
            for invoice in invoices:
                matched += await self._upsert_incoming(uow, invoice)
            for wb in waybills:
                await _upsert_incoming_waybill(uow.conn, company_id, wb)
            await uow.conn.execute("UPDATE rs_credentials SET last_sync_at = now()"
                                   " WHERE company_id = %s", (company_id,))
            return {"invoices": len(invoices), "matched": matched, "waybills": len(waybills),
                    "findings": findings}

        return await self.units.run(company_id, actor, use_case)

    async def _upsert_incoming(self, uow: UnitOfWork, invoice: d.IncomingInvoice) -> int:
        company_id = uow.company_id
        existing = await queries.incoming(uow.conn, company_id, invoice.rs_id)
        if existing is not None and existing["bill_id"] is not None:
            await uow.conn.execute(
                "UPDATE rs_incoming SET rs_status = %s, synced_at = now()"
                " WHERE company_id = %s AND rs_id = %s",
                (invoice.rs_status, company_id, invoice.rs_id))
            return 0
        taken = await queries.matched_bills(uow.conn, company_id)
        candidates = [c for c in await self.billing.bill_candidates(
            uow.conn, company_id, invoice.supplier_tax_id) if c.document_id not in taken]
        bill, how = d.match_bill(invoice, candidates)
        held, held_by = await self._hold_input_vat(uow, invoice, bill)
        await uow.conn.execute(
            "INSERT INTO rs_incoming (company_id, rs_id, series, number, date, supplier_tax_id,"
            " supplier_name, total, vat, rs_status, bill_id, match, vat_held, vat_transaction)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (company_id, rs_id) DO UPDATE SET rs_status = excluded.rs_status,"
            " bill_id = excluded.bill_id, match = excluded.match,"
            " vat_held = excluded.vat_held, vat_transaction = excluded.vat_transaction,"
            " synced_at = now()",
            (company_id, invoice.rs_id, invoice.series, invoice.number, invoice.date,
             invoice.supplier_tax_id, invoice.supplier_name, invoice.total, invoice.vat,
             invoice.rs_status, bill.document_id if bill else None, how, held, held_by))
        return 1 if bill is not None else 0

    async def _hold_input_vat(self, uow: UnitOfWork, invoice: d.IncomingInvoice,
                              bill: d.BillCandidate | None) -> tuple[Decimal, UUID | None]:
        """A posted bill matched to an e-invoice the company has not confirmed yet: its
        input VAT moves from 3340 to 3344 (Dr 3344 / Cr 3340) until it is confirmed --
        the e-invoice is what supports the credit (georgia.md §1.6, Tax Code Art. 175)."""
        if self.ledger is None or bill is None or not bill.posted or invoice.vat <= 0 or \
                not d.awaiting_buyer(invoice.rs_status):
            return Decimal(0), None
        posted = await self.ledger.post_journal(uow, JournalDraft(
            invoice.date, f"Input VAT awaiting confirmation on rs.ge: {invoice.reference}",
            [LineDraft(d.INPUT_VAT_AWAITING, debit=invoice.vat),
             LineDraft(d.INPUT_VAT, credit=invoice.vat)],
            source=SourceRef("rs_incoming_invoice", bill.document_id),
            reference=invoice.reference))
        return invoice.vat, posted.id

    async def decide_incoming(self, company_id: UUID, actor: Actor, rs_id: int, *,
                              confirm: bool, reason: str = "") -> dict[str, Any]:
        """Confirm (``acsept_invoice_status``) or reject (``ref_invoice_status``) an
        incoming e-invoice on rs.ge, then record the decision."""
        creds = await self._require_credentials(company_id)

        async def read(uow: UnitOfWork) -> dict[str, Any] | None:
            return await queries.incoming(uow.conn, company_id, rs_id)

        row = await self.units.run(company_id, actor, read)
        if row is None:
            raise d.IncomingNotFound(f"No incoming e-invoice {rs_id}; sync first.",
                                     rs_id=rs_id)
        if row["decision"] is not None:
            raise Conflict(f"This e-invoice was {row['decision']} already.",
                           decision=row["decision"])
        if not confirm and not reason.strip():
            raise RuleViolation("A rejection needs a reason.", field="reason")
        client = self.client()
        async with self._calling():
            user_id = await client.check_user(creds)
            if confirm:
                await client.accept(creds, user_id, rs_id)
            else:
                await client.reject(creds, user_id, rs_id, reason.strip())
        decision = "confirmed" if confirm else "rejected"

        async def record(uow: UnitOfWork) -> dict[str, Any]:
            held = Decimal(row["vat_held"])
            if confirm and held > 0 and self.ledger is not None:
                # Confirmed: the held VAT is recoverable again (Dr 3340 / Cr 3344).
                await self.ledger.post_journal(uow, JournalDraft(
                    tbilisi_now().date(),
                    f"Input VAT confirmed on rs.ge: {row['series']} {row['number']}",
                    [LineDraft(d.INPUT_VAT, debit=held),
                     LineDraft(d.INPUT_VAT_AWAITING, credit=held)],
                    source=SourceRef("rs_incoming_invoice", row["bill_id"]),
                    reference=f"{row['series']} {row['number']}".strip()))
                await uow.conn.execute("UPDATE rs_incoming SET vat_held = 0 WHERE"
                                       " company_id = %s AND rs_id = %s", (company_id, rs_id))
            await uow.conn.execute(
                "UPDATE rs_incoming SET decision = %s, decided_by = %s, decided_at = now(),"
                " rs_status = %s WHERE company_id = %s AND rs_id = %s",
                (decision, actor.username,
                 d.NtosStatus.CONFIRMED if confirm else d.NtosStatus.SAVED, company_id, rs_id))
            found = await queries.incoming(uow.conn, company_id, rs_id)
            assert found is not None
            return found

        return await self.units.run(company_id, actor, record)

    async def draft_bill(self, ctx: CompanyContext, rs_id: int) -> dict[str, Any]:
        """Offer an unmatched incoming e-invoice as a draft purchase bill (billing drafts
        it, registering the supplier from rs.ge's name if it is new)."""
        company_id, actor = ctx.company_id, Actor(ctx.user.id, ctx.user.username)

        async def read(uow: UnitOfWork) -> dict[str, Any] | None:
            return await queries.incoming(uow.conn, company_id, rs_id)

        row = await self.units.run(company_id, actor, read)
        if row is None:
            raise d.IncomingNotFound(f"No incoming e-invoice {rs_id}; sync first.",
                                     rs_id=rs_id)
        if row["bill_id"] is not None:
            raise Conflict("This e-invoice is matched to a bill already.",
                           bill_id=str(row["bill_id"]))
        invoice = d.IncomingInvoice(rs_id, row["series"], row["number"], row["date"],
                                    row["supplier_tax_id"], row["supplier_name"],
                                    row["total"], row["vat"], row["rs_status"])
        bill_id = await self.billing.draft_bill(ctx, invoice)

        async def mark(uow: UnitOfWork) -> None:
            await uow.conn.execute("UPDATE rs_incoming SET bill_id = %s, match = 'draft'"
                                   " WHERE company_id = %s AND rs_id = %s",
                                   (bill_id, company_id, rs_id))

        await self.units.run(company_id, actor, mark)
        return {"bill_id": bill_id}

    async def register_counterparty(self, ctx: CompanyContext, tax_id: str) -> dict[str, Any]:
        """A counterparty created from its tax id: rs.ge fills the name and the VAT status
        (``get_name_from_tin``, ``is_vat_payer_tin``; issue 15 item 5)."""
        found = await self.lookup_taxpayer(ctx.company_id, tax_id)
        counterparty_id = await self.billing.register_counterparty(
            ctx, found["name"], tax_id, found["vat_payer"],
            "VAT payer" if found["vat_payer"] else "not a VAT payer")
        return {"id": counterparty_id, **found}

    # ------------------------------------------------------------------ look-ups

    async def lookup_taxpayer(self, company_id: UUID, tax_id: str) -> dict[str, Any]:
        """``get_name_from_tin`` and ``is_vat_payer_tin`` (issue 15 item 5)."""
        if not (tax_id.isascii() and tax_id.isdigit() and len(tax_id) in (9, 11)):
            raise RuleViolation("A tax id has 9 or 11 digits.", field="tax_id")
        creds = await self._require_credentials(company_id)
        client = self.client()
        async with self._calling():
            name = await client.name_from_tin(creds, tax_id)
            if not name:
                await client.check_service_user(creds)  # a wrong password answers "" too
                raise d.RsRejectedRequest(f"rs.ge knows no taxpayer {tax_id}.",
                                          operation="get_name_from_tin")
            vat_payer = await client.is_vat_payer(creds, tax_id)
        return {"tax_id": tax_id, "name": name, "vat_payer": vat_payer}

    async def lookup_if_configured(self, company_id: UUID, tax_id: str) -> TaxIdCheck | None:
        """Billing's hook on counterparty creation (``BillingService.counterparty_lookups``,
        decision 0063): None when the company has no service user (nothing is checked);
        else what rs.ge said -- ``verified`` with its name and VAT status, ``unknown``,
        ``failed`` when it refused the service user (or the stored password does not
        decrypt), ``pending`` when it could not be asked within
        :data:`LOOKUP_BUDGET_SECONDS` (creation goes on; the worker asks again)."""
        async def read(uow: UnitOfWork) -> d.Credentials | None:
            return await self._credentials(uow.conn, company_id)

        try:
            creds = await self.units.run(company_id, SYSTEM, read)
        except CredentialsUnreadable:
            return TaxIdCheck("failed", "rs.ge", detail="the stored rs.ge password does not "
                              "decrypt with this key; set the service user again")
        if creds is None:
            return None
        return await self._check_tax_id(creds, tax_id)

    async def _check_tax_id(self, creds: d.Credentials, tax_id: str) -> TaxIdCheck:
        client = self.client()

        async def ask() -> tuple[str, bool]:
            name = await client.name_from_tin(creds, tax_id)
            if not name.strip():
                # rs.ge answers an empty name for a wrong password too: an unknown tax id
                # is only believed once the service user is known to be accepted.
                await client.check_service_user(creds)
                return "", False
            return name, await client.is_vat_payer(creds, tax_id)

        budget = min(self.settings.timeout, LOOKUP_BUDGET_SECONDS)
        try:
            name, vat_payer = await asyncio.wait_for(ask(), timeout=budget)
        except RsAuthFailed as exc:
            return TaxIdCheck("failed", "rs.ge", detail=exc.message[:300])
        except (RsCallFailed, TimeoutError) as exc:
            detail = (exc.message if isinstance(exc, RsCallFailed)
                      else f"rs.ge did not answer within {budget:g} s")
            log.info("rs_lookup_pending", error=detail[:200])
            return TaxIdCheck("pending", "rs.ge", detail=detail[:300])
        if not name.strip():
            return TaxIdCheck("unknown", "rs.ge", detail=f"rs.ge knows no taxpayer {tax_id}")
        return TaxIdCheck("verified", "rs.ge", name.strip(), vat_payer,
                          detail="VAT payer" if vat_payer else "not a VAT payer")

    async def recheck_counterparty(self, company_id: UUID, actor: Actor,
                                   counterparty_id: UUID) -> dict[str, Any]:
        """Ask rs.ge again about a counterparty's tax id and record what it said."""
        async def read(uow: UnitOfWork) -> str | None:
            return await self.billing.counterparty_tax_id(uow.conn, company_id,
                                                          counterparty_id)

        tax_id = await self.units.run(company_id, actor, read)
        if tax_id is None:
            raise RuleViolation("This counterparty has no Georgian tax id to check.",
                                field="tax_id")
        creds = await self._require_credentials(company_id)
        check = await self._check_tax_id(creds, tax_id)
        await self.billing.record_check(company_id, actor, counterparty_id, check)
        status = "not_registered" if check.status == "unknown" else check.status
        return {"counterparty_id": counterparty_id, "tax_id": tax_id, "status": status,
                "name": check.name, "vat_payer": check.vat_payer, "detail": check.detail}

    async def recheck_pending(self) -> int:
        """The worker's sweep: counterparties whose check was left ``pending`` are asked
        about again, at most once per poll interval (``SALDO_RS_POLL_SECONDS``)."""
        now = self.clock()
        if self._last_recheck is not None and \
                now - self._last_recheck < timedelta(seconds=self.settings.poll_seconds):
            return 0
        self._last_recheck = now
        async with self.db.transaction() as conn:
            cursor = await conn.execute("SELECT company_id FROM rs_credentials")
            companies = [r["company_id"] for r in await cursor.fetchall()]
        done = 0
        for company_id in companies:
            async def pending(uow: UnitOfWork) -> list[tuple[UUID, str]]:
                return await self.billing.pending_checks(uow.conn, uow.company_id)

            try:
                waiting = await self.units.run(company_id, SYSTEM, pending)
                if not waiting:
                    continue
                creds = await self._require_credentials(company_id)
                for counterparty_id, tax_id in waiting:
                    check = await self._check_tax_id(creds, tax_id)
                    if check.status == "pending":
                        break  # still unreachable: the next sweep tries again
                    await self.billing.record_check(company_id, SYSTEM, counterparty_id,
                                                    check)
                    done += 1
            except Exception as exc:  # one company's trouble does not stop the others
                log.info("rs_recheck_failed", company_id=str(company_id),
                         error=str(exc)[:300])
        return done

    # ------------------------------------------------------------------ waybills

    async def create_waybill(self, company_id: UUID, actor: Actor,
                             draft: d.WaybillDraft) -> dict[str, Any]:
        """Save a waybill on rs.ge (status saved); from a sales invoice's goods lines when
        ``document_id`` is given and no lines are."""
        if draft.document_id is not None and not draft.lines:
            async def goods(uow: UnitOfWork) -> list[d.WaybillLine] | None:
                assert draft.document_id is not None
                return await self.billing.goods_lines(uow.conn, company_id, draft.document_id)

            lines = await self.units.run(company_id, actor, goods)
            if lines is None:
                raise NotFound(f"No posted sales invoice {draft.document_id}.",
                               document_id=str(draft.document_id))
            draft = _with_lines(draft, tuple(lines))
        draft.check()
        creds = await self._require_credentials(company_id)
        client = self.client()
        body = waybill_payload(draft)
        async with self._calling():
            answer = await client.save_waybill(creds, body)
        rs_id = int(str(answer.get("ID") or 0))
        waybill_id = uuid4()

        async def record(uow: UnitOfWork) -> dict[str, Any]:
            await uow.conn.execute(
                "INSERT INTO rs_waybills (company_id, id, direction, rs_id, status, type,"
                " document_id, buyer_tax_id, buyer_name, start_address, end_address, total,"
                " body) VALUES (%s, %s, 'outgoing', %s, 'saved', %s, %s, %s, %s, %s, %s, %s,"
                " %s::jsonb)",
                (company_id, waybill_id, rs_id, draft.type, draft.document_id,
                 draft.buyer_tax_id, draft.buyer_name, draft.start_address, draft.end_address,
                 draft.total, orjson.dumps(body, default=str).decode()))
            found = await queries.waybill(uow.conn, company_id, waybill_id)
            assert found is not None
            return found

        return await self.units.run(company_id, actor, record)

    async def waybill_action(self, company_id: UUID, actor: Actor, waybill_id: UUID,
                             action: str) -> dict[str, Any]:
        """activate (``send_waybill``), close, cancel (``del_waybill`` while saved,
        ``ref_waybill`` once active), and for incoming ones confirm or reject."""

        async def read(uow: UnitOfWork) -> dict[str, Any] | None:
            return await queries.waybill(uow.conn, company_id, waybill_id)

        row = await self.units.run(company_id, actor, read)
        if row is None:
            raise d.WaybillNotFound(f"No waybill {waybill_id}.", id=str(waybill_id))
        outgoing = row["direction"] == "outgoing"
        table: dict[str, tuple[bool, tuple[str, ...], str, str | None]] = {
            "activate": (True, ("saved",), "send_waybill", "active"),
            "close": (True, ("active",), "close_waybill", "closed"),
            "cancel": (True, ("saved", "active", "closed"), "", None),
            "confirm": (False, ("active", "closed"), "confirm_waybill", None),
            "reject": (False, ("active", "closed"), "reject_waybill", None),
        }
        if action not in table:
            raise NotFound(f"No waybill action {action}.")
        for_outgoing, states, operation, target = table[action]
        if for_outgoing != outgoing or row["status"] not in states or \
                (not outgoing and row["buyer_decision"] is not None):
            raise Conflict(f"A {row['direction']} waybill that is {row['status']} cannot be "
                           f"{action}ed.", status=row["status"])
        if action == "cancel":
            operation = "del_waybill" if row["status"] == "saved" else "ref_waybill"
            target = "deleted" if row["status"] == "saved" else "cancelled"
        creds = await self._require_credentials(company_id)
        async with self._calling():
            answer = await self.client().waybill_action(creds, operation, int(row["rs_id"]))

        async def record(uow: UnitOfWork) -> dict[str, Any]:
            if outgoing:
                await uow.conn.execute(
                    "UPDATE rs_waybills SET status = %s, number = coalesce(%s, number),"
                    " updated_at = now() WHERE company_id = %s AND id = %s",
                    (target, answer if action == "activate" else None, company_id, waybill_id))
            else:
                await uow.conn.execute(
                    "UPDATE rs_waybills SET buyer_decision = %s, updated_at = now()"
                    " WHERE company_id = %s AND id = %s",
                    ("confirmed" if action == "confirm" else "rejected", company_id,
                     waybill_id))
            found = await queries.waybill(uow.conn, company_id, waybill_id)
            assert found is not None
            return found

        return await self.units.run(company_id, actor, record)

    # ------------------------------------------------------------------ reads

    async def read(self, company_id: UUID,
                   query: Callable[[Connection], Awaitable[T]]) -> T:
        async def use_case(uow: UnitOfWork) -> T:
            return await query(uow.conn)

        return await self.units.run(company_id, SYSTEM, use_case)


# ---------------------------------------------------------------------- helpers


def _with_lines(draft: d.WaybillDraft, lines: tuple[d.WaybillLine, ...]) -> d.WaybillDraft:
    from dataclasses import replace

    return replace(draft, lines=lines)


def waybill_payload(draft: d.WaybillDraft) -> dict[str, Any]:
    """The ``WAYBILL`` element of ``save_waybill`` (georgia.md §8.2 field names, sic)."""
    return {
        "ID": 0, "TYPE": draft.type, "BUYER_TIN": draft.buyer_tax_id,
        "CHEK_BUYER_TIN": 0 if draft.foreign_buyer else 1, "BUYER_NAME": draft.buyer_name,
        "START_ADDRESS": draft.start_address, "END_ADDRESS": draft.end_address,
        "DRIVER_TIN": draft.driver_tax_id, "CHEK_DRIVER_TIN": 1 if draft.driver_tax_id else 0,
        "DRIVER_NAME": draft.driver_name, "TRANSPORT_COAST": draft.transport_cost,
        "STATUS": 0, "SELER_UN_ID": 0, "PAR_ID": 0, "FULL_AMOUNT": draft.total,
        "CAR_NUMBER": draft.car_number, "BEGIN_DATE": tbilisi_now(),
        "TRAN_COST_PAYER": draft.transport_cost_payer, "TRANS_ID": draft.transport_type,
        "COMMENT": draft.comment,
        "GOODS_LIST": {"GOODS": [
            {"ID": 0, "W_NAME": line.name, "UNIT_ID": line.unit_id, "UNIT_TXT": line.unit_text,
             "QUANTITY": line.quantity, "PRICE": line.price, "AMOUNT": line.amount,
             "BAR_CODE": line.bar_code, "A_ID": 0, "STATUS": 1} for line in draft.lines]},
    }


def _decimal(value: str) -> Decimal:
    return Decimal(value.strip() or "0")


def parse_incoming(rows: list[dict[str, str]]) -> tuple[list[d.IncomingInvoice], list[str]]:
    """The diffgram rows of ``get_buyer_invoices`` as invoices; a row that cannot be read
    is a finding naming its row number, never a half-read invoice."""
    invoices: list[d.IncomingInvoice] = []
    findings: list[str] = []
    for n, row in enumerate(rows, 1):
        try:
            invoices.append(d.IncomingInvoice(
                rs_id=int(row["ID"]), series=row.get("F_SERIES", ""),
                number=row.get("F_NUMBER", ""),
                date=datetime.fromisoformat(row["OPERATION_DT"]).date(),
                supplier_tax_id=row.get("SA_IDENT_NO", ""),
                supplier_name=row.get("ORG_NAME", ""),
                total=_decimal(row.get("FULL_AMOUNT", "0")),
                vat=_decimal(row.get("DRG_AMOUNT", "0")), rs_status=int(row.get("STATUS", "1"))))
        except (KeyError, ValueError, InvalidOperation) as exc:
            findings.append(f"row {n}: unreadable ({type(exc).__name__}: {str(exc)[:80]})")
    return invoices, findings


async def _upsert_incoming_waybill(conn: Connection, company_id: UUID,
                                   wb: dict[str, Any]) -> None:
    status = d.WAYBILL_STATUS.get(int(str(wb.get("STATUS") or 0)), "unknown")
    await conn.execute(
        "INSERT INTO rs_waybills (company_id, id, direction, rs_id, number, status, type,"
        " buyer_tax_id, buyer_name, seller_tax_id, start_address, end_address, total, body)"
        " VALUES (%s, %s, 'incoming', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb)"
        " ON CONFLICT (company_id, direction, rs_id) DO UPDATE SET status = excluded.status,"
        " number = excluded.number, body = excluded.body, updated_at = now()",
        (company_id, uuid4(), int(str(wb.get("ID"))), wb.get("WAYBILL_NUMBER") or None, status,
         int(str(wb.get("TYPE") or 0)), wb.get("BUYER_TIN", ""), wb.get("BUYER_NAME", ""),
         wb.get("SELLER_TIN") or None, wb.get("START_ADDRESS", ""), wb.get("END_ADDRESS", ""),
         _decimal(str(wb.get("FULL_AMOUNT") or "0")), orjson.dumps(wb).decode()))
