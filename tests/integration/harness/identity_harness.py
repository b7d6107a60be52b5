"""Helpers for identity tests: a harness around the app, settings, constants."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import httpx
import psycopg
from fastapi import FastAPI

from saldo import bootstrap
from saldo.identity.domain import CompanyContext, Permission, Role, User
from saldo.ledger.domain import ContentInput, LineDraft
from saldo.platform.settings import Settings, load_settings

SECRET = "test-secret-key-long-enough-for-hs256-and-hs512-0123456789abcdefghij"
PASSWORD = "correct horse battery staple"

@dataclass
class Harness:
    """The app under test and shortcuts that keep tests about one thing each."""

    container: bootstrap.Container
    client: httpx.AsyncClient
    app: FastAPI

    async def user(self, username: str, *, superuser: bool = False,
                   password: str = PASSWORD, full_name: str = "") -> User:
        return await self.container.identity.create_user(
            username, password, full_name or username.title(), is_superuser=superuser)

    async def login(self, username: str, password: str = PASSWORD) -> dict[str, Any]:
        response = await self.client.post("/api/v1/auth/token",
                                          json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def token(self, username: str, password: str = PASSWORD) -> str:
        return str((await self.login(username, password))["access_token"])

    async def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token(username)}"}

    async def company(self, headers: dict[str, str], name: str = "Tbilisi Trade LLC",
                      tax_id: str = "204567891") -> UUID:
        response = await self.client.post(
            "/api/v1/companies", headers=headers,
            json={"name": name, "tax_id": tax_id, "vat_payer": True})
        assert response.status_code == 201, response.text
        return UUID(response.json()["id"])

    async def member(self, headers: dict[str, str], company_id: UUID, username: str,
                     role: Role | str) -> None:
        response = await self.client.post(
            f"/api/v1/companies/{company_id}/members", headers=headers,
            json={"username": username, "role": str(role)})
        assert response.status_code == 201, response.text

def as_url(conninfo: str) -> str:
    """A ``postgresql://`` URL for a libpq conninfo string (what ``SALDO_DATABASE_URL``
    accepts; the fixtures hand out conninfo strings)."""
    if conninfo.startswith(("postgresql://", "postgres://")):
        return conninfo
    return "postgresql:///?" + urlencode(psycopg.conninfo.conninfo_to_dict(conninfo))


def settings_for_tests(**overrides: Any) -> Settings:
    # A long pool wait: a loaded test machine must not turn a busy pool into 503s.
    values: dict[str, Any] = {"secret_key": SECRET, "db_pool_min": 1, "db_pool_max": 4,
                              "db_pool_timeout": 30,
                              "redis_url": None, "cors_origins": [], **overrides}
    return load_settings(**values)


@dataclass(frozen=True)
class Call:
    """A plausible request to one company-scoped route, so the role-matrix and isolation
    tests can call each one. ``path`` is the route's template; ``setup`` makes, in the
    company, what the request needs in order to succeed (a draft to approve, an account
    nobody uses yet to delete) and returns the values of the path's other parameters."""

    method: str
    path: str
    body: dict[str, Any] | None = None
    setup: Callable[[Harness, UUID], Awaitable[dict[str, str]]] | None = None

    async def url(self, h: Harness, company_id: UUID) -> str:
        """Set the call up in ``company_id`` and return the path to request."""
        return self.path.format(company_id=company_id, **await self.params(h, company_id))

    async def params(self, h: Harness, company_id: UUID) -> dict[str, str]:
        return await self.setup(h, company_id) if self.setup else {}


def _entries(amount: str = "100.00") -> list[dict[str, str]]:
    return [{"account_code": "1110", "debit": amount}, {"account_code": "6110", "credit": amount}]


TRANSACTION = {"date": "2026-03-15", "description": "Cash sale", "entries": _entries()}


@dataclass(frozen=True)
class _Books:
    """Objects for the ledger's calls, made through the service layer as real members:
    ``maker`` (an accountant) drafts and posts, ``checker`` (a chief accountant) approves
    -- so a subject of any role is neither author nor approver of what it acts on."""

    maker: str
    checker: str

    async def _ctx(self, h: Harness, company_id: UUID, username: str,
                   permission: Permission) -> CompanyContext:
        return await h.container.identity.member_context(company_id, username, permission)

    async def draft(self, h: Harness, company_id: UUID) -> UUID:
        ctx = await self._ctx(h, company_id, self.maker, Permission.TRANSACTIONS_WRITE)
        content = ContentInput(date(2026, 3, 15), "Cash sale", [
            LineDraft("1110", debit="100.00"), LineDraft("6110", credit="100.00")])
        tx, _ = await h.container.ledger.draft(ctx, content)
        return tx.id

    async def approved(self, h: Harness, company_id: UUID) -> UUID:
        transaction_id = await self.draft(h, company_id)
        ctx = await self._ctx(h, company_id, self.checker, Permission.TRANSACTIONS_APPROVE)
        await h.container.ledger.approve(ctx, transaction_id)
        return transaction_id

    async def posted(self, h: Harness, company_id: UUID) -> UUID:
        transaction_id = await self.approved(h, company_id)
        ctx = await self._ctx(h, company_id, self.maker, Permission.TRANSACTIONS_WRITE)
        await h.container.ledger.post(ctx, transaction_id)
        return transaction_id

    async def account(self, h: Harness, company_id: UUID, code: str) -> None:
        ctx = await self._ctx(h, company_id, self.maker, Permission.ACCOUNTS_WRITE)
        await h.container.ledger.add_account(ctx, code, f"Sub-account {code}", None, None, None)

    async def closed(self, h: Harness, company_id: UUID, period: str) -> None:
        ctx = await self._ctx(h, company_id, self.checker, Permission.PERIODS_CLOSE)
        await h.container.ledger.change_period(ctx, period, "close")

    async def year_closed(self, h: Harness, company_id: UUID, year: int) -> None:
        ctx = await self._ctx(h, company_id, self.checker, Permission.PERIODS_CLOSE)
        await h.container.ledger.close_fiscal_year(ctx, year)


def _transaction(make: Callable[[Harness, UUID], Awaitable[UUID]]
                 ) -> Callable[[Harness, UUID], Awaitable[dict[str, str]]]:
    async def setup(h: Harness, company_id: UUID) -> dict[str, str]:
        return {"transaction_id": str(await make(h, company_id))}
    return setup


def _account(books: _Books, code: str) -> Callable[[Harness, UUID], Awaitable[dict[str, str]]]:
    async def setup(h: Harness, company_id: UUID) -> dict[str, str]:
        await books.account(h, company_id, code)
        return {"code": code}
    return setup


def _closed(books: _Books, period: str) -> Callable[[Harness, UUID], Awaitable[dict[str, str]]]:
    async def setup(h: Harness, company_id: UUID) -> dict[str, str]:
        await books.closed(h, company_id, period)
        return {"period": period}
    return setup


def _year_closed(books: _Books, year: int
                 ) -> Callable[[Harness, UUID], Awaitable[dict[str, str]]]:
    async def setup(h: Harness, company_id: UUID) -> dict[str, str]:
        await books.year_closed(h, company_id, year)
        return {"year": str(year)}
    return setup


def _fixed(**params: str) -> Callable[[Harness, UUID], Awaitable[dict[str, str]]]:
    async def setup(_: Harness, __: UUID) -> dict[str, str]:
        return params
    return setup


#: A new company-scoped route without a call here fails ``test_every_guarded_route_
#: is_in_the_matrix``: add it here and to the matrix in test_access_control.py.
def company_calls(target: str, newcomer: str, chief: str) -> list[Call]:
    """One call per company-scoped route. ``target`` is an accountant member the calls may
    act on (it authors the ledger's objects; the last calls change its role and remove
    it), ``chief`` a chief accountant other than the caller (it approves and closes),
    ``newcomer`` a user who is not a member yet."""
    books = _Books(maker=target, checker=chief)
    companies = "/api/v1/companies/{company_id}"
    tx = companies + "/transactions/{transaction_id}"
    return [
        # Chart of accounts
        Call("GET", companies + "/accounts"),
        Call("POST", companies + "/accounts", {"code": "1910.01", "name": "Customs deposits"}),
        Call("GET", companies + "/accounts/{code}", setup=_fixed(code="1110")),
        Call("PATCH", companies + "/accounts/{code}", {"name": "Renamed"},
             setup=_account(books, "1490.01")),
        Call("DELETE", companies + "/accounts/{code}", setup=_account(books, "1490.02")),
        Call("GET", companies + "/accounts/{code}/balance", setup=_fixed(code="1110")),
        # Journal transactions
        Call("POST", companies + "/transactions", TRANSACTION),
        Call("POST", companies + "/transactions/batch", {"transactions": [TRANSACTION]}),
        Call("GET", companies + "/transactions"),
        Call("GET", tx, setup=_transaction(books.draft)),
        Call("PATCH", tx, {**TRANSACTION, "entries": _entries("120.00")},
             setup=_transaction(books.draft)),
        Call("DELETE", tx, setup=_transaction(books.draft)),
        Call("POST", tx + "/approve", setup=_transaction(books.draft)),
        Call("POST", tx + "/post", setup=_transaction(books.approved)),
        Call("POST", tx + "/reverse", {"reason": "Entered twice"},
             setup=_transaction(books.posted)),
        Call("GET", tx + "/history", setup=_transaction(books.draft)),
        # Fiscal periods (2025: apart from the transactions' March 2026)
        Call("GET", companies + "/fiscal-periods"),
        Call("POST", companies + "/fiscal-periods/{period}/close", setup=_fixed(period="2025-01")),
        Call("POST", companies + "/fiscal-periods/{period}/reopen",
             setup=_closed(books, "2025-02")),
        Call("POST", companies + "/fiscal-periods/{period}/lock", setup=_fixed(period="2025-03")),
        # Fiscal years (2023, 2024: apart from everything above).
        # (Years close in order and reopen in reverse order: close 2023, then reopen a
        # 2024 the setup closed, which no later closed year holds back.)
        Call("POST", companies + "/fiscal-years/{year}/close", setup=_fixed(year="2023")),
        Call("POST", companies + "/fiscal-years/{year}/reopen", setup=_year_closed(books, 2024)),
        # IAS 21 revaluation (no foreign balances here: nothing to post)
        Call("POST", companies + "/fx-revaluations", {"as_of": "2025-06-30"}),
        # Journal export (reports:financial)
        Call("GET", companies + "/export/journal"),
        # Reports (reports:financial); every parameter has a default (up to today)
        Call("GET", companies + "/reports/trial-balance"),
        Call("GET", companies + "/reports/general-ledger"),
        Call("GET", companies + "/reports/balance-sheet"),
        Call("GET", companies + "/reports/profit-and-loss"),
        Call("GET", companies + "/reports/cash-flow"),
        Call("GET", companies + "/reports/changes-in-equity"),
        Call("GET", companies + "/reports/comprehensive-income"),
        Call("GET", companies + "/reports/financial-statements"),
        *_bank_calls(target),
        # Identity: the company and its members (last: they change and remove ``target``)
        Call("GET", companies),
        Call("GET", companies + "/members"),
        Call("GET", companies + "/audit/identity"),
        # "admin": a role both administering roles may grant (its permissions are a
        # subset of theirs); escalation is tested on its own in test_access_control.py.
        Call("POST", companies + "/members", {"username": newcomer, "role": "admin"}),
        Call("PUT", companies + "/members/{username}", {"role": "admin"},
             setup=_fixed(username=target)),
        Call("DELETE", companies + "/members/{username}", setup=_fixed(username=target)),
    ]


def _bank_calls(target: str) -> list[Call]:
    from bank_calls import bank_calls  # banking's calls (its harness imports this module)

    return bank_calls(target)
