"""Liveness, readiness (database and projection lag), Prometheus metrics, and the
operations status the console shows (agents, auditors)."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import CallerDep, ServicesDep
from api.ops_schemas import OpsStatus
from api.routers.common import READ, SIZE_LIMITS, problem_docs, read_docs
from api.schemas import Health, Readiness
from domain.visibility import Read, ensure_may_read
from projections import deadlines
from service.hub import Services

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


@router.get(
    "/v1/ops/status",
    operation_id="get_operations_status",
    response_model=OpsStatus,
    response_description="read-model positions and lag, the scheduler's delay and the webhook backlog",
    responses=read_docs(*READ, "role_not_allowed"),
    summary="Operations status: read models, scheduler, webhooks (agents, auditors)",
)
async def ops_status(svc: ServicesDep, actor: CallerDep) -> OpsStatus:
    """What the console's operations page shows, read from the database, so it is the
    same whichever process answers: each read model's position and lag behind the event
    store, how late the deadline scheduler is (the longest overdue open deadline), and
    how far the enabled webhook subscriptions trail the event store."""
    ensure_may_read(actor, Read.OPERATIONS)
    return await run_in_threadpool(operations_status, svc)


def operations_status(svc: Services) -> OpsStatus:
    now = svc.clock()
    head = svc.app.recorder.max_notification_id() or 0
    overdue = deadlines.due(svc.views, now, limit=1)
    upcoming = deadlines.upcoming(svc.views, limit=1)
    backlog = svc.webhook_store.backlog(head) if svc.webhook_store is not None else {}
    disabled = svc.webhook_store.disabled_count() if svc.webhook_store is not None else 0
    return OpsStatus.model_validate(
        {
            "checked_at": now,
            "head_position": head,
            "views": svc.view_positions(head),
            "scheduler": {
                "overdue": deadlines.overdue_count(svc.views, now),
                "delay_seconds": (now - overdue[0].due_at).total_seconds() if overdue else 0.0,
                "next_due_at": upcoming[0].due_at if upcoming else None,
            },
            "webhooks": {
                "subscriptions": len(backlog),
                "behind": sum(1 for lag in backlog.values() if lag > 0),
                "backlog": sum(backlog.values()),
                "disabled": disabled,
            },
            "checkpoint": svc.latest_checkpoint(),
        }
    )
