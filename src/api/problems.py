"""RFC 9457 problem+json: the one place where errors become HTTP statuses."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from eventsourcing.domain import OriginatorVersionError
from eventsourcing.persistence import InterfaceError, MapperDeserialisationError, OperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from domain import errors
from domain.order import OrderNotFound, OrderUnknown

log = logging.getLogger("disputes.api")
PROBLEM_JSON = "application/problem+json"
CLIENT_CLOSED_REQUEST = 499  # no one reads it; the request metrics count it apart from errors
TYPE_BASE = "https://disputes.example/problems/"
RETRY_AFTER_SECONDS = "1"

STATUS_FOR: dict[type[errors.DomainError], int] = {
    errors.NotParty: 404,
    errors.DisputeNotFound: 404,
    OrderNotFound: 404,
    OrderUnknown: 404,
    errors.OfferNotFound: 404,
    errors.RoleNotAllowed: 403,
    errors.InvalidTransition: 409,
    errors.DisputeExists: 409,
    errors.ClaimedByAnotherAgent: 409,
    errors.EvidenceNotAccepted: 409,
    errors.EvidenceRequestNotFound: 404,
    errors.EvidenceRequestNotOpen: 409,
    errors.MessageLimitReached: 409,
    errors.DeadlineNotOpen: 409,
    errors.DeadlineNotDue: 409,
    errors.ConcurrentModification: 409,
    errors.VersionConflict: 412,
    errors.EvidenceQuotaExceeded: 413,
    errors.InvalidValue: 422,
}


class Problem(BaseModel):
    """An RFC 9457 problem document with a stable machine `code`."""

    type: str = Field(examples=[TYPE_BASE + "invalid_transition"])
    title: str
    status: int
    detail: str
    code: str = Field(examples=["invalid_transition"])
    errors: list[dict[str, Any]] | None = None


class ApiProblem(Exception):
    """An error raised by the HTTP layer itself (auth, headers, files...)."""

    def __init__(
        self, status: int, code: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.headers = status, code, detail, headers or {}
        self.extra = extra


TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    408: "Request timeout",
    409: "Conflict",
    412: "Precondition failed",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    431: "Request header fields too large",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem_body(status: int, code: str, detail: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    body = {
        "type": TYPE_BASE + code,
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update(extra or {})
    return body


def problem_response(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, code, detail, extra or None),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def status_for(error: errors.DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_FOR:
            return STATUS_FOR[cls]
    return 422


def domain_problem(error: errors.DomainError) -> tuple[int, dict[str, Any]]:
    status = status_for(error)
    return status, problem_body(status, error.code, error.detail)


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.DomainError)
    async def on_domain_error(_: Request, error: errors.DomainError) -> JSONResponse:
        status, body = domain_problem(error)
        return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)

    @app.exception_handler(ApiProblem)
    async def on_api_problem(_: Request, error: ApiProblem) -> JSONResponse:
        return problem_response(error.status, error.code, error.detail, error.headers, **error.extra)

    @app.exception_handler(RequestValidationError)
    async def on_validation(_: Request, error: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in error.errors()
        ]
        return problem_response(422, "validation_error", "the request is not valid", errors=details)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400:  # a body that does not parse is a validation error like any other
            return problem_response(422, "validation_error", f"the request body is not valid: {error.detail}")
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return problem_response(error.status_code, code, str(error.detail), dict(error.headers or {}))

    @app.exception_handler(ClientDisconnect)
    async def on_client_disconnect(request: Request, _: ClientDisconnect) -> Response:
        # A client that hangs up mid-body is routine, not a fault: one line, no traceback
        # (left to the catch-all, it would be logged twice: here and by the server).
        log.info("client disconnected before sending all of %s %s", request.method, request.url.path)
        return Response(status_code=CLIENT_CLOSED_REQUEST)

    @app.exception_handler(OriginatorVersionError)
    @app.exception_handler(MapperDeserialisationError)
    async def on_unreadable_history(request: Request, error: Exception) -> JSONResponse:
        log.error("stored history cannot be replayed on %s %s: %r", request.method, request.url.path, error)
        return problem_response(
            500, "integrity_error", "the stored history of this dispute cannot be replayed; an auditor can run verify"
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(psycopg.InterfaceError)
    async def on_database_unavailable(request: Request, error: Exception) -> JSONResponse:
        """The database is unreachable, restarting, or no connection came free in time
        (a pool timeout is an OperationalError too): retry, never a 500. A command
        that may have committed is safe to retry with the same Idempotency-Key."""
        log.warning("database unavailable on %s %s: %s: %s",
                    request.method, request.url.path, type(error).__name__, str(error).splitlines()[0:1])  # fmt: skip
        return problem_response(
            503, "unavailable", "the database is unavailable; retry shortly", {"Retry-After": RETRY_AFTER_SECONDS}
        )

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(500, "internal_error", "an unexpected error was logged")


RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer"}}}
RATE_LIMIT_FIELDS = {
    "RateLimit": {
        "description": 'the caller\'s remaining budget, e.g. "commands";r=37;t=1 (IETF RateLimit fields)',
        "schema": {"type": "string"},
    },
    "RateLimit-Policy": {
        "description": 'the caller\'s budget, e.g. "commands";q=100;w=2 (IETF RateLimit fields)',
        "schema": {"type": "string"},
    },
}
HEADERS_FOR = {503: RETRY_AFTER, 429: {**RETRY_AFTER, **RATE_LIMIT_FIELDS}}
LIMITS = (413, 429, 431)
"""What any authenticated request can meet (api.limits, the rate limits): its operation documents them."""
SIZE_LIMITS = (413, 431)
"""What any request at all can meet (api.limits): the operations without a caller document these."""


def responses(*statuses: int, limits: tuple[int, ...] = LIMITS) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem responses an endpoint can give, the limits included."""
    return {
        status: {
            **({"headers": HEADERS_FOR[status]} if status in HEADERS_FOR else {}),
            "description": TITLES.get(status, "Error"),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in sorted({*statuses, *limits})
    }
