"""What the benchmarks share (bench/ is on sys.path when a script in it runs, so they
import this module as ``common``).

* Every benchmark: the database it runs on (the embedded server in a temp dir, or a
  throwaway database on a given server), progress lines, the memory and machine it
  reports, the results table and the JSON results file, and its command line's
  ``--database-url`` and ``--output``.
* The two that drive the application (posting.py, reports.py): ``saldo serve`` in a
  subprocess, logging in, latency statistics, their table rows, the container and users
  they set up, and the journal generator that fills their books.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import hashlib
import json
import os
import platform
import random
import resource
import secrets
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import psycopg
from psycopg import conninfo
from psycopg import errors as pg_errors

from saldo import bootstrap
from saldo.identity.domain import NewCompany, Permission, Role, User
from saldo.kernel.ids import new_id
from saldo.ledger.domain import ContentInput, LineDraft
from saldo.platform import embedded
from saldo.platform.db import Connection, connect
from saldo.platform.migrations import upgrade
from saldo.platform.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent


class BenchError(Exception):
    """Something is wrong with the run itself (not a missed target)."""


#: What ends a run with status 1 (a missed target never does).
ERRORS = (BenchError, psycopg.Error, httpx.HTTPError, embedded.EmbeddedServerError, OSError)


def failed(exc: Exception, note: str | None = None) -> int:
    """Say why the run failed (and ``note``, where something was kept); the exit status."""
    print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
    if note is not None:
        print(note, file=sys.stderr)
    return 1


# --------------------------------------------------------------------------- command line


def database_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", help="a PostgreSQL server to use (a throwaway "
                        "database is created there); default: embedded server in a temp dir")


def output_argument(parser: argparse.ArgumentParser, default: Path) -> None:
    parser.add_argument("--output", type=Path, default=default,
                        help=f"JSON results file (default: {default.relative_to(ROOT)})")


# --------------------------------------------------------------------------- results

_STARTED = time.perf_counter()


def progress(message: str) -> None:
    print(f"[{time.perf_counter() - _STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


def status(passed: bool | None) -> str:
    return {True: "PASS", False: "MISS", None: "info"}[passed]


def text_table(lines: Sequence[Sequence[str]], align: str) -> str:
    """``lines`` (the header first) in columns as wide as their widest cell, each left
    (``<``) or right (``>``) aligned, with a rule under the header."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(align))]
    out = []
    for n, line in enumerate(lines):
        cells = [c.ljust(w) if a == "<" else c.rjust(w)
                 for c, w, a in zip(line, widths, align, strict=True)]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def headline(benchmark: str, server_version: str, target: str, mode: str, elapsed: float,
             *details: str) -> str:
    """The line above the results table: what ran, where, and for how long."""
    return (f"Saldo {benchmark} benchmark: PostgreSQL {server_version} ({target}), "
            + ", ".join([f"{os.cpu_count()} CPUs", f"{mode} run", *details,
                         f"{elapsed:.0f} s"]))


def write_results(output: Path, document: dict[str, Any]) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"\nresults written to {output}")


# --------------------------------------------------------------------------- memory, machine


def peak_rss_mib() -> float:
    # Linux reports ru_maxrss in KiB (macOS in bytes).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def current_rss_mib() -> float | None:
    """The resident set now (Linux only): shows whether a phase grew the process."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def rss() -> dict[str, float | None]:
    return {"peak": peak_rss_mib(), "current": current_rss_mib()}


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "psycopg": psycopg.__version__,
        "psycopg_impl": psycopg.pq.__impl__,
    }


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def sha256_16(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def source_digests(*modules: ModuleType) -> dict[str, str]:
    """Which code was measured (the files may have changed since the last commit): each
    module's file, every file of a package."""
    paths: list[Path] = []
    for module in modules:
        path = Path(module.__file__ or "")
        paths += sorted(path.parent.glob("*.py")) if path.name == "__init__.py" else [path]
    return {relative(path): sha256_16(path) for path in paths}


# --------------------------------------------------------------------------- servers


@asynccontextmanager
async def server(database_url: str | None) -> AsyncIterator[tuple[str, str]]:
    """(URL, label) of a fresh database: embedded, or a throwaway one on the given server."""
    if database_url is None:
        root = Path(tempfile.mkdtemp(prefix="saldo-bench-"))
        # Registered before the server's own atexit hook, so it runs after the server stops.
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        progress(f"starting the embedded PostgreSQL in {root} ...")
        url = await asyncio.to_thread(embedded.start, root)
        yield url, "embedded"
        return
    name = f"saldo_bench_{uuid.uuid4().hex[:10]}"
    admin = await psycopg.AsyncConnection.connect(database_url, autocommit=True,
                                                  connect_timeout=5)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        progress(f"created the throwaway database {name}")
        params = conninfo.conninfo_to_dict(database_url)
        params["dbname"] = name
        try:
            yield conninfo.make_conninfo("", **params), f"external, database {name}"
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            progress(f"dropped the throwaway database {name}")
    finally:
        await admin.close()


async def migrated(url: str) -> Connection:
    """A privileged autocommit connection to the database, migrated."""
    conn = await connect(url)
    await upgrade(conn, bootstrap.migrations())
    await conn.set_autocommit(True)
    return conn


async def checkpoint_allowed(conn: Connection) -> bool:
    """Whether this role may CHECKPOINT (run once, so the first side starts clean too)."""
    try:
        await conn.execute("CHECKPOINT")
    except pg_errors.InsufficientPrivilege:
        return False
    return True


async def scalar(conn: Connection, query: str, params: Sequence[Any] = ()) -> Any:
    row = await (await conn.execute(query, params)).fetchone()
    assert row is not None
    return next(iter(row.values()))


async def server_info(conn: Connection, names: Sequence[str]) -> dict[str, Any]:
    return {name: await scalar(conn, f"SHOW {name}") for name in ("server_version", *names)}


def describe(info: dict[str, Any], *names: str) -> str:
    """``server: PostgreSQL 18.6, fsync=on, ...``: the settings that matter to a run."""
    return ", ".join([f"server: PostgreSQL {info['server_version']}",
                      *(f"{name}={info[name]}" for name in names)])


# --------------------------------------------------------------------------- over HTTP


def skip_sniffio_lookups() -> None:
    """httpcore imports sniffio on every request; without it each miss walks sys.path
    (about a sixth of a load generator's CPU, taken from the server on 2 cores). None in
    sys.modules makes the miss immediate."""
    try:
        import sniffio  # noqa: F401
    except ImportError:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


def latency(values: Sequence[float]) -> dict[str, float]:
    """Milliseconds: count, p50, p95, p99, max, mean (from seconds)."""
    ms = [v * 1000 for v in values]
    return {"count": len(ms), "p50": percentile(ms, 50), "p95": percentile(ms, 95),
            "p99": percentile(ms, 99), "max": max(ms), "mean": statistics.fmean(ms)}


@dataclass
class Row:
    """One line of the printed table (and of the JSON)."""

    key: str
    label: str
    value: str
    reference: str = "-"
    target: str = "-"
    passed: bool | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "value": self.value,
                "reference": self.reference, "target": self.target,
                "status": status(self.passed), **self.data}


def render(rows: Sequence[Row]) -> str:
    header = ("measurement", "Saldo", "reference (same run)", "target", "result")
    lines = [header] + [(r.label, r.value, r.reference, r.target, status(r.passed))
                        for r in rows]
    return text_table(lines, "<><<<")


class Run:
    """Wall time, load average (other work on the machine shares its CPUs) and this
    process's peak memory around one run, and how the run ends: the table printed and
    the results file written, with these figures last."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.load_at_start = self.load_at_end = os.getloadavg()
        self.peak = self.elapsed = 0.0

    def stop(self) -> None:
        self.load_at_end = os.getloadavg()
        self.peak = peak_rss_mib()
        self.elapsed = time.perf_counter() - self.started

    def conclude(self, output: Path, title: str, rows: Sequence[Row],
                 document: dict[str, Any]) -> int:
        rows = [*rows, Row("bench_rss", "peak RSS of the bench process (ru_maxrss)",
                           f"{self.peak:,.0f} MiB")]
        print()
        print(title)
        print(f"load average (1 min) {self.load_at_start[0]:.1f} at start, "
              f"{self.load_at_end[0]:.1f} at end")
        print(render(rows))
        write_results(output, {
            **document,
            "peak_rss_mib": self.peak,
            "elapsed_s": self.elapsed,
            "load_average": {"start": self.load_at_start, "end": self.load_at_end},
            "results": [r.as_json() for r in rows],
        })
        return 0


async def login(client: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/token", json={"username": username,
                                                      "password": password})
    if r.status_code != 200:
        raise BenchError(f"login {username}: {r.status_code} {r.text[:300]}")
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


class SaldoServer:
    """``saldo serve`` in a subprocess on a free port, on the benchmark's database."""

    def __init__(self, url: str, secret: str, workdir: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.url, self.secret, self.workdir = url, secret, workdir
        self.log = workdir / "saldo-serve.log"
        self.process: asyncio.subprocess.Process | None = None
        self.marks: dict[str, float] = {}
        self.sampled_peak = 0.0
        self.start_rss = 0.0

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def __aenter__(self) -> SaldoServer:
        script = Path(sys.executable).with_name("saldo")
        command = [str(script)] if script.is_file() else [sys.executable, "-m", "saldo"]
        env = {**os.environ, "SALDO_DATABASE_URL": self.url, "SALDO_SECRET_KEY": self.secret,
               "SALDO_DATA_DIR": str(self.workdir / "data"), "SALDO_LOG_FORMAT": "json",
               "SALDO_LOG_LEVEL": "info"}
        progress(f"starting saldo serve on port {self.port} (log: {self.log}) ...")
        with self.log.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                *command, "serve", "--host", "127.0.0.1", "--port", str(self.port),
                env=env, stdout=log, stderr=asyncio.subprocess.STDOUT, cwd=self.workdir)
        deadline = time.perf_counter() + 60
        async with httpx.AsyncClient(base_url=self.base, timeout=2) as client:
            while True:
                if self.process.returncode is not None:
                    raise BenchError(f"saldo serve exited with {self.process.returncode}; "
                                     f"see {self.log}")
                try:
                    if (await client.get("/health/ready")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.perf_counter() > deadline:
                    raise BenchError(f"saldo serve did not become ready; see {self.log}")
                await asyncio.sleep(0.1)
        self.start_rss = self.status_mib("VmRSS")
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 15)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    def status_mib(self, key: str) -> float:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024  # kB
        except (OSError, ValueError):
            pass
        return 0.0

    def cpu_seconds(self) -> float:
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return 0.0

    async def sample_rss(self) -> None:
        while True:
            self.sampled_peak = max(self.sampled_peak, self.status_mib("VmRSS"))
            await asyncio.sleep(0.25)

    def mark(self, name: str) -> None:
        self.marks[name] = self.status_mib("VmRSS")

    def peak_mib(self) -> float:
        return max(self.status_mib("VmHWM"), self.sampled_peak)


class AppBench:
    """A benchmark that drives the application: its settings and the composition root's
    container, a privileged connection (``admin``), and a chief accountant (``chief``)
    and an accountant (``clerk``) who share a password."""

    def __init__(self, url: str, seed: int, workdir: Path) -> None:
        self.url, self.seed, self.workdir = url, seed, workdir
        self.password = "bench-" + secrets.token_urlsafe(18)
        self.secret = secrets.token_urlsafe(48)
        self.settings = load_settings(database_url=url, secret_key=self.secret, redis_url=None,
                                      db_pool_min=1, db_pool_max=4, cors_origins=[])
        self.container = bootstrap.build(self.settings, url)
        self.admin: Connection | None = None
        self.today = datetime.now().astimezone().date()  # the server's date.today()
        # Four fiscal years of history up to today: all open-able (SALDO_LEDGER_HISTORY_YEARS
        # defaults to 10 years back).
        self.first_day = date(self.today.year - 3, 1, 1)
        self.extra: dict[str, Any] = {}

    async def open(self) -> User:
        """Open the container and create the two users; the chief."""
        await self.container.open()
        identity = self.container.identity
        chief = await identity.create_user("chief", self.password, "Nino Beridze")
        await identity.create_user("clerk", self.password, "Giorgi Kapanadze")
        return chief

    async def company(self, chief: User, name: str, tax_id: str) -> uuid.UUID:
        """A company of ``chief``'s with the clerk as its accountant."""
        identity = self.container.identity
        company = await identity.create_company(chief, NewCompany(name, tax_id, vat_payer=True))
        admin_ctx = await identity.member_context(company.id, "chief", Permission.ADMIN_USERS)
        await identity.add_member(admin_ctx, "clerk", Role.ACCOUNTANT)
        return company.id

    async def close(self) -> None:
        await self.container.close()
        if self.admin is not None:
            await self.admin.close()

    async def scalar(self, query: str, params: Sequence[Any] = ()) -> Any:
        assert self.admin is not None
        return await scalar(self.admin, query, params)

    async def server_info(self, names: Sequence[str]) -> dict[str, Any]:
        assert self.admin is not None
        return await server_info(self.admin, names)


# --------------------------------------------------------------------------- the journal

BATCH = 2000
#: Postable leaves of the ge-standard chart that ordinary transactions use.
LEAVES = ("1110", "1120", "1210", "1220", "1410", "1415", "1610", "1620", "2110", "2150",
          "3110", "3120", "3310", "3330", "3340", "5110", "6110", "6120", "7110", "7120",
          "7310", "7410", "7420", "8110", "8210")
COUNTERPARTIES = ("შპს ალფა ტრეიდი", "შპს კავკასიის ლოჯისტიკა", "სს თბილისის წყალი",
                  "Silknet JSC", "Wissol Petroleum Georgia", "ი/მ გიორგი ბერიძე")
KINDS = ("გაყიდვა", "შესყიდვა", "ხელფასი", "იჯარა", "საბანკო მომსახურება", "Payment")


@dataclass(frozen=True, slots=True)
class Batch:
    """One post_batch call's transactions and the same lines as raw rows."""

    rows: list[tuple[int, ContentInput]]
    lines: list[tuple[Any, ...]]

    @property
    def transactions(self) -> int:
        return len(self.rows)


class Journal:
    """A deterministic stream of balanced transactions of 2-4 lines for one company."""

    def __init__(self, seed: int, company_id: uuid.UUID, first: date, last: date,
                 hot: str | None = None) -> None:
        self.rng = random.Random(seed)
        self.company_id = company_id
        self.first, self.days = first, (last - first).days + 1
        self.hot = hot
        self.seq = 0
        self.lines = 0

    def content(self) -> ContentInput:
        rng = self.rng
        self.seq += 1
        n = rng.randint(2, 4)
        if self.hot:
            accounts = [self.hot, *rng.sample([a for a in LEAVES if a != self.hot], n - 1)]
        else:
            accounts = rng.sample(LEAVES, n)
        parts = [Decimal(rng.randrange(100, 2_000_000)).scaleb(-2) for _ in range(n - 1)]
        total = sum(parts, Decimal("0.00"))
        one_debit = rng.random() < 0.5  # one debit against n-1 credits, or the mirror
        first_side, other_side = ("debit", "credit") if one_debit else ("credit", "debit")
        entries = [LineDraft(accounts[0], **{first_side: str(total)})]
        entries += [LineDraft(a, **{other_side: str(p)}) for a, p in zip(accounts[1:], parts,
                                                                         strict=True)]
        day = self.first + timedelta(days=rng.randrange(self.days))
        counterparty = rng.choice(COUNTERPARTIES)
        self.lines += n
        return ContentInput(day, f"{rng.choice(KINDS)}: {counterparty}", entries,
                            reference=f"INV-{day.year}-{self.seq:07d}")

    def batch(self, size: int = BATCH) -> Batch:
        rows: list[tuple[int, ContentInput]] = []
        lines: list[tuple[Any, ...]] = []
        zero = Decimal("0.00")
        for row in range(1, size + 1):
            content = self.content()
            tx_id = new_id()
            for n, e in enumerate(content.lines, start=1):
                debit = Decimal(str(e.debit)) if e.debit else zero
                credit = Decimal(str(e.credit)) if e.credit else zero
                lines.append((self.company_id, content.date, tx_id, n, self.seq, e.account_code,
                              debit, credit, "GEL", debit, credit, e.description))
            rows.append((row, content))
        return Batch(rows, lines)
