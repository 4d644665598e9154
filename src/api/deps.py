"""FastAPI dependencies: the services, and the authenticated caller."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import State

from api.auth import TokenRules, actor_from_header
from domain.values import Actor
from service.hub import Services

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
    return actor_from_header(request.headers.get("authorization"), rules)


ServicesDep = Annotated[Services, Depends(services)]
CallerDep = Annotated[Actor, Depends(caller)]
