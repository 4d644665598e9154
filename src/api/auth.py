"""HS256 bearer tokens (PyJWT): `sub` is the actor id, `role` its role."""

from __future__ import annotations

import secrets
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt

from api.problems import ApiProblem
from domain import validation
from domain.errors import InvalidValue
from domain.values import Actor, Role
from service.settings import Settings

API_ROLES = frozenset({Role.BUYER, Role.SELLER, Role.AGENT, Role.AUDITOR, Role.ANALYST})
API_ROLE_NAMES = frozenset(r.value for r in API_ROLES)
ALGORITHM = "HS256"
MIN_SECRET_BYTES = 32


def mint(secret: str, role: Role, sub: str, ttl: timedelta = timedelta(hours=1)) -> str:
    now = datetime.now(UTC)
    claims = {"sub": sub, "role": role.value, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def unauthorized(detail: str) -> ApiProblem:
    return ApiProblem(401, "unauthorized", detail, {"WWW-Authenticate": 'Bearer realm="disputes"'})


def actor_from_header(authorization: str | None, secret: str) -> Actor:
    if not authorization:
        raise unauthorized("a bearer token is required")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("use Authorization: Bearer <token>")
    try:
        claims = jwt.decode(token.strip(), secret, algorithms=[ALGORITHM], options={"require": ["sub", "role", "exp"]})
    except jwt.ExpiredSignatureError:
        raise unauthorized("the token has expired") from None
    except jwt.InvalidTokenError as e:
        raise unauthorized(f"the token is not valid: {e}") from None
    sub, role = claims.get("sub"), claims.get("role")
    try:
        validation.identifier("sub", sub)
    except InvalidValue:
        raise unauthorized("the token's sub claim must be 1 to 255 printable characters, not blank") from None
    if not isinstance(role, str) or role not in API_ROLE_NAMES:  # a list or an object is not hashable
        raise unauthorized("the token's role claim is not one of buyer, seller, agent, auditor, analyst")
    return Actor(str(sub), Role(role))  # a str: validation.identifier checked it


def resolve_secret(settings: Settings) -> str:
    """The configured secret; in dev one is generated once, kept under var/ and printed."""
    if settings.jwt_secret:
        if len(settings.jwt_secret.encode()) < MIN_SECRET_BYTES and settings.env == "production":
            raise RuntimeError("DISPUTES_JWT_SECRET must be at least 32 bytes in production")
        return settings.jwt_secret
    if settings.env != "dev":
        raise RuntimeError("DISPUTES_JWT_SECRET is required outside dev")
    path = Path(settings.var_dir) / "jwt-secret"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.write_text(secret)
    path.chmod(0o600)
    print(
        f"Generated a development JWT secret in {path}:\n  DISPUTES_JWT_SECRET={secret}",
        file=sys.stderr,
    )
    return secret
