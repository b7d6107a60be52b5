"""Banking's use cases: open a bank account, import a statement (detect, read, check,
skip duplicates, rank suggestions), undo an import, reconcile a line to documents or to
an account and unreconcile it, rules, and the reconciliation figures.

Each use case runs in one unit of work. Reconciling a line posts its journal transaction
through the ledger's posting port (or a payment through billing's, docs/decisions/0014)
in the same transaction as the line's ``LineReconciled`` event: both or neither.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

import orjson
import structlog

from saldo.banking import domain as d
from saldo.banking import formats, queries
from saldo.banking.domain import Finding, OpenItem
from saldo.billing import queries as billing_queries
from saldo.billing.service import (
    AllocationInput,
    BillingService,
    Direction,
    PaymentAlreadyReversed,
    PaymentDraft,
)
from saldo.identity.service import CompanyContext
from saldo.kernel.events import Actor
from saldo.kernel.ids import new_id
from saldo.kernel.money import amount_text
from saldo.ledger import queries as ledger_queries
from saldo.ledger.service import JournalDraft, LedgerService, LineDraft, SourceRef
from saldo.payroll import queries as payroll_queries
from saldo.platform.db import Connection
from saldo.platform.eventstore import NO_STREAM
from saldo.platform.uow import UnitOfWork, UnitsOfWork

log = structlog.get_logger("saldo.banking")

#: Statement files above this size are refused before they are read (the HTTP edge's
#: body limit may be lower; the CLI has no other).
MAX_STATEMENT_BYTES = 50 * 1024 * 1024 - 1

ACCOUNT_STREAM, STATEMENT_STREAM, LINE_STREAM, RULES_STREAM = (
    "banking.account", "banking.statement", "banking.line", "banking.rules")

__all__ = ["BankingService", "ImportResult", "OpenItem", "OpenItemsSource", "PaymentPort"]


_UPSERT_SUGGESTIONS = """
INSERT INTO bank_line_suggestions (company_id, line_id, suggestions)
SELECT %s, x.id, x.s FROM jsonb_to_recordset(%s::jsonb) AS x(id uuid, s jsonb)
ON CONFLICT (company_id, line_id) DO UPDATE SET suggestions = excluded.suggestions
"""


def account_stream(bank_account_id: UUID) -> str:
    return f"{ACCOUNT_STREAM}-{bank_account_id}"


def statement_stream(statement_id: UUID) -> str:
    return f"{STATEMENT_STREAM}-{statement_id}"


def line_stream(line_id: UUID) -> str:
    return f"{LINE_STREAM}-{line_id}"


def rules_stream(company_id: UUID) -> str:
    return f"{RULES_STREAM}-{company_id}"


#: Open documents of one company that bank lines may settle. Contexts above banking's
#: dependencies (billing's invoices and bills, payroll runs, tax returns) append one in
#: their ``connect`` (docs/decisions/0046).
OpenItemsSource = Callable[[Connection, UUID], Awaitable[Sequence[OpenItem]]]


class PaymentPort(Protocol):
    """Billing's payment flow, used inside banking's unit of work: a payment made from a
    bank line and one typed by hand are the same thing."""

    async def pay(self, uow: UnitOfWork, *, counterparty_id: UUID, day: date, direction: str,
                  amount: Decimal, currency: str, account_code: str,
                  allocations: Sequence[tuple[UUID, Decimal]], reference: str
                  ) -> tuple[UUID, UUID]:
        """Post the payment; (payment id, its journal transaction id)."""
        ...

    async def cancel(self, uow: UnitOfWork, payment_id: UUID, reason: str) -> UUID | None:
        """Reverse the payment (its allocations freed); the reversal's transaction id."""
        ...


#: The bank movement that settles each kind of billing document: a customer pays an
#: invoice and a supplier refunds a credit note (money in); the company pays a bill or a
#: debit note and refunds a customer's credit note (money out).
_DIRECTION_OF_KIND = {"sales_invoice": "in", "supplier_credit_note": "in",
                      "purchase_bill": "out", "supplier_debit_note": "out",
                      "credit_note": "out"}


def billing_open_items(billing: BillingService) -> OpenItemsSource:
    """Billing's open documents with their counterparty's tax id and IBAN."""
    async def source(conn: Connection, company_id: UUID) -> list[OpenItem]:
        items = await billing_queries.open_items(conn, company_id)
        if not items:
            return []
        parties = {p["id"]: p for p in await billing_queries.counterparties(
            conn, company_id, None, 1_000_000, None)}
        found = []
        for item in items:
            party = parties.get(item.counterparty_id) or {}
            found.append(OpenItem(
                item.document_id, item.kind, item.number, item.counterparty_id, item.date,
                item.due_date, item.currency, item.amount_due,
                _DIRECTION_OF_KIND.get(item.kind, "in"), party.get("tax_id") or "",
                party.get("iban") or ""))
        return found

    return source


async def payroll_open_items(conn: Connection, company_id: UUID) -> list[OpenItem]:
    """Posted payroll runs not yet paid: their net pay goes out in one transfer (the
    salaries payable, 3130, is what such a line is reconciled to)."""
    found = []
    for run in await payroll_queries.runs(conn, company_id):
        if run["status"] != "posted" or run["paid_on"] is not None:
            continue
        net = Decimal(str((run["totals"] or {}).get("net", "0")))
        if net > 0:
            found.append(OpenItem(run["id"], "payroll_run", f"PAYROLL-{run['period']}",
                                  None, run["payment_date"], run["payment_date"], "GEL", net,
                                  "out"))
    return found


class BillingPayments:
    """The payment port over billing's payment flow (``BillingService.pay``)."""

    def __init__(self, billing: BillingService) -> None:
        self.billing = billing

    async def pay(self, uow: UnitOfWork, *, counterparty_id: UUID, day: date, direction: str,
                  amount: Decimal, currency: str, account_code: str,
                  allocations: Sequence[tuple[UUID, Decimal]], reference: str
                  ) -> tuple[UUID, UUID]:
        result = await self.billing.pay(uow, PaymentDraft(
            counterparty_id, day, Direction(direction), amount,
            [AllocationInput(doc, value) for doc, value in allocations], currency,
            account_code=account_code, reference=reference or None))
        return result.id, result.transaction_id

    async def cancel(self, uow: UnitOfWork, payment_id: UUID, reason: str) -> UUID | None:
        """Billing's payment reversal, dated the payment's day (a closed period refuses
        it: 422 period_closed)."""
        try:
            reversed_ = await self.billing.cancel_payment(uow, payment_id, reason)
        except PaymentAlreadyReversed:
            return None  # reversed in billing already: the line only opens again
        return reversed_.transaction_id


@dataclass(frozen=True, slots=True)
class ImportResult:
    id: UUID
    bank_account_id: UUID
    format: str
    lines_imported: int
    duplicates_skipped: int
    findings: list[Finding]
    #: Seconds per phase (read, store, suggest), for the log and the benchmark.
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reconciled:
    line_id: UUID
    transaction_id: UUID
    payment_id: UUID | None = None
    account_code: str | None = None
    rule_suggestion: dict[str, str] | None = None
    #: The rule made from ``rule_suggestion`` when the reconciliation asked to learn.
    rule_id: UUID | None = None


@dataclass(slots=True)
class RulePreview:
    matches: list[dict[str, Any]] = field(default_factory=list)
    reconciled: list[Reconciled] = field(default_factory=list)


class UnknownLedgerAccount(d.InvalidReconciliation):
    code = "unknown_account"
    title = "Unknown account"


async def _lock_account_code(conn: Connection, company_id: UUID, account_code: str) -> None:
    """Serialise registering a bank account for one ledger account (transaction lock)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 16))",
                       (f"banking.account:{company_id}:{account_code}",))


def _actor(ctx: CompanyContext) -> Actor:
    return Actor(ctx.user.id, ctx.user.username)


def _line_data(line: d.StatementLine, line_id: UUID, key: str, currency: str) -> dict[str, Any]:
    return {"id": str(line_id), "row": line.row, "booking_date": line.booking_date.isoformat(),
            "value_date": line.value_date.isoformat() if line.value_date else None,
            "amount": str(line.amount), "currency": line.currency or currency,
            "bank_id": line.bank_id, "reference": line.reference,
            "description": line.description, "counterparty_name": line.counterparty_name,
            "counterparty_iban": line.counterparty_iban,
            "counterparty_tax_id": line.counterparty_tax_id, "dedup_key": key}


def _as_line(row: dict[str, Any]) -> d.StatementLine:
    return d.StatementLine(row["row_no"], row["booking_date"], Decimal(row["amount"]),
                           row["value_date"], row["bank_id"], row["reference"],
                           row["description"], row["counterparty_name"],
                           row["counterparty_iban"], row["counterparty_tax_id"],
                           row["currency"])


class BankingService:
    def __init__(self, units: UnitsOfWork, ledger: LedgerService) -> None:
        self.units, self.ledger = units, ledger
        self.db = units.db
        #: Appended to by later contexts (billing, payroll, tax) in their ``connect``.
        self.open_item_sources: list[OpenItemsSource] = []
        self.payments: PaymentPort | None = None

    # ------------------------------------------------------------------ open documents

    async def open_items(self, conn: Connection, company_id: UUID) -> list[OpenItem]:
        """Every source's open documents, less what banking has allocated to them since
        the source last counted (a source that counts its payments reports it already)."""
        items: list[OpenItem] = []
        for source in self.open_item_sources:
            items.extend(await source(conn, company_id))
        return items

    # ------------------------------------------------------------------ bank accounts

    async def open_account(self, ctx: CompanyContext, iban: str, currency: str | None,
                           account_code: str, name: str = "") -> dict[str, Any]:
        checked = d.check_iban(iban)

        async def use_case(uow: UnitOfWork) -> dict[str, Any]:
            await _lock_account_code(uow.conn, uow.company_id, account_code)
            return await self._open_account(uow, checked, currency, account_code, name)

        return await self.units.run(ctx.company_id, _actor(ctx), use_case)

    async def _open_account(self, uow: UnitOfWork, iban: str | None, currency: str | None,
                            account_code: str, name: str) -> dict[str, Any]:
        settings = await self.ledger.company(uow.company_id, uow.conn)
        ledger_account = await ledger_queries.account(uow.conn, uow.company_id, account_code)
        if ledger_account is None or not ledger_account["postable"] \
                or not ledger_account["active"]:
            raise UnknownLedgerAccount(
                f"{account_code} is not an active postable account of the chart (a bank "
                "account maps to one, e.g. 1210 or a sub-account of it).",
                account_code=account_code)
        for existing in await queries.bank_accounts(uow.conn, uow.company_id):
            if iban and existing["iban"] == iban:
                raise d.BankAccountExists(f"{iban} is registered already.", iban=iban)
            if existing["account_code"] == account_code:
                raise d.BankAccountExists(
                    f"Ledger account {account_code} has a bank account already.",
                    account_code=account_code)
        currency = (currency or settings.base_currency).upper()
        bank_account_id = new_id()
        bank_code = d.bank_of(iban)[0] if iban else None
        await uow.append(account_stream(bank_account_id), ACCOUNT_STREAM, NO_STREAM, [
            d.BankAccountOpened(bank_account_id, iban or "", currency, account_code, name,
                                bank_code)])
        found = await queries.bank_account(uow.conn, uow.company_id,
                                           bank_account_id=bank_account_id)
        assert found is not None
        return found

    # ------------------------------------------------------------------ import

    async def import_statement(self, ctx: CompanyContext, content: bytes, *,
                               account_code: str | None = None,
                               bank_account_id: UUID | None = None,
                               filename: str = "") -> ImportResult:
        if len(content) > MAX_STATEMENT_BYTES:
            raise d.StatementTooLarge(f"The file is {len(content)} bytes; the limit is "
                                      f"{MAX_STATEMENT_BYTES}.", size=len(content))
        # Read outside the transaction: parsing holds no lock and no connection.
        started = time.perf_counter()
        parsed = formats.read_statement(content)
        read_s = time.perf_counter() - started
        if parsed.refused:
            errors = [f for f in parsed.findings if f.severity == "error"]
            raise d.StatementRefused(
                f"{len(errors)} finding(s) in the file; nothing was imported.",
                findings=[f.as_data() for f in sorted(parsed.findings, key=lambda f: f.row)])
        if not parsed.lines and parsed.opening_balance is None:
            raise d.NotAStatement("The file holds no statement lines and no balances.")
        digest = hashlib.sha256(content).hexdigest()

        async def use_case(uow: UnitOfWork) -> ImportResult:
            return await self._import(uow, parsed, digest, filename, account_code,
                                      bank_account_id)

        result = await self.units.run(ctx.company_id, _actor(ctx), use_case)
        result.timings["read"] = read_s
        return result

    async def _import(self, uow: UnitOfWork, parsed: d.ParsedStatement, digest: str,
                      filename: str, account_code: str | None,
                      bank_account_id: UUID | None) -> ImportResult:
        conn, company = uow.conn, uow.company_id
        if bank_account_id is None and account_code is None:
            raise d.InvalidReconciliation("Name the bank account: account_code or account.")
        if account_code is not None:
            # Two first imports into one ledger account at once: one registers the bank
            # account, the other waits here and then finds it (no unique violation).
            await _lock_account_code(conn, company, account_code)
        account = await queries.bank_account(conn, company, bank_account_id=bank_account_id,
                                             account_code=account_code, lock=True)
        if account is None:
            if bank_account_id is not None or account_code is None:
                raise d.BankAccountNotFound("No such bank account.")
            # The first statement of a ledger account registers its bank account from
            # the statement's own IBAN and currency.
            await self._open_account(uow, parsed.iban, parsed.currency, account_code, "")
            account = await queries.bank_account(conn, company, account_code=account_code,
                                                 lock=True)
            assert account is not None
        if parsed.iban and account["iban"] and parsed.iban != account["iban"]:
            raise d.IbanMismatch(
                f"The statement is of {parsed.iban}; ledger account "
                f"{account['account_code']} is the bank account {account['iban']}.",
                statement_iban=parsed.iban, account_iban=account["iban"])
        if parsed.currency and parsed.currency.upper() != account["currency"]:
            raise d.CurrencyMismatch(
                f"The statement is in {parsed.currency}; the account is in "
                f"{account['currency']}.", statement_currency=parsed.currency,
                account_currency=account["currency"])
        wrong = [ln for ln in parsed.lines
                 if ln.currency and ln.currency.upper() != account["currency"]]
        if wrong:
            raise d.StatementRefused(
                f"{len(wrong)} line(s) in another currency than the account's; nothing was "
                "imported.", findings=[Finding(ln.row, "currency_mismatch",
                                               f"row {ln.row}: {ln.currency}").as_data()
                                       for ln in wrong])
        findings = list(parsed.findings)
        last = await queries.last_closing_balance(conn, company, account["id"])
        if last is not None and parsed.opening_balance is not None \
                and parsed.opening_balance != last:
            findings.append(Finding(0, "balance_gap", (
                f"the opening balance {amount_text(parsed.opening_balance)} does not follow "
                f"the last closing balance {amount_text(last)}: a statement may be missing"),
                "warning"))
        keys = d.dedup_keys(parsed.lines)
        cursor = await conn.execute(
            "SELECT dedup_key FROM bank_lines WHERE company_id = %s AND bank_account_id = %s"
            " AND dedup_key = ANY(%s)", (company, account["id"], keys))
        known = {r["dedup_key"] for r in await cursor.fetchall()}
        fresh: list[tuple[d.StatementLine, UUID, str]] = []
        seen: set[str] = set()
        for line, key in zip(parsed.lines, keys, strict=True):
            if key in known or key in seen:
                continue
            seen.add(key)
            fresh.append((line, new_id(), key))
        skipped = len(parsed.lines) - len(fresh)
        statement_id = new_id()
        started = time.perf_counter()
        await uow.append(statement_stream(statement_id), STATEMENT_STREAM, NO_STREAM, [
            d.StatementImported(
                statement_id, account["id"], parsed.format, filename[:200], digest,
                parsed.opening_balance, parsed.closing_balance, skipped,
                tuple(_line_data(ln, lid, key, account["currency"]) for ln, lid, key in fresh),
                tuple(f.as_data() for f in findings))])
        stored = time.perf_counter()
        if fresh:
            await self._store_suggestions(uow, [(lid, ln) for ln, lid, _ in fresh])
        timings = {"store": stored - started, "suggest": time.perf_counter() - stored}
        log.info("statement_imported", statement=str(statement_id), format=parsed.format,
                 lines=len(fresh), skipped=skipped,
                 ms={k: round(v * 1000) for k, v in timings.items()})
        return ImportResult(statement_id, account["id"], parsed.format, len(fresh), skipped,
                            findings, timings)

    async def _store_suggestions(self, uow: UnitOfWork,
                                 lines: Sequence[tuple[UUID, d.StatementLine]]) -> int:
        started = time.perf_counter()
        items = await self.open_items(uow.conn, uow.company_id)
        if not items:
            return 0
        loaded = time.perf_counter()
        matcher = d.Matcher(items)
        rows = []
        for line_id, line in lines:
            found = matcher.suggest(line)
            if found:
                rows.append({"id": str(line_id), "s": [matcher.as_data(s) for s in found]})
        ranked = time.perf_counter()
        if rows:
            await uow.conn.execute(_UPSERT_SUGGESTIONS,
                                   (uow.company_id, orjson.dumps(rows).decode()))
        log.info("suggestions_stored", documents=len(items), lines=len(rows),
                 ms={"documents": round((loaded - started) * 1000),
                     "rank": round((ranked - loaded) * 1000),
                     "write": round((time.perf_counter() - ranked) * 1000)})
        return len(rows)

    async def refresh_suggestions(self, ctx: CompanyContext) -> int:
        """Rank again every unreconciled line against the open documents of now."""
        async def use_case(uow: UnitOfWork) -> int:
            cursor = await uow.conn.execute(
                f"SELECT {queries.LINE_COLUMNS} FROM {queries.LINES} WHERE l.company_id = %s"
                " AND l.status = 'unreconciled'", (uow.company_id,))
            rows = await cursor.fetchall()
            await uow.conn.execute("DELETE FROM bank_line_suggestions WHERE company_id = %s",
                                   (uow.company_id,))
            return await self._store_suggestions(uow, [(r["id"], _as_line(r)) for r in rows])

        return await self.units.run(ctx.company_id, _actor(ctx), use_case)

    # ------------------------------------------------------------------ undo

    async def undo_import(self, ctx: CompanyContext, statement_id: UUID) -> None:
        async def use_case(uow: UnitOfWork) -> None:
            found = await queries.statement(uow.conn, uow.company_id, statement_id)
            if found is None:
                raise d.StatementNotFound("No such statement.")
            # Locks every line of the statement: a concurrent reconciliation of one of them
            # either committed first (and is seen here) or waits and finds it gone.
            cursor = await uow.conn.execute(
                "SELECT count(*) FILTER (WHERE status = 'reconciled') AS reconciled FROM"
                " (SELECT status FROM bank_lines WHERE company_id = %s AND statement_id = %s"
                " FOR UPDATE) AS locked", (uow.company_id, statement_id))
            row = await cursor.fetchone()
            assert row is not None
            if row["reconciled"]:
                raise d.StatementHasReconciledLines(
                    f"{row['reconciled']} line(s) of the statement are reconciled; "
                    "unreconcile them first.", reconciled=row["reconciled"])
            version = await uow.version(statement_stream(statement_id))
            await uow.append(statement_stream(statement_id), STATEMENT_STREAM, version, [
                d.StatementUndone(statement_id, found["bank_account_id"])])

        await self.units.run(ctx.company_id, _actor(ctx), use_case)

    # ------------------------------------------------------------------ reconcile

    async def _line_for_update(self, uow: UnitOfWork, line_id: UUID
                               ) -> tuple[dict[str, Any], dict[str, Any], d.LineState]:
        row = await queries.line(uow.conn, uow.company_id, line_id, lock=True)
        if row is None:
            raise d.LineNotFound("No such bank statement line.")
        account = await queries.bank_account(uow.conn, uow.company_id,
                                             bank_account_id=row["bank_account_id"])
        assert account is not None
        events = [d.EVENTS[e.type].from_data(e.data)
                  for e in await uow.read(line_stream(line_id))]
        return row, account, d.LineState.replay(line_id, events)

    async def reconcile(self, ctx: CompanyContext, line_id: UUID, *,
                        allocations: Sequence[tuple[UUID, Decimal]] | None = None,
                        account_code: str | None = None,
                        exchange_rate: Decimal | None = None,
                        learn: bool = False) -> Reconciled:
        """``learn``: also make the rule learnt from the line (``rule_suggestion``), so
        that the next such lines go the same way with one confirmation."""
        if (allocations is None) == (account_code is None):
            raise d.InvalidReconciliation("Give either allocations or account_code.")
        if learn and account_code is None:
            raise d.InvalidReconciliation("Rules are learnt from reconciling to an account.")

        async def use_case(uow: UnitOfWork) -> Reconciled:
            if account_code is not None:
                done = await self._to_account(uow, line_id, account_code, exchange_rate)
                if learn and done.rule_suggestion:
                    rule = done.rule_suggestion
                    rule_id = await self._add_rule(uow, rule["contains"], account_code,
                                                   rule["direction"])
                    return dataclasses.replace(done, rule_id=rule_id)
                return done
            assert allocations is not None
            return await self._to_documents(uow, line_id, allocations)

        return await self.units.run(ctx.company_id, _actor(ctx), use_case)

    async def _to_account(self, uow: UnitOfWork, line_id: UUID, account_code: str,
                          exchange_rate: Decimal | None, rule_id: UUID | None = None
                          ) -> Reconciled:
        row, account, state = await self._line_for_update(uow, line_id)
        state.ensure_open()
        if account_code == account["account_code"]:
            raise d.InvalidReconciliation("A line cannot be reconciled to its own bank account.")
        amount = Decimal(row["amount"])
        size = abs(amount)
        bank, other = account["account_code"], account_code
        lines = ([LineDraft(bank, debit=size), LineDraft(other, credit=size)] if amount > 0
                 else [LineDraft(other, debit=size), LineDraft(bank, credit=size)])
        settings = await self.ledger.company(uow.company_id, uow.conn)
        currency = row["currency"]
        posted = await self.ledger.post_journal(uow, JournalDraft(
            date=row["booking_date"], description=(row["description"] or "Bank line")[:500],
            lines=lines, source=SourceRef("bank_line", line_id),
            reference=(row["bank_id"] or row["reference"] or None),
            currency=None if currency == settings.base_currency else currency,
            exchange_rate=exchange_rate))
        event = d.LineReconciled(line_id, row["statement_id"], posted.id,
                                 account_code=account_code, rule_id=rule_id)
        await uow.append(line_stream(line_id), LINE_STREAM, state.version,
                         [event])
        phrase = d.learned_phrase(row["description"] or row["counterparty_name"] or "")
        suggestion = ({"contains": phrase, "account_code": account_code,
                       "direction": "in" if amount > 0 else "out"} if phrase else None)
        return Reconciled(line_id, posted.id, account_code=account_code,
                          rule_suggestion=suggestion)

    async def _to_documents(self, uow: UnitOfWork, line_id: UUID,
                            allocations: Sequence[tuple[UUID, Decimal]]) -> Reconciled:
        row, account, state = await self._line_for_update(uow, line_id)
        state.ensure_open()
        if self.payments is None:
            raise d.DocumentsUnavailable(
                "No document flow is installed to allocate to; reconcile to an account.")
        items = {i.document_id: i for i in await self.open_items(uow.conn, uow.company_id)}
        amount = Decimal(row["amount"])
        d.check_allocations(amount, allocations, items)
        parties = {items[doc].counterparty_id for doc, _ in allocations}
        if len(parties) != 1 or None in parties:
            raise d.InvalidReconciliation("The documents of one line must be of one "
                                          "counterparty (one payment).")
        counterparty = parties.pop()
        assert counterparty is not None
        payment_id, transaction_id = await self.payments.pay(
            uow, counterparty_id=counterparty, day=row["booking_date"],
            direction="in" if amount > 0 else "out", amount=abs(amount),
            currency=row["currency"], account_code=account["account_code"],
            allocations=allocations, reference=row["bank_id"] or row["reference"])
        event = d.LineReconciled(
            line_id, row["statement_id"], transaction_id, payment_id=payment_id,
            allocations=tuple({"document_id": str(doc), "amount": str(value)}
                              for doc, value in allocations))
        await uow.append(line_stream(line_id), LINE_STREAM, state.version,
                         [event])
        await self._spend_suggestions(uow, dict(allocations))
        return Reconciled(line_id, transaction_id, payment_id=payment_id)

    async def _spend_suggestions(self, uow: UnitOfWork, paid: dict[UUID, Decimal]) -> None:
        """Other lines' suggestions of the documents just paid: their amount due less the
        payment, dropped when nothing is due."""
        ids = [str(doc) for doc in paid]
        cursor = await uow.conn.execute(
            "SELECT line_id AS id, suggestions FROM bank_line_suggestions WHERE company_id = %s"
            " AND jsonb_path_exists(suggestions, '$[*] ? (@.document_id == $ids[*])',"
            " jsonb_build_object('ids', %s::jsonb))",
            (uow.company_id, orjson.dumps(ids).decode()))
        updates = []
        for r in await cursor.fetchall():
            kept = []
            for s in r["suggestions"]:
                due = Decimal(s["amount_due"]) - paid.get(UUID(s["document_id"]), Decimal(0))
                if due > 0:
                    kept.append({**s, "amount_due": amount_text(due),
                                 "allocate": amount_text(min(due, Decimal(s["allocate"])))})
            updates.append({"id": str(r["id"]), "s": kept})
        if updates:
            await uow.conn.execute(_UPSERT_SUGGESTIONS,
                                   (uow.company_id, orjson.dumps(updates).decode()))

    async def unreconcile(self, ctx: CompanyContext, line_id: UUID) -> UUID | None:
        """Reverse what reconciling posted (the journal transaction, or the payment) and
        make the line open again; the reversal's transaction id."""
        async def use_case(uow: UnitOfWork) -> UUID | None:
            row, _, state = await self._line_for_update(uow, line_id)
            if state.reconciled is None:
                raise d.NotReconciled("The line is not reconciled.")
            done = state.reconciled
            if done.payment_id is not None:
                if self.payments is None:
                    raise d.DocumentsUnavailable("The payment flow is not installed.")
                reversal = await self.payments.cancel(uow, done.payment_id,
                                                      "Bank line unreconciled")
            else:
                reversed_tx = await self.ledger.reverse_journal(
                    uow, done.transaction_id, "Bank line unreconciled")
                reversal = reversed_tx.id
            await uow.append(line_stream(line_id), LINE_STREAM, state.version,
                             [state.unreconcile(reversal)])
            if done.payment_id is not None:
                # The documents are due again: the line is ranked against them anew.
                await self._store_suggestions(uow, [(line_id, _as_line(row))])
            return reversal

        return await self.units.run(ctx.company_id, _actor(ctx), use_case)

    # ------------------------------------------------------------------ rules

    async def _rules(self, uow: UnitOfWork) -> list[d.Rule]:
        return [d.Rule(r["id"], r["contains"], r["account_code"], r["direction"])
                for r in await queries.rules(uow.conn, uow.company_id)]

    async def create_rule(self, ctx: CompanyContext, contains: str, account_code: str,
                          direction: str = "any") -> dict[str, Any]:
        contains = contains.strip()
        if not contains:
            raise d.InvalidReconciliation("A rule needs the text to look for.")
        if direction not in ("in", "out", "any"):
            raise d.InvalidReconciliation("direction is in, out or any.")

        async def use_case(uow: UnitOfWork) -> dict[str, Any]:
            found = await ledger_queries.account(uow.conn, uow.company_id, account_code)
            if found is None or not found["postable"] or not found["active"]:
                raise UnknownLedgerAccount(f"{account_code} is not an active postable account.",
                                           account_code=account_code)
            rule_id = await self._add_rule(uow, contains, account_code, direction)
            return {"id": rule_id, "contains": contains, "account_code": account_code,
                    "direction": direction}

        return await self.units.run(ctx.company_id, _actor(ctx), use_case)

    async def _add_rule(self, uow: UnitOfWork, contains: str, account_code: str,
                        direction: str) -> UUID:
        rule_id = new_id()
        stream = rules_stream(uow.company_id)
        await uow.append(stream, RULES_STREAM, await uow.version(stream),
                         [d.RuleCreated(rule_id, contains, account_code, direction)])
        return rule_id

    async def delete_rule(self, ctx: CompanyContext, rule_id: UUID) -> None:
        async def use_case(uow: UnitOfWork) -> None:
            if not any(r.id == rule_id for r in await self._rules(uow)):
                raise d.RuleNotFound("No such rule.")
            stream = rules_stream(uow.company_id)
            await uow.append(stream, RULES_STREAM, await uow.version(stream),
                             [d.RuleDeleted(rule_id)])

        await self.units.run(ctx.company_id, _actor(ctx), use_case)

    async def apply_rules(self, ctx: CompanyContext, *, confirm: bool,
                          bank_account_id: UUID | None = None) -> RulePreview:
        """The unreconciled lines each rule would take (``confirm=False``), or reconcile
        them all at once (``confirm=True``): one confirmation for the lot."""
        async def use_case(uow: UnitOfWork) -> RulePreview:
            rules = await self._rules(uow)
            preview = RulePreview()
            if not rules:
                return preview
            rows = await queries.lines(uow.conn, uow.company_id, status="unreconciled",
                                       bank_account_id=bank_account_id, limit=100_000)
            for r in rows:
                amount = Decimal(r["amount"])
                rule = d.first_rule(rules, _as_line(r).text(), amount)
                if rule is None:
                    continue
                preview.matches.append({"line_id": r["id"], "rule_id": rule.id,
                                        "account_code": rule.account_code,
                                        "date": r["booking_date"], "amount": amount,
                                        "description": r["description"]})
                if confirm:
                    preview.reconciled.append(await self._to_account(
                        uow, r["id"], rule.account_code, None, rule.id))
            return preview

        return await self.units.run(ctx.company_id, _actor(ctx), use_case)

    # ------------------------------------------------------------------ reports

    async def reconciliation(self, ctx: CompanyContext, bank_account_id: UUID,
                             as_of: date) -> dict[str, Any]:
        """The bank reconciliation statement on ``as_of`` (period close): the bank's
        balance, the ledger account's, and what explains the difference."""
        async with self.db.transaction(company_id=ctx.company_id) as conn:
            account = await queries.bank_account(conn, ctx.company_id,
                                                 bank_account_id=bank_account_id)
            if account is None:
                raise d.BankAccountNotFound("No such bank account.")
            figures = await queries.bank_figures(conn, ctx.company_id, bank_account_id, as_of)
            settings = await self.ledger.company(ctx.company_id, conn)
            debit, credit = await ledger_queries.balance(conn, ctx.company_id,
                                                         account["account_code"], as_of,
                                                         postable=True)
        bank_balance = figures["opening"] + figures["moved"]
        unreconciled = figures["unreconciled_in"] + figures["unreconciled_out"]
        ledger_balance: Decimal | None = debit - credit
        outstanding: Decimal | None = None
        if account["currency"] != settings.base_currency:
            # The ledger's sums are in GEL, the statement's in the account's currency:
            # not comparable here (the fx context revalues the account at period end).
            ledger_balance = None
        else:
            assert ledger_balance is not None
            # Bank = books + what the bank booked and the books have not (unreconciled
            # lines) + what the books hold and the bank has not (outstanding items).
            outstanding = bank_balance - unreconciled - ledger_balance
        return {"bank_account_id": bank_account_id, "account_code": account["account_code"],
                "currency": account["currency"], "as_of": as_of,
                "bank_balance": bank_balance, "ledger_balance": ledger_balance,
                "difference": (None if ledger_balance is None
                               else bank_balance - ledger_balance),
                "unreconciled_in": figures["unreconciled_in"],
                "unreconciled_out": figures["unreconciled_out"],
                "unreconciled_count": int(figures["unreconciled_count"]),
                "outstanding_in_books": outstanding,
                "opening_balance": figures["opening"],
                "reconciled_total": figures["reconciled"]}
