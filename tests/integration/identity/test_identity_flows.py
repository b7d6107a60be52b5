"""The identity flows of issue 3, end to end through the HTTP API on real PostgreSQL:
a superuser made by the real CLI logs in, creates a user and a company, adds a member
in each role, and everyone sees their memberships in ``GET /me``."""

from __future__ import annotations

import os
import subprocess
import sys
from uuid import UUID

import pytest
from identity_harness import PASSWORD, Harness, as_url

from saldo.identity.domain import Role
from saldo.platform.db import Database

pytestmark = pytest.mark.integration


def run_cli(
    *args: str, url: str, password: str | None = PASSWORD
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALDO_")}
    env["SALDO_DATABASE_URL"] = as_url(url)
    if password is not None:
        env["SALDO_PASSWORD"] = password
    return subprocess.run([sys.executable, "-m", "saldo", *args], env=env, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL, check=False)


async def test_superuser_from_the_cli_runs_the_whole_flow(h: Harness, db: Database) -> None:
    done = run_cli("users", "create", "root", "--superuser", "--full-name", "Nino Beridze",
                   url=db.url)
    assert done.returncode == 0, done.stderr
    assert "created superuser root" in done.stdout

    root = {"Authorization": f"Bearer {await h.token('root')}"}
    me = (await h.client.get("/api/v1/me", headers=root)).json()
    assert me["username"] == "root"
    assert me["is_superuser"] is True
    assert me["full_name"] == "Nino Beridze"
    assert me["memberships"] == []

    # The superuser creates an ordinary user over the API ...
    created = await h.client.post("/api/v1/users", headers=root, json={
        "username": "giorgi", "password": PASSWORD, "full_name": "Giorgi Kapanadze"})
    assert created.status_code == 201, created.text
    assert created.json()["username"] == "giorgi"
    UUID(created.json()["id"])
    again = await h.client.post("/api/v1/users", headers=root, json={
        "username": "GIORGI", "password": PASSWORD, "full_name": "Another"})
    assert again.status_code == 409
    assert again.json()["code"] == "username_taken"

    # ... who creates a company and becomes its chief accountant.
    giorgi = await h.headers("giorgi")
    response = await h.client.post("/api/v1/companies", headers=giorgi, json={
        "name": "Kutaisi Bakery LLC", "tax_id": "404123456", "vat_payer": True})
    assert response.status_code == 201, response.text
    company = response.json()
    assert company["base_currency"] == "GEL"
    assert company["tax_id"] == "404123456"
    assert company["vat_payer"] is True
    cid = company["id"]

    # A member in each role.
    usernames = {role: f"user-{role.value.replace('_', '-')}" for role in Role}
    for role, username in usernames.items():
        await h.user(username)
        if role is not Role.CHIEF_ACCOUNTANT:
            await h.member(giorgi, UUID(cid), username, role)
    await h.member(giorgi, UUID(cid), usernames[Role.CHIEF_ACCOUNTANT], Role.CHIEF_ACCOUNTANT)

    members = (await h.client.get(f"/api/v1/companies/{cid}/members", headers=giorgi)).json()
    assert {(m["username"], m["role"]) for m in members} == {
        ("giorgi", "chief_accountant"), *((u, r.value) for r, u in usernames.items())}

    for role, username in usernames.items():
        me = (await h.client.get("/api/v1/me", headers=await h.headers(username))).json()
        assert me["memberships"] == [
            {"company_id": cid, "company_name": "Kutaisi Bakery LLC", "role": role.value}]

    listed = (await h.client.get("/api/v1/companies", headers=giorgi)).json()
    assert [(c["id"], c["role"]) for c in listed] == [(cid, "chief_accountant")]


async def test_one_user_in_several_companies_with_different_roles(h: Harness) -> None:
    await h.user("tamar")
    await h.user("levan")
    tamar, levan = await h.headers("tamar"), await h.headers("levan")
    first = await h.company(tamar, "Batumi Port Services", "205001002")
    second = await h.company(levan, "Gori Farms", "01024056789")
    await h.member(tamar, first, "levan", Role.AUDITOR)
    me = (await h.client.get("/api/v1/me", headers=levan)).json()
    assert sorted((m["company_name"], m["role"]) for m in me["memberships"]) == [
        ("Batumi Port Services", "auditor"), ("Gori Farms", "chief_accountant")]
    assert str(second) in {m["company_id"] for m in me["memberships"]}


@pytest.mark.parametrize(("password", "rule"), [
    ("short", "at least 12 characters"),
    ("Giorgi-Kapanadze", "must not be the username"),
])
async def test_password_rules_are_clear_422s(h: Harness, password: str, rule: str) -> None:
    await h.user("root", superuser=True)
    response = await h.client.post("/api/v1/users", headers=await h.headers("root"), json={
        "username": "giorgi-kapanadze", "password": password, "full_name": "G"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_password"
    assert rule in response.json()["detail"]


async def test_only_superusers_create_users(h: Harness) -> None:
    await h.user("giorgi")
    response = await h.client.post("/api/v1/users", headers=await h.headers("giorgi"), json={
        "username": "someone", "password": PASSWORD, "full_name": ""})
    assert response.status_code == 403


@pytest.mark.parametrize("tax_id", ["12345678", "1234567890", "123456789012", "20456789X",
                                    "２０４５６７８９１", ""])
async def test_a_tax_id_is_9_or_11_digits(h: Harness, tax_id: str) -> None:
    await h.user("giorgi")
    response = await h.client.post("/api/v1/companies", headers=await h.headers("giorgi"),
                                   json={"name": "X", "tax_id": tax_id, "vat_payer": False})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_the_cli_refuses_a_weak_password_with_one_clear_line(db: Database) -> None:
    done = run_cli("users", "create", "admin", "--superuser", url=db.url, password="admin")
    assert done.returncode == 1
    assert "at least 12 characters" in done.stderr
    assert "Traceback" not in done.stderr


async def test_login_accepts_a_form_encoded_body(h: Harness) -> None:
    await h.user("giorgi")
    response = await h.client.post("/api/v1/auth/token",
                                   data={"username": "giorgi", "password": PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert response.headers["cache-control"] == "no-store"
