"""Reporting benchmark: statements over a ledger of a million posted lines and more,
through HTTP, against hledger and Ledger reading the same books (issue 5, "Benchmark").

Run it from the repository root::

    .venv/bin/python bench/reports.py                    # 1,000,000 lines, embedded PostgreSQL
    .venv/bin/python bench/reports.py --quick            # 100,000 lines: a smoke run
    .venv/bin/python bench/reports.py --ten-million      # 10,000,000 lines
    .venv/bin/python bench/reports.py --database-url postgresql://user@host:5432/postgres

With ``--database-url`` a throwaway database ``saldo_bench_<random>`` is created on that
server (the role needs CREATEDB) and dropped at the end, as the other benchmarks do.

What one run does, on one server and one database:

1. Loads ``--lines`` posted lines into one company with ``LedgerService.post_batch``
   (bench/posting.py's journal, from common.py: 2-4 lines per transaction, Georgian
   descriptions, dates spread over four fiscal years up to today), closes the two oldest
   fiscal years (so the profit or loss has closing entries to leave out, as real books
   do) and runs ANALYZE.
2. Starts ``saldo serve`` on a free port and logs in as an accountant.
3. Latency, one request at a time after a warm-up, of ``GET .../reports/``
   ``trial-balance`` for a month (the twelve months of last year in turn) and for a year
   (the three full fiscal years in turn), ``balance-sheet`` as of a month end with the
   comparative date a year earlier, ``profit-and-loss`` for a year to date with the
   comparative range a year earlier, and (issue 12) ``cash-flow`` by both methods and
   ``changes-in-equity`` for a month, which read the lines of their transactions:
   p50/p95/p99. Beside them: ``GET /health`` (the HTTP
   floor) and the year's trial balance computed in SQL from the journal lines themselves
   (what the turnover read model saves).
4. Exports the whole journal through ``GET .../export/journal?format=ledger`` and times
   ``hledger -f FILE balance`` and ``ledger -f FILE balance`` on it (wall time and peak
   memory of each), checks that both give, per account, the closing balances of Saldo's
   trial balance over the whole range, and prints the ratios of their times to Saldo's
   p95 of the year's trial balance.

Targets: each report's p95 < 100 ms at 1M lines (< 300 ms at 10M). Missed targets are
reported, never turned into a failing exit code; real errors (a rejected batch, a failed
request, totals that disagree) exit with status 1. A missing hledger or ledger is
reported and its rows left out (``apt-get install hledger ledger``).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

# Shared plumbing of the benchmarks (bench/ is on sys.path when a script in it runs).
from common import (
    BATCH,
    ERRORS,
    ROOT,
    AppBench,
    BenchError,
    Journal,
    Row,
    Run,
    SaldoServer,
    database_argument,
    describe,
    failed,
    headline,
    latency,
    login,
    machine,
    migrated,
    output_argument,
    progress,
    server,
    skip_sniffio_lookups,
    source_digests,
)
from saldo.identity.domain import Permission
from saldo.ledger import queries as ledger_queries
from saldo.ledger.domain import ContentInput
from saldo.reporting import api as reporting_api
from saldo.reporting import domain as reporting_domain
from saldo.reporting import service as reporting_service
from saldo.reporting.domain import journal as export_module

skip_sniffio_lookups()

DEFAULT_OUTPUT = ROOT / "bench" / "results" / "reports.json"
TEN_MILLION = 10_000_000

# The year's trial balance from the journal itself: what Saldo would run without the
# turnover read model (opening before the range, turnover inside it, per account).
JOURNAL_TRIAL_BALANCE = """
SELECT account_code,
       sum(debit_base) FILTER (WHERE entry_date < %(first)s) AS opening_debit,
       sum(credit_base) FILTER (WHERE entry_date < %(first)s) AS opening_credit,
       sum(debit_base) FILTER (WHERE entry_date >= %(first)s) AS debit,
       sum(credit_base) FILTER (WHERE entry_date >= %(first)s) AS credit
  FROM journal_lines
 WHERE company_id = %(company)s AND entry_date <= %(last)s
 GROUP BY account_code
"""


@dataclass(frozen=True)
class Size:
    lines: int
    requests: int  # measured requests per report
    warmup: int
    sql_queries: int

    @staticmethod
    def for_args(args: argparse.Namespace) -> Size:
        lines = args.lines or (TEN_MILLION if args.ten_million else
                               100_000 if args.quick else 1_000_000)
        if args.quick:
            return Size(lines, requests=args.requests or 40, warmup=5, sql_queries=3)
        return Size(lines, requests=args.requests or 200, warmup=20, sql_queries=5)

    @property
    def target_ms(self) -> float:
        return 100.0 if self.lines <= 1_000_000 else 300.0


@dataclass
class ToolRun:
    seconds: float
    peak_mib: float
    output: str


def run_tool(command: Sequence[str], timeout: float) -> ToolRun:
    """Wall time and peak resident memory (``wait4``) of one run of a command."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err)
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            err.seek(0)
            raise BenchError(f"{' '.join(command)} exited with {process.returncode}: "
                             f"{err.read().decode(errors='replace')[-500:]}")
        out.seek(0)
        return ToolRun(seconds, usage.ru_maxrss / 1024, out.read().decode())


def code_of(account: str) -> str:
    """``Assets:1110 Cash on hand, GEL`` -> ``1110``."""
    return account.split(":", 1)[1].split(" ", 1)[0]


def hledger_totals(output: str) -> dict[str, Decimal]:
    totals = {}
    for row in list(csv.reader(io.StringIO(output)))[1:]:
        totals[code_of(row[0])] = Decimal(row[1].rpartition(" ")[0])
    return totals


def ledger_totals(output: str) -> dict[str, Decimal]:
    totals = {}
    for line in output.splitlines():
        account, value = line.split("\t")
        totals[code_of(account)] = Decimal(value)
    return totals


def nonzero(totals: dict[str, Decimal]) -> dict[str, Decimal]:
    return {k: v for k, v in totals.items() if v}


class Bench(AppBench):
    def __init__(self, url: str, size: Size, seed: int, workdir: Path,
                 tool_timeout: float, tools: bool) -> None:
        super().__init__(url, seed, workdir)
        self.size = size
        self.tool_timeout, self.use_tools = tool_timeout, tools
        self.last_year = self.today.year - 1
        self.company_id: Any = None
        self.posted_lines = 0
        self.posted_transactions = 0

    async def setup(self) -> None:
        self.admin = await migrated(self.url)
        chief = await self.open()
        self.company_id = await self.company(chief, "Bench Reports LLC", "205000001")

    # ---------------------------------------------------------------- 1: the books

    async def load(self) -> list[Row]:
        ledger = self.container.ledger
        ctx = await self.container.identity.member_context(
            self.company_id, "chief", Permission.TRANSACTIONS_APPROVE)
        journal = Journal(self.seed, self.company_id, self.first_day, self.today)
        progress(f"loading {self.size.lines:,} posted lines with post_batch "
                 f"({BATCH:,} transactions a batch) ...")
        start = last = time.perf_counter()
        sizes: list[tuple[int, int]] = []  # (transactions, lines) of each batch handed out

        def batches() -> Iterator[Sequence[tuple[int, ContentInput]]]:
            planned = 0
            while planned < self.size.lines:
                batch = journal.batch()
                planned += len(batch.lines)
                sizes.append((batch.transactions, len(batch.lines)))
                yield batch.rows

        # post_batches: the next batch is checked while the previous one is written.
        async for result in ledger.post_batches(ctx, batches()):
            if not result.ok:
                raise BenchError(f"post_batch rejected a batch: {result.findings[:3]}")
            transactions, lines = sizes.pop(0)
            self.posted_lines += lines
            self.posted_transactions += transactions
            if time.perf_counter() - last > 30:
                last = time.perf_counter()
                progress(f"  {self.posted_lines:,} lines, "
                         f"{self.posted_transactions / (last - start):,.0f} tx/s")
        seconds = time.perf_counter() - start
        closer = await self.container.identity.member_context(
            self.company_id, "chief", Permission.PERIODS_CLOSE)
        for year in (self.today.year - 3, self.today.year - 2):
            await ledger.close_fiscal_year(closer, year)
        lines = await self.scalar("SELECT count(*) FROM journal_lines WHERE company_id = %s",
                                  (self.company_id,))
        if lines < self.posted_lines:
            raise BenchError(f"{lines} journal lines, {self.posted_lines} posted")
        assert self.admin is not None
        await self.admin.execute("ANALYZE")  # what autovacuum would have done by now
        turnover_rows = await self.scalar(
            "SELECT count(*) FROM account_turnover WHERE company_id = %s", (self.company_id,))
        self.extra["books"] = {"lines": lines, "transactions": self.posted_transactions,
                               "load_seconds": seconds, "turnover_rows": turnover_rows,
                               "first_day": self.first_day, "last_day": self.today}
        rate = self.posted_transactions / seconds
        return [Row("load", f"books: {lines:,} posted lines, {self.posted_transactions:,} tx "
                    f"over {self.first_day.year}-{self.today.year}",
                    f"{rate:,.0f} tx/s loaded", f"{turnover_rows:,} turnover rows", "-", None,
                    {"lines": lines, "tx_s": rate, "turnover_rows": turnover_rows})]

    # ---------------------------------------------------------------- 3: the reports

    def plans(self) -> dict[str, tuple[str, str, list[dict[str, str]]]]:
        """Per report: label, path, and the parameter sets it cycles through."""
        y = self.last_year

        def month_end(year: int, month: int) -> date:
            return (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1))

        months = [{"date_from": date(y, m, 1).isoformat(),
                   "date_to": month_end(y, m).isoformat()} for m in range(1, 13)]
        years = [{"date_from": date(year, 1, 1).isoformat(),
                  "date_to": date(year, 12, 31).isoformat()} for year in range(y - 2, y + 1)]
        sheets = [{"as_of": month_end(y, m).isoformat(),
                   "compare_to": month_end(y - 1, m).isoformat()} for m in range(1, 13)]
        profits = [{"date_from": date(y, 1, 1).isoformat(),
                    "date_to": month_end(y, m).isoformat(),
                    "compare_from": date(y - 1, 1, 1).isoformat(),
                    "compare_to": month_end(y - 1, m).isoformat()} for m in range(1, 13)]
        return {
            "tb_month": ("trial balance, one month", "/reports/trial-balance", months),
            "tb_year": ("trial balance, one fiscal year", "/reports/trial-balance", years),
            "balance_sheet": ("balance sheet, month end + comparative",
                              "/reports/balance-sheet", sheets),
            "profit_and_loss": ("profit and loss, year to date + comparative",
                                "/reports/profit-and-loss", profits),
            # Issue 12: the statements that read the lines of their transactions.
            "cash_flow_indirect": ("cash flows, one month, indirect", "/reports/cash-flow",
                                   [{**m, "method": "indirect"} for m in months]),
            "cash_flow_direct": ("cash flows, one month, direct", "/reports/cash-flow",
                                 [{**m, "method": "direct"} for m in months]),
            "changes_in_equity": ("changes in equity, one month",
                                  "/reports/changes-in-equity", months),
        }

    async def reports(self, client: httpx.AsyncClient, headers: dict[str, str]) -> list[Row]:
        base = f"/api/v1/companies/{self.company_id}"
        rows: list[Row] = []
        stats: dict[str, Any] = {}
        target = self.size.target_ms

        async def get(path: str, params: dict[str, str] | None = None) -> float:
            start = time.perf_counter()
            r = await client.get(path, params=params, headers=headers)
            elapsed = time.perf_counter() - start
            if r.status_code != 200:
                raise BenchError(f"GET {path} {params}: {r.status_code} {r.text[:300]}")
            return elapsed

        for key, (label, path, params) in self.plans().items():
            progress(f"{label}: {self.size.warmup} + {self.size.requests} requests ...")
            for n in range(self.size.warmup):
                await get(base + path, params[n % len(params)])
            timings = [await get(base + path, params[n % len(params)])
                       for n in range(self.size.requests)]
            lat = stats[key] = latency(timings)
            rows.append(Row(key, label, f"{lat['p95']:.1f} ms p95",
                            f"p50 {lat['p50']:.1f}, p99 {lat['p99']:.1f} ms",
                            f"p95 < {target:.0f} ms", lat["p95"] < target,
                            {"latency_ms": lat}))
        health = [await get("/health") for _ in range(self.size.requests)]
        stats["health"] = latency(health)
        rows.append(Row("health", "  GET /health (the HTTP floor)",
                        f"{stats['health']['p95']:.1f} ms p95", "-", "-", None,
                        {"latency_ms": stats["health"]}))
        rows.append(await self.journal_scan())
        self.extra["latency_ms"] = stats
        return rows

    async def journal_scan(self) -> Row:
        """The last year's trial balance in SQL from journal_lines (no read model)."""
        assert self.admin is not None
        params = {"company": self.company_id, "first": date(self.last_year, 1, 1),
                  "last": date(self.last_year, 12, 31)}
        timings = []
        for _ in range(self.size.sql_queries + 1):
            start = time.perf_counter()
            await (await self.admin.execute(JOURNAL_TRIAL_BALANCE, params)).fetchall()
            timings.append(time.perf_counter() - start)
        lat = latency(timings[1:])  # the first run warms the cache
        self.extra["journal_scan_ms"] = lat
        return Row("journal_scan", "  the year's trial balance in SQL over journal_lines",
                   f"{lat['p50']:,.0f} ms p50", "what the turnover read model saves", "-",
                   None, {"latency_ms": lat})

    # ---------------------------------------------------------------- 4: the tools

    async def tools(self, client: httpx.AsyncClient, headers: dict[str, str]) -> list[Row]:
        path = self.workdir / "books.ledger"
        progress("exporting the whole journal: GET .../export/journal?format=ledger ...")
        # Meanwhile /health is asked every 20 ms: how long other requests wait while an
        # export runs in the same server.
        probes: list[float] = []
        exporting = asyncio.Event()

        async def probe() -> None:
            await exporting.wait()
            while exporting.is_set():
                sent = time.perf_counter()
                await client.get("/health")
                probes.append(time.perf_counter() - sent)
                await asyncio.sleep(0.02)

        prober = asyncio.create_task(probe())
        start = time.perf_counter()
        size = 0
        try:
            async with client.stream(
                    "GET", f"/api/v1/companies/{self.company_id}/export/journal",
                    params={"format": "ledger"}, headers=headers, timeout=None) as r:
                if r.status_code != 200:
                    raise BenchError(f"export: {r.status_code} {(await r.aread())[:300]!r}")
                exporting.set()
                with path.open("wb") as out:
                    async for chunk in r.aiter_bytes():
                        out.write(chunk)
                        size += len(chunk)
        finally:
            exporting.clear()
            prober.cancel()
            await asyncio.gather(prober, return_exceptions=True)
        export_s = time.perf_counter() - start
        rate = self.posted_lines / export_s
        self.extra["export"] = {"seconds": export_s, "bytes": size, "lines_s": rate}
        rows = [Row("export", "journal export through HTTP (format=ledger, all years)",
                    f"{export_s:,.1f} s", f"{size / 2**20:,.0f} MiB, {rate:,.0f} lines/s",
                    "-", None, {"seconds": export_s, "bytes": size})]
        if probes:
            health = latency(probes)
            self.extra["health_during_export_ms"] = health
            rows.append(Row("export_health", "  GET /health while the export runs",
                            f"{health['p95']:,.1f} ms p95",
                            f"p50 {health['p50']:,.1f} ms, max {health['max']:,.0f} ms, "
                            f"{health['count']} requests", "-", None, {"latency_ms": health}))

        # Saldo's own figures for the whole range: the trial balance's closing balances.
        r = await client.get(f"/api/v1/companies/{self.company_id}/reports/trial-balance",
                             params={"date_from": self.first_day.isoformat(),
                                     "date_to": self.today.isoformat()}, headers=headers)
        if r.status_code != 200:
            raise BenchError(f"trial balance: {r.status_code} {r.text[:300]}")
        saldo = nonzero({row["code"]: Decimal(row["closing_debit"])
                         - Decimal(row["closing_credit"])
                         for row in r.json()["rows"] if row["postable"]})
        saldo_p95 = self.extra["latency_ms"]["tb_year"]["p95"] / 1000
        commands = {
            "hledger": (["balance", "--flat", "--no-total", "-O", "csv"], hledger_totals),
            "ledger": (["balance", "--flat", "--no-total", "--format",
                        "%(account)\t%(quantity(scrub(display_total)))\n"], ledger_totals),
        }
        for tool, (args, parse) in commands.items():
            binary = shutil.which(tool)
            if binary is None or not self.use_tools:
                why = "not installed (apt-get install hledger ledger)" if binary is None \
                    else "--no-tools"
                progress(f"{tool}: skipped, {why}")
                rows.append(Row(tool, f"{tool} balance on the export", "skipped", why))
                continue
            progress(f"{tool} -f books.ledger {' '.join(args[:3])} ... (timeout "
                     f"{self.tool_timeout:.0f} s)")
            try:
                run = await asyncio.to_thread(run_tool, [binary, "-f", str(path), *args],
                                              self.tool_timeout)
            except BenchError as exc:
                progress(f"{tool}: {exc}")
                rows.append(Row(tool, f"{tool} balance on the export", "failed", str(exc)[:80]))
                continue
            totals = nonzero(parse(run.output))
            if totals != saldo:
                differ = sorted(k for k in set(totals) | set(saldo)
                                if totals.get(k) != saldo.get(k))
                raise BenchError(f"{tool}'s totals differ from the trial balance: {differ[:10]}")
            ratio = run.seconds / saldo_p95
            self.extra[tool] = {"seconds": run.seconds, "peak_rss_mib": run.peak_mib,
                                "accounts": len(totals), "ratio_to_tb_year_p95": ratio,
                                "command": [tool, "-f", "FILE", *args]}
            rows.append(Row(tool, f"{tool} balance on the export ({len(totals)} accounts "
                            "= Saldo's)", f"{run.seconds:,.2f} s",
                            f"peak {run.peak_mib:,.0f} MiB", "-", None,
                            {"seconds": run.seconds, "peak_rss_mib": run.peak_mib}))
            rows.append(Row(f"{tool}_ratio", f"  {tool} time / Saldo's year trial balance p95",
                            f"{ratio:,.0f}x", "-", "-", None, {"ratio": ratio}))
        return rows

    async def http(self) -> list[Row]:
        async with SaldoServer(self.url, self.secret, self.workdir) as srv:
            self.extra["saldo_serve"] = {"pid": srv.pid, "port": srv.port}
            async with httpx.AsyncClient(base_url=srv.base, timeout=120) as client:
                headers = await login(client, "clerk", self.password)
                rows = await self.reports(client, headers)
                rows += await self.tools(client, headers)
            self.extra["saldo_serve"]["peak_rss_mib"] = srv.peak_mib()
        return rows

    async def run(self) -> list[Row]:
        rows = await self.load()
        rows += await self.http()
        return rows


# --------------------------------------------------------------------------- main


def tool_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for tool in ("hledger", "ledger"):
        binary = shutil.which(tool)
        versions[tool] = None
        if binary:
            done = subprocess.run([binary, "--version"], capture_output=True, timeout=30,
                                  check=False)
            versions[tool] = done.stdout.decode(errors="replace").splitlines()[0].strip() \
                if done.stdout else None
    return versions


async def bench(args: argparse.Namespace, size: Size, workdir: Path
                ) -> tuple[str, list[Row], dict[str, Any]]:
    async with server(args.database_url) as (url, label):
        runner = Bench(url, size, args.seed, workdir, args.tool_timeout, not args.no_tools)
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
    parser = argparse.ArgumentParser(description="Saldo's reports over a million-line "
                                     "ledger through HTTP, against hledger and Ledger.")
    database_argument(parser)
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 100,000 lines, 40 requests per report")
    parser.add_argument("--lines", type=int,
                        help="posted lines to load (default 1,000,000; quick 100,000)")
    parser.add_argument("--ten-million", action="store_true",
                        help=f"load {TEN_MILLION:,} lines (target p95 < 300 ms)")
    parser.add_argument("--requests", type=int,
                        help="measured requests per report (default 200; quick 40)")
    parser.add_argument("--no-tools", action="store_true",
                        help="skip hledger and ledger (the export is still timed)")
    parser.add_argument("--tool-timeout", type=float, default=1800,
                        help="seconds each tool may take (default 1800)")
    parser.add_argument("--seed", type=int, default=20260501, help="journal generator seed")
    output_argument(parser, DEFAULT_OUTPUT)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    size = Size.for_args(args)
    run = Run()
    workdir = Path(tempfile.mkdtemp(prefix="saldo-bench-reports-"))
    try:
        label, rows, extra = asyncio.run(bench(args, size, workdir))
    except ERRORS as exc:
        return failed(exc, "(saldo serve's log and the export, if they exist, are kept in "
                      f"{workdir})")
    shutil.rmtree(workdir, ignore_errors=True)
    run.stop()
    mode = "quick" if args.quick else "full"
    title = headline("reporting", extra["server"]["server_version"], label, mode, run.elapsed,
                     f"{size.lines:,} lines")
    return run.conclude(args.output, title, rows, {
        "benchmark": "reports",
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": mode,
        "size": size.__dict__,
        "statistic": "latencies: nearest-rank percentiles of sequential requests after a "
                     "warm-up; tools: one run each, wall time",
        "target": label,
        "code": source_digests(reporting_api, export_module, ledger_queries, reporting_service,
                               reporting_domain),
        "tools": tool_versions(),
        "machine": machine(),
        **extra,
    })


if __name__ == "__main__":
    sys.exit(main())
