"""FastAPI dependencies: the services, and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import actor_from_header
from api.container import Services
from domain.values import Actor

bearer = HTTPBearer(auto_error=False, description="HS256 JWT with sub, role and exp claims")


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def caller(
    request: Request,
    svc: Annotated[Services, Depends(services)],
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    return actor_from_header(request.headers.get("authorization"), svc.jwt_secret)


ServicesDep = Annotated[Services, Depends(services)]
CallerDep = Annotated[Actor, Depends(caller)]
