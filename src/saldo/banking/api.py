"""Banking's HTTP edge: bank accounts, statement import, lines with ranked suggestions,
reconcile and unreconcile, rules and the reconciliation report (``../shared/api/v1.md``,
"Bank statements"). Amounts travel as strings."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, cast
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field, WithJsonSchema

from saldo.banking import domain as d
from saldo.banking import queries
from saldo.banking.service import BankingService, ImportResult, Reconciled
from saldo.identity.api import CompanyContext, Permission, require
from saldo.kernel.money import InvalidAmount, amount_text, parse_amount
from saldo.platform.http import (
    Bool,
    Date,
    ExactJsonBody,
    StrictRoute,
    Text,
    exact_json,
    is_json,
    problem_responses,
    validate_body,
)


async def banking_service(request: Request) -> BankingService:
    return cast(BankingService, request.app.state.banking)


Banking = Annotated[BankingService, Depends(banking_service)]
Reader = Annotated[CompanyContext, Depends(require(Permission.BANK_READ))]
Writer = Annotated[CompanyContext, Depends(require(Permission.BANK_WRITE))]

AmountIn = Annotated[Any, WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}],
                                          "examples": ["1180.00"]})]
AccountCode = Annotated[Text, Field(min_length=1, max_length=40)]
_ERRORS = (400, 401, 403, 404, 422)


def _amount(value: Any, where: str) -> Any:
    try:
        return parse_amount(value)
    except InvalidAmount as exc:
        raise d.InvalidReconciliation(f"{where}: {exc}") from None


# ---------------------------------------------------------------------- shapes


class BankAccountIn(BaseModel):
    iban: Text = Field(min_length=15, max_length=42)
    currency: Text | None = Field(default=None, min_length=3, max_length=3)
    account_code: AccountCode
    name: Text = Field(default="", max_length=200)


class BankAccountOut(BaseModel):
    id: UUID
    iban: str
    bank_code: str | None
    bic: str | None
    bank_name: str | None
    currency: str
    account_code: str
    name: str

    @classmethod
    def of(cls, row: dict[str, Any]) -> BankAccountOut:
        _, bic, bank = d.bank_of(row["iban"] or "")
        return cls(id=row["id"], iban=row["iban"], bank_code=row["bank_code"], bic=bic,
                   bank_name=bank, currency=row["currency"],
                   account_code=row["account_code"], name=row["name"])


class FindingOut(BaseModel):
    row: int
    code: str
    message: str
    severity: str


class ImportOut(BaseModel):
    id: UUID
    bank_account_id: UUID
    format: str
    lines_imported: int
    duplicates_skipped: int
    findings: list[FindingOut]

    @classmethod
    def of(cls, result: ImportResult) -> ImportOut:
        return cls(id=result.id, bank_account_id=result.bank_account_id, format=result.format,
                   lines_imported=result.lines_imported,
                   duplicates_skipped=result.duplicates_skipped,
                   findings=[FindingOut(**f.as_data()) for f in result.findings])


class StatementOut(BaseModel):
    id: UUID
    bank_account_id: UUID
    format: str
    filename: str
    opening_balance: str | None
    closing_balance: str | None
    period_from: dt.date | None
    period_to: dt.date | None
    lines_imported: int
    duplicates_skipped: int
    findings: list[FindingOut]

    @classmethod
    def of(cls, row: dict[str, Any]) -> StatementOut:
        def money(v: Any) -> str | None:
            return None if v is None else amount_text(v)

        return cls(id=row["id"], bank_account_id=row["bank_account_id"], format=row["format"],
                   filename=row["filename"], opening_balance=money(row["opening_balance"]),
                   closing_balance=money(row["closing_balance"]),
                   period_from=row["period_from"], period_to=row["period_to"],
                   lines_imported=row["lines_imported"],
                   duplicates_skipped=row["duplicates_skipped"],
                   findings=[FindingOut(**f) for f in row["findings"]])


class SuggestionOut(BaseModel):
    document_id: UUID
    kind: str
    number: str
    amount_due: str
    allocate: str
    score: int
    reasons: list[str]
    counterparty_id: UUID | None = None


class AllocationOut(BaseModel):
    document_id: UUID
    amount: str


class LineOut(BaseModel):
    id: UUID
    statement_id: UUID
    bank_account_id: UUID
    row: int
    date: dt.date
    value_date: dt.date | None
    amount: str
    currency: str
    bank_id: str
    reference: str
    counterparty_name: str
    counterparty_iban: str
    counterparty_tax_id: str
    description: str
    status: str
    transaction_id: UUID | None
    account_code: str | None
    suggestions: list[SuggestionOut]
    allocations: list[AllocationOut] = []

    @classmethod
    def of(cls, row: dict[str, Any], allocations: list[dict[str, Any]] | None = None
           ) -> LineOut:
        return cls(id=row["id"], statement_id=row["statement_id"],
                   bank_account_id=row["bank_account_id"], row=row["row_no"],
                   date=row["booking_date"], value_date=row["value_date"],
                   amount=amount_text(row["amount"]), currency=row["currency"],
                   bank_id=row["bank_id"], reference=row["reference"],
                   counterparty_name=row["counterparty_name"],
                   counterparty_iban=row["counterparty_iban"],
                   counterparty_tax_id=row["counterparty_tax_id"],
                   description=row["description"], status=row["status"],
                   transaction_id=row["transaction_id"], account_code=row["account_code"],
                   suggestions=([SuggestionOut(**s) for s in row["suggestions"]]
                                if row["status"] == "unreconciled" else []),
                   allocations=[AllocationOut(document_id=a["document_id"],
                                              amount=amount_text(a["amount"]))
                                for a in allocations or []])


class AllocationIn(BaseModel):
    document_id: UUID
    amount: AmountIn


class ReconcileIn(BaseModel):
    """Either ``allocations`` (documents: a payment is posted) or ``account_code`` (fees,
    interest, taxes: a journal transaction against that account)."""

    allocations: list[AllocationIn] | None = Field(default=None, max_length=200)
    account_code: AccountCode | None = None
    exchange_rate: AmountIn = None
    learn: Bool = Field(default=False, description=(
        "With account_code: also make the rule learnt from this line (rule_suggestion)"))


class ReconcileOut(BaseModel):
    line_id: UUID
    status: str
    transaction_id: UUID
    payment_id: UUID | None = None
    account_code: str | None = None
    rule_suggestion: dict[str, str] | None = Field(default=None, description=(
        "A rule learnt from this reconciliation, to confirm with POST …/bank-rules"))
    rule_id: UUID | None = Field(default=None, description="The rule made (learn=true)")

    @classmethod
    def of(cls, done: Reconciled) -> ReconcileOut:
        return cls(line_id=done.line_id, status="reconciled",
                   transaction_id=done.transaction_id, payment_id=done.payment_id,
                   account_code=done.account_code, rule_suggestion=done.rule_suggestion,
                   rule_id=done.rule_id)


class UnreconcileOut(BaseModel):
    line_id: UUID
    status: str
    reversal_transaction_id: UUID | None


class RuleIn(BaseModel):
    contains: Text = Field(min_length=1, max_length=200)
    account_code: AccountCode
    direction: Text = Field(default="any", pattern="^(in|out|any)$")


class RuleOut(BaseModel):
    id: UUID
    contains: str
    account_code: str
    direction: str


class RuleApplyIn(BaseModel):
    confirm: Bool = False
    bank_account_id: UUID | None = None


class RuleMatchOut(BaseModel):
    line_id: UUID
    rule_id: UUID
    account_code: str
    date: dt.date
    amount: str
    description: str


class RuleApplyOut(BaseModel):
    confirmed: bool
    matches: list[RuleMatchOut]
    reconciled: list[ReconcileOut]


class ReconciliationOut(BaseModel):
    bank_account_id: UUID
    account_code: str
    currency: str
    as_of: dt.date
    opening_balance: str
    bank_balance: str
    ledger_balance: str | None
    difference: str | None
    unreconciled_in: str
    unreconciled_out: str
    unreconciled_count: int
    outstanding_in_books: str | None
    reconciled_total: str


_account_body = ExactJsonBody(BankAccountIn)
_reconcile_body = ExactJsonBody(ReconcileIn)
_rule_body = ExactJsonBody(RuleIn)
_apply_body = ExactJsonBody(RuleApplyIn)

class StatementUploadIn(BaseModel):
    """A statement sent as JSON (scripts, tests): the file's bytes in base64."""

    content_base64: str = Field(min_length=1)
    filename: Text = Field(default="", max_length=200)
    account_code: AccountCode | None = None
    account: UUID | None = None


_UPLOAD_BODY = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"}}}},
    "application/json": {"schema": StatementUploadIn.model_json_schema()},
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    "application/xml": {"schema": {"type": "string"}},
    "text/plain": {"schema": {"type": "string"}},
}}}


async def _upload(request: Request) -> tuple[bytes, str, StatementUploadIn | None]:
    """The statement file: the ``file`` part of a multipart form, a JSON document with
    ``content_base64``, or the raw body."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if is_json(media):
        body = validate_body(StatementUploadIn, exact_json(await request.body()))
        try:
            content = base64.b64decode(body.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise d.NotAStatement("content_base64 is not base64.") from None
        return content, body.filename, body
    if media == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=5)
        part = form.get("file")
        if part is None or isinstance(part, str):
            raise d.NotAStatement("The form has no 'file' part.")
        content = await part.read()
        return content, part.filename or "", None
    return await request.body(), "", None


Line = Annotated[UUID, Path()]


def router() -> APIRouter:
    api = APIRouter(prefix="/api/v1/companies/{company_id}", tags=["banking"],
                    route_class=StrictRoute)

    # ------------------------------------------------------------------ bank accounts

    @api.post("/bank-accounts", summary="Register a bank account (IBAN checked, mod 97)",
              status_code=201, response_model=BankAccountOut,
              responses=problem_responses(*_ERRORS, 409), openapi_extra=_account_body.openapi())
    async def open_account(ctx: Writer, banking: Banking,
                           body: Annotated[BankAccountIn, Depends(_account_body)]
                           ) -> BankAccountOut:
        row = await banking.open_account(ctx, body.iban, body.currency, body.account_code,
                                         body.name)
        return BankAccountOut.of(row)

    @api.get("/bank-accounts", summary="The company's bank accounts",
             response_model=list[BankAccountOut], responses=problem_responses(*_ERRORS))
    async def list_accounts(ctx: Reader, banking: Banking) -> list[BankAccountOut]:
        async with banking.db.transaction(company_id=ctx.company_id) as conn:
            rows = await queries.bank_accounts(conn, ctx.company_id)
        return [BankAccountOut.of(r) for r in rows]

    @api.get("/bank-accounts/{bank_account_id}/reconciliation",
             summary="The bank reconciliation statement on a date (period close)",
             response_model=ReconciliationOut, responses=problem_responses(*_ERRORS))
    async def reconciliation(bank_account_id: UUID, ctx: Reader, banking: Banking,
                             as_of: Annotated[Date | None, Query()] = None
                             ) -> ReconciliationOut:
        report = await banking.reconciliation(ctx, bank_account_id,
                                              as_of or banking.ledger.today())
        return ReconciliationOut(**{k: (amount_text(v) if k not in (
            "unreconciled_count",) and isinstance(v, Decimal) else v)
            for k, v in report.items()})

    # ------------------------------------------------------------------ statements

    @api.post("/bank-statements",
              summary="Import a statement file (camt.053, MT940, TBC or Bank of Georgia "
                      "CSV/XLSX; the format is detected)",
              status_code=201, response_model=ImportOut,
              responses=problem_responses(*_ERRORS, 409, 413), openapi_extra=_UPLOAD_BODY)
    async def import_statement(
        request: Request, ctx: Writer, banking: Banking,
        account_code: Annotated[Text | None, Query(max_length=40)] = None,
        account: Annotated[UUID | None, Query(description="The bank account's id")] = None,
    ) -> ImportOut:
        content, filename, body = await _upload(request)
        if body is not None:
            account_code = account_code or body.account_code
            account = account or body.account
        result = await banking.import_statement(ctx, content, account_code=account_code,
                                                bank_account_id=account, filename=filename)
        return ImportOut.of(result)

    @api.get("/bank-statements", summary="Imported statements, newest first",
             response_model=list[StatementOut], responses=problem_responses(*_ERRORS))
    async def list_statements(ctx: Reader, banking: Banking,
                              account: Annotated[UUID | None, Query()] = None
                              ) -> list[StatementOut]:
        async with banking.db.transaction(company_id=ctx.company_id) as conn:
            rows = await queries.statements(conn, ctx.company_id, account)
        return [StatementOut.of(r) for r in rows]

    @api.get("/bank-statements/lines",
             summary="Statement lines in booking order, with ranked suggestions",
             response_model=list[LineOut], responses=problem_responses(*_ERRORS))
    async def list_lines(
        ctx: Reader, banking: Banking,
        status: Annotated[str | None, Query(pattern="^(unreconciled|reconciled)$")] = None,
        account: Annotated[UUID | None, Query()] = None,
        statement: Annotated[UUID | None, Query()] = None,
        date_from: Annotated[Date | None, Query()] = None,
        date_to: Annotated[Date | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> list[LineOut]:
        async with banking.db.transaction(company_id=ctx.company_id) as conn:
            rows = await queries.lines(conn, ctx.company_id, status=status,
                                       bank_account_id=account, statement_id=statement,
                                       date_from=date_from, date_to=date_to, limit=limit,
                                       offset=offset)
        return [LineOut.of(r) for r in rows]

    @api.get("/bank-statements/lines/{line_id}", summary="One statement line",
             response_model=LineOut, responses=problem_responses(*_ERRORS))
    async def get_line(line_id: Line, ctx: Reader, banking: Banking) -> LineOut:
        async with banking.db.transaction(company_id=ctx.company_id) as conn:
            row = await queries.line(conn, ctx.company_id, line_id)
            if row is None:
                raise d.LineNotFound("No such bank statement line.")
            allocations = await queries.allocations(conn, ctx.company_id, line_id)
        return LineOut.of(row, allocations)

    @api.post("/bank-statements/lines/{line_id}/reconcile",
              summary="Reconcile a line to documents (a payment) or to an account",
              response_model=ReconcileOut, responses=problem_responses(*_ERRORS, 409),
              openapi_extra=_reconcile_body.openapi())
    async def reconcile(line_id: Line, ctx: Writer, banking: Banking,
                        body: Annotated[ReconcileIn, Depends(_reconcile_body)]
                        ) -> ReconcileOut:
        allocations = None
        if body.allocations is not None:
            allocations = [(a.document_id, _amount(a.amount, f"allocations[{n}].amount"))
                           for n, a in enumerate(body.allocations)]
        rate = None if body.exchange_rate is None else _amount(body.exchange_rate,
                                                               "exchange_rate")
        done = await banking.reconcile(ctx, line_id, allocations=allocations,
                                       account_code=body.account_code, exchange_rate=rate,
                                       learn=body.learn)
        return ReconcileOut.of(done)

    @api.post("/bank-statements/lines/{line_id}/unreconcile",
              summary="Undo a line's reconciliation (its transaction or payment reversed)",
              response_model=UnreconcileOut, responses=problem_responses(*_ERRORS, 409))
    async def unreconcile(line_id: Line, ctx: Writer, banking: Banking) -> UnreconcileOut:
        reversal = await banking.unreconcile(ctx, line_id)
        return UnreconcileOut(line_id=line_id, status="unreconciled",
                              reversal_transaction_id=reversal)

    @api.post("/bank-statements/suggestions/refresh",
              summary="Rank every unreconciled line again against today's open documents",
              responses=problem_responses(*_ERRORS))
    async def refresh(ctx: Writer, banking: Banking) -> dict[str, int]:
        return {"lines_with_suggestions": await banking.refresh_suggestions(ctx)}

    @api.get("/bank-statements/imports/{statement_id}", summary="One imported statement",
             response_model=StatementOut, responses=problem_responses(*_ERRORS))
    async def get_statement(statement_id: UUID, ctx: Reader, banking: Banking) -> StatementOut:
        async with banking.db.transaction(company_id=ctx.company_id) as conn:
            row = await queries.statement(conn, ctx.company_id, statement_id)
        if row is None:
            raise d.StatementNotFound("No such statement.")
        return StatementOut.of(row)

    @api.delete("/bank-statements/imports/{statement_id}",
                summary="Undo an import that has no reconciled line", status_code=204,
                response_class=Response, responses=problem_responses(*_ERRORS, 409))
    async def undo(statement_id: UUID, ctx: Writer, banking: Banking) -> Response:
        await banking.undo_import(ctx, statement_id)
        return Response(status_code=204)

    # ------------------------------------------------------------------ rules

    @api.post("/bank-rules", summary="A rule: lines whose text contains … go to an account",
              status_code=201, response_model=RuleOut,
              responses=problem_responses(*_ERRORS), openapi_extra=_rule_body.openapi())
    async def create_rule(ctx: Writer, banking: Banking,
                          body: Annotated[RuleIn, Depends(_rule_body)]) -> RuleOut:
        return RuleOut(**await banking.create_rule(ctx, body.contains, body.account_code,
                                                   body.direction))

    @api.get("/bank-rules", summary="The company's rules", response_model=list[RuleOut],
             responses=problem_responses(*_ERRORS))
    async def list_rules(ctx: Reader, banking: Banking) -> list[RuleOut]:
        async with banking.db.transaction(company_id=ctx.company_id) as conn:
            rows = await queries.rules(conn, ctx.company_id)
        return [RuleOut(**r) for r in rows]

    @api.delete("/bank-rules/{rule_id}", summary="Delete a rule", status_code=204,
                response_class=Response, responses=problem_responses(*_ERRORS))
    async def delete_rule(rule_id: UUID, ctx: Writer, banking: Banking) -> Response:
        await banking.delete_rule(ctx, rule_id)
        return Response(status_code=204)

    @api.post("/bank-rule-runs",
              summary="The lines the rules would reconcile; with confirm=true, reconcile "
                      "them all", response_model=RuleApplyOut,
              responses=problem_responses(*_ERRORS, 409), openapi_extra=_apply_body.openapi())
    async def apply_rules(ctx: Writer, banking: Banking,
                          body: Annotated[RuleApplyIn, Depends(_apply_body)],
                          ) -> RuleApplyOut:
        preview = await banking.apply_rules(ctx, confirm=body.confirm,
                                            bank_account_id=body.bank_account_id)
        return RuleApplyOut(
            confirmed=body.confirm,
            matches=[RuleMatchOut(**{**m, "amount": amount_text(m["amount"])})
                     for m in preview.matches],
            reconciled=[ReconcileOut.of(r) for r in preview.reconciled])

    return api
