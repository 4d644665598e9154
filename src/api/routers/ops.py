"""Liveness, readiness (database and projection lag) and Prometheus metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import ServicesDep
from api.routers.common import SIZE_LIMITS, problem_docs
from api.schemas import Health, Readiness

log = logging.getLogger("disputes.ops")
# No caller, so no rate limit; the size limits apply to every request.
router = APIRouter(tags=["operations"], responses=problem_docs(*SIZE_LIMITS))
UNREADY = "the database is unreachable, a view is behind, or a view is stopped at an event it cannot apply (faulted)"
NOT_READY = {
    "status": "catching_up",
    "database": "ok",
    "head_position": 40,
    "views": {"timeline": {"position": 12, "lag": 28}},
}
METRICS_EXAMPLE = 'disputes_http_requests_total{method="GET",route="/healthz",status="200"} 3.0\n'


HEALTHY = Health(status="ok").model_dump_json().encode()


@router.get(
    "/healthz",
    operation_id="get_health",
    response_model=Health,
    response_description="the process is up",
    summary="Liveness",
)
async def healthz() -> Response:
    """No token needed."""
    # On the event loop, the body rendered once: a probe should cost no thread hand-off.
    return Response(HEALTHY, media_type="application/json")


@router.get(
    "/readyz",
    operation_id="get_readiness",
    response_model=Readiness,
    response_description="ready: the database answers and every view is caught up",
    responses={
        503: {"model": Readiness, "description": UNREADY, "content": {"application/json": {"example": NOT_READY}}}
    },
    summary="Readiness: database reachable, projection positions and lag",
)
async def readyz(svc: ServicesDep) -> JSONResponse:
    """No token needed. Each read model's position and lag behind the event store."""
    try:
        # First one read-model query: bounded by the connect timeout and never retried,
        # so a database that is down is reported in seconds (the event store library
        # retries its own reads up to 10 times).
        await run_in_threadpool(svc.view_position, "deadlines")
        head = await run_in_threadpool(svc.app.recorder.max_notification_id) or 0
    except Exception as e:
        log.warning("readiness: database unreachable: %s", e)
        body = Readiness(status="unavailable", database=f"error: {type(e).__name__}", head_position=0)
        return JSONResponse(body.model_dump(), status_code=503)
    views = await run_in_threadpool(svc.view_positions, head)
    faulted = any(v["status"] == "faulted" for v in views.values())
    ready = all(isinstance(v["lag"], int) and v["lag"] <= svc.settings.max_ready_lag for v in views.values())
    status = "faulted" if faulted else "ready" if ready else "catching_up"
    body = Readiness(status=status, database="ok", head_position=head, views=views)
    return JSONResponse(body.model_dump(), status_code=200 if status == "ready" else 503)


@router.get(
    "/metrics",
    operation_id="get_metrics",
    response_class=Response,
    summary="Prometheus metrics (text format)",
    responses={
        200: {
            "description": "the metrics in Prometheus text format",
            "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}, "example": METRICS_EXAMPLE}},
        }
    },
)
def metrics(svc: ServicesDep) -> Response:
    """No token needed."""
    return Response(generate_latest(svc.metrics.registry), media_type=CONTENT_TYPE_LATEST)
