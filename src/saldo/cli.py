"""The ``saldo`` command line.

Expected failures (a bad setting, an unreachable database, a failed migration) print one
paragraph naming what to fix and exit non-zero; stack traces are for bugs only.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from saldo import __version__, bootstrap
from saldo.kernel.errors import SaldoError
from saldo.platform import db as database
from saldo.platform import logging as saldo_logging
from saldo.platform import migrations as migrations_module
from saldo.platform.embedded import EmbeddedServerError
from saldo.platform.projections import ProjectionFailed
from saldo.platform.settings import Settings, SettingsError, load_settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Saldo accounting platform.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema migrations.")
projections_app = typer.Typer(no_args_is_help=True, help="Read models fed from the event store.")
users_app = typer.Typer(no_args_is_help=True, help="Users who may log in.")
app.add_typer(db_app, name="db")
app.add_typer(projections_app, name="projections")
app.add_typer(users_app, name="users")

out = Console()
err = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

#: Exit codes: 2 for configuration problems, 1 for everything else that is expected.
EXIT_CONFIG, EXIT_FAILURE = 2, 1


def _expected_failures(fn: Callable[P, R]) -> Callable[P, R]:
    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except SettingsError as exc:
            _fail(str(exc), EXIT_CONFIG)
        except database.DatabaseUnavailable as exc:
            _fail(f"{exc}. Check SALDO_DATABASE_URL, or unset it to use the embedded "
                  "PostgreSQL.", EXIT_CONFIG)
        except EmbeddedServerError as exc:
            _fail(str(exc), EXIT_CONFIG)
        except migrations_module.MigrationError as exc:
            _fail(f"Schema migration failed: {exc}", EXIT_FAILURE)
        except SaldoError as exc:  # a rule the input broke (weak password, taken name)
            _fail(exc.detail, EXIT_FAILURE)
        raise AssertionError("unreachable")  # pragma: no cover

    return wrapper


def _fail(message: str, code: int) -> None:
    err.print(f"[bold red]saldo:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _freeze_startup_objects() -> None:
    """Move everything allocated at start-up out of the garbage collector's sight.

    Long-running processes create many short-lived dicts (one per event or request);
    each full collection would otherwise walk every imported module's objects again.
    Measured: read-all through subscribe() +25 % (bench/eventstore.py, prototype P3).
    """
    gc.collect()
    gc.freeze()


def _settings() -> Settings:
    settings = load_settings()
    saldo_logging.configure(settings.log_level, settings.effective_log_format)
    return settings


def _run(coro: Coroutine[Any, Any, R]) -> R:
    return asyncio.run(coro)


async def _connected(settings: Settings, keep_embedded: bool = False) -> bootstrap.Container:
    url = bootstrap.database_url(settings, keep_embedded_running=keep_embedded)
    # One direct connection first: it fails fast with a clear message, where a pool retries.
    conn = await database.connect(url)
    await conn.close()
    container = bootstrap.build(settings, url)
    await container.db.open()
    return container


async def _with_container(
    settings: Settings, work: Callable[[bootstrap.Container], Awaitable[R]]
) -> R:
    container = await _connected(settings)
    try:
        return await work(container)
    finally:
        await container.db.close()


async def _upgrade(container: bootstrap.Container) -> list[migrations_module.Migration]:
    async with container.db.connection() as conn:
        return await migrations_module.upgrade(conn, bootstrap.migrations())


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
) -> None:
    """Apply migrations and serve the HTTP API."""
    import uvicorn

    settings = _settings()
    host, port = host or settings.host, port or settings.port

    async def prepare() -> str:
        container = await _connected(settings)
        try:
            applied = await _upgrade(container)
        finally:
            await container.db.close()
        for m in applied:
            out.print(f"applied migration {m.version:04d}_{m.name}")
        return container.db.url

    url = _run(prepare())
    where = "embedded PostgreSQL in " + str(settings.data_dir) if settings.uses_embedded_database \
        else database.redact(url)
    out.print(f"Saldo {__version__} on {where}")
    out.print(f"Serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    sys.stdout.flush()
    application = bootstrap.create_app(bootstrap.build(settings, url))
    config = uvicorn.Config(application, host=host, port=port, log_config=None,
                            access_log=False, proxy_headers=False, server_header=False)
    _freeze_startup_objects()
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
        _freeze_startup_objects()
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
        await container.app_db.open()
        try:
            user = await container.identity.create_user(
                username, password, full_name, is_superuser=superuser)
        finally:
            await container.app_db.close()
        return str(user.id)

    user_id = _run(_with_container(settings, work))
    kind = "superuser" if superuser else "user"
    out.print(f"created {kind} {username} ({user_id})")


def main() -> None:
    app()
