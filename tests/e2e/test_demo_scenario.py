"""The demo company end to end: `saldo demo` on a fresh database, then `saldo serve`, then
the demo users over real HTTP, with the year-end figures worked out by hand below from the
scenario in `saldo/demo.py`'s docstring -- not copied from a run.

The year 2025, GEL, balance = debit − credit (so credit balances are negative):

1210 bank, GEL
    + 50,000 capital
    + 11 x 23,600 = 259,600 customer receipts (January to November)
    − 12 x 2,000 = 24,000 rent
    − 11 x 14,160 = 155,760 supplier payments (January to November)
    − 11 x 3,920 = 43,120 net salaries (January to November's, paid the next month)
    − 11 x 1,180 = 12,980 income tax 980 + pension 200 (same months, on salary day)
    − 11 x 1,440 = 15,840 VAT returns: output 3,600 − input 2,160
    − 12 x 25 = 300 bank charges
    = 50,000 + 259,600 − 24,000 − 155,760 − 43,120 − 12,980 − 15,840 − 300 = 57,600
1220 bank, USD: 5,000 USD x 2.7180 (the rate in effect on 18 June) = 13,590, revalued on
     31 December at 2.6950: 5,000 x 2.6950 = 13,475 (−115)
1410 receivables: 12 x 23,600 − 11 x 23,600 = 23,600 (December's sale is unpaid)
1610 goods: 12 x 12,000 bought − 12 x 11,000 sold − 3,500 exported = 8,500
3110 payables: −12 x 14,160 + 11 x 14,160 = −14,160
3130 salaries payable: −12 x 3,920 + 11 x 3,920 = −3,920
3321 pension payable: −12 x (100 + 100) + 11 x 200 = −200
3320 income tax: gross 5,000 − pension 100 = 4,900 taxable x 20% = 980 a month;
     −12 x 980 + 11 x 980 = −980
3330 output VAT: 20,000 x 18% = 3,600 a month; −12 x 3,600 + 11 x 3,600 = −3,600
3340 input VAT: 12,000 x 18% = 2,160 a month; 12 x 2,160 − 11 x 2,160 = 2,160
5150 charter capital: −50,000
6110 revenue: −12 x 20,000 = −240,000
6115 export revenue (0% VAT): −13,590
7210 cost of goods sold: 12 x 11,000 + 3,500 exported = 135,500
7410 salaries: 12 x 5,000 gross = 60,000
7415 employer pension: 12 x 100 = 1,200
7420 rent: 12 x 2,000 = 24,000
7492 bank charges: 12 x 25 = 300
8245 unrealised exchange loss: 13,590 − 13,475 = 115
Check: debits 57,600 + 13,475 + 23,600 + 8,500 + 2,160 + 135,500 + 60,000 + 1,200 + 24,000
+ 300 + 115 = 326,450; credits 14,160 + 3,920 + 200 + 980 + 3,600 + 50,000 + 240,000
+ 13,590 = 326,450.

Posted in 2025: 1 capital + 12 purchases + 12 rents + 11 salary payments + 11 tax payments
+ 11 VAT payments + 12 sales + 1 export + 1 cost of the export + 11 supplier payments
+ 11 receipts + 12 cost of sales + 12 salary accruals + 12 bank charges + 1 revaluation
= 131, numbered 1..131; the revaluation's reversal on 1 January 2026 (number 1 of 2026);
2 drafts.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

pytestmark = pytest.mark.e2e

PASSWORD = "demo-scenario-password"
YEAR_END = "2025-12-31"

EXPECTED = {
    "1210": "57600.00",
    "1220": "13475.00",
    "1410": "23600.00",
    "1610": "8500.00",
    "3110": "-14160.00",
    "3130": "-3920.00",
    "3320": "-980.00",
    "3321": "-200.00",
    "3330": "-3600.00",
    "3340": "2160.00",
    "5150": "-50000.00",
    "6110": "-240000.00",
    "6115": "-13590.00",
    "7210": "135500.00",
    "7410": "60000.00",
    "7415": "1200.00",
    "7420": "24000.00",
    "7492": "300.00",
    "8245": "115.00",
}
POSTED = 131


def _url(scratch_database_url: str) -> str:
    # The CLI reads SALDO_DATABASE_URL, which must be a URL, not a libpq key=value string.
    info = psycopg.conninfo.conninfo_to_dict(scratch_database_url)
    return f"postgresql://{info.get('user', 'postgres')}@/{info['dbname']}?host={info['host']}"


def _env(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALDO_")}
    env.update(SALDO_DATABASE_URL=url, COLUMNS="200", **extra)
    return env


def _saldo(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "saldo", *args], env=_env(url), text=True,
                          capture_output=True, timeout=60, check=False,
                          stdin=subprocess.DEVNULL)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, url: str, log: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._out = log.open("wb")
        # stdin is not a terminal: the first-start offer must not wait for an answer.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "saldo", "serve"], stdin=subprocess.DEVNULL,
            stdout=self._out, stderr=subprocess.STDOUT,
            env=_env(url, SALDO_PORT=str(self.port), SALDO_HOST="127.0.0.1",
                     SALDO_DB_POOL_MIN="1", SALDO_DB_POOL_MAX="4", SALDO_LOG_LEVEL="warning"))

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                if httpx.get(f"{self.base}/health/ready", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"saldo serve did not become ready:\n{self.output()}")

    def output(self) -> str:
        self._out.flush()
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._out.close()


@pytest.fixture
def server(scratch_database_url: str, tmp_path: Path) -> Iterator[tuple[str, Server]]:
    url = _url(scratch_database_url)
    loaded = _saldo(url, "demo", "--year", "2025", "--password", PASSWORD)
    assert loaded.returncode == 0, loaded.stderr
    table = [[cell.strip() for cell in line.split("│")[1:-1]]
             for line in loaded.stdout.splitlines() if line.startswith("│")]
    assert table == [["demo-chief", "chief_accountant", PASSWORD],
                     ["demo-accountant", "accountant", PASSWORD],
                     ["demo-tax", "tax_specialist", PASSWORD],
                     ["demo-auditor", "auditor", PASSWORD],
                     ["demo-admin", "admin", PASSWORD]]
    assert f"{POSTED} posted transactions in 2025 and 2 drafts" in loaded.stdout
    srv = Server(url, tmp_path / "serve.log")
    try:
        srv.wait_ready()
        yield url, srv
    finally:
        srv.stop()


def _login(client: httpx.Client, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _all(client: httpx.Client, path: str, headers: dict[str, str],
         **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        r = client.get(path, headers=headers,
                       params={**params, "limit": 500, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        items.extend(r.json()["items"])
        cursor = r.json()["next_cursor"]
        if not cursor:
            return items


def test_the_demo_year_over_http(server: tuple[str, Server]) -> None:
    url, srv = server
    assert "No company yet" not in srv.output()  # the offer is for a first start only
    with httpx.Client(base_url=srv.base, timeout=10) as client:
        auditor = _login(client, "demo-auditor")
        me = client.get("/api/v1/me", headers=auditor).json()
        [membership] = me["memberships"]
        assert (membership["company_name"], membership["role"]) == ("Demo LLC", "auditor")
        books = f"/api/v1/companies/{membership['company_id']}"

        balances = {}
        for code in EXPECTED:
            r = client.get(f"{books}/accounts/{code}/balance", params={"as_of": YEAR_END},
                           headers=auditor)
            assert r.status_code == 200, r.text
            balances[code] = r.json()["balance"]
        assert balances == EXPECTED

        # Headers add up their leaves: 1200 banks = 57,600 + 13,475.
        r = client.get(f"{books}/accounts/1200/balance", params={"as_of": YEAR_END},
                       headers=auditor)
        assert r.json()["balance"] == "71075.00"
        # The USD account in USD and its carrying amount at the closing rate.
        r = client.get(f"{books}/accounts/1220/balance",
                       params={"as_of": YEAR_END, "currency": "USD"}, headers=auditor)
        assert (r.json()["balance"], r.json()["balance_base"]) == ("5000.00", "13475.00")
        # Mid-year: each month's sale (the 15th) is paid on the 25th, so on 30 June
        # nothing is owed: 6 x 23,600 − 6 x 23,600 = 0.
        r = client.get(f"{books}/accounts/1410/balance", params={"as_of": "2025-06-30"},
                       headers=auditor)
        assert r.json()["balance"] == "0.00"

        # Every leaf of the chart, summed: the books balance to the tetri.
        accounts = client.get(f"{books}/accounts", headers=auditor).json()
        total = Decimal(0)
        for account in (a for a in accounts if a["postable"]):
            r = client.get(f"{books}/accounts/{account['code']}/balance",
                           params={"as_of": YEAR_END}, headers=auditor)
            total += Decimal(r.json()["balance"])
        assert total == 0

        everything = _all(client, f"{books}/transactions", auditor, status="posted")
        [reversal] = [t for t in everything if t["fiscal_year"] == 2026]
        assert (reversal["date"], reversal["number"]) == ("2026-01-01", 1)
        posted = [t for t in everything if t["fiscal_year"] == 2025]
        assert len(posted) == POSTED
        assert sorted(t["number"] for t in posted) == list(range(1, POSTED + 1))
        assert {t["fiscal_year"] for t in posted} == {2025}
        assert all(t["date"].startswith("2025-") for t in posted)

        # The cycle: drafted by the accountant, approved by the chief, posted by the
        # accountant (maker-checker); the batches: posted by the chief as importer.
        by_number = {t["number"]: t for t in posted}
        capital = by_number[1]
        assert capital["description"] == "Capital contribution by the founder"
        assert (capital["created_by"], capital["approved_by"], capital["posted_by"]) == (
            "demo-accountant", "demo-chief", "demo-accountant")
        [export] = [t for t in posted if t["currency"] == "USD"]
        assert Decimal(export["exchange_rate"]) == Decimal("2.718")  # the NBG rate in effect
        assert export["approved_by"] == "demo-chief"
        assert [(e["account_code"], e["credit"], e["credit_base"]) for e in export["entries"]
                if e["account_code"] == "6115"] == [("6115", "5000.00", "13590.00")]
        revaluation = next(t for t in posted if t["id"] == reversal["reverses"])
        assert revaluation["date"] == YEAR_END
        assert sorted((e["account_code"], e["debit_base"], e["credit_base"])
                      for e in revaluation["entries"]) == [
            ("1220", "0.00", "115.00"), ("8245", "115.00", "0.00")]
        batched = [t for t in posted if t["approved_by"] is None]
        assert len(batched) == POSTED - 3  # capital, June export, December rent cycled
        assert {t["posted_by"] for t in batched} == {"demo-chief"}
        salaries = next(t for t in posted if t["description"] == "Salaries for March")
        assert sorted((e["account_code"], e["debit"], e["credit"])
                      for e in salaries["entries"]) == [
            ("3130", "0.00", "3920.00"), ("3320", "0.00", "980.00"),
            ("3321", "0.00", "100.00"), ("3321", "0.00", "100.00"),
            ("7410", "5000.00", "0.00"), ("7415", "100.00", "0.00")]
        paid = [t["date"][8:] for t in posted if t["description"].startswith(
            ("Net salaries for", "Income tax and pension for"))]
        assert set(paid) == {"05"}  # income tax and pension leave with the net salaries

        drafts = _all(client, f"{books}/transactions", auditor, status="draft")
        assert sorted(t["description"] for t in drafts) == [
            "Goods from Kutaisi Wholesale LLC (to check)",
            "Sale to Batumi Market LLC (to approve)"]
        assert {t["created_by"] for t in drafts} == {"demo-accountant"}

        # The drafts are real: the auditor may not approve one, the chief may, and the
        # accountant posts it as number 130.
        draft = next(t for t in drafts if t["description"].startswith("Sale"))
        r = client.post(f"{books}/transactions/{draft['id']}/approve", headers=auditor)
        assert r.status_code == 403, r.text
        r = client.post(f"{books}/transactions/{draft['id']}/approve",
                        headers=_login(client, "demo-chief"))
        assert r.status_code == 200, r.text
        r = client.post(f"{books}/transactions/{draft['id']}/post",
                        headers=_login(client, "demo-accountant"))
        assert r.status_code == 200, r.text
        assert r.json()["number"] == POSTED + 1

    # Running the demo again changes nothing and says why.
    again = _saldo(url, "demo", "--year", "2025", "--password", PASSWORD)
    assert again.returncode == 1
    assert "exist already" in again.stderr
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM companies").fetchone()
    assert row is not None
    assert row[0] == 1


def test_a_first_start_names_the_demo_and_does_not_wait_without_a_terminal(
        scratch_database_url: str, tmp_path: Path) -> None:
    srv = Server(_url(scratch_database_url), tmp_path / "serve.log")
    try:
        srv.wait_ready()
        output = srv.output()
        assert "No company yet" in output
        assert "saldo demo" in output
        assert "[y/N]" not in output
    finally:
        srv.stop()
