"""``saldo gateway``: the edge in front of the services (``saldo serve --only …``) and a
legacy system. ``saldo gateway diff-report`` sums up shadow mode's differences."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.table import Table

from saldo.cli.common import EXIT_CONFIG, _expected_failures, _fail, _settings, out
from saldo.gateway import shadow
from saldo.gateway.app import GatewayApp
from saldo.gateway.config import load
from saldo.gateway.service import Gateway, routes_table
from saldo.platform.runtime import freeze_startup_objects, listen
from saldo.platform.settings import SettingsError

gateway_app = typer.Typer(help="The API gateway: routing, edge checks, breakers, shadow mode.",
                          invoke_without_command=True)


def register(app: typer.Typer) -> None:
    app.add_typer(gateway_app, name="gateway")


def _config_path(config: Path | None) -> Path:
    path = config or (Path(os.environ["SALDO_GATEWAY_CONFIG"])
                      if os.environ.get("SALDO_GATEWAY_CONFIG") else None)
    if path is None:
        _fail("No gateway configuration: pass --config FILE or set SALDO_GATEWAY_CONFIG "
              "(docs/deployment.md shows one).", EXIT_CONFIG)
    assert path is not None
    return path


@gateway_app.callback()
@_expected_failures
def gateway(
    ctx: typer.Context,
    config: Path | None = typer.Option(None, "--config", help="Routes and upstreams "
                                       "(YAML or JSON; default SALDO_GATEWAY_CONFIG)."),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8080, "--port"),
) -> None:
    """Serve the gateway."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    settings = _settings()
    loaded = load(_config_path(config))
    try:
        sock = listen(host, port)
    except OSError as exc:
        raise SettingsError(f"{exc.strerror}: choose another port (--port).") from None
    table = Table("prefix", "mode", "saldo service", "legacy", title="Routes")
    for row in routes_table(loaded.routes):
        table.add_row(*row)
    out.print(table)
    out.print(f"Gateway on http://{host}:{port}", highlight=False)
    application = GatewayApp(Gateway(loaded, settings.signing_key))
    uv = uvicorn.Config(application, host=host, port=port, log_config=None, access_log=False,
                        proxy_headers=False, server_header=False, lifespan="on")
    freeze_startup_objects()
    uvicorn.Server(uv).run(sockets=[sock])


@gateway_app.command("diff-report")
@_expected_failures
def diff_report(
    log: Path | None = typer.Option(None, "--log", help="The shadow log (default: the "
                                    "configuration's shadow_log)."),
    config: Path | None = typer.Option(None, "--config"),
) -> None:
    """Per route in shadow mode: how many answers differed, and which fields."""
    if log is None:
        configured = load(_config_path(config)).shadow_log
        if configured is None:
            _fail("The configuration names no shadow_log; pass --log FILE.", EXIT_CONFIG)
        assert configured is not None
        log = Path(configured)
    summaries = shadow.report(log)
    if not summaries:
        out.print("No differences recorded: the shadowed routes answer as the legacy "
                  "system does.")
        return
    table = Table("route", "differing answers", "fields that differ (times)")
    for s in summaries:
        table.add_row(s.route, str(s.differing_requests),
                      ", ".join(f"{f} ({n})" for f, n in s.fields.most_common()))
    out.print(table)
