"""Errors as ``application/problem+json`` (RFC 9457), mapped from typed exceptions in one place.

Every problem has a stable ``type`` URI, a ``title``, the HTTP ``status``, a ``detail`` that never
contains personal data, the ``request_id`` and, for validation failures, ``errors`` listing each
field and its reason. Unknown errors are logged with the request id and answered 500 without
internals (STYLE point 10).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from oberih.auth.errors import NotAuthenticated, OutOfScope, PermissionDenied, PurposeRequired
from oberih.persons.facts import InvalidFact
from oberih.persons.services import (
    ConflictingResend,
    IdentifierTaken,
    PersonNotFound,
    StaleVersion,
)

logger = logging.getLogger("oberih.api")
PROBLEM_BASE = "https://oberih.example/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
DATABASE_RETRY_AFTER_SECONDS = 5


class FieldError(BaseModel):
    field: str
    reason: str


class Problem(BaseModel):
    """The body of every error answer (RFC 9457); extension members may follow."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


# What each error status means in this service, for the OpenAPI document.
PROBLEM_DESCRIPTIONS: dict[int, str] = {
    400: "The body is not well-formed JSON",
    401: "No acceptable bearer token",
    403: "The role lacks a permission the route declares, or an officer gave no valid purpose",
    404: "Not found, or outside the caller's jurisdiction (answered alike)",
    409: "The change conflicts with the register (identifier taken, different re-send)",
    412: "If-Match names another version than the current one",
    413: "The request body is too large",
    422: "The request is not valid; `errors` names each field and the reason",
    428: "If-Match is required",
    429: "Too many requests; retry after the number of seconds in Retry-After",
    503: "Not ready, the database is not available, or the audit log cannot record the access "
    "(nothing is disclosed)",
}
PROBLEM_SCHEMA_REF = "#/components/schemas/Problem"


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` declaring ``statuses`` as ``application/problem+json`` problems."""
    return {
        status: {
            "description": PROBLEM_DESCRIPTIONS[status],
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}},
        }
        for status in statuses
    }


def install_problem_schema(app: FastAPI) -> None:
    """Declare in the OpenAPI document the problems every route can answer, and ``Problem``.

    Added once, when the document is first built: 422 (as a problem, in place of FastAPI's own
    ``HTTPValidationError``, which this service never sends) on every operation with parameters
    or a body; 400 and 413 on every operation with a body; 401 and 403 on every operation that
    needs a bearer token. Routes declare their further problems (``problem_responses``).
    FastAPI puts a response ``model`` under ``application/json`` only, so problems name the
    schema by reference and it is added to the components here.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                _declare_common_problems(operation)
        schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components = document.setdefault("components", {}).setdefault("schemas", {})
        components.update(schema.pop("$defs", {}))
        components["Problem"] = schema
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _declare_common_problems(operation: dict[str, Any]) -> None:
    statuses: list[int] = []
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.append(422)
    if operation.get("requestBody"):
        statuses += [400, 413]
    if operation.get("security"):
        statuses += [401, 403]
    responses = operation.setdefault("responses", {})
    for status, response in problem_responses(*statuses).items():
        responses[str(status)] = {**response, **_described(responses.get(str(status)))}


def _described(declared: dict[str, Any] | None) -> dict[str, Any]:
    # A route's own description of a status is kept; its content is always the problem.
    if declared and declared.get("description") and declared["description"] != "Validation Error":
        return {"description": declared["description"]}
    return {}


class ApiProblem(Exception):
    """Raised by handlers for a problem that has no domain exception of its own."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        self.headers = headers
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.extra = extra
        super().__init__(title)


def problem_response(
    request: Request,
    *,
    status: int,
    slug: str,
    title: str,
    detail: str | None = None,
    errors: Sequence[tuple[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "request_id": getattr(request.state, "request_id", None),
    }
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = [{"field": field, "reason": reason} for field, reason in errors]
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _field_name(location: Sequence[Any]) -> str:
    # ("body", "payload", "phone") -> "payload.phone"; ("query", "limit") -> "limit"
    parts = [str(p) for p in location]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "request"


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [(_field_name(e["loc"]), e["msg"]) for e in exc.errors()]
    return problem_response(
        request, status=422, slug="validation", title="The request is not valid", errors=errors
    )


async def _invalid_fact(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidFact)
    return problem_response(
        request, status=422, slug="validation", title="The request is not valid", errors=exc.errors
    )


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return problem_response(request, status=404, slug="not-found", title="Not found")


async def _not_authenticated(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotAuthenticated)
    return problem_response(
        request,
        status=401,
        slug="not-authenticated",
        title="Authentication required",
        detail=exc.reason,  # a short code ("expired", "audience"...), never token content
        headers={"WWW-Authenticate": "Bearer"},
    )


async def _forbidden(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, PurposeRequired):
        return problem_response(
            request,
            status=403,
            slug="purpose-required",
            title="A declared purpose is required",
            detail=exc.detail,
        )
    return problem_response(request, status=403, slug="forbidden", title="Forbidden")


async def _stale(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StaleVersion)
    return problem_response(
        request,
        status=412,
        slug="stale-version",
        title="The record changed since you read it",
        detail=f"the record is at version {exc.actual}; read it again and retry",
        headers={"ETag": f'"{exc.actual}"'},
    )


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    slug = "identifier-taken" if isinstance(exc, IdentifierTaken) else "conflicting-resend"
    return problem_response(request, status=409, slug=slug, title="Conflict", detail=str(exc))


async def _api_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiProblem)
    return problem_response(
        request,
        status=exc.status,
        slug=exc.slug,
        title=exc.title,
        detail=exc.detail,
        headers=exc.headers,
        **exc.extra,
    )


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slugs = {
        400: "malformed",
        404: "not-found",
        405: "method-not-allowed",
        413: "too-large",
        429: "too-many",
    }
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return problem_response(
        request,
        status=exc.status_code,
        slug=slugs.get(exc.status_code, "http"),
        title=str(exc.detail) if isinstance(exc.detail, str) else "Error",
        headers=headers or None,
    )


def _allowed_methods(request: Request) -> str:
    # Starlette answers 405 from the first route whose path matches, so its Allow header lists
    # that route's methods only; a path served by two routes (GET and POST) needs all of them
    # (RFC 9110 section 15.5.6).
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return ", ".join(sorted(methods))


def _log_failure(request: Request, exc: Exception, what: str) -> None:
    # The log names the request and the exception type only: messages may carry personal data.
    logger.error(
        "%s (%s) in %s %s",
        what,
        type(exc).__name__,
        request.method,
        request.url.path,
        extra={"request_id": getattr(request.state, "request_id", None)},
    )


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # The database refused or dropped the connection, or no pooled connection came free in
    # time: the request may succeed in a moment, and the operator needs to know it is not a bug.
    _log_failure(request, exc, "database unavailable")
    return problem_response(
        request,
        status=503,
        slug="database-unavailable",
        title="The register's database is not available",
        detail="retry in a few seconds",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    _log_failure(request, exc, "unhandled error")
    return problem_response(
        request,
        status=500,
        slug="internal",
        title="Internal error",
        detail="the error was logged with this request id",
    )


Handler = Callable[[Request, Exception], Any]
HANDLERS: dict[type[Exception], Handler] = {
    RequestValidationError: _validation,
    InvalidFact: _invalid_fact,
    PersonNotFound: _not_found,
    # Out of the caller's area is answered exactly like not-found: no hint that the person exists.
    OutOfScope: _not_found,
    NotAuthenticated: _not_authenticated,
    PermissionDenied: _forbidden,
    StaleVersion: _stale,
    ConflictingResend: _conflict,
    IdentifierTaken: _conflict,
    ApiProblem: _api_problem,
    StarletteHTTPException: _http,
    # SQLAlchemy's for the worker-thread path; psycopg's own for the event-loop reads, which
    # go through the driver.
    sqlalchemy.exc.OperationalError: _database_unavailable,
    sqlalchemy.exc.TimeoutError: _database_unavailable,
    psycopg.OperationalError: _database_unavailable,
    Exception: _unexpected,
}


def install_problem_handlers(
    app: FastAPI, extra: dict[type[Exception], Handler] | None = None
) -> None:
    for exception, handler in {**HANDLERS, **(extra or {})}.items():
        app.add_exception_handler(exception, handler)
