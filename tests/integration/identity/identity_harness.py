"""Helpers for identity tests: a harness around the app, settings, constants."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import httpx
import psycopg
from fastapi import FastAPI

from saldo import bootstrap
from saldo.identity.domain import Role, User
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
    values: dict[str, Any] = {"secret_key": SECRET, "db_pool_min": 1, "db_pool_max": 4,
                              "redis_url": None, "cors_origins": [], **overrides}
    return load_settings(**values)


#: A plausible request for every company-scoped route, so the role-matrix and isolation
#: tests can call each one. ``target`` is an existing member the call may act on.
#: A new company-scoped route without an entry here fails ``test_every_guarded_route_
#: is_in_the_matrix``: add it here and to the matrix.
def company_calls(target: str, newcomer: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("GET", "/api/v1/companies/{company_id}", None),
        ("GET", "/api/v1/companies/{company_id}/members", None),
        ("GET", "/api/v1/companies/{company_id}/audit/identity", None),
        # "admin": a role both administering roles may grant (its permissions are a
        # subset of theirs); escalation is tested on its own in test_access_control.py.
        ("POST", "/api/v1/companies/{company_id}/members",
         {"username": newcomer, "role": "admin"}),
        ("PUT", "/api/v1/companies/{company_id}/members/" + target, {"role": "admin"}),
        ("DELETE", "/api/v1/companies/{company_id}/members/" + target, None),
    ]


def route_template(path: str, target: str) -> str:
    return path.replace("/" + target, "/{username}")
