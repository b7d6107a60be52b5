"""The ledger context as the composition root sees it."""

from __future__ import annotations

from fastapi import APIRouter

from saldo.identity.service import IdentityService
from saldo.ledger import api
from saldo.ledger.projections import READ_MODELS, LedgerProjection
from saldo.ledger.service import LedgerService
from saldo.platform.eventstore import InlineProjection
from saldo.platform.registry import Context, Wiring


def build(w: Wiring) -> LedgerService:
    return LedgerService(w.units, history_years=w.settings.ledger_history_years)


def connect(w: Wiring) -> None:
    # A new company's chart of accounts is loaded in the transaction that creates it.
    identity = w.service("identity", IdentityService)
    identity.company_created.append(w.service("ledger", LedgerService).load_chart)


def inline_projections() -> list[InlineProjection]:
    return [LedgerProjection()]


def routers() -> list[APIRouter]:
    return [api.router()]


CONTEXT = Context(
    name="ledger",
    package="saldo.ledger",
    build=build,
    connect=connect,
    routers=routers,
    inline_projections=inline_projections,
    cli="saldo.cli.ledger",
    permissions=("accounts:read", "accounts:write", "transactions:read", "transactions:write",
                 "transactions:approve", "periods:close"),
    tables=(*READ_MODELS, "idempotency_keys"),
)
