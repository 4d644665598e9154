"""Liveness, readiness (database and projection lag) and Prometheus metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import ServicesDep
from api.schemas import Health, Readiness

log = logging.getLogger("disputes.ops")
router = APIRouter(tags=["operations"])


HEALTHY = Health(status="ok").model_dump_json().encode()


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> Response:
    # On the event loop, the body rendered once: a probe should cost no thread hand-off.
    return Response(HEALTHY, media_type="application/json")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "the database is unreachable or a view is behind"}},
    summary="Readiness: database reachable, projection positions and lag",
)
async def readyz(svc: ServicesDep) -> JSONResponse:
    try:
        head = await run_in_threadpool(svc.app.recorder.max_notification_id) or 0
    except Exception as e:
        log.warning("readiness: database unreachable: %s", e)
        body = Readiness(status="unavailable", database=f"error: {type(e).__name__}", head_position=0)
        return JSONResponse(body.model_dump(), status_code=503)
    views = await run_in_threadpool(svc.view_positions, head)
    ready = all(v["lag"] is not None and v["lag"] <= svc.settings.max_ready_lag for v in views.values())
    body = Readiness(status="ready" if ready else "catching_up", database="ok", head_position=head, views=views)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics (text format)",
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
def metrics(svc: ServicesDep) -> Response:
    return Response(generate_latest(svc.metrics.registry), media_type=CONTENT_TYPE_LATEST)
