"""Ledger posting benchmark: bulk posting, HTTP cycles and balances against raw references.

Run it from the repository root::

    .venv/bin/python bench/posting.py                    # embedded PostgreSQL, temp data dir
    .venv/bin/python bench/posting.py --quick            # a smoke run (under a minute)
    .venv/bin/python bench/posting.py --lines 10000000   # balances over 10 million lines
    .venv/bin/python bench/posting.py --database-url postgresql://user@host:5432/postgres

With ``--database-url`` a throwaway database ``saldo_bench_<random>`` is created on that
server (the role needs CREATEDB) and dropped at the end, as ``bench/eventstore.py`` does.

What is measured, in one run, on one server and one database (issue 4, "Benchmark"):

1. Bulk posting: ``LedgerService.post_batch`` of batches of 2,000 transactions of 2-4
   lines each (events, journal lines, turnover and transaction list all written), in
   transactions per second, against a raw ``COPY`` of the same journal-line rows (company,
   date, transaction id, line number, number, account, debit, credit, currency, amounts,
   description) into ``bench_raw_lines``, a plain table with no key, index or constraint.
   The reference copies each batch's lines in a transaction of its own, as post_batch
   posts each batch in one.
2. The same with every transaction touching one hot account (each has a 1210 line), into
   a second company, measured in the same rounds.
3. The journal is then filled up to ``--lines`` posted lines (post_batch again, timed as
   information), and a real ``saldo serve`` is started as a subprocess on a free port,
   pointed at the same database.
4. Balances as of random dates for random accounts, leaf and header, through
   ``GET .../accounts/{code}/balance?as_of=`` one request at a time: p50/p95/p99. Shown
   beside it: the same SQL without HTTP, the same sums computed from the journal
   (what the turnover read model saves), and ``GET /health`` (the HTTP floor).
5. HTTP cycles: 16 concurrent workers, each repeating create (accountant) -> approve
   (chief accountant: maker-checker) -> post (accountant): cycles/s, latency of a cycle
   and of each request, the server's peak resident memory (``VmHWM``) and CPU.

A round of the bulk measurement runs each of its four sides once (COPY and post_batch,
for both companies), rotating who goes first, after a CHECKPOINT. Rates are the median
over rounds, a ratio the median of the per-round ratios. Missed targets are reported,
never turned into a failing exit code; real errors (a rejected batch, a wrong row count,
a failed request, a dead server) exit with status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import psycopg

# Shared plumbing of the benchmarks (bench/ is on sys.path when a script in it runs).
from common import (
    BATCH,
    COUNTERPARTIES,
    ERRORS,
    LEAVES,
    ROOT,
    AppBench,
    Batch,
    BenchError,
    Journal,
    Row,
    Run,
    SaldoServer,
    checkpoint_allowed,
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
    rss,
    server,
    skip_sniffio_lookups,
    source_digests,
)
from saldo.identity.domain import Permission
from saldo.ledger import api as api_module
from saldo.ledger import projections as projections_module
from saldo.ledger import queries
from saldo.ledger import service as service_module
from saldo.ledger import store as store_module
from saldo.platform import eventstore as eventstore_module
from saldo.platform.runtime import freeze_startup_objects

skip_sniffio_lookups()

DEFAULT_OUTPUT = ROOT / "bench" / "results" / "posting.json"

CONCURRENCY = 16
#: Issue 10's targets for bulk posting (the posting port carries every context's postings).
BULK_TARGET = 20_000
RATIO_TARGET = 0.2
HOT_ACCOUNT = "1210"
#: The group and class headers of the journal's accounts (common.LEAVES): a header's
#: balance sums its subtree.
HEADERS = ("1000", "1100", "1200", "1400", "1600", "2000", "2100", "3000", "3100", "3300",
           "5000", "5100", "6000", "6100", "7000", "7100", "7300", "7400", "8000", "8100",
           "8200")

RAW_TABLE = """
CREATE TABLE bench_raw_lines (
    company_id      uuid,
    entry_date      date,
    transaction_id  uuid,
    line_no         smallint,
    number          integer,
    account_code    text,
    debit           numeric(20, 2),
    credit          numeric(20, 2),
    currency        char(3),
    amount_debit    numeric(20, 3),
    amount_credit   numeric(20, 3),
    description     text
);
"""
RAW_COLUMNS = ("company_id, entry_date, transaction_id, line_no, number, account_code, debit,"
               " credit, currency, amount_debit, amount_credit, description")
# Text COPY, rows written with psycopg's C dumpers: the fastest plain way found to load
# these rows from Python. (Binary COPY with set_types() was measured too, while writing
# this script: about 0.8x of text here, numeric's binary form being costly to build.)
RAW_COPY = f"COPY bench_raw_lines ({RAW_COLUMNS}) FROM STDIN"

# What a ledger without the turnover read model would run: the journal itself.
JOURNAL_SCAN = """
WITH RECURSIVE tree AS (
    SELECT code FROM accounts WHERE company_id = %(company)s AND code = %(code)s
    UNION ALL
    SELECT a.code FROM accounts a JOIN tree ON a.parent_code = tree.code
     WHERE a.company_id = %(company)s
)
SELECT coalesce(sum(debit_base), 0) AS debit, coalesce(sum(credit_base), 0) AS credit
  FROM journal_lines
 WHERE company_id = %(company)s AND entry_date <= %(as_of)s
   AND account_code IN (SELECT code FROM tree)
"""


# --------------------------------------------------------------------------- sizes


@dataclass(frozen=True)
class Size:
    rounds: int
    transactions: int  # per company (spread and hot), over all rounds
    lines: int  # posted lines in the balance company before balances are queried
    balance_queries: int
    scan_queries: int  # journal-scan reference queries (slow by design)
    http_seconds: float
    http_warmup_seconds: float

    @staticmethod
    def for_args(args: argparse.Namespace) -> Size:
        size = (Size(rounds=3, transactions=6_000, lines=100_000, balance_queries=300,
                     scan_queries=30, http_seconds=5, http_warmup_seconds=1) if args.quick
                else Size(rounds=5, transactions=200_000, lines=1_000_000,
                          balance_queries=2_000, scan_queries=100, http_seconds=30,
                          http_warmup_seconds=3))
        size = replace(size, rounds=args.rounds or size.rounds,
                       transactions=args.transactions or size.transactions,
                       lines=args.lines or size.lines)
        if size.lines > 2_000_000:  # a journal scan of millions of lines takes seconds
            size = replace(size, scan_queries=min(size.scan_queries, 20))
        return size

    @property
    def batches_per_round(self) -> int:
        return max(1, round(self.transactions / self.rounds / BATCH))


# --------------------------------------------------------------------------- the run


@dataclass
class Company:
    id: uuid.UUID
    journal: Journal
    posted_transactions: int = 0
    posted_lines: int = 0


class Bench(AppBench):
    def __init__(self, url: str, size: Size, seed: int, workdir: Path) -> None:
        super().__init__(url, seed, workdir)
        self.size = size
        self.copier: psycopg.AsyncConnection[Any] | None = None
        self.can_checkpoint = False
        self.companies: dict[str, Company] = {}
        self.raw_lines = 0
        self.rss: dict[str, dict[str, float | None]] = {}
        self.cpu = CpuMeter(None)

    # ---------------------------------------------------------------- setup

    async def setup(self) -> None:
        self.admin = await migrated(self.url)
        await self.admin.execute(RAW_TABLE)
        self.can_checkpoint = await checkpoint_allowed(self.admin)
        self.copier = await psycopg.AsyncConnection.connect(self.url)
        self.cpu = CpuMeter(await self.postmaster())
        chief = await self.open()
        for n, (key, name, hot) in enumerate((("spread", "Bench Spread LLC", None),
                                              ("hot", "Bench Hot LLC", HOT_ACCOUNT))):
            company_id = await self.company(chief, name, f"20{n:07d}")
            self.companies[key] = Company(company_id, Journal(
                self.seed + n, company_id, self.first_day, self.today, hot))
        self.rss["after_setup"] = rss()

    async def close(self) -> None:
        await super().close()
        if self.copier is not None:
            await self.copier.close()

    async def checkpoint(self) -> None:
        if self.can_checkpoint and self.admin is not None:
            await self.admin.execute("CHECKPOINT")

    async def postmaster(self) -> int | None:
        """The PostgreSQL server's process id, if it runs on this machine."""
        backend = await self.scalar("SELECT pg_backend_pid()")
        fields = _stat(backend) if is_postgres(backend) else None
        return int(fields[1]) if fields else None

    # ---------------------------------------------------------------- the two sides

    async def post(self, key: str, batches: Sequence[Batch]) -> float:
        """post_batch every batch (each all-or-nothing, one database transaction)."""
        company = self.companies[key]
        ctx = await self.container.identity.member_context(
            company.id, "chief", Permission.TRANSACTIONS_APPROVE)
        ledger = self.container.ledger
        start = time.perf_counter()
        posted = 0
        # post_batches: the next batch is checked while the previous one is written.
        async for result in ledger.post_batches(ctx, [batch.rows for batch in batches]):
            if not result.ok:
                raise BenchError(f"post_batch rejected a batch: {result.findings[:3]}")
            posted += len(result.posted)
        if posted != sum(b.transactions for b in batches):
            raise BenchError(f"post_batches posted {posted} transactions")
        seconds = time.perf_counter() - start
        company.posted_transactions += sum(b.transactions for b in batches)
        company.posted_lines += sum(len(b.lines) for b in batches)
        return seconds

    async def copy(self, batches: Sequence[Batch]) -> float:
        """COPY every batch's lines, one transaction per batch."""
        conn = self.copier
        assert conn is not None
        start = time.perf_counter()
        for batch in batches:
            async with conn.transaction(), conn.cursor() as cur, cur.copy(RAW_COPY) as copy:
                for line in batch.lines:
                    await copy.write_row(line)
        seconds = time.perf_counter() - start
        self.raw_lines += sum(len(b.lines) for b in batches)
        return seconds

    # ---------------------------------------------------------------- 1 and 2: bulk

    async def bulk(self) -> list[Row]:
        size = self.size
        per_round = size.batches_per_round
        progress(f"bulk posting: {size.rounds} rounds x {per_round} batches x {BATCH:,} "
                 "transactions per company (spread accounts; hot account "
                 f"{HOT_ACCOUNT}), against COPY of the same lines ...")
        # Warm-up, untimed: opens the fiscal years (partitions), fills the caches and
        # psycopg's prepared statements.
        for key in ("spread", "hot"):
            batch = self.companies[key].journal.batch()
            await self.post(key, [batch])
            await self.copy([batch])
        rates: dict[str, list[float]] = {s: [] for s in ("copy_spread", "spread", "copy_hot",
                                                         "hot")}
        cpu: dict[str, list[dict[str, float | None]]] = {s: [] for s in rates}
        for n in range(size.rounds):
            work = {key: [self.companies[key].journal.batch() for _ in range(per_round)]
                    for key in ("spread", "hot")}
            # The round's input (80,000 transactions built ahead, with their COPY rows) is
            # the load generator's, not Saldo's: out of the collector's sight, as
            # bench/eventstore.py and the long-running processes freeze what they hold.
            freeze_startup_objects()
            transactions = per_round * BATCH
            sides: list[tuple[str, Callable[[], Awaitable[float]]]] = [
                ("copy_spread", partial(self.copy, work["spread"])),
                ("spread", partial(self.post, "spread", work["spread"])),
                ("copy_hot", partial(self.copy, work["hot"])),
                ("hot", partial(self.post, "hot", work["hot"]))]
            shift = n % len(sides)
            for name, run in sides[shift:] + sides[:shift]:
                await self.checkpoint()
                before = self.cpu.snapshot()
                rates[name].append(transactions / await run())
                cpu[name].append(CpuMeter.cores(before, self.cpu.snapshot()))
            progress(f"  round {n + 1}: " + ", ".join(
                f"{name} {values[-1]:,.0f}" for name, values in rates.items()) + " tx/s")
        await self.verify()
        self.rss["after_bulk"] = rss()
        lines = sum(self.companies[k].journal.lines for k in ("spread", "hot"))
        txs = sum(self.companies[k].journal.seq for k in ("spread", "hot"))
        self.extra["bulk"] = {"rounds": rates, "transactions_per_round": per_round * BATCH,
                              "batch": BATCH, "mean_lines_per_transaction": lines / txs,
                              "cpu_cores": cpu}

        def used(side: str, who: str) -> str:
            values = [c[who] for c in cpu[side]]
            clean = [v for v in values if v is not None]
            return cores_text(statistics.median(clean) if clean else None)

        def ratios(side: str, reference: str) -> list[float]:
            return [s / r for s, r in zip(rates[side], rates[reference], strict=True)]

        spread, hot = statistics.median(rates["spread"]), statistics.median(rates["hot"])
        copy_spread = statistics.median(rates["copy_spread"])
        copy_hot = statistics.median(rates["copy_hot"])
        ratio = statistics.median(ratios("spread", "copy_spread"))
        hot_ratio = statistics.median(ratios("hot", "copy_hot"))
        hot_vs_spread = statistics.median(ratios("hot", "spread"))
        total = size.rounds * per_round * BATCH
        return [
            Row("bulk_spread", f"post_batch, {total:,} tx of 2-4 lines, spread accounts",
                f"{spread:,.0f} tx/s", f"COPY {copy_spread:,.0f} tx/s", f">= {BULK_TARGET:,} tx/s",
                spread >= BULK_TARGET, {"median_tx_s": spread, "reference_tx_s": copy_spread}),
            Row("bulk_spread_ratio", "  ratio post_batch / COPY of the same lines",
                f"{ratio:.3f}", "1.0 = COPY", f">= {RATIO_TARGET}", ratio >= RATIO_TARGET,
                {"ratio": ratio}),
            Row("bulk_spread_cpu", "  CPU cores used: bench (Python) / PostgreSQL",
                f"{used('spread', 'bench')} / {used('spread', 'postgres')}",
                f"COPY {used('copy_spread', 'bench')} / {used('copy_spread', 'postgres')}"),
            Row("bulk_hot", f"post_batch, {total:,} tx, every one with a {HOT_ACCOUNT} line",
                f"{hot:,.0f} tx/s", f"COPY {copy_hot:,.0f} tx/s (ratio {hot_ratio:.3f})",
                "-", None, {"median_tx_s": hot, "reference_tx_s": copy_hot,
                            "ratio": hot_ratio}),
            Row("bulk_hot_vs_spread", "  hot / spread (per-round median)",
                f"{hot_vs_spread:.2f}", "-", ">= 0.7", hot_vs_spread >= 0.7,
                {"ratio": hot_vs_spread}),
        ]

    async def verify(self) -> None:
        """Every posted line is in journal_lines and the turnover, and debits = credits."""
        for key, company in self.companies.items():
            lines = await self.scalar(
                "SELECT count(*) FROM journal_lines WHERE company_id = %s", (company.id,))
            turnover = await self.scalar(
                "SELECT coalesce(sum(lines), 0) FROM account_turnover WHERE company_id = %s",
                (company.id,))
            unbalanced = await self.scalar(
                "SELECT coalesce(sum(debit_base) - sum(credit_base), 0) FROM account_turnover"
                " WHERE company_id = %s", (company.id,))
            if not lines == turnover == company.posted_lines or unbalanced != 0:
                raise BenchError(f"{key}: {lines} journal lines, {turnover} in the turnover, "
                                 f"{company.posted_lines} posted, debit - credit {unbalanced}")
        raw = await self.scalar("SELECT count(*) FROM bench_raw_lines")
        if raw != self.raw_lines:
            raise BenchError(f"bench_raw_lines holds {raw} rows, expected {self.raw_lines}")

    # ---------------------------------------------------------------- 3: fill the journal

    async def fill(self) -> list[Row]:
        company = self.companies["spread"]
        missing = self.size.lines - company.posted_lines
        if missing <= 0:
            return []
        progress(f"filling the journal to {self.size.lines:,} lines with post_batch "
                 f"({missing:,} more) ...")
        transactions, lines, seconds = 0, 0, 0.0
        last = time.perf_counter()
        while company.posted_lines < self.size.lines:
            # Ten batches at a time, pipelined (post_batches), or what is left to fill.
            group: list[Batch] = []
            planned = company.posted_lines
            while len(group) < 10 and planned < self.size.lines:
                group.append(company.journal.batch())
                planned += len(group[-1].lines)
            seconds += await self.post("spread", group)
            transactions += sum(b.transactions for b in group)
            lines += sum(len(b.lines) for b in group)
            if time.perf_counter() - last > 30:
                last = time.perf_counter()
                progress(f"  {company.posted_lines:,} lines, {transactions / seconds:,.0f} tx/s")
        await self.verify()
        assert self.admin is not None
        # What autovacuum would have done by now on a live server: fresh planner statistics.
        await self.admin.execute("ANALYZE accounts, account_turnover, journal_lines")
        self.rss["after_fill"] = rss()
        rate = transactions / seconds
        return [Row("fill", f"  post_batch filling the journal ({transactions:,} tx)",
                    f"{rate:,.0f} tx/s", f"{lines / seconds:,.0f} lines/s", "-", None,
                    {"tx_s": rate, "transactions": transactions, "lines": lines})]

    # ---------------------------------------------------------------- 4 and 5: HTTP

    async def http(self) -> list[Row]:
        async with SaldoServer(self.url, self.secret, self.workdir) as srv:
            self.extra["saldo_serve"] = {"pid": srv.pid, "port": srv.port}
            limits = httpx.Limits(max_connections=CONCURRENCY * 2,
                                  max_keepalive_connections=CONCURRENCY * 2)
            async with httpx.AsyncClient(base_url=srv.base, limits=limits,
                                         timeout=60) as client:
                headers = {name: await login(client, name, self.password)
                           for name in ("chief", "clerk")}
                sampler = asyncio.create_task(srv.sample_rss())
                try:
                    rows = await self.balances(client, headers["clerk"])
                    srv.mark("after_balances")
                    rows += await self.cycles(client, headers, srv)
                    srv.mark("after_cycles")
                finally:
                    sampler.cancel()
            peak = srv.peak_mib()
            self.extra["saldo_serve"].update(
                {"rss_mib": srv.marks, "peak_rss_mib": peak, "start_rss_mib": srv.start_rss})
            rows.append(Row("server_rss", "saldo serve peak RSS (VmHWM, whole run)",
                            f"{peak:,.0f} MiB", f"{srv.start_rss:,.0f} MiB after start",
                            "< 300 MB", peak * 2**20 < 300e6, {"peak_mib": peak}))
        return rows

    async def balances(self, client: httpx.AsyncClient, headers: dict[str, str]) -> list[Row]:
        company = self.companies["spread"]
        rng = random.Random(self.seed * 7)
        span = (self.today - self.first_day).days + 360

        def query() -> tuple[str, date]:
            code = rng.choice(LEAVES if rng.random() < 0.5 else HEADERS)
            return code, self.first_day + timedelta(days=rng.randrange(span) - 180)

        n = self.size.balance_queries
        progress(f"balances: {n:,} GET .../balance?as_of= one at a time, over "
                 f"{company.posted_lines:,} posted lines ...")
        path = f"/api/v1/companies/{company.id}/accounts/{{}}/balance"

        async def get(code: str, day: date) -> dict[str, Any]:
            r = await client.get(path.format(code), params={"as_of": day.isoformat()},
                                 headers=headers)
            if r.status_code != 200:
                raise BenchError(f"balance {code} as of {day}: {r.status_code} {r.text[:300]}")
            return dict(r.json())

        for _ in range(50):  # warm-up
            await get(*query())
        asked = [query() for _ in range(n)]
        timings: list[float] = []
        answers: list[dict[str, Any]] = []
        for code, day in asked:
            start = time.perf_counter()
            answers.append(await get(code, day))
            timings.append(time.perf_counter() - start)
        health: list[float] = []
        for _ in range(max(50, n // 4)):
            start = time.perf_counter()
            r = await client.get("/health")
            health.append(time.perf_counter() - start)
            if r.status_code != 200:
                raise BenchError(f"/health answered {r.status_code}")
        # The same questions without HTTP, and against the journal itself; the journal's
        # answers check the read model's.
        assert self.admin is not None
        conn = self.admin
        postable = {r["code"]: r["postable"] for r in await (await conn.execute(
            "SELECT code, postable FROM accounts WHERE company_id = %s",
            (company.id,))).fetchall()}
        sql: list[float] = []
        for code, day in asked:
            start = time.perf_counter()
            await queries.balance(conn, company.id, code, day, postable=postable[code])
            sql.append(time.perf_counter() - start)
        scan: list[float] = []
        for (code, day), answer in list(zip(asked, answers, strict=True))[:self.size.scan_queries]:
            start = time.perf_counter()
            row = await (await conn.execute(JOURNAL_SCAN, {
                "company": company.id, "code": code, "as_of": day})).fetchone()
            scan.append(time.perf_counter() - start)
            assert row is not None
            if (f"{row['debit']:.2f}", f"{row['credit']:.2f}") != (answer["debit"],
                                                                   answer["credit"]):
                raise BenchError(f"balance of {code} as of {day}: API {answer}, journal {row}")
        stats = {"http": latency(timings), "sql": latency(sql), "journal_scan": latency(scan),
                 "health": latency(health)}
        self.extra["balances"] = {**stats, "lines": company.posted_lines,
                                  "turnover_rows": await self.scalar(
                                      "SELECT count(*) FROM account_turnover"
                                      " WHERE company_id = %s", (company.id,))}
        h, s, j, f = (stats[k] for k in ("http", "sql", "journal_scan", "health"))
        return [
            Row("balance_p95", f"balance as of a date, {company.posted_lines:,} lines, p95",
                f"{h['p95']:.1f} ms", f"/health p95 {f['p95']:.1f} ms", "p95 < 20 ms",
                h["p95"] < 20, {"latency_ms": h}),
            Row("balance_p50_p99", "  p50 / p99", f"{h['p50']:.1f} / {h['p99']:.1f} ms",
                f"/health {f['p50']:.1f} / {f['p99']:.1f} ms"),
            Row("balance_sql", "  the same SQL without HTTP, p50 / p95",
                f"{s['p50']:.2f} / {s['p95']:.2f} ms",
                f"journal scan {j['p50']:.0f} / {j['p95']:.0f} ms ({j['count']} queries)",
                "-", None, {"sql_ms": s, "journal_scan_ms": j}),
        ]

    async def cycles(self, client: httpx.AsyncClient, headers: dict[str, dict[str, str]],
                     srv: SaldoServer) -> list[Row]:
        company = self.companies["spread"]
        base = f"/api/v1/companies/{company.id}/transactions"
        year_start = date(self.today.year, 1, 1)
        days = (self.today - year_start).days + 1
        timings: dict[str, list[float]] = {"cycle": [], "create": [], "approve": [], "post": []}
        errors: list[str] = []

        async def request(kind: str, url: str, who: str, body: Any = None) -> dict[str, Any]:
            start = time.perf_counter()
            r = await client.post(url, json=body, headers=headers[who])
            seconds = time.perf_counter() - start
            if r.status_code not in (200, 201):
                errors.append(f"{kind}: {r.status_code} {r.text[:200]}")
                raise BenchError(errors[-1])
            if measuring:
                timings[kind].append(seconds)
            return dict(r.json())

        async def worker(n: int, until: float) -> int:
            rng = random.Random(self.seed * 1000 + n)
            done = 0
            while time.perf_counter() < until:
                accounts = rng.sample(LEAVES, 2)
                amount = f"{Decimal(rng.randrange(100, 500_000)).scaleb(-2)}"
                body = {"date": (year_start + timedelta(days=rng.randrange(days))).isoformat(),
                        "description": f"Cycle {n}-{done}: {rng.choice(COUNTERPARTIES)}",
                        "entries": [{"account_code": accounts[0], "debit": amount},
                                    {"account_code": accounts[1], "credit": amount}]}
                start = time.perf_counter()
                tx = await request("create", base, "clerk", body)
                await request("approve", f"{base}/{tx['id']}/approve", "chief")
                posted = await request("post", f"{base}/{tx['id']}/post", "clerk")
                if posted["status"] != "posted" or posted["number"] is None:
                    raise BenchError(f"post answered {posted}")
                if measuring:
                    timings["cycle"].append(time.perf_counter() - start)
                done += 1
            return done

        progress(f"HTTP cycles: {CONCURRENCY} workers, create -> approve -> post, "
                 f"{self.size.http_warmup_seconds:g} s warm-up + {self.size.http_seconds:g} s ...")
        measuring = False
        until = time.perf_counter() + self.size.http_warmup_seconds
        await asyncio.gather(*(worker(n, until) for n in range(CONCURRENCY)))
        measuring = True
        server_before, before = srv.cpu_seconds(), self.cpu.snapshot()
        start = time.perf_counter()
        until = start + self.size.http_seconds
        counts = await asyncio.gather(*(worker(n, until) for n in range(CONCURRENCY)))
        elapsed = time.perf_counter() - start
        used = CpuMeter.cores(before, self.cpu.snapshot())
        server_cpu = (srv.cpu_seconds() - server_before) / elapsed
        cycles = sum(counts)
        # Gap-free numbering under concurrency: as many posted as the counter says.
        year = self.today.year
        posted = await self.scalar(
            "SELECT count(*) FROM journal_transactions WHERE company_id = %s AND fiscal_year = %s"
            " AND status = 'posted'", (company.id, year))
        last = await self.scalar(
            "SELECT last_number FROM transaction_numbers WHERE company_id = %s"
            " AND fiscal_year = %s", (company.id, year))
        if posted != last:
            raise BenchError(f"{posted} transactions posted in {year}, last number {last}")
        rate = cycles / elapsed
        lat = {k: latency(v) for k, v in timings.items()}
        c = lat["cycle"]
        self.extra["cycles"] = {"cycles": cycles, "seconds": elapsed, "latency_ms": lat,
                                "cpu_cores": {"server": server_cpu, **used}}
        return [
            Row("cycles", f"HTTP create -> approve -> post, {CONCURRENCY} concurrent",
                f"{rate:,.0f} cycles/s", "-", ">= 250 cycles/s", rate >= 250,
                {"cycles_s": rate, "cycles": cycles}),
            Row("cycles_cpu", "  CPU cores used: server / PostgreSQL / client",
                f"{server_cpu:.2f} / {cores_text(used['postgres'])} / "
                f"{cores_text(used['bench'])}",
                f"machine {used['machine_busy'] or 0:.0%} busy (of {os.cpu_count()} CPUs)"),
            Row("cycle_p99", "  cycle latency p50 / p99", f"{c['p50']:.0f} / {c['p99']:.0f} ms",
                "-", "p99 < 100 ms", c["p99"] < 100, {"latency_ms": c}),
            *[Row(f"cycle_{k}", f"  {k} p50 / p99",
                  f"{lat[k]['p50']:.1f} / {lat[k]['p99']:.1f} ms")
              for k in ("create", "approve", "post")],
        ]

    async def run(self) -> list[Row]:
        rows = await self.bulk()
        rows += await self.fill()
        rows += await self.http()
        return rows


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def machine_busy(before: tuple[int, int], after: tuple[int, int]) -> float:
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total else 0.0


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name: [state, ppid, ..., utime (11), stime (12),
    cutime (13), cstime (14), ...]."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def is_postgres(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "postgres"
    except OSError:
        return False


def process_cpu(pid: int, children_reaped: bool = False) -> float:
    """CPU seconds of a process (and of its children that have exited, if asked)."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    used = int(fields[11]) + int(fields[12])
    if children_reaped:
        used += int(fields[13]) + int(fields[14])
    return used / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU time of this process, of PostgreSQL (the postmaster, its live children and the
    children it has reaped: only when the server runs on this machine) and of the machine.
    """

    def __init__(self, postmaster: int | None) -> None:
        self.postmaster = postmaster

    def postgres(self) -> float | None:
        if not self.postmaster:
            return None
        total = process_cpu(self.postmaster, children_reaped=True)
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                fields = _stat(int(entry.name))
                if fields is not None and fields[1] == str(self.postmaster):
                    total += process_cpu(int(entry.name))
        return total

    def snapshot(self) -> dict[str, Any]:
        return {"wall": time.perf_counter(), "bench": time.process_time(),
                "postgres": self.postgres(), "machine": machine_cpu()}

    @staticmethod
    def cores(before: dict[str, Any], after: dict[str, Any]) -> dict[str, float | None]:
        """Average cores used between two snapshots, and how busy the machine was."""
        wall = after["wall"] - before["wall"]
        pg = (after["postgres"] - before["postgres"]) / wall \
            if after["postgres"] is not None and before["postgres"] is not None else None
        return {"bench": (after["bench"] - before["bench"]) / wall, "postgres": pg,
                "machine_busy": machine_busy(before["machine"], after["machine"])}


def cores_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


# --------------------------------------------------------------------------- main


@dataclass
class Report:
    label: str
    rows: list[Row]
    extra: dict[str, Any]


async def bench(args: argparse.Namespace, size: Size, workdir: Path) -> Report:
    async with server(args.database_url) as (url, label):
        runner = Bench(url, size, args.seed, workdir)
        try:
            await runner.setup()
            info = await runner.server_info(("fsync", "synchronous_commit", "shared_buffers",
                                             "max_wal_size", "jit"))
            progress(describe(info, "fsync", "synchronous_commit", "shared_buffers"))
            rows = await runner.run()
            extra = {"server": info, "checkpoint_between_sides": runner.can_checkpoint,
                     "rss_mib_by_phase": runner.rss, **runner.extra}
            return Report(label, rows, extra)
        finally:
            await runner.close()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Saldo's ledger posting against raw COPY, "
                                     "HTTP cycles and balances.")
    database_argument(parser)
    parser.add_argument("--quick", action="store_true", help="a smoke run (under a minute)")
    parser.add_argument("--rounds", type=int, help="timed rounds of the bulk measurement")
    parser.add_argument("--transactions", type=int,
                        help="bulk transactions per company (default 200,000; quick 6,000)")
    parser.add_argument("--lines", type=int, help="posted lines before balances are queried "
                        "(default 1,000,000; quick 100,000)")
    parser.add_argument("--seed", type=int, default=20260101, help="journal generator seed")
    output_argument(parser, DEFAULT_OUTPUT)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    size = Size.for_args(args)
    run = Run()
    workdir = Path(tempfile.mkdtemp(prefix="saldo-bench-posting-"))
    try:
        report = asyncio.run(bench(args, size, workdir))
    except ERRORS as exc:
        return failed(exc, f"(saldo serve's log, if it ran, is kept in {workdir})")
    shutil.rmtree(workdir, ignore_errors=True)
    run.stop()
    mode = "quick" if args.quick else "full"
    title = headline("ledger posting", report.extra["server"]["server_version"], report.label,
                     mode, run.elapsed)
    return run.conclude(args.output, title, report.rows, {
        "benchmark": "posting",
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": mode,
        "size": size.__dict__,
        "statistic": "bulk: median of rounds, ratio = median of per-round ratios; "
                     "latencies: nearest-rank percentiles",
        "target": report.label,
        "code": source_digests(service_module, store_module, projections_module, api_module,
                               eventstore_module),
        "machine": machine(),
        **report.extra,
    })


if __name__ == "__main__":
    sys.exit(main())
