"""The ``saldo`` command line.

Expected failures (a bad setting, an unreachable database, a failed migration) print one
paragraph naming what to fix and exit non-zero; stack traces are for bugs only.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from saldo import __version__, bootstrap
from saldo import demo as demo_module
from saldo.cli.common import (
    EXIT_FAILURE,
    _app_pool,
    _connected,
    _expected_failures,
    _fail,
    _run,
    _settings,
    _upgrade,
    _with_container,
    err,
    out,
)
from saldo.identity.domain import Permission
from saldo.kernel.errors import SaldoError
from saldo.ledger import imports
from saldo.ledger.domain import Finding
from saldo.platform import db as database
from saldo.platform import migrations as migrations_module
from saldo.platform.projections import ProjectionFailed
from saldo.platform.runtime import freeze_startup_objects
from saldo.platform.settings import Settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Saldo accounting platform.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema migrations.")
projections_app = typer.Typer(no_args_is_help=True, help="Read models fed from the event store.")
users_app = typer.Typer(no_args_is_help=True, help="Users who may log in.")
import_app = typer.Typer(no_args_is_help=True, help="Load books from files.")
fiscal_year_app = typer.Typer(no_args_is_help=True, help="Year-end close and reopening.")
app.add_typer(db_app, name="db")
app.add_typer(projections_app, name="projections")
app.add_typer(users_app, name="users")
app.add_typer(import_app, name="import")
app.add_typer(fiscal_year_app, name="fiscal-year")

# ---------------------------------------------------------------------- commands


@app.command()
def version() -> None:
    """Print Saldo's version."""
    out.print(f"saldo {__version__}")


@app.command()
@_expected_failures
def serve(
    host: str | None = typer.Option(None, help="Address to listen on (default SALDO_HOST)."),
    port: int | None = typer.Option(None, help="Port to listen on (default SALDO_PORT)."),
    only: str | None = typer.Option(
        None, "--only", metavar="CONTEXT[,CONTEXT...]",
        help="Serve only these contexts' routes (plus health, readiness and metrics): "
             "each context a service of its own."),
) -> None:
    """Apply migrations and serve the HTTP API."""
    import uvicorn

    settings = _settings()
    host, port = host or settings.host, port or settings.port
    contexts = {c.strip() for c in only.split(",") if c.strip()} if only else None
    try:
        bootstrap.contexts(contexts)
    except LookupError as exc:
        _fail(str(exc), EXIT_FAILURE)

    async def prepare() -> tuple[str, bool]:
        container = await _connected(settings)
        try:
            applied = await _upgrade(container)
            fresh = await demo_module.first_start(container)
        finally:
            await container.db.close()
        for m in applied:
            out.print(f"applied migration {m.version:04d}_{m.name}")
        return container.db.url, fresh

    url, fresh = _run(prepare())
    if fresh:
        _offer_demo(settings, url)
    where = "embedded PostgreSQL in " + str(settings.data_dir) if settings.uses_embedded_database \
        else database.redact(url)
    out.print(f"Saldo {__version__} on {where}")
    out.print(f"Serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    sys.stdout.flush()
    application = bootstrap.create_app(bootstrap.build(settings, url), only=contexts)
    config = uvicorn.Config(application, host=host, port=port, log_config=None,
                            access_log=False, proxy_headers=False, server_header=False)
    freeze_startup_objects()
    uvicorn.Server(config).run()


@app.command()
@_expected_failures
def worker(
    once: bool = typer.Option(False, "--once", help="Catch every projection up, then exit."),
) -> None:
    """Feed the asynchronous projections from the event store (polling)."""
    settings = _settings()

    async def work(container: bootstrap.Container) -> None:
        if once:
            for name in container.runner.projections:
                try:
                    count = await container.runner.catch_up(name)
                    out.print(f"{name}: applied {count} events")
                except ProjectionFailed as exc:
                    err.print(f"[red]{exc}[/]")
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        out.print(f"worker polling every {settings.worker_poll_interval}s; Ctrl+C stops")
        freeze_startup_objects()
        await container.runner.run_forever(settings.worker_poll_interval, stop)

    _run(_with_container(settings, work))


@db_app.command("upgrade")
@_expected_failures
def db_upgrade() -> None:
    """Apply every pending migration."""
    applied = _run(_with_container(_settings(), _upgrade))
    for m in applied:
        out.print(f"applied {m.version:04d}_{m.name} ({m.package})")
    out.print("schema is current" if not applied else f"{len(applied)} migration(s) applied")


@db_app.command("status")
@_expected_failures
def db_status() -> None:
    """Show applied and pending migrations."""

    async def work(container: bootstrap.Container) -> list[migrations_module.MigrationState]:
        async with container.db.connection() as conn:
            return await migrations_module.status(conn, bootstrap.migrations())

    states = _run(_with_container(_settings(), work))
    table = Table("version", "name", "package", "state", "applied at")
    for s in states:
        state = "applied" if s.applied else "pending"
        if not s.checksum_matches:
            state = "applied, file changed since"
        table.add_row(f"{s.migration.version:04d}", s.migration.name, s.migration.package,
                      state, s.applied_at.isoformat(timespec="seconds") if s.applied_at else "")
    out.print(table)
    pending = sum(not s.applied for s in states)
    out.print(f"{len(states) - pending} applied, {pending} pending")


@projections_app.command("status")
@_expected_failures
def projections_status() -> None:
    """Show each projection's checkpoint, lag and health."""
    statuses = _run(_with_container(_settings(), lambda c: c.runner.status()))
    table = Table("projection", "kind", "checkpoint", "behind", "status", "error")
    for s in statuses:
        cp = f"{s.checkpoint.transaction_id}/{s.checkpoint.position}" if s.checkpoint else "-"
        error = (f"at event {s.failed_position} ({s.failed_event_type}): {s.error}"
                 if s.error else "")
        table.add_row(s.name, s.kind, cp, str(s.behind), s.status, error)
    out.print(table)


@projections_app.command("rebuild")
@_expected_failures
def projections_rebuild(name: str = typer.Argument(..., help="The projection to rebuild.")) -> None:
    """Drop a projection's read model and replay every event into it."""

    async def work(container: bootstrap.Container) -> int:
        return await container.runner.rebuild(name)

    try:
        count = _run(_with_container(_settings(), work))
    except KeyError as exc:
        _fail(str(exc.args[0]), EXIT_FAILURE)
    except ProjectionFailed as exc:
        _fail(str(exc), EXIT_FAILURE)
    out.print(f"{name}: rebuilt from {count} events")


@users_app.command("create")
@_expected_failures
def users_create(
    username: str = typer.Argument(..., help="The login name."),
    superuser: bool = typer.Option(False, "--superuser", help="May administer all of Saldo."),
    full_name: str = typer.Option("", "--full-name", help="The person's name."),
) -> None:
    """Create a user. The password comes from SALDO_PASSWORD, else a hidden prompt.

    Applies pending migrations first, so a new installation starts with this command.
    """
    settings = _settings()
    password = os.environ.get("SALDO_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            _fail("Set SALDO_PASSWORD or run in a terminal to be asked for the password.",
                  EXIT_FAILURE)
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def work(container: bootstrap.Container) -> str:
        for m in await _upgrade(container):
            out.print(f"applied migration {m.version:04d}_{m.name}")
        async with _app_pool(container):
            user = await container.identity.create_user(
                username, password, full_name, is_superuser=superuser)
        return str(user.id)

    user_id = _run(_with_container(settings, work))
    kind = "superuser" if superuser else "user"
    out.print(f"created {kind} {username} ({user_id})")


# ---------------------------------------------------------------------- demo


def _password_option() -> str | None:
    return os.environ.get("SALDO_PASSWORD") or None


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=out)


async def _load_demo(container: bootstrap.Container, year: int | None,
                     password: str | None) -> demo_module.DemoResult:
    """The demo on a migrated database; opens the application pool for the work."""
    year = year or demo_module.default_year(container.ledger.today())
    bar = _progress()
    tasks: list[TaskID] = []

    def advance(done: int, total: int) -> None:
        if not tasks:  # shown once posting starts, not before the checks
            bar.start()
            tasks.append(bar.add_task(f"Demo LLC, {year}: transactions posted", total=total))
        bar.update(tasks[0], completed=done, total=total)

    async with _app_pool(container):
        try:
            return await demo_module.load(container, year, password, advance)
        finally:
            if tasks:
                bar.stop()


def _print_demo(result: demo_module.DemoResult) -> None:
    out.print(f"Created {demo_module.COMPANY_NAME} (company id {result.company_id}) with "
              f"{result.posted} posted transactions in {result.year} and {result.drafts} "
              "drafts to approve.")
    table = Table("username", "role", "password", title="Demo users (passwords are shown "
                                                         "only now)")
    for username, role, password in result.users:
        table.add_row(username, role.value, password)
    out.print(table)
    out.print("Log in with POST /api/v1/auth/token. demo-accountant drafts and posts, "
              "demo-chief approves (and closes periods), demo-auditor and demo-tax read, "
              "demo-admin manages members.", highlight=False)


@app.command()
@_expected_failures
def demo(
    year: int | None = typer.Option(
        None, "--year", help="Fiscal year of the activity (default: last calendar year)."),
    password: str | None = typer.Option(
        None, "--password", help="One password for every demo user (default: "
                                 "SALDO_PASSWORD, else a random one each, printed)."),
) -> None:
    """Create "Demo LLC" with a user per role and a year of books.

    Applies pending migrations first. Exits 1, changing nothing, if the demo users exist.
    """
    settings = _settings()
    password = password or _password_option()

    async def work(container: bootstrap.Container) -> demo_module.DemoResult:
        for m in await _upgrade(container):
            out.print(f"applied migration {m.version:04d}_{m.name}")
        return await _load_demo(container, year, password)

    _print_demo(_run(_with_container(settings, work)))


def _offer_demo(settings: Settings, url: str) -> None:
    """First start (no company yet): name ``saldo demo``; in a terminal, offer to run it."""
    program = sys.argv[0] if Path(sys.argv[0]).name == "saldo" else "saldo"
    out.print(f"No company yet. `{program} demo` loads Demo LLC: a user for each role and "
              "a year of books.", highlight=False)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return
    if not typer.confirm("Load the demo company?", default=False):
        return

    async def work() -> demo_module.DemoResult:
        container = bootstrap.build(settings, url)
        await container.db.open()
        try:
            return await _load_demo(container, None, _password_option())
        finally:
            await container.db.close()

    try:
        _print_demo(_run(work()))
    except SaldoError as exc:  # the server starts anyway
        err.print(f"[bold red]saldo:[/] the demo was not loaded: {exc.detail}",
                  highlight=False, soft_wrap=True)
    sys.stdout.flush()


# ---------------------------------------------------------------------- import


@dataclass
class _ImportOutcome:
    posted: list[tuple[UUID, int, int]] = field(default_factory=list)
    batches: int = 0
    #: Transactions the file held that were imported before (their keys are taken).
    skipped: int = 0
    findings: list[Finding] = field(default_factory=list)
    #: The first CSV line of the batch that failed (None: none failed).
    failed_row: int | None = None


def _print_findings(findings: list[Finding]) -> None:
    for f in sorted(findings, key=lambda f: f.row):
        err.print(f"row {f.row}: {f.code}: {f.message}", markup=False, highlight=False,
                  soft_wrap=True)


def _numbers(posted: list[tuple[UUID, int, int]]) -> str:
    years: dict[int, list[int]] = {}
    for _, year, number in posted:
        years.setdefault(year, []).append(number)
    return ", ".join(f"{y}: {min(n)}" + (f"–{max(n)}" if max(n) > min(n) else "")
                     for y, n in sorted(years.items()))


@import_app.command("journal")
@_expected_failures
def import_journal(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                help="The journal CSV: one row per line (README, "
                                     "'Importing a journal')."),
    company: UUID = typer.Option(..., "--company", help="The company's id."),
    user: str = typer.Option(..., "--user", help="The importing member's username; the "
                                                 "role must hold transactions:approve."),
    batch_size: int = typer.Option(2000, "--batch-size", min=1, max=5000,
                                   help="Transactions per database transaction (each batch "
                                        "is posted all or nothing)."),
) -> None:
    """Post a journal from CSV, checked first and posted in all-or-nothing batches.

    Any finding in the file stops the import before anything is written. A finding only
    the books can reveal (an unknown account, a closed period) stops it at that batch;
    the batches before it stay posted, and the output names their rows.
    """
    transactions, findings = imports.read_journal(str(file))
    if findings:
        _print_findings(findings)
        _fail(f"{len(findings)} finding(s) in {file}; nothing was imported.", EXIT_FAILURE)
    settings = _settings()

    async def post(container: bootstrap.Container) -> _ImportOutcome:
        outcome = _ImportOutcome()
        ctx = await container.identity.member_context(company, user,
                                                      Permission.TRANSACTIONS_APPROVE)
        for row, raw in transactions:  # the whole file's content, before any batch
            try:
                await container.ledger.check(company, raw)
            except SaldoError as exc:
                outcome.findings.append(Finding(row, exc.code, exc.detail))
        if outcome.findings:
            outcome.failed_row = transactions[0][0]
            return outcome
        batches = [transactions[start:start + batch_size]
                   for start in range(0, len(transactions), batch_size)]
        with _progress() as bar:
            task = bar.add_task("transactions posted", total=len(transactions))
            # Pipelined: each batch is checked while the one before it is written.
            results = container.ledger.post_batches(ctx, batches)
            try:
                async for result in results:
                    batch = batches[outcome.batches]
                    outcome.findings.extend(result.findings)
                    if outcome.findings:
                        outcome.failed_row = batch[0][0]
                        break
                    outcome.posted.extend(result.posted)
                    outcome.skipped += len(result.skipped)
                    outcome.batches += 1
                    bar.advance(task, len(batch))
            except SaldoError as exc:
                batch = batches[outcome.batches]
                outcome.findings.append(Finding(batch[0][0], exc.code, exc.detail))
                outcome.failed_row = batch[0][0]
            finally:
                await results.aclose()
        return outcome

    async def work(container: bootstrap.Container) -> _ImportOutcome:
        for m in await _upgrade(container):
            out.print(f"applied migration {m.version:04d}_{m.name}")
        async with _app_pool(container):
            return await post(container)

    outcome = _run(_with_container(settings, work))
    if not outcome.findings:
        skipped = (f"; skipped {outcome.skipped} imported before" if outcome.skipped
                   else "")
        numbers = f"; numbers {_numbers(outcome.posted)}" if outcome.posted else ""
        out.print(f"Imported {len(outcome.posted)} transactions from {file} in "
                  f"{outcome.batches} batch(es){numbers}{skipped}.", highlight=False)
        return
    _print_findings(outcome.findings)
    if not outcome.posted:
        _fail(f"{len(outcome.findings)} finding(s); nothing was imported.", EXIT_FAILURE)
    assert outcome.failed_row is not None
    _fail(f"{len(outcome.findings)} finding(s) in the batch starting at row "
          f"{outcome.failed_row}. {len(outcome.posted)} transaction(s) in {outcome.batches} "
          f"earlier batch(es) were committed and stay posted (numbers "
          f"{_numbers(outcome.posted)}): rows {transactions[0][0]}–{outcome.failed_row - 1}. "
          f"Rows from {outcome.failed_row} on were not imported; fix them and import the "
          "file again: the transactions posted before are skipped (the file's transaction "
          "values are idempotency keys).", EXIT_FAILURE)


# ---------------------------------------------------------------------- reports


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


_DAY = ["%Y-%m-%d"]


@app.command()
@_expected_failures
def report(
    name: str = typer.Argument(..., help="trial-balance, general-ledger, balance-sheet, "
                                         "profit-and-loss, cash-flow or changes-in-equity."),
    company: UUID = typer.Option(..., "--company", help="The company's id."),
    user: str = typer.Option(..., "--user", help="A member whose role holds "
                                                 "reports:financial."),
    date_from: datetime | None = typer.Option(
        None, "--from", formats=_DAY, help="First day (default: start of the fiscal year)."),
    date_to: datetime | None = typer.Option(None, "--to", formats=_DAY,
                                            help="Last day, inclusive (default: today)."),
    as_of: datetime | None = typer.Option(None, "--as-of", formats=_DAY,
                                          help="balance-sheet: the date (default: --to)."),
    compare_from: datetime | None = typer.Option(
        None, "--compare-from", formats=_DAY, help="profit-and-loss: comparative range."),
    compare_to: datetime | None = typer.Option(
        None, "--compare-to", formats=_DAY,
        help="balance-sheet: comparative date; profit-and-loss: end of the comparative range."),
    account: str | None = typer.Option(None, "--account",
                                       help="general-ledger: an account or a header."),
    level: str = typer.Option("postable", "--level",
                              help="trial-balance: class, group, account, postable or all."),
    account_class: int | None = typer.Option(None, "--class",
                                             help="trial-balance: one account class (1-9)."),
    include_zero: bool = typer.Option(False, "--include-zero",
                                      help="trial-balance: show all-zero rows too."),
    method: str = typer.Option("indirect", "--method",
                               help="cash-flow: indirect or direct."),
    fmt: str = typer.Option("json", "--format", help="json, csv, xlsx or pdf."),
    lang: str = typer.Option("en", "--lang", help="Labels in English (en) or Georgian (ka)."),
    output: Path | None = typer.Option(
        None, "--output", "-o", dir_okay=False,
        help="Write here. Default: JSON and CSV to standard output, XLSX and PDF to the "
             "report's file name in the current directory."),
) -> None:
    """Produce a financial report, as the API does (GET .../reports/NAME)."""
    from saldo.reporting import domain as reports
    from saldo.reporting.service import REPORTS, Options

    if name not in REPORTS:
        _fail(f"No report {name!r}; reports: {', '.join(REPORTS)}.", EXIT_FAILURE)
    reports.check_choice(fmt, reports.FORMATS, reports.UnsupportedFormat, "format")
    reports.check_choice(lang, reports.LANGUAGES, reports.UnsupportedLanguage, "language")
    options = Options(_day(date_from), _day(date_to), _day(as_of), _day(compare_from),
                      _day(compare_to), account, level, account_class, include_zero, method,
                      format=fmt)
    settings = _settings()  # configures logging, fontTools' glyph chatter included

    async def work(container: bootstrap.Container) -> tuple[bytes, str, str]:
        async with _app_pool(container):
            ctx = await container.identity.member_context(company, user,
                                                          Permission.REPORTS_FINANCIAL)
            built, about = await container.reporting.build(ctx, name, options)
            return container.reporting.export(built, about, fmt, lang)

    body, _, filename = _run(_with_container(settings, work))
    if output is None and fmt in ("json", "csv"):
        sys.stdout.buffer.write(body if body.endswith(b"\n") else body + b"\n")
        sys.stdout.flush()
        return
    target = output or Path(filename)
    target.write_bytes(body)
    out.print(f"wrote {target} ({len(body)} bytes)", highlight=False)


def _change_year(year: int, company: UUID, user: str, action: str) -> dict[str, Any]:
    settings = _settings()

    async def work(container: bootstrap.Container) -> dict[str, Any]:
        async with _app_pool(container):
            ctx = await container.identity.member_context(company, user,
                                                          Permission.PERIODS_CLOSE)
            if action == "close":
                return await container.ledger.close_fiscal_year(ctx, year)
            return await container.ledger.reopen_fiscal_year(ctx, year)

    return _run(_with_container(settings, work))


_YEAR = typer.Argument(..., min=1900, max=2999, help="The fiscal year, e.g. 2025.")
_COMPANY = typer.Option(..., "--company", help="The company's id.")
_CLOSER = typer.Option(..., "--user", help="A member whose role holds periods:close.")


@fiscal_year_app.command("close")
@_expected_failures
def fiscal_year_close(year: int = _YEAR, company: UUID = _COMPANY, user: str = _CLOSER) -> None:
    """Year-end close: move the year's profit or loss to retained earnings (5310, or 5320
    for a loss) and close every period of the year (POST .../fiscal-years/YEAR/close)."""
    result = _change_year(year, company, user, "close")
    closing = result["closing_transaction"]
    out.print(f"fiscal year {year} closed"
              + (f"; closing transaction {closing}" if closing else "; nothing to close out"),
              highlight=False)


@fiscal_year_app.command("reopen")
@_expected_failures
def fiscal_year_reopen(year: int = _YEAR, company: UUID = _COMPANY, user: str = _CLOSER) -> None:
    """Reopen a closed fiscal year: its closing transaction is reversed and the periods the
    close closed reopen (refused once a period of the year is locked)."""
    _change_year(year, company, user, "reopen")
    out.print(f"fiscal year {year} reopened", highlight=False)


def main() -> None:
    app()


def _mount_contexts() -> None:
    """Each registered context's commands (``Context.cli``: a module of this package with
    ``register(app)``)."""
    import importlib

    from saldo import registry

    for context in registry.CONTEXTS:
        if context.cli is not None:
            importlib.import_module(context.cli).register(app)


_mount_contexts()
