"""Who may do what: the role matrix through HTTP, and company isolation -- in the API
(404 for other companies) and in PostgreSQL itself (row-level security)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from identity_harness import Harness, company_calls, route_template

from saldo import bootstrap
from saldo.identity.domain import Role
from saldo.platform.db import Database

pytestmark = pytest.mark.integration

ALL = frozenset(Role)
ADMINS = frozenset({Role.CHIEF_ACCOUNTANT, Role.ADMIN})

#: The expected matrix, written out by hand from the issue (not derived from the code's
#: table): which roles may call each company-scoped endpoint. Everyone else gets 403.
MATRIX: dict[tuple[str, str], frozenset[Role]] = {
    ("GET", "/api/v1/companies/{company_id}"): ALL,
    ("GET", "/api/v1/companies/{company_id}/members"): ALL,
    ("GET", "/api/v1/companies/{company_id}/audit/identity"): ADMINS,
    ("POST", "/api/v1/companies/{company_id}/members"): ADMINS,
    ("PUT", "/api/v1/companies/{company_id}/members/{username}"): ADMINS,
    ("DELETE", "/api/v1/companies/{company_id}/members/{username}"): ADMINS,
}


def _guarded_routes(h: Harness) -> set[tuple[str, str]]:
    return {(method, route.path) for route in bootstrap.api_routes(h.app)
            if "{company_id}" in route.path
            for method in route.methods}


async def test_every_guarded_route_is_in_the_matrix(h: Harness) -> None:
    assert _guarded_routes(h) == set(MATRIX)
    called = {(m, route_template(p, "target")) for m, p, _ in company_calls("target", "new")}
    assert called == set(MATRIX)


async def _call(h: Harness, headers: dict[str, str], method: str, path: str,
                body: dict[str, Any] | None) -> int:
    response = await h.client.request(method, path, headers=headers, json=body)
    assert response.status_code < 500, response.text
    return response.status_code


@pytest.mark.parametrize("role", list(Role))
async def test_role_matrix(h: Harness, role: Role) -> None:
    await h.user("owner")
    owner = await h.headers("owner")
    cid = await h.company(owner)
    for username, member_role in (("subject", role), ("target", Role.ACCOUNTANT)):
        await h.user(username)
        await h.member(owner, cid, username, member_role)
    await h.user("newcomer")
    subject = await h.headers("subject")
    for method, path, body in company_calls("target", "newcomer"):
        status = await _call(h, subject, method, path.format(company_id=cid), body)
        allowed = role in MATRIX[(method, route_template(path, "target"))]
        if allowed:
            assert 200 <= status < 300, (role, method, path, status)
        else:
            assert status == 403, (role, method, path, status)


async def test_a_member_of_a_gets_404_for_everything_of_b(h: Harness) -> None:
    for name in ("alice", "bob", "target", "newcomer"):
        await h.user(name)
    alice, bob = await h.headers("alice"), await h.headers("bob")
    await h.company(alice, "Alice's Books LLC", "204000001")
    b = await h.company(bob, "Bob's Books LLC", "204000002")
    await h.member(bob, b, "target", Role.ACCOUNTANT)
    for company in (b, uuid4()):  # B, and a company that does not exist: alike
        for method, path, body in company_calls("target", "newcomer"):
            response = await h.client.request(method, path.format(company_id=company),
                                              headers=alice, json=body)
            assert response.status_code == 404, (method, path, response.text)
            assert response.json()["code"] == "company_not_found"
    # Nothing of B leaked into Alice's own listings either.
    me = (await h.client.get("/api/v1/me", headers=alice)).json()
    assert [m["company_name"] for m in me["memberships"]] == ["Alice's Books LLC"]
    # And B is untouched.
    members = (await h.client.get(f"/api/v1/companies/{b}/members", headers=bob)).json()
    assert {m["username"] for m in members} == {"bob", "target"}


async def test_a_chief_accountant_cannot_leave_the_company_without_an_administrator(
        h: Harness) -> None:
    await h.user("owner")
    owner = await h.headers("owner")
    cid = await h.company(owner)
    demote = await h.client.put(f"/api/v1/companies/{cid}/members/owner", headers=owner,
                                json={"role": "accountant"})
    assert demote.status_code == 409
    assert demote.json()["code"] == "last_administrator"


# ---------------------------------------------------------------------- row-level security


async def _two_companies(h: Harness) -> tuple[UUID, UUID]:
    await h.user("alice")
    await h.user("bob")
    a = await h.company(await h.headers("alice"), "A LLC", "204000001")
    b = await h.company(await h.headers("bob"), "B LLC", "204000002")
    return a, b


async def test_the_application_role_is_neither_superuser_nor_owner(app_db: Database) -> None:
    async with app_db.transaction() as conn:
        row = await (await conn.execute(
            "SELECT current_user AS who, r.rolsuper, r.rolbypassrls,"
            "       (SELECT count(*) FROM pg_tables WHERE tableowner = current_user) AS owned"
            "  FROM pg_roles r WHERE r.rolname = current_user")).fetchone()
    assert row == {"who": "saldo_app", "rolsuper": False, "rolbypassrls": False, "owned": 0}


async def test_without_a_company_set_a_raw_query_sees_no_tenant_rows(
        h: Harness, app_db: Database, db: Database) -> None:
    await _two_companies(h)
    async with db.transaction() as conn:  # the privileged pool sees both
        cursor = await conn.execute("SELECT count(*) AS n FROM companies")
        assert (await cursor.fetchone()) == {"n": 2}
    async with app_db.transaction() as conn:
        for table in ("companies", "memberships"):
            cursor = await conn.execute(f"SELECT count(*) AS n FROM {table}")  # no WHERE
            assert (await cursor.fetchone()) == {"n": 0}, table


async def test_with_company_a_set_a_raw_query_sees_only_a(h: Harness, app_db: Database) -> None:
    a, b = await _two_companies(h)
    async with app_db.transaction(company_id=a) as conn:
        companies = await (await conn.execute("SELECT id FROM companies")).fetchall()
        members = await (await conn.execute("SELECT company_id FROM memberships")).fetchall()
        assert [r["id"] for r in companies] == [a]
        assert {r["company_id"] for r in members} == {a}
        # Even asking for B by id finds nothing.
        cursor = await conn.execute("SELECT * FROM companies WHERE id = %s", (b,))
        assert await cursor.fetchone() is None
    # The scope ends with the transaction: the pooled connection forgets it.
    async with app_db.transaction() as conn:
        cursor = await conn.execute("SELECT count(*) AS n FROM companies")
        assert (await cursor.fetchone()) == {"n": 0}


async def test_with_company_a_set_writes_to_b_are_refused(h: Harness, app_db: Database) -> None:
    a, b = await _two_companies(h)
    async with app_db.transaction(company_id=a) as conn:
        cursor = await conn.execute("UPDATE companies SET name = 'hacked' WHERE id = %s", (b,))
        assert cursor.rowcount == 0
        cursor = await conn.execute("DELETE FROM memberships WHERE company_id = %s", (b,))
        assert cursor.rowcount == 0
    bob = await h.client.get("/api/v1/me", headers=await h.headers("bob"))
    assert bob.json()["memberships"][0]["company_name"] == "B LLC"
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        async with app_db.transaction(company_id=a) as conn:
            await conn.execute(
                "INSERT INTO memberships (company_id, user_id, role)"
                " SELECT %s, id, 'admin' FROM users WHERE username = 'alice'", (b,))


async def test_the_application_role_cannot_switch_off_security(app_db: Database) -> None:
    for statement in ("ALTER TABLE companies DISABLE ROW LEVEL SECURITY",
                      "SET row_security = off; SELECT * FROM companies",
                      "UPDATE events SET data = '{}'"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            async with app_db.transaction() as conn:
                await conn.execute(statement)
