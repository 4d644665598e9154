"""Read-your-writes: serve a read once its source has reached a position.

A position the event store has not issued yet is 422 `position_unknown` at
once (waiting could never help). A position at or below what the source has
processed (0 included, also on an empty store) is served at once. Only a
position that exists and that a read model has not processed yet is waited
for, at most `MAX_WAIT_SECONDS`, then 503 `not_caught_up` with `Retry-After`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from fastapi.concurrency import run_in_threadpool

from api.problems import ApiProblem
from service.hub import Services

MAX_WAIT_SECONDS = 2.0
POLL_SECONDS = 0.05


def ensure_issued(services: Services, position: int) -> None:
    head = services.app.recorder.max_notification_id() or 0
    if position > head:
        raise ApiProblem(
            422, "position_unknown", f"position {position} has not been issued; the store's last position is {head}"
        )


async def wait_until(reached: Callable[[], int | None], position: int, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MAX_WAIT_SECONDS
    while True:
        current = await run_in_threadpool(reached) or 0
        if current >= position:
            return
        if loop.time() >= deadline:
            raise ApiProblem(
                503,
                "not_caught_up",
                f"{what} has processed position {current}, not yet {position}; retry shortly",
                {"Retry-After": "1"},
            )
        await asyncio.sleep(POLL_SECONDS)


async def wait_for_event_store(services: Services, position: int | None) -> None:
    """Reads of the event store itself: an issued position is always processed."""
    if position is not None and position > 0:
        await run_in_threadpool(ensure_issued, services, position)


async def wait_for_view(services: Services, view: str, position: int | None) -> None:
    """Wait until read model `view` has processed `position` (X-Min-Position)."""
    if position is None or position == 0:
        return
    await run_in_threadpool(ensure_issued, services, position)
    await wait_until(lambda: services.view_position(view), position, f"the {view} read model")
