"""An identity provider's signing keys, fetched from its JWKS URL with PyJWT's
`PyJWKClient`: one client per URL for the life of the process, so the key
set is fetched once and again only when it is 5 minutes old or a token names
a key it does not hold (at most once per 30 s)."""

from __future__ import annotations

from functools import lru_cache

import jwt
from jwt import PyJWK, PyJWKClient, PyJWKClientConnectionError

ALGORITHMS = ("RS256", "ES256")
FETCH_TIMEOUT_SECONDS = 5
CLOCK_SKEW_SECONDS = 30  # the provider's clock is not ours: exp, nbf and iat get this much slack


class ProviderUnreachable(Exception):
    """The JWKS could not be fetched: the token may be fine, we cannot tell."""


@lru_cache(maxsize=4)
def client(url: str) -> PyJWKClient:
    return PyJWKClient(url, cache_keys=True, lifespan=300, timeout=FETCH_TIMEOUT_SECONDS)


def signing_key(url: str, token: str) -> PyJWK:
    """The key of the JWKS at `url` that the token's `kid` names.

    The header is checked first, so a token that could never pass (another
    algorithm, no key id) costs no fetch."""
    header = jwt.get_unverified_header(token)
    if header.get("alg") not in ALGORITHMS:
        raise jwt.InvalidAlgorithmError(f"the token must be signed with {' or '.join(ALGORITHMS)}")
    if not isinstance(header.get("kid"), str):
        raise jwt.InvalidTokenError("the token's header names no key (kid)")
    try:
        return client(url).get_signing_key(header["kid"])
    except PyJWKClientConnectionError as e:
        raise ProviderUnreachable(f"the identity provider's keys could not be fetched: {e}") from None
