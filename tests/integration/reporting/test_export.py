"""The journal export read back by the tools it is for: Debian's ``hledger`` and ``ledger``
(installed by the session fixture below when missing) must give, per account, the totals
Saldo's own balances give for the same range; ``bean-check`` accepts the Beancount export
when it is installed (optional: ``pip install beancount``).

The books: Tbilisi Trade LLC over 2025 and 2026 -- a capital contribution, a purchase and
a sale with VAT, the cost of the goods sold, a customer paying USD 1,000.00 at 2.7000, a
rent payment reversed the next day, the 2025 year-end close, then 2026's salaries, a cash
sale and a supplier payment. Descriptions are Georgian, and the free text carries what
the formats would misread as syntax (``;``, ``date:``, ``[...]``, quotes, line breaks).
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from ledger_harness import Books, Harness, expect_problem

from saldo.reporting.domain.journal import (
    JournalAccount,
    beancount_account,
    comment_text,
    ledger_account,
    ledger_description,
)

pytestmark = pytest.mark.integration

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
#: Command -> Debian package.
TOOLS = {"hledger": "hledger", "ledger": "ledger"}
TOOL_SECONDS = 60

# ---------------------------------------------------------------------- the tools


def _apt_install(packages: list[str]) -> str:
    """Install Debian packages; '' on success, else why not."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "not running as root, so apt-get cannot install them"
    if shutil.which("apt-get") is None:
        return "apt-get is not available"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]
    try:
        if subprocess.run(install, env=env, capture_output=True, timeout=600,
                          check=False).returncode == 0:
            return ""
        # The package lists may be missing or stale on a fresh machine.
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True,
                       timeout=600, check=False)
        done = subprocess.run(install, env=env, capture_output=True, timeout=600, check=False)
    except subprocess.TimeoutExpired:
        return "apt-get timed out"
    if done.returncode != 0:
        return f"apt-get install failed: {done.stderr.decode(errors='replace')[-500:]}"
    return ""


@pytest.fixture(scope="session")
def tools() -> dict[str, str]:
    """Paths of hledger and ledger, installed from Debian if missing (as root). Missing
    and not installable: skip -- but fail in CI (``CI=true``), where the cross-check must
    run."""
    missing = [TOOLS[c] for c in TOOLS if shutil.which(c) is None]
    reason = _apt_install(missing) if missing else ""
    found = {c: shutil.which(c) for c in TOOLS}
    absent = [c for c, path in found.items() if path is None]
    if absent:
        message = (f"{', '.join(absent)} not installed ({reason or 'not found after install'});"
                   f" apt-get install {' '.join(TOOLS[c] for c in absent)}")
        if IN_CI:
            pytest.fail(f"CI=true: the export cross-check must run, but {message}")
        pytest.skip(message)
    return {c: str(path) for c, path in found.items()}


def bean_check() -> str | None:
    """``bean-check`` on PATH or beside this interpreter (optional: Beancount is not a
    dependency of Saldo)."""
    beside = Path(sys.executable).with_name("bean-check")
    return shutil.which("bean-check") or (str(beside) if beside.is_file() else None)


def run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, timeout=TOOL_SECONDS, check=False)
    assert done.returncode == 0, (command, done.stderr.decode(errors="replace"))
    return done.stdout.decode()


def code_of(account: str) -> str:
    """``Assets:1110 Cash on hand, GEL`` or ``Assets:1110-Cash-on-hand-GEL`` -> 1110."""
    return account.split(":", 1)[1].replace("-", " ").split(" ", 1)[0]


def hledger_totals(hledger: str, path: Path, *period: str) -> dict[str, Decimal]:
    out = run(hledger, "-f", str(path), "--strict", "balance", "--flat", "--no-total",
              "-O", "csv", *period)
    totals: dict[str, Decimal] = {}
    for row in list(csv.reader(io.StringIO(out)))[1:]:
        value, _, commodity = row[1].rpartition(" ")
        assert commodity == "GEL", row
        totals[code_of(row[0])] = Decimal(value)
    return totals


def ledger_totals(ledger: str, path: Path) -> dict[str, Decimal]:
    out = run(ledger, "-f", str(path), "--pedantic", "balance", "--flat", "--no-total",
              "--format", "%(account)\t%(quantity(scrub(display_total)))\n")
    totals: dict[str, Decimal] = {}
    for line in out.splitlines():
        account, value = line.split("\t")
        totals[code_of(account)] = Decimal(value)
    return totals


# ---------------------------------------------------------------------- the books

DUE = "due date: 2025-03-01 [net 30]; see \"terms\"\nsecond line"


async def post(books: Books, day: str, description: str,
               entries: list[tuple[str, str, str, str]], **extra: Any) -> dict[str, Any]:
    """(account, debit, credit, line description); drafted, approved, posted."""
    body = {"date": day, "description": description, **extra, "entries": [
        {"account_code": a, **({"debit": dr} if dr else {}), **({"credit": cr} if cr else {}),
         "description": text} for a, dr, cr, text in entries]}
    h = books.h
    r = await h.client.post(books.url("/transactions"), json=body, headers=books.clerk)
    assert r.status_code == 201, r.text
    tx = r.json()
    assert (await books.act(tx["id"], "approve")).status_code == 200
    r = await books.act(tx["id"], "post", by="clerk")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def scenario(h: Harness) -> Books:
    books = await h.books()
    await post(books, "2025-01-10", "შენატანი საწესდებო კაპიტალში", [
        ("1210", "50000.00", "", ""), ("5110", "", "50000.00", "")], reference="OK-2025/001")
    await post(books, "2025-02-03", 'საქონლის შესყიდვა; შპს "ალფა ტრეიდი" [ზედნადები #12]', [
        ("1610", "10000.00", "", "საქონელი"), ("3340", "1800.00", "", "დღგ 18%"),
        ("3110", "", "11800.00", DUE)], reference="ზედ-12: date: 2025")
    await post(books, "2025-03-15", "რეალიზაცია:\tშპს ბეტა\r\nინვოისი 7", [
        ("1410", "23600.00", "", "Invoice; line\nbreak"), ("6110", "", "20000.00", ""),
        ("3330", "", "3600.00", "")])
    await post(books, "2025-03-15", "რეალიზებული საქონლის თვითღირებულება", [
        ("7210", "8000.00", "", ""), ("1610", "", "8000.00", "")])
    await post(books, "2025-04-20", "Customer pays USD 1,000.00", [
        ("1220", "1000.00", "", "USD account"), ("1410", "", "1000.00", "")],
        currency="USD", exchange_rate="2.7000")
    rent = await post(books, "2025-05-05", "იჯარა — მაისი", [
        ("7420", "1500.00", "", ""), ("1210", "", "1500.00", "")])
    r = await books.act(rent["id"], "reverse", reason="ორჯერ გატარდა", date="2025-05-06")
    assert r.status_code == 201, r.text
    r = await h.client.post(books.url("/fiscal-years/2025/close"), headers=books.chief)
    assert r.status_code == 200, r.text
    await post(books, "2026-01-15", "ხელფასი — იანვარი", [
        ("7410", "4000.00", "", ""), ("3130", "", "4000.00", "")])
    await post(books, "2026-02-10", "ნაღდი გაყიდვა", [
        ("1110", "1180.00", "", ""), ("6110", "", "1000.00", ""), ("3330", "", "180.00", "")])
    await post(books, "2026-03-01", "მომწოდებლისთვის გადახდა", [
        ("3110", "11800.00", "", ""), ("1210", "", "11800.00", "")])
    return books


async def export(books: Books, path: Path, **params: Any) -> str:
    r = await books.h.client.get(books.url("/export/journal"), params=params,
                                 headers=books.clerk)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.headers["content-disposition"].startswith('attachment; filename="journal-')
    path.write_bytes(r.content)
    return r.text


async def postable(books: Books) -> list[str]:
    r = await books.h.client.get(books.url("/accounts"), headers=books.clerk)
    return [a["code"] for a in r.json() if a["postable"]]


async def saldo_nets(books: Books, as_of: str, before: str | None = None) -> dict[str, Decimal]:
    """Saldo's own per-account net (debit - credit) up to ``as_of``, less that up to
    ``before``: through the balance endpoint, account by account."""
    nets = {}
    for code in await postable(books):
        net = Decimal(await books.balance(code, as_of))
        if before:
            net -= Decimal(await books.balance(code, before))
        if net:
            nets[code] = net
    return nets


def nonzero(totals: dict[str, Decimal]) -> dict[str, Decimal]:
    return {k: v for k, v in totals.items() if v}


# ---------------------------------------------------------------------- the cross-check


async def test_hledger_and_ledger_give_saldos_totals(h: Harness, tools: dict[str, str],
                                                     tmp_path: Path) -> None:
    books = await scenario(h)
    path = tmp_path / "books.ledger"
    text = await export(books, path, format="ledger", date_from="2025-01-01",
                        date_to="2026-12-31")
    both_years = await saldo_nets(books, "2026-12-31")
    # The close moved 2025's profit (20,000 - 8,000 = 12,000) into retained earnings.
    assert both_years["5310"] == Decimal("-12000.00")
    assert "6110" in both_years
    assert "7210" not in both_years
    assert nonzero(hledger_totals(tools["hledger"], path)) == both_years
    assert nonzero(ledger_totals(tools["ledger"], path)) == both_years
    # One year of the same file, filtered by hledger itself.
    in_2026 = await saldo_nets(books, "2026-12-31", before="2025-12-31")
    assert nonzero(hledger_totals(tools["hledger"], path, "-b", "2026-01-01",
                                  "-e", "2027-01-01")) == in_2026

    # What the file says beyond the totals: numbers, Georgian text, the reversal, the
    # closing transaction, the USD line; and no tag read out of free text (a "date:" tag
    # would have moved a posting, or failed the parse).
    assert "2025-01-10 * (2025-1) შენატანი საწესდებო კაპიტალში" in text
    assert "რეალიზაცია: შპს ბეტა ინვოისი 7" in text
    assert "საქონლის შესყიდვა, შპს \"ალფა ტრეიდი\" [ზედნადები #12]" in text
    assert "; reverses: " in text
    assert "; kind: closing" in text
    assert "; USD account | USD 1000.00 @ 2.7000" in text
    assert "Expenses:7420 Rent" in text
    tags = set(run(tools["hledger"], "-f", str(path), "tags").split())
    assert tags == {"saldo-id", "reference", "reverses", "kind"}
    printed = run(tools["hledger"], "-f", str(path), "print")
    assert len(re.findall(r"^\d{4}-\d\d-\d\d ", printed, re.MULTILINE)) == 11  # 9 + 2


async def test_a_range_alone_gives_the_turnover_and_with_opening_the_balances(
        h: Harness, tools: dict[str, str], tmp_path: Path) -> None:
    books = await scenario(h)
    turnover = await saldo_nets(books, "2026-12-31", before="2025-12-31")
    closing = await saldo_nets(books, "2026-12-31")

    alone = tmp_path / "2026.ledger"
    text = await export(books, alone, format="ledger", date_from="2026-01-01",
                        date_to="2026-12-31")
    assert "2025-" not in text.split("\n\n", 3)[-1]  # no 2025 transaction in the body
    assert nonzero(hledger_totals(tools["hledger"], alone)) == turnover
    assert nonzero(ledger_totals(tools["ledger"], alone)) == turnover

    opened = tmp_path / "2026-opened.ledger"
    text = await export(books, opened, format="ledger", date_from="2026-01-01",
                        date_to="2026-12-31", opening="true")
    assert "2026-01-01 * Opening balances" in text
    assert nonzero(hledger_totals(tools["hledger"], opened)) == closing
    assert nonzero(ledger_totals(tools["ledger"], opened)) == closing

    # Saldo's trial balance of the same range: its turnover is the file without opening
    # balances, its closing balances the file with them.
    r = await h.client.get(books.url("/reports/trial-balance"), headers=books.clerk,
                           params={"date_from": "2026-01-01", "date_to": "2026-12-31"})
    assert r.status_code == 200, r.text
    leaves = [row for row in r.json()["rows"] if row["postable"]]
    tb_turnover = {row["code"]: Decimal(row["debit"]) - Decimal(row["credit"])
                   for row in leaves}
    tb_closing = {row["code"]: Decimal(row["closing_debit"]) - Decimal(row["closing_credit"])
                  for row in leaves}
    assert nonzero(tb_turnover) == nonzero(hledger_totals(tools["hledger"], alone))
    assert nonzero(tb_closing) == nonzero(hledger_totals(tools["hledger"], opened))


async def test_georgian_account_names_read_in_both_tools(h: Harness, tools: dict[str, str],
                                                         tmp_path: Path) -> None:
    books = await scenario(h)
    path = tmp_path / "ka.ledger"
    text = await export(books, path, format="ledger", lang="ka")
    assert "account Assets:1110 ნაღდი ფული ეროვნულ ვალუტაში" in text
    assert "account Income:6110 შემოსავალი რეალიზაციიდან" in text
    both_years = await saldo_nets(books, "2026-12-31")
    assert nonzero(hledger_totals(tools["hledger"], path)) == both_years
    assert nonzero(ledger_totals(tools["ledger"], path)) == both_years


async def test_an_empty_range_is_a_valid_empty_journal(h: Harness, tools: dict[str, str],
                                                       tmp_path: Path) -> None:
    books = await h.books()
    path = tmp_path / "empty.ledger"
    text = await export(books, path, date_from="2024-01-01", date_to="2024-12-31")
    assert "commodity GEL" in text
    assert hledger_totals(tools["hledger"], path) == {}
    assert ledger_totals(tools["ledger"], path) == {}


async def test_the_beancount_export(h: Harness, tmp_path: Path) -> None:
    books = await scenario(h)
    path = tmp_path / "books.beancount"
    text = await export(books, path, format="beancount", date_from="2026-01-01",
                        date_to="2026-12-31", opening="true")
    assert 'option "operating_currency" "GEL"' in text
    assert "2026-01-01 open Assets:1110-Cash-on-hand-GEL GEL" in text
    assert "2026-01-01 open Equity:5310-Retained-earnings GEL" in text
    assert '2026-01-15 * "ხელფასი — იანვარი"' in text
    assert '  number: "2026-1"' in text
    checker = bean_check()
    if checker is None:
        pytest.skip("bean-check is not installed (pip install beancount): the Beancount "
                    "export was checked for its shape only")
    run(checker, str(path))
    # Beancount's own per-account totals, through the interpreter bean-check runs on.
    interpreter = Path(checker).read_text().splitlines()[0].removeprefix("#!").strip()
    out = run(interpreter, "-c", (
        "import sys\n"
        "from beancount import loader\n"
        "from beancount.core import data\n"
        "entries, errors, _ = loader.load_file(sys.argv[1])\n"
        "assert not errors, errors\n"
        "totals = {}\n"
        "for e in entries:\n"
        "    if isinstance(e, data.Transaction):\n"
        "        for p in e.postings:\n"
        "            totals[p.account] = totals.get(p.account, 0) + p.units.number\n"
        "for k, v in totals.items():\n"
        "    print(k, v, sep='\\t')\n"), str(path))
    totals = {code_of(k): Decimal(v) for k, v in (line.split("\t") for line in out.splitlines())}
    assert nonzero(totals) == await saldo_nets(books, "2026-12-31")


# ---------------------------------------------------------------------- bad requests


async def test_bad_requests_are_problems(h: Harness) -> None:
    books = await h.books()
    url = books.url("/export/journal")
    r = await h.client.get(url, params={"format": "xml"}, headers=books.clerk)
    body = expect_problem(r, 422, "unsupported_format")
    assert body["supported"] == ["ledger", "beancount"]
    r = await h.client.get(url, params={"date_from": "2026-02-01", "date_to": "2026-01-31"},
                           headers=books.clerk)
    expect_problem(r, 422, "invalid_date_range")
    r = await h.client.get(url, params={"date_from": "2026-13-01"}, headers=books.clerk)
    expect_problem(r, 422, "validation_error")
    r = await h.client.get(url, params={"lang": "fr"}, headers=books.clerk)
    expect_problem(r, 422, "unsupported_language")
    r = await h.client.get(url)
    expect_problem(r, 401)


# ---------------------------------------------------------------------- the text rules


def test_account_names_are_valid_in_each_format() -> None:
    cost = JournalAccount("7110", "Cost of production: direct materials", "expense")
    assert ledger_account(cost) == "Expenses:7110 Cost of production - direct materials"
    assert beancount_account(cost) == "Expenses:7110-Cost-of-production-direct-materials"
    sub = JournalAccount("1910.01", "Customs  deposits;\tGEL", "asset")
    assert ledger_account(sub) == "Assets:1910.01 Customs deposits, GEL"
    assert beancount_account(sub) == "Assets:1910-01-Customs-deposits-GEL"
    lower = JournalAccount("x1", "(ka) ნაღდი", "revenue")
    assert beancount_account(lower) == "Income:Ax1-ka-ნაღდი"


def test_free_text_cannot_become_syntax() -> None:
    assert comment_text("due date: 2025-03-01 [net 30]\n;x") == \
        "due date： 2025-03-01 (net 30) ;x"
    assert ledger_description("a; b\r\n\tc") == "a, b c"
