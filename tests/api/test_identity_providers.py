"""Tokens from an identity provider: RS256 and ES256, verified against its JWKS
(served by the test on 127.0.0.1), with the issuer and audience checked and
the claim names configurable; HS256 is refused once a JWKS is configured. And
CORS: off by default, on for the configured origins only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.auth import mint
from bootstrap import build_api
from domain.values import Role
from service.settings import Settings
from support.api import SECRET, opening
from support.identity_provider import AUDIENCE, ISSUER, IdentityProvider, claims, sign
from support.live_server import free_port
from support.stores import settings_for


@pytest.fixture
def provider() -> Iterator[IdentityProvider]:
    with IdentityProvider() as idp:
        yield idp


def client_for(settings: Settings) -> TestClient:
    return TestClient(build_api(settings))


@pytest.fixture
def api(provider: IdentityProvider, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    settings = settings_for(
        "memory", tmp_path, request, jwt_jwks_url=provider.jwks_url, jwt_issuer=ISSUER, jwt_audience=AUDIENCE
    )
    with client_for(settings) as client:
        yield client


def get_disputes(client: TestClient, token: str) -> Any:
    return client.get("/v1/disputes", headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("kid", ["rsa-1", "ec-1"], ids=["RS256", "ES256"])
def test_a_providers_token_is_accepted_and_acts_as_its_subject(
    api: TestClient, provider: IdentityProvider, kid: str
) -> None:
    headers = {"Authorization": f"Bearer {sign(provider, claims(sub='buyer-7'), kid)}"}
    opened = api.post("/v1/disputes", json=opening("seller-1"), headers=headers)
    assert opened.status_code == 201, opened.text
    assert opened.json()["buyer_id"] == "buyer-7"
    assert get_disputes(api, sign(provider, claims(), kid)).status_code == 200


def test_a_providers_clock_a_little_ahead_of_ours_is_tolerated(api: TestClient, provider: IdentityProvider) -> None:
    ahead = datetime.now(UTC) + timedelta(seconds=10)
    token = sign(provider, claims(iat=ahead, nbf=ahead))
    assert get_disputes(api, token).status_code == 200


def other_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


REFUSED = {
    "wrong issuer": lambda p: sign(p, claims(iss="https://someone-else.example.test/")),
    "no issuer": lambda p: sign(p, {k: v for k, v in claims().items() if k != "iss"}),
    "wrong audience": lambda p: sign(p, claims(aud="another-api")),
    "no audience": lambda p: sign(p, {k: v for k, v in claims().items() if k != "aud"}),
    "unknown kid": lambda p: jwt.encode(claims(), other_rsa_key(), "RS256", headers={"kid": "rsa-2"}),
    "known kid, other key": lambda p: jwt.encode(claims(), other_rsa_key(), "RS256", headers={"kid": "rsa-1"}),
    "no kid": lambda p: jwt.encode(claims(), p.keys["rsa-1"], "RS256"),
    "alg RS512": lambda p: sign(p, claims(), "rsa-1", alg="RS512"),
    "alg ES256 on the RSA key's kid": lambda p: jwt.encode(claims(), p.keys["ec-1"], "ES256", headers={"kid": "rsa-1"}),
    "expired": lambda p: sign(p, claims(expires_in=timedelta(minutes=-5))),
    "HS256 with the development secret": lambda p: jwt.encode(claims(), SECRET, "HS256"),
    "HS256 with the dev secret and a kid": lambda p: jwt.encode(claims(), SECRET, "HS256", headers={"kid": "rsa-1"}),
    "unknown role": lambda p: sign(p, claims(role="system")),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_token_the_provider_did_not_issue_for_us_is_401(
    api: TestClient, provider: IdentityProvider, case: str
) -> None:
    response = get_disputes(api, REFUSED[case](provider))
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_key_set_is_fetched_once_and_kept(api: TestClient, provider: IdentityProvider) -> None:
    for kid in ("rsa-1", "ec-1", "rsa-1", "ec-1"):
        assert get_disputes(api, sign(provider, claims(), kid)).status_code == 200
    assert provider.fetches == 1


def test_claim_names_are_configurable(
    provider: IdentityProvider, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = settings_for(
        "memory",
        tmp_path,
        request,
        jwt_jwks_url=provider.jwks_url,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        jwt_subject_claim="uid",
        jwt_role_claim="https://disputes.example/role",
    )
    named = claims(uid="seller-9", **{"https://disputes.example/role": "seller"})
    with client_for(settings) as client:
        assert get_disputes(client, sign(provider, named)).status_code == 200
        refused = get_disputes(client, sign(provider, claims()))  # sub and role only: the configured names are missing
        assert refused.status_code == 401
        assert "uid" in refused.json()["detail"]


def test_an_unreachable_provider_is_503_not_a_bad_token(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    with IdentityProvider() as provider:
        token = sign(provider, claims())
    closed = f"http://127.0.0.1:{free_port()}/jwks.json"
    settings = settings_for("memory", tmp_path, request, jwt_jwks_url=closed, jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
    with client_for(settings) as client:
        response = get_disputes(client, token)
    assert response.status_code == 503
    assert response.json()["code"] == "identity_provider_unavailable"
    assert "Retry-After" in response.headers


def test_a_jwks_url_needs_an_issuer_and_an_audience() -> None:
    with pytest.raises(ValidationError, match="DISPUTES_JWT_ISSUER and DISPUTES_JWT_AUDIENCE"):
        Settings(jwt_jwks_url="http://127.0.0.1:1/jwks.json", jwt_issuer=ISSUER)
    with pytest.raises(ValidationError, match="http"):
        Settings(jwt_jwks_url="file:///etc/jwks.json", jwt_issuer=ISSUER, jwt_audience=AUDIENCE)


def test_without_a_jwks_hs256_tokens_still_work_and_provider_tokens_do_not(
    provider: IdentityProvider, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    with client_for(settings_for("memory", tmp_path, request)) as client:
        assert get_disputes(client, mint(SECRET, Role.BUYER, "buyer-1")).status_code == 200
        assert get_disputes(client, sign(provider, claims())).status_code == 401


PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,idempotency-key"}


def test_cors_is_off_by_default(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    with client_for(settings_for("memory", tmp_path, request)) as client:
        preflight = client.options("/v1/disputes", headers={"Origin": "https://app.example.test", **PREFLIGHT})
        plain = client.get("/healthz", headers={"Origin": "https://app.example.test"})
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in plain.headers


def test_cors_allows_the_configured_origins_only(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    origins = "https://app.example.test, http://127.0.0.1:5173"
    with client_for(settings_for("memory", tmp_path, request, cors_origins=origins)) as client:
        allowed = client.options("/v1/disputes", headers={"Origin": "http://127.0.0.1:5173", **PREFLIGHT})
        other = client.options("/v1/disputes", headers={"Origin": "https://evil.example.test", **PREFLIGHT})
        plain = client.get("/healthz", headers={"Origin": "https://app.example.test"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://127.0.0.1:5173"
    assert {"authorization", "idempotency-key"} <= set(
        allowed.headers["access-control-allow-headers"].lower().split(", ")
    )
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers
    assert plain.headers["access-control-allow-origin"] == "https://app.example.test"
    assert "x-position" in plain.headers["access-control-expose-headers"].lower()


@pytest.mark.parametrize("origins", ["https://app.example.test/", "app.example.test", "https://a.test/path"])
def test_a_cors_origin_is_scheme_host_and_port_only(origins: str) -> None:
    with pytest.raises(ValidationError, match="not an origin"):
        Settings(cors_origins=origins)
