"""Banking benchmark (issue 16, "Benchmark"): 10,000 statement lines against 50,000 open
documents -- import and suggestions for every line in < 5 s in total, and the
unreconciled list's first page p95 < 100 ms.

Run it from the repository root::

    .venv/bin/python bench/banking.py                  # 10,000 lines, 50,000 documents
    .venv/bin/python bench/banking.py --quick          # 1,000 lines, 5,000 documents
    .venv/bin/python bench/banking.py --database-url postgresql://user@host:5432/postgres

What one run does:

1. Builds a camt.053.001.08 file of ``--lines`` entries for one month (customers paying
   invoices, naming the invoice number in three lines of four; fees and rent going out)
   and ``--documents`` open invoices and bills. The open documents reach banking through
   its ``open_item_sources`` hook, as billing's ``open_items`` does; what is timed is
   banking's own work on them (reading them is billing's query, timed by billing).
2. Times ``BankingService.import_statement`` on the file, end to end: detection and
   parsing, the duplicate check, the event append and its projection (one INSERT for all
   lines), and ranking suggestions for every line, stored with the line. Then the same
   file again (every line a duplicate).
3. Latency of ``GET .../bank-statements/lines?status=unreconciled`` (first page, 100
   lines with their suggestions) through the ASGI app over httpx, one request at a time
   after a warm-up: p50/p95/p99.

Missed targets are reported, never a failing exit code; real errors exit with status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import httpx

from common import (
    ERRORS,
    ROOT,
    AppBench,
    BenchError,
    Row,
    Run,
    database_argument,
    failed,
    latency,
    login,
    migrated,
    output_argument,
    progress,
    server,
)
from saldo import bootstrap
from saldo.banking.service import BankingService, OpenItem
from saldo.identity.service import Permission
from saldo.kernel.ids import new_id
from saldo.platform.db import Connection

MONTH = date(2026, 3, 1)


def iban(bank: str, digits: str) -> str:
    number = int("".join(str(int(ch, 36)) for ch in bank + digits + "GE00"))
    return f"GE{98 - number % 97:02d}{bank}{digits}"


OUR_IBAN = iban("TB", "0000000123456789")


def documents(count: int, rng: random.Random) -> list[OpenItem]:
    items = []
    for n in range(count):
        incoming = n % 5 != 0  # four invoices to one bill
        party = n % 997
        items.append(OpenItem(
            new_id(), "sales_invoice" if incoming else "purchase_bill",
            f"{'INV' if incoming else 'BILL'}-2026-{n:06d}", UUID(int=party + 1),
            MONTH - timedelta(days=rng.randint(0, 60)), MONTH + timedelta(days=30), "GEL",
            Decimal(rng.randint(1000, 500000)).scaleb(-2), "in" if incoming else "out",
            f"{200000000 + party}"))
    return items


def statement(count: int, items: Sequence[OpenItem], rng: random.Random) -> bytes:
    entries = []
    for n in range(count):
        day = MONTH + timedelta(days=n * 28 // count)
        if n % 10 == 9:
            amount, text, party = Decimal("-2.50"), "Commission for transfer", None
        else:
            doc = items[rng.randrange(len(items))]
            amount = doc.amount_due if doc.direction == "in" else -doc.amount_due
            text = (f"Payment for {doc.number}" if n % 4 else "Payment")
            party = doc.counterparty_tax_id
        side = "CRDT" if amount > 0 else "DBIT"
        role = "Dbtr" if amount > 0 else "Cdtr"
        ident = (f"<Id><OrgId><Othr><Id>{party}</Id></Othr></OrgId></Id>" if party else "")
        entries.append(
            f'<Ntry><Amt Ccy="GEL">{abs(amount):.2f}</Amt><CdtDbtInd>{side}</CdtDbtInd>'
            f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{day}</Dt></BookgDt>"
            f"<ValDt><Dt>{day}</Dt></ValDt><AcctSvcrRef>BNK-{n:07d}</AcctSvcrRef>"
            f"<NtryDtls><TxDtls><RltdPties><{role}><Pty><Nm>Party {party}</Nm>{ident}</Pty>"
            f"</{role}></RltdPties><RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls>"
            "</NtryDtls></Ntry>")
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">'
            "<BkToCstmrStmt><GrpHdr><MsgId>BENCH</MsgId></GrpHdr><Stmt><Id>BENCH-1</Id>"
            f"<Acct><Id><IBAN>{OUR_IBAN}</IBAN></Id><Ccy>GEL</Ccy></Acct>"
            + "".join(entries) + "</Stmt></BkToCstmrStmt></Document>").encode()


async def run(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    clock = Run()
    rows: list[Row] = []
    async with server(args.database_url) as (url, label):
        bench = AppBench(url, args.seed, Path(tempfile.mkdtemp(prefix="saldo-bank-")))
        bench.admin = await migrated(url)
        chief = await bench.open()
        try:
            company = await bench.company(chief, "Bank Bench LLC", "204567890")
            banking: BankingService = bench.container.services["banking"]
            items = documents(args.documents, rng)

            async def source(conn: Connection, company_id: UUID) -> Sequence[OpenItem]:
                return items

            banking.open_item_sources.append(source)
            content = statement(args.lines, items, rng)
            progress(f"statement of {args.lines:,} lines ({len(content) / 2**20:.1f} MiB), "
                     f"{args.documents:,} open documents; database: {label}")
            ctx = await bench.container.identity.member_context(company, "clerk",
                                                                Permission.BANK_WRITE)
            started, cpu = time.perf_counter(), time.process_time()
            result = await banking.import_statement(ctx, content, account_code="1210")
            import_s = time.perf_counter() - started
            import_cpu = time.process_time() - cpu
            if result.lines_imported != args.lines:
                raise BenchError(f"imported {result.lines_imported} of {args.lines} lines")
            async with bench.container.app_db.transaction(company_id=company) as conn:
                cur = await conn.execute(
                    "SELECT count(*) FILTER (WHERE suggestions <> '[]') AS n"
                    " FROM bank_line_suggestions WHERE company_id = %s", (company,))
                row = await cur.fetchone()
            with_suggestions = int(row["n"]) if row else 0
            rows.append(Row("import", f"import + suggestions, {args.lines:,} lines vs "
                            f"{args.documents:,} documents", f"{import_s:.2f} s",
                            target="< 5 s", passed=import_s < 5.0,
                            data={"seconds": import_s, "with_suggestions": with_suggestions}))
            rows.append(Row("import_cpu", "... of which this process's CPU (the rest: "
                            "PostgreSQL, and waiting for a CPU)", f"{import_cpu:.2f} s",
                            data={"seconds": import_cpu}))
            rows.append(Row("phases", "... read / store / suggest", " / ".join(
                f"{result.timings.get(k, 0):.2f}" for k in ("read", "store", "suggest"))
                + " s", data=result.timings))
            rows.append(Row("suggested", "lines with at least one suggestion",
                            f"{with_suggestions:,}"))
            started = time.perf_counter()
            again = await banking.import_statement(ctx, content, account_code="1210")
            again_s = time.perf_counter() - started
            if again.duplicates_skipped != args.lines:
                raise BenchError(f"re-import skipped {again.duplicates_skipped}")
            rows.append(Row("reimport", "re-import (every line a duplicate)",
                            f"{again_s:.2f} s"))
            app = bootstrap.create_app(bench.container)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as c:
                headers = await login(c, "clerk", bench.password)
                path = f"/api/v1/companies/{company}/bank-statements/lines"
                params = {"status": "unreconciled", "limit": "100"}
                timings = []
                for n in range(args.requests + 10):
                    started = time.perf_counter()
                    r = await c.get(path, params=params, headers=headers)
                    elapsed = time.perf_counter() - started
                    if r.status_code != 200 or len(r.json()) != 100:
                        raise BenchError(f"lines: {r.status_code} {r.text[:200]}")
                    if n >= 10:
                        timings.append(elapsed)
            stats = latency(timings)
            rows.append(Row("first_page", "unreconciled lines, first page of 100: p95",
                            f"{stats['p95']:.1f} ms", target="< 100 ms",
                            passed=stats["p95"] < 100, data=stats))
            rows.append(Row("first_page_p50", "... p50 / p99",
                            f"{stats['p50']:.1f} / {stats['p99']:.1f} ms"))
        finally:
            await bench.close()
    clock.stop()
    return clock.conclude(args.output, "Saldo banking benchmark", rows,
                          {"lines": args.lines, "documents": args.documents})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--documents", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="1,000 lines, 5,000 documents")
    database_argument(parser)
    output_argument(parser, ROOT / "bench" / "results" / "banking.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.lines, args.documents, args.requests = 1_000, 5_000, 50
    try:
        return asyncio.run(run(args))
    except ERRORS as exc:
        return failed(exc)


if __name__ == "__main__":
    sys.exit(main())
