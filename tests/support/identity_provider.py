"""A stand-in identity provider: RSA and EC keys made with `cryptography`, a
JWKS served over HTTP on 127.0.0.1 by a thread, and tokens signed as a real
provider signs them (RS256 or ES256, with a `kid` in the header)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://id.example.test/"
AUDIENCE = "disputes-api"


class IdentityProvider:
    """Keys `rsa-1` (RS256) and `ec-1` (ES256) published at `jwks_url`."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {
            "rsa-1": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ec-1": ec.generate_private_key(ec.SECP256R1()),
        }
        self.fetches = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.fetches += 1
                body = json.dumps(provider.jwks()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def jwks_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"

    def jwks(self) -> dict[str, Any]:
        published = []
        for kid, key in self.keys.items():
            algorithm = RSAAlgorithm if kid.startswith("rsa") else ECAlgorithm
            jwk = algorithm.to_jwk(key.public_key(), as_dict=True)
            published.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256" if kid.startswith("rsa") else "ES256"})
        return {"keys": published}

    def __enter__(self) -> IdentityProvider:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def claims(
    sub: str = "buyer-1", role: str = "buyer", expires_in: timedelta = timedelta(minutes=5), **more: Any
) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"sub": sub, "role": role, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + expires_in, **more}


def sign(provider: IdentityProvider, body: dict[str, Any], kid: str = "rsa-1", alg: str | None = None) -> str:
    """`body` signed with the provider's key `kid` (by its own algorithm unless `alg` says otherwise)."""
    key = provider.keys[kid]
    algorithm = alg or ("RS256" if kid.startswith("rsa") else "ES256")
    return jwt.encode(body, key, algorithm=algorithm, headers={"kid": kid})
