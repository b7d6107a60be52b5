"""``saldo rates``: official NBG exchange rates; ``saldo fx``: IAS 21 revaluation."""

from __future__ import annotations

import asyncio
import signal
from datetime import datetime, time
from uuid import UUID

import typer

from saldo import bootstrap
from saldo.cli.common import (
    EXIT_FAILURE,
    _app_pool,
    _expected_failures,
    _fail,
    _run,
    _settings,
    _with_container,
    out,
)
from saldo.fx.service import FetchOutcome, FxService
from saldo.identity.service import Permission
from saldo.ledger.service import Revaluation

rates_app = typer.Typer(no_args_is_help=True, help="Official NBG exchange rates.")
fx_app = typer.Typer(no_args_is_help=True, help="Foreign-currency books (IAS 21).")

_DAY = ["%Y-%m-%d"]


def register(app: typer.Typer) -> None:
    app.add_typer(rates_app, name="rates")
    app.add_typer(fx_app, name="fx")


def _fx(container: bootstrap.Container) -> FxService:
    service = container.services["fx"]
    assert isinstance(service, FxService)
    return service


@rates_app.command("fetch")
@_expected_failures
def fetch(
    day: datetime | None = typer.Option(None, "--date", formats=_DAY,
                                        help="The day whose rates to load (default: today)."),
    date_from: datetime | None = typer.Option(None, "--from", formats=_DAY,
                                              help="First day of a range."),
    date_to: datetime | None = typer.Option(None, "--to", formats=_DAY,
                                            help="Last day of a range (default: today)."),
) -> None:
    """Load NBG's official rates (SALDO_NBG_URL points at another server). Each day's
    answer is stored whole or not at all; a day NBG cannot serve is reported and the
    command exits 1."""
    if day is not None and (date_from is not None or date_to is not None):
        _fail("Give --date, or --from and --to, not both.", EXIT_FAILURE)
    settings = _settings()

    async def work(container: bootstrap.Container) -> FetchOutcome:
        async with _app_pool(container):
            fx = _fx(container)
            if day is not None:
                first = last = day.date()
            else:
                last = date_to.date() if date_to else fx.today()
                first = date_from.date() if date_from else last
            return await fx.fetch(first, last)

    outcome = _run(_with_container(settings, work))
    out.print(f"{len(outcome.days)} day(s) asked: {outcome.stored} rate(s) stored, "
              f"{outcome.unchanged} unchanged", highlight=False)
    for failed_day, code, detail in outcome.failures:
        out.print(f"{failed_day}: {code}: {detail}", highlight=False)
    if outcome.failures:
        raise typer.Exit(EXIT_FAILURE)



@fx_app.command("revalue")
@_expected_failures
def revalue(
    as_of: datetime = typer.Option(..., "--as-of", formats=_DAY,
                                   help="The day whose closing rates to revalue at."),
    company: UUID = typer.Option(..., "--company", help="The company's id."),
    user: str = typer.Option(..., "--user", help="A member whose role holds "
                                                 "transactions:approve."),
) -> None:
    """IAS 21 revaluation of the monetary accounts' foreign-currency balances at the
    official rate in effect on --as-of, posted (and reversed the next day), as
    POST .../fx-revaluations does. Running it again for the same day posts nothing."""
    settings = _settings()

    async def work(container: bootstrap.Container) -> Revaluation:
        async with _app_pool(container):
            ctx = await container.identity.member_context(company, user,
                                                          Permission.TRANSACTIONS_APPROVE)
            return await container.ledger.revalue(ctx, as_of.date())

    done = _run(_with_container(settings, work))
    for r in done.lines:
        out.print(f"{r.account_code:<10} {r.currency} {r.foreign_balance:>16} × {r.rate}: "
                  f"{r.gel_before:>14} → {r.gel_after:>14}  {r.difference:>+12}",
                  highlight=False)
    if done.posted:
        out.print(f"posted transaction {done.transaction_id}", highlight=False)
    elif done.transaction_id is not None:
        out.print(f"revalued before by transaction {done.transaction_id}; nothing posted",
                  highlight=False)
    else:
        out.print("nothing to revalue", highlight=False)


@rates_app.command("schedule")
@_expected_failures
def schedule(
    at: str = typer.Option("00:30", "--at", envvar="SALDO_RATES_FETCH_AT",
                           help="Tbilisi time of the daily fetch (HH:MM)."),
    retry_minutes: float = typer.Option(60.0, "--retry-minutes", min=0.1,
                                        help="Wait before trying a failed day again."),
) -> None:
    """Fetch NBG's rates now and then every day (the rates worker): catches up the days
    since the last rate stored (up to a week), retries a failed day, stops on Ctrl+C."""
    try:
        daily = time.fromisoformat(at)
    except ValueError:
        _fail(f"--at {at!r} is not a time such as 00:30.", EXIT_FAILURE)
    settings = _settings()

    async def work(container: bootstrap.Container) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with _app_pool(container):
            out.print(f"fetching NBG rates daily at {daily:%H:%M} Tbilisi time; Ctrl+C stops",
                      highlight=False)
            await _fx(container).run_schedule(stop, at=daily,
                                              retry_seconds=retry_minutes * 60)

    _run(_with_container(settings, work))
