"""The gateway in front of Saldo's own services (``saldo serve --only``): a user logs in,
sets up a company and keeps books through one address, and each request lands on the
service that owns its route."""

from __future__ import annotations

import subprocess
import sys

import httpx
import psycopg
import pytest
from gateway_harness import Processes, env, free_port, metric, wait_ready

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "a-long-test-password"


@pytest.fixture
def services(scratch_database_url: str, procs: Processes) -> tuple[str, str]:
    info = psycopg.conninfo.conninfo_to_dict(scratch_database_url)
    url = f"postgresql://{info.get('user', 'postgres')}@/{info['dbname']}?host={info['host']}"
    environment = env(SALDO_DATABASE_URL=url, SALDO_PASSWORD=PASSWORD)
    for command in (["db", "upgrade"], ["users", "create", "admin", "--superuser"]):
        done = subprocess.run([sys.executable, "-m", "saldo", *command], env=environment,
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
    bases = []
    for only in ("identity", "ledger,reporting"):
        port = free_port()
        process = subprocess.Popen([sys.executable, "-m", "saldo", "serve", "--only", only,
                                    "--port", str(port)], env=environment,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        procs.started.append(process)
        bases.append(f"http://127.0.0.1:{port}")
        wait_ready(f"{bases[-1]}/health/ready", process)
    return bases[0], bases[1]


def test_gateway_routes_a_bookkeeping_flow_to_the_owning_services(
    services: tuple[str, str], procs: Processes,
) -> None:
    identity, books = services
    gw = procs.gateway({
        "upstreams": {"identity": {"url": identity}, "books": {"url": books}},
        "routes": [
            {"prefix": "/api/v1/auth", "upstream": "identity", "auth": False},
            {"prefix": "/api/v1", "upstream": "identity"},
            {"prefix": "/api/v1/companies/*/transactions", "upstream": "books"},
            {"prefix": "/api/v1/companies/*/accounts", "upstream": "books"},
            {"prefix": "/api/v1/companies/*/reports", "upstream": "books"},
        ],
    })
    with httpx.Client(base_url=gw, timeout=30) as c:
        r = c.post("/api/v1/auth/token", json={"username": "admin", "password": PASSWORD})
        assert r.status_code == 200, r.text
        admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
        r = c.post("/api/v1/companies", headers=admin,
                   json={"name": "Kutaisi Goods LLC", "tax_id": "204567891", "vat_payer": True})
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        r = c.post("/api/v1/users", headers=admin,
                   json={"username": "clerk", "password": PASSWORD, "full_name": "Clerk"})
        assert r.status_code == 201, r.text
        r = c.post(f"/api/v1/companies/{cid}/members", headers=admin,
                   json={"username": "clerk", "role": "accountant"})
        assert r.status_code == 201, r.text
        r = c.post("/api/v1/auth/token", json={"username": "clerk", "password": PASSWORD})
        clerk = {"Authorization": f"Bearer {r.json()['access_token']}"}
        base = f"/api/v1/companies/{cid}"
        r = c.post(f"{base}/transactions", headers=clerk, json={
            "date": "2026-03-15", "description": "Invoice 17", "entries": [
                {"account_code": "1410", "debit": "1180.00"},
                {"account_code": "6110", "credit": "1000.00"},
                {"account_code": "3330", "credit": "180.00"}]})
        assert r.status_code == 201, r.text
        tx = r.json()["id"]
        assert c.post(f"{base}/transactions/{tx}/approve", headers=admin).status_code == 200
        assert c.post(f"{base}/transactions/{tx}/post", headers=clerk).status_code == 200
        r = c.get(f"{base}/accounts/1410/balance", params={"as_of": "2026-03-31"},
                  headers=admin)
        assert r.json()["balance"] == "1180.00"  # 1180.00 debit on 1410, from the books service
        # An invalid token stops at the edge with the gateway's problem, not the service's.
        r = c.get(f"{base}/accounts", headers={"Authorization": "Bearer forged"})
        assert r.status_code == 401
        assert r.json()["code"] == "not_authenticated"
    assert metric(gw, "saldo_gateway_requests_total", route="/api/v1/companies/*/transactions",
                  upstream="books", status="200") == 2
    assert metric(gw, "saldo_gateway_requests_total", route="/api/v1", upstream="identity",
                  status="201") == 3  # the company, the user, the member
