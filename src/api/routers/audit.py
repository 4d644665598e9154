"""Auditor reads: raw history, state as of a version or instant, chain
verification (all from the event store), and the audit log with its export."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse

from api import audit_export, presenters
from api.audit_models import AuditPage, HistoryPage, VerifyOut, audit_document, checked_entry, verify_out
from api.deps import CallerDep, ServicesDep
from api.instants import checked_instant
from api.listing import AuditLogCaller, HistoryCaller
from api.pagination import BIGINT, CursorParam, Limit, decode_cursor, page
from api.problems import ApiProblem
from api.readiness import wait_for_event_store, wait_for_view
from api.routers.common import DISPUTE_READ, LIST, LISTED, DisputeId, MinPosition, read_docs
from api.schemas import DisputeOut
from projections import audit_log
from projections.audit_log import AuditFilter
from service import audit as audit_reads
from service import log_reads

router = APIRouter(tags=["audit"])
HISTORY_READ = (*DISPUTE_READ, "role_not_allowed")


def cursor_position(cursor: str | None, name: str) -> int:
    key = decode_cursor(cursor)
    value = 0 if key is None else key.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= BIGINT:
        raise ApiProblem(422, "invalid_cursor", "the cursor is not one this API issued")
    return value


def audit_filter(
    dispute_id: UUID | None = None,
    actor_id: Annotated[str | None, Query(max_length=255)] = None,
    type: Annotated[str | None, Query(max_length=100, description="event type, e.g. OfferProposed")] = None,
    since: Annotated[datetime | None, Query(description="occurred at or after (RFC 3339; UTC if no offset)")] = None,
    until: Annotated[datetime | None, Query(description="occurred before (RFC 3339; UTC if no offset)")] = None,
) -> AuditFilter:
    since, until = checked_instant(since, "since"), checked_instant(until, "until")
    if since and until and since > until:
        raise ApiProblem(422, "validation_error", "since must not be after until")
    return AuditFilter(dispute_id, actor_id, type, since, until)


Filters = Annotated[AuditFilter, Depends(audit_filter)]


@router.get(
    "/v1/disputes/{dispute_id}/history",
    operation_id="get_history",
    response_model=HistoryPage,
    response_description="a page of stored events, in order",
    responses=read_docs(*HISTORY_READ, "invalid_cursor", "unknown_parameter"),
    summary="Every stored event of a dispute, as recorded, with positions, chain hashes, leaf hashes and checks",
)
async def history(
    dispute_id: DisputeId,
    svc: ServicesDep,
    actor: HistoryCaller,
    limit: Limit = 50,
    cursor: CursorParam = None,
    x_min_position: MinPosition = None,
) -> JSONResponse:
    """The raw events as recorded, read from the event store (auditors, agents)."""
    after = cursor_position(cursor, "version")
    await wait_for_event_store(svc, x_min_position)
    events = await run_in_threadpool(log_reads.checked_history, svc.app, svc.views, dispute_id, actor, after, limit + 1)
    return JSONResponse(page([checked_entry(e) for e in events], limit, lambda e: {"version": e["version"]}))


@router.get(
    "/v1/disputes/{dispute_id}/state",
    operation_id="get_state",
    response_model=DisputeOut,
    response_description="the dispute as it was then",
    responses=read_docs(*HISTORY_READ, "version_not_found", "integrity_error", etag=True),
    summary="The dispute exactly as it was at a version or an instant, rebuilt from the event store",
)
async def state(
    dispute_id: DisputeId,
    svc: ServicesDep,
    actor: CallerDep,
    version: Annotated[int | None, Query(ge=1, le=BIGINT, description="the version to rebuild")] = None,
    at: Annotated[datetime | None, Query(description="an instant (RFC 3339; UTC if no offset)")] = None,
    x_min_position: MinPosition = None,
) -> JSONResponse:
    """Give exactly one of `version` or `at` (auditors, agents)."""
    if (version is None) == (at is None):
        raise ApiProblem(422, "validation_error", "give exactly one of version or at")
    at = checked_instant(at, "at")
    await wait_for_event_store(svc, x_min_position)
    dispute = await run_in_threadpool(audit_reads.state_as_of, svc.app, dispute_id, actor, version, at)
    assert dispute.modified_on is not None
    body = presenters.dispute(dispute, actor, dispute.modified_on).model_dump(mode="json")
    return JSONResponse(body, headers={"ETag": f'"{dispute.version}"'})


@router.get(
    "/v1/disputes/{dispute_id}/verify",
    operation_id="verify_dispute",
    response_model=VerifyOut,
    response_description="whether the chain holds, and where it breaks if not",
    responses=read_docs(*HISTORY_READ),
    summary="Recompute the dispute's hash chain from the stored events (auditors)",
)
async def verify(dispute_id: DisputeId, svc: ServicesDep, actor: CallerDep, x_min_position: MinPosition = None) -> Any:
    """Recompute every event's chain hash from the stored records (auditors)."""
    await wait_for_event_store(svc, x_min_position)
    return verify_out(await run_in_threadpool(audit_reads.verify, svc.app, dispute_id, actor))


@router.get(
    "/v1/audit",
    operation_id="list_audit_entries",
    response_model=AuditPage,
    response_description="a page of audit entries, in order",
    responses=read_docs(*LIST, "role_not_allowed"),
    summary="The audit log across disputes",
)
async def audit(
    svc: ServicesDep,
    actor: AuditLogCaller,
    filters: Filters,
    limit: Limit = 50,
    cursor: CursorParam = None,
    x_min_position: MinPosition = None,
) -> JSONResponse:
    """Every event of every dispute, filtered (auditors)."""
    after = cursor_position(cursor, "position")
    await wait_for_view(svc, audit_log.AuditLog.name, x_min_position)
    rows = await run_in_threadpool(audit_log.entries, svc.views, filters, after, limit + 1)
    return JSONResponse(page([audit_document(r) for r in rows], limit, lambda e: {"position": e["position"]}))


@router.get(
    "/v1/audit/export",
    operation_id="export_audit_log",
    response_class=StreamingResponse,
    responses={
        **read_docs(*LISTED, "role_not_allowed"),
        200: {"description": "the filtered audit log, streamed", "content": audit_export.OPENAPI_CONTENT},
    },
    summary="Export the audit log as JSON Lines or CSV, streamed in bounded memory",
)
async def export(
    svc: ServicesDep,
    actor: AuditLogCaller,
    filters: Filters,
    fmt: Annotated[
        audit_export.ExportFormat, Query(alias="format", description="jsonl (the default) or csv")
    ] = audit_export.ExportFormat.JSONL,
    x_min_position: MinPosition = None,
) -> StreamingResponse:
    """The whole filtered log as one streamed file (auditors)."""
    await wait_for_view(svc, audit_log.AuditLog.name, x_min_position)
    body = audit_export.encode(fmt, audit_log.all_entries(svc.views, filters))
    return StreamingResponse(
        body,
        media_type=audit_export.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="audit-log.{fmt.value}"'},
    )
