"""The rs.ge exchange as the composition root sees it (issue 15)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import APIRouter

from saldo.billing.service import BillingService
from saldo.ledger.service import LedgerService
from saldo.platform.eventstore import InlineProjection
from saldo.platform.projections import Projection
from saldo.platform.registry import Context, Wiring
from saldo.rsge import api
from saldo.rsge.billing import BillingAdapter, BillingPort, NoBilling
from saldo.rsge.crypto import Cipher
from saldo.rsge.projections import EInvoiceOutbox, EInvoiceProjection
from saldo.rsge.service import ERROR_STATUSES, RsgeService
from saldo.rsge.settings import credentials_key, load_rs_settings


def billing_port(w: Wiring) -> BillingPort:
    """Billing's side of the exchange: the adapter when billing is registered."""
    billing = w.services.get("billing")
    if isinstance(billing, BillingService):
        return BillingAdapter(w.units, billing)
    return NoBilling()


def build(w: Wiring) -> RsgeService:
    rs = load_rs_settings()
    # Production refuses to start without the key (SettingsError names the variable).
    return RsgeService(w.units, w.db, rs, Cipher(credentials_key(w.settings, rs)),
                       billing_port(w), w.service("ledger", LedgerService))


def connect(w: Wiring) -> None:
    # Creating a Georgian counterparty in billing checks its tax id on rs.ge when the
    # company has a service user (issue 15 item 5, decision 0063).
    billing = w.services.get("billing")
    if isinstance(billing, BillingService):
        billing.counterparty_lookups.append(w.service("rsge", RsgeService).lookup_if_configured)


def inline_projections() -> list[InlineProjection]:
    return [EInvoiceProjection()]


def async_projections(w: Wiring) -> list[Projection]:
    service = w.service("rsge", RsgeService)
    return [EInvoiceOutbox(w.events, lambda: service.billing)]


def workers(w: Wiring) -> list[Callable[[asyncio.Event], Awaitable[None]]]:
    """Delivery, status polling and the scheduled sync, beside the projections."""
    return [w.service("rsge", RsgeService).run_forever]


def routers() -> list[APIRouter]:
    return [api.router()]


CONTEXT = Context(
    name="rsge",
    package="saldo.rsge",
    build=build,
    connect=connect,
    routers=routers,
    inline_projections=inline_projections,
    async_projections=async_projections,
    workers=workers,
    cli="saldo.cli.rsge",
    errors=ERROR_STATUSES,
    permissions=("documents:read", "documents:write", "documents:approve"),
    tables=("rs_credentials", "rs_einvoices", "rs_incoming", "rs_waybills"),
)
