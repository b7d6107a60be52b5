"""The ledger's HTTP edge: chart of accounts, journal transactions, fiscal periods and
balances (``../shared/api/v1.md``). Amounts travel as strings; request bodies are parsed
with exact decimals (never through float)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from typing import Annotated, Any, cast
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from pydantic import BaseModel, Field, WithJsonSchema

from saldo.identity.api import CompanyContext, Permission, require
from saldo.kernel.errors import RuleViolation
from saldo.kernel.money import ISO_CURRENCIES, amount_text, minor_units, round_half_up
from saldo.ledger import domain as d
from saldo.ledger import queries
from saldo.ledger.domain import (
    AccountType,
    CashFlow,
    Classification,
    ContentInput,
    JournalTransaction,
    LineDraft,
)
from saldo.ledger.service import LedgerService
from saldo.platform.http import (
    Bool,
    Date,
    ExactJsonBody,
    QueryBool,
    StrictRoute,
    Text,
    problem_responses,
)

# ---------------------------------------------------------------------- dependencies


# Dependencies are ``async def`` although they do not await: FastAPI runs a plain ``def``
# dependency in its thread pool, a thread hand-off per dependency per request.
async def ledger_service(request: Request) -> LedgerService:
    return cast(LedgerService, request.app.state.ledger)


Ledger = Annotated[LedgerService, Depends(ledger_service)]
AccountsReader = Annotated[CompanyContext, Depends(require(Permission.ACCOUNTS_READ))]
AccountsWriter = Annotated[CompanyContext, Depends(require(Permission.ACCOUNTS_WRITE))]
Reader = Annotated[CompanyContext, Depends(require(Permission.TRANSACTIONS_READ))]
Writer = Annotated[CompanyContext, Depends(require(Permission.TRANSACTIONS_WRITE))]
Approver = Annotated[CompanyContext, Depends(require(Permission.TRANSACTIONS_APPROVE))]
PeriodCloser = Annotated[CompanyContext, Depends(require(Permission.PERIODS_CLOSE))]


async def request_id(request: Request) -> str | None:
    return cast(str | None, request.scope.get("state", {}).get("request_id"))


RequestId = Annotated[str | None, Depends(request_id)]

# ---------------------------------------------------------------------- shapes

#: An amount as the client sends it: a decimal string ("1180.00") or a JSON number, parsed
#: exactly. The ledger's rules check it (sign, scale, size) and answer with stable codes.
AmountIn = Annotated[Any, WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}],
                                          "examples": ["1180.00"]})]
AccountCode = Annotated[Text, Field(min_length=1, max_length=40)]


class EntryIn(BaseModel):
    account_code: AccountCode
    debit: AmountIn = None
    credit: AmountIn = None
    debit_base: AmountIn = Field(default=None, description=(
        "The base-currency amount; computed from the rate when omitted. A line with only "
        "a base amount is a rounding line (foreign-currency transactions)."))
    credit_base: AmountIn = None
    description: Text = Field(default="", max_length=500)


class TransactionIn(BaseModel):
    date: Date
    description: Text = Field(max_length=500)
    reference: Text | None = Field(default=None, max_length=100)
    currency: Text | None = Field(default=None, max_length=3)
    exchange_rate: AmountIn = None
    entries: list[EntryIn] = Field(max_length=d.MAX_LINES)

    def content(self) -> ContentInput:
        return ContentInput(self.date, self.description, [
            LineDraft(e.account_code, e.debit, e.credit, e.debit_base, e.credit_base,
                      e.description) for e in self.entries],
            self.reference, self.currency, self.exchange_rate)


class EntryOut(BaseModel):
    account_code: str
    debit: str
    credit: str
    debit_base: str
    credit_base: str
    description: str
    #: Set on lines a document posted: the counterparty and the document they belong to.
    counterparty_id: UUID | None = None
    document_id: UUID | None = None
    #: ``regular``, or ``fx_difference`` (an exchange difference, a GEL amount only).
    kind: str = "regular"


class SourceOut(BaseModel):
    """The document a transaction was made from (an invoice, a payment, a payroll run)."""

    type: str
    id: UUID


class TransactionOut(BaseModel):
    id: UUID
    number: int | None
    fiscal_year: int | None
    status: str
    date: dt.date
    description: str
    reference: str | None
    currency: str
    exchange_rate: str
    entries: list[EntryOut]
    total: str
    created_by: str | None
    approved_by: str | None
    posted_by: str | None
    reverses: UUID | None
    reversed_by: UUID | None
    reversal_reason: str | None = None
    source: SourceOut | None = None


class TransactionPage(BaseModel):
    items: list[TransactionOut]
    next_cursor: str | None


class ReverseIn(BaseModel):
    date: Date | None = None
    reason: Text = Field(min_length=1, max_length=500)


class HistoryEntry(BaseModel):
    type: str
    version: int
    recorded_at: dt.datetime
    actor: str | None
    data: dict[str, Any]


class AccountOut(BaseModel):
    code: str
    name: str
    name_ka: str
    type: AccountType
    normal_balance: str
    classification: str
    parent_code: str | None
    postable: bool
    active: bool
    custom: bool = False
    cash_flow: CashFlow = Field(description="Activity in the statement of cash flows (IAS 7)")


_CLASSIFICATION = Field(default=None, description=(
    "The statement line: current_asset, non_current_asset, current_liability, "
    "non_current_liability, equity (an asset so classified is deducted from equity), "
    "revenue, cost_of_sales, operating_expense, other_income, other_expense, "
    "fx_gain_loss, profit_tax; it must fit the type"))
_CASH_FLOW = Field(default=None, description=(
    "IAS 7 activity: cash (cash and cash equivalents), operating, interest, profit_tax, "
    "investing, financing, fx_effect (unrealised exchange differences)"))


class AccountIn(BaseModel):
    code: AccountCode
    name: Text = Field(min_length=1, max_length=200)
    name_ka: Text | None = Field(default=None, max_length=200)
    type: AccountType | None = None
    parent_code: AccountCode | None = None
    classification: Classification | None = _CLASSIFICATION
    cash_flow: CashFlow | None = _CASH_FLOW


class AccountPatch(BaseModel):
    name: Text | None = Field(default=None, min_length=1, max_length=200)
    name_ka: Text | None = Field(default=None, min_length=1, max_length=200)
    active: Bool | None = None
    type: AccountType | None = Field(default=None,
                                     description="Only while the account has no postings")
    classification: Classification | None = _CLASSIFICATION
    cash_flow: CashFlow | None = _CASH_FLOW


class ForeignBalanceOut(BaseModel):
    currency: str
    debit: str
    credit: str
    balance: str = Field(description="debit − credit, in the currency")
    balance_base: str = Field(description="its carrying amount in the base currency")


class BalanceOut(BaseModel):
    code: str
    as_of: dt.date
    debit: str
    credit: str
    balance: str = Field(description="debit − credit, in the base currency")
    currency: str
    #: The part of the balance in each foreign currency (issue 12 item 2); left out when
    #: the account has none.
    foreign: list[ForeignBalanceOut] | None = None


class CurrencyBalanceOut(BaseModel):
    """``?currency=USD``: the account's lines in that currency only."""

    code: str
    as_of: dt.date
    currency: str
    debit: str = Field(description="debits in the currency")
    credit: str
    balance: str = Field(description="debit − credit, in the currency")
    base_currency: str
    debit_base: str = Field(description="the same lines' debits in the base currency")
    credit_base: str
    balance_base: str = Field(description="carrying amount in the base currency")


class RevaluationIn(BaseModel):
    as_of: Date


class RevaluationLineOut(BaseModel):
    account_code: str
    currency: str
    foreign_balance: str
    rate: str
    gel_before: str
    gel_after: str
    difference: str


class RevaluationOut(BaseModel):
    transaction_id: UUID | None = Field(description=(
        "The revaluation posted; asked again for the same date, the revaluation of that "
        "date (nothing is posted twice); null if there was nothing to revalue"))
    as_of: dt.date
    lines: list[RevaluationLineOut]


class PeriodOut(BaseModel):
    period: str
    start: dt.date
    end: dt.date
    status: str


class FiscalYearOut(BaseModel):
    year: int
    status: str
    closing_transaction: UUID | None


class BatchTransactionIn(TransactionIn):
    key: Text | None = Field(
        default=None, min_length=1, max_length=200,
        description="Idempotency key of this item, scoped to the company: sending the batch "
                    "again posts only the items whose key was not posted before")

    def content(self) -> ContentInput:
        return replace(super().content(), key=self.key)


class BatchIn(BaseModel):
    transactions: list[BatchTransactionIn] = Field(min_length=1, max_length=5000)


class PostedOut(BaseModel):
    id: UUID
    fiscal_year: int
    number: int


class SkippedOut(BaseModel):
    row: int = Field(description="The item's position in the batch, from 1")
    id: UUID = Field(description="The transaction its key was posted as before")


class BatchOut(BaseModel):
    posted: list[PostedOut]
    skipped: list[SkippedOut] = Field(default_factory=list)


def _money(value: Any) -> str:
    return amount_text(Decimal(value))


def _amount_in(value: Decimal, places: int) -> str:
    """An amount in a currency, to its minor units (the lines store three decimals)."""
    return amount_text(round_half_up(value, places), places)


def _entries(entries: list[dict[str, Any]]) -> list[EntryOut]:
    return [EntryOut(account_code=e["account_code"], debit=str(e["debit"]),
                     credit=str(e["credit"]), debit_base=str(e["debit_base"]),
                     credit_base=str(e["credit_base"]), description=e.get("description") or "",
                     counterparty_id=e.get("counterparty_id"), document_id=e.get("document_id"),
                     kind=e.get("kind", "regular"))
            for e in entries]


def from_aggregate(tx: JournalTransaction) -> TransactionOut:
    content = tx.content
    assert content is not None
    return TransactionOut(
        id=tx.id, number=tx.number, fiscal_year=tx.fiscal_year, status=tx.status.value,
        date=content.date, description=content.description, reference=content.reference,
        currency=content.currency, exchange_rate=str(content.exchange_rate),
        entries=_entries([e.as_data() for e in content.lines]), total=_money(content.total),
        created_by=tx.created_by, approved_by=tx.approved_by, posted_by=tx.posted_by,
        reverses=tx.reverses, reversed_by=tx.reversed_by, reversal_reason=tx.reversal_reason,
        source=(SourceOut(type=content.source.type, id=content.source.id)
                if content.source else None))


def from_row(row: dict[str, Any]) -> TransactionOut:
    return TransactionOut(
        id=row["id"], number=row["number"], fiscal_year=row["fiscal_year"],
        status=row["status"], date=row["date"], description=row["description"],
        reference=row["reference"], currency=row["currency"].strip(),
        exchange_rate=str(row["exchange_rate"]), entries=_entries(row["entries"]),
        total=_money(row["total"]), created_by=row["created_by"],
        approved_by=row["approved_by"], posted_by=row["posted_by"], reverses=row["reverses"],
        reversed_by=row["reversed_by"], reversal_reason=row["reversal_reason"],
        source=(SourceOut(type=row["source_type"], id=row["source_id"])
                if row.get("source_id") else None))


_transaction_body = ExactJsonBody(TransactionIn)
_batch_body = ExactJsonBody(BatchIn)
_ERRORS = (400, 401, 403, 404, 422)
TransactionId = Annotated[UUID, Path()]
Code = Annotated[Text, Path(min_length=1, max_length=40)]
PeriodName = Annotated[Text, Path(min_length=7, max_length=7, examples=["2026-03"])]
Year = Annotated[int, Path(ge=1900, le=2999)]
IdempotencyKey = Annotated[Text | None, Header(alias="Idempotency-Key", min_length=1,
                                               max_length=200)]


# ---------------------------------------------------------------------- routes


def router() -> APIRouter:
    api = APIRouter(prefix="/api/v1/companies/{company_id}", tags=["ledger"],
                    route_class=StrictRoute)

    # ----------------------------------------------------------------- accounts

    @api.get("/accounts", summary="The chart of accounts", response_model=list[AccountOut],
             responses=problem_responses(*_ERRORS))
    async def list_accounts(ctx: AccountsReader, ledger: Ledger,
                            active: QueryBool | None = None) -> list[AccountOut]:
        async with ledger.db.transaction(company_id=ctx.company_id) as conn:
            rows = await queries.accounts(conn, ctx.company_id, active)
        return [AccountOut(**r) for r in rows]

    @api.post("/accounts", summary="Add a sub-account or a new account under a header",
              status_code=201, response_model=AccountOut,
              responses=problem_responses(*_ERRORS, 409))
    async def add_account(body: AccountIn, ctx: AccountsWriter, ledger: Ledger) -> AccountOut:
        account = await ledger.add_account(ctx, body.code, body.name, body.name_ka, body.type,
                                           body.parent_code, body.classification,
                                           body.cash_flow)
        return AccountOut(**account.as_data())

    @api.get("/accounts/{code}", summary="One account", response_model=AccountOut,
             responses=problem_responses(*_ERRORS))
    async def get_account(code: Code, ctx: AccountsReader, ledger: Ledger) -> AccountOut:
        async with ledger.db.transaction(company_id=ctx.company_id) as conn:
            row = await queries.account(conn, ctx.company_id, code)
        if row is None:
            raise d.AccountNotFound(f"No account {code}.", code=code)
        return AccountOut(**row)

    @api.patch("/accounts/{code}", summary="Rename, (de)activate or reclassify an account",
               response_model=AccountOut, responses=problem_responses(*_ERRORS, 409))
    async def change_account(code: Code, body: AccountPatch, ctx: AccountsWriter,
                             ledger: Ledger) -> AccountOut:
        account = await ledger.change_account(ctx, code, body.model_dump(exclude_none=True))
        return AccountOut(**account.as_data())

    @api.delete("/accounts/{code}", summary="Delete an account that never took a posting",
                status_code=204, response_class=Response,
                responses=problem_responses(*_ERRORS, 409))
    async def delete_account(code: Code, ctx: AccountsWriter, ledger: Ledger) -> Response:
        await ledger.delete_account(ctx, code)
        return Response(status_code=204)

    @api.get("/accounts/{code}/balance",
             summary="Posted totals up to and including a date (სალდო); headers include "
                     "their sub-accounts",
             response_model=BalanceOut | CurrencyBalanceOut, response_model_exclude_none=True,
             responses=problem_responses(*_ERRORS))
    async def balance(code: Code, ctx: AccountsReader, ledger: Ledger,
                      as_of: Date | None = None,
                      currency: Annotated[Text | None, Query(min_length=3, max_length=3)] = None,
                      ) -> BalanceOut | CurrencyBalanceOut:
        day = as_of or ledger.today()
        settings = await ledger.company(ctx.company_id)
        if currency is not None:
            currency = currency.upper()
            if currency not in ISO_CURRENCIES:
                raise d.InvalidCurrency(f"{currency!r} is not an ISO 4217 currency code.",
                                        field="currency")
        async with ledger.db.transaction(company_id=ctx.company_id) as conn:
            row = await queries.account(conn, ctx.company_id, code)
            if row is None:
                raise d.AccountNotFound(f"No account {code}.", code=code)
            if currency is not None:
                found = await queries.currency_balance(conn, ctx.company_id, code, currency,
                                                       day)
                places = minor_units(currency)
                return CurrencyBalanceOut(
                    code=code, as_of=day, currency=currency,
                    debit=_amount_in(found.debit, places),
                    credit=_amount_in(found.credit, places),
                    balance=_amount_in(found.debit - found.credit, places),
                    base_currency=settings.base_currency, debit_base=_money(found.debit_base),
                    credit_base=_money(found.credit_base),
                    balance_base=_money(found.debit_base - found.credit_base))
            debit, credit = await queries.balance(conn, ctx.company_id, code, day,
                                                  postable=row["postable"])
            foreign = await queries.currency_balances(conn, ctx.company_id, code, day,
                                                      settings.base_currency)
        return BalanceOut(code=code, as_of=day, debit=_money(debit), credit=_money(credit),
                          balance=_money(debit - credit), currency=settings.base_currency,
                          foreign=[ForeignBalanceOut(
                              currency=f.currency,
                              debit=_amount_in(f.debit, minor_units(f.currency)),
                              credit=_amount_in(f.credit, minor_units(f.currency)),
                              balance=_amount_in(f.debit - f.credit, minor_units(f.currency)),
                              balance_base=_money(f.debit_base - f.credit_base))
                                   for f in foreign]
                          or None)

    # ----------------------------------------------------------------- transactions

    @api.post("/transactions", summary="Draft a journal transaction", status_code=201,
              response_model=TransactionOut, responses=problem_responses(*_ERRORS, 409),
              openapi_extra=_transaction_body.openapi())
    async def create(ctx: Writer, ledger: Ledger, rid: RequestId,
                     body: Annotated[TransactionIn, Depends(_transaction_body)],
                     idempotency_key: IdempotencyKey = None) -> TransactionOut:
        tx, _ = await ledger.draft(ctx, body.content(), idempotency_key, rid)
        return from_aggregate(tx)

    @api.post("/transactions/batch",
              summary="Post many transactions at once, all or nothing (imports, sub-ledgers)",
              status_code=201, response_model=BatchOut,
              responses={**problem_responses(*_ERRORS, 409), 422: {
                  "description": "Findings per transaction (row = index from 1); nothing "
                                 "posted"}},
              openapi_extra=_batch_body.openapi())
    async def post_batch(ctx: Approver, ledger: Ledger, rid: RequestId,
                         body: Annotated[BatchIn, Depends(_batch_body)]) -> BatchOut:
        result = await ledger.post_batch(
            ctx, [(i, t.content()) for i, t in enumerate(body.transactions, start=1)], rid)
        if not result.ok:
            raise BatchRejected(result.findings)
        return BatchOut(posted=[PostedOut(id=i, fiscal_year=y, number=n)
                                for i, y, n in result.posted],
                        skipped=[SkippedOut(row=r, id=i) for r, i in result.skipped])

    @api.get("/transactions", summary="Journal transactions, newest first",
             response_model=TransactionPage, responses=problem_responses(*_ERRORS))
    async def list_transactions(
        ctx: Reader, ledger: Ledger,
        status: Annotated[d.Status | None, Query()] = None,
        date_from: Date | None = None, date_to: Date | None = None,
        account: Annotated[Text | None, Query(max_length=40)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        cursor: Annotated[Text | None, Query(max_length=200)] = None,
    ) -> TransactionPage:
        f = queries.TransactionFilter(status.value if status else None, date_from, date_to,
                                      account, limit, cursor)
        async with ledger.db.transaction(company_id=ctx.company_id) as conn:
            rows, next_cursor = await queries.transactions(conn, ctx.company_id, f)
        return TransactionPage(items=[from_row(r) for r in rows], next_cursor=next_cursor)

    @api.get("/transactions/{transaction_id}", summary="One journal transaction",
             response_model=TransactionOut, responses=problem_responses(*_ERRORS))
    async def get_transaction(transaction_id: TransactionId, ctx: Reader,
                              ledger: Ledger) -> TransactionOut:
        async with ledger.db.transaction(company_id=ctx.company_id) as conn:
            row = await queries.transaction(conn, ctx.company_id, transaction_id)
        if row is None:
            raise d.TransactionNotFound("No such transaction.",
                                        transaction_id=str(transaction_id))
        return from_row(row)

    @api.patch("/transactions/{transaction_id}", summary="Amend a draft",
               response_model=TransactionOut, responses=problem_responses(*_ERRORS, 409),
               openapi_extra=_transaction_body.openapi())
    async def amend(transaction_id: TransactionId, ctx: Writer, ledger: Ledger,
                    rid: RequestId,
                    body: Annotated[TransactionIn, Depends(_transaction_body)]) -> TransactionOut:
        return from_aggregate(await ledger.amend(ctx, transaction_id, body.content(), rid))

    @api.delete("/transactions/{transaction_id}", summary="Discard a draft", status_code=204,
                response_class=Response, responses=problem_responses(*_ERRORS, 409))
    async def discard(transaction_id: TransactionId, ctx: Writer, ledger: Ledger,
                      rid: RequestId) -> Response:
        await ledger.discard(ctx, transaction_id, rid)
        return Response(status_code=204)

    @api.post("/transactions/{transaction_id}/approve",
              summary="Approve a draft (maker-checker: not its author)",
              response_model=TransactionOut, responses=problem_responses(*_ERRORS, 409))
    async def approve(transaction_id: TransactionId, ctx: Approver, ledger: Ledger,
                      rid: RequestId) -> TransactionOut:
        return from_aggregate(await ledger.approve(ctx, transaction_id, rid))

    @api.post("/transactions/{transaction_id}/post",
              summary="Post an approved transaction: it gets its number",
              response_model=TransactionOut, responses=problem_responses(*_ERRORS, 409))
    async def post(transaction_id: TransactionId, ctx: Writer, ledger: Ledger,
                   rid: RequestId) -> TransactionOut:
        return from_aggregate(await ledger.post(ctx, transaction_id, rid))

    @api.post("/transactions/{transaction_id}/reverse",
              summary="Reverse a posted transaction with a new, posted, linked one",
              status_code=201, response_model=TransactionOut,
              responses=problem_responses(*_ERRORS, 409))
    async def reverse(transaction_id: TransactionId, body: ReverseIn, ctx: Approver,
                      ledger: Ledger, rid: RequestId) -> TransactionOut:
        reversal, _ = await ledger.reverse(ctx, transaction_id, body.reason, body.date, rid)
        return from_aggregate(reversal)

    @api.get("/transactions/{transaction_id}/history",
             summary="The transaction's events: who did what, when",
             response_model=list[HistoryEntry], responses=problem_responses(*_ERRORS))
    async def history(transaction_id: TransactionId, ctx: Reader,
                      ledger: Ledger) -> list[HistoryEntry]:
        return [HistoryEntry(**e) for e in await ledger.history(ctx.company_id, transaction_id)]

    # ----------------------------------------------------------------- fiscal periods

    @api.get("/fiscal-periods", summary="The months of a fiscal year and their status",
             response_model=list[PeriodOut], responses=problem_responses(*_ERRORS))
    async def periods(ctx: AccountsReader, ledger: Ledger,
                      year: Annotated[int | None, Query(ge=1900, le=2999)] = None
                      ) -> list[PeriodOut]:
        settings = await ledger.company(ctx.company_id)
        year = year or d.fiscal_year_of(ledger.today(), settings.fiscal_year_start_month)
        async with ledger.db.transaction(company_id=ctx.company_id) as conn:
            rows = await queries.fiscal_periods(conn, ctx.company_id, year,
                                                settings.fiscal_year_start_month)
        return [PeriodOut(**r) for r in rows]

    @api.post("/fx-revaluations",
              summary="IAS 21 revaluation of the monetary accounts' foreign-currency balances "
                      "at the official rate in effect on as_of, posted (reversed the next day)",
              status_code=201, response_model=RevaluationOut,
              responses=problem_responses(*_ERRORS, 409))
    async def revalue(body: RevaluationIn, ctx: Approver, ledger: Ledger,
                      rid: RequestId) -> RevaluationOut:
        # Idempotent per date: asked again, the same answer (and nothing posted).
        done = await ledger.revalue(ctx, body.as_of, rid)
        return RevaluationOut(transaction_id=done.transaction_id, as_of=body.as_of, lines=[
            RevaluationLineOut(account_code=r.account_code, currency=r.currency,
                               foreign_balance=_amount_in(r.foreign_balance,
                                                          minor_units(r.currency)),
                               rate=format(r.rate, "f"), gel_before=_money(r.gel_before),
                               gel_after=_money(r.gel_after), difference=_money(r.difference))
            for r in done.lines])

    @api.post("/fiscal-years/{year}/close",
              summary="Year-end close: profit or loss into retained earnings (5310/5320), "
                      "every period of the year closed",
              response_model=FiscalYearOut, responses=problem_responses(*_ERRORS, 409))
    async def close_year(year: Year, ctx: PeriodCloser, ledger: Ledger,
                         rid: RequestId) -> FiscalYearOut:
        return FiscalYearOut(**await ledger.close_fiscal_year(ctx, year, rid))

    @api.post("/fiscal-years/{year}/reopen",
              summary="Reopen a closed fiscal year (reverses its closing transaction); "
                      "not once a period of it is locked",
              response_model=FiscalYearOut, responses=problem_responses(*_ERRORS, 409))
    async def reopen_year(year: Year, ctx: PeriodCloser, ledger: Ledger,
                          rid: RequestId) -> FiscalYearOut:
        return FiscalYearOut(**await ledger.reopen_fiscal_year(ctx, year, rid))

    for action, summary in (("close", "Close a period: it takes no more postings"),
                            ("reopen", "Reopen a closed period (not a locked one)"),
                            ("lock", "Lock a period for good")):
        _period_route(api, action, summary)

    return api


def _period_route(api: APIRouter, action: str, summary: str) -> None:
    @api.post(f"/fiscal-periods/{{period}}/{action}", summary=summary,
              response_model=PeriodOut, responses=problem_responses(*_ERRORS, 409),
              name=f"{action}_period")
    async def change(period: PeriodName, ctx: PeriodCloser, ledger: Ledger,
                     rid: RequestId) -> PeriodOut:
        return PeriodOut(**await ledger.change_period(ctx, period, action, rid))


class BatchRejected(RuleViolation):
    code = "batch_rejected"
    title = "The batch has findings; nothing was posted"
    exposed = ("findings",)

    def __init__(self, findings: list[Any]) -> None:
        super().__init__(f"{len(findings)} finding(s); nothing was posted.",
                         findings=[{"row": f.row, "code": f.code, "message": f.message}
                                   for f in findings])
