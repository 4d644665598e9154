"""Request limits as one pure ASGI middleware: the size of the header block
(431), the size of the body (413, declared by Content-Length or counted while
it streams in, chunked included), and the wait for each piece of a body (408).
It also copies the caller's RateLimit fields (set by `api.deps.caller`) onto
the response.

The read timeout applies only while a request body is still arriving. Once
the body is complete, `receive` is passed through untouched: a long-poll
(`X-Min-Position`) never reads, and a streamed response (the audit export)
waits on `receive` only to hear of a disconnect, so neither is ever cut.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import deps
from api.problems import problem_response
from api.uploads import MULTIPART_OVERHEAD
from service.settings import Settings

EVIDENCE_UPLOAD = re.compile(r"^/v1/disputes/[^/]+/evidence/?$")


class BodyCut(Exception):
    """The body passed its limit or stalled; the answer has been sent."""


@dataclass(frozen=True)
class BodyLimit:
    limit: int
    code: str
    detail: str


def body_limit(scope: Scope, settings: Settings) -> BodyLimit:
    if scope["method"] == "POST" and EVIDENCE_UPLOAD.match(scope["path"]):
        files = settings.max_evidence_bytes
        return BodyLimit(files + MULTIPART_OVERHEAD, "evidence_too_large", f"a file may be at most {files} bytes")
    size = settings.max_body_bytes
    return BodyLimit(size, "body_too_large", f"a request body may be at most {size} bytes")


def declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit():
            return int(value)
    return None


class RequestLimits:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        settings = (getattr(state, "services", None) or deps.started_services(state)).settings
        if sum(len(name) + len(value) for name, value in scope["headers"]) > settings.max_header_bytes:
            detail = f"the request's headers may total at most {settings.max_header_bytes} bytes"
            await problem_response(431, "headers_too_large", detail)(scope, receive, send)
            return
        limit = body_limit(scope, settings)
        declared = declared_length(scope)
        if declared is not None and declared > limit.limit:
            await problem_response(413, limit.code, limit.detail, {"Connection": "close"})(scope, receive, send)
            return
        await Guarded(self.app, scope, receive, send, limit, settings.body_read_timeout.total_seconds()).run()


class Guarded:
    """One request: its body counted and timed, its response given the RateLimit fields."""

    def __init__(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send, limit: BodyLimit, timeout: float):
        self.app, self.scope, self._receive, self._send = app, scope, receive, send
        self.limit, self.timeout = limit, timeout
        self.received, self.body_complete, self.started, self.cut = 0, False, False, False

    async def run(self) -> None:
        try:
            await self.app(self.scope, self.receive, self.send)
        except Exception:
            if not self.cut:
                raise  # a cut body surfaces as whatever the app made of it: already answered

    async def receive(self) -> Message:
        if self.body_complete:
            return await self._receive()
        try:
            message = await asyncio.wait_for(self._receive(), self.timeout)
        except TimeoutError:
            await self.refuse(408, "request_timeout", f"the request body stalled for {self.timeout:g} s")
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            self.body_complete = not message.get("more_body", False)
            if self.received > self.limit.limit:
                await self.refuse(413, self.limit.code, self.limit.detail)
        return message

    async def refuse(self, status: int, code: str, detail: str) -> None:
        if not self.started:
            await problem_response(status, code, detail, {"Connection": "close"})(self.scope, self._receive, self.send)
        self.cut = True
        raise BodyCut(detail)

    async def send(self, message: Message) -> None:
        if self.cut:
            return
        if message["type"] == "http.response.start":
            self.started = True
            extra = self.scope.get("state", {}).get(deps.RATE_LIMIT_HEADERS)
            if extra:
                present = {name.lower() for name, _ in message.get("headers", [])}
                fields = [(n.lower().encode(), v.encode()) for n, v in extra.items()]
                fields = [(n, v) for n, v in fields if n not in present]
                message = {**message, "headers": [*message.get("headers", []), *fields]}
        await self._send(message)
