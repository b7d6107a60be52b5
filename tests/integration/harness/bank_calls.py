"""Banking's company-scoped calls for the role matrix and isolation tests
(``identity_harness.company_calls``): one plausible request per route, each with a setup
that makes what it needs (a statement with a line of its own, a reconciled line, a
rule) through the service layer as the accountant ``target``."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from datetime import date
from uuid import UUID, uuid4

from bank_files import OTHER_IBAN, Entry, camt053
from identity_harness import Call, Harness

from saldo.banking import queries
from saldo.banking.service import BankingService
from saldo.identity.domain import CompanyContext, Permission

Setup = Callable[[Harness, UUID], Awaitable[dict[str, str]]]


def _statement() -> bytes:
    """One 2.50 commission with a bank id of its own: never a duplicate."""
    return camt053([Entry("-2.50", date(2026, 3, 5), "Commission", f"C-{uuid4().hex}")])


def _setup(target: str, *, reconciled: bool = False, rule: bool = False) -> Setup:
    async def setup(h: Harness, company_id: UUID) -> dict[str, str]:
        ctx: CompanyContext = await h.container.identity.member_context(
            company_id, target, Permission.BANK_WRITE)
        banking: BankingService = h.container.services["banking"]
        if rule:
            made = await banking.create_rule(ctx, "Commission", "7492")
            return {"rule_id": str(made["id"])}
        result = await banking.import_statement(ctx, _statement(), account_code="1210")
        async with banking.db.transaction(company_id=company_id) as conn:
            [line] = await queries.lines(conn, company_id, statement_id=result.id)
        if reconciled:
            await banking.reconcile(ctx, line["id"], account_code="7492")
        return {"statement_id": str(result.id), "line_id": str(line["id"]),
                "bank_account_id": str(result.bank_account_id)}
    return setup


def bank_calls(target: str) -> list[Call]:
    c = "/api/v1/companies/{company_id}"
    lines = c + "/bank-statements/lines/{line_id}"
    upload = {"account_code": "1210",
              "content_base64": base64.b64encode(_statement()).decode()}
    return [
        Call("GET", c + "/bank-accounts"),
        Call("POST", c + "/bank-accounts", {"iban": OTHER_IBAN, "account_code": "1290"}),
        Call("GET", c + "/bank-accounts/{bank_account_id}/reconciliation",
             setup=_setup(target)),
        Call("POST", c + "/bank-statements", upload),
        Call("GET", c + "/bank-statements"),
        Call("GET", c + "/bank-statements/lines"),
        Call("GET", lines, setup=_setup(target)),
        Call("POST", lines + "/reconcile", {"account_code": "7492"}, setup=_setup(target)),
        Call("POST", lines + "/unreconcile", setup=_setup(target, reconciled=True)),
        Call("POST", c + "/bank-statements/suggestions/refresh"),
        Call("GET", c + "/bank-statements/imports/{statement_id}", setup=_setup(target)),
        Call("DELETE", c + "/bank-statements/imports/{statement_id}", setup=_setup(target)),
        Call("POST", c + "/bank-rules", {"contains": "Commission", "account_code": "7492"}),
        Call("GET", c + "/bank-rules"),
        Call("DELETE", c + "/bank-rules/{rule_id}", setup=_setup(target, rule=True)),
        Call("POST", c + "/bank-rule-runs", {}),
    ]
