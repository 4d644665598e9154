"""HS256 bearer tokens (PyJWT): `sub` is the actor id, `role` its role."""

from __future__ import annotations

import hashlib
import os
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt

from api.problems import ApiProblem
from domain import validation
from domain.errors import InvalidValue
from domain.values import Actor, Role
from service.settings import ConfigurationError, Settings

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
    key = (token.strip(), secret)
    known = _verified.get(key)
    if known is not None:
        actor, expires = known
        if time.time() < expires:
            return actor
        del _verified[key]
        raise unauthorized("the token has expired")
    actor, expires = _verify(key[0], secret)
    if len(_verified) >= CACHED_TOKENS:
        _verified.clear()  # crude but bounded; a busy server refills it with the tokens in use
    _verified[key] = (actor, expires)
    return actor


# A verified token's actor until its `exp`: the signature and claims are checked
# once per token, not once per request. Only tokens that verified are kept.
CACHED_TOKENS = 10_000
_verified: dict[tuple[str, str], tuple[Actor, float]] = {}


def _verify(token: str, secret: str) -> tuple[Actor, float]:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "role", "exp"]})
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
    return Actor(str(sub), Role(role)), float(claims["exp"])  # a str: validation.identifier checked it


def dev_secret_path(settings: Settings) -> Path:
    """Where the generated dev secret lives: beside the database, so every
    process given the same database (from any directory) signs alike."""
    if settings.backend == "sqlite":
        return Path(settings.sqlite_path).resolve().parent / "jwt-secret"
    if settings.backend == "postgres":
        pg = settings.postgres_params()
        where = f"{pg['host']}:{pg['port']}/{pg['dbname']}/{pg['schema']}"
        return Path(settings.var_dir).resolve() / f"jwt-secret-{hashlib.sha256(where.encode()).hexdigest()[:12]}"
    return Path(settings.var_dir).resolve() / "jwt-secret"


def resolve_secret(settings: Settings) -> str:
    """The configured secret; in dev one is generated once, kept beside the database and printed."""
    if settings.jwt_secret:
        if len(settings.jwt_secret.encode()) < MIN_SECRET_BYTES and settings.env == "production":
            raise ConfigurationError("DISPUTES_JWT_SECRET must be at least 32 bytes in production")
        return settings.jwt_secret
    if settings.env != "dev":
        raise ConfigurationError("DISPUTES_JWT_SECRET is required outside dev")
    path = dev_secret_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:  # exclusive create: a server and a CLI starting together keep one secret
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
            file.write(secret)
    except FileExistsError:
        for _ in range(50):  # the other writer may not have written it yet
            if existing := path.read_text().strip():
                return existing
            time.sleep(0.02)
        raise ConfigurationError(f"{path} is empty: delete it or set DISPUTES_JWT_SECRET") from None
    print(f"Generated a development JWT secret in {path}:\n  DISPUTES_JWT_SECRET={secret}", file=sys.stderr)
    return secret
