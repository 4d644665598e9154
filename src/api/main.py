"""The FastAPI application: routers, problem handlers, request ids, metrics."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from api import cors, deps, docs, openapi, problems, request_log
from api.context import RequestContext
from api.limits import RequestLimits
from api.routers import (
    appeals,
    audit,
    disputes,
    events,
    evidence,
    lifecycle,
    negotiation,
    ops,
    orders,
    queries,
    webhooks,
)
from service.hub import Services

log = logging.getLogger("disputes.api")
DESCRIPTION = """Event-sourced dispute resolution for a marketplace.

Authenticate with `Authorization: Bearer <JWT>` (claims `sub`, `role`, `exp`; HS256, or
RS256/ES256 from an identity provider when the server is configured with its JWKS).
Errors are RFC 9457 `application/problem+json` documents with a stable `code`.
Every POST accepts `Idempotency-Key`; commands accept `If-Match` and answer with
`ETag` and `X-Position`; reads accept `X-Min-Position` (read-your-writes).
"""


def create_app(build_services: Callable[[], Services], cors_origins: Sequence[str] = ()) -> FastAPI:
    """The HTTP API over the services `build_services` makes (see `bootstrap.build_api`)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc = deps.started_services(app.state)
        try:
            yield
        finally:
            svc.close()
            app.state.services = None  # a host that runs the lifespan again gets fresh services

    # api.docs serves /openapi.json, /docs and /redoc instead of FastAPI's built-in routes.
    app = FastAPI(title="Disputes API", version="1.0.0", description=DESCRIPTION, lifespan=lifespan, **docs.BUILT_IN)
    # Services start with the lifespan, or on the first request of a host that never runs it.
    app.state.build_services = build_services
    problems.install(app)
    # Probes first: routes are matched in order and no other path overlaps theirs.
    for router in (ops.router, queries.router, disputes.router, negotiation.router, evidence.router, lifecycle.router):
        app.include_router(router)
    app.include_router(appeals.router)
    app.include_router(audit.router)
    app.include_router(events.router)
    app.include_router(webhooks.router)
    app.include_router(orders.router)
    app.add_middleware(RequestLimits)
    docs.install(app)  # /openapi.json, /docs, /redoc with local assets
    cors.install(app, cors_origins)  # inside request_context: preflights get a request id too

    # Pure ASGI middleware, one module each (api.context here); others register beside it.
    app.add_middleware(RequestContext, services=lambda: getattr(app.state, "services", None))

    def openapi_document() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = openapi.document(app)
        return app.openapi_schema

    app.openapi = openapi_document  # type: ignore[method-assign]
    request_log.install(app)  # outermost: request ids and log fields on every answer, 500s included
    return app
