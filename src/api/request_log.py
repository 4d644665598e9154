"""The request id and the log fields of each HTTP request, as pure ASGI
middleware wrapped around the whole app (outside Starlette's error handler,
so a 500 answer carries `X-Request-ID` too, and the lines logged about it the
request id).

The id comes from `X-Request-ID` when it is printable and at most 128
characters, else a new one is made (`api.commands.request_id`). It is written
back into the request's headers and state, so every inner reader agrees, and
returned on every response."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.commands import request_id
from service import logs

HEADER = b"x-request-id"


class RequestLogContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = [(k, v) for k, v in scope.get("headers", ()) if k.lower() != HEADER]
        sent = next((v for k, v in scope.get("headers", ()) if k.lower() == HEADER), None)
        rid = request_id(sent.decode("latin-1") if sent is not None else None)
        raw = rid.encode("latin-1")
        scope["headers"] = [*headers, (HEADER, raw)]
        scope.setdefault("state", {})["request_id"] = rid
        fields = logs.begin_request(request_id=rid, method=scope["method"], path=scope["path"])

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                note_route(scope, fields)
                kept = [(k, v) for k, v in message.get("headers", ()) if k.lower() != HEADER]
                message = {**message, "headers": [*kept, (HEADER, raw)]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            note_route(scope, fields)
            raise


def note_route(scope: Scope, fields: dict[str, object]) -> None:
    """The matched route's template and the dispute it names, once routing happened."""
    route = getattr(scope.get("route"), "path", None)
    if route is not None:
        fields.setdefault("route", route)
    dispute_id = (scope.get("path_params") or {}).get("dispute_id")
    if dispute_id is not None:
        fields.setdefault("dispute_id", str(dispute_id))


def install(app: FastAPI) -> None:
    """Wrap the app's whole middleware stack (Starlette builds it on first use)."""
    build = app.build_middleware_stack
    app.build_middleware_stack = lambda: RequestLogContext(build())  # type: ignore[method-assign]
