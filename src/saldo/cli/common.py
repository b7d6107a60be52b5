"""What every ``saldo`` command module shares: consoles, settings, the container, and the
handling of expected failures (a bad setting, an unreachable database, a failed
migration print one paragraph naming what to fix and exit non-zero; stack traces are for
bugs only).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from saldo import bootstrap
from saldo.kernel.errors import SaldoError
from saldo.platform import db as database
from saldo.platform import logging as saldo_logging
from saldo.platform import migrations as migrations_module
from saldo.platform.embedded import EmbeddedServerError
from saldo.platform.settings import Settings, SettingsError, load_settings

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


@asynccontextmanager
async def _app_pool(container: bootstrap.Container) -> AsyncIterator[None]:
    """The application role's pool, open for the work inside: the commands that act as a
    member of a company, under row-level security as the API does."""
    await container.app_db.open()
    try:
        yield
    finally:
        await container.app_db.close()


async def _upgrade(container: bootstrap.Container) -> list[migrations_module.Migration]:
    async with container.db.connection() as conn:
        return await migrations_module.upgrade(conn, bootstrap.migrations())


#: ``saldo import …``: a group every context may add its importer to.
import_app = typer.Typer(no_args_is_help=True, help="Load books from files.")


def _password_option() -> str | None:
    return os.environ.get("SALDO_PASSWORD") or None


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=out)
