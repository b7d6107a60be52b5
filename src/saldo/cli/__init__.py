"""The ``saldo`` command line.

Expected failures (a bad setting, an unreachable database, a failed migration) print one
paragraph naming what to fix and exit non-zero; stack traces are for bugs only.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import typer
from rich.progress import TaskID
from rich.table import Table

from saldo import __version__, bootstrap
from saldo import demo as demo_module
from saldo.cli.common import (
    EXIT_FAILURE,
    _app_pool,
    _connected,
    _expected_failures,
    _fail,
    _password_option,
    _progress,
    _run,
    _settings,
    _upgrade,
    _with_container,
    err,
    import_app,
    out,
)
from saldo.kernel.errors import SaldoError
from saldo.platform import db as database
from saldo.platform import migrations as migrations_module
from saldo.platform.eventstore import START, Checkpoint, RecordedEvent, dumps
from saldo.platform.projections import ProjectionFailed
from saldo.platform.runtime import freeze_startup_objects, listen
from saldo.platform.settings import Settings, SettingsError

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Saldo accounting platform.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema migrations.")
projections_app = typer.Typer(no_args_is_help=True, help="Read models fed from the event store.")
events_app = typer.Typer(no_args_is_help=True, help="The event log itself.")
app.add_typer(db_app, name="db")
app.add_typer(projections_app, name="projections")
app.add_typer(events_app, name="events")
#: ``saldo import …``: each context adds its importer (``import journal``, ``import bank``).
app.add_typer(import_app, name="import")

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

    settings = _settings().for_serving()
    host, port = host or settings.host, port or settings.port
    contexts = {c.strip() for c in only.split(",") if c.strip()} if only else None
    try:
        bootstrap.contexts(contexts)
    except LookupError as exc:
        _fail(str(exc), EXIT_FAILURE)
    try:  # first: a taken port must fail before the embedded PostgreSQL starts
        sock = listen(host, port)
    except OSError as exc:
        raise SettingsError(f"{exc.strerror}. Stop the other server or choose another port "
                            "(--port or SALDO_PORT).") from None

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
    uvicorn.Server(config).run(sockets=[sock])


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
        # The contexts' loops (rs.ge delivery) act for companies: the application pool.
        async with _app_pool(container):
            await asyncio.gather(
                container.runner.run_forever(settings.worker_poll_interval, stop),
                *(work(stop) for work in container.workers))

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


# ---------------------------------------------------------------------- events

#: How long ``events tail --no-follow`` waits for the events committed before it started
#: that a transaction still open elsewhere keeps out of sight (the commit-order horizon).
TAIL_CATCH_UP_WAIT = 30.0
_CHECKPOINT = re.compile(r"(\d+)/(\d+)")


def _checkpoint_text(checkpoint: Checkpoint) -> str:
    """``TRANSACTION/POSITION``, as ``projections status`` and ``relay status`` print it."""
    return f"{checkpoint.transaction_id}/{checkpoint.position}"


def _parse_checkpoint(value: str | None) -> Checkpoint:
    if value is None:
        return START
    match = _CHECKPOINT.fullmatch(value.strip())
    if match is None:
        raise typer.BadParameter("a checkpoint is TRANSACTION/POSITION, as each printed line's "
                                 '"checkpoint" gives it (e.g. 7394/1208)',
                                 param_hint="'--after'")
    return Checkpoint(int(match[1]), int(match[2]))


def _event_line(event: RecordedEvent) -> str:
    return dumps({
        "checkpoint": _checkpoint_text(event.checkpoint), "position": event.position,
        "transaction_id": event.transaction_id, "stream_id": event.stream_id,
        "stream_type": event.stream_type, "type": event.type, "version": event.version,
        "schema_version": event.schema_version, "event_id": event.event_id,
        "recorded_at": event.recorded_at, "company_id": event.company_id,
        "data": event.data, "metadata": event.metadata})


class _ReaderGone(Exception):
    """The program reading our output has gone (``saldo events tail | head``)."""


def _print_line(line: str, flush: bool) -> None:
    try:
        sys.stdout.write(line + "\n")
        if flush:
            sys.stdout.flush()
    except BrokenPipeError:
        # Python would fail again flushing stdout at exit: point it at /dev/null.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise _ReaderGone from None


async def _tail(container: bootstrap.Container, after: Checkpoint, wanted: Callable[
        [RecordedEvent], bool], follow: bool) -> tuple[Checkpoint, bool]:
    """Print the events after ``after`` that are ``wanted``; return the checkpoint read up
    to and whether every event committed before the call was read.

    Every company's events: the privileged pool reads them all, as the projection worker
    and the relay do (row-level security restricts only the application role).
    """
    store, poll = container.store, container.settings.worker_poll_interval
    async with container.db.connection() as conn:
        target = await store.newest_checkpoint(conn)
        await conn.rollback()
    checkpoint = after
    deadline = asyncio.get_running_loop().time() + TAIL_CATCH_UP_WAIT
    while follow or checkpoint < target:
        # Without --follow a pass stops where the reader is caught up; that is before
        # ``target`` while a transaction open elsewhere holds the horizon back: try again.
        events = store.subscribe(container.db.connection, checkpoint, poll_interval=poll,
                                 stop_when_caught_up=not follow)
        async with contextlib.aclosing(events):
            async for event in events:
                if wanted(event):
                    _print_line(_event_line(event), flush=follow)
                checkpoint = event.checkpoint
                if not follow and checkpoint >= target:
                    break
        if not follow and checkpoint < target:
            if asyncio.get_running_loop().time() > deadline:
                return checkpoint, False
            await asyncio.sleep(poll)
    return checkpoint, True


@events_app.command("tail")
@_expected_failures
def events_tail(
    after: str | None = typer.Option(
        None, "--after", metavar="CHECKPOINT",
        help="Start after this checkpoint (TRANSACTION/POSITION, as each line's "
             '"checkpoint"); default: the beginning of the log.'),
    stream_type: list[str] = typer.Option(
        [], "--stream-type", metavar="STREAM_TYPE",
        help="Only events of streams of this type (repeatable)."),
    event_type: list[str] = typer.Option(
        [], "--type", metavar="EVENT_TYPE", help="Only events of this type (repeatable)."),
    follow: bool = typer.Option(
        False, "--follow/--no-follow",
        help="Keep printing new events until Ctrl+C; default: stop once every event "
             "committed before the command started is printed."),
) -> None:
    """Print committed events in commit order, one JSON line each, every company's."""
    start = _parse_checkpoint(after)
    stream_types, types = frozenset(stream_type), frozenset(event_type)

    def wanted(event: RecordedEvent) -> bool:
        return ((not stream_types or event.stream_type in stream_types)
                and (not types or event.type in types))

    async def work(container: bootstrap.Container) -> tuple[Checkpoint, bool] | None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if follow:  # on stderr: stdout is the events' alone
            err.print(f"following events after {_checkpoint_text(start)}; Ctrl+C stops",
                      highlight=False)
        tail = asyncio.create_task(_tail(container, start, wanted, follow))
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({tail, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (tail, stopped):
                task.cancel()
            await asyncio.gather(tail, stopped, return_exceptions=True)
        if tail.cancelled():  # Ctrl+C: each printed line names where to resume
            return None
        try:
            return tail.result()
        except _ReaderGone:
            return None

    result = _run(_with_container(_settings(), work))
    with contextlib.suppress(BrokenPipeError):
        sys.stdout.flush()
    if result is not None and not result[1]:
        _fail(f"stopped at {_checkpoint_text(result[0])}: a transaction still open on the "
              f"server holds back events committed after it; run again with --after "
              f"{_checkpoint_text(result[0])}", EXIT_FAILURE)


# ---------------------------------------------------------------------- demo


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
