"""FastAPI dependencies: the services, and the authenticated caller."""

from __future__ import annotations

import logging
import threading
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import State

from api.auth import TokenRules, actor_from_header
from api.problems import ApiProblem
from domain.values import Actor
from service import logs
from service.hub import Services
from service.rate_limits import Budget, RateLimitsUnavailable

log = logging.getLogger("disputes.api")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RATE_LIMIT_HEADERS = "rate_limit_headers"
"""Where the caller's RateLimit fields wait in the request's state for the response (api.limits)."""

bearer = HTTPBearer(auto_error=False, description="a JWT with sub, role and exp claims (HS256, or RS256/ES256)")


_starting = threading.Lock()


def started_services(state: State) -> Services:
    """The app's services, built and started once (by the lifespan, or lazily)."""
    with _starting:
        found: Services | None = getattr(state, "services", None)
        if found is None:
            found = state.build_services()
            assert found is not None
            found.start()
            state.services = found
        return found


def services(request: Request) -> Services:
    found: Services | None = getattr(request.app.state, "services", None)
    return found if found is not None else started_services(request.app.state)


def caller(
    request: Request,
    svc: Annotated[Services, Depends(services)],
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    rules = TokenRules.from_settings(svc.settings, svc.jwt_secret)
    actor = actor_from_header(request.headers.get("authorization"), rules)
    note_caller(request, actor)
    budget = Budget.READS if request.method in READ_METHODS else Budget.COMMANDS
    try:
        verdict = svc.rate_limits.hit(budget, actor)
    except RateLimitsUnavailable as unavailable:
        log.warning("%s", unavailable)
        detail = "the rate-limit storage is unreachable; retry shortly"
        raise ApiProblem(503, "unavailable", detail, {"Retry-After": "1"}) from None
    setattr(request.state, RATE_LIMIT_HEADERS, verdict.headers())
    if not verdict.allowed:
        raise ApiProblem(
            429, "rate_limited", f"too many {budget.value} from this caller; retry later", verdict.headers()
        )
    return actor


def note_caller(request: Request, actor: Actor) -> None:
    """Name the caller, the route and the dispute on the request's log lines."""
    route = getattr(request.scope.get("route"), "path", None)
    logs.annotate(actor=actor.id, role=actor.role.value, route=route, dispute_id=request.path_params.get("dispute_id"))


ServicesDep = Annotated[Services, Depends(services)]
CallerDep = Annotated[Actor, Depends(caller)]
