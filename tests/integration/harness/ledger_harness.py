"""Helpers for ledger tests: the identity harness plus a company with one member per role,
and shortcuts for the journal's lifecycle."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import httpx
from identity_harness import Harness as IdentityHarness
from identity_harness import settings_for_tests

__all__ = ["Books", "Harness", "entries_body", "settings_for_tests"]


def entries_body(entries: list[tuple[str, str, str]]) -> list[dict[str, str]]:
    """(account, debit, credit) with "" for the empty side, as the API takes lines."""
    return [{"account_code": a, **({"debit": dr} if dr else {}),
             **({"credit": cr} if cr else {})} for a, dr, cr in entries]


@dataclass
class Books:
    """A company with a chief accountant (``chief``) and an accountant (``clerk``)."""

    h: Harness
    company_id: UUID
    chief: dict[str, str]
    clerk: dict[str, str]
    extra: dict[str, dict[str, str]] = field(default_factory=dict)

    def url(self, path: str = "") -> str:
        return f"/api/v1/companies/{self.company_id}{path}"

    async def draft(self, entries: list[tuple[str, str, str]], day: str = "2026-03-15",
                    description: str = "Test", by: str = "clerk", **extra: Any) -> dict[str, Any]:
        """``entries``: (account, debit, credit) with "" for the empty side."""
        body = {"date": day, "description": description, **extra,
                "entries": entries_body(entries)}
        response = await self.h.client.post(self.url("/transactions"), json=body,
                                            headers=getattr(self, by))
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def post(self, entries: list[tuple[str, str, str]], day: str = "2026-03-15",
                   description: str = "Test", **extra: Any) -> dict[str, Any]:
        """Draft (clerk), approve (chief), post (clerk): the normal cycle."""
        tx = await self.draft(entries, day, description, **extra)
        r = await self.h.client.post(self.url(f"/transactions/{tx['id']}/approve"),
                                     headers=self.chief)
        assert r.status_code == 200, r.text
        r = await self.h.client.post(self.url(f"/transactions/{tx['id']}/post"),
                                     headers=self.clerk)
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def post_batch(self, transactions: list[tuple[str, str, list[tuple[str, str, str]]]]
                         ) -> None:
        """(date, description, entries) each, posted at once by the chief and numbered in
        order (``POST …/transactions/batch``)."""
        body = {"transactions": [
            {"date": day, "description": text, "entries": entries_body(entries)}
            for day, text, entries in transactions]}
        r = await self.h.client.post(self.url("/transactions/batch"), json=body,
                                     headers=self.chief)
        assert r.status_code == 201, r.text

    async def balance(self, code: str, as_of: str = "2026-12-31") -> str:
        r = await self.h.client.get(self.url(f"/accounts/{code}/balance"),
                                    params={"as_of": as_of}, headers=self.clerk)
        assert r.status_code == 200, r.text
        return str(r.json()["balance"])

    async def act(self, transaction_id: str, action: str, by: str = "chief",
                  **body: Any) -> httpx.Response:
        """``POST .../transactions/{id}/{action}`` (approve, post, reverse) as ``by``."""
        return await self.h.client.post(self.url(f"/transactions/{transaction_id}/{action}"),
                                        headers=getattr(self, by), json=body or None)

    async def get(self, transaction_id: str, by: str = "clerk") -> dict[str, Any]:
        r = await self.h.client.get(self.url(f"/transactions/{transaction_id}"),
                                    headers=getattr(self, by))
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def approved(self, entries: list[tuple[str, str, str]], day: str = "2026-03-15",
                       description: str = "Test", **extra: Any) -> dict[str, Any]:
        """Drafted by the clerk and approved by the chief, not yet posted."""
        tx = await self.draft(entries, day, description, **extra)
        r = await self.act(tx["id"], "approve")
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def listing(self, by: str = "clerk", **params: Any) -> dict[str, Any]:
        r = await self.h.client.get(self.url("/transactions"), params=params,
                                    headers=getattr(self, by))
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def state(self) -> dict[str, Any]:
        """What journal writes leave behind, read with the privileged pool: the ledger's
        events and read-model rows of this company. Equal before and after a refused
        request means nothing was written."""
        return await journal_state(self.h, self.company_id)


class Harness(IdentityHarness):
    async def books(self, name: str = "Tbilisi Trade LLC") -> Books:
        await self.user("chief")
        await self.user("clerk")
        chief = await self.headers("chief")
        company_id = await self.company(chief, name)
        await self.member(chief, company_id, "clerk", "accountant")
        return Books(self, company_id, chief, await self.headers("clerk"))

    async def other_books(self, prefix: str, name: str = "Batumi Port LLC",
                          tax_id: str = "405123987") -> Books:
        """A second company with its own chief (``{prefix}-chief``) and accountant."""
        await self.user(f"{prefix}-chief")
        await self.user(f"{prefix}-clerk")
        chief = await self.headers(f"{prefix}-chief")
        company_id = await self.company(chief, name, tax_id)
        await self.member(chief, company_id, f"{prefix}-clerk", "accountant")
        return Books(self, company_id, chief, await self.headers(f"{prefix}-clerk"))


PROBLEM_JSON = "application/problem+json"


def expect_problem(response: httpx.Response, status: int,
                   code: str | None = None) -> dict[str, Any]:
    """Assert ``response`` is a problem+json document with ``status`` (and ``code``)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status, body
    assert body["detail"], body
    if code is not None:
        assert body["code"] == code, body
    return body


async def journal_state(h: Harness, company_id: UUID) -> dict[str, Any]:
    """The company's ledger events (by type) and journal rows, counted and summed."""
    async with h.container.db.transaction() as conn:
        cursor = await conn.execute(
            "SELECT event_type, count(*) AS n FROM events WHERE company_id = %s"
            " AND stream_type LIKE 'ledger.%%' GROUP BY 1 ORDER BY 1", (company_id,))
        events = {r["event_type"]: r["n"] for r in await cursor.fetchall()}
        state: dict[str, Any] = {"events": events}
        for table, what in (("journal_transactions", "count(*), max(version)"),
                            ("journal_lines", "count(*), sum(debit_base), sum(credit_base)"),
                            ("account_turnover", "count(*), sum(debit_base), sum(credit_base)"),
                            ("transaction_numbers", "count(*), sum(last_number)"),
                            ("idempotency_keys", "count(*)"),
                            ("accounts", "count(*), count(*) FILTER (WHERE active)"),
                            ("fiscal_periods",
                             "count(*) FILTER (WHERE status <> 'open')")):
            cursor = await conn.execute(
                f"SELECT {what} FROM {table} WHERE company_id = %s", (company_id,))
            state[table] = tuple((await cursor.fetchone() or {}).values())
    return state
