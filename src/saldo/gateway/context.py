"""The gateway as the composition root sees it: a command (``saldo gateway``), no schema
and no routes of the API (it runs as a process of its own in front of the services)."""

from __future__ import annotations

from saldo.platform.registry import Context

CONTEXT = Context(name="gateway", package="saldo.gateway", cli="saldo.cli.gateway")
