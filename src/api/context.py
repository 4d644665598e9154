"""Request context as pure ASGI middleware: the request id and the metrics.

A `BaseHTTPMiddleware` (`@app.middleware("http")`) runs the rest of the app in
a separate task and copies every body chunk through a stream; on a small
route that costs more than the framework itself. This middleware only wraps
`send`: it reads the request id from `X-Request-ID` (or makes one), stores it
in the request's state (`request.state.request_id`), adds it to the response
headers, and counts the request under its route template once it is answered.
Other pure ASGI middleware (limits, logging) registers beside it with
`app.add_middleware`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.commands import request_id
from service.hub import Services

HEADER = b"x-request-id"


class RequestContext:
    """Request id in, `X-Request-ID` out, request count and latency by route template."""

    def __init__(self, app: ASGIApp, services: Callable[[], Services | None]) -> None:
        self.app = app
        self.services = services
        self._children: dict[tuple[str, str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(_header(scope, HEADER))
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != HEADER]
                headers.append((b"x-request-id", rid.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._observe(scope, status, time.perf_counter() - started)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        svc = self.services()
        if svc is None:
            return
        route = getattr(scope.get("route"), "path", "unmatched")
        method = scope["method"]
        counter, histogram = self._metric_children(svc, method, route, str(status))
        counter.inc()
        histogram.observe(seconds)

    def _metric_children(self, svc: Services, method: str, route: str, status: str) -> Any:
        # `labels()` hashes and locks on every call; the children never change for a registry.
        key = (method, route, status)
        cached = self._children.get(key)
        if cached is None or cached[0] is not svc.metrics:
            metrics = svc.metrics
            cached = (metrics, metrics.requests.labels(method, route, status), metrics.latency.labels(method, route))
            self._children[key] = cached
        return cached[1], cached[2]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None
