"""`saldo payroll import-employees FILE.csv` and `saldo payroll return`, run as an operator
runs them, against a fresh database with one company."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from uuid import UUID

import psycopg
import pytest

from saldo import bootstrap
from saldo.identity.domain import NewCompany
from saldo.platform.migrations import upgrade
from saldo.platform.settings import load_settings

pytestmark = pytest.mark.e2e

PASSWORD = "payroll-cli-tests-password"
HEAD = "personal_number,full_name,start_date,gross_salary,pension_enrolled,resident,iban"


async def _company(url: str) -> UUID:
    container = bootstrap.build(load_settings(db_pool_min=1, db_pool_max=2), url)
    await container.db.open()
    try:
        async with container.db.connection() as conn:
            await upgrade(conn, bootstrap.migrations())
        await container.app_db.open()
        chief = await container.identity.create_user("chief", PASSWORD)
        company = await container.identity.create_company(
            chief, NewCompany("Payroll CLI LLC", "204567892", vat_payer=False))
        return company.id
    finally:
        await container.close()


def _saldo(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALDO_")}
    env.update(SALDO_DATABASE_URL=url, COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "saldo", *args], env=env, text=True,
                          capture_output=True, timeout=60, check=False)


def test_a_staff_list_is_imported_whole_or_not_at_all(scratch_database_url: str,
                                                      tmp_path: Path) -> None:
    info = psycopg.conninfo.conninfo_to_dict(scratch_database_url)
    url = f"postgresql://{info.get('user', 'postgres')}@/{info['dbname']}?host={info['host']}"
    company = str(asyncio.run(_company(url)))
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join((HEAD, "01001011234,Nino Beridze,2025-01-01,3000,,,",
                              "0100101123,Short Number,2025-01-01,1000,,,",
                              "01001011236,Bad Date,2025-13-01,1000,,,")) + "\n",
                   encoding="utf-8")
    result = _saldo(url, "payroll", "import-employees", str(bad), "--company", company,
                    "--user", "chief")
    assert result.returncode == 1, result.stdout
    assert "row 3:" in result.stderr
    assert "row 4:" in result.stderr
    assert "row 2:" not in result.stderr

    good = tmp_path / "staff.csv"
    good.write_bytes(("\ufeff" + "\n".join((
        HEAD, "01001011234,ნინო ბერიძე,2025-01-01,3000.00,true,true,GE29NB0000000101904917",
        "123456789,John Smith,2025-01-01,5000,yes,false,")) + "\n").encode("utf-8"))
    result = _saldo(url, "payroll", "import-employees", str(good), "--company", company,
                    "--user", "chief")
    assert result.returncode == 0, result.stderr
    assert "imported 2 employees" in result.stdout
    with psycopg.connect(url) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT full_name FROM payroll_employees ORDER BY full_name").fetchall()]
    assert names == ["John Smith", "ნინო ბერიძე"]

    result = _saldo(url, "payroll", "return", "income-tax", "2026-03", "--company", company,
                    "--user", "chief")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["due_date"] == "2026-04-15"
    assert body["total_gross"] == "0.00"
