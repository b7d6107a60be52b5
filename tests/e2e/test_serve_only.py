"""``saldo serve --only``: each context a service of its own, from one codebase.

Two processes share one database: one serves identity (log in, companies, members), the
other the ledger and reporting. A user logs in at the first and keeps books at the second,
as the plan's separate services behind a gateway would be used.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest

pytestmark = pytest.mark.e2e

PASSWORD = "a-long-test-password"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALDO_")}
    # Both processes must verify each other's tokens: one signing key.
    env.update(SALDO_DATABASE_URL=url, SALDO_SECRET_KEY="serve-only-test-key-" + "x" * 40,
               SALDO_PASSWORD=PASSWORD, SALDO_LOG_FORMAT="json", COLUMNS="200")
    return env


@pytest.fixture
def url(scratch_database_url: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(scratch_database_url)
    return f"postgresql://{info.get('user', 'postgres')}@/{info['dbname']}?host={info['host']}"


@pytest.fixture
def services(url: str) -> Iterator[tuple[str, str]]:
    env = _env(url)
    done = subprocess.run([sys.executable, "-m", "saldo", "db", "upgrade"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    done = subprocess.run([sys.executable, "-m", "saldo", "users", "create", "admin",
                           "--superuser"], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    ports = (_free_port(), _free_port())
    processes = [
        subprocess.Popen([sys.executable, "-m", "saldo", "serve", "--only", only,
                          "--host", "127.0.0.1", "--port", str(port)],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for only, port in zip(("identity", "ledger,reporting"), ports, strict=True)]
    bases = tuple(f"http://127.0.0.1:{p}" for p in ports)
    try:
        deadline = time.monotonic() + 60
        for base, process in zip(bases, processes, strict=True):
            while True:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                try:
                    if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "the service did not become ready"
                time.sleep(0.2)
        yield bases[0], bases[1]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)


def _login(identity: str, username: str) -> dict[str, str]:
    r = httpx.post(f"{identity}/api/v1/auth/token",
                   json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_a_flow_across_two_services(services: tuple[str, str]) -> None:
    identity, books = services
    admin = _login(identity, "admin")
    r = httpx.post(f"{identity}/api/v1/companies", headers=admin,
                   json={"name": "Kutaisi Goods LLC", "tax_id": "204567891", "vat_payer": True})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    r = httpx.post(f"{identity}/api/v1/users", headers=admin,
                   json={"username": "clerk", "password": PASSWORD, "full_name": "Clerk"})
    assert r.status_code == 201, r.text
    r = httpx.post(f"{identity}/api/v1/companies/{cid}/members", headers=admin,
                   json={"username": "clerk", "role": "accountant"})
    assert r.status_code == 201, r.text
    clerk = _login(identity, "clerk")

    # Each service answers only its own contexts' routes (plus health and metrics).
    assert httpx.post(f"{books}/api/v1/auth/token",
                      json={"username": "clerk", "password": PASSWORD}).status_code == 404
    assert httpx.get(f"{identity}/api/v1/companies/{cid}/accounts",
                     headers=clerk).status_code == 404
    assert httpx.get(f"{books}/health").status_code == 200

    base = f"{books}/api/v1/companies/{cid}"
    r = httpx.post(f"{base}/transactions", headers=clerk, json={
        "date": "2026-03-15", "description": "Invoice 17", "entries": [
            {"account_code": "1410", "debit": "1180.00"},
            {"account_code": "6110", "credit": "1000.00"},
            {"account_code": "3330", "credit": "180.00"}]})
    assert r.status_code == 201, r.text
    tx = r.json()["id"]
    assert httpx.post(f"{base}/transactions/{tx}/approve", headers=admin).status_code == 200
    r = httpx.post(f"{base}/transactions/{tx}/post", headers=clerk)
    assert r.status_code == 200, r.text
    assert r.json()["number"] == 1
    r = httpx.get(f"{base}/accounts/1410/balance", params={"as_of": "2026-03-31"},
                  headers=clerk)
    assert r.json()["balance"] == "1180.00"
    r = httpx.get(f"{base}/reports/trial-balance",
                  params={"date_from": "2026-03-01", "date_to": "2026-03-31"}, headers=clerk)
    assert r.status_code == 200, r.text
    assert r.json()["totals"]["debit"] == "1180.00"


def test_an_unknown_context_is_refused(url: str) -> None:
    done = subprocess.run([sys.executable, "-m", "saldo", "serve", "--only", "ledger,payrol"],
                          env=_env(url), capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode != 0
    assert "payrol" in done.stderr
