"""Helpers for ledger tests: the identity harness plus a company with one member per role,
and shortcuts for the journal's lifecycle."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

sys.path.insert(0, str(Path(__file__).parent.parent / "identity"))

from identity_harness import Harness as IdentityHarness  # noqa: E402
from identity_harness import settings_for_tests  # noqa: E402

__all__ = ["Books", "Harness", "settings_for_tests"]


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
        body = {"date": day, "description": description, **extra, "entries": [
            {"account_code": a, **({"debit": dr} if dr else {}), **({"credit": cr} if cr else {})}
            for a, dr, cr in entries]}
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

    async def balance(self, code: str, as_of: str = "2026-12-31") -> str:
        r = await self.h.client.get(self.url(f"/accounts/{code}/balance"),
                                    params={"as_of": as_of}, headers=self.clerk)
        assert r.status_code == 200, r.text
        return str(r.json()["balance"])


class Harness(IdentityHarness):
    async def books(self, name: str = "Tbilisi Trade LLC") -> Books:
        await self.user("chief")
        await self.user("clerk")
        chief = await self.headers("chief")
        company_id = await self.company(chief, name)
        await self.member(chief, company_id, "clerk", "accountant")
        return Books(self, company_id, chief, await self.headers("clerk"))
