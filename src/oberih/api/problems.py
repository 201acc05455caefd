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

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

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


class FieldError(BaseModel):
    field: str
    reason: str


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


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
            detail=str(exc),
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
    slugs = {404: "not-found", 405: "method-not-allowed", 413: "too-large", 429: "too-many"}
    return problem_response(
        request,
        status=exc.status_code,
        slug=slugs.get(exc.status_code, "http"),
        title=str(exc.detail) if isinstance(exc.detail, str) else "Error",
        headers=getattr(exc, "headers", None),
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The log names the request and the exception type only: messages may carry personal data.
    logger.error(
        "unhandled %s in %s %s",
        type(exc).__name__,
        request.method,
        request.url.path,
        extra={"request_id": getattr(request.state, "request_id", None)},
    )
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
    Exception: _unexpected,
}


def install_problem_handlers(
    app: FastAPI, extra: dict[type[Exception], Handler] | None = None
) -> None:
    for exception, handler in {**HANDLERS, **(extra or {})}.items():
        app.add_exception_handler(exception, handler)
