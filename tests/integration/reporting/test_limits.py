"""What keeps one report request from holding the server: the journal-line limits, checked
with a count before any line is read; rendering on threads of its own, so a long PDF
does not stall other requests; and report dates kept inside the years reports cover, so
no date can push a fiscal year's start out of the calendar (a 500).

The limits are set low here (``MAX_LEDGER_LINES`` is one mapping, read per request), so
the small scenario of ``test_statements`` -- 26 journal lines, 7 of them on the bank
account 1210, the only cash account it uses -- is "too large"; nothing slow is posted.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from ledger_harness import Books, Harness, expect_problem
from test_statements import H1, SCENARIO

from saldo.reporting import domain as d
from saldo.reporting import render

pytestmark = pytest.mark.integration

LINES = sum(len(entries) for _, _, entries in SCENARIO)  # 26
BANK_LINES = sum(1 for _, _, entries in SCENARIO for a, _, _ in entries if a == "1210")  # 7


@pytest.fixture
async def books(h: Harness) -> Books:
    books = await h.books()
    await books.post_batch(SCENARIO)
    return books


async def get(books: Books, name: str, **params: Any) -> Any:
    return await books.h.client.get(books.url(f"/reports/{name}"), params=params,
                                    headers=books.clerk)


# ---------------------------------------------------------------------- line limits


async def test_a_general_ledger_over_its_formats_limit_is_refused_before_reading(
        books: Books, monkeypatch: pytest.MonkeyPatch) -> None:
    assert (LINES, BANK_LINES) == (26, 7)
    monkeypatch.setitem(d.MAX_LEDGER_LINES, "pdf", LINES - 1)
    monkeypatch.setitem(d.MAX_LEDGER_LINES, "xlsx", BANK_LINES)
    # Nothing may read a line once the count is over: the lines query would fail.
    from saldo.ledger import queries

    async def no_lines(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("journal lines read for a report over its limit")

    monkeypatch.setattr(queries, "account_lines", no_lines)
    r = await get(books, "general-ledger", **H1, format="pdf")
    body = expect_problem(r, 422, "report_too_large")
    assert (body["lines"], body["limit"], body["format"]) == (LINES, LINES - 1, "pdf")
    assert "Narrow the date range or choose an account" in body["detail"]
    # The account card of 1210 has 7 lines: as XLSX (limit 7) it is not too large...
    monkeypatch.undo()
    monkeypatch.setitem(d.MAX_LEDGER_LINES, "xlsx", BANK_LINES)
    monkeypatch.setitem(d.MAX_LEDGER_LINES, "pdf", BANK_LINES - 1)
    r = await get(books, "general-ledger", **H1, account="1210", format="xlsx")
    assert r.status_code == 200, r.text
    # ... as PDF (limit 6) it is; and its header 1200 counts the same 7 lines.
    for account in ("1210", "1200"):
        r = await get(books, "general-ledger", **H1, account=account, format="pdf")
        body = expect_problem(r, 422, "report_too_large")
        assert (body["lines"], body["limit"]) == (BANK_LINES, BANK_LINES - 1)
    # A narrower range fits: April to June has 5 bank lines.
    r = await get(books, "general-ledger", account="1210", date_from="2025-04-01",
                  date_to="2025-06-30", format="pdf")
    assert r.status_code == 200, r.text


async def test_json_and_csv_have_their_own_limit(books: Books,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(d.MAX_LEDGER_LINES, "json", LINES - 1)
    r = await get(books, "general-ledger", **H1)
    assert expect_problem(r, 422, "report_too_large")["format"] == "json"
    r = await get(books, "general-ledger", **H1, format="csv")
    assert r.status_code == 200, r.text
    monkeypatch.setitem(d.MAX_LEDGER_LINES, "json", LINES)
    r = await get(books, "general-ledger", **H1)
    assert r.status_code == 200, r.text
    assert sum(len(card["lines"]) for card in r.json()["accounts"]) == LINES


async def test_the_cash_flow_counts_the_lines_it_reads(books: Books,
                                                      monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    # The direct method reads the transactions of the cash accounts (7 bank lines) and of
    # the non-operating accounts (2150, 2250, 3210, 5150: 4 lines); the indirect one only
    # the latter.
    lines = BANK_LINES + 4
    monkeypatch.setitem(d.MAX_STATEMENT_LINES, "cash-flow", lines - 1)
    r = await get(books, "cash-flow", **H1, method="direct")
    body = expect_problem(r, 422, "report_too_large")
    assert (body["lines"], body["limit"]) == (lines, lines - 1)
    assert "format" not in body
    assert "indirect method" in body["detail"]
    r = await get(books, "cash-flow", **H1, method="indirect")
    assert r.status_code == 200, r.text
    monkeypatch.setitem(d.MAX_STATEMENT_LINES, "cash-flow", 3)
    r = await get(books, "cash-flow", **H1, method="indirect")
    assert expect_problem(r, 422, "report_too_large")["lines"] == 4
    monkeypatch.setitem(d.MAX_STATEMENT_LINES, "cash-flow", lines)
    r = await get(books, "cash-flow", **H1, method="direct")
    assert r.status_code == 200, r.text
    assert r.json()["net_change"] == "9080.00"


# ---------------------------------------------------------------------- off the event loop


async def test_a_slow_render_does_not_hold_other_requests(
        books: Books, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PDF whose rendering takes a second (a sleep in the renderer, standing in for a
    long document): /health answers while it renders, not after."""
    started: list[float] = []
    original = render.render

    def slow(*args: Any, **kwargs: Any) -> Any:
        started.append(time.monotonic())
        time.sleep(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(render, "render", slow)
    pdf = asyncio.create_task(books.h.client.get(
        books.url("/reports/general-ledger"), params={**H1, "format": "pdf"},
        headers=books.clerk))
    deadline = time.monotonic() + 10
    while not started and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    assert started, "the PDF never started rendering"
    health = await books.h.client.get("/health")
    answered = time.monotonic() - started[0]
    assert health.status_code == 200
    # Rendering on the event loop, /health would wait out the whole second.
    assert answered < 0.5, f"/health answered {answered:.2f} s into the render"
    assert not pdf.done()
    r = await pdf
    assert r.status_code == 200, r.text
    assert r.content.startswith(b"%PDF")
    assert time.monotonic() - started[0] >= 1


async def test_renders_run_on_the_render_threads(books: Books,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[str] = []
    original = render.render

    def record(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return original(*args, **kwargs)

    monkeypatch.setattr(render, "render", record)
    for fmt in ("csv", "xlsx", "pdf"):
        r = await get(books, "trial-balance", **H1, format=fmt)
        assert r.status_code == 200, r.text
    assert len(threads) == 3
    assert all(name.startswith("saldo-render") for name in threads), threads


# ---------------------------------------------------------------------- dates


@pytest.fixture
async def july(h: Harness) -> Books:
    """A company whose fiscal year starts on 1 July, with the scenario posted."""
    await h.user("chief")
    await h.user("clerk")
    chief = await h.headers("chief")
    r = await h.client.post("/api/v1/companies", headers=chief, json={
        "name": "Rustavi Harvest LLC", "tax_id": "404987321", "vat_payer": True,
        "fiscal_year_start_month": 7})
    assert r.status_code == 201, r.text
    company_id = r.json()["id"]
    await h.member(chief, company_id, "clerk", "accountant")
    books = Books(h, company_id, chief, await h.headers("clerk"))
    await books.post_batch(SCENARIO)
    return books


YEAR_ONE = "0001-03-01"  # its fiscal year would start on 0000-07-01
OUT_OF_RANGE: list[tuple[str, dict[str, str], str]] = [
    ("trial-balance", {"date_to": YEAR_ONE}, "date_to"),
    ("trial-balance", {"date_from": YEAR_ONE, "date_to": "2025-06-30"}, "date_from"),
    ("trial-balance", {"date_from": "2025-01-01", "date_to": "9999-12-31"}, "date_to"),
    ("general-ledger", {"date_to": YEAR_ONE}, "date_to"),
    ("general-ledger", {"date_from": "0001-01-01", "date_to": "9999-12-31",
                        "format": "pdf"}, "date_from"),
    ("balance-sheet", {"as_of": YEAR_ONE}, "as_of"),
    ("balance-sheet", {"as_of": "2025-06-30", "compare_to": YEAR_ONE}, "compare_to"),
    ("profit-and-loss", {"date_to": YEAR_ONE}, "date_to"),
    ("profit-and-loss", {**H1, "compare_from": "0001-01-01", "compare_to": YEAR_ONE},
     "compare_from"),
    ("cash-flow", {"date_to": YEAR_ONE}, "date_to"),
    ("cash-flow", {"date_to": YEAR_ONE, "method": "direct"}, "date_to"),
    ("changes-in-equity", {"date_to": YEAR_ONE}, "date_to"),
    ("changes-in-equity", {"date_from": "1899-12-31", "date_to": "2025-06-30"},
     "date_from"),
]


async def test_dates_outside_the_covered_years_are_422_never_500(july: Books) -> None:
    for name, params, field in OUT_OF_RANGE:
        r = await get(july, name, **params)
        body = expect_problem(r, 422, "invalid_date")
        assert body["field"] == field, (name, params, body)
        assert (body["earliest"], body["latest"]) == ("1900-01-01", "2999-12-31")
        assert body["value"] == params[field]


async def test_the_journal_export_takes_the_same_dates(july: Books) -> None:
    url = july.url("/export/journal")
    for params, field in (({"date_from": YEAR_ONE}, "date_from"),
                          ({"date_to": "3000-01-01"}, "date_to")):
        r = await july.h.client.get(url, params=params, headers=july.clerk)
        assert expect_problem(r, 422, "invalid_date")["field"] == field


async def test_the_first_and_last_covered_days_work_for_a_july_year(july: Books) -> None:
    """1900-03-01 lies in the fiscal year that starts on 1899-07-01: still a date."""
    for name, params in [("trial-balance", {"date_to": "1900-03-01"}),
                         ("balance-sheet", {"as_of": "1900-03-01", "compare_to": "2999-12-31"}),
                         ("profit-and-loss", {"date_to": "1900-01-01"}),
                         ("cash-flow", {"date_to": "1900-03-01", "method": "direct"}),
                         ("changes-in-equity", {"date_from": "1900-01-01",
                                                "date_to": "2999-12-31"}),
                         ("general-ledger", {"date_from": "1900-01-01",
                                             "date_to": "2999-12-31"})]:
        r = await get(july, name, **params)
        assert r.status_code == 200, (name, r.text)
    r = await get(july, "balance-sheet", as_of="2999-12-31")
    assert r.json()["total_assets"] == "12130.00"
