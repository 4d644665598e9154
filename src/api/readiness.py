"""Read-your-writes: wait (bounded) until a read source has reached a position."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from fastapi.concurrency import run_in_threadpool

from api.problems import ApiProblem
from service.hub import Services

MAX_WAIT_SECONDS = 2.0
POLL_SECONDS = 0.05


async def wait_until(reached: Callable[[], int | None], position: int | None, what: str) -> None:
    if position is None:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MAX_WAIT_SECONDS
    while True:
        current = await run_in_threadpool(reached)
        if current is not None and current >= position:
            return
        if loop.time() >= deadline:
            raise ApiProblem(
                503,
                "not_caught_up",
                f"{what} has processed position {current or 0}, not yet {position}; retry shortly",
                {"Retry-After": "1"},
            )
        await asyncio.sleep(POLL_SECONDS)


async def wait_for_event_store(services: Services, position: int | None) -> None:
    await wait_until(services.app.recorder.max_notification_id, position, "the event store")


async def wait_for_view(services: Services, view: str, position: int | None) -> None:
    """Wait until read model `view` has processed `position` (X-Min-Position)."""
    await wait_until(lambda: services.view_position(view), position, f"the {view} read model")
