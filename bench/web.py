"""Web benchmark: server time of every page of the web application (saldo.web) over a
ledger of a million posted lines, through HTTP with a signed-in browser session
(issue 17, "Benchmark": p95 < 50 ms for every page).

Run it from the repository root::

    .venv/bin/python bench/web.py              # 1,000,000 lines, embedded PostgreSQL
    .venv/bin/python bench/web.py --quick      # 100,000 lines: a smoke run
    .venv/bin/python bench/web.py --database-url postgresql://user@host:5432/postgres

It loads the books as bench/reports.py does (the same generator, ``post_batch``, two
closed fiscal years, ANALYZE), starts ``saldo serve`` on a free port, signs in through
``POST /login`` (the session cookies, as a browser), and times each page, one request
at a time after a warm-up: p50/p95/p99 of the wall time of the request (the client is on
the same machine: what a person waits for, less the browser's rendering). The pages'
parameters cycle (months, accounts, transactions) so no page is answered from one warm
plan. Missed targets are reported, never turned into a failing exit code; a page that
does not answer 200 exits with status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from common import (
    ERRORS,
    ROOT,
    BenchError,
    Row,
    Run,
    SaldoServer,
    database_argument,
    describe,
    failed,
    headline,
    latency,
    machine,
    output_argument,
    progress,
    server,
    skip_sniffio_lookups,
    source_digests,
)
from reports import Bench as ReportsBench
from reports import Size as ReportsSize
from saldo.web import api as web_api
from saldo.web import service as web_service

skip_sniffio_lookups()

DEFAULT_OUTPUT = ROOT / "bench" / "results" / "web.json"
TARGET_MS = 50.0


@dataclass(frozen=True)
class Size:
    lines: int
    requests: int
    warmup: int

    @staticmethod
    def for_args(args: argparse.Namespace) -> Size:
        lines = args.lines or (100_000 if args.quick else 1_000_000)
        if args.quick:
            return Size(lines, requests=args.requests or 40, warmup=5)
        return Size(lines, requests=args.requests or 200, warmup=20)


class Bench(ReportsBench):
    def __init__(self, url: str, size: Size, seed: int, workdir: Path) -> None:
        super().__init__(url, ReportsSize(size.lines, size.requests, size.warmup, 1), seed,
                         workdir, 0, tools=False)
        self.web_size = size

    async def sample(self) -> tuple[list[str], list[str]]:
        """Transactions and accounts to cycle through."""
        assert self.admin is not None
        cursor = await self.admin.execute(
            "SELECT id FROM journal_transactions WHERE company_id = %s ORDER BY date DESC"
            " LIMIT 50", (self.company_id,))
        transactions = [str(r[0] if isinstance(r, tuple) else r["id"])
                        for r in await cursor.fetchall()]
        return transactions, ["1210", "6110", "7420", "3110", "1410"]

    def pages(self, transactions: list[str], accounts: list[str]
              ) -> dict[str, tuple[str, list[str]]]:
        base = f"/c/{self.company_id}"
        y = self.last_year

        def month_end(year: int, month: int) -> date:
            return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)

        months = [f"date_from={date(y, m, 1)}&date_to={month_end(y, m)}" for m in range(1, 13)]
        year = f"date_from={date(y, 1, 1)}&date_to={date(y, 12, 31)}"
        return {
            "dashboard": ("dashboard", [f"{base}/"]),
            "chart": ("chart of accounts", [f"{base}/accounts"]),
            "journal": ("journal, newest 50", [f"{base}/journal"]),
            "journal_filtered": ("journal, one account and month",
                                 [f"{base}/journal?account={a}&{m}"
                                  for a in accounts for m in months[:4]]),
            "transaction": ("transaction with history",
                            [f"{base}/journal/{t}" for t in transactions]),
            "entry": ("journal entry (the whole chart for the grid)", [f"{base}/journal/new"]),
            "approvals": ("approvals inbox", [f"{base}/approvals"]),
            "periods": ("fiscal periods", [f"{base}/periods?year={y}"]),
            "reports": ("reports list", [f"{base}/reports"]),
            "trial_balance": ("trial balance, one fiscal year",
                              [f"{base}/reports/trial-balance?{year}"]),
            "trial_balance_month": ("trial balance, one month",
                                    [f"{base}/reports/trial-balance?{m}" for m in months]),
            "balance_sheet": ("financial position", [f"{base}/reports/balance-sheet?{year}"]),
            "profit_and_loss": ("profit or loss, one year",
                                [f"{base}/reports/profit-and-loss?{year}"]),
            "account_card": ("account card, one account and month",
                             [f"{base}/accounts/{a}?{m}" for a in accounts
                              for m in months[:4]]),
            "users": ("users and roles", [f"{base}/users"]),
            "documents": ("documents, sales", [f"{base}/documents"]),
            "bill_form": ("new purchase bill (the chart and counterparties)",
                          [f"{base}/documents/new?side=purchases"]),
            "vat": ("VAT return of a month", [f"{base}/vat?period={y}-{m:02d}"
                                             for m in range(1, 13)]),
            "payroll": ("payroll runs", [f"{base}/payroll"]),
            "payroll_form": ("new payroll run", [f"{base}/payroll/new?period={y}-12"]),
            "bank": ("bank reconciliation", [f"{base}/bank"]),
        }

    async def sign_in(self, client: httpx.AsyncClient) -> None:
        page = await client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        if token is None:
            raise BenchError("no CSRF token on the sign-in page")
        r = await client.post("/login", data={"username": "chief", "password": self.password,
                                               "csrf_token": token.group(1), "next": "/"})
        if r.status_code != 303:
            raise BenchError(f"sign-in: {r.status_code} {r.text[:300]}")

    async def web(self, client: httpx.AsyncClient) -> list[Row]:
        transactions, accounts = await self.sample()
        rows: list[Row] = []
        stats: dict[str, Any] = {}

        async def get(path: str) -> float:
            start = time.perf_counter()
            r = await client.get(path)
            elapsed = time.perf_counter() - start
            if r.status_code != 200:
                raise BenchError(f"GET {path}: {r.status_code} {r.text[:300]}")
            return elapsed

        async def measure(paths: list[str]) -> dict[str, float]:
            for n in range(self.web_size.warmup):
                await get(paths[n % len(paths)])
            return latency([await get(paths[n % len(paths)])
                            for n in range(self.web_size.requests)])

        # The reference, measured in the same run by the same client: the sign-in page,
        # a template rendered with no query (what any page costs before its data). On a
        # loaded machine both grow; their ratio says what the page's own work costs.
        progress("reference: the sign-in page ...")
        reference = stats["reference_login"] = await measure(["/login"])
        for key, (label, paths) in self.pages(transactions, accounts).items():
            progress(f"{label}: {self.web_size.warmup} + {self.web_size.requests} requests ...")
            lat = stats[key] = await measure(paths)
            ratio = lat["p95"] / reference["p95"] if reference["p95"] else 0.0
            rows.append(Row(key, label, f"{lat['p95']:.1f} ms p95 (p50 {lat['p50']:.1f})",
                            f"sign-in page {reference['p95']:.1f} ms p95: ×{ratio:.1f}",
                            f"p95 < {TARGET_MS:.0f} ms", lat["p95"] < TARGET_MS,
                            {"latency_ms": lat, "reference_p95_ms": reference["p95"],
                             "ratio_p95": round(ratio, 2)}))
        self.extra["latency_ms"] = stats
        return rows

    async def http(self) -> list[Row]:
        async with SaldoServer(self.url, self.secret, self.workdir) as srv:
            async with httpx.AsyncClient(base_url=srv.base, timeout=120) as client:
                await self.sign_in(client)
                rows = await self.web(client)
            self.extra["saldo_serve"] = {"peak_rss_mib": srv.peak_mib()}
        return rows


async def bench(args: argparse.Namespace, size: Size, workdir: Path
                ) -> tuple[str, list[Row], dict[str, Any]]:
    async with server(args.database_url) as (url, label):
        runner = Bench(url, size, args.seed, workdir)
        try:
            await runner.setup()
            info = await runner.server_info(("fsync", "synchronous_commit", "shared_buffers",
                                             "work_mem", "jit"))
            progress(describe(info, "fsync", "shared_buffers", "work_mem"))
            rows = await runner.run()
            return label, rows, {"server": info, **runner.extra}
        finally:
            await runner.close()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Server time of the web application's "
                                     "pages over a million-line ledger.")
    database_argument(parser)
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 100,000 lines, 40 requests per page")
    parser.add_argument("--lines", type=int,
                        help="posted lines to load (default 1,000,000; quick 100,000)")
    parser.add_argument("--requests", type=int,
                        help="measured requests per page (default 200; quick 40)")
    parser.add_argument("--seed", type=int, default=20260501, help="journal generator seed")
    output_argument(parser, DEFAULT_OUTPUT)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    size = Size.for_args(args)
    run = Run()
    workdir = Path(tempfile.mkdtemp(prefix="saldo-bench-web-"))
    try:
        label, rows, extra = asyncio.run(bench(args, size, workdir))
    except ERRORS as exc:
        return failed(exc, f"(saldo serve's log is kept in {workdir})")
    shutil.rmtree(workdir, ignore_errors=True)
    run.stop()
    mode = "quick" if args.quick else "full"
    title = headline("web", extra["server"]["server_version"], label, mode, run.elapsed,
                     f"{size.lines:,} lines")
    return run.conclude(args.output, title, rows, {
        "benchmark": "web",
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": mode,
        "size": size.__dict__,
        "statistic": "nearest-rank percentiles of sequential requests after a warm-up",
        "target": label,
        "code": source_digests(web_api, web_service),
        "machine": machine(),
        **extra,
    })


if __name__ == "__main__":
    raise SystemExit(main())
