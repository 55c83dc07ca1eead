"""HTTP error answers: one JSON shape (``ErrorResponse``), a clear message, never secrets or tracebacks.

Expected failures are ``ApiError``s raised by routes, or ``RepositoryError``s from the Kubernetes
repository (apiserver down -> 503, RBAC -> 502, schema rejection -> 422 naming the field). The
catch-all 500 handler exists so that even a bug answers JSON without details; reaching it is a bug.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from preboarding.api.fields import field_path
from preboarding.bridge.intake import FieldProblem
from preboarding.bridge.models import ErrorResponse, FieldError
from preboarding.bridge.repository import (
    AlreadyExists,
    Conflict,
    Forbidden,
    InvalidContinue,
    NotFound,
    Rejected,
    RepositoryError,
    Unavailable,
)

log = logging.getLogger(__name__)

RETRY_AFTER_UNAVAILABLE = "5"

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "unavailable",
}


class ApiError(Exception):
    """An expected error answer."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        *,
        fields: list[FieldProblem] | None = None,
        phase: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message
        self.fields, self.phase, self.headers = fields, phase, headers

    def response(self) -> JSONResponse:
        body = ErrorResponse(
            error=self.error,
            message=self.message,
            fields=[FieldError(field=f.field, message=f.message, type=f.type) for f in self.fields]
            if self.fields is not None else None,
            phase=self.phase,
        )
        return JSONResponse(body.model_dump(exclude_none=True), status_code=self.status, headers=self.headers)


def _snake(segment: str) -> str:
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", segment).lower()


def payload_field_of(resource_field: str) -> str:
    """The HR payload's name for a field the apiserver names in the resource (``spec.employee.startDate``).

    The payload is snake_case with script and delivery options under ``options``; anything outside the
    spec keeps the apiserver's name.
    """
    match = re.match(r"^spec\.(employee|company|script|delivery)\.(.+)$", resource_field)
    if not match:
        return resource_field
    section, rest = match.groups()
    rest = re.sub(r"[A-Za-z][A-Za-z0-9]*", lambda m: _snake(m.group(0)), rest)
    return f"{'options' if section in ('script', 'delivery') else section}.{rest}"


def repository_error(exc: RepositoryError) -> ApiError:
    """The HTTP answer for a failed Kubernetes call."""
    if isinstance(exc, Unavailable):
        return ApiError(503, "apiserver_unavailable", exc.message, headers={"Retry-After": RETRY_AFTER_UNAVAILABLE})
    if isinstance(exc, Rejected):
        problems = [FieldProblem(payload_field_of(f.field) or "body", f.message, "apiserver_validation")
                    for f in exc.fields] or [FieldProblem("body", exc.message, "apiserver_validation")]
        return ApiError(422, "invalid_payload",
                        "the Kubernetes API server rejected the video: " + ", ".join(p.field for p in problems),
                        fields=problems)
    if isinstance(exc, InvalidContinue):
        return ApiError(410 if exc.expired else 400, "invalid_continue", exc.message)
    if isinstance(exc, NotFound):
        return ApiError(404, "job_not_found", "no job with this id")
    if isinstance(exc, AlreadyExists | Conflict):
        return ApiError(409, "conflict", exc.message + "; retry")
    if isinstance(exc, Forbidden):
        return ApiError(502, "apiserver_forbidden", exc.message)
    return ApiError(502, "apiserver_error", exc.message)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every exception into an ``ErrorResponse``."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RepositoryError)
    async def _repository_error(request: Request, exc: RepositoryError) -> JSONResponse:
        return repository_error(exc).response()

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [FieldProblem(field_path(e.get("loc") or (), default="body"), str(e.get("msg", "")),
                                 str(e.get("type", ""))) for e in exc.errors()]
        return ApiError(422, "invalid_request", "invalid request: " + ", ".join(p.field for p in problems),
                        fields=problems).response()

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return ApiError(exc.status_code, code, message, headers=dict(exc.headers or {})).response()

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A bug: log it with its traceback here, answer without details.
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return ApiError(500, "internal_error", "unexpected error; it has been logged").response()
