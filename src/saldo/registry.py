"""Saldo's bounded contexts, in dependency order: a context comes after those it uses.

This list is the one place that names every context. ``saldo.bootstrap`` builds their
services, projections, migrations, error mappings and routers from it, and ``saldo.cli``
mounts their commands. A new context adds its package and one line here.
"""

from __future__ import annotations

from saldo.banking.context import CONTEXT as BANKING
from saldo.billing.context import CONTEXT as BILLING
from saldo.fx.context import CONTEXT as FX
from saldo.gateway.context import CONTEXT as GATEWAY
from saldo.identity.context import CONTEXT as IDENTITY
from saldo.ledger.context import CONTEXT as LEDGER
from saldo.payroll.context import CONTEXT as PAYROLL
from saldo.platform.registry import Context
from saldo.relay.context import CONTEXT as RELAY
from saldo.reporting.context import CONTEXT as REPORTING
from saldo.rsge.context import CONTEXT as RSGE
from saldo.tax.context import CONTEXT as TAX
from saldo.web.context import CONTEXT as WEB

CONTEXTS: tuple[Context, ...] = (
    IDENTITY,
    FX,
    LEDGER,
    BILLING,
    TAX,
    PAYROLL,
    REPORTING,
    BANKING,
    RSGE,
    RELAY,
    GATEWAY,
    WEB,
)


def by_name(names: set[str] | None = None) -> tuple[Context, ...]:
    """The registered contexts, or those named (unknown names are an error)."""
    if names is None:
        return CONTEXTS
    unknown = names - {c.name for c in CONTEXTS}
    if unknown:
        known = ", ".join(c.name for c in CONTEXTS)
        raise LookupError(f"unknown context(s) {', '.join(sorted(unknown))}; known: {known}")
    return tuple(c for c in CONTEXTS if c.name in names)
