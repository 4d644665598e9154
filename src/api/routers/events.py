"""The event feed (`GET /v1/events`, long-polling) and the live stream
(`GET /v1/events/stream`, server-sent events): the notification log as the
caller may read it (`service.feed`)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from api import examples as ex
from api.deps import ServicesDep
from api.event_schemas import EventPage
from api.listing import EventsCaller
from api.pagination import BIGINT, CursorParam, Limit, cursor_int, decode_cursor, encode_cursor
from api.problems import ApiProblem
from api.routers.common import LIST, LISTED, problem_docs
from domain.values import Actor
from service.feed import EVENT_TOPICS, FeedPage
from service.hub import Services

router = APIRouter(tags=["events"])
MAX_WAIT = timedelta(seconds=30)
RECHECK = 1.0  # seconds: a wait re-reads the log at least this often (commits no signal reaches)

SSE_EVENT = {
    "type": "object",
    "description": "one event: id (its position), event (its type), data (the event item as JSON)",
    "properties": {"id": {"type": "string"}, "event": {"type": "string"}, "data": {"type": "string"}},
    "required": ["id", "event", "data"],
}
After = Annotated[int, Query(ge=0, le=BIGINT, description="only events after this position (default 0)")]
Types = Annotated[list[str] | None, Query(description="event types to include (repeat for several: OR)")]


def checked_types(types: list[str] | None) -> list[str]:
    unknown = sorted(set(types or ()) - set(EVENT_TOPICS))
    if unknown:
        raise ApiProblem(422, "validation_error", f"unknown event type(s): {', '.join(unknown)}")
    return sorted(set(types or ()))


async def read_page(
    svc: Services, actor: Actor, after: int, limit: int, dispute_id: UUID | None, types: list[str]
) -> FeedPage:
    return await run_in_threadpool(svc.feed.read, actor, after, limit, dispute_id, types)


@router.get(
    "/v1/events",
    response_model=EventPage,
    operation_id="list_events",
    response_description="a page of events after `after`, in position order",
    description="Events after a position, in position order, as the caller may read them: events of "
    "disputes the caller may not see are absent. With `wait`, long-polls until one exists.",
    responses=problem_docs(*LIST, "role_not_allowed"),
    summary="Events after a position, as the caller may read them (long-polls with wait)",
)
async def list_events(
    svc: ServicesDep,
    actor: EventsCaller,
    after: After = 0,
    limit: Limit = 50,
    cursor: CursorParam = None,
    dispute_id: UUID | None = None,
    type: Types = None,
    wait: Annotated[timedelta | None, Query(description="ISO 8601 duration, at most PT30S")] = None,
) -> dict[str, Any]:
    types = checked_types(type)
    if wait is not None and not timedelta(0) <= wait <= MAX_WAIT:
        raise ApiProblem(422, "validation_error", "wait must be an ISO 8601 duration from PT0S to PT30S")
    key = decode_cursor(cursor)
    position = cursor_int(key, "position", minimum=0) if key is not None else after
    deadline = time.monotonic() + (wait.total_seconds() if wait else 0.0)
    while True:
        seq = svc.commits.seq
        found = await read_page(svc, actor, position, limit, dispute_id, types)
        if found.items or found.more:
            break
        position = found.resume_after
        left = deadline - time.monotonic()
        if left <= 0:
            break
        await svc.commits.wait(seq, min(left, RECHECK))
    cursor_out = encode_cursor({"position": found.resume_after}) if found.more else None
    return {"items": [i.as_json() for i in found.items], "next_cursor": cursor_out}


def last_event_id(header: str | None) -> int | None:
    if header is None or not header.strip():
        return None
    try:
        value = int(header.strip())
    except ValueError:
        raise ApiProblem(422, "validation_error", "Last-Event-ID must be a position (an integer)") from None
    if not 0 <= value <= BIGINT:
        raise ApiProblem(422, "validation_error", "Last-Event-ID is out of range")
    return value


@router.get(
    "/v1/events/stream",
    response_class=StreamingResponse,
    operation_id="stream_events",
    description="The feed as server-sent events, live: each event as `id` (its position), `event` (its "
    "type) and `data` (the event item); a comment heartbeat when idle; resume with Last-Event-ID.",
    responses={
        **problem_docs(*LISTED, "role_not_allowed"),
        200: {
            "content": {"text/event-stream": {"schema": SSE_EVENT, "example": ex.SSE_EXAMPLE}},
            "description": "server-sent events",
        },
    },
    summary="A live stream of events (server-sent events; resume with Last-Event-ID)",
)
async def stream_events(
    svc: ServicesDep,
    actor: EventsCaller,
    after: After = 0,
    dispute_id: UUID | None = None,
    type: Types = None,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    types = checked_types(type)
    resume = last_event_id(last_event_id_header)
    start = resume if resume is not None else after
    body = sse(svc, actor, start, dispute_id, types)
    return StreamingResponse(body, media_type="text/event-stream", headers={"Cache-Control": "no-store"})


async def sse(
    svc: Services, actor: Actor, position: int, dispute_id: UUID | None, types: list[str]
) -> AsyncIterator[str]:
    settings = svc.settings
    heartbeat = settings.stream_heartbeat.total_seconds()
    ends = time.monotonic() + settings.stream_max_duration.total_seconds()
    last_sent = time.monotonic()
    yield ": stream opened\n\n"
    while (now := time.monotonic()) < ends:
        seq = svc.commits.seq
        found = await read_page(svc, actor, position, 200, dispute_id, types)
        position = found.resume_after
        for item in found.items:
            data = json.dumps(item.as_json(), separators=(",", ":"))
            yield f"id: {item.position}\nevent: {item.type}\ndata: {data}\n\n"
            last_sent = time.monotonic()
        if found.more:
            continue
        if now - last_sent >= heartbeat:
            yield ": heartbeat\n\n"
            last_sent = time.monotonic()
        pause = min(RECHECK, ends - time.monotonic(), heartbeat - (time.monotonic() - last_sent))
        if pause > 0:
            await svc.commits.wait(seq, pause)
