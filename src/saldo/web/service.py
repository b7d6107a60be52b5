"""The web's use cases: a browser session on top of identity's refresh-token family, and
the figures the pages show, read through the other contexts' services and queries.

A browser session is a refresh-token family (docs/decisions/0050-web-session.md): the
HttpOnly cookie ``saldo_session`` holds the family's current refresh token and
``saldo_access`` its short-lived access token. When the access token has expired the
refresh token is rotated (identity's rule: a rotated token used again revokes the
family); concurrent requests of one browser that all find the access token expired
share one rotation (a lock per token, and the new pair remembered for a minute), so a
page with several requests in flight does not look like a replay. Signing out revokes the
family; signing out everywhere revokes every family of the user.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from saldo.banking import queries as banking_queries
from saldo.banking.service import BankingService, Reconciled
from saldo.billing import queries as billing_queries
from saldo.billing.service import BillingService, DocumentInput, DocumentKind, LineInput
from saldo.identity import queries as identity_queries
from saldo.identity.service import (
    CompanyContext,
    IdentityService,
    Origin,
    Permission,
    User,
)
from saldo.kernel.errors import NotFound, SaldoError
from saldo.ledger import queries as ledger_queries
from saldo.ledger.service import LedgerService
from saldo.payroll import queries as payroll_queries
from saldo.payroll.service import LineInput as PayLineInput
from saldo.payroll.service import PayrollService
from saldo.reporting.service import ReportingService
from saldo.tax.service import TaxService, next_working_day
from saldo.web.domain import csrf_token

#: How long a rotated pair is handed to requests that still carry the old refresh token.
_GRACE_SECONDS = 60.0
_GRACE_ENTRIES = 4096


class SignInRequired(SaldoError):
    """No session, or one that has ended: the browser goes to the sign-in page."""

    code = "session_expired"
    title = "Sign in required"


@dataclass(frozen=True, slots=True)
class Tokens:
    access: str
    refresh: str
    max_age: int


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    family_id: UUID
    access: str
    csrf: str
    #: Set when this request rotated the tokens: the response carries the new cookies.
    renewed: Tokens | None = None


#: The dashboard's figures: header accounts of the standard chart and what they hold.
DASHBOARD_ACCOUNTS = {
    "cash": ("1100", "1200"),  # cash on hand, bank accounts
    "receivables": ("1400",),  # short-term receivables
    "payables": ("3100",),  # trade and other payables
}
#: VAT due: output VAT (3330-3332) less input VAT (3340-3344); a liability is positive.
VAT_ACCOUNTS = ("3330", "3331", "3332", "3340", "3341", "3342", "3343", "3344")


#: The documents drafted from a form and posted later (credit and debit notes post at once).
DRAFTED_KINDS = (DocumentKind.SALES_INVOICE, DocumentKind.PURCHASE_BILL)


class NotInstalled(NotFound):
    """A screen's context is not part of this deployment (``SALDO_CONTEXTS``)."""

    code = "not_available"
    title = "Not available"


class WebService:
    def __init__(self, identity: IdentityService, ledger: LedgerService,
                 reporting: ReportingService, tax: TaxService, *, key: str,
                 secure_cookies: bool, refresh_seconds: int,
                 billing: BillingService | None = None,
                 banking: BankingService | None = None,
                 payroll: PayrollService | None = None) -> None:
        self.identity, self.ledger, self.reporting = identity, ledger, reporting
        self.tax = tax
        self._billing, self._banking, self._payroll = billing, banking, payroll
        self.key, self.secure_cookies = key, secure_cookies
        self.refresh_seconds = refresh_seconds
        self._rotated: OrderedDict[str, tuple[float, Tokens]] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}

    # ------------------------------------------------------------------ sessions

    def _tokens(self, access: str, refresh: str) -> Tokens:
        return Tokens(access, refresh, self.refresh_seconds)

    async def sign_in(self, username: str, password: str, origin: Origin) -> Tokens:
        """A new session: a new refresh-token family (the login throttle applies)."""
        pair = await self.identity.login(username, password, origin)
        return self._tokens(pair.access_token, pair.refresh_token)

    async def session(self, access: str | None, refresh: str | None,
                      origin: Origin) -> Session:
        """The signed-in user behind the cookies, rotating the tokens when the access
        token has expired. :class:`SignInRequired` when there is no live session."""
        renewed: Tokens | None = None
        claims = None
        if access:
            try:
                claims = self.identity.signer.verify_access(access)
            except SaldoError:
                claims = None
        if claims is None:
            if not refresh:
                raise SignInRequired("Sign in to continue.")
            renewed = await self._rotate(refresh, origin)
            access = renewed.access
            claims = self.identity.signer.verify_access(access)
        assert access is not None
        try:
            user = await self.identity.authenticate(access)
        except SaldoError:  # revoked: signed out, or signed out everywhere
            raise SignInRequired("The session has ended.") from None
        if claims.family_id is None:
            raise SignInRequired("The session has ended.")
        return Session(user, claims.family_id, access, csrf_token(self.key, claims.family_id),
                       renewed)

    async def _rotate(self, refresh: str, origin: Origin) -> Tokens:
        lock = self._locks.setdefault(refresh, asyncio.Lock())
        try:
            async with lock:
                now = time.monotonic()
                self._forget(now)
                if (kept := self._rotated.get(refresh)) is not None:
                    return kept[1]
                try:
                    pair = await self.identity.refresh(refresh, origin)
                except SaldoError:
                    raise SignInRequired("The session has ended.") from None
                tokens = self._tokens(pair.access_token, pair.refresh_token)
                self._rotated[refresh] = (now, tokens)
                return tokens
        finally:
            if not lock.locked():
                self._locks.pop(refresh, None)

    def _forget(self, now: float) -> None:
        while self._rotated and (
                len(self._rotated) > _GRACE_ENTRIES
                or now - next(iter(self._rotated.values()))[0] > _GRACE_SECONDS):
            self._rotated.popitem(last=False)

    async def sign_out(self, refresh: str | None, origin: Origin) -> None:
        if refresh:
            await self.identity.logout(refresh, origin)

    async def sign_out_everywhere(self, session: Session, origin: Origin) -> int:
        return await self.identity.logout_everywhere(session.user, origin)

    async def authorize(self, session: Session, company_id: UUID,
                        permission: Permission) -> CompanyContext:
        return await self.identity.authorize(session.access, company_id, permission)

    # ------------------------------------------------------------------ reads

    async def companies(self, user: User) -> list[dict[str, Any]]:
        async with self.identity.db.transaction(user_id=user.id) as conn:
            return await identity_queries.companies(conn, user.id)

    async def members(self, ctx: CompanyContext) -> list[dict[str, Any]]:
        async with self.identity.db.transaction(company_id=ctx.company_id) as conn:
            return await identity_queries.members(conn, ctx.company_id)

    async def dashboard(self, ctx: CompanyContext) -> dict[str, Any]:
        """Balances as of today (debit − credit, shown with the account's normal sign),
        the drafts waiting for approval and the approved ones waiting to be posted.

        The reads are independent, so they run at the same time on their own pooled
        connections (the balances, the waiting transactions, each year's tax calendar:
        at most four): the page waits for the slowest, not for the sum of about fifteen
        round trips (bench/web.py, docs/web.md)."""
        today = self.ledger.today()

        async def balances() -> dict[str, Decimal]:
            figures: dict[str, Decimal] = {}
            async with self.ledger.db.transaction(company_id=ctx.company_id) as conn:
                for name, codes in DASHBOARD_ACCOUNTS.items():
                    total = Decimal(0)
                    for code in codes:
                        debit, credit = await ledger_queries.balance(
                            conn, ctx.company_id, code, today, postable=False)
                        total += debit - credit
                    figures[name] = total if name != "payables" else -total
                vat = Decimal(0)
                for code in VAT_ACCOUNTS:
                    debit, credit = await ledger_queries.balance(
                        conn, ctx.company_id, code, today, postable=True)
                    vat += credit - debit
                figures["vat_due"] = vat
            return figures

        async def waiting() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            async with self.ledger.db.transaction(company_id=ctx.company_id) as conn:
                drafts, _ = await ledger_queries.transactions(
                    conn, ctx.company_id,
                    ledger_queries.TransactionFilter(status="draft", limit=10))
                approved, _ = await ledger_queries.transactions(
                    conn, ctx.company_id,
                    ledger_queries.TransactionFilter(status="approved", limit=10))
            return drafts, approved

        figures, lists, deadlines = await asyncio.gather(
            balances(), waiting(), self.deadlines(ctx, today))
        drafts, approved = lists
        return {"figures": figures, "drafts": drafts, "approved": approved,
                "deadlines": deadlines}

    async def deadlines(self, ctx: CompanyContext, today: date) -> list[dict[str, Any]]:
        """The company's next returns from the tax calendar (VAT, income tax, profit tax,
        property tax: each context's return sources), due dates moved to working days;
        the monthly 15th when the calendar has nothing ahead yet."""
        years = await asyncio.gather(*(self.tax.calendar(ctx.company_id, year)
                                       for year in (today.year, today.year + 1)))
        found = [due for dues in years for due in dues if due.due_date >= today]
        if found:
            return [{"date": d.due_date, "tax": d.tax, "period": d.period} for d in found[:4]]
        return [{"date": d, "tax": None, "period": None} for d in tax_deadlines(today)]

    # ------------------------------------------------------------------ other contexts

    async def documents(self, ctx: CompanyContext, kinds: tuple[str, ...],
                        status: str | None) -> list[dict[str, Any]]:
        async with self.ledger.db.transaction(company_id=ctx.company_id) as conn:
            rows = await billing_queries.documents(conn, ctx.company_id, kinds, status=status,
                                                   limit=200)
            names: dict[Any, str] = {}
            for row in rows:
                cp = row["counterparty_id"]
                if cp not in names:
                    found = await billing_queries.counterparty(conn, ctx.company_id, cp)
                    names[cp] = found["name"] if found else ""
        return [{**r, "counterparty": names.get(r["counterparty_id"], "")} for r in rows]

    @property
    def billing(self) -> BillingService:
        if self._billing is None:
            raise NotInstalled("Billing is not installed.")
        return self._billing

    @property
    def banking(self) -> BankingService:
        if self._banking is None:
            raise NotInstalled("Banking is not installed.")
        return self._banking

    async def customers(self, ctx: CompanyContext) -> list[dict[str, Any]]:
        """The counterparties an invoice can be made out to, by name."""
        async with self.ledger.db.transaction(company_id=ctx.company_id) as conn:
            return await billing_queries.counterparties(conn, ctx.company_id, None, 1000, None)

    @property
    def payroll(self) -> PayrollService:
        if self._payroll is None:
            raise NotInstalled("Payroll is not installed.")
        return self._payroll

    async def draft_document(self, ctx: CompanyContext, kind: DocumentKind,
                             data: DocumentInput) -> UUID:
        """A draft sales invoice or purchase bill through billing's use case (billing
        prices the lines)."""
        doc = await self.billing.draft(ctx, kind, data)
        return doc.id

    async def document(self, ctx: CompanyContext, document_id: UUID) -> dict[str, Any] | None:
        """A document as billing's read side has it: its lines, its counterparty, what is
        due, and the notes that corrected it (credit and debit notes)."""
        doc = await self.billing.document(ctx.company_id, document_id)
        async with self.ledger.db.transaction(company_id=ctx.company_id) as conn:
            row = await billing_queries.document(conn, ctx.company_id, document_id)
            found = await billing_queries.counterparty(conn, ctx.company_id,
                                                       doc.counterparty_id)
            notes = [n for n in [await billing_queries.document(conn, ctx.company_id, i)
                                 for i in await billing_queries.notes_of(
                                     conn, ctx.company_id, document_id)] if n]
            corrects = (await billing_queries.document(conn, ctx.company_id, doc.corrects)
                        if doc.corrects else None)
            withheld = (await payroll_queries.withholding_of_bill(conn, ctx.company_id,
                                                                  document_id)
                        if doc.kind.value == "purchase_bill" else None)
        lines = [{"description": x.description, "quantity": x.quantity,
                  "unit_price": x.unit_price, "vat_code": x.vat_code.value,
                  "account_code": x.account_code, "net": x.net, "vat": x.vat,
                  "gross": x.gross} for x in doc.lines]
        status = row["status"] if row else ("posted" if doc.posted else "draft")
        return {"id": doc.id, "kind": doc.kind.value, "sales": doc.kind.sales,
                "number": doc.number, "date": doc.date, "due_date": doc.due_date,
                "currency": doc.currency, "reference": doc.reference,
                "supplier_reference": doc.supplier_reference, "status": status,
                "created_by": doc.created_by, "approved_by": doc.approved_by,
                "transaction_id": doc.transaction_id, "posted": doc.posted,
                "counterparty": found["name"] if found else "", "lines": lines,
                "net_total": doc.net_total, "vat_total": doc.vat_total, "total": doc.total,
                "credited": doc.credited, "creditable": doc.total - doc.credited,
                "amount_due": doc.amount_due,
                "notes": notes, "corrects": corrects, "withheld": withheld,
                # A person (11-digit tax id) or a non-resident: tax may be withheld at
                # source from what the company pays them (georgia.md §2).
                "withholding_payee": found is not None and (
                    len(found["tax_id"] or "") == 11 or not found["resident"])}

    async def withhold_on_bill(self, ctx: CompanyContext, bill_id: UUID, code: str,
                               day: date | None) -> None:
        await self.payroll.withhold_on_bill(ctx, bill_id, code, day)

    async def post_document(self, ctx: CompanyContext, document_id: UUID) -> None:
        """Post a draft sales invoice or purchase bill (the notes post when made)."""
        await self.billing.post(ctx, document_id, DRAFTED_KINDS)

    async def approve_document(self, ctx: CompanyContext, document_id: UUID) -> None:
        await self.billing.approve(ctx, document_id, DRAFTED_KINDS)

    async def credit_note(self, ctx: CompanyContext, document_id: UUID, on: date,
                          lines: list[LineInput], reference: str | None) -> UUID:
        """A posted credit note against a posted invoice (a supplier's against a bill),
        by billing's use case: never more than what remains of it."""
        note = await self.billing.credit_note(ctx, document_id, on, lines, reference)
        return note.id

    async def debit_note(self, ctx: CompanyContext, bill_id: UUID, on: date,
                         lines: list[LineInput], reference: str | None) -> UUID:
        """A supplier's debit note against a posted bill: more to pay, posted like a bill."""
        note = await self.billing.debit_note(ctx, bill_id, on, lines, reference)
        return note.id

    async def payments(self, ctx: CompanyContext, limit: int = 200) -> list[dict[str, Any]]:
        """The newest payments in and out, with their counterparty and the numbers of the
        documents they settled (billing's read model)."""
        async with self.ledger.db.transaction(company_id=ctx.company_id) as conn:
            rows = list(reversed(await billing_queries.payments(conn, ctx.company_id)))[:limit]
            names: dict[Any, str] = {}
            numbers: dict[str, str] = {}
            for row in rows:
                cp = row["counterparty_id"]
                if cp not in names:
                    found = await billing_queries.counterparty(conn, ctx.company_id, cp)
                    names[cp] = found["name"] if found else ""
                for allocation in row["allocations"] or []:
                    doc = str(allocation.get("document_id"))
                    if doc not in numbers:
                        got = await billing_queries.document(conn, ctx.company_id, UUID(doc))
                        numbers[doc] = got["number"] if got else doc
        return [{**r, "counterparty": names.get(r["counterparty_id"], ""),
                 "settled": [{"document_id": a.get("document_id"),
                              "number": numbers.get(str(a.get("document_id")), ""),
                              "amount": a.get("amount")} for a in r["allocations"] or []]}
                for r in rows]

    # ------------------------------------------------------------------ payroll

    async def employees(self, ctx: CompanyContext, on: date) -> list[dict[str, Any]]:
        """The company's employees with the salary in effect ``on`` (the run form's rows)."""
        async with self.ledger.db.transaction(company_id=ctx.company_id) as conn:
            return await payroll_queries.employees(conn, ctx.company_id, on)

    async def create_run(self, ctx: CompanyContext, period: str, payment_date: date,
                         lines: list[PayLineInput]) -> UUID:
        """A draft payroll run: payroll computes each line's pension, income tax and net."""
        run = await self.payroll.create_run(ctx, period, payment_date, lines)
        return run.id

    async def payroll_run(self, ctx: CompanyContext, run_id: UUID
                          ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        return await self.payroll.run(ctx.company_id, run_id)

    async def post_run(self, ctx: CompanyContext, run_id: UUID) -> None:
        await self.payroll.post_run(ctx, run_id)

    async def discard_run(self, ctx: CompanyContext, run_id: UUID) -> None:
        await self.payroll.discard_run(ctx, run_id)

    async def pay_run(self, ctx: CompanyContext, run_id: UUID, paid_on: date | None,
                      bank_account_code: str) -> None:
        await self.payroll.pay_run(ctx, run_id, paid_on, bank_account_code)

    async def reverse_run(self, ctx: CompanyContext, run_id: UUID, reason: str) -> None:
        await self.payroll.reverse_run(ctx, run_id, reason)

    async def salary_file(self, ctx: CompanyContext, run_id: UUID) -> tuple[bytes, str]:
        return await self.payroll.bank_file(ctx.company_id, run_id)

    async def payslip(self, ctx: CompanyContext, run_id: UUID, employee_id: UUID,
                      lang: str) -> tuple[bytes, str]:
        return await self.payroll.payslip(ctx.company_id, run_id, employee_id, lang)

    # ------------------------------------------------------------------ banking

    async def bank_line(self, ctx: CompanyContext, line_id: UUID
                        ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """A statement line and the open documents it may be split over: those settled by
        money moving its way, of a counterparty (billing's documents), the suggested ones
        first (by score), then by counterparty and due date."""
        async with self.ledger.db.transaction(company_id=ctx.company_id) as conn:
            row = await banking_queries.line(conn, ctx.company_id, line_id)
            if row is None:
                return None, []
            items = await self.banking.open_items(conn, ctx.company_id)
            names = {p["id"]: p["name"] for p in await billing_queries.counterparties(
                conn, ctx.company_id, None, 100_000, None)} if items else {}
        direction = "in" if Decimal(row["amount"]) > 0 else "out"
        scores = {str(s["document_id"]): int(s.get("score") or 0)
                  for s in row.get("suggestions") or []}
        documents = [{"document_id": i.document_id, "kind": i.kind, "number": i.number,
                      "counterparty": names.get(i.counterparty_id, ""),
                      "counterparty_id": i.counterparty_id, "date": i.issued,
                      "due_date": i.due_date, "currency": i.currency,
                      "amount_due": i.amount_due,
                      "score": scores.get(str(i.document_id))}
                     for i in items if i.direction == direction
                     and i.counterparty_id is not None and i.currency == row["currency"]]
        documents.sort(key=lambda x: (x["score"] is None, -(x["score"] or 0),
                                      x["counterparty"], x["due_date"] or x["date"],
                                      x["number"]))
        return row, documents

    async def reconcile(self, ctx: CompanyContext, line_id: UUID, *,
                        document: tuple[UUID, Decimal] | None = None,
                        account_code: str | None = None) -> Reconciled:
        """A statement line reconciled to one suggested document or to an account, by
        banking's use case."""
        return await self.banking.reconcile(
            ctx, line_id, allocations=[document] if document is not None else None,
            account_code=account_code)

    async def reconcile_split(self, ctx: CompanyContext, line_id: UUID,
                              allocations: list[tuple[UUID, Decimal]]) -> Reconciled:
        """A statement line split over several documents: one payment, allocated as
        given (banking's use case; what the allocations leave is the advance)."""
        return await self.banking.reconcile(ctx, line_id, allocations=allocations)

    async def vat_return(self, ctx: CompanyContext, period: str) -> Any:
        vat, filings, findings = await self.tax.vat_return(ctx.company_id, period)
        return {"vat": vat, "filings": filings, "findings": findings}

    async def bank(self, ctx: CompanyContext, status: str | None
                   ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The bank accounts and their statement lines (the unreconciled first page by
        default): the reconciliation screen."""
        async with self.ledger.db.transaction(company_id=ctx.company_id) as conn:
            accounts = await banking_queries.bank_accounts(conn, ctx.company_id)
            lines = await banking_queries.lines(conn, ctx.company_id, status=status,
                                                limit=200)
        return accounts, lines

    async def payroll_runs(self, ctx: CompanyContext) -> list[dict[str, Any]]:
        async with self.ledger.db.transaction(company_id=ctx.company_id) as conn:
            return await payroll_queries.runs(conn, ctx.company_id)

    async def accounts(self, ctx: CompanyContext) -> list[dict[str, Any]]:
        async with self.ledger.db.transaction(company_id=ctx.company_id) as conn:
            return await ledger_queries.accounts(conn, ctx.company_id)

    async def transactions(self, ctx: CompanyContext, f: ledger_queries.TransactionFilter
                           ) -> tuple[list[dict[str, Any]], str | None]:
        async with self.ledger.db.transaction(company_id=ctx.company_id) as conn:
            return await ledger_queries.transactions(conn, ctx.company_id, f)

    async def transaction(self, ctx: CompanyContext,
                          transaction_id: UUID) -> dict[str, Any] | None:
        async with self.ledger.db.transaction(company_id=ctx.company_id) as conn:
            return await ledger_queries.transaction(conn, ctx.company_id, transaction_id)

    async def periods(self, ctx: CompanyContext,
                      year: int | None) -> tuple[int, list[dict[str, Any]]]:
        settings = await self.ledger.company(ctx.company_id)
        if year is None:  # the fiscal year holding today, named by the year it starts in
            today, start = self.ledger.today(), settings.fiscal_year_start_month
            year = today.year if today.month >= start else today.year - 1
        async with self.ledger.db.transaction(company_id=ctx.company_id) as conn:
            rows = await ledger_queries.fiscal_periods(conn, ctx.company_id, year,
                                                       settings.fiscal_year_start_month)
        return year, rows


def tax_deadlines(today: date, count: int = 3) -> list[date]:
    """The next monthly filing and payment days: the 15th of each month (Tax Code of
    Georgia, art. 154 income tax withheld, art. 180/181 VAT return by the 15th of the
    following month; georgia.md §3), moved to the next working day by the tax context's
    calendar of Georgian holidays."""
    days: list[date] = []
    year, month = today.year, today.month
    while len(days) < count:
        if month > 12:
            year, month = year + 1, 1
        day = next_working_day(date(year, month, 15))
        if day >= today:
            days.append(day)
        month += 1
    return days
