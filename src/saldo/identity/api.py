"""Identity's HTTP edge, and the authentication dependencies every context uses.

Other contexts' routers declare what they need with the aliases here::

    @router.get("/companies/{company_id}/accounts")
    async def accounts(ctx: Annotated[CompanyContext, Depends(require(Permission.ACCOUNTS_READ))]):
        ...

``require`` takes ``company_id`` from the path, authenticates the caller, answers 404
when the caller is not a member (or the company does not exist) and 403 when the role
lacks the permission. Every route with ``{company_id}`` in its path must use it; a test
walks the routes to hold every context to that.
"""

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Annotated, Any, Literal, cast
from urllib.parse import parse_qsl
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from saldo.identity import queries
from saldo.identity.domain import (
    CompanyContext,
    CompanyNotFound,
    NewCompany,
    NotAuthenticated,
    Permission,
    PermissionDenied,
    Role,
    User,
)
from saldo.identity.service import IdentityService, Origin
from saldo.platform.http import (
    Bool,
    StrictRoute,
    Text,
    exact_json,
    problem_responses,
    validate_body,
)

#: What other contexts' routers take from identity: the auth dependencies and the types
#: they hand over (other contexts import identity's api, service and queries only).
__all__ = ["CompanyContext", "Permission", "require"]

# ---------------------------------------------------------------------- dependencies

_bearer = HTTPBearer(auto_error=False, description="An access token from POST /api/v1/auth/token")


# Dependencies are ``async def`` even when they do not await: FastAPI runs a plain ``def``
# dependency in its thread pool, a thread hand-off per dependency per request.
async def identity_service(request: Request) -> IdentityService:
    return cast(IdentityService, request.app.state.identity)


Identity = Annotated[IdentityService, Depends(identity_service)]


async def origin(request: Request) -> Origin:
    return Origin(request.client.host if request.client else None,
                  request.scope.get("state", {}).get("request_id"))


RequestOrigin = Annotated[Origin, Depends(origin)]


async def current_user(
    identity: Identity,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The caller, from ``Authorization: Bearer <access token>``; 401 otherwise."""
    return await identity.authenticate(_token(credentials))


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None:
        raise NotAuthenticated("An access token is required (Authorization: Bearer ...).")
    return credentials.credentials


CurrentUser = Annotated[User, Depends(current_user)]


async def superuser(user: CurrentUser) -> User:
    """The caller, if a superuser (``admin:system``); 403 otherwise."""
    if not user.is_superuser:
        raise PermissionDenied("Only a superuser may do this.",
                               permission=Permission.ADMIN_SYSTEM.value)
    return user


SuperUser = Annotated[User, Depends(superuser)]


class require:  # noqa: N801 - used like a function: Depends(require(Permission.X))
    """A dependency: the caller's :class:`CompanyContext` in the path's company, if their
    role grants ``permission``. 404 for non-members and unknown companies, 403 for
    members whose role lacks the permission."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    async def __call__(
        self,
        company_id: UUID,
        identity: Identity,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> CompanyContext:
        return await identity.authorize(_token(credentials), company_id, self.permission)

    def __repr__(self) -> str:
        return f"require({self.permission.value!r})"


CompanyReader = Annotated[CompanyContext, Depends(require(Permission.COMPANY_READ))]
UserAdministrator = Annotated[CompanyContext, Depends(require(Permission.ADMIN_USERS))]


def _dependencies(dependant: Dependant) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _dependencies(dependency)


def permission_of(route: APIRoute) -> Permission | None:
    """The permission a route declares: through ``require`` or, for Saldo-wide
    administration, through the superuser dependency (``admin:system``)."""
    for call in _dependencies(route.dependant):
        if isinstance(call, require):
            return call.permission
        if call is superuser:
            return Permission.ADMIN_SYSTEM
    return None


def authenticates(route: APIRoute) -> bool:
    """Whether the route checks an access token: through ``current_user``, or through a
    ``require(...)`` dependency, which checks token and membership in one query."""
    return any(call is current_user or isinstance(call, require)
               for call in _dependencies(route.dependant))


def document_permissions(routes: Iterable[APIRoute]) -> None:
    """Show each route's permission in OpenAPI as ``x-permission``."""
    for route in routes:
        if (permission := permission_of(route)) is not None:
            route.openapi_extra = {**(route.openapi_extra or {}),
                                   "x-permission": permission.value}


# ---------------------------------------------------------------------- request shapes




class LoginRequest(BaseModel):
    username: Text = Field(min_length=1, max_length=256)
    password: Text = Field(min_length=1, max_length=1024)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=512)


class TokenResponse(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth 2 token type, not a secret
    expires_in: int = Field(description="Seconds until the access token expires")


class MembershipOut(BaseModel):
    company_id: UUID
    company_name: str
    role: Role


class MeResponse(BaseModel):
    id: UUID
    username: str
    full_name: str
    is_superuser: bool
    memberships: list[MembershipOut]


class UserCreate(BaseModel):
    username: Text = Field(min_length=1, max_length=64)
    password: Text = Field(min_length=1, max_length=1024)
    full_name: Text = Field(default="", max_length=200)
    is_superuser: Bool = False


class UserCreated(BaseModel):
    id: UUID
    username: str


class CompanyCreate(BaseModel):
    name: Text = Field(min_length=1, max_length=200)
    tax_id: Text = Field(max_length=32,
                         description="9-digit company code or 11-digit personal number")
    vat_payer: Bool
    base_currency: Text = Field(default="GEL", max_length=3)
    chart_of_accounts: Text = Field(default="ge-standard", max_length=64)
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12)


class CompanyOut(BaseModel):
    id: UUID
    name: str
    tax_id: str
    vat_payer: bool
    base_currency: str
    chart_of_accounts: str
    fiscal_year_start_month: int


class CompanyListItem(CompanyOut):
    role: Role


class MemberCreate(BaseModel):
    username: Text = Field(min_length=1, max_length=64)
    role: Role


class MemberRole(BaseModel):
    role: Role


class MemberOut(BaseModel):
    username: str
    full_name: str = ""
    role: Role
    #: ``invited``: no user of that name yet; the membership starts when one is created.
    status: Literal["active", "invited"] = "active"


class AuditEntry(BaseModel):
    position: int
    type: str
    recorded_at: datetime
    actor: str | None
    company_id: UUID | None
    data: dict[str, Any]


_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_AUTH_ERRORS = (400, 401, 403, 404, 422)
Username = Annotated[Text, Path(min_length=1, max_length=64)]


async def _login_body(request: Request) -> LoginRequest:
    """JSON, or form-encoded as OAuth2 password-grant clients send it (RFC 6749 §4.3)."""
    raw = await request.body()
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    data: Any
    if content_type == "application/x-www-form-urlencoded":
        data = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    else:
        data = exact_json(raw)
    return validate_body(LoginRequest, data)


_LOGIN_SCHEMA = LoginRequest.model_json_schema()


# ---------------------------------------------------------------------- routes


def router() -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["identity"], route_class=StrictRoute)

    @api.post(
        "/auth/token",
        summary="Log in: exchange a username and password for an access and a refresh token",
        response_model=TokenResponse,
        responses=problem_responses(400, 401, 422, 429),
        openapi_extra={"requestBody": {"required": True, "content": {
            "application/json": {"schema": _LOGIN_SCHEMA},
            "application/x-www-form-urlencoded": {"schema": _LOGIN_SCHEMA},
        }}},
    )
    async def token(request: Request, identity: Identity, where: RequestOrigin,
                    response: Response) -> TokenResponse:
        body = await _login_body(request)
        pair = await identity.login(body.username, body.password, where)
        response.headers.update(_NO_STORE)
        return TokenResponse(access_token=pair.access_token, refresh_token=pair.refresh_token,
                             expires_in=pair.expires_in)

    @api.post(
        "/auth/refresh",
        summary="Rotate a refresh token; replaying a rotated one revokes its whole family",
        response_model=TokenResponse,
        responses=problem_responses(400, 401, 422),
    )
    async def refresh(body: RefreshRequest, identity: Identity, where: RequestOrigin,
                      response: Response) -> TokenResponse:
        pair = await identity.refresh(body.refresh_token, where)
        response.headers.update(_NO_STORE)
        return TokenResponse(access_token=pair.access_token, refresh_token=pair.refresh_token,
                             expires_in=pair.expires_in)

    @api.post(
        "/auth/logout",
        summary="Revoke a refresh token's family (the session)",
        status_code=204,
        response_class=Response,
        responses=problem_responses(400, 422),
    )
    async def logout(body: RefreshRequest, identity: Identity, where: RequestOrigin) -> Response:
        await identity.logout(body.refresh_token, where)
        return Response(status_code=204)

    @api.get("/me", summary="The caller and their memberships", response_model=MeResponse,
             responses=problem_responses(401))
    async def me(user: CurrentUser, identity: Identity) -> MeResponse:
        async with identity.db.transaction(user_id=user.id) as conn:
            rows = await queries.memberships(conn, user.id)
        return MeResponse(id=user.id, username=user.username, full_name=user.full_name,
                          is_superuser=user.is_superuser,
                          memberships=[MembershipOut(**row) for row in rows])

    @api.post("/users", summary="Create a user (superusers only)", status_code=201,
              response_model=UserCreated, responses=problem_responses(*_AUTH_ERRORS, 409))
    async def create_user(body: UserCreate, caller: SuperUser, identity: Identity,
                          where: RequestOrigin) -> UserCreated:
        user = await identity.create_user(body.username, body.password, body.full_name,
                                          is_superuser=body.is_superuser, actor=caller,
                                          origin=where)
        return UserCreated(id=user.id, username=user.username)

    @api.post("/companies", summary="Create a company; the caller becomes its chief accountant",
              status_code=201, response_model=CompanyOut,
              responses=problem_responses(*_AUTH_ERRORS))
    async def create_company(body: CompanyCreate, user: CurrentUser, identity: Identity,
                             where: RequestOrigin) -> CompanyOut:
        new = NewCompany(body.name, body.tax_id, body.vat_payer, body.base_currency,
                         body.chart_of_accounts, body.fiscal_year_start_month)
        company = await identity.create_company(user, new, where)
        return CompanyOut(id=company.id, name=company.name, tax_id=company.tax_id,
                          vat_payer=company.vat_payer, base_currency=company.base_currency,
                          chart_of_accounts=company.chart_of_accounts,
                          fiscal_year_start_month=company.fiscal_year_start_month)

    @api.get("/companies", summary="The caller's companies", response_model=list[CompanyListItem],
             responses=problem_responses(401))
    async def list_companies(user: CurrentUser, identity: Identity) -> list[CompanyListItem]:
        async with identity.db.transaction(user_id=user.id) as conn:
            rows = await queries.companies(conn, user.id)
        return [CompanyListItem(**row) for row in rows]

    @api.get("/companies/{company_id}", summary="One company", response_model=CompanyOut,
             responses=problem_responses(*_AUTH_ERRORS))
    async def get_company(ctx: CompanyReader, identity: Identity) -> CompanyOut:
        async with identity.db.transaction(company_id=ctx.company_id) as conn:
            rows = await queries.companies(conn, ctx.user.id)
        row = next((r for r in rows if r["id"] == ctx.company_id), None)
        if row is None:  # removed between the permission check and this read
            raise CompanyNotFound("No such company.", company_id=str(ctx.company_id))
        return CompanyOut(**row)

    @api.get("/companies/{company_id}/members", summary="The company's members and roles",
             response_model=list[MemberOut], responses=problem_responses(*_AUTH_ERRORS))
    async def list_members(ctx: CompanyReader, identity: Identity) -> list[MemberOut]:
        async with identity.db.transaction(company_id=ctx.company_id) as conn:
            rows = await queries.members(conn, ctx.company_id)
        return [MemberOut(**row) for row in rows]

    @api.post("/companies/{company_id}/members", summary="Add a member with a role",
              status_code=201, response_model=MemberOut,
              responses=problem_responses(*_AUTH_ERRORS, 409))
    async def add_member(body: MemberCreate, ctx: UserAdministrator, identity: Identity,
                         where: RequestOrigin) -> MemberOut:
        # The same answer whether or not the user exists (an unknown name is invited):
        # adding members must not tell an administrator which usernames exist.
        await identity.add_member(ctx, body.username, body.role, where)
        return MemberOut(username=body.username, role=body.role)

    @api.put("/companies/{company_id}/members/{username}", summary="Change a member's role",
             response_model=MemberOut, responses=problem_responses(*_AUTH_ERRORS, 409))
    async def change_role(username: Username, body: MemberRole, ctx: UserAdministrator,
                          identity: Identity, where: RequestOrigin) -> MemberOut:
        user = await identity.change_role(ctx, username, body.role, where)
        return MemberOut(username=user.username, full_name=user.full_name, role=body.role)

    @api.delete("/companies/{company_id}/members/{username}", summary="Remove a member",
                status_code=204, response_class=Response,
                responses=problem_responses(*_AUTH_ERRORS, 409))
    async def remove_member(username: Username, ctx: UserAdministrator, identity: Identity,
                            where: RequestOrigin) -> Response:
        await identity.remove_member(ctx, username, where)
        return Response(status_code=204)

    @api.get("/companies/{company_id}/audit/identity",
             summary="The company's identity audit trail: creation, members, roles",
             response_model=list[AuditEntry], responses=problem_responses(*_AUTH_ERRORS))
    async def company_audit(ctx: UserAdministrator, identity: Identity,
                            limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[AuditEntry]:
        async with identity.db.transaction(company_id=ctx.company_id) as conn:
            rows = await queries.company_audit(conn, ctx.company_id, limit)
        return [AuditEntry(**row) for row in rows]

    @api.get("/audit/identity",
             summary="Every identity event: logins, failures, revocations, memberships "
                     "(superusers only)",
             response_model=list[AuditEntry], responses=problem_responses(*_AUTH_ERRORS))
    async def system_audit(
        _: SuperUser, identity: Identity,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        type: Annotated[Text | None, Query(max_length=64)] = None,
    ) -> list[AuditEntry]:
        # Across every company: the privileged pool (row-level security would show the
        # application role only company-less events here).
        async with identity.audit_db.transaction() as conn:
            rows = await queries.system_audit(conn, limit, type)
        return [AuditEntry(**row) for row in rows]

    return api
