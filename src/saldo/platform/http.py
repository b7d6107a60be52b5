"""HTTP plumbing shared by every context's router.

* Errors are ``application/problem+json`` (RFC 9457) with a stable ``code``; this is the
  one module that maps Saldo's errors to status codes.
* Every response carries ``X-Request-ID``; every log line of the request carries it too.
* Bodies above the configured size are refused before they are read.
* One strict reading of the wire for every context: JSON bodies only as
  ``application/json``, exact decimals, no duplicate keys (:class:`StrictRoute`,
  :func:`exact_json`); dates only as ``YYYY-MM-DD`` and booleans only as booleans
  (:data:`Date`, :data:`Bool`, :data:`QueryBool`); amounts by
  :func:`saldo.kernel.money.parse_amount`, the CSV importer's rule.
* A database that cannot serve answers a fast 503 ``service_unavailable`` with
  ``Retry-After``, never a 500 after a pool timeout.
* ``405`` and ``OPTIONS`` name every method the path allows.
* ``/health``, ``/health/ready``, ``/metrics`` (behind ``SALDO_METRICS_TOKEN``), ``/``
  and the API docs (served from an installed package, so they work offline) live here.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import math
import re
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import AfterValidator, BaseModel, BeforeValidator, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from saldo.kernel.errors import Conflict, Forbidden, NotFound, RuleViolation, SaldoError
from saldo.kernel.ids import new_id
from saldo.platform import metrics
from saldo.platform.db import is_unavailable

log = structlog.get_logger("saldo.http")

# ---------------------------------------------------------------------- request text


def _storable(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and lone surrogates cannot be encoded: both are
    # bad input (422), never a driver error (500).
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


#: A string from a request that PostgreSQL can store: every context's request models
#: use it for their text fields.
Text = Annotated[str, AfterValidator(_storable)]


PROBLEM = "application/problem+json"

#: Saldo errors to HTTP statuses; the most specific class in an error's MRO wins.
STATUS_BY_ERROR: dict[type[SaldoError], int] = {
    SaldoError: 400,
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    RuleViolation: 422,
}

_TITLES = {400: "Bad request", 401: "Not authenticated", 403: "Forbidden", 404: "Not found",
           405: "Method not allowed", 409: "Conflict", 413: "Request body too large",
           415: "Unsupported media type", 422: "Unprocessable content", 429: "Too many requests",
           500: "Internal server error", 503: "Service unavailable"}
_CODES = {400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "body_too_large",
          415: "unsupported_media_type", 422: "validation_error", 429: "rate_limited",
          500: "internal_error", 503: "service_unavailable"}

#: Seconds a client is told to wait (``Retry-After``) when the database cannot serve.
RETRY_AFTER_SECONDS = 5


def problem(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code or _CODES.get(status, "error"),
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


#: The shape of every error response, for OpenAPI (RFC 9457 plus ``code`` and ``errors``).
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg"],
                "properties": {"loc": {"type": "array", "items": {"type": "string"}},
                               "msg": {"type": "string"}},
            },
        },
    },
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the given error statuses, as problem+json documents.

    Declaring 422 here also replaces FastAPI's default validation-error schema, which
    does not describe what :func:`install_error_handlers` actually answers."""
    return {
        status: {"description": _TITLES.get(status, "Error"),
                 "content": {PROBLEM: {"schema": PROBLEM_SCHEMA}}}
        for status in statuses
    }


def status_for(
    error: SaldoError, table: Mapping[type[SaldoError], int] = STATUS_BY_ERROR
) -> int:
    for cls in type(error).__mro__:
        if cls in table:
            return table[cls]
    return 400


def _headers_for(status: int, error: SaldoError) -> dict[str, str] | None:
    """The headers HTTP requires with some statuses (RFC 6750 §3, RFC 9110 §10.2.3)."""
    if status == 401:
        return {"WWW-Authenticate": 'Bearer realm="saldo"'}
    if status == 429 and "retry_after" in error.data:
        return {"Retry-After": str(max(1, math.ceil(float(error.data["retry_after"]))))}
    return None


def _saldo_error_handler(
    table: Mapping[type[SaldoError], int],
) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handle(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, SaldoError)
        status = status_for(exc, table)
        extra = {key: exc.data[key] for key in exc.exposed if key in exc.data}
        return problem(status, exc.detail, code=exc.code, title=exc.title,
                       headers=_headers_for(status, exc), **extra)

    return handle


_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch",
                           "trace"})


def _method_table(app: Any) -> list[tuple[re.Pattern[str], str, set[str]]]:
    """(path regex, path template, methods) for every documented path, from the app's
    OpenAPI document (FastAPI keeps included routers nested; the document is flat)."""
    table: list[tuple[re.Pattern[str], str, set[str]]] | None = getattr(
        app.state, "saldo_method_table", None)
    if table is None:
        table = []
        for template, item in app.openapi().get("paths", {}).items():
            regex = re.sub(r"\\\{[^/]*?\\\}", "[^/]+", re.escape(template))
            table.append((re.compile(f"^{regex}$"), template,
                          {m.upper() for m in item if m in _HTTP_METHODS}))
        app.state.saldo_method_table = table
    return table


def allowed_methods(app: Any, path: str, exclude: str | None = None) -> list[str]:
    """Every method the app serves at ``path`` (but by routes of template ``exclude``).

    Starlette answers 405 with the methods of the first route whose path matched; a path
    served by several routes (``GET`` and ``POST`` declared apart) lost the others."""
    methods: set[str] = set()
    for regex, template, served in _method_table(app):
        if template != exclude and regex.match(path):
            methods |= served
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods | {"OPTIONS"}) if methods else []


def _literals(template: str) -> int:
    return sum(1 for part in template.split("/") if part and "{" not in part)


def _more_specific_route(app: Any, path: str, template: str) -> bool:
    """Whether a route with more literal segments than ``template`` serves ``path``: the
    request was meant for that one (``…/transactions/batch``, not ``…/{id}``)."""
    return any(regex.match(path) and _literals(other) > _literals(template)
               for regex, other, _ in _method_table(app))


def _method_not_allowed(allow: list[str], method: str) -> Response:
    if method == "OPTIONS":  # RFC 9110 §9.3.7: what the path supports
        return Response(status_code=204, headers={"Allow": ", ".join(allow)})
    return problem(405, f"{method} is not allowed here; allowed: {', '.join(allow)}.",
                   headers={"Allow": ", ".join(allow)})


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        allow = allowed_methods(request.app, request.url.path)
        if allow:
            return _method_not_allowed(allow, request.method)
    code = None
    if isinstance(exc.detail, dict):
        code, detail = exc.detail.get("code"), str(exc.detail.get("detail", ""))
    else:
        detail = str(exc.detail)
    return problem(exc.status_code, detail, code=code, headers=dict(exc.headers or {}))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    template = getattr(request.scope.get("route"), "path", None)
    if template is not None and _more_specific_route(request.app, request.url.path, template):
        # ``PATCH .../transactions/batch`` reached ``PATCH .../transactions/{id}`` with
        # "batch" for an id; the path names another route, which has no PATCH: 405.
        allow = allowed_methods(request.app, request.url.path, exclude=template)
        if allow:
            return _method_not_allowed(allow, request.method)
    errors = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
        for e in exc.errors()
    ]
    # A body that is not JSON at all is malformed (400); well-formed but wrong is 422.
    if any(e.get("type") == "json_invalid" for e in exc.errors()):
        return problem(400, "The request body is not valid JSON.", code="malformed_body",
                       errors=errors)
    return problem(422, "The request does not match the expected shape.", errors=errors)


def unavailable() -> Response:
    return problem(503, "The database is unavailable; retry shortly.",
                   code="service_unavailable",
                   headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


async def _unexpected(request: Request, exc: Exception) -> Response:
    if is_unavailable(exc):
        # One line, no traceback: an outage is not a bug, and it comes by the thousand.
        log.warning("database_unavailable", path=request.url.path,
                    error=f"{type(exc).__name__}: {str(exc).strip()[:300]}")
        return unavailable()
    # Logged with the request id; the client gets no stack trace, only the id to quote.
    log.exception("unhandled_error", path=request.url.path)
    return problem(500, "An unexpected error occurred; quote the request id to support.")


def install_error_handlers(
    app: FastAPI, statuses: Mapping[type[SaldoError], int] | None = None
) -> None:
    """Map errors to problem responses; ``statuses`` adds contexts' own error classes
    (authentication failures are 401, throttled logins 429) to :data:`STATUS_BY_ERROR`."""
    table = {**STATUS_BY_ERROR, **(statuses or {})}
    app.add_exception_handler(SaldoError, _saldo_error_handler(table))
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)


# ---------------------------------------------------------------------- exact JSON bodies

M = TypeVar("M", bound=BaseModel)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def exact_json(raw: bytes) -> Any:
    """Parse a request body keeping every number exact: fractions become ``Decimal``,
    never ``float`` (``0.1`` stays 0.1), and ``NaN``/``Infinity`` are refused, as is an
    object with a key twice (RFC 8259 §4 leaves it to the parser; the last one silently
    winning would let two readers of one body disagree). A body that is not JSON raises
    :class:`RequestValidationError` typed ``json_invalid`` (a 400)."""
    try:
        return json.loads(raw, parse_float=Decimal, parse_constant=_no_constants,
                          object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body", str(exc)),
                                       "msg": f"duplicate key {str(exc)!r}"}]) from None
    except (ValueError, RecursionError):  # RecursionError: "[" * 100000
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error"}]
        ) from None


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def is_json(media_type: str) -> bool:
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json"))


def require_json(request: Request) -> None:
    """A body must say it is JSON: ``text/plain`` and friends are 415, not parsed."""
    if not is_json(_media_type(request)):
        raise StarletteHTTPException(
            415, detail="The request body must be JSON (Content-Type: application/json).")


class _StrictRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = exact_json(await self.body())
        return self._json


class StrictRoute(APIRoute):
    """The route class of every context's router: a JSON body FastAPI parses for a route
    goes through :func:`exact_json` (exact decimals, no duplicate keys) and must be sent
    as JSON (else 415), as :class:`ExactJsonBody` bodies are."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        has_body = self.body_field is not None

        async def strict(request: Request) -> Response:
            request = _StrictRequest(request.scope, request.receive)
            if has_body and (raw := await request.body()):  # kept for the handler
                require_json(request)
                # Parsed here, not when FastAPI asks: it turns any error of request.json()
                # into a bare 400, where this gives the problem's own code and message.
                request._json = exact_json(raw)
            return await handler(request)

        return strict


# ---------------------------------------------------------------------- strict values

_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def parse_date(value: object) -> dt.date:
    """A calendar date written ``YYYY-MM-DD`` (ASCII digits), and nothing else: not a
    number of seconds since 1970 (``as_of=0``), not a date-time, not ``2025-1-5``."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a date of the calendar") from None
    raise ValueError("must be a date written YYYY-MM-DD, such as 2025-01-31")


def parse_bool(value: object, *, text: bool = False) -> bool:
    """``true`` or ``false``: JSON booleans in bodies; in a query string (``text``) the
    words ``true`` and ``false``. Not ``0``, ``1``, ``"yes"`` or ``"on"``."""
    if isinstance(value, bool):
        return value
    if text and isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    raise ValueError("must be true or false")


#: A date in a body or a query string (:func:`parse_date`).
Date = Annotated[dt.date, BeforeValidator(parse_date)]
#: A boolean in a body: JSON ``true``/``false`` only.
Bool = Annotated[bool, BeforeValidator(parse_bool)]
#: A boolean in a query string: ``true``/``false`` only.
QueryBool = Annotated[bool, BeforeValidator(lambda v: parse_bool(v, text=True))]


def validate_body(model: type[M], data: Any) -> M:
    """``data`` as ``model``, or the validation error FastAPI gives a bad body (422, with
    each error's location under ``body``)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None


class ExactJsonBody(Generic[M]):
    """A dependency: the request body as ``model``, parsed by :func:`exact_json`.

    FastAPI's own body parsing turns JSON numbers into floats before a model sees them;
    amounts must not pass through float. Routes using this declare the body for OpenAPI
    with :meth:`openapi`."""

    def __init__(self, model: type[M]) -> None:
        self.model = model

    async def __call__(self, request: Request) -> M:
        require_json(request)
        return validate_body(self.model, exact_json(await request.body()))

    def openapi(self) -> dict[str, Any]:
        """The operation's ``requestBody``. The model's nested models go to the document's
        ``components`` (:func:`install_docs` moves them there from ``x-saldo-schemas``):
        pydantic's own ``$defs`` references would point into the document's root."""
        schema = self.model.model_json_schema(ref_template=COMPONENT_REF)
        defs = schema.pop("$defs", {})
        return {"requestBody": {"required": True, "content": {
            "application/json": {"schema": schema}}}, _SCHEMAS_KEY: defs}


COMPONENT_REF = "#/components/schemas/{model}"
_SCHEMAS_KEY = "x-saldo-schemas"


def _hoist_schemas(document: dict[str, Any]) -> dict[str, Any]:
    """Move every operation's ``x-saldo-schemas`` into ``components/schemas``."""
    components = document.setdefault("components", {}).setdefault("schemas", {})
    for path in document.get("paths", {}).values():
        for operation in path.values():
            if isinstance(operation, dict):
                components.update(operation.pop(_SCHEMAS_KEY, {}))
    return document


# ---------------------------------------------------------------------- middleware

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
]
# The interactive API docs load their own script and styles; they get a looser policy.
# Their files are Saldo's own (install_docs), so nothing is loaded from elsewhere.
_DOCS_CSP = (b"content-security-policy",
             b"default-src 'self'; script-src 'self' 'unsafe-inline'; "
             b"style-src 'self' 'unsafe-inline'; img-src 'self' data:; worker-src 'self' blob:; "
             b"frame-ancestors 'none'")


class EdgeMiddleware:
    """Request id, access log, metrics, security headers and the body size limit.

    A plain ASGI middleware (not ``BaseHTTPMiddleware``) so it adds no task per request.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app, self.max_body_bytes = app, max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else new_id().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status_holder = [500]
        docs = scope["path"] in ("/docs", "/redoc")

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                extra = [(b"x-request-id", request_id.encode())]
                own = {k.lower() for k, _ in message.get("headers", [])}
                # A response that sets a header itself keeps it (the web pages' policy).
                extra += [_DOCS_CSP if docs and k == b"content-security-policy" else (k, v)
                          for k, v in SECURITY_HEADERS if k not in own]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            response = problem(413, f"The request body exceeds {self.max_body_bytes} bytes.")
            await response(scope, receive, send_wrapper)
            self._observe(scope, status_holder[0], started)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _BodyTooLarge
            return message

        started_response = False

        async def tracking_send(message: Message) -> None:
            nonlocal started_response
            started_response = started_response or message["type"] == "http.response.start"
            await send_wrapper(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            response = problem(413, f"The request body exceeds {self.max_body_bytes} bytes.")
            await response(scope, receive, send_wrapper)
        except Exception as exc:
            if started_response:
                raise
            if is_unavailable(exc):  # raised outside the routes' handlers (a middleware)
                log.warning("database_unavailable", path=scope["path"],
                            error=f"{type(exc).__name__}: {str(exc).strip()[:300]}")
                await unavailable()(scope, receive, send_wrapper)
                return
            # The last line of defence: a bug answers a bare problem with the request id
            # and the security headers, never a stack trace. Logged here, not re-raised,
            # so the server's default error page cannot leak one either.
            log.exception("unhandled_error", path=scope["path"])
            response = problem(500, "An unexpected error occurred; quote the request id "
                               "to support.", request_id=request_id)
            await response(scope, receive, send_wrapper)
        finally:
            self._observe(scope, status_holder[0], started)

    @staticmethod
    def _observe(scope: Scope, status: int, started: float) -> None:
        elapsed = time.perf_counter() - started
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        method = scope["method"]
        metrics.HTTP_REQUESTS.labels(method, route, str(status)).inc()
        metrics.HTTP_LATENCY.labels(method, route).observe(elapsed)
        log.info("request", method=method, path=scope["path"], route=route, status=status,
                 ms=round(elapsed * 1000, 2))


class _BodyTooLarge(Exception):
    pass


# ---------------------------------------------------------------------- operations

ReadinessCheck = Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]
MetricsRefresh = Callable[[], Awaitable[None]]


def operations_router(ready: ReadinessCheck, refresh_metrics: MetricsRefresh,
                      metrics_token: str | None = None) -> APIRouter:
    """``metrics_token``: the bearer token ``/metrics`` requires; ``None`` turns it off
    (404): its figures count every company's events."""
    router = APIRouter(tags=["operations"])

    @router.get("/health", summary="Liveness: the process answers")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/health/ready",
        summary="Readiness: the database answers and migrations are current",
        responses={503: {"description": "Not ready"}},
    )
    async def health_ready() -> Response:
        ok, checks = await ready()
        if ok:
            return JSONResponse({"status": "ready", "checks": checks})
        return problem(503, "Saldo is not ready to serve.", code="not_ready", checks=checks)

    @router.get("/metrics", summary="Prometheus metrics (Authorization: Bearer "
                "SALDO_METRICS_TOKEN)", response_class=Response,
                responses=problem_responses(401, 404))
    async def prometheus(request: Request) -> Response:
        if metrics_token is None:
            return problem(404, "Metrics are off; set SALDO_METRICS_TOKEN to scrape them.",
                           code="metrics_disabled")
        given = request.headers.get("authorization", "")
        scheme, _, token = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
                token.strip().encode(), metrics_token.encode()):
            return problem(401, "Metrics need Authorization: Bearer <SALDO_METRICS_TOKEN>.",
                           headers={"WWW-Authenticate": 'Bearer realm="saldo-metrics"'})
        await refresh_metrics()
        return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return router


# ---------------------------------------------------------------------- docs and home

#: Where ``GET /`` sends a visitor: the API docs, until the web app takes ``/``.
HOME = "/docs"
#: Swagger UI and ReDoc as the ``fastapi-offline`` package ships them: nothing is loaded
#: from a CDN, so the docs work on a machine without internet.
_ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")
ASSETS_PATH = "/docs/assets"


def _assets_dir() -> Path:
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


def install_docs(app: FastAPI) -> None:
    """``/docs`` (Swagger UI), ``/redoc``, their files, ``GET /`` and a valid OpenAPI
    document (nested body models in ``components``). The app is made with
    ``docs_url=None, redoc_url=None``: FastAPI's own pages load their files from a CDN."""
    assets = _assets_dir()
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    async def home() -> Response:
        return RedirectResponse(HOME, status_code=307)

    @router.get("/docs")
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon.png")

    @router.get("/redoc")
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} API",
            redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_PATH}/favicon.png", with_google_fonts=False)

    @router.get(ASSETS_PATH + "/{name}")
    async def asset(name: str) -> Response:
        if name not in _ASSETS:
            return problem(404, "No such file.")
        return FileResponse(assets / name, headers={"Cache-Control": "public, max-age=86400"})

    app.include_router(router)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _hoist_schemas(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
