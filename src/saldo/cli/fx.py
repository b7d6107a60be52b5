"""``saldo rates``: official NBG exchange rates; ``saldo fx``: IAS 21 revaluation."""

from __future__ import annotations

from datetime import datetime

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

