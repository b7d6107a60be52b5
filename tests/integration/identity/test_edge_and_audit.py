"""Edge hygiene (security headers, CORS allow-list, body limit, no stack traces) and the
identity audit trail (logins, failures, revocations, memberships) with actor and address."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from identity_harness import Harness

from saldo.identity.domain import Role

pytestmark = pytest.mark.integration

MakeHarness = Callable[..., AbstractAsyncContextManager[Harness]]


async def test_security_headers_on_success_and_error_responses(h: Harness) -> None:
    await h.user("giorgi")
    for response in (await h.client.get("/api/v1/me", headers=await h.headers("giorgi")),
                     await h.client.get("/api/v1/me"),
                     await h.client.post("/api/v1/auth/token", content=b"{not json")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        assert response.headers["x-request-id"]


async def test_a_malformed_login_body_is_400_and_a_wrong_shape_422(h: Harness) -> None:
    assert (await h.client.post("/api/v1/auth/token", content=b"{not json",
                                headers={"content-type": "application/json"})).status_code == 400
    # Nested too deep for the JSON parser (RecursionError): malformed, not a 500.
    deep = await h.client.post("/api/v1/auth/token", content=b"[" * 100_000,
                               headers={"content-type": "application/json"})
    assert deep.status_code == 400, deep.text
    assert deep.json()["code"] == "malformed_body"
    wrong = await h.client.post("/api/v1/auth/token", json={"username": "x"})
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["loc"] == ["body", "password"]


async def test_cors_allows_only_the_listed_origins(make_harness: MakeHarness) -> None:
    async with make_harness(cors_origins=["https://books.example.ge"]) as h:
        preflight = {"Access-Control-Request-Method": "POST",
                     "Access-Control-Request-Headers": "authorization,content-type"}
        ok = await h.client.options("/api/v1/companies",
                                    headers={"Origin": "https://books.example.ge", **preflight})
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "https://books.example.ge"
        evil = await h.client.options("/api/v1/companies",
                                      headers={"Origin": "https://evil.example", **preflight})
        assert "access-control-allow-origin" not in evil.headers
        simple = await h.client.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in simple.headers


async def test_without_an_allow_list_there_are_no_cors_headers(h: Harness) -> None:
    response = await h.client.get("/health", headers={"Origin": "https://books.example.ge"})
    assert "access-control-allow-origin" not in response.headers


async def test_an_oversized_body_is_413_before_it_is_read(make_harness: MakeHarness) -> None:
    async with make_harness(max_body_bytes=2048) as h:
        big = {"username": "giorgi", "password": "x" * 4096}
        response = await h.client.post("/api/v1/auth/token", json=big)
        assert response.status_code == 413
        assert response.json()["code"] == "body_too_large"

        async def chunks() -> Any:  # no Content-Length: counted while streaming
            for _ in range(4):
                yield b"x" * 1024

        streamed = await h.client.post("/api/v1/auth/token", content=chunks(),
                                       headers={"content-type": "application/json"})
        assert streamed.status_code == 413


async def test_a_bug_answers_a_bare_problem_without_a_stack_trace(h: Harness) -> None:
    @h.app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret detail /work/main/src/saldo/identity/service.py line 1")

    response = await h.client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    assert ".py" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"


# ---------------------------------------------------------------------- audit


async def test_identity_events_are_recorded_with_actor_and_address(h: Harness) -> None:
    await h.user("root", superuser=True)
    giorgi = await h.user("giorgi")
    await h.user("tamar")
    assert (await h.client.post("/api/v1/auth/token", json={
        "username": "giorgi", "password": "wrong password!"})).status_code == 401
    assert (await h.client.post("/api/v1/auth/token", json={
        "username": "ghost", "password": "wrong password!"})).status_code == 401
    pair = await h.login("giorgi")
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    cid = await h.company(headers)
    await h.member(headers, cid, "tamar", Role.ACCOUNTANT)
    assert (await h.client.put(f"/api/v1/companies/{cid}/members/tamar", headers=headers,
                               json={"role": "auditor"})).status_code == 200
    assert (await h.client.delete(f"/api/v1/companies/{cid}/members/tamar",
                                  headers=headers)).status_code == 204
    await h.client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    await h.client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})

    # The replay revoked that session; the audit is read with a new one.
    company = await h.client.get(f"/api/v1/companies/{cid}/audit/identity",
                                 headers=await h.headers("giorgi"))
    assert company.status_code == 200
    entries = list(reversed(company.json()))
    assert [e["type"] for e in entries] == ["CompanyCreated", "MemberAdded", "MemberAdded",
                                            "MemberRoleChanged", "MemberRemoved"]
    assert all(e["actor"] == str(giorgi.id) for e in entries)
    assert all(e["data"]["address"] == "203.0.113.7" for e in entries)
    assert entries[3]["data"]["from_role"] == "accountant"
    assert entries[3]["data"]["role"] == "auditor"

    everything = await h.client.get("/api/v1/audit/identity?limit=1000",
                                    headers=await h.headers("root"))
    assert everything.status_code == 200
    types = [e["type"] for e in everything.json()]
    for expected in ("UserCreated", "LoginFailed", "LoginSucceeded", "TokenFamilyRevoked",
                     "CompanyCreated", "MemberAdded", "MemberRoleChanged", "MemberRemoved"):
        assert expected in types
    failures = [e for e in everything.json() if e["type"] == "LoginFailed"]
    assert {f["data"]["username"] for f in failures} == {"giorgi", "ghost"}
    assert {f["actor"] for f in failures} == {str(giorgi.id), None}
    revoked = next(e for e in everything.json() if e["type"] == "TokenFamilyRevoked")
    assert revoked["data"]["reason"] == "reuse"
    # Saldo-wide means across companies: the company's events are there with their
    # company (read through the privileged pool; the application role's row-level
    # security would hide them, as no company is set).
    assert {e["company_id"] for e in everything.json()
            if e["type"] == "CompanyCreated"} == {str(cid)}


async def test_audit_is_for_administrators_only(h: Harness) -> None:
    await h.user("owner")
    await h.user("clerk")
    owner = await h.headers("owner")
    cid = await h.company(owner)
    await h.member(owner, cid, "clerk", Role.ACCOUNTANT)
    clerk = await h.headers("clerk")
    assert (await h.client.get(f"/api/v1/companies/{cid}/audit/identity",
                               headers=clerk)).status_code == 403
    assert (await h.client.get("/api/v1/audit/identity", headers=owner)).status_code == 403
