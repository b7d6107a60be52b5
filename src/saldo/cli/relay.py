"""``saldo relay``: publish committed events to NATS JetStream and/or Kafka.

``SALDO_NATS_URL`` and ``SALDO_KAFKA_BOOTSTRAP_SERVERS`` select the brokers (one relay
loop per broker, each with its own checkpoint). ``saldo relay status`` shows where each
stands; ``saldo relay dead-letters`` lists the poison events.
"""

from __future__ import annotations

import asyncio
import signal

import typer
from rich.table import Table

from saldo import bootstrap
from saldo.cli.common import (
    EXIT_CONFIG,
    EXIT_FAILURE,
    _expected_failures,
    _fail,
    _run,
    _settings,
    _with_container,
    out,
)
from saldo.platform.runtime import freeze_startup_objects
from saldo.relay import queries
from saldo.relay.brokers import Publisher, publisher_for
from saldo.relay.service import Relay, RelayStopped
from saldo.relay.settings import RelaySettings, load_relay_settings

relay_app = typer.Typer(help="Publish committed events to NATS JetStream and Kafka.",
                        invoke_without_command=True)


def register(app: typer.Typer) -> None:
    app.add_typer(relay_app, name="relay")


def _publishers(settings: RelaySettings, only: str | None) -> list[Publisher]:
    sinks = settings.sinks()
    if only:
        sinks = [s for s in sinks if s == only]
    if not sinks:
        _fail("No broker is configured: set SALDO_NATS_URL and/or "
              "SALDO_KAFKA_BOOTSTRAP_SERVERS" + (f" (for --sink {only})" if only else "")
              + ".", EXIT_CONFIG)
    result: list[Publisher] = []
    for sink in sinks:
        if sink == "nats":
            assert settings.nats_url
            result.append(publisher_for("nats", settings.nats_url, stream=settings.nats_stream,
                                        duplicate_window=settings.nats_duplicate_window,
                                        ack_timeout=settings.relay_ack_timeout))
        else:
            assert settings.kafka_bootstrap_servers
            result.append(publisher_for(
                "kafka", settings.kafka_bootstrap_servers,
                message_timeout_ms=settings.kafka_message_timeout_ms,
                ack_timeout=settings.relay_ack_timeout))
    return result


@relay_app.callback()
@_expected_failures
def relay(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="Publish every committed event, then "
                                                    "exit (non-zero if a broker failed)."),
    sink: str | None = typer.Option(None, "--sink", help="Only this broker: nats or kafka."),
) -> None:
    """Publish committed events, in commit order, to the configured brokers."""
    if ctx.invoked_subcommand is not None:
        return
    settings = _settings()
    relay_settings = load_relay_settings()
    publishers = _publishers(relay_settings, sink)

    async def work(container: bootstrap.Container) -> None:
        relays = [Relay(container.db, container.store, p,
                        batch_size=relay_settings.relay_batch_size,
                        in_flight=relay_settings.relay_in_flight) for p in publishers]
        try:
            for p in publishers:
                await p.start()
            if once:
                for r in relays:
                    try:
                        count = await r.catch_up()
                        out.print(f"{r.sink}: published {count} events")
                    except RelayStopped as exc:
                        _fail(f"{r.sink}: the broker did not acknowledge: {exc}",
                              EXIT_FAILURE)
                return
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            out.print(f"relay publishing to {', '.join(r.sink for r in relays)}; "
                      "Ctrl+C stops", highlight=False)
            freeze_startup_objects()
            await asyncio.gather(*(r.run_forever(relay_settings.relay_poll_interval, stop)
                                   for r in relays))
        finally:
            for p in publishers:
                await p.close()

    _run(_with_container(settings, work))


@relay_app.command("status")
@_expected_failures
def status() -> None:
    """Each broker's checkpoint, how many events it is behind, and its dead letters."""
    sinks = load_relay_settings().sinks()

    async def work(container: bootstrap.Container) -> list[queries.SinkStatus]:
        async with container.db.connection() as conn:
            return await queries.status(conn, sinks)

    table = Table("sink", "checkpoint", "published", "dead letters", "behind", "updated")
    for s in _run(_with_container(_settings(), work)):
        table.add_row(s.sink, f"{s.transaction_id}/{s.position}", str(s.published),
                      str(s.dead_letters), str(s.behind),
                      s.updated_at.isoformat(timespec="seconds") if s.updated_at else "")
    out.print(table)


@relay_app.command("dead-letters")
@_expected_failures
def dead_letters(sink: str | None = typer.Option(None, "--sink")) -> None:
    """The poison events: what could not be published, and why."""

    async def work(container: bootstrap.Container) -> list[queries.DeadLetter]:
        async with container.db.connection() as conn:
            return await queries.dead_letters(conn, sink)

    table = Table("sink", "position", "event type", "event id", "error")
    for d in _run(_with_container(_settings(), work)):
        table.add_row(d.sink, str(d.position), d.event_type, str(d.event_id), d.error)
    out.print(table)
