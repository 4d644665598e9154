"""CORS for browser clients on other origins (DISPUTES_CORS_ORIGINS; off when empty).

Tokens travel in the Authorization header, never in cookies, so credentials
are not allowed; the headers our commands read and answer with are."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

REQUEST_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "If-Match", "X-Min-Position", "X-Request-ID"]
RESPONSE_HEADERS = ["ETag", "Location", "X-Position", "X-Request-ID", "Idempotent-Replayed", "Retry-After"]


def install(app: FastAPI, origins: Sequence[str]) -> None:
    if not origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(origins),
        allow_methods=["GET", "POST"],
        allow_headers=REQUEST_HEADERS,
        expose_headers=RESPONSE_HEADERS,
        allow_credentials=False,
        max_age=600,
    )
