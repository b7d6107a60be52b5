"""``saldo rs``: the Revenue Service exchange -- its stand-in, the delivery worker, the
state of the outgoing e-invoices and their retry."""

from __future__ import annotations

import asyncio
import signal
from uuid import UUID

import typer
from rich.table import Table

from saldo import bootstrap
from saldo.cli.common import _app_pool, _expected_failures, _run, _settings, _with_container, out
from saldo.identity.service import Permission
from saldo.kernel.events import Actor
from saldo.rsge import queries
from saldo.rsge.service import RsgeService

rs_app = typer.Typer(no_args_is_help=True, help="rs.ge e-invoices and waybills.")


def register(app: typer.Typer) -> None:
    app.add_typer(rs_app, name="rs")


def _rs(container: bootstrap.Container) -> RsgeService:
    return container.wiring.service("rsge", RsgeService)


@rs_app.command("sandbox")
def sandbox(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8090, help="Port to listen on."),
) -> None:
    """Serve the stand-in Revenue Service (SOAP over HTTP, state in memory). Point Saldo
    at it with SALDO_RS_URL=http://HOST:PORT."""
    import uvicorn

    from saldo.rsge.sandbox import DEMO_USER, create_app

    out.print(f"rs.ge stand-in on http://{host}:{port} (service user {DEMO_USER[0]!r}, "
              f"password {DEMO_USER[1]!r}); SALDO_RS_URL=http://{host}:{port}")
    uvicorn.run(create_app(), host=host, port=port, log_level="warning", access_log=False)


@rs_app.command("worker")
@_expected_failures
def worker() -> None:
    """Send queued e-invoices, poll their status and sync incoming documents (only the
    rs.ge loop; ``saldo worker`` runs it beside the projections)."""
    settings = _settings()

    async def work(container: bootstrap.Container) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        out.print("rs.ge worker running; Ctrl+C stops")
        async with _app_pool(container):
            await _rs(container).run_forever(stop)

    _run(_with_container(settings, work))


@rs_app.command("status")
@_expected_failures
def status(
    company: UUID = typer.Option(..., "--company", help="The company's id."),
    user: str = typer.Option(..., "--user", help="A member who may read documents."),
    only: str | None = typer.Option(None, "--status", help="queued, sent, confirmed, "
                                                           "rejected or failed."),
) -> None:
    """The outgoing e-invoices: state, attempts, last error."""

    async def work(container: bootstrap.Container) -> list[dict[str, object]]:
        async with _app_pool(container):
            ctx = await container.identity.member_context(company, user,
                                                          Permission.DOCUMENTS_READ)
            return await _rs(container).read(
                ctx.company_id, lambda conn: queries.einvoices(conn, ctx.company_id, only))

    rows = _run(_with_container(_settings(), work))
    table = Table("invoice", "number", "status", "rs.ge", "attempts", "last error")
    for r in rows:
        official = f"{r['series'] or ''} {r['rs_number'] or ''}".strip() or str(r["rs_id"] or "")
        table.add_row(str(r["document_id"]), str(r["number"]), str(r["status"]), official,
                      str(r["attempts"]), str(r["last_error"] or ""))
    out.print(table)
    out.print(f"{len(rows)} e-invoice(s)")


@rs_app.command("retry")
@_expected_failures
def retry(
    company: UUID = typer.Option(..., "--company", help="The company's id."),
    user: str = typer.Option(..., "--user", help="A member who may write documents."),
    invoice: UUID = typer.Argument(..., help="The sales invoice whose e-invoice failed."),
) -> None:
    """Queue a failed e-invoice again (POST …/e-invoice/retry)."""

    async def work(container: bootstrap.Container) -> None:
        async with _app_pool(container):
            ctx = await container.identity.member_context(company, user,
                                                          Permission.DOCUMENTS_WRITE)
            await _rs(container).retry(ctx.company_id, Actor(ctx.user.id, ctx.user.username),
                                       invoice)

    _run(_with_container(_settings(), work))
    out.print(f"{invoice}: queued again")
