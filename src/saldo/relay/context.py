"""The relay as the composition root sees it: its schema and its command (``saldo
relay``). It serves no routes: it runs as a process of its own beside the worker."""

from __future__ import annotations

from saldo.platform.registry import Context

CONTEXT = Context(
    name="relay",
    package="saldo.relay",
    cli="saldo.cli.relay",
    tables=("relay_checkpoints", "relay_dead_letters", "relay_consumed"),
)
