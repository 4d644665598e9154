"""Bearer tokens (PyJWT): HS256 with a shared secret for development, or
RS256/ES256 from an identity provider, checked against its JWKS (`api.jwks`).
The subject claim (`sub` by default) is the actor id, the role claim (`role`)
its role."""

from __future__ import annotations

import hashlib
import os
import secrets
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt

from api import jwks
from api.problems import ApiProblem
from domain import validation
from domain.errors import InvalidValue
from domain.values import Actor, Role
from service.settings import ConfigurationError, Settings

API_ROLES = frozenset({Role.BUYER, Role.SELLER, Role.AGENT, Role.AUDITOR, Role.ANALYST, Role.PLATFORM})
API_ROLE_NAMES = frozenset(r.value for r in API_ROLES)
ROLE_LIST = "buyer, seller, agent, auditor, analyst, platform"
ALGORITHM = "HS256"
MIN_SECRET_BYTES = 32


def mint(secret: str, role: Role, sub: str, ttl: timedelta = timedelta(hours=1)) -> str:
    now = datetime.now(UTC)
    claims = {"sub": sub, "role": role.value, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def unauthorized(detail: str) -> ApiProblem:
    return ApiProblem(401, "unauthorized", detail, {"WWW-Authenticate": 'Bearer realm="disputes"'})


@dataclass(frozen=True)
class TokenRules:
    """What a token must be: HS256 signed with `secret`, or, when `jwks_url` is
    set, RS256/ES256 signed by a key of that JWKS (HS256 then refused)."""

    secret: str
    jwks_url: str = ""
    issuer: str = ""
    audience: str = ""
    subject_claim: str = "sub"
    role_claim: str = "role"

    @classmethod
    def from_settings(cls, settings: Settings, secret: str) -> TokenRules:
        return cls(
            secret,
            settings.jwt_jwks_url,
            settings.jwt_issuer,
            settings.jwt_audience,
            settings.jwt_subject_claim,
            settings.jwt_role_claim,
        )

    def decode(self, token: str) -> dict[str, Any]:
        key: Any = self.secret
        algorithms, leeway = [ALGORITHM], 0
        if self.jwks_url:
            key, algorithms = jwks.signing_key(self.jwks_url, token), list(jwks.ALGORITHMS)
            leeway = jwks.CLOCK_SKEW_SECONDS
        return jwt.decode(
            token,
            key,
            algorithms=algorithms,
            leeway=leeway,
            issuer=self.issuer or None,
            audience=self.audience or None,
            options={"require": [self.subject_claim, self.role_claim, "exp"]},
        )


def actor_from_header(authorization: str | None, rules: TokenRules) -> Actor:
    if not authorization:
        raise unauthorized("a bearer token is required")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("use Authorization: Bearer <token>")
    try:
        claims = rules.decode(token.strip())
    except jwt.ExpiredSignatureError:
        raise unauthorized("the token has expired") from None
    except jwks.ProviderUnreachable as e:
        raise ApiProblem(503, "identity_provider_unavailable", str(e), {"Retry-After": "5"}) from None
    except jwt.PyJWTError as e:
        raise unauthorized(f"the token is not valid: {e}") from None
    sub, role = claims.get(rules.subject_claim), claims.get(rules.role_claim)
    try:
        validation.identifier("sub", sub)
    except InvalidValue:
        raise unauthorized(
            f"the token's {rules.subject_claim} claim must be 1 to 255 printable characters, not blank"
        ) from None
    if not isinstance(role, str) or role not in API_ROLE_NAMES:  # a list or an object is not hashable
        raise unauthorized(f"the token's {rules.role_claim} claim is not one of {ROLE_LIST}")
    return Actor(str(sub), Role(role))  # a str: validation.identifier checked it


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
    """The configured secret; in dev one is generated once, kept beside the database and printed.

    Empty when tokens come from an identity provider (DISPUTES_JWT_JWKS_URL)."""
    if settings.jwt_jwks_url:
        return ""
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
