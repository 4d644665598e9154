"""`POST /v1/dev/tokens`: mint a token for the console's sign-in picker. Only an app
running in dev with HS256 tokens has this route (`bootstrap.build_api` decides); in
test and production it does not exist, so it answers 404 like any unknown path."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.auth import mint
from api.deps import ServicesDep
from api.routers.common import SIZE_LIMITS, problem_docs
from api.schemas import Name
from domain.values import Role

router = APIRouter(tags=["development"], responses=problem_docs(*SIZE_LIMITS, "validation_error"))
TTL = timedelta(hours=8)


class DevTokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"role": "buyer", "sub": "buyer-1"}]})
    role: Literal["buyer", "seller", "agent", "auditor", "analyst", "platform"]
    sub: Name


class DevTokenOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "token": "eyJhbGciOiJIUzI1NiJ9.e30.c2ln",
                    "role": "buyer",
                    "sub": "buyer-1",
                    "expires_at": "2026-11-30T05:51:52Z",
                }
            ]
        }
    )
    token: str = Field(description="an HS256 bearer token signed with the development secret")
    role: str
    sub: str
    expires_at: datetime


@router.post(
    "/v1/dev/tokens",
    operation_id="mint_dev_token",
    response_model=DevTokenOut,
    response_description="a bearer token for this role and id, valid for eight hours",
    summary="Mint a development token (dev only: absent in test and production)",
)
async def mint_dev_token(body: DevTokenIn, svc: ServicesDep) -> DevTokenOut:
    """No token needed: this route exists only when the server runs in dev with the
    development JWT secret, where `disputes token` mints the same tokens."""
    now = svc.clock()
    token = mint(svc.jwt_secret, Role(body.role), body.sub, TTL)
    return DevTokenOut(token=token, role=body.role, sub=body.sub, expires_at=now + TTL)
