"""RFC 9457 problem details for every error, mapped from domain errors and Litestar exceptions once."""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec

from expert_match.errors import (
    Conflict,
    DomainError,
    ImportFailed,
    InvalidReference,
    InvalidValue,
    NotAllowed,
    NotFound,
    TooManyRequests,
    Unauthenticated,
)
from expert_match.structs import split_validation_error

log = logging.getLogger("expert_match.api")

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:expert-match:problem:"
STATUS_BY_ERROR: dict[type[DomainError], int] = {
    NotFound: 404,
    Unauthenticated: 401,
    NotAllowed: 403,
    TooManyRequests: 429,
    Conflict: 409,
    InvalidReference: 422,
    InvalidValue: 422,
    ImportFailed: 422,
}


class FieldError(msgspec.Struct, omit_defaults=True):
    field: str | None
    message: str
    source: str | None = None


class Problem(msgspec.Struct, omit_defaults=True):
    """Problem details (RFC 9457) with a stable ``code`` and, for bad input, the fields at fault."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    errors: list[FieldError] = []


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries so every documented error status shows the problem schema."""
    return {
        status: ResponseSpec(data_container=Problem, media_type=MEDIA_TYPE, description=HTTPStatus(status).phrase)
        for status in statuses
    }


def problem_response(request: Request[Any, Any, Any], status: int, code: str, detail: str,
                     errors: list[FieldError] | None = None, headers: dict[str, str] | None = None) -> Response[Problem]:
    body = Problem(
        type=TYPE_PREFIX + code,
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        code=code,
        instance=request.url.path,
        errors=errors or [],
    )
    return Response(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def handle_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Problem]:
    status = next((s for cls, s in STATUS_BY_ERROR.items() if isinstance(exc, cls)), 400)
    errors = [FieldError(field=exc.field, message=exc.message)] if exc.field else []
    if isinstance(exc, ImportFailed):
        errors = [FieldError(field=f"{where}: {field}", message=msg) for where, field, msg in exc.problems]
    headers = None
    if isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(exc.retry_after)}
    elif isinstance(exc, Unauthenticated):
        headers = {"WWW-Authenticate": 'Bearer realm="expert-match"'}
    return problem_response(request, status, exc.code, exc.message, errors, headers=headers)


def handle_validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    errors = [field_error(item) for item in (exc.extra if isinstance(exc.extra, list) else [])]
    named = ", ".join(e.field for e in errors if e.field)
    detail = f"invalid input: {named}" if named else "invalid input"
    if errors and not named:
        detail = f"invalid input: {errors[0].message}"
    return problem_response(request, 400, "validation_error", detail, errors)


def handle_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    code = re.sub(r"[^a-z0-9]+", "_", HTTPStatus(status).phrase.lower()).strip("_")
    detail = exc.detail if exc.detail and exc.detail != HTTPStatus(status).phrase else HTTPStatus(status).description
    return problem_response(request, status, code, detail, headers=exc.headers)


def handle_unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    # Log the cause for operators; the client gets no stack trace or internals.
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(request, 500, "internal_error", "the server could not complete the request")


def field_error(item: Any) -> FieldError:
    """Turn Litestar's/msgspec's error entry into ``FieldError`` with a readable field path."""
    if not isinstance(item, dict):
        return FieldError(field=None, message=str(item))
    source = item.get("source")
    source = getattr(source, "value", source)
    field, message = split_validation_error(str(item.get("message", "")))
    key = item.get("key")
    # Litestar names the whole body "data"; for parameters the key is the parameter's name.
    if field is None and isinstance(key, str) and key and not (source == "body" and key == "data"):
        field = key
    return FieldError(field=field, message=message, source=str(source) if source else None)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: handle_domain_error,
    ValidationException: handle_validation_error,
    HTTPException: handle_http_error,
    Exception: handle_unexpected_error,
}
