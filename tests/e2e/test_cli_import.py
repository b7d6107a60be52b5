"""`saldo import journal FILE.csv`, run as an operator runs it, against a fresh database
with one company (a chief accountant who may import, an accountant who may not)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import psycopg
import pytest

from saldo import bootstrap
from saldo.identity.domain import NewCompany, Permission, Role
from saldo.platform.migrations import upgrade
from saldo.platform.settings import load_settings

pytestmark = pytest.mark.e2e

PASSWORD = "import-tests-password"
HEAD = ("transaction,date,description,reference,currency,exchange_rate,account,debit,credit,"
        "line_description")


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
        await container.identity.create_user("clerk", PASSWORD)
        company = await container.identity.create_company(
            chief, NewCompany("Import Test LLC", "204567891", vat_payer=True))
        admin = await container.identity.member_context(company.id, "chief",
                                                        Permission.ADMIN_USERS)
        await container.identity.add_member(admin, "clerk", Role.ACCOUNTANT)
        return company.id
    finally:
        await container.close()


@pytest.fixture
def books(scratch_database_url: str) -> Books:
    # The CLI reads SALDO_DATABASE_URL, which must be a URL, not a libpq key=value string.
    info = psycopg.conninfo.conninfo_to_dict(scratch_database_url)
    url = f"postgresql://{info.get('user', 'postgres')}@/{info['dbname']}?host={info['host']}"
    return Books(url, asyncio.run(_company(url)))


def _import(books: Books, path: Path, *args: str,
            user: str = "chief") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALDO_")}
    env.update(SALDO_DATABASE_URL=books.url, COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "saldo", "import", "journal", str(path),
         "--company", str(books.company_id), "--user", user, *args],
        env=env, text=True, capture_output=True, timeout=60, check=False)


def _write(tmp_path: Path, *rows: str, bom: bool = False) -> Path:
    path = tmp_path / "journal.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") +
                     ("\r\n".join((HEAD, *rows)) + "\r\n").encode("utf-8"))
    return path


def _posted(books: Books) -> list[tuple[int, str, str]]:
    with psycopg.connect(books.url) as conn:
        return [tuple(r) for r in conn.execute(  # type: ignore[misc]
            "SELECT number, status, description FROM journal_transactions"
            " WHERE company_id = %s ORDER BY number", (books.company_id,)).fetchall()]


def _balance(books: Books, code: str) -> Decimal:
    with psycopg.connect(books.url) as conn:
        row = conn.execute("SELECT coalesce(sum(debit_base - credit_base), 0)"
                           " FROM account_turnover"
                           " WHERE company_id = %s AND account_code = %s",
                           (books.company_id, code)).fetchone()
    assert row is not None
    return Decimal(row[0])


SALE_KA = "საქონლის რეალიზაცია, შპს „ბათუმი“"
ROWS = (
    f'S-1,2025-01-15,"{SALE_KA}",ანგ-001,,,1410,1180.00,,მყიდველი',
    "S-1,,,,,,6110,,1000.00,შემოსავალი",
    "S-1,,,,,,3330,,180.00,დღგ 18%",
    "R-1,2025-01-31,Rent,,,,7420,500,,",
    "R-1,,,,,,1210,,500,",
    "U-1,2025-02-10,Export paid in USD,EXP-1,USD,2.70,1220,100.00,,",
    "U-1,,,,,,6110,,100.00,",
)


def test_a_good_file_posts_every_transaction_in_batches(books: Books, tmp_path: Path) -> None:
    result = _import(books, _write(tmp_path, *ROWS, bom=True), "--batch-size", "2")
    assert result.returncode == 0, result.stderr
    assert "Imported 3 transactions" in result.stdout
    assert "2 batch(es)" in result.stdout
    assert "3/3" in result.stdout  # the progress bar's final state
    assert _posted(books) == [(1, "posted", SALE_KA), (2, "posted", "Rent"),
                              (3, "posted", "Export paid in USD")]
    assert _balance(books, "1410") == Decimal("1180.00")
    assert _balance(books, "6110") == Decimal("-1270.00")  # 1,000 + 100 USD x 2.70
    assert _balance(books, "1220") == Decimal("270.00")
    with psycopg.connect(books.url) as conn:
        row = conn.execute("SELECT reference, created_by, posted_by, entries"
                           " FROM journal_transactions WHERE number = 1").fetchone()
    assert row is not None
    reference, created_by, posted_by, entries = row
    assert (reference, created_by, posted_by) == ("ანგ-001", "chief", "chief")
    assert [e["description"] for e in entries] == ["მყიდველი", "შემოსავალი", "დღგ 18%"]


def test_a_bad_file_prints_row_numbered_findings_and_writes_nothing(
        books: Books, tmp_path: Path) -> None:
    path = _write(tmp_path, *ROWS[:3],
                  "B,2025-13-01,bad date,,,,1210,10,,",     # row 5
                  "B,,,,,,5150,,10,",
                  'C,2025-02-01,thousands,,,,1210,"1,000.00",,',  # row 7
                  "C,,,,,,,,1000.00,")                      # row 8: no account
    result = _import(books, path)
    assert result.returncode == 1
    assert "row 5: invalid_date" in result.stderr
    assert "row 7: invalid_amount" in result.stderr
    assert "row 8: missing_account" in result.stderr
    assert "3 finding(s)" in result.stderr
    assert "nothing was imported" in result.stderr
    assert _posted(books) == []


def test_the_ledgers_rules_are_checked_for_the_whole_file_before_any_batch(
        books: Books, tmp_path: Path) -> None:
    # Batches of one: without the check up front the first would be posted.
    path = _write(tmp_path, *ROWS[:3],
                  "X,2025-03-01,unbalanced,,,,1210,10.00,,",   # row 5
                  "X,,,,,,5150,,9.99,",
                  "Y,2009-03-01,too old a year,,,,1210,1,,",  # row 7
                  "Y,,,,,,5150,,1,")
    result = _import(books, path, "--batch-size", "1")
    assert result.returncode == 1
    assert "row 5: unbalanced_transaction" in result.stderr
    assert "row 7: fiscal_year_unavailable" in result.stderr
    assert "nothing was imported" in result.stderr
    assert _posted(books) == []


def test_a_foreign_row_without_a_rate_is_a_finding_of_the_whole_file_check(
        books: Books, tmp_path: Path) -> None:
    # No NBG rates are loaded: the USD rows without exchange_rate have none in effect.
    # Batches of one: the whole file is refused before the first batch.
    path = _write(tmp_path, *ROWS[:3],
                  "E,2025-03-03,Export,,USD,,1220,50.00,,",   # row 5
                  "E,,,,,,6110,,50.00,",
                  "F,2025-03-04,Export,,EUR,,1220,20.00,,",   # row 7
                  "F,,,,,,6110,,20.00,")
    result = _import(books, path, "--batch-size", "1")
    assert result.returncode == 1
    assert "row 5: rate_not_found" in result.stderr
    assert "row 7: rate_not_found" in result.stderr
    # The same words as a single posting's refusal, with what to do about it.
    assert "saldo rates fetch" in result.stderr
    assert "nothing was imported" in result.stderr
    assert _posted(books) == []


def test_a_finding_only_the_books_reveal_stops_at_its_batch_and_names_what_was_committed(
        books: Books, tmp_path: Path) -> None:
    path = _write(tmp_path, *ROWS[:5],                  # rows 2-6: two good transactions
                  "Z,2025-03-01,no such account,,,,1299,10,,",  # row 7
                  "Z,,,,,,5150,,10,",
                  *ROWS[5:])                            # rows 9-10: never reached
    result = _import(books, path, "--batch-size", "2")
    assert result.returncode == 1
    assert "row 7: unknown_account" in result.stderr
    assert "committed and stay posted" in result.stderr
    assert "rows 2–6" in result.stderr
    assert "Rows from 7 on were not imported" in result.stderr
    assert "import the file again" in result.stderr
    assert [number for number, _, _ in _posted(books)] == [1, 2]


def test_importing_a_file_again_posts_nothing_twice(books: Books, tmp_path: Path) -> None:
    path = _write(tmp_path, *ROWS)
    first = _import(books, path)
    assert first.returncode == 0, first.stderr
    assert "Imported 3 transactions" in first.stdout
    again = _import(books, path)
    assert again.returncode == 0, again.stderr
    assert "Imported 0 transactions" in again.stdout
    assert "skipped 3 imported before" in again.stdout
    assert [number for number, _, _ in _posted(books)] == [1, 2, 3]
    assert _balance(books, "1410") == Decimal("1180.00")


def test_an_interrupted_import_is_resumed_by_importing_the_file_again(
        books: Books, tmp_path: Path) -> None:
    """A batch fails on a finding only the books reveal; the operator fixes the file and
    imports all of it again: the committed transactions are skipped, the rest posted."""
    bad = _write(tmp_path, *ROWS[:5],
                 "Z,2025-03-01,no such account,,,,1299,10,,",  # row 7
                 "Z,,,,,,5150,,10,", *ROWS[5:])
    assert _import(books, bad, "--batch-size", "2").returncode == 1
    assert [number for number, _, _ in _posted(books)] == [1, 2]
    fixed = _write(tmp_path, *ROWS[:5],
                   "Z,2025-03-01,now a real account,,,,1290,10,,",
                   "Z,,,,,,5150,,10,", *ROWS[5:])
    resumed = _import(books, fixed, "--batch-size", "2")
    assert resumed.returncode == 0, resumed.stderr
    assert "Imported 2 transactions" in resumed.stdout
    assert "skipped 2 imported before" in resumed.stdout
    assert [d for _, _, d in _posted(books)] == [SALE_KA, "Rent", "now a real account",
                                                 "Export paid in USD"]


def test_a_key_posted_before_with_other_content_is_a_finding(
        books: Books, tmp_path: Path) -> None:
    assert _import(books, _write(tmp_path, *ROWS[:3])).returncode == 0
    changed = _write(tmp_path, f'S-1,2025-01-15,"{SALE_KA}",ანგ-001,,,1410,1190.00,,',
                     "S-1,,,,,,6110,,1010.00,", "S-1,,,,,,3330,,180.00,")
    result = _import(books, changed)
    assert result.returncode == 1
    assert "row 2: idempotency_key_reused" in result.stderr
    assert len(_posted(books)) == 1


def test_the_importer_must_hold_approval(books: Books, tmp_path: Path) -> None:
    result = _import(books, _write(tmp_path, *ROWS), user="clerk")
    assert result.returncode == 1
    assert "transactions:approve" in result.stderr
    stranger = _import(books, _write(tmp_path, *ROWS), user="nobody")
    assert stranger.returncode == 1
    assert "not a member" in stranger.stderr
    assert _posted(books) == []


def _fiscal_year(books: Books, action: str, year: str,
                 user: str = "chief") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALDO_")}
    env.update(SALDO_DATABASE_URL=books.url, COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "saldo", "fiscal-year", action, year,
         "--company", str(books.company_id), "--user", user],
        env=env, text=True, capture_output=True, timeout=60, check=False)


def test_an_imported_year_is_closed_and_reopened_from_the_command_line(
        books: Books, tmp_path: Path) -> None:
    path = _write(tmp_path,
                  "1,2025-03-01,Sale,,,,1410,1180.00,,",
                  "1,,,,,,6110,,1000.00,",
                  "1,,,,,,3330,,180.00,",
                  "2,2025-04-01,Rent,,,,7420,400.00,,",
                  "2,,,,,,1210,,400.00,")
    assert _import(books, path).returncode == 0
    refused = _fiscal_year(books, "close", "2025", user="clerk")  # no periods:close
    assert refused.returncode == 1, refused.stderr
    closed = _fiscal_year(books, "close", "2025")
    assert closed.returncode == 0, closed.stderr
    assert "fiscal year 2025 closed; closing transaction" in closed.stdout
    # The closing transaction (No. 3) moved the profit of 600.00 to 5310.
    assert _posted(books)[-1][0] == 3
    assert _balance(books, "5310") == Decimal("-600.00")
    assert _balance(books, "6110") == 0
    again = _fiscal_year(books, "close", "2025")
    assert again.returncode == 1
    assert "closed already" in again.stderr
    reopened = _fiscal_year(books, "reopen", "2025")
    assert reopened.returncode == 0, reopened.stderr
    assert "fiscal year 2025 reopened" in reopened.stdout
    assert _balance(books, "5310") == 0
    assert _balance(books, "6110") == Decimal("-1000.00")
