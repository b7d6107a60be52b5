"""Who may do what: the role matrix through HTTP, and company isolation -- in the API
(404 for other companies) and in PostgreSQL itself (row-level security)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from identity_harness import Harness, company_calls

from saldo import bootstrap
from saldo.identity.api import permission_of
from saldo.identity.domain import Permission, Role
from saldo.platform.db import Database

pytestmark = pytest.mark.integration

ALL = frozenset(Role)
ADMINS = frozenset({Role.CHIEF_ACCOUNTANT, Role.ADMIN})
#: Who reads the books: everyone but the admin, who administers membership only.
READERS = frozenset({Role.ACCOUNTANT, Role.CHIEF_ACCOUNTANT, Role.TAX_SPECIALIST,
                     Role.AUDITOR})
#: Who keeps the books: drafts, amends, discards and posts; adds and changes accounts.
WRITERS = frozenset({Role.ACCOUNTANT, Role.CHIEF_ACCOUNTANT})
#: Approval, reversal, batch posting (posting without a separate approval) and periods.
CHIEF = frozenset({Role.CHIEF_ACCOUNTANT})

C = "/api/v1/companies/{company_id}"
TX = C + "/transactions/{transaction_id}"

#: The expected matrix, written out by hand from the issue and the API contract (not
#: derived from the code's table): which roles may call each company-scoped endpoint.
#: Everyone else gets 403.
MATRIX: dict[tuple[str, str], frozenset[Role]] = {
    ("GET", C): ALL,
    ("GET", C + "/members"): ALL,
    ("GET", C + "/audit/identity"): ADMINS,
    ("POST", C + "/members"): ADMINS,
    ("PUT", C + "/members/{username}"): ADMINS,
    ("DELETE", C + "/members/{username}"): ADMINS,
    # Chart of accounts: accounts:read / accounts:write
    ("GET", C + "/accounts"): READERS,
    ("POST", C + "/accounts"): WRITERS,
    ("GET", C + "/accounts/{code}"): READERS,
    ("PATCH", C + "/accounts/{code}"): WRITERS,
    ("DELETE", C + "/accounts/{code}"): WRITERS,
    ("GET", C + "/accounts/{code}/balance"): READERS,
    # Journal: transactions:read / write / approve
    ("POST", C + "/transactions"): WRITERS,
    ("POST", C + "/transactions/batch"): CHIEF,
    ("GET", C + "/transactions"): READERS,
    ("GET", TX): READERS,
    ("PATCH", TX): WRITERS,
    ("DELETE", TX): WRITERS,
    ("POST", TX + "/approve"): CHIEF,
    ("POST", TX + "/post"): WRITERS,
    ("POST", TX + "/reverse"): CHIEF,
    ("GET", TX + "/history"): READERS,
    # Fiscal periods: reading them is reading the books; changing them is periods:close
    ("GET", C + "/fiscal-periods"): READERS,
    ("POST", C + "/fiscal-periods/{period}/close"): CHIEF,
    ("POST", C + "/fiscal-periods/{period}/reopen"): CHIEF,
    ("POST", C + "/fiscal-periods/{period}/lock"): CHIEF,
    ("POST", C + "/fiscal-years/{year}/close"): CHIEF,
    ("POST", C + "/fiscal-years/{year}/reopen"): CHIEF,
    # IAS 21 revaluation: posted without a second person, so transactions:approve
    ("POST", C + "/fx-revaluations"): CHIEF,
    # Journal export: reports:financial
    ("GET", C + "/export/journal"): READERS,
    # Reports: reports:financial
    ("GET", C + "/reports/trial-balance"): READERS,
    ("GET", C + "/reports/general-ledger"): READERS,
    ("GET", C + "/reports/balance-sheet"): READERS,
    ("GET", C + "/reports/profit-and-loss"): READERS,
    ("GET", C + "/reports/cash-flow"): READERS,
    ("GET", C + "/reports/changes-in-equity"): READERS,
    ("GET", C + "/reports/comprehensive-income"): READERS,
    ("GET", C + "/reports/financial-statements"): READERS,
    # Banking: bank:read (readers of the books) / bank:write (accountants)
    ("GET", C + "/bank-accounts"): READERS,
    ("POST", C + "/bank-accounts"): WRITERS,
    ("GET", C + "/bank-accounts/{bank_account_id}/reconciliation"): READERS,
    ("POST", C + "/bank-statements"): WRITERS,
    ("GET", C + "/bank-statements"): READERS,
    ("GET", C + "/bank-statements/lines"): READERS,
    ("GET", C + "/bank-statements/lines/{line_id}"): READERS,
    ("POST", C + "/bank-statements/lines/{line_id}/reconcile"): WRITERS,
    ("POST", C + "/bank-statements/lines/{line_id}/unreconcile"): WRITERS,
    ("POST", C + "/bank-statements/suggestions/refresh"): WRITERS,
    ("GET", C + "/bank-statements/imports/{statement_id}"): READERS,
    ("DELETE", C + "/bank-statements/imports/{statement_id}"): WRITERS,
    ("POST", C + "/bank-rules"): WRITERS,
    ("GET", C + "/bank-rules"): READERS,
    ("DELETE", C + "/bank-rules/{rule_id}"): WRITERS,
    ("POST", C + "/bank-rule-runs"): WRITERS,
}


#: The routes of the document contexts (billing, tax, payroll, rs.ge) whose calls are not
#: yet in the matrix above: the permission each must declare, reviewed by hand against the
#: contract (reads of documents are documents:read, tax returns reports:tax, payroll's
#: personal data payroll:*, filing and confirming with the tax authority
#: documents:approve, the chief accountant's). With the role → permission table, checked
#: cell by cell in tests/unit/identity/test_rules.py, and `require`, exercised for every
#: role by test_role_matrix above, this gives each of these routes its role matrix.
P = Permission
DECLARED: dict[tuple[str, str], Permission] = {
    # billing
    ("GET", C + "/billing-settings"): P.DOCUMENTS_READ,
    ("PUT", C + "/billing-settings"): P.DOCUMENTS_APPROVE,
    ("POST", C + "/sales-invoices/{document_id}/approve"): P.DOCUMENTS_APPROVE,
    ("POST", C + "/purchase-bills/{document_id}/approve"): P.DOCUMENTS_APPROVE,
    ("GET", C + "/counterparties"): P.DOCUMENTS_READ,
    ("POST", C + "/counterparties"): P.DOCUMENTS_WRITE,
    ("GET", C + "/counterparties/{counterparty_id}"): P.DOCUMENTS_READ,
    ("GET", C + "/counterparties/{counterparty_id}/statement"): P.DOCUMENTS_READ,
    ("GET", C + "/payments"): P.DOCUMENTS_READ,
    ("POST", C + "/payments"): P.DOCUMENTS_WRITE,
    ("GET", C + "/payments/{payment_id}"): P.DOCUMENTS_READ,
    ("POST", C + "/payments/{payment_id}/allocations"): P.DOCUMENTS_WRITE,
    ("POST", C + "/payments/{payment_id}/reverse"): P.DOCUMENTS_WRITE,
    ("GET", C + "/purchase-bills"): P.DOCUMENTS_READ,
    ("POST", C + "/purchase-bills"): P.DOCUMENTS_WRITE,
    ("GET", C + "/purchase-bills/{document_id}"): P.DOCUMENTS_READ,
    ("POST", C + "/purchase-bills/{document_id}/credit-note"): P.DOCUMENTS_WRITE,
    ("POST", C + "/purchase-bills/{document_id}/debit-note"): P.DOCUMENTS_WRITE,
    ("POST", C + "/purchase-bills/{document_id}/post"): P.DOCUMENTS_WRITE,
    ("GET", C + "/reports/open-items"): P.DOCUMENTS_READ,
    ("GET", C + "/reports/payables-aging"): P.DOCUMENTS_READ,
    ("GET", C + "/reports/receivables-aging"): P.DOCUMENTS_READ,
    ("GET", C + "/sales-invoices"): P.DOCUMENTS_READ,
    ("POST", C + "/sales-invoices"): P.DOCUMENTS_WRITE,
    ("GET", C + "/sales-invoices/{document_id}"): P.DOCUMENTS_READ,
    ("POST", C + "/sales-invoices/{document_id}/credit-note"): P.DOCUMENTS_WRITE,
    ("GET", C + "/sales-invoices/{document_id}/pdf"): P.DOCUMENTS_READ,
    ("POST", C + "/sales-invoices/{document_id}/post"): P.DOCUMENTS_WRITE,
    # payroll
    ("POST", C + "/purchase-bills/{bill_id}/withholding"): P.DOCUMENTS_WRITE,
    ("POST", C + "/dividends"): P.DOCUMENTS_WRITE,
    ("GET", C + "/dividends/{dividend_id}"): P.DOCUMENTS_READ,
    ("GET", C + "/employees"): P.PAYROLL_READ,
    ("POST", C + "/employees"): P.PAYROLL_WRITE,
    ("GET", C + "/employees/{employee_id}"): P.PAYROLL_READ,
    ("PATCH", C + "/employees/{employee_id}"): P.PAYROLL_WRITE,
    ("POST", C + "/employees/{employee_id}/salaries"): P.PAYROLL_WRITE,
    ("GET", C + "/payroll-runs"): P.PAYROLL_READ,
    ("POST", C + "/payroll-runs"): P.PAYROLL_WRITE,
    ("DELETE", C + "/payroll-runs/{run_id}"): P.PAYROLL_WRITE,
    ("GET", C + "/payroll-runs/{run_id}"): P.PAYROLL_READ,
    ("GET", C + "/payroll-runs/{run_id}/bank-file"): P.PAYROLL_READ,
    ("GET", C + "/payroll-runs/{run_id}/budget-payments"): P.PAYROLL_READ,
    ("POST", C + "/payroll-runs/{run_id}/pay"): P.PAYROLL_WRITE,
    ("GET", C + "/payroll-runs/{run_id}/payslips/{employee_id}"): P.PAYROLL_READ,
    ("POST", C + "/payroll-runs/{run_id}/post"): P.PAYROLL_WRITE,
    ("POST", C + "/payroll-runs/{run_id}/reverse"): P.PAYROLL_WRITE,
    ("POST", C + "/profit-tax-objects"): P.DOCUMENTS_WRITE,
    ("GET", C + "/tax/income-tax-returns/{period}"): P.PAYROLL_READ,
    ("GET", C + "/tax/pension-contributions/{period}"): P.PAYROLL_READ,
    ("GET", C + "/tax/profit-tax-returns/{period}"): P.REPORTS_TAX,
    ("POST", C + "/withholdings"): P.PAYROLL_WRITE,
    # rsge
    ("GET", C + "/rs-credentials"): P.DOCUMENTS_READ,
    ("PUT", C + "/rs-credentials"): P.DOCUMENTS_APPROVE,
    ("POST", C + "/rs/counterparties"): P.DOCUMENTS_WRITE,
    ("POST", C + "/rs/counterparties/{counterparty_id}/check"): P.DOCUMENTS_WRITE,
    ("GET", C + "/rs/e-invoices"): P.DOCUMENTS_READ,
    ("GET", C + "/rs/incoming-invoices"): P.DOCUMENTS_READ,
    ("POST", C + "/rs/incoming-invoices/{rs_id}/confirm"): P.DOCUMENTS_APPROVE,
    ("POST", C + "/rs/incoming-invoices/{rs_id}/draft-bill"): P.DOCUMENTS_WRITE,
    ("POST", C + "/rs/incoming-invoices/{rs_id}/reject"): P.DOCUMENTS_APPROVE,
    ("POST", C + "/rs/sync"): P.DOCUMENTS_WRITE,
    ("GET", C + "/rs/taxpayers/{tax_id}"): P.DOCUMENTS_READ,
    ("GET", C + "/rs/waybills"): P.DOCUMENTS_READ,
    ("POST", C + "/rs/waybills"): P.DOCUMENTS_WRITE,
    ("POST", C + "/rs/waybills/{waybill_id}/{action}"): P.DOCUMENTS_WRITE,
    ("GET", C + "/sales-invoices/{document_id}/e-invoice"): P.DOCUMENTS_READ,
    ("POST", C + "/sales-invoices/{document_id}/e-invoice"): P.DOCUMENTS_WRITE,
    ("POST", C + "/sales-invoices/{document_id}/e-invoice/retry"): P.DOCUMENTS_WRITE,
    # tax
    ("GET", C + "/tax/calendar"): P.DOCUMENTS_READ,
    ("GET", C + "/tax/calendar.ics"): P.DOCUMENTS_READ,
    ("GET", C + "/tax/vat-registers/{period}"): P.REPORTS_TAX,
    ("GET", C + "/tax/vat-registration"): P.REPORTS_TAX,
    ("GET", C + "/tax/vat-returns/{period}"): P.REPORTS_TAX,
    ("POST", C + "/tax/vat-returns/{period}/file"): P.DOCUMENTS_APPROVE,
    ("GET", C + "/vat-codes"): P.DOCUMENTS_READ,
}


def _guarded_routes(h: Harness) -> set[tuple[str, str]]:
    return {(method, route.path) for route in bootstrap.api_routes(h.app)
            if "{company_id}" in route.path
            for method in route.methods or ()}


async def test_every_guarded_route_is_in_the_matrix(h: Harness) -> None:
    assert _guarded_routes(h) == set(MATRIX) | set(DECLARED)
    assert not set(MATRIX) & set(DECLARED)
    calls = company_calls("target", "newcomer", "owner")
    assert len(calls) == len(MATRIX)
    assert {(c.method, c.path) for c in calls} == set(MATRIX)


async def test_routes_outside_the_matrix_declare_the_expected_permission(h: Harness) -> None:
    declared = {(method, route.path): permission_of(route)
                for route in bootstrap.api_routes(h.app) for method in route.methods or ()
                if (method, route.path) in DECLARED}
    assert declared == DECLARED


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
    for call in company_calls("target", "newcomer", "owner"):
        # Fresh preconditions for each call, made before the subject tries it: a refusal
        # is then the role's doing, not a missing or wrong-state object's.
        url = await call.url(h, cid)
        response = await h.client.request(call.method, url, headers=subject, json=call.body)
        where = (role, call.method, url, response.status_code, response.text)
        if role in MATRIX[(call.method, call.path)]:
            assert 200 <= response.status_code < 300, where
        else:
            assert response.status_code == 403, where
            assert response.json()["code"] == "permission_denied", where


async def _b_books(h: Harness, bob: dict[str, str], b: UUID) -> dict[str, Any]:
    """What Bob sees of B's books: its transactions and its chart."""
    transactions = await h.client.get(f"/api/v1/companies/{b}/transactions",
                                      params={"limit": 500}, headers=bob)
    accounts = await h.client.get(f"/api/v1/companies/{b}/accounts", headers=bob)
    periods = await h.client.get(f"/api/v1/companies/{b}/fiscal-periods",
                                 params={"year": 2025}, headers=bob)
    assert {transactions.status_code, accounts.status_code, periods.status_code} == {200}
    return {"transactions": transactions.json(), "accounts": accounts.json(),
            "periods": periods.json()}


async def test_a_member_of_a_gets_404_for_everything_of_b(h: Harness) -> None:
    for name in ("alice", "bob", "target", "newcomer"):
        await h.user(name)
    alice, bob = await h.headers("alice"), await h.headers("bob")
    await h.company(alice, "Alice's Books LLC", "204000001")
    b = await h.company(bob, "Bob's Books LLC", "204000002")
    await h.member(bob, b, "target", Role.ACCOUNTANT)
    # Every call's objects exist in B (a draft to approve, an account to delete...): the
    # ids are real, the caller is just not a member.
    prepared = [(call, await call.params(h, b))
                for call in company_calls("target", "newcomer", "bob")]
    before = await _b_books(h, bob, b)
    for company in (b, uuid4()):  # B, and a company that does not exist: alike
        for call, params in prepared:
            url = call.path.format(company_id=company, **params)
            response = await h.client.request(call.method, url, headers=alice, json=call.body)
            assert response.status_code == 404, (call.method, url, response.text)
            assert response.json()["code"] == "company_not_found", (call.method, url)
    # Nothing of B leaked into Alice's own listings either.
    me = (await h.client.get("/api/v1/me", headers=alice)).json()
    assert [m["company_name"] for m in me["memberships"]] == ["Alice's Books LLC"]
    # And B is untouched: its members, its journal, its chart and its periods.
    members = (await h.client.get(f"/api/v1/companies/{b}/members", headers=bob)).json()
    assert {m["username"] for m in members} == {"bob", "target"}
    assert await _b_books(h, bob, b) == before


async def test_a_chief_accountant_cannot_leave_the_company_without_an_administrator(
        h: Harness) -> None:
    await h.user("owner")
    owner = await h.headers("owner")
    cid = await h.company(owner)
    leave = await h.client.delete(f"/api/v1/companies/{cid}/members/owner", headers=owner)
    assert leave.status_code == 409
    assert leave.json()["code"] == "last_administrator"


async def _with_admin(h: Harness) -> tuple[UUID, dict[str, str], dict[str, str]]:
    """A company whose owner (chief accountant) made ``boss`` its admin, plus ``clerk``."""
    for name in ("owner", "boss", "clerk"):
        await h.user(name)
    owner = await h.headers("owner")
    cid = await h.company(owner)
    await h.member(owner, cid, "boss", Role.ADMIN)
    await h.member(owner, cid, "clerk", Role.ACCOUNTANT)
    return cid, owner, await h.headers("boss")


async def test_an_admin_cannot_raise_itself_to_chief_accountant(h: Harness) -> None:
    cid, _, boss = await _with_admin(h)
    response = await h.client.put(f"/api/v1/companies/{cid}/members/boss", headers=boss,
                                  json={"role": "chief_accountant"})
    assert response.status_code == 403
    assert response.json()["code"] in ("role_not_grantable", "own_role_unchangeable")
    members = (await h.client.get(f"/api/v1/companies/{cid}/members", headers=boss)).json()
    assert {m["username"]: m["role"] for m in members}["boss"] == "admin"


@pytest.mark.parametrize("role", ["chief_accountant", "accountant", "auditor", "tax_specialist"])
async def test_an_admin_cannot_grant_a_role_beyond_its_own(h: Harness, role: str) -> None:
    cid, _, boss = await _with_admin(h)
    await h.user("newcomer")
    raise_clerk = await h.client.put(f"/api/v1/companies/{cid}/members/clerk", headers=boss,
                                     json={"role": role})
    add = await h.client.post(f"/api/v1/companies/{cid}/members", headers=boss,
                              json={"username": "newcomer", "role": role})
    if role == "accountant":  # clerk already is one: a no-op is no escalation
        assert raise_clerk.status_code in (200, 403)
    else:
        assert raise_clerk.status_code == 403, raise_clerk.text
        assert raise_clerk.json()["code"] == "role_not_grantable"
    assert add.status_code == 403, add.text
    assert add.json()["code"] == "role_not_grantable"
    members = (await h.client.get(f"/api/v1/companies/{cid}/members", headers=boss)).json()
    assert {m["username"]: m["role"] for m in members} == {
        "owner": "chief_accountant", "boss": "admin", "clerk": "accountant"}


async def test_nobody_changes_their_own_role(h: Harness) -> None:
    cid, owner, _ = await _with_admin(h)
    # Even a chief accountant stepping down (to a role it could grant others).
    response = await h.client.put(f"/api/v1/companies/{cid}/members/owner", headers=owner,
                                  json={"role": "admin"})
    assert response.status_code == 403
    assert response.json()["code"] == "own_role_unchangeable"


async def test_a_chief_accountant_may_grant_any_company_role(h: Harness) -> None:
    cid, owner, _ = await _with_admin(h)
    for role in Role:
        response = await h.client.put(f"/api/v1/companies/{cid}/members/clerk",
                                      headers=owner, json={"role": role.value})
        assert response.status_code == 200, (role, response.text)


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


async def test_events_are_isolated_by_company_too(h: Harness, app_db: Database,
                                                 db: Database) -> None:
    a, b = await _two_companies(h)  # each company's creation is recorded as events
    count = "SELECT count(*) AS n FROM events WHERE company_id IS NOT NULL"
    async with db.transaction() as conn:  # the privileged pool sees both companies' events
        assert (await (await conn.execute(count)).fetchone())["n"] > 0  # type: ignore[index]
    async with app_db.transaction() as conn:
        assert (await (await conn.execute(count)).fetchone()) == {"n": 0}
        # Company-less events (users' own) stay visible: the append guard reads them.
        cursor = await conn.execute("SELECT count(*) AS n FROM events WHERE company_id IS NULL")
        assert (await cursor.fetchone())["n"] > 0  # type: ignore[index]
    async with app_db.transaction(company_id=a) as conn:
        rows = await (await conn.execute(
            "SELECT DISTINCT company_id FROM events WHERE company_id IS NOT NULL")).fetchall()
        assert [r["company_id"] for r in rows] == [a]
    # Appending an event of B while A is set is refused.
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        async with app_db.transaction(company_id=a) as conn:
            await conn.execute(
                "INSERT INTO events (event_id, stream_id, stream_type, version, event_type,"
                "                    data, company_id)"
                " VALUES (%s, 'forged', 'forged', 1, 'Forged', '{}', %s)", (uuid4(), b))


async def test_snapshots_are_company_data_for_the_application_role(app_db: Database,
                                                                  db: Database) -> None:
    """Since 0014 (decision 0067) the chart of accounts loads from snapshots in its unit
    of work: the role reads and writes its company's, sees no company-less one (the
    machinery's), and deletes none. Company against company: tests/integration/ledger/
    test_chart_snapshots.py."""
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO snapshots (stream_id, stream_type, version, state)"
            " VALUES ('machine', 'machine', 1, '{}')")
    async with app_db.transaction() as conn:
        count = await (await conn.execute("SELECT count(*) AS n FROM snapshots")).fetchone()
        assert count == {"n": 0}
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        async with app_db.transaction() as conn:
            await conn.execute("DELETE FROM snapshots")


async def test_the_application_pool_cannot_reset_or_set_its_way_out(
        h: Harness, app_db: Database, db: Database) -> None:
    """It logs in as saldo_app: there is no other role to go back to."""
    await _two_companies(h)
    async with db.transaction() as conn:
        privileged = (await (await conn.execute("SELECT current_user AS u")).fetchone())["u"]  # type: ignore[index]
    async with app_db.transaction() as conn:
        await conn.execute("RESET ROLE")
        row = await (await conn.execute(
            "SELECT current_user AS who, session_user AS login,"
            "       (SELECT count(*) FROM companies) AS companies,"
            "       (SELECT count(*) FROM events WHERE company_id IS NOT NULL) AS events"
        )).fetchone()
        assert row == {"who": "saldo_app", "login": "saldo_app", "companies": 0, "events": 0}
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        async with app_db.transaction() as conn:
            await conn.execute(psycopg.sql.SQL("SET ROLE {}").format(
                psycopg.sql.Identifier(privileged)))
    # The API's own pool is such a login too.
    async with h.container.app_db.transaction() as conn:
        row = await (await conn.execute("SELECT session_user AS login")).fetchone()
        assert row == {"login": "saldo_app"}


async def test_a_company_that_vanishes_mid_request_is_404_not_500(
        h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    from saldo.identity import queries

    await h.user("alice")
    alice = await h.headers("alice")
    cid = await h.company(alice)

    async def none_listed(*_: Any) -> list[dict[str, Any]]:
        return []

    monkeypatch.setattr(queries, "companies", none_listed)
    response = await h.client.get(f"/api/v1/companies/{cid}", headers=alice)
    assert response.status_code == 404
    assert response.json()["code"] == "company_not_found"
