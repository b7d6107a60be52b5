"""Identity's use cases: log in, rotate and revoke tokens, manage users, companies and
members. Each runs in one transaction on the application pool (row-level security on),
scoped to the company it touches, and records its audit event in that transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import structlog

from saldo.identity import security, store
from saldo.identity.domain import (
    CHARTS,
    COMPANY_CREATED,
    LOGIN_FAILED,
    LOGIN_SUCCEEDED,
    MEMBER_ADDED,
    MEMBER_INVITED,
    MEMBER_REMOVED,
    MEMBER_ROLE_CHANGED,
    TOKEN_FAMILY_REVOKED,
    USER_CREATED,
    AlreadyMember,
    CompanyContext,
    CompanyNotFound,
    LastAdministrator,
    MemberNotFound,
    NewCompany,
    NotAuthenticated,
    OwnRoleUnchangeable,
    Permission,
    PermissionDenied,
    Role,
    TooManyAttempts,
    User,
    check_grantable,
    check_password,
    check_username,
    may,
)
from saldo.identity.throttle import LoginLimiter, ThrottleKey, ThrottlePolicy
from saldo.kernel.ids import new_id
from saldo.platform.db import Connection, Database
from saldo.platform.eventstore import EventStore, Metadata

log = structlog.get_logger("saldo.identity")

#: What other contexts take from identity (they import its service, never its domain).
__all__ = ["CHARTS", "Company", "CompanyContext", "CompanyNotFound", "IdentityService",
           "Origin", "Permission", "Role", "User"]

USER_STREAM, COMPANY_STREAM, LOGIN_STREAM = "identity.user", "identity.company", "identity.login"
_WRONG_CREDENTIALS = "Wrong username or password."


def user_stream(user_id: UUID) -> str:
    return f"identity-user-{user_id}"


def company_stream(company_id: UUID) -> str:
    return f"identity-company-{company_id}"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a request came from, for the audit trail."""

    address: str | None = None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class Company:
    id: UUID
    name: str
    tax_id: str
    vat_payer: bool
    base_currency: str
    chart_of_accounts: str
    fiscal_year_start_month: int


CompanyCreatedHook = Callable[[Connection, Company, User], Awaitable[None]]


class IdentityService:
    def __init__(
        self,
        db: Database,
        events: EventStore,
        signer: security.TokenSigner,
        limiter: LoginLimiter,
        *,
        refresh_seconds: int,
        user_policy: ThrottlePolicy,
        address_policy: ThrottlePolicy,
        audit_db: Database | None = None,
    ) -> None:
        self.db, self.events, self.signer, self.limiter = db, events, signer, limiter
        #: Privileged (not under row-level security): only the Saldo-wide identity audit,
        #: which a superuser reads across every company, uses it.
        self.audit_db = audit_db or db
        self.refresh_seconds = refresh_seconds
        self.user_policy, self.address_policy = user_policy, address_policy
        #: Called inside the transaction that creates a company, after it exists; the
        #: composition root adds the ledger's chart loading here, so a company and its
        #: chart of accounts appear together or not at all (identity knows no ledger).
        self.company_created: list[CompanyCreatedHook] = []

    async def _record(self, conn: Connection, stream_id: str, stream_type: str, event_type: str,
                      data: dict[str, Any], origin: Origin, actor: UUID | None,
                      company_id: UUID | None = None) -> None:
        metadata = Metadata(actor=str(actor) if actor else None, company_id=company_id,
                            correlation_id=origin.request_id)
        await store.record(conn, self.events, stream_id, stream_type, event_type,
                           {**data, "address": origin.address}, metadata)

    # ------------------------------------------------------------------ users

    async def create_user(self, username: str, password: str, full_name: str = "", *,
                          is_superuser: bool = False, actor: User | None = None,
                          origin: Origin = Origin()) -> User:
        check_username(username)
        check_password(password, username)
        password_hash = await security.hash_password(password)
        async with self.db.transaction() as conn:
            user = await store.insert_user(conn, username, full_name.strip(), password_hash,
                                           is_superuser=is_superuser)
            await self._record(conn, user_stream(user.id), USER_STREAM, USER_CREATED,
                               {"user_id": str(user.id), "username": user.username,
                                "is_superuser": is_superuser}, origin,
                               actor.id if actor else None)
            await self._accept_invitations(conn, user, origin)
        return user

    async def _accept_invitations(self, conn: Connection, user: User, origin: Origin) -> None:
        """The invitations waiting for this username become memberships, each recorded in
        its company's stream as the inviting administrator's ``MemberAdded``."""
        for company_id, role, invited_by in await store.invitations_of(conn, user.username):
            await store.act_for_company(conn, company_id)
            await store.insert_membership(conn, company_id, user.id, role)
            await store.delete_invitation(conn, company_id, user.username)
            await self._record(conn, company_stream(company_id), COMPANY_STREAM, MEMBER_ADDED,
                               {"user_id": str(user.id), "username": user.username,
                                "role": role.value, "invited": True},
                               origin, invited_by, company_id)

    # ------------------------------------------------------------------ tokens

    def _throttle_keys(self, username: str, address: str | None) -> list[ThrottleKey]:
        keys = [ThrottleKey("user:" + username.strip().casefold()[:256], self.user_policy)]
        if address:
            keys.append(ThrottleKey("addr:" + address, self.address_policy))
        return keys

    async def login(self, username: str, password: str, origin: Origin = Origin()) -> TokenPair:
        keys = self._throttle_keys(username, origin.address)
        # Reserve the attempt (counted as a failure) before the password is checked, in
        # one atomic step: concurrent guesses cannot all slip past the lock check.
        reservation = await self.limiter.reserve(keys)
        if reservation.wait > 0:
            log.warning("login_throttled", username=username, address=origin.address)
            raise TooManyAttempts(reservation.wait)
        async with self.db.transaction() as conn:
            found = await store.user_for_login(conn, username)
        user, stored_hash = found if found else (None, None)
        ok = await security.verify_password(stored_hash, password)
        if not ok or user is None or not user.is_active:
            async with self.db.transaction() as conn:
                stream = (user_stream(user.id) if user
                          else f"identity-login-{username.strip().casefold()[:256]}")
                reason = "inactive" if ok and user is not None else "bad_credentials"
                await self._record(conn, stream, LOGIN_STREAM if user is None else USER_STREAM,
                                   LOGIN_FAILED, {"username": username, "reason": reason},
                                   origin, user.id if user else None)
            raise NotAuthenticated(_WRONG_CREDENTIALS)
        await self.limiter.succeeded(keys[0])
        for key in keys[1:]:  # the address keeps its other failures, not this attempt
            await self.limiter.refund(key, reservation)
        async with self.db.transaction() as conn:
            if stored_hash and security.needs_rehash(stored_hash):
                await store.set_password_hash(conn, user.id, await security.hash_password(password))
            family_id = await store.insert_family(conn, user.id)
            pair = await self._issue(conn, user.id, family_id, parent_id=None)
            await self._record(conn, user_stream(user.id), USER_STREAM, LOGIN_SUCCEEDED,
                               {"username": user.username, "family_id": str(family_id)},
                               origin, user.id)
        return pair

    async def _issue(self, conn: Connection, user_id: UUID, family_id: UUID,
                     parent_id: UUID | None) -> TokenPair:
        refresh = security.new_refresh_token()
        expires = datetime.now(UTC) + timedelta(seconds=self.refresh_seconds)
        await store.insert_refresh_token(conn, security.refresh_token_hash(refresh), family_id,
                                         parent_id, expires)
        return TokenPair(self.signer.issue_access(user_id, family_id), refresh,
                         self.signer.access_seconds)

    async def refresh(self, refresh_token: str, origin: Origin = Origin()) -> TokenPair:
        """Rotate a refresh token. A token that was rotated already is being replayed:
        someone else holds this family's tokens, so the whole family is revoked."""
        pair: TokenPair | None = None
        async with self.db.transaction() as conn:
            row = await store.refresh_token_for_update(
                conn, security.refresh_token_hash(refresh_token))
            if row is None or row["revoked_at"] is not None or row["expired"]:
                pass
            elif row["rotated_at"] is not None:
                await self._revoke(conn, row["family_id"], row["user_id"], "reuse", origin)
                log.warning("refresh_token_reuse", family_id=str(row["family_id"]),
                            address=origin.address)
            else:
                user = await store.user_by_id(conn, row["user_id"])
                if user is not None and user.is_active:
                    await store.mark_rotated(conn, row["id"])
                    pair = await self._issue(conn, user.id, row["family_id"], row["id"])
        if pair is None:
            raise NotAuthenticated("The refresh token is not valid.")
        return pair

    async def logout(self, refresh_token: str, origin: Origin = Origin()) -> None:
        """Revoke the token's family (the session). Unknown tokens are ignored: logging
        out must not tell anyone whether a token exists."""
        async with self.db.transaction() as conn:
            row = await store.refresh_token_for_update(
                conn, security.refresh_token_hash(refresh_token))
            if row is not None and row["revoked_at"] is None:
                await self._revoke(conn, row["family_id"], row["user_id"], "logout", origin)

    async def logout_everywhere(self, user: User, origin: Origin = Origin()) -> int:
        """Revoke every session (token family) of ``user``: each browser and client is
        signed out at its next request. Returns how many sessions ended."""
        async with self.db.transaction(user_id=user.id) as conn:
            families = await store.live_families(conn, user.id)
            for family_id in families:
                await self._revoke(conn, family_id, user.id, "logout_everywhere", origin)
        return len(families)

    async def _revoke(self, conn: Connection, family_id: UUID, user_id: UUID, because: str,
                      origin: Origin) -> None:
        if await store.revoke_family(conn, family_id, because):
            await self._record(conn, user_stream(user_id), USER_STREAM, TOKEN_FAMILY_REVOKED,
                               {"family_id": str(family_id), "reason": because}, origin,
                               user_id)

    async def authenticate(self, access_token: str) -> User:
        """The active user behind a valid access token of a live family."""
        user, _ = await self._principal(access_token, None)
        return user

    async def authorize(self, access_token: str, company_id: UUID,
                        permission: Permission) -> CompanyContext:
        """The caller's role in a company, if the token is good and the role allows
        ``permission`` -- one transaction and one query for every company-scoped request.

        Not a member, or no such company: 404 alike, so company ids cannot be probed.
        A member whose role lacks the permission: 403.
        """
        user, role = await self._principal(access_token, company_id)
        if role is None:
            raise CompanyNotFound("No such company.", company_id=str(company_id))
        if not may(role, permission):
            raise PermissionDenied(
                f"Your role {role.value} does not grant {permission.value}.",
                permission=permission.value, role=role.value,
            )
        return CompanyContext(user, company_id, role)

    async def _principal(self, access_token: str,
                         company_id: UUID | None) -> tuple[User, Role | None]:
        claims = self.signer.verify_access(access_token)
        if claims.family_id is None:
            raise NotAuthenticated("The access token is not valid.")
        found = await store.principal(self.db, claims.user_id, claims.family_id, company_id)
        if found is None or not found[0].is_active or not found[1]:
            raise NotAuthenticated("The access token has been revoked.")
        return found[0], found[2]

    async def create_company(self, user: User, new: NewCompany,
                             origin: Origin = Origin()) -> Company:
        """A new company; its creator becomes its chief accountant, and the hooks in
        :attr:`company_created` (the ledger's chart of accounts) run in the same
        transaction."""
        company_id = new_id()
        async with self.db.transaction(company_id=company_id, user_id=user.id) as conn:
            await store.insert_company(conn, new, user.id, company_id)
            await store.insert_membership(conn, company_id, user.id, Role.CHIEF_ACCOUNTANT)
            stream = company_stream(company_id)
            await self._record(conn, stream, COMPANY_STREAM, COMPANY_CREATED,
                               {"company_id": str(company_id), "name": new.name,
                                "tax_id": new.tax_id}, origin, user.id, company_id)
            await self._record(conn, stream, COMPANY_STREAM, MEMBER_ADDED,
                               {"user_id": str(user.id), "username": user.username,
                                "role": Role.CHIEF_ACCOUNTANT.value}, origin, user.id, company_id)
            company = Company(company_id, new.name, new.tax_id, new.vat_payer,
                              new.base_currency, new.chart_of_accounts,
                              new.fiscal_year_start_month)
            for hook in self.company_created:
                await hook(conn, company, user)
        return company

    async def member_context(self, company_id: UUID, username: str,
                             permission: Permission) -> CompanyContext:
        """A member acting without a token: operator commands (``saldo import journal
        --user``) that record who did the work. 404 unless a member, 403 unless allowed."""
        async with self.db.transaction(company_id=company_id) as conn:
            user = await store.user_by_username(conn, username)
            role = await store.membership_role(conn, company_id, user.id) if user else None
        if user is None or role is None or not user.is_active:
            raise CompanyNotFound(f"{username} is not a member of company {company_id}.",
                                  company_id=str(company_id))
        ctx = CompanyContext(user, company_id, role)
        if not ctx.may(permission):
            raise PermissionDenied(f"{username}'s role {role.value} lacks {permission.value}.",
                                   permission=permission.value)
        return ctx

    async def add_member(self, ctx: CompanyContext, username: str, role: Role,
                         origin: Origin = Origin()) -> User | None:
        """Add ``username`` with ``role``; ``None`` when no such user exists yet: then the
        name is invited and becomes a member when that user is created. The caller answers
        both alike, so adding members cannot be used to probe which usernames exist."""
        check_grantable(ctx, role)
        async with self.db.transaction(company_id=ctx.company_id) as conn:
            target = await self._lookup_target(conn, ctx, username)
            if target is None:
                check_username(username)
                await store.insert_invitation(conn, ctx.company_id, username, role, ctx.user.id)
                await self._record(conn, company_stream(ctx.company_id), COMPANY_STREAM,
                                   MEMBER_INVITED, {"username": username, "role": role.value},
                                   origin, ctx.user.id, ctx.company_id)
                return None
            if await store.membership_role(conn, ctx.company_id, target.id) is not None:
                raise AlreadyMember(f"{target.username} is a member already.",
                                    username=target.username)
            await store.insert_membership(conn, ctx.company_id, target.id, role)
            await self._record(conn, company_stream(ctx.company_id), COMPANY_STREAM,
                               MEMBER_ADDED, {"user_id": str(target.id),
                                              "username": target.username, "role": role.value},
                               origin, ctx.user.id, ctx.company_id)
        return target

    async def change_role(self, ctx: CompanyContext, username: str, role: Role,
                          origin: Origin = Origin()) -> User:
        check_grantable(ctx, role)
        async with self.db.transaction(company_id=ctx.company_id) as conn:
            target = await self._member_target(conn, ctx, username)
            if target.id == ctx.user.id:
                raise OwnRoleUnchangeable(
                    "You cannot change your own role; another administrator must.")
            current = await self._current_role(conn, ctx, target)
            if current is role:
                return target
            await self._keep_an_administrator(conn, ctx, current, role)
            await store.update_membership(conn, ctx.company_id, target.id, role)
            await self._record(conn, company_stream(ctx.company_id), COMPANY_STREAM,
                               MEMBER_ROLE_CHANGED,
                               {"user_id": str(target.id), "username": target.username,
                                "from_role": current.value, "role": role.value},
                               origin, ctx.user.id, ctx.company_id)
        return target

    async def remove_member(self, ctx: CompanyContext, username: str,
                            origin: Origin = Origin()) -> None:
        async with self.db.transaction(company_id=ctx.company_id) as conn:
            if (await self._lookup_target(conn, ctx, username) is None
                    and await store.delete_invitation(conn, ctx.company_id, username)):
                await self._record(conn, company_stream(ctx.company_id), COMPANY_STREAM,
                                   MEMBER_REMOVED, {"username": username, "invited": True},
                                   origin, ctx.user.id, ctx.company_id)
                return
            target = await self._member_target(conn, ctx, username)
            current = await self._current_role(conn, ctx, target)
            await self._keep_an_administrator(conn, ctx, current, None)
            await store.delete_membership(conn, ctx.company_id, target.id)
            await self._record(conn, company_stream(ctx.company_id), COMPANY_STREAM,
                               MEMBER_REMOVED, {"user_id": str(target.id),
                                                "username": target.username,
                                                "role": current.value},
                               origin, ctx.user.id, ctx.company_id)

    async def _lookup_target(self, conn: Connection, ctx: CompanyContext,
                             username: str) -> User | None:
        # Membership changes of one company are serialised on the company row, so the
        # "keep an administrator" check cannot be raced by two concurrent demotions.
        if not await store.lock_company(conn, ctx.company_id):
            raise CompanyNotFound("No such company.", company_id=str(ctx.company_id))
        return await store.user_by_username(conn, username)

    async def _member_target(self, conn: Connection, ctx: CompanyContext, username: str) -> User:
        target = await self._lookup_target(conn, ctx, username)
        if target is None:
            # The same answer as for a user who is not a member: no probing for names.
            raise MemberNotFound(f"{username} is not a member of this company.",
                                 username=username)
        return target

    async def _current_role(self, conn: Connection, ctx: CompanyContext, target: User) -> Role:
        current = await store.membership_role(conn, ctx.company_id, target.id)
        if current is None:
            raise MemberNotFound(f"{target.username} is not a member of this company.",
                                 username=target.username)
        return current

    async def _keep_an_administrator(self, conn: Connection, ctx: CompanyContext,
                                     current: Role, new: Role | None) -> None:
        if not may(current, Permission.ADMIN_USERS):
            return
        if new is not None and may(new, Permission.ADMIN_USERS):
            return
        admin_roles = [r for r in Role if may(r, Permission.ADMIN_USERS)]
        if await store.count_roles(conn, ctx.company_id, admin_roles) <= 1:
            raise LastAdministrator(
                "The company would be left without a member who can manage its users.")
