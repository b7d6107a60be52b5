"""HTTP plumbing shared by every context's router.

* Errors are ``application/problem+json`` (RFC 9457) with a stable ``code``; this is the
  one module that maps Saldo's errors to status codes.
* Every response carries ``X-Request-ID``; every log line of the request carries it too.
* Bodies above the configured size are refused before they are read.
* ``/health``, ``/health/ready`` and ``/metrics`` live here.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any, Generic, TypeVar

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from saldo.kernel.errors import Conflict, Forbidden, NotFound, RuleViolation, SaldoError
from saldo.kernel.ids import new_id
from saldo.platform import metrics

log = structlog.get_logger("saldo.http")

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
          500: "internal_error", 503: "unavailable"}


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


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = None
    if isinstance(exc.detail, dict):
        code, detail = exc.detail.get("code"), str(exc.detail.get("detail", ""))
    else:
        detail = str(exc.detail)
    return problem(exc.status_code, detail, code=code, headers=dict(exc.headers or {}))


async def _validation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
        for e in exc.errors()
    ]
    # A body that is not JSON at all is malformed (400); well-formed but wrong is 422.
    if any(e.get("type") == "json_invalid" for e in exc.errors()):
        return problem(400, "The request body is not valid JSON.", code="malformed_body",
                       errors=errors)
    return problem(422, "The request does not match the expected shape.", errors=errors)


async def _unexpected(request: Request, exc: Exception) -> Response:
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


def exact_json(raw: bytes) -> Any:
    """Parse a request body keeping every number exact: fractions become ``Decimal``,
    never ``float`` (``0.1`` stays 0.1), and ``NaN``/``Infinity`` are refused. A body that
    is not JSON raises :class:`RequestValidationError` typed ``json_invalid`` (a 400)."""
    try:
        return json.loads(raw, parse_float=Decimal, parse_constant=_no_constants)
    except (ValueError, RecursionError):  # RecursionError: "[" * 100000
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error"}]
        ) from None


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
        return validate_body(self.model, exact_json(await request.body()))

    def openapi(self) -> dict[str, Any]:
        return {"requestBody": {"required": True, "content": {
            "application/json": {"schema": self.model.model_json_schema()}}}}


# ---------------------------------------------------------------------- middleware

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
]
# The interactive API docs load their own script and styles; they get a looser policy.
_DOCS_CSP = (b"content-security-policy",
             b"default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
             b"style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: "
             b"https://fastapi.tiangolo.com; frame-ancestors 'none'")


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
                extra += [_DOCS_CSP if docs and k == b"content-security-policy" else (k, v)
                          for k, v in SECURITY_HEADERS]
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
        except Exception:
            # The last line of defence: a bug answers a bare problem with the request id
            # and the security headers, never a stack trace. Logged here, not re-raised,
            # so the server's default error page cannot leak one either.
            if started_response:
                raise
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


def operations_router(ready: ReadinessCheck, refresh_metrics: MetricsRefresh) -> APIRouter:
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

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def prometheus() -> Response:
        await refresh_metrics()
        return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return router
