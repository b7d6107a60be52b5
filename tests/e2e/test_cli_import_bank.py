"""`saldo import bank FILE --account 1210`, run as an operator runs it: an MT940 file is
imported, the same file again skips every line, a file with a bad line is refused with
its row."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from bank_files import Entry, mt940

from saldo import bootstrap
from saldo.identity.domain import NewCompany
from saldo.platform.migrations import upgrade
from saldo.platform.settings import load_settings

pytestmark = pytest.mark.e2e

PASSWORD = "bank-import-tests-password"


@dataclass
class Books:
    url: str
    company_id: UUID


async def _company(url: str) -> UUID:
    container = bootstrap.build(load_settings(db_pool_min=1, db_pool_max=2), url)
    await container.db.open()
    try:
        async with container.db.connection() as conn:
            await upgrade(conn, bootstrap.migrations())
        await container.app_db.open()
        chief = await container.identity.create_user("chief", PASSWORD)
        company = await container.identity.create_company(
            chief, NewCompany("Bank Import LLC", "204567891", vat_payer=True))
        return company.id
    finally:
        await container.close()


@pytest.fixture
def books(scratch_database_url: str) -> Books:
    info = psycopg.conninfo.conninfo_to_dict(scratch_database_url)
    url = f"postgresql://{info.get('user', 'postgres')}@/{info['dbname']}?host={info['host']}"
    return Books(url, asyncio.run(_company(url)))


def _import(books: Books, path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALDO_")}
    env.update(SALDO_DATABASE_URL=books.url, COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "saldo", "import", "bank", str(path), "--account", "1210",
         "--company", str(books.company_id), "--user", "chief"],
        env=env, text=True, capture_output=True, timeout=60, check=False)


ENTRIES = [Entry("1180.00", date(2026, 3, 5), "Payment INV-17", "B-1"),
           Entry("-2.50", date(2026, 3, 5), "Commission", "B-2")]


def test_import_bank_statement(books: Books, tmp_path: Path) -> None:
    path = tmp_path / "march.sta"
    path.write_bytes(mt940(ENTRIES))
    first = _import(books, path)
    assert first.returncode == 0, first.stderr
    assert "Imported 2 line(s)" in first.stdout
    again = _import(books, path)
    assert again.returncode == 0, again.stderr
    assert "Imported 0 line(s)" in again.stdout
    assert "skipped 2" in again.stdout
    bad = tmp_path / "bad.sta"
    bad.write_bytes(mt940(ENTRIES, envelope=False).replace(b"C1180,00", b"C11X0,00"))
    refused = _import(books, bad)
    assert refused.returncode == 1
    assert "row 5: malformed_line" in refused.stderr
