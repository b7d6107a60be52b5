"""The chart of accounts' use cases: load a new company's chart, add, change and delete
accounts (the chart aggregate decides; the books supply what only they know)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from saldo.identity.service import Company, CompanyContext, CompanyNotFound, User
from saldo.ledger import domain as d
from saldo.ledger import queries, store
from saldo.ledger.books import CHART_STREAM, Books, actor_of, chart_stream
from saldo.ledger.charts import chart
from saldo.ledger.domain import (
    Account,
    AccountType,
    Actor,
)
from saldo.platform.db import Connection
from saldo.platform.uow import UnitOfWork


class Accounts(Books):
    """The chart of accounts' use cases (part of :class:`~saldo.ledger.service.LedgerService`)."""

    async def load_chart(self, conn: Connection, company: Company, user: User) -> None:
        """Copy the company's chart into its books (identity's hook: runs in the
        transaction that creates the company, before the company has a unit of work)."""
        actor = Actor(user.id, user.username)
        uow = UnitOfWork(conn, self.db, self.events, company.id, actor)
        loaded = d.ChartOfAccounts.load(company.chart_of_accounts,
                                        chart(company.chart_of_accounts), actor)
        await _save_chart(uow, loaded)

    async def add_account(self, ctx: CompanyContext, code: str, name: str, name_ka: str | None,
                          account_type: AccountType | None, parent_code: str | None,
                          classification: d.Classification | None = None,
                          cash_flow: d.CashFlow | None = None) -> Account:
        async def decide(uow: UnitOfWork) -> Account:
            accounts = await _chart(uow)
            parent = accounts.accounts.get(parent_code or d.default_parent(code) or "")
            postings = (code not in accounts.accounts and parent is not None
                        and await store.has_postings(uow.conn, uow.company_id, parent.code))
            account = accounts.add(code, name, name_ka, account_type, parent_code, uow.actor,
                                   postings, classification, cash_flow)
            await _save_chart(uow, accounts)
            return account

        return await self.units.run(ctx.company_id, actor_of(ctx), decide)

    async def change_account(self, ctx: CompanyContext, code: str,
                             changes: dict[str, Any]) -> Account:
        async def decide(uow: UnitOfWork) -> Account:
            accounts = await _chart(uow)
            account = accounts.account(code)
            facts = d.AccountFacts()
            if changes.get("active") is False and account.active:
                debit, credit = await queries.balance(uow.conn, uow.company_id, code,
                                                      date.max, postable=account.postable)
                facts = replace(facts, balance=debit - credit)
            if changes.get("type") is not None:
                facts = replace(facts, has_postings=await store.has_postings(
                    uow.conn, uow.company_id, code))
            changed = accounts.change(code, changes, uow.actor, facts)
            await _save_chart(uow, accounts)
            return changed

        return await self.units.run(ctx.company_id, actor_of(ctx), decide)

    async def delete_account(self, ctx: CompanyContext, code: str) -> None:
        async def decide(uow: UnitOfWork) -> None:
            accounts = await _chart(uow)
            accounts.account(code)
            conn, company = uow.conn, uow.company_id
            facts = d.AccountFacts(
                has_postings=await store.has_postings(conn, company, code),
                has_open_drafts=await store.has_open_drafts(conn, company, code))
            accounts.delete(code, uow.actor, facts)
            await _save_chart(uow, accounts)

        await self.units.run(ctx.company_id, actor_of(ctx), decide)


#: The chart's stream grows by an event per account added, changed or deleted, and every
#: use case of the chart loads it: when an append takes the stream's version across a
#: multiple of this, the chart is also saved as a snapshot in the same transaction, so a
#: use case applies fewer than this many events on top of the newest snapshot however
#: long the chart's history grows (decision 0067).
CHART_SNAPSHOT_INTERVAL = 50


async def _chart(uow: UnitOfWork) -> d.ChartOfAccounts:
    """The company's chart of accounts: its newest snapshot (one of the current schema)
    and the events after it, or its whole stream replayed."""
    snapshot, events = await uow.load(chart_stream(uow.company_id), d.CHART_SNAPSHOT_SCHEMA)
    start = (None if snapshot is None
             else d.ChartOfAccounts.from_snapshot(snapshot.state, snapshot.version))
    accounts = d.ChartOfAccounts.replay(((e.type, e.data) for e in events), start)
    if accounts is None:  # every company's chart is loaded when it is created
        raise CompanyNotFound("No such company.", company_id=str(uow.company_id))
    return accounts


async def _save_chart(uow: UnitOfWork, accounts: d.ChartOfAccounts) -> None:
    pending, accounts.pending = accounts.pending, []
    if not pending:
        return
    stream, before = chart_stream(uow.company_id), accounts.version - len(pending)
    await uow.append(stream, CHART_STREAM, before, pending)
    if accounts.version // CHART_SNAPSHOT_INTERVAL > before // CHART_SNAPSHOT_INTERVAL:
        await uow.save_snapshot(stream, CHART_STREAM, accounts.version,
                                accounts.snapshot_state(), d.CHART_SNAPSHOT_SCHEMA)


